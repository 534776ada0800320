/**
 * Jobs end to end in one process, as a contract over the store's engine: SQLite (the task table as queue,
 * jobs.sqlite.test.ts) and PostgreSQL (pg-boss, jobs.postgres.test.ts): a judge job against a real local
 * OpenAI-compatible server, bad input refused, per-project caps, and a provider's Retry-After shared through the
 * database. (Cancel and retry: test/jobs/api.test.ts.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { type FakeServer, shownFirst, startFakeModelServer } from "../providers/testing/index.js";
import type { Store } from "../store/index.js";
import { type Jobs, openJobs } from "./index.js";

const pairs = (n: number, tag = "") =>
  Array.from({ length: n }, (_, i) => ({ instruction: `question ${tag}${i}`, output_1: `short ${i}`, output_2: `a longer answer ${i}`, generator_1: "small", generator_2: "big" }));

/** A judge that prefers the longer answer (whichever position it is shown in). */
function longerWins(server: FakeServer): void {
  server.respond = (r) => {
    const m = /question \S+?(\d+)$/m.exec(r.prompt);
    const i = m ? m[1] : "0";
    return shownFirst(r, `a longer answer ${i}`, `short ${i}`) === 1 ? "m" : "M";
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function jobsContract(name: string, open: () => Promise<Store>, opts: { skip?: boolean } = {}): void {
  const skip = opts.skip ?? false;
  describe.skipIf(skip)(`jobs on ${name}`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f();
    });
    async function setup(run = true, projectCap?: number): Promise<{ store: Store; jobs: Jobs; server: FakeServer }> {
      const server = await startFakeModelServer();
      const store = await open();
      const jobs = openJobs(store, { run: run ? { concurrency: 3, heartbeatMs: 200, pollMs: 200, leaseMs: 5_000, ...(projectCap ? { projectCap } : {}) } : false, log: () => {} });
      cleanup.push(() => server.close(), () => store.close(), () => jobs.close({ graceMs: 2000 }));
      return { store, jobs, server };
    }

    it("judges rows in chunks shared by the runner: one feedback per pair, counts that add up", async () => {
      const { store, jobs, server } = await setup();
      longerWins(server);
      const job = await jobs.submit({ kind: "judge", project: "p", origin: "cli", input: { judge: "pairwise", rows: pairs(45), order: "fixed", chunkSize: 10, model: { baseUrl: server.baseUrl, model: "fake" } } });
      expect(job).toMatchObject({ kind: "judge", state: "queued", progress: { done: 0, total: 45 }, tasks: { total: 5 } });
      const done = await waitFor("the job", async () => {
        const j = await store.jobs.get(job.id);
        return j?.state === "succeeded" || j?.state === "failed" ? j : undefined;
      });
      expect(done).toMatchObject({ state: "succeeded", progress: { done: 45, total: 45, failed: 0 }, tasks: { done: 5, failed: 0 }, result: { outcomes: { second: 45 } } });
      expect((await store.counts("p")).feedback).toBe(45);
      const records = await store.jobs.unitRecords(job.id);
      expect(new Set(records.map((r) => r.recordId)).size).toBe(45);
      // Every stored feedback record is one of the job's.
      const ids = new Set(records.map((r) => r.recordId));
      for await (const f of store.iterateFeedback({ project: "p" })) expect(ids.has(f.id)).toBe(true);
    });

    it("refuses bad input with the field named, before anything is stored", async () => {
      const { store, jobs } = await setup(false);
      await expect(jobs.submit({ kind: "judge", origin: "api", input: { judge: "pairwise", rows: [{ instruction: "x", output_1: "a" }] } })).rejects.toThrow(/rows\.0.*output_2/);
      await expect(jobs.submit({ kind: "judge", origin: "api", input: { judge: "/etc/passwd", rows: pairs(1) } })).rejects.toThrow(/input\.judge: no shipped judge/);
      await expect(jobs.submit({ kind: "nope", origin: "api", input: {} })).rejects.toThrow(/unknown job kind/);
      expect((await store.jobs.list({})).jobs).toEqual([]);
    });

    it("caps the tasks one project runs at once, so another project's job is not starved", async () => {
      const { store, jobs, server } = await setup(true, 1);
      longerWins(server);
      server.latencyMs = (r) => (r.prompt.includes("big") ? 150 : 0);
      const big = await jobs.submit({ kind: "judge", project: "a", origin: "cli", input: { judge: "pairwise", rows: pairs(12, "big"), order: "fixed", chunkSize: 2, concurrency: 1, model: { baseUrl: server.baseUrl, model: "fake", concurrency: 1, cache: false } } });
      const small = await jobs.submit({ kind: "judge", project: "b", origin: "cli", input: { judge: "pairwise", rows: pairs(4, "small"), order: "fixed", chunkSize: 2, model: { baseUrl: server.baseUrl, model: "fake", cache: false } } });
      const most = new Map<string, number>();
      let smallDoneWhileBigRan = false;
      for (let i = 0; i < 600; i++) {
        const running = [...(await store.jobs.tasks(big.id)), ...(await store.jobs.tasks(small.id))].filter((t) => t.state === "running");
        for (const p of ["a", "b"]) most.set(p, Math.max(most.get(p) ?? 0, running.filter((t) => t.project === p).length));
        const [a, b] = [await store.jobs.get(big.id), await store.jobs.get(small.id)];
        if (b!.state === "succeeded" && a!.state !== "succeeded") smallDoneWhileBigRan = true;
        if (a!.state === "succeeded" && b!.state === "succeeded") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await store.jobs.get(big.id))!.state).toBe("succeeded");
      // Never two of a project's tasks at once (the small job's may be too quick to be seen running at all).
      expect(most.get("a")).toBe(1);
      expect(most.get("b")).toBeLessThanOrEqual(1);
      expect(smallDoneWhileBigRan).toBe(true);
    });

    it("a provider's Retry-After pauses every model on the same endpoint through the database", async () => {
      const { store, jobs, server } = await setup(false);
      void jobs;
      const { jobModel } = await import("./models.js");
      const a = jobModel(store, "default", { baseUrl: server.baseUrl, model: "fake", maxRetries: 3 });
      const b = jobModel(store, "default", { baseUrl: server.baseUrl, model: "fake", maxRetries: 3 });
      let first = true;
      server.respond = () => {
        if (first) {
          first = false;
          return { status: 429, retryAfter: 1 };
        }
        return "ok";
      };
      await a.chat({ messages: [{ role: "user", content: "one" }] });
      const t429 = server.requests[0]!;
      void t429;
      // b never saw the 429 itself, yet waits for the pause a set.
      const t0 = Date.now();
      server.reset();
      first = true;
      const pa = a.chat({ messages: [{ role: "user", content: "two" }] });
      await waitFor("the 429", async () => (server.requests.length >= 1 ? true : undefined));
      await new Promise((r) => setTimeout(r, 100));
      const tb = Date.now();
      await b.chat({ messages: [{ role: "user", content: "three" }] });
      expect(Date.now() - tb).toBeGreaterThan(500);
      await pa;
      expect(Date.now() - t0).toBeGreaterThan(900);
      await a.close();
      await b.close();
    });
  });
}
