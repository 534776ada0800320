/**
 * Saved lab results and stored loop runs over HTTP (`/v1/lab/results`, `/v1/loops/runs`): what the web app plots.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveLabResult } from "../../src/lab/index.js";
import type { LoopReport } from "../../src/loops/index.js";
import { Rlxf } from "../../src/client/index.js";
import { createApp, listen } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { type SeededLab, hasLabData, seedLabResults, seedLoopRun } from "../support/results.js";
import { type Caller, caller, expectErrorShape, keyOf } from "./helpers.js";

if (!hasLabData) console.warn("shared AlpacaEval annotations not found beside the checkout: skipping the lab results API tests");

let store: Store;
let admin: Caller;
let read: Caller;
let annotate: Caller;
let other: Caller;
let lab: SeededLab;
let loop: LoopReport;

beforeAll(async () => {
  store = await openStore({ path: ":memory:" });
  const app = createApp({ store, log: () => {} });
  admin = caller(app, await keyOf(store, "p1", "admin"));
  read = caller(app, await keyOf(store, "p1", "read"));
  annotate = caller(app, await keyOf(store, "p1", "annotate"));
  other = caller(app, await keyOf(store, "p2", "admin"));
  loop = await seedLoopRun(store, "p1");
  if (hasLabData) lab = await seedLabResults(store, "p1");
}, 180_000);
afterAll(async () => {
  await store.close();
});

describe.skipIf(!hasLabData)("saved lab results", () => {
  it("lists the project's results, newest first, with a summary of each", async () => {
    const r = await read("GET", "/v1/lab/results");
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: { name: string }) => x.name)).toEqual(["small-sweep", "small-run"]);
    const run = r.body.results[1];
    expect(run).toMatchObject({ type: "run", version: 1, feedback: "simulated", pFlips: [0.25], labels: [200], seeds: [0], methods: ["dpo", "ppo", "best-of-n"], description: "three methods, p = 0.25" });
    const best = lab.run.methods.filter((m) => m.method !== "initial").sort((a, b) => b.winRate - a.winRate)[0]!;
    expect(run.best).toEqual({ method: best.method, winRate: best.winRate });
    expect(r.body.results[0]).toMatchObject({ type: "sweep", pFlips: [0, 0.25], labels: [50, 200], seeds: [0, 1], methods: ["dpo", "best-of-n"] });
  });

  it("returns a run with its curves exactly as computed", async () => {
    const r = await admin("GET", "/v1/lab/results/small-run");
    expect(r.status).toBe(200);
    expect(r.body.versions).toEqual([1]);
    expect(r.body.result.type).toBe("run");
    expect(r.body.result.run).toEqual(JSON.parse(JSON.stringify(lab.run)));
    const dpo = r.body.result.run.methods.find((m: { method: string }) => m.method === "dpo");
    expect(dpo.curve.map((c: { step: number }) => c.step)).toEqual([0, 5, 10, 15, 20]);
    // The proxy reward is on the curves of the methods that optimise it.
    const ppo = r.body.result.run.methods.find((m: { method: string }) => m.method === "ppo");
    expect(ppo.curve.every((c: { proxyReward?: number }) => typeof c.proxyReward === "number")).toBe(true);
  });

  it("keeps every version: saving again makes version 2, and ?version=1 still reads the first", async () => {
    const changed = { ...lab.run, seed: 99 };
    await saveLabResult(store, { project: "p1", name: "small-run", result: { type: "run", run: changed } });
    const latest = await read("GET", "/v1/lab/results/small-run");
    expect(latest.body).toMatchObject({ version: 2, versions: [2, 1], seeds: [99] });
    const first = await read("GET", "/v1/lab/results/small-run?version=1");
    expect(first.body).toMatchObject({ version: 1, seeds: [0] });
    expectErrorShape(await read("GET", "/v1/lab/results/small-run?version=7"), 404, "not_found");
    expectErrorShape(await read("GET", "/v1/lab/results/small-run?version=zero"), 400, "validation_failed");
  });

  it("a sweep comes back with all its rows", async () => {
    const r = await read("GET", "/v1/lab/results/small-sweep");
    expect(r.status).toBe(200);
    expect(r.body.result.rows).toHaveLength(lab.sweep.length);
    expect(r.body.result.rows).toHaveLength(2 * 2 * 2 * 3); // noise × budgets × seeds × (initial + 2 methods)
    expect(r.body.result.grid.seeds).toEqual([0, 1]);
  });

  it("is per project and for admin and read keys only; unknown names say what there is", async () => {
    expect((await other("GET", "/v1/lab/results")).body.results).toEqual([]);
    const missing = await other("GET", "/v1/lab/results/small-run");
    expectErrorShape(missing, 404, "not_found");
    expect(missing.body.error.message).toContain("rlxf lab run");
    const typo = await read("GET", "/v1/lab/results/small-rum");
    expectErrorShape(typo, 404, "not_found");
    expect(typo.body.error.message).toContain("small-run");
    expectErrorShape(await annotate("GET", "/v1/lab/results"), 403, "forbidden");
    expectErrorShape(await annotate("GET", "/v1/lab/results/small-run"), 403, "forbidden");
  });
});

describe("stored loop runs", () => {
  it("lists runs with their summaries", async () => {
    const r = await read("GET", "/v1/loops/runs");
    expect(r.status).toBe(200);
    expect(r.body.runs).toHaveLength(1);
    expect(r.body.runs[0]).toMatchObject({ id: loop.runId, loop: "retry", status: "done" });
    expect((await read("GET", "/v1/loops/runs?loop=refine")).body.runs).toEqual([]);
    expectErrorShape(await read("GET", "/v1/loops/runs?limit=0"), 400, "validation_failed");
    expectErrorShape(await read("GET", "/v1/loops/runs?color=red"), 400, "validation_failed");
  });

  it("reports a run with its metrics recomputed from the stored steps", async () => {
    const r = await read("GET", `/v1/loops/runs/${loop.runId}`);
    expect(r.status).toBe(200);
    const s = r.body.summary;
    // easy at turn 0; carry and big after one "try again"; hard never.
    expect(s).toMatchObject({ loop: "retry", tasks: 4, solved: 3, accuracy: 0.75 });
    expect(s.accuracyPerTurn).toEqual([0.25, 0.75, 0.75]);
    expect(s.accuracyPerTurn).toEqual(loop.summary.accuracyPerTurn);
    expect(s.selfCorrection).toMatchObject({ wrongBefore: 4, becameCorrect: 2 });
    const tasks = Object.fromEntries(r.body.tasks.map((t: { taskId: string; solved: boolean; attempts: number }) => [t.taskId, t]));
    expect(tasks.hard).toMatchObject({ solved: false, attempts: 3, stop: "rounds" });
    expect(tasks.easy).toMatchObject({ solved: true, attempts: 1 });
    // Outputs only when asked for.
    expect(r.body.tasks[0].steps[0].output).toBeUndefined();
    const withOutputs = await read("GET", `/v1/loops/runs/${loop.runId}?outputs=true`);
    expect(withOutputs.body.tasks.find((t: { taskId: string }) => t.taskId === "easy").steps[0].output).toContain("\\boxed{4}");
  });

  it("is per project and for admin and read keys only", async () => {
    expect((await other("GET", "/v1/loops/runs")).body.runs).toEqual([]);
    expectErrorShape(await other("GET", `/v1/loops/runs/${loop.runId}`), 404, "not_found");
    expectErrorShape(await annotate("GET", "/v1/loops/runs"), 403, "forbidden");
    expectErrorShape(await read("GET", "/v1/loops/runs/bad%20id%00"), 400);
  });
});

describe("the TypeScript client", () => {
  it("reads lab results and loop runs, and undefined for unknown ones", async () => {
    const running = await listen(createApp({ store, log: () => {} }), { port: 0, host: "127.0.0.1" });
    try {
      const client = new Rlxf({ url: running.url, key: await keyOf(store, "p1", "read", "client"), retries: 0 });
      if (hasLabData) {
        expect((await client.labResults()).map((r) => r.name).sort()).toEqual(["small-run", "small-sweep"]);
        const first = await client.labResult("small-run", 1);
        expect(first?.result.type === "run" && first.result.run.methods.map((m) => m.method)).toEqual(["initial", "dpo", "ppo", "best-of-n"]);
      }
      expect(await client.labResult("nope")).toBeUndefined();
      expect((await client.loopRuns({ loop: "retry" })).map((r) => r.id)).toEqual([loop.runId]);
      const report = await client.loopRun(loop.runId, { outputs: true });
      expect(report?.summary.solved).toBe(3);
      expect(report?.tasks.find((t) => t.taskId === "carry")?.steps.map((a) => a.output)).toEqual(["The answer is \\boxed{43}.", "The answer is \\boxed{42}."]);
      expect(await client.loopRun("no-such-run")).toBeUndefined();
    } finally {
      await running.close();
    }
  });
});
