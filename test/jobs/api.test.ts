/**
 * Jobs over HTTP and through the TypeScript client, on SQLite and PostgreSQL: submit, follow, cancel and
 * retry; who may do what; units and files; exports and big leaderboards as jobs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Rlxf } from "../../src/client/index.js";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { createApp, listen } from "../../src/server/index.js";
import { type Store, openStore } from "../../src/store/index.js";
import { postgresForFile } from "../support/postgres.js";

const pg = postgresForFile("jobs-api");
const dir = mkdtempSync(join(tmpdir(), "rlxf-jobs-api-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = (n: number, tag = "") => Array.from({ length: n }, (_, i) => ({ instruction: `q${tag} ${i}`, output_1: `short ${i}`, output_2: `a longer one ${i}` }));

const engines: [string, () => Promise<Store>, boolean][] = [
  ["sqlite", () => openStore({ path: join(dir, `${Math.random().toString(36).slice(2)}.db`) }), false],
  ["postgres", async () => openStore({ url: await pg.fresh() }), !pg.available],
];

for (const [name, open, skip] of engines) {
  describe.skipIf(skip)(`jobs API and client: ${name}`, () => {
    const cleanup: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
    });

    async function setup() {
      const store = await open();
      const app = createApp({ store, log: () => {} });
      const running = await listen(app, { port: 0 });
      const server: FakeServer = await startFakeModelServer({ respond: () => "M" });
      const admin = (await store.keys.create({ project: "p", role: "admin", name: "admin" })).secret;
      cleanup.push(() => store.close(), () => running.close(), () => server.close());
      const client = (key: string) => new Rlxf({ url: running.url, key, retries: 0 });
      const http = async (method: string, path: string, body?: unknown, key = admin) => {
        const res = await fetch(running.url + path, { method, headers: { Authorization: `Bearer ${key}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        const text = await res.text();
        let parsed: any = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // a file
        }
        return { status: res.status, body: parsed, headers: res.headers, text };
      };
      return { store, server, admin, client, http, url: running.url };
    }

    it("submits a job (202), follows it to the end, and pages through its units", async () => {
      const { server, admin, client, http } = await setup();
      const r = await http("POST", "/v1/jobs", { kind: "judge", input: { judge: "pairwise", rows: rows(12), order: "fixed", chunkSize: 5, model: { baseUrl: server.baseUrl, model: "fake" } } });
      expect(r.status, r.text).toBe(202);
      expect(r.headers.get("location")).toBe(`/v1/jobs/${r.body.job.id}`);
      expect(r.body.job).toMatchObject({ kind: "judge", state: "queued", progress: { done: 0, total: 12, failed: 0 }, tasks: { total: 3 } });
      const rlxf = client(admin);
      const seen: number[] = [];
      const done = await rlxf.waitForJob(r.body.job.id, { intervalMs: 50, timeoutMs: 30_000, onProgress: (j) => seen.push(j.progress.done) });
      expect(done).toMatchObject({ state: "succeeded", progress: { done: 12, total: 12, failed: 0 }, result: { outcomes: { second: 12 } }, failures: [], unitFailures: [] });
      expect(seen.every((d, i) => i === 0 || d >= seen[i - 1]!)).toBe(true);
      const page1 = await rlxf.jobUnits(done.id, { limit: 10 });
      expect(page1.units.map((u) => u.unit)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(page1.next).toBe(9);
      const page2 = await rlxf.jobUnits(done.id, { after: page1.next! });
      expect(page2.units.map((u) => [u.unit, u.outcome])).toEqual([[10, "second"], [11, "second"]]);
      expect(page2.next).toBeUndefined();
      // Every unit points at the feedback record it stored.
      const fb = await rlxf.listFeedback({ limit: 100 });
      expect(new Set(fb.records.map((f) => f.id))).toEqual(new Set([...page1.units, ...page2.units].map((u) => u.recordId)));
      expect((await rlxf.jobs({ kind: "judge" })).jobs.map((j) => j.id)).toEqual([done.id]);
      expect((await http("GET", "/v1/jobs?state=running")).body.jobs).toEqual([]);
    });

    it("cancels a running job through the API and retries it through the client", async () => {
      const { store, server, admin, client, http } = await setup();
      let slow = true;
      server.latencyMs = (q) => (slow && q.index >= 3 ? 500 : 0);
      const rlxf = client(admin);
      const job = await rlxf.submitJob("judge", { judge: "pairwise", rows: rows(30), order: "fixed", chunkSize: 10, concurrency: 1, model: { baseUrl: server.baseUrl, model: "fake", concurrency: 1, cache: false } });
      await rlxf.waitForJob(job.id, { intervalMs: 50, timeoutMs: 1 }).catch(() => undefined);
      for (let i = 0; i < 200 && ((await store.jobs.get(job.id))!.progress.done < 2); i++) await new Promise((res) => setTimeout(res, 50));
      const c = await http("POST", `/v1/jobs/${job.id}/cancel`);
      expect(c.status).toBe(200);
      expect(c.body.job.cancelRequested).toBe(true);
      const cancelled = await rlxf.waitForJob(job.id, { intervalMs: 50, timeoutMs: 30_000 });
      expect(cancelled.state).toBe("cancelled");
      expect(cancelled.progress.done).toBeLessThan(30);
      expect(cancelled.retries).toBe(0);
      expect((await http("POST", `/v1/jobs/${job.id}/cancel`)).body.job.state).toBe("cancelled");
      slow = false;
      const again = await rlxf.retryJob(job.id);
      expect(again.state).toBe("queued");
      expect(again.progress.done).toBe(cancelled.progress.done);
      const done = await rlxf.waitForJob(job.id, { intervalMs: 50, timeoutMs: 30_000 });
      expect(done).toMatchObject({ state: "succeeded", progress: { done: 30, failed: 0 } });
      expect((await store.counts("p")).feedback).toBe(30);
      // Nothing left to retry: a conflict.
      expect((await http("POST", `/v1/jobs/${job.id}/retry`)).status).toBe(409);
    });

    it("keeps failed units with their errors and runs only those again", async () => {
      const { server, admin, client } = await setup();
      let broken = true;
      server.respond = (q) => (broken && /bad/.test(q.prompt) ? "I cannot decide." : "m");
      const rlxf = client(admin);
      const input = [...rows(4), ...rows(2, "bad")];
      const job = await rlxf.submitJob("judge", { judge: "pairwise", rows: input, order: "fixed", model: { baseUrl: server.baseUrl, model: "fake" } });
      const first = await rlxf.waitForJob(job.id, { intervalMs: 50, timeoutMs: 30_000 });
      expect(first).toMatchObject({ state: "succeeded", progress: { done: 6, failed: 2 } });
      expect(first.unitFailures.map((u) => u.unit)).toEqual([4, 5]);
      expect(first.unitFailures[0]!.error).toMatch(/pars|verdict|answer/i);
      broken = false;
      await rlxf.retryJob(job.id);
      const second = await rlxf.waitForJob(job.id, { intervalMs: 50, timeoutMs: 30_000 });
      expect(second).toMatchObject({ state: "succeeded", progress: { done: 6, failed: 0 }, unitFailures: [] });
      expect(second.result).toEqual({ outcomes: { first: 6 } });
    });

    it("lets roles submit only their kinds, and keys see only their project (ingest keys: their own jobs)", async () => {
      const { store, server, admin, http } = await setup();
      const read = (await store.keys.create({ project: "p", role: "read" })).secret;
      const ingest = (await store.keys.create({ project: "p", role: "ingest" })).secret;
      const other = (await store.keys.create({ project: "q", role: "admin" })).secret;
      const annotate = (await store.keys.create({ project: "p", role: "annotate", name: "ann" })).secret;
      const judge = { kind: "judge", input: { judge: "pairwise", rows: rows(1), model: { baseUrl: server.baseUrl, model: "fake" } } };
      expect((await http("POST", "/v1/jobs", judge, read)).status).toBe(403);
      expect((await http("POST", "/v1/jobs", judge, annotate)).status).toBe(403);
      const mine = await http("POST", "/v1/jobs", { kind: "verify", input: { verifier: "exact", samples: [{ completion: "4", reference: "4" }, { completion: "5", reference: "4" }] } }, ingest);
      expect(mine.status, mine.text).toBe(202);
      const theirs = await http("POST", "/v1/jobs", judge, admin);
      expect((await http("GET", "/v1/jobs", undefined, ingest)).body.jobs.map((j: { id: string }) => j.id)).toEqual([mine.body.job.id]);
      expect((await http("GET", `/v1/jobs/${theirs.body.job.id}`, undefined, ingest)).status).toBe(404);
      expect((await http("GET", `/v1/jobs/${theirs.body.job.id}`, undefined, other)).status).toBe(404);
      expect((await http("POST", `/v1/jobs/${theirs.body.job.id}/cancel`, undefined, read)).status).toBe(403);
      expect((await http("GET", "/v1/jobs", undefined, annotate)).status).toBe(403);
      // Bad input names the field; an unknown kind is refused; nothing is stored.
      const bad = await http("POST", "/v1/jobs", { kind: "judge", input: { judge: "pairwise", rows: [{ instruction: "x" }] } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.issues.map((i: { path: string }) => i.path)).toContain("input.rows.0.output_1");
      expect((await http("POST", "/v1/jobs", { kind: "mine-bitcoin", input: {} })).status).toBe(400);
      expect((await http("POST", "/v1/jobs", { kind: "lab-run", input: { paths: ["../../etc"] } })).body.error.issues[0].path).toBe("input.paths.0");
      // The verify job's scores are its units' results.
      const { body } = await http("GET", `/v1/jobs/${mine.body.job.id}`, undefined, ingest);
      for (let i = 0; i < 200 && body.job.state !== "succeeded"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        Object.assign(body, (await http("GET", `/v1/jobs/${mine.body.job.id}`, undefined, ingest)).body);
      }
      const units = (await http("GET", `/v1/jobs/${mine.body.job.id}/units`, undefined, ingest)).body.units;
      expect(units.map((u: { result: { score: number } }) => u.result.score)).toEqual([1, 0]);
    });

    it("runs exports and big leaderboards as jobs the client follows", async () => {
      const { store, admin, client, http } = await setup();
      const items = Array.from({ length: 6 }, (_, i) => ({ id: `i${i}`, project: "p", prompt: `q${i}` }));
      const generations = items.flatMap((it) => ["a", "b", "c"].map((p) => ({ id: `${it.id}-${p}`, project: "p", itemId: it.id, policy: p, output: `${p} ${it.id}` })));
      const feedback = items.flatMap((it, i) => [
        { id: `f${i}-ab`, project: "p", kind: "pairwise", targets: [`${it.id}-a`, `${it.id}-b`], source: { type: "human", id: "h" }, value: { choice: i % 3 ? "second" : "first" } },
        { id: `f${i}-bc`, project: "p", kind: "pairwise", targets: [`${it.id}-b`, `${it.id}-c`], source: { type: "human", id: "h" }, value: { choice: i % 2 ? "second" : "first" } },
      ]);
      await store.write({ items, generations, feedback });
      const rlxf = client(admin);
      const exp = await rlxf.submitJob("export", { format: "trl-preference" });
      const done = await rlxf.waitForJob(exp.id, { intervalMs: 50, timeoutMs: 30_000 });
      expect(done.result).toMatchObject({ rows: 12, file: expect.stringMatching(/^p-trl-preference-.*\.jsonl$/) });
      expect((await rlxf.jobFile(exp.id)).trim().split("\n")).toHaveLength(12);
      // Within the inline bounds a leaderboard answers at once; beyond them it is a job (202) the client waits for.
      const quick = await http("GET", "/v1/leaderboard?bootstrap=50");
      expect(quick.status).toBe(200);
      const big = await http("GET", "/v1/leaderboard?bootstrap=1000&seed=2");
      expect(big.status).toBe(202);
      expect(big.body.job.kind).toBe("leaderboard");
      const board = await rlxf.leaderboard({ bootstrap: 1000, seed: 2 } as never);
      const models = board.rows.map((r) => String(r.model));
      expect([...models].sort()).toEqual(["a", "b", "c"]);
      expect(models).toEqual(quick.body.rows.map((r: { model: string }) => r.model));
    });
  });
}
