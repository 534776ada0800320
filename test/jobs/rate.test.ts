/**
 * Three `rlxf worker` processes share one provider limit of 600 requests per minute (a token bucket in
 * PostgreSQL): the rate the local model server sees never exceeds the cap (by more than the bucket's burst) and
 * comes close to it (at least 90%) while plenty of work is queued, and a 429 with `Retry-After: 2` from the
 * server pauses every worker.
 *
 * Robustness on a busy machine: the cap is an upper bound that holds by construction (at most rate x T plus
 * the bucket's burst of half a second in any window of T seconds: under 2% of 30 s), so that is what the upper side
 * asserts. The lower side needs the bucket never to sit full for long: far more requests wait than the cap lets
 * through (three workers, each running one task with 8 requests in flight), and a worker waking up to half a second late loses nothing
 * because the bucket holds half a second's worth. A machine busy enough to stall every worker for longer does lose
 * capacity (a second's stall is a thirtieth of the 30 s window), so the lower side allows for that; a limiter that
 * split the cap between the workers, or lost its refills, would be far below it.
 */
import { afterAll, describe, expect, it } from "vitest";
import { burstOf, limitKey, openJobs } from "../../src/jobs/index.js";
import { normalizeOpenAIBaseUrl } from "../../src/providers/index.js";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { type Store, openStore } from "../../src/store/index.js";
import { postgresForFile } from "../support/postgres.js";
import { type WorkerProcess, startWorker, stopWorker, waitForJob } from "./workers.js";

const pg = postgresForFile("jobs-rate");
const RPM = 600;
const WINDOW_S = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!pg.available)("a provider limit shared by three worker processes", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });

  it("holds 600 requests per minute (at most the burst over, under 2%; at least 90% of it) over 30 s, and a Retry-After pauses every worker", async () => {
    const url = await pg.fresh();
    const store: Store = await openStore({ url });
    closers.push(() => store.close());
    /** Arrival time (ms, this process's clock) of every request the server gets. */
    const arrivals: number[] = [];
    /** When the server starts answering one 429 (set once the rate has been measured). */
    const pause: { at?: number } = {};
    let t429: number | undefined;
    const server: FakeServer = await startFakeModelServer({ latencyMs: 10 });
    closers.push(() => server.close());
    server.respond = () => {
      const now = performance.now();
      arrivals.push(now);
      if (pause.at !== undefined && t429 === undefined && now >= pause.at) {
        t429 = now;
        return { status: 429, retryAfter: 2 };
      }
      return "m";
    };

    const env = { RLXF_DATABASE_URL: url };
    const args = ["--concurrency", "1", "--kinds", "judge", "--rpm", String(RPM)];
    const workers: WorkerProcess[] = await Promise.all([0, 1, 2].map(() => startWorker(args, env)));
    closers.push(() => Promise.all(workers.map((w) => stopWorker(w))));

    // Far more work than 40 s at the cap can do: the bucket, not the work, sets the pace.
    const rows = Array.from({ length: 1500 }, (_, i) => ({ instruction: `question ${i}`, output_1: `a${i}`, output_2: `b${i}` }));
    const jobs = openJobs(store, { run: false });
    closers.push(() => jobs.close());
    const job = await jobs.submit({ kind: "judge", origin: "cli", input: { judge: "pairwise", rows, order: "fixed", chunkSize: 100, concurrency: 8, model: { baseUrl: server.baseUrl, model: "fake", concurrency: 8, cache: false } } });

    // Every worker takes part before measuring starts, and the first second's burst is left out.
    await waitForJob(store, job.id, 60_000, () => arrivals.length >= 30);
    await sleep(2000);
    const from = performance.now();
    const busy = new Set<string>();
    while (performance.now() - from < WINDOW_S * 1000) {
      for (const t of await store.jobs.tasks(job.id)) if (t.state === "running" && t.worker) busy.add(t.worker);
      await sleep(Math.min(2000, WINDOW_S * 1000 - (performance.now() - from)));
    }
    const to = performance.now();
    const seen = arrivals.filter((t) => t >= from && t < to).length;
    const expected = (RPM / 60) * ((to - from) / 1000);
    expect(seen, `${seen} requests in ${((to - from) / 1000).toFixed(1)} s (cap ${expected.toFixed(0)})`).toBeLessThanOrEqual(expected + burstOf(RPM));
    expect(seen / expected, `${seen} requests in ${((to - from) / 1000).toFixed(1)} s (cap ${expected.toFixed(0)})`).toBeGreaterThanOrEqual(0.9);
    // All three workers were sending requests under the one limit.
    expect([...busy].sort()).toEqual(workers.map((w) => w.name).sort());

    // One 429 with Retry-After: 2, and nobody asks again for two seconds once the pause is in the database (the
    // worker that got the 429 writes it there; on a busy machine that can take a moment, while the others go on
    // taking tokens). A worker that had taken its token just before the pause was written, and was then held up
    // by a busy machine, may still send that one request: at most one per worker, where the cap would have let
    // about 15 through in 1.5 s.
    const bucket = `rpm:${limitKey("openai", normalizeOpenAIBaseUrl(server.baseUrl), "fake")}`;
    pause.at = performance.now();
    let written: number | undefined;
    while (performance.now() - pause.at < 3500) {
      if (written === undefined && t429 !== undefined && (await store.rateLimits.pausedFor(bucket)) > 0) written = performance.now();
      await sleep(20);
    }
    expect(t429).toBeDefined();
    expect(written, "the pause was never written to the database").toBeDefined();
    const during = arrivals.filter((t) => t > written! + 300 && t < t429! + 1800);
    expect(during.length, "requests while paused").toBeLessThanOrEqual(3);
    expect(arrivals.filter((t) => t > t429! + 2000).length).toBeGreaterThan(0);

    await jobs.cancel(job.id);
    await waitForJob(store, job.id, 30_000);
  }, 180_000);
});
