/**
 * Every job kind once, through the runner (in this process, on a SQLite file): each calls its domain function
 * and ends with the result that function gives (a trained reward model, a queue, rewards under a saved spec, a
 * loop run, a lab run, leaderboards), or fails with a clear error.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Jobs, executeTask, openJobs } from "../../src/jobs/index.js";
import { loadRewardModel } from "../../src/learn/index.js";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { type JobRecord, type Store, openStore } from "../../src/store/index.js";
import { DATA_DIR, dataForTest } from "../support/data.js";
import { waitForJob } from "./workers.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-kinds-"));
const LAB_FILES = ["alpaca-7b", "claude-2.1", "gpt-3.5-turbo-1106"].map((m) => join(DATA_DIR, "alpaca_eval", "annotations", `${m}.json.gz`));
const lab = dataForTest("lab-run job", LAB_FILES);

let store: Store;
let jobs: Jobs;
let server: FakeServer;

beforeAll(async () => {
  store = await openStore({ path: join(dir, "rlxf.db") });
  jobs = openJobs(store, { run: { concurrency: 2, pollMs: 100, heartbeatMs: 200 }, log: () => {} });
  server = await startFakeModelServer();
  // Items q0..q39, each answered by a "good" (longer, preferred) and a "bad" policy, with human preferences.
  const items = Array.from({ length: 40 }, (_, i) => ({ id: `q${i}`, project: "k", prompt: `What is ${i} + ${i}?`, reference: String(2 * i), dataset: "sums" }));
  const generations = items.flatMap((it, i) => [
    { id: `${it.id}-good`, project: "k", itemId: it.id, policy: "good", output: `Adding ${i} and ${i} gives \\boxed{${2 * i}}, because doubling is adding a number to itself.` },
    { id: `${it.id}-bad`, project: "k", itemId: it.id, policy: "bad", output: `\\boxed{${2 * i + 1}}` },
  ]);
  const feedback = items.map((it, i) => ({ id: `h${i}`, project: "k", kind: "pairwise", targets: [`${it.id}-bad`, `${it.id}-good`], source: { type: "human", id: "h" }, value: { choice: i % 10 === 0 ? "first" : "second" } }));
  await store.write({ items, generations, feedback });
}, 60_000);
afterAll(async () => {
  await jobs.close();
  await store.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(kind: string, input: unknown, project = "k"): Promise<JobRecord> {
  const job = await jobs.submit({ kind, input, project, origin: "cli" });
  return waitForJob(store, job.id, 120_000);
}

describe("each job kind through the runner", () => {
  it("rm-train: trains and saves a reward model that prefers what the humans preferred", async () => {
    const j = await run("rm-train", { name: "sums-rm", testFraction: 0 });
    expect(j.state, j.error).toBe("succeeded");
    expect(j.result).toMatchObject({ name: "sums-rm", version: 1, type: "bradley-terry", pairs: 40 });
    expect((await store.models.list({ project: "k" })).map((m) => `${m.name}@${m.version}`)).toEqual(["sums-rm@1"]);
    const rm = await loadRewardModel(store, "sums-rm", { project: "k" });
    const [good, bad] = await rm.score([
      { prompt: "What is 50 + 50?", response: "Adding 50 and 50 gives \\boxed{100}, because doubling is adding a number to itself." },
      { prompt: "What is 50 + 50?", response: "\\boxed{101}" },
    ]);
    expect(good!.reward).toBeGreaterThan(bad!.reward);
    // Another attempt of the same job (as after a worker that saved the model and died before saying so)
    // reports the saved version instead of saving another.
    const [task] = await store.jobs.tasks(j.id);
    const again = (await executeTask(store, task!, new AbortController().signal, { progress: () => {}, addChunks: async () => {}, log: () => {} })) as { version: number; saved: string };
    expect(again).toMatchObject({ version: 1, saved: expect.stringContaining("earlier attempt") });
    expect((await store.models.list({ project: "k" })).map((m) => m.version)).toEqual([1]);
    const empty = await run("rm-train", { name: "nothing" }, "empty");
    expect(empty.state).toBe("failed");
    expect(empty.error).toMatch(/no preference pairs/);
    // Bad input never fails for good silently: it is refused at submission.
    expect(empty.attempts).toBe(1);
  });

  it("judge over a stored selection: a first task lists the pairs, and the feedback lands on the stored outputs", async () => {
    const items = Array.from({ length: 12 }, (_, i) => ({ id: `s${i}`, project: "sel", prompt: `What is ${i} times two?`, dataset: i < 10 ? "doubles" : "other" }));
    const generations = items.flatMap((it, i) => [
      { id: `${it.id}-good`, project: "sel", itemId: it.id, policy: "good", output: `${i} times two is ${2 * i}, because doubling adds a number to itself.` },
      { id: `${it.id}-bad`, project: "sel", itemId: it.id, policy: "bad", output: `${2 * i + 1}` },
    ]);
    await store.write({ items, generations });
    server.respond = (r) => (r.prompt.indexOf("because doubling") < r.prompt.indexOf("## Answer of M") ? "m" : "M");
    const j = await run("judge", { judge: "pairwise", selection: { dataset: "doubles", policies: ["bad", "good"] }, order: "fixed", chunkSize: 4, model: { baseUrl: server.baseUrl, model: "judge" } }, "sel");
    expect(j).toMatchObject({ state: "succeeded", progress: { done: 10, total: 10, failed: 0 }, tasks: { total: 4, done: 4 }, result: { outcomes: { second: 10 } } });
    const judged = (await store.listFeedback({ project: "sel", limit: 100 })).records;
    expect(judged).toHaveLength(10);
    for (const f of judged) expect(f.targets).toEqual([`${f.itemId}-bad`, `${f.itemId}-good`]);
    // No new items or generations: the stored ones were judged.
    expect((await store.counts("sel")).generations).toBe(24);
  });

  it("reward: scores a batch under a saved spec and stores verification feedback once", async () => {
    await store.configs.save({ project: "k", kind: "reward-spec", name: "sum", body: "math" });
    const samples = Array.from({ length: 30 }, (_, i) => ({ prompt: `What is ${i} + ${i}?`, completion: `\\boxed{${i % 3 ? 2 * i : 2 * i + 1}}`, reference: String(2 * i) }));
    const j = await run("reward", { spec: "sum", samples, store: true, chunkSize: 10 });
    expect(j).toMatchObject({ state: "succeeded", progress: { done: 30, failed: 0 }, tasks: { total: 3 } });
    const units = await store.jobs.unitRecords(j.id);
    expect(units.map((u) => JSON.parse(u.outcome!).score)).toEqual(samples.map((_, i) => (i % 3 ? 1 : 0)));
    expect((await store.counts("k")).byKind.verification).toBe(30);
    // The same batch again stores nothing new (the reward endpoint's ids).
    await run("reward", { spec: "sum", samples, store: true });
    expect((await store.counts("k")).byKind.verification).toBe(30);
  });

  it("queue: creates an annotation queue from a selection", async () => {
    const j = await run("queue", { id: "pairs", name: "Which sum is right?", selection: { mode: "pairs", policies: ["good", "bad"] }, questions: [{ id: "pref", kind: "pairwise", prompt: "Which is right?" }] });
    expect(j.state, j.error).toBe("succeeded");
    expect(j.result).toEqual({ queue: "pairs", tasks: 40 });
    expect((await store.queues.get("k", "pairs"))?.name).toBe("Which sum is right?");
  });

  it("loop: a retry loop over tasks, stored as a loop run", async () => {
    const tries = new Map<string, number>();
    server.respond = (r) => {
      const first = r.messages.find((m) => m.role === "user")?.content ?? "";
      const n = tries.get(first) ?? 0;
      tries.set(first, n + 1);
      const [, a] = /What is (\d+)/.exec(first) ?? ["", "0"];
      return `\\boxed{${n >= 1 ? 2 * Number(a) : -1}}`;
    };
    const tasks = [3, 4, 5].map((i) => ({ id: `t${i}`, prompt: `What is ${i} + ${i}? Put it in \\boxed{}.`, reference: String(2 * i) }));
    const j = await run("loop", { loop: "retry", tasks, model: { baseUrl: server.baseUrl, model: "policy", cache: false }, feedback: "math", rounds: 3 });
    expect(j.state, j.error).toBe("succeeded");
    const r = j.result as { runId: string; summary: { solved: number; tasks: number; meanAttempts: number } };
    expect(r.summary).toMatchObject({ solved: 3, tasks: 3, meanAttempts: 2 });
    expect((await store.loops.list({ project: "k" })).map((x) => x.id)).toEqual([r.runId]);
  });

  it("leaderboard: Bradley-Terry from SQL counts and from every record, and AlpacaEval win rates", async () => {
    const agg = await run("leaderboard", { method: "bt", bootstrap: 100 });
    const rows = await run("leaderboard", { method: "bt", bootstrap: 100, aggregate: false });
    const ae = await run("leaderboard", { method: "alpaca-eval", baseline: "bad" });
    const order = (j: JobRecord) => (j.result as { rows: { model: string }[] }).rows.map((r) => r.model);
    expect(order(agg)).toEqual(["good", "bad"]);
    expect(order(rows)).toEqual(["good", "bad"]);
    const a = (agg.result as { rows: { model: string; rating: number; n_comparisons: number; win_share: number }[] }).rows;
    const b = (rows.result as { rows: { model: string; rating: number; n_comparisons: number; win_share: number }[] }).rows;
    // The point estimates are the same fit either way.
    for (let i = 0; i < 2; i++) {
      expect(a[i]!.rating).toBeCloseTo(b[i]!.rating, 6);
      expect(a[i]!.n_comparisons).toBe(b[i]!.n_comparisons);
      expect(a[i]!.win_share).toBeCloseTo(b[i]!.win_share, 9);
    }
    expect((ae.result as { baseline: string; rows: { win_rate: number }[] }).rows[0]!.win_rate).toBeCloseTo(90, 6);
  });

  it.skipIf(lab.skip)("lab-run: compares methods on real AlpacaEval outputs and saves the result", async () => {
    lab.check();
    const j = await run("lab-run", { paths: LAB_FILES, methods: "dpo,best-of-n", feedback: "simulated", pFlip: 0.25, labels: 100, instructions: 40, lc: false, settings: { steps: 10, evalEvery: 5 }, save: "from-a-job" });
    expect(j.state, j.error).toBe("succeeded");
    expect((j.result as { methods: { method: string }[] }).methods.map((m) => m.method)).toEqual(expect.arrayContaining(["dpo", "best-of-n"]));
    expect(j.result).toMatchObject({ saved: { name: "from-a-job", version: 1 } });
    expect(j.progress.done).toBe(j.progress.total);
  });
});
