/**
 * A judge job of 1,200 pairs against a real local OpenAI-compatible server, spread over three `rlxf worker`
 * processes on one PostgreSQL, while a worker that is running part of it is killed with SIGKILL about every
 * second and started again (three kills): every pair ends with exactly one stored judgement (the verdict the
 * server gave for it), none is lost, the job's counts add up, and what killed workers had finished was not asked again.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openJobs } from "../../src/jobs/index.js";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { type Store, openStore } from "../../src/store/index.js";
import { postgresForFile } from "../support/postgres.js";
import { type WorkerProcess, startWorker, stopWorker, waitForJob } from "./workers.js";

const pg = postgresForFile("jobs-kill");
const PAIRS = 1200;
const CHUNK = 40;
const KILLS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The server's verdict on pair i: the second output for every third pair, else the first. */
const verdict = (i: number) => (i % 3 === 0 ? "second" : "first");

describe.skipIf(!pg.available)("judging through worker processes that keep being killed", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });

  it("stores exactly one judgement per pair, loses none, and repeats nothing finished", async () => {
    const url = await pg.fresh();
    const store: Store = await openStore({ url });
    closers.push(() => store.close());
    const server: FakeServer = await startFakeModelServer({ latencyMs: 100 });
    closers.push(() => server.close());
    server.respond = (r) => {
      const i = Number(/pair #(\d+):/.exec(r.prompt)?.[1] ?? -1);
      return verdict(i) === "first" ? "m" : "M";
    };
    const rows = Array.from({ length: PAIRS }, (_, i) => ({ instruction: `pair #${i}: which answer is better?`, output_1: `first answer to ${i}`, output_2: `second answer to ${i}`, generator_1: "a", generator_2: "b" }));
    const submitter = openJobs(store, { run: false });
    closers.push(() => submitter.close());
    const job = await submitter.submit({
      kind: "judge",
      project: "p",
      origin: "cli",
      // Kills take attempts: give the tasks room for them.
      maxAttempts: 10,
      input: { judge: "pairwise", rows, order: "fixed", concurrency: 4, chunkSize: CHUNK, model: { baseUrl: server.baseUrl, model: "fake", concurrency: 4, cache: false } },
    });
    expect(job.tasks.total).toBe(PAIRS / CHUNK);

    const env = { RLXF_DATABASE_URL: url };
    const args = ["--concurrency", "1", "--lease", "4", "--kinds", "judge"];
    const workers: WorkerProcess[] = await Promise.all([0, 1, 2].map(() => startWorker(args, env)));
    closers.push(() => Promise.all(workers.map((w) => stopWorker(w))));

    // Kill a worker that runs part of the job, every second or so, and start another in its place.
    let kills = 0;
    const restarts: Promise<void>[] = [];
    for (let round = 0; kills < KILLS && round < 150; round++) {
      await sleep(1000);
      const j = (await store.jobs.get(job.id))!;
      if (["succeeded", "failed", "cancelled"].includes(j.state)) break;
      const busy = new Set((await store.jobs.tasks(job.id)).filter((t) => t.state === "running").map((t) => t.worker));
      const k = workers.findIndex((w) => w !== undefined && busy.has(w.name));
      if (k < 0) continue;
      const victim = workers[k]!;
      victim.proc.kill("SIGKILL");
      await victim.exited;
      kills++;
      restarts.push(
        startWorker(args, env).then((w) => {
          workers[k] = w;
        }),
      );
    }
    await Promise.all(restarts);

    const done = await waitForJob(store, job.id, 150_000);
    expect(done.state, JSON.stringify(done)).toBe("succeeded");
    expect(done.progress).toMatchObject({ done: PAIRS, total: PAIRS, failed: 0 });
    expect(done.tasks).toEqual({ total: PAIRS / CHUNK, done: PAIRS / CHUNK, failed: 0 });
    expect(done.result).toEqual({ outcomes: { first: PAIRS - Math.ceil(PAIRS / 3), second: Math.ceil(PAIRS / 3) } });

    // Exactly one judgement per pair, with the verdict the server gave for that pair.
    const perItem = new Map<string, string[]>();
    for await (const rf of store.iterateResolvedFeedback({ project: "p" })) {
      const i = Number(/pair #(\d+):/.exec(String(rf.item.prompt))![1]);
      expect((rf.feedback.value as { choice: string }).choice).toBe(verdict(i));
      perItem.set(rf.item.id, [...(perItem.get(rf.item.id) ?? []), rf.feedback.id]);
    }
    expect(perItem.size).toBe(PAIRS);
    expect([...perItem.values()].every((ids) => ids.length === 1)).toBe(true);
    expect((await store.counts("p")).feedback).toBe(PAIRS);
    expect((await store.judgementFailures.list({ project: "p" })).records).toEqual([]);
    const units = await store.jobs.unitRecords(job.id, { limit: 5000 });
    expect(units.map((u) => u.unit)).toEqual(Array.from({ length: PAIRS }, (_, i) => i));

    // The kills hit running tasks, which other workers took up...
    expect(kills).toBeGreaterThanOrEqual(1);
    const errors = await store.jobs.attemptErrors(job.id, 100);
    expect(errors.some((e) => /stopped sending heartbeats/.test(e.error))).toBe(true);
    // ...without asking again what had been committed: each failed attempt (a killed worker's task, or one
    // handed on while its worker was too slow to send heartbeats) can have the model asked again at most for
    // the pairs of its task not yet committed, never for the pairs other tasks finished.
    const perTask = PAIRS / done.tasks.total;
    expect(server.requests.length).toBeGreaterThanOrEqual(PAIRS);
    expect(server.requests.length).toBeLessThanOrEqual(PAIRS + errors.length * perTask);
  }, 240_000);
});
