/**
 * `rlxf loop ...` and `rlxf memory ...` end to end: a real local OpenAI-compatible server playing scripted policies,
 * a critic and a simulated user; a SQLite store in a temporary directory; the CLI run in-process with its output captured.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { program } from "../src/cli/program.js";
import { type FakeRequest, type FakeServer, startFakeModelServer } from "../src/providers/testing/index.js";
import { createApp, listen } from "../src/server/index.js";
import { openStore } from "../src/store/index.js";

let server: FakeServer;
const dir = mkdtempSync(join(tmpdir(), "rlxf-loops-cli-"));
const db = join(dir, "rlxf.db");
const tasksFile = join(dir, "tasks.jsonl");
const badTasks = join(dir, "bad.jsonl");

const lastUser = (r: FakeRequest) => [...r.messages].reverse().find((m) => m.role === "user")?.content ?? "";
const system = (r: FakeRequest) => r.messages.find((m) => m.role === "system")?.content ?? "";
const seen = new Map<string, number>();

function respond(r: FakeRequest) {
  const p = r.prompt;
  const u = lastUser(r);
  if (p.includes("Critique the response")) {
    return p.slice(p.indexOf("## Response")).includes("{42}")
      ? '{"summary": "Correct.", "strengths": ["right"], "weaknesses": [], "suggestions": [], "verdict": "pass"}'
      : '{"summary": "Wrong sum.", "strengths": [], "weaknesses": ["The carry from the ones digit was dropped"], "suggestions": ["Carry the one"], "verdict": "fail"}';
  }
  if (p.includes("You play a user")) return u.slice(u.lastIndexOf("Assistant:")).includes("{42}") ? "SATISFIED" : "Did you forget to carry the one?";
  if (r.model === "repeater") return "\\boxed{7}";
  if (r.model === "emoji") return `Sure: ${u.slice(0, 20)}${system(r) ? "" : " \u{1F600}"}`;
  if (r.model === "sampler") {
    const n = seen.get(u) ?? 0;
    seen.set(u, n + 1);
    return `\\boxed{${[41, 42, 40][n % 3]}}`;
  }
  if (u.includes("diagnose why the answer failed")) return "I dropped the carry; REMEMBER-CARRY.";
  // The fixer: right once the carry is mentioned anywhere it is shown (feedback, reflection or memory).
  return /carry/i.test(u) || /carry/i.test(system(r)) ? "\\boxed{42}" : "\\boxed{41}";
}

beforeAll(async () => {
  server = await startFakeModelServer({ respond });
  writeFileSync(
    tasksFile,
    [
      { id: "a", question: "What is 17 + 25? Answer in \\boxed{}.", answer: "42" },
      { id: "b", prompt: "Add 19 and 23. Answer in \\boxed{}.", reference: 42 },
    ]
      .map((t) => JSON.stringify(t))
      .join("\n") + "\n",
  );
  writeFileSync(badTasks, `${JSON.stringify({ prompt: "fine", reference: "1" })}\n${JSON.stringify({ reference: "2" })}\n`);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rlxf(args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    const p = program();
    p.exitOverride();
    await p.parseAsync(["node", "rlxf", ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { stdout, stderr };
}

/** Runs `fn` as if stderr were a terminal outside CI, where progress shows. */
async function onTerminal<T>(fn: () => Promise<T>): Promise<T> {
  const had = Object.getOwnPropertyDescriptor(process.stderr, "isTTY");
  const ci = process.env.CI;
  Object.defineProperty(process.stderr, "isTTY", { value: true, configurable: true });
  delete process.env.CI;
  try {
    return await fn();
  } finally {
    if (had) Object.defineProperty(process.stderr, "isTTY", had);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
    if (ci !== undefined) process.env.CI = ci;
  }
}

const common = () => ["--tasks", tasksFile, "--db", db, "--base-url", server.baseUrl, "--api-key", "sk-local"];

describe("rlxf loop", () => {
  it("refine with a critic: solves both tasks at the second turn, stores the trace, and reports it", async () => {
    const { stdout } = await rlxf(["loop", "refine", ...common(), "--policy", "fixer", "--feedback", "critique", "--feedback-model", "critic", "--rounds", "3", "--run-id", "refine-1", "--json"]);
    const r = JSON.parse(stdout);
    expect(r.runId).toBe("refine-1");
    expect(r.tasks.map((t: { solved: boolean; attempts: number }) => [t.solved, t.attempts])).toEqual([
      [true, 2],
      [true, 2],
    ]);
    expect(r.summary.accuracyPerTurn).toEqual([0, 1]);
    expect(r.summary.friction.friction).toBe(0);
    // The critic is the feedback model; the refinement prompt carries its weakness.
    expect(server.requests.some((q) => q.model === "critic")).toBe(true);
    expect(server.requests.some((q) => q.model === "fixer" && lastUser(q).includes("The carry from the ones digit was dropped"))).toBe(true);

    const report = await rlxf(["loop", "report", "refine-1", "--db", db]);
    expect(report.stdout).toContain("refine: 2/2 tasks solved (100.0%)");
    expect(report.stdout).toContain("accuracy per turn: 1: 0.0%, 2: 100.0%");
    expect(report.stdout).toContain("feedback friction: 0.000 (2 of 2");
    expect(report.stdout).toMatch(/a\s+yes\s+satisfied\s+2\s+-\+/);
    const json = JSON.parse((await rlxf(["loop", "report", "refine-1", "--db", db, "--json"])).stdout);
    expect(json.summary).toEqual(r.summary);
    expect(json.tasks[0].steps.map((s: { output: string }) => s.output)).toEqual(["\\boxed{41}", "\\boxed{42}"]);

    const s = await openStore({ path: db });
    try {
      const gens = (await s.listGenerations({ policy: "fixer" })).records.filter((g) => g.metadata?.loopRun === "refine-1");
      expect(gens).toHaveLength(4);
      expect((await s.listFeedback({ sourceId: "critique/critic" })).records).toHaveLength(4);
    } finally {
      await s.close();
    }
    await expect(rlxf(["loop", "refine", ...common(), "--policy", "fixer", "--feedback", "math", "--run-id", "refine-1"])).rejects.toThrow(/already exists/);
  });

  it("retry with the math verifier: unary feedback never names the carry; rejection stops a repeating policy resubmitting", async () => {
    const plain = JSON.parse((await rlxf(["loop", "retry", ...common(), "--policy", "fixer", "--feedback", "math", "--rounds", "3", "--json"])).stdout);
    expect(plain.summary).toMatchObject({ solved: 0, friction: { friction: 1 } });
    const rep = JSON.parse((await rlxf(["loop", "retry", ...common(), "--policy", "repeater", "--feedback", "math", "--rounds", "3", "--reject-previous", "--max-resamples", "1", "--json"])).stdout);
    expect(rep.summary).toMatchObject({ resubmitted: 0, rejectedRepeats: 4, stops: { repeating: 2 } });
  });

  it("reflexion, best-of-n and multi-turn run from the CLI", async () => {
    const rx = JSON.parse((await rlxf(["loop", "reflexion", ...common(), "--policy", "fixer", "--feedback", "math", "--json"])).stdout);
    expect(rx.summary).toMatchObject({ solved: 2, reflections: 2, accuracyPerTurn: [0, 1] });
    const bon = JSON.parse((await rlxf(["loop", "best-of-n", ...common(), "--policy", "sampler", "--feedback", "math", "--rounds", "3", "--json"])).stdout);
    expect(bon.summary).toMatchObject({ solved: 2, selection: { selectedCorrect: 2, firstCorrect: 0 } });
    const mt = JSON.parse((await rlxf(["loop", "multi-turn", ...common(), "--policy", "fixer", "--feedback", "user", "--feedback-model", "user-sim", "--json"])).stdout);
    expect(mt.summary).toMatchObject({ solved: 2, accuracyPerTurn: [0, 1] });
    const budget = JSON.parse((await rlxf(["loop", "refine", ...common(), "--policy", "fixer", "--feedback", "math", "--task-tokens", "1", "--no-cache", "--json"])).stdout);
    expect(budget.summary).toMatchObject({ stops: { budget: 2 }, meanAttempts: 1, solved: 0 });
    const priced = JSON.parse((await rlxf(["loop", "reflexion", ...common(), "--policy", "fixer", "--feedback", "math", "--price-input", "1000", "--price-output", "1000", "--no-cache", "--json"])).stdout);
    // Cached answers cost nothing; these were asked afresh.
    expect(priced.summary.tokens).toBeGreaterThan(0);
    expect(priced.summary.costUsd).toBeCloseTo(priced.summary.tokens / 1000, 12);
    expect(priced.summary.solved).toBe(2);
    expect(priced.summary.costPerSolvedUsd).toBeCloseTo(priced.summary.costUsd / 2, 12);
    const { stdout } = await rlxf(["loop", "list", "--db", db]);
    expect(stdout).toMatch(/multi-turn/);
    expect(stdout).toMatch(/best-of-n/);
  });

  it("keeps each project's response cache to itself and says how much of a run came from it", async () => {
    const args = ["loop", "retry", ...common(), "--policy", "fixer", "--feedback", "math", "--rounds", "1"];
    const first = await rlxf([...args, "--project", "cache-a"]);
    expect(first.stdout).toMatch(/tokens: [1-9]/);
    expect(first.stdout).not.toContain("from the response cache");
    const asked = server.requests.length;
    // The same requests in another project are asked afresh and cost tokens there.
    const other = await rlxf([...args, "--project", "cache-b"]);
    expect(server.requests.length).toBe(asked + 2);
    expect(other.stdout).toMatch(/tokens: [1-9]/);
    expect(other.stdout).not.toContain("from the response cache");
    // A rerun in the first project is served from its cache and says so instead of passing for free.
    const again = await rlxf([...args, "--project", "cache-a"]);
    expect(server.requests.length).toBe(asked + 2);
    expect(again.stdout).toContain("tokens: 0");
    expect(again.stdout).toMatch(/2 of 2 model responses came from the response cache of project "cache-a" \([1-9]\d* tokens reused/);
  });

  it("names what is wrong with bad input and stores nothing", async () => {
    const s = await openStore({ path: db });
    const before = (await s.loops.list()).length;
    await s.close();
    await expect(rlxf(["loop", "refine", "--tasks", badTasks, "--db", db, "--base-url", server.baseUrl, "--policy", "fixer", "--feedback", "math"])).rejects.toThrow(/line 2.*prompt/);
    await expect(rlxf(["loop", "refine", ...common(), "--policy", "fixer", "--feedback", "nonsense"])).rejects.toThrow(/unknown feedback "nonsense"/);
    await expect(rlxf(["loop", "report", "nope", "--db", db])).rejects.toThrow(/no loop run "nope"/);
    const s2 = await openStore({ path: db });
    expect((await s2.loops.list()).length).toBe(before);
    await s2.close();
  });
});

describe("rlxf loop --feedback human", () => {
  it("waits for people's feedback sent over the HTTP API on each stored output", async () => {
    const store = await openStore({ path: db });
    const running = await listen(createApp({ store, log: () => {} }), { port: 0 });
    const { secret } = await store.keys.create({ project: "default", role: "admin" });
    const H = { authorization: `Bearer ${secret}`, "content-type": "application/json" };
    let done = false;
    const answered = new Set<string>();
    // A person: reads the run's generations over the API and answers each one.
    const person = (async () => {
      while (!done) {
        const res = await fetch(`${running.url}/v1/generations?policy=fixer&limit=1000`, { headers: H });
        const page = (await res.json()) as { records: Array<{ id: string; output: string; metadata?: { loopRun?: string } }> };
        for (const g of page.records.filter((x) => x.metadata?.loopRun === "human-1" && !answered.has(x.id))) {
          answered.add(g.id);
          const body = g.output.includes("{42}")
            ? { id: `ann/${g.id}`, kind: "binary", targets: [g.id], source: { type: "human", id: "ann" }, value: { ok: true } }
            : { id: `ann/${g.id}`, kind: "critique", targets: [g.id], source: { type: "human", id: "ann" }, value: { text: "No.", weaknesses: ["you forgot to carry the one"], verdict: "fail" } };
          const posted = await fetch(`${running.url}/v1/feedback`, { method: "POST", headers: H, body: JSON.stringify(body) });
          expect(posted.status).toBe(201);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      const r = JSON.parse((await rlxf(["loop", "refine", ...common(), "--policy", "fixer", "--feedback", "human:30", "--run-id", "human-1", "--json"])).stdout);
      expect(r.summary).toMatchObject({ solved: 2, accuracyPerTurn: [0, 1] });
      const steps = await store.loops.steps("default", "human-1");
      expect(steps.filter((x) => x.data.role === "attempt").map((x) => x.data.feedbackId).sort()).toEqual([...answered].map((id) => `ann/${id}`).sort());
    } finally {
      done = true;
      await person;
      await running.close();
      await store.close();
    }
  });
});

describe("rlxf memory", () => {
  it("distils stored critiques into principles, lists, shows, searches and retires them; loops use them with --memory", async () => {
    const s = await openStore({ path: db });
    await s.write({
      items: [{ project: "mem", id: "m1", prompt: "What is 38 + 45? Answer in \\boxed{}." }],
      generations: [{ project: "mem", id: "m1/g", itemId: "m1", policy: "someone", output: "\\boxed{73}" }],
      feedback: [
        { project: "mem", id: "m1/c", kind: "critique", targets: ["m1/g"], source: { type: "human", id: "ann" }, value: { text: "Wrong.", weaknesses: ["dropped the carry"], suggestions: ["When adding, carry the one whenever the ones digits sum past 9."], verdict: "fail" } },
      ],
    });
    await s.close();

    const distilled = await rlxf(["memory", "distill", "--db", db, "--project", "mem", "--source-type", "human", "--json"]);
    const entries = distilled.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(entries.map((e: { id: string }) => e.id)).toEqual(["principle:m1/c"]);
    const again = await onTerminal(() => rlxf(["memory", "distill", "--db", db, "--project", "mem", "--source-type", "human"]));
    expect(again.stdout).toContain("0 new entries, 1 skipped (1 already distilled)");
    expect(again.stderr).toContain("distilling feedback 1");

    const list = await rlxf(["memory", "list", "--db", db, "--project", "mem"]);
    expect(list.stdout).toContain("principle:m1/c");
    const show = await rlxf(["memory", "show", "principle:m1/c", "--db", db, "--project", "mem"]);
    expect(show.stdout).toContain("When adding, carry the one");
    expect(show.stdout).toContain("from feedback m1/c on generation(s) m1/g of item(s) m1");
    const hit = JSON.parse((await rlxf(["memory", "search", "What is 27 + 16? Answer in \\boxed{}.", "--db", db, "--project", "mem", "--json"])).stdout);
    expect(hit.map((h: { id: string }) => h.id)).toEqual(["principle:m1/c"]);
    const miss = JSON.parse((await rlxf(["memory", "search", "Write a haiku about autumn leaves", "--db", db, "--project", "mem", "--json"])).stdout);
    expect(miss).toEqual([]);

    // With --memory the principle reaches the first prompt, so the fixer answers right at once.
    const r = JSON.parse((await rlxf(["loop", "retry", ...common(), "--project", "mem", "--policy", "fixer", "--feedback", "math", "--memory", "--json"])).stdout);
    expect(r.summary).toMatchObject({ solved: 2, accuracyPerTurn: [1] });

    expect((await rlxf(["memory", "retire", "principle:m1/c", "--db", db, "--project", "mem"])).stdout).toBe("retired principle:m1/c\n");
    expect((await rlxf(["memory", "retire", "principle:m1/c", "--db", db, "--project", "mem"])).stdout).toBe("principle:m1/c was already retired\n");
    const after = JSON.parse((await rlxf(["loop", "retry", ...common(), "--project", "mem", "--policy", "fixer", "--feedback", "math", "--rounds", "1", "--memory", "--json"])).stdout);
    expect(after.summary.solved).toBe(0);
    await expect(rlxf(["memory", "show", "nope", "--db", db, "--project", "mem"])).rejects.toThrow(/no memory entry "nope"/);

    // Over-generalisation: the policy ("emoji") drops its emoji whenever any principle is in its prompt.
    const inScope = join(dir, "in.jsonl");
    const outScope = join(dir, "out.jsonl");
    writeFileSync(inScope, ["What is 27 + 16? Answer in \\boxed{}.", "What is 58 + 34? Answer in \\boxed{}."].map((prompt) => JSON.stringify({ prompt })).join("\n") + "\n");
    writeFileSync(outScope, ["Write a haiku about autumn leaves", "Name three rivers in Europe"].map((prompt) => JSON.stringify({ prompt })).join("\n") + "\n");
    const s2 = await openStore({ path: db });
    await s2.memory.put([{ project: "mem2", id: "carry", kind: "principle", text: "Carry the one when adding.", scope: { when: "adding two numbers", examples: ["What is 38 + 45? Answer in \\boxed{}."] }, provenance: { feedbackIds: [], generationIds: [], itemIds: [] } }]);
    await s2.close();
    const measured = await onTerminal(() => rlxf(["memory", "overgeneralization", "carry", "--in-scope", inScope, "--out-of-scope", outScope, "--db", db, "--project", "mem2", "--base-url", server.baseUrl, "--model", "emoji", "--json"]));
    expect(measured.stderr).toMatch(/measuring \[#{20}\] 4\/4 100%/);
    const og = JSON.parse(measured.stdout);
    expect(og.forced).toEqual({ inScope: { n: 2, changed: 2, rate: 1 }, outOfScope: { n: 2, changed: 2, rate: 1 } });
    expect(og.retrieved.outOfScope).toEqual({ n: 2, changed: 0, rate: 0, injected: 0 });
    expect(og.retrieved.inScope.injected).toBe(2);
    expect(og.overgeneralization).toBe(0);
  });
});
