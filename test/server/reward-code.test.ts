/**
 * The code verifier as a reward over HTTP, attacked: every reward hack of the corpus
 * (test/support/code-attacks.ts) scores 0 through POST /v1/reward and POST /v1/reward/openrlhf,
 * the honest solutions score 1, and a request cannot raise the sandbox's limits above the
 * server's ceilings or run more sandboxes at once than the server allows.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/server/index.js";
import { configureSandbox, DEFAULT_LIMITS, sandboxConfig } from "../../src/sources/verifiers/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { ATTACK_TASKS, JS_ATTACKS, JS_TASK, PYTHON_ATTACKS } from "../support/code-attacks.js";
import { rlxf } from "../support/cli.js";
import { type Caller, caller, expectErrorShape, keyOf, requireBuiltCli } from "./helpers.js";
import { startServer } from "./process.js";

let store: Store;
let ingest: Caller;
let read: Caller;

beforeAll(async () => {
  store = await openStore({ path: ":memory:" });
  const app = createApp({ store, log: () => {} });
  ingest = caller(app, await keyOf(store, "p1", "ingest"));
  read = caller(app, await keyOf(store, "p1", "read"));
});
afterAll(async () => {
  await store.close();
});

const task = (id: string) => ATTACK_TASKS.find((t) => t.task_id === id)!;
const humaneval = (name: string) => ({ type: "code", name, prependPrompt: true, extractFence: false, limits: { wallMs: 5000, cpuSeconds: 3 } });
const reference = (id: string) => ({ tests: task(id).test, entryPoint: task(id).entry_point });

describe("reward hacks over HTTP", () => {
  it("POST /v1/reward: every attack scores 0, every honest solution 1, each verified apart from the program", async () => {
    const samples = [
      ...ATTACK_TASKS.map((t) => ({ prompt: t.prompt, completion: t.canonical_solution, reference: reference(t.task_id) })),
      ...PYTHON_ATTACKS.map((a) => ({ prompt: task(a.task).prompt, completion: a.completion, reference: reference(a.task) })),
    ];
    const r = await read("POST", "/v1/reward", { spec: humaneval("he-reward"), samples });
    expect(r.status, r.text).toBe(200);
    const results = r.body.results as Array<{ score: number; passed: boolean; details: { isolation: string; verdict: string; sandbox: { seccomp: boolean } } }>;
    expect(results.slice(0, ATTACK_TASKS.length).map((x) => x.score)).toEqual(ATTACK_TASKS.map(() => 1));
    const gamed = results.slice(ATTACK_TASKS.length).flatMap((x, i) => (x.passed || x.score > 0 ? [PYTHON_ATTACKS[i]!.id] : []));
    expect(gamed).toEqual([]);
    for (const x of results) expect(x.details).toMatchObject({ isolation: "separated", verdict: "host", sandbox: { seccomp: true } });
  });

  it("POST /v1/reward/openrlhf: every attack's reward is 0", async () => {
    const rows = [...ATTACK_TASKS.map((t) => ({ t, completion: t.canonical_solution })), ...PYTHON_ATTACKS.map((a) => ({ t: task(a.task), completion: a.completion }))];
    const r = await read("POST", "/v1/reward/openrlhf", {
      query: rows.map((x) => x.t.prompt + x.completion),
      prompts: rows.map((x) => x.t.prompt),
      labels: rows.map((x) => reference(x.t.task_id)),
      spec: humaneval("he-openrlhf"),
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.rewards).toEqual([...ATTACK_TASKS.map(() => 1), ...PYTHON_ATTACKS.map(() => 0)]);
  });

  it("JavaScript attacks score 0 through both endpoints", async () => {
    const spec = { type: "code", name: "js", language: "javascript", extractFence: false, limits: { wallMs: 5000 } };
    const programs = [JS_TASK.program, ...JS_ATTACKS.map((a) => a.program)];
    const r = await read("POST", "/v1/reward", { spec, samples: programs.map((completion) => ({ completion, reference: { tests: JS_TASK.tests } })) });
    expect(r.status, r.text).toBe(200);
    expect(r.body.results.map((x: { score: number }) => x.score)).toEqual([1, ...JS_ATTACKS.map(() => 0)]);
    const o = await read("POST", "/v1/reward/openrlhf", { query: programs, labels: programs.map(() => ({ tests: JS_TASK.tests })), spec: { ...spec, name: "js2" } });
    expect(o.status, o.text).toBe(200);
    expect(o.body.rewards).toEqual([1, ...JS_ATTACKS.map(() => 0)]);
  });
});

describe("sandbox ceilings and concurrency over HTTP", () => {
  const program = "def f():\n    return 1\n";
  const tests = [{ code: "assert f() == 1" }];

  it("an inline spec asking above a ceiling is a 400 naming the field and the ceiling; lower limits are fine", async () => {
    const big = await ingest("POST", "/v1/reward", { spec: { type: "code", tests, limits: { memoryBytes: 700 * 1024 * 1024, wallMs: 20_000 } }, samples: [{ completion: program }] });
    expectErrorShape(big, 400, "validation_failed");
    expect(big.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["spec.limits.memoryBytes", "spec.limits.wallMs"]);
    expect(big.body.error.message).toContain(`ceiling of ${DEFAULT_LIMITS.memoryBytes}`);
    const perSample = await ingest("POST", "/v1/reward", { samples: [{ completion: program, spec: { type: "code", tests, limits: { cpuSeconds: 600 } } }] });
    expectErrorShape(perSample, 400, "validation_failed");
    expect(perSample.body.error.issues[0].path).toBe("samples.0.spec.limits.cpuSeconds");
    const openrlhf = await read("POST", "/v1/reward/openrlhf", { query: [program], spec: { type: "code", tests, limits: { processes: 4096 } } });
    expectErrorShape(openrlhf, 400, "validation_failed");
    const small = await ingest("POST", "/v1/reward", { spec: { type: "code", tests, limits: { memoryBytes: 128 * 1024 * 1024, wallMs: 3000 } }, samples: [{ completion: program }] });
    expect(small.status, small.text).toBe(200);
    expect(small.body.results[0].score).toBe(1);
  });

  it("an operator's raised ceiling admits what the default refused", async () => {
    const saved = sandboxConfig().ceilings;
    configureSandbox({ ceilings: { memoryBytes: 1024 ** 3 } });
    try {
      const r = await ingest("POST", "/v1/reward", { spec: { type: "code", tests, limits: { memoryBytes: 700 * 1024 * 1024 } }, samples: [{ completion: program }] });
      expect(r.status, r.text).toBe(200);
    } finally {
      configureSandbox({ ceilings: saved });
    }
  });

  it("the samples of a request share the server's sandbox slots", async () => {
    const before = sandboxConfig().maxConcurrent;
    configureSandbox({ maxConcurrent: 2 });
    try {
      const sleeper = (i: number) => `import time\nprint(time.monotonic())\ntime.sleep(0.3)\nprint(time.monotonic())\ndef f():\n    return ${i}\n`;
      const r = await ingest("POST", "/v1/reward", { spec: { type: "code", name: "sleepers", tests: [{ code: "assert f() >= 0" }] }, samples: Array.from({ length: 6 }, (_, i) => ({ completion: sleeper(i) })) });
      expect(r.status, r.text).toBe(200);
      const spans = (r.body.results as Array<{ details: { stdout: string } }>).map((x) => x.details.stdout.trim().split("\n").map(Number) as [number, number]);
      expect(spans).toHaveLength(6);
      // at no moment were more than two programs running
      for (const [start] of spans) expect(spans.filter(([s, e]) => s <= start && start < e).length).toBeLessThanOrEqual(2);
    } finally {
      configureSandbox({ maxConcurrent: before });
    }
  });

  it("rlxf serve --sandbox-ceilings raises a ceiling for every request; a bad list stops the server with the reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rlxf-ceilings-"));
    const db = join(dir, "s.db");
    // `rlxf serve` as the built binary: its options configure the process's sandbox.
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [requireBuiltCli(), ...args], { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
      );
    try {
      const created = await rlxf(["keys", "create", "--project", "p", "--role", "ingest", "--db", db, "--create-store"]);
      expect(created.code, created.stderr).toBe(0);
      const key = created.stdout.trim();
      const server = await startServer(["--db", db, "--no-demo", "--sandbox-ceilings", "memoryBytes=1GiB", "--sandbox-concurrency", "2"]);
      try {
        const post = (memoryBytes: number) =>
          fetch(`${server.url}/v1/reward`, {
            method: "POST",
            headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
            body: JSON.stringify({ spec: { type: "code", tests, limits: { memoryBytes } }, samples: [{ completion: program }] }),
          });
        const raised = await post(700 * 1024 * 1024);
        expect(raised.status, await raised.clone().text()).toBe(200);
        expect(((await raised.json()) as { results: Array<{ score: number }> }).results[0]!.score).toBe(1);
        const above = await post(2 * 1024 ** 3);
        expect(above.status).toBe(400);
        expect(await above.text()).toContain(`ceiling of ${1024 ** 3}`);
      } finally {
        server.proc.kill("SIGTERM");
        await server.exited;
      }
      const bad = await cli(["serve", "--db", db, "--port", "0", "--sandbox-ceilings", "memory=1"]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/--sandbox-ceilings.*memoryBytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
