/**
 * The event loop stays free: while a 2,000-round bootstrap leaderboard, a large export and a reward request
 * with a catastrophic regular expression run on `rlxf serve` (the embedded SQLite default, so the jobs run
 * in the server's own worker threads), a cheap `GET /v1/health` still answers. Latency is measured in
 * `npm run bench:responsive`; here only that it answers within a generous bound. Regular expressions run in
 * linear time (RE2), so the catastrophic one is simply answered; a program that sleeps holds a compute thread
 * until the server's compute timeout (503), and the reward endpoints' bounded queue answers 503 with
 * Retry-After when full.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { startServer } from "../server/process.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-responsive-"));
const POLICIES = ["p0", "p1", "p2", "p3", "p4", "p5"];
/**
 * A code reward whose program sleeps past the server's compute timeout (10 s: generous, as a fresh thread's start
 * counts too on a busy machine) but within its sandbox's wall limit.
 */
const SLEEPER = { type: "code", tests: [{ code: "assert True" }], extractFence: false, limits: { wallMs: 50_000 } };

describe("a cheap request while heavy ones run", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("answers /v1/health during a 2,000-round bootstrap, a large export and a catastrophic regex", async () => {
    const db = join(dir, "rlxf.db");
    const store = await openStore({ path: db });
    const { secret } = await store.keys.create({ project: "p", role: "admin", name: "admin" });
    const items = Array.from({ length: 1000 }, (_, i) => ({ id: `i${i}`, project: "p", prompt: `question ${i} ${"lorem ipsum ".repeat(20)}` }));
    const generations = items.flatMap((it) => POLICIES.map((p) => ({ id: `${it.id}-${p}`, project: "p", itemId: it.id, policy: p, output: `${p} answers ${it.id} ${"words ".repeat(30)}` })));
    const feedback = items.flatMap((it, i) =>
      [0, 1, 2, 3, 4].map((k) => ({ id: `f${i}-${k}`, project: "p", kind: "pairwise", targets: [`${it.id}-${POLICIES[k]}`, `${it.id}-${POLICIES[k + 1]}`], source: { type: "judge", id: "j" }, value: { choice: (i + k) % 3 ? "second" : "first" } })),
    );
    await store.write({ items, generations, feedback });
    await store.close();

    const server = await startServer(["--db", db, "--no-demo", "--compute-timeout", "10", "--compute-threads", "1", "--compute-queue", "1", "--sandbox-ceilings", "wallMs=60000"]);
    try {
      const call = (path: string, init: RequestInit = {}) => fetch(server.url + path, { ...init, headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json", ...(init.headers ?? {}) } });
      const reward = (spec: unknown, completion: string) => call("/v1/reward", { method: "POST", body: JSON.stringify({ spec, samples: [{ completion }] }) });
      // A first reward request starts the compute thread (within the compute timeout).
      const warm = await reward({ type: "regex", pattern: "^a$" }, "a");
      expect(warm.status, await warm.clone().text()).toBe(200);
      expect(((await warm.json()) as { results: { score: number }[] }).results.map((x) => x.score)).toEqual([1]);
      // The heavy requests, all at once, none awaited yet.
      const bootstrap = call("/v1/leaderboard?bootstrap=2000");
      const exportJob = call("/v1/exports", { method: "POST", body: JSON.stringify({ format: "rlxf" }) });
      const streamed = call("/v1/export?format=rlxf").then((r) => r.text());
      const regex = reward({ type: "regex", pattern: "^(a+)+$" }, `${"a".repeat(32)}!`);
      const slow = () => reward(SLEEPER, "import time\ntime.sleep(60)\n");
      // Once the regular expression is answered, three sleepers at once: one takes the thread, one waits in the
      // queue, and the queue being full, the third is refused.
      const sleeping = regex.then(() => Promise.all([0, 1, 2].map(() => slow())));

      const latencies: number[] = [];
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        const r = await fetch(`${server.url}/v1/health`, { signal: AbortSignal.timeout(10_000) });
        expect(r.status, await r.clone().text()).toBe(200);
        await r.text();
        latencies.push(performance.now() - t0);
        await new Promise((res) => setTimeout(res, 200));
      }
      expect(Math.max(...latencies), latencies.map((l) => l.toFixed(0)).join(" ")).toBeLessThan(5_000);

      // The heavy requests ended as they should: a job for the bootstrap, a job for the export, the stream
      // complete, and the regex answered (with the server still fine).
      const b = await bootstrap;
      expect(b.status, await b.clone().text()).toBe(202);
      const e = await exportJob;
      expect(e.status, await e.clone().text()).toBe(202);
      expect((await streamed).trim().split("\n").length).toBe(items.length + generations.length + feedback.length);
      const r = await regex;
      expect(r.status, await r.clone().text()).toBe(200);
      expect(((await r.json()) as { results: { score: number }[] }).results.map((x) => x.score)).toEqual([0]);

      // A sleeper is stopped at the server's limit (503 timed_out), and so is the one that waited for the thread;
      // the reward endpoints' queue is bounded: with one thread busy and one request waiting, the next is refused
      // at once with 503 and Retry-After, and the server stays up.
      const many = await sleeping;
      const bodies = await Promise.all(many.map((m) => m.clone().text()));
      const codes = await Promise.all(many.map(async (m) => [m.status, ((await m.json()) as { error?: { code: string } }).error?.code, m.headers.get("retry-after")]));
      expect(codes.filter(([, code]) => code === "busy"), JSON.stringify(codes)).toEqual([[503, "busy", "1"]]);
      expect(codes.filter(([status, code]) => status === 503 && code === "timed_out"), bodies.join("\n")).toHaveLength(2);
      expect((await fetch(`${server.url}/v1/health`)).status).toBe(200);
    } finally {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
  }, 180_000);
});
