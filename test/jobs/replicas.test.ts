/**
 * Two `rlxf serve` replicas on one PostgreSQL, and one `rlxf worker`: keys, annotation queues, saved reward
 * specs and jobs created through one replica are used through the other at once, and a round-robin proxy in
 * front of both (one port, every request to the other replica) serves a whole run of requests.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { type Store, openStore } from "../../src/store/index.js";
import { startServer } from "../server/process.js";
import { postgresForFile } from "../support/postgres.js";
import { startWorker, stopWorker } from "./workers.js";

const pg = postgresForFile("jobs-replicas");

/** An HTTP proxy on one port sending each request to the next of `upstreams` in turn. */
async function roundRobin(upstreams: string[]): Promise<{ url: string; close: () => Promise<void> }> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? "/", upstreams[next++ % upstreams.length]);
    const up = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

type Call = (method: string, path: string, body?: unknown, key?: string) => Promise<{ status: number; body: any; text: string }>;

function client(base: string, defaultKey: string): Call {
  return async (method, path, body, key = defaultKey) => {
    const res = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // a file
    }
    return { status: res.status, body: parsed, text };
  };
}

describe.skipIf(!pg.available)("two server replicas on one PostgreSQL", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });

  it("share keys, queues, saved reward specs and jobs at once", async () => {
    const url = await pg.fresh();
    const store: Store = await openStore({ url });
    closers.push(() => store.close());
    const { secret: admin } = await store.keys.create({ project: "p", role: "admin", name: "admin" });
    const env = { RLXF_DATABASE_URL: url };
    const [a, b, worker] = await Promise.all([startServer(["--no-demo", "--workers", "0"], env), startServer(["--no-demo", "--workers", "0"], env), startWorker(["--concurrency", "1", "--kinds", "export"], env)]);
    closers.push(
      async () => {
        a.proc.kill("SIGTERM");
        await a.exited;
      },
      async () => {
        b.proc.kill("SIGTERM");
        await b.exited;
      },
      () => stopWorker(worker),
    );
    const A = client(a.url, admin);
    const B = client(b.url, admin);

    // Records and a key made through A work through B.
    const items = Array.from({ length: 4 }, (_, i) => ({ id: `i${i}`, prompt: `question ${i}` }));
    expect((await A("POST", "/v1/items", { batch: items })).status).toBe(201);
    const gens = items.flatMap((it) => [
      { id: `${it.id}-a`, itemId: it.id, policy: "a", output: `answer a to ${it.id}` },
      { id: `${it.id}-b`, itemId: it.id, policy: "b", output: `a longer answer b to ${it.id}` },
    ]);
    expect((await A("POST", "/v1/generations", { batch: gens })).status).toBe(201);
    const created = await A("POST", "/v1/keys", { role: "annotate", name: "alice" });
    expect(created.status).toBe(201);
    expect((await B("GET", "/v1/me", undefined, created.body.secret)).body).toMatchObject({ role: "annotate", name: "alice", project: "p" });

    // A queue made through A hands out its tasks through B.
    const q = await A("POST", "/v1/queues", { id: "pairs", name: "Which is better?", selection: { mode: "pairs", policies: ["a", "b"] }, questions: [{ id: "pref", kind: "pairwise", prompt: "Which is better?" }] });
    expect(q.status, q.text).toBe(201);
    const next = await B("POST", "/v1/queues/pairs/next", undefined, created.body.secret);
    expect(next.status).toBe(200);
    expect(next.body.task).toMatchObject({ id: expect.any(String) });

    // A saved reward spec: B scores with v1, A saves v2, and B's very next request uses v2.
    expect((await A("POST", "/v1/reward/specs", { name: "answer", spec: "exact" })).status).toBe(201);
    const sample = { samples: [{ completion: "  PARIS ", reference: "Paris" }], spec: "answer" };
    expect((await B("POST", "/v1/reward", sample)).body.results[0]).toMatchObject({ score: 0, passed: false });
    expect((await A("POST", "/v1/reward/specs", { name: "answer", spec: "normalized" })).status).toBe(201);
    expect((await B("POST", "/v1/reward", sample)).body.results[0]).toMatchObject({ score: 1, passed: true });

    // Feedback, then an export job submitted through A, followed and downloaded through B.
    const fb = items.map((it, i) => ({ id: `f${i}`, kind: "pairwise", targets: [`${it.id}-a`, `${it.id}-b`], source: { type: "human", id: "h" }, value: { choice: i % 2 ? "first" : "second" } }));
    expect((await A("POST", "/v1/feedback", { batch: fb })).status).toBe(201);
    const sub = await A("POST", "/v1/jobs", { kind: "export", input: { format: "trl-preference" } });
    expect(sub.status, sub.text).toBe(202);
    const id = sub.body.job.id as string;
    expect((await B("GET", `/v1/jobs/${id}`)).body.job).toMatchObject({ id, kind: "export" });
    let job: any;
    for (let i = 0; i < 300; i++) {
      job = (await B("GET", `/v1/jobs/${id}`)).body.job;
      if (["succeeded", "failed", "cancelled"].includes(job.state)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(job.state).toBe("succeeded");
    const file = await B("GET", `/v1/jobs/${id}/file`);
    expect(file.status).toBe(200);
    expect(file.text.trim().split("\n")).toHaveLength(4);
    // A job submitted through B (a kind no worker here runs, so it waits) is cancelled through A and retried through B.
    const slow = await B("POST", "/v1/jobs", { kind: "leaderboard", input: { bootstrap: 200 } });
    expect((await A("POST", `/v1/jobs/${slow.body.job.id}/cancel`)).status).toBe(200);
    const cancelled = await (async () => {
      for (let i = 0; i < 300; i++) {
        const j = (await B("GET", `/v1/jobs/${slow.body.job.id}`)).body.job;
        if (j.state === "cancelled") return j;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("the job was not cancelled");
    })();
    expect(cancelled.state).toBe("cancelled");
    expect((await B("POST", `/v1/jobs/${slow.body.job.id}/retry`)).body.job.state).toBe("queued");
    expect((await A("POST", `/v1/jobs/${slow.body.job.id}/cancel`)).status).toBe(200);

    // One port in front of both: every request goes to the other replica, and the whole run of requests holds together.
    const proxy = await roundRobin([a.url, b.url]);
    closers.push(() => proxy.close());
    const P = client(proxy.url, admin);
    const k2 = await P("POST", "/v1/keys", { role: "read", name: "reader" });
    expect((await P("GET", "/v1/me", undefined, k2.body.secret)).body.role).toBe("read");
    expect((await P("POST", "/v1/reward/specs", { name: "answer", spec: "exact" })).body.version).toBe(3);
    expect((await P("POST", "/v1/reward", sample)).body.results[0].score).toBe(0);
    const listed = await P("GET", "/v1/jobs?kind=export", undefined, k2.body.secret);
    expect(listed.body.jobs.map((j: { id: string }) => j.id)).toEqual([id]);
  }, 180_000);
});
