/**
 * The TypeScript client against a real listening server: typed calls for every
 * endpoint, automatic batching, retries (network errors, lost responses, 5xx,
 * 429), records refused one by one, flush on exit; and a whole batch replayed
 * after a dropped connection storing no duplicates.
 */
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { Rlxf, RlxfApiError, type NewFeedback } from "../../src/client/index.js";
import { ValidationError } from "../../src/errors.js";
import { exportToString, memorySource } from "../../src/io/index.js";
import { createApp, listen, type RunningServer } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { ROOT, itemsAndGenerations, keyOf, rating, requireBuiltCli } from "./helpers.js";

let store: Store;
let running: RunningServer;
let admin: string;
let project = 0;
const errors: string[] = [];

beforeAll(async () => {
  store = await openStore({ path: ":memory:" });
  running = await listen(createApp({ store, log: (l) => errors.push(l) }), { port: 0 });
});
afterAll(async () => {
  await running.close();
  await store.close();
  expect(errors).toEqual([]);
});

/** A fresh project with items i0..i9 and generations <i>-a, <i>-b; `admin` is its admin key. */
beforeEach(async () => {
  const p = `c${++project}`;
  admin = await keyOf(store, p, "admin");
  const { items, generations } = itemsAndGenerations(10);
  await store.write({ items: items.map((x) => ({ ...x, project: p })), generations: generations.map((x) => ({ ...x, project: p })) });
});

const projectName = () => `c${project}`;
const fb = (id: string, i = 0): NewFeedback => rating(id, `i${i % 10}-a`, 1 + (i % 5)) as NewFeedback;

/** A fetch that counts calls and lets a test interfere with the n-th one. */
function fetchSpy(interfere?: (n: number, url: string, init?: RequestInit) => Promise<Response> | Response | undefined) {
  const calls: { method: string; url: string }[] = [];
  const f = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    calls.push({ method: init?.method ?? "GET", url });
    const r = interfere?.(calls.length, url, init);
    if (r) return r;
    return fetch(input, init);
  }) as typeof fetch;
  return { f, calls };
}

describe("client", () => {
  it("covers every endpoint with typed methods", async () => {
    const rlxf = new Rlxf({ url: running.url, key: admin, flushOnExit: false });
    expect(await rlxf.health()).toMatchObject({ status: "ok" });
    expect(await rlxf.me()).toMatchObject({ project: projectName(), role: "admin" });
    expect((await rlxf.openapi()).openapi).toBe("3.1.0");

    expect((await rlxf.createItems({ id: "x/1", prompt: "hello" })).results).toEqual([{ id: "x/1", status: "inserted" }]);
    const g = await rlxf.createGenerations([
      { id: "x/1/a", itemId: "x/1", policy: "a", output: "A" },
      { itemId: "x/1", policy: "b", output: "B" },
    ]);
    const genB = g.results[1]!.id;
    expect(genB).toMatch(/^[0-9a-f-]{36}$/);
    const w = await rlxf.createFeedback({ id: "pw", kind: "pairwise", targets: ["x/1/a", genB], source: { type: "human", id: "h" }, value: { choice: "second" } });
    expect(w).toMatchObject({ inserted: 1, existing: 0 });

    expect(await rlxf.getItem("x/1")).toMatchObject({ id: "x/1", prompt: "hello", project: projectName() });
    expect(await rlxf.getItem("nope")).toBeUndefined();
    expect(await rlxf.getGeneration("x/1/a")).toMatchObject({ policy: "a" });
    expect(await rlxf.getFeedback("pw")).toMatchObject({ kind: "pairwise", itemId: "x/1" });

    const page = await rlxf.listItems({ limit: 4 });
    expect(page.records).toHaveLength(4);
    expect(page.nextCursor).toBeDefined();
    const all = [];
    for await (const it of rlxf.iterateItems({ limit: 3 })) all.push(it.id);
    expect(all).toHaveLength(11);
    expect((await rlxf.listGenerations({ itemId: "x/1", policy: "b" })).records.map((x) => x.id)).toEqual([genB]);
    const kinds = [];
    for await (const f of rlxf.iterateFeedback({ kind: ["pairwise", "rating"], since: new Date(0) })) kinds.push(f.kind);
    expect(kinds).toEqual(["pairwise"]);

    expect((await rlxf.leaderboard({ bootstrap: 10 })).rows.map((r) => r.model)).toEqual(["b", "a"]);
    const lines = [];
    for await (const line of rlxf.export("rlxf")) lines.push(line);
    const items = [];
    const generations = [];
    const feedback = [];
    for await (const x of store.iterateItems({ project: projectName() })) items.push(x);
    for await (const x of store.iterateGenerations({ project: projectName() })) generations.push(x);
    for await (const x of store.iterateFeedback({ project: projectName() })) feedback.push(x);
    expect(lines.join("\n") + "\n").toBe(await exportToString("rlxf", memorySource({ items, generations, feedback })));

    const k = await rlxf.createKey({ role: "annotate", name: "ann" });
    expect(k.secret).toMatch(/^rlxf_/);
    expect((await rlxf.listKeys()).map((x) => x.name)).toContain("ann");
    expect(await rlxf.assign("ann", ["x/1", "i0"])).toEqual({ inserted: 2, existing: 0 });
    const ann = new Rlxf({ url: running.url, key: k.secret, flushOnExit: false });
    const mine = [];
    for await (const a of ann.iterateAssignments({ limit: 1 })) mine.push(a.itemId);
    expect(mine).toEqual(["i0", "x/1"]);
    // Annotate keys may leave out the source.
    expect((await ann.createFeedback({ kind: "binary", targets: ["x/1/a"], value: { ok: true } })).inserted).toBe(1);
    expect(await rlxf.unassign("ann", ["i0"])).toEqual({ removed: 1 });
    expect((await rlxf.revokeKey(k.key.id)).revokedAt).toBeDefined();
    const refused = await ann.me().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RlxfApiError);
    expect(refused).toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("scores rewards and saves, lists, pins and deletes reward specs", async () => {
    const c = new Rlxf({ url: running.url, key: admin });
    const sample = { completion: "Yes", reference: "yes" };
    expect((await c.reward([sample], { spec: "exact" })).results[0]!.score).toBe(0);
    const v1 = await c.saveRewardSpec("ans", "exact", "strict");
    const v2 = await c.saveRewardSpec("ans", { type: "normalized" });
    expect([v1.version, v2.version, v1.description]).toEqual([1, 2, "strict"]);
    expect((await c.reward([sample], { spec: "ans" })).results[0]!.score).toBe(1);
    expect((await c.reward([{ ...sample, spec: "ans@1" }])).results[0]!.score).toBe(0);
    expect((await c.rewardSpecs()).map((x) => `${x.name}@${x.version}`)).toEqual(["ans@2"]);
    expect((await c.rewardSpec("ans"))?.versions).toEqual([2, 1]);
    expect((await c.rewardSpec("ans", 1))?.spec).toBe("exact");
    expect(await c.rewardSpec("none")).toBeUndefined();
    expect(await c.deleteRewardSpec("ans", 2)).toBe(1);
    expect(await c.deleteRewardSpec("ans")).toBe(1);
    const e = await c.reward([sample], { spec: "ans" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RlxfApiError);
    expect((e as RlxfApiError).status).toBe(400);
    await c.close();
  });

  it("batches feedback() calls: 1,050 records go out in 500-record requests", async () => {
    const spy = fetchSpy();
    const rlxf = new Rlxf({ url: running.url, key: admin, fetch: spy.f, batchSize: 500, flushIntervalMs: 60_000, flushOnExit: false });
    const ids = Array.from({ length: 1050 }, (_, i) => rlxf.feedback(fb(`b${i}`, i)));
    expect(ids[0]).toBe("b0");
    expect(rlxf.feedback({ ...fb("", 1), id: undefined } as NewFeedback)).toMatch(/^[0-9a-f-]{36}$/);
    await rlxf.close();
    expect(rlxf.stats).toEqual({ inserted: 1051, existing: 0, failed: 0, pending: 0 });
    expect(spy.calls.filter((c) => c.method === "POST")).toHaveLength(3);
    expect((await store.counts(projectName())).feedback).toBe(1051);
    expect(() => rlxf.feedback(fb("late"))).toThrow(/closed/);
  });

  it("sends a partial batch once the flush interval passes", async () => {
    const rlxf = new Rlxf({ url: running.url, key: admin, flushIntervalMs: 20, flushOnExit: false });
    rlxf.feedback(fb("t1"));
    rlxf.feedback(fb("t2", 1));
    await vi.waitFor(() => expect(rlxf.stats).toMatchObject({ inserted: 2, pending: 0 }), { timeout: 10_000, interval: 20 });
    await rlxf.close();
  });

  it("checks records before queueing them", () => {
    const rlxf = new Rlxf({ url: running.url, key: admin, flushOnExit: false });
    expect(() => rlxf.feedback({ kind: "rating", targets: ["i0-a"], source: { type: "judge", id: "j" }, value: { score: 9, scale: { min: 1, max: 5 } } } as NewFeedback)).toThrow(ValidationError);
    expect(rlxf.stats.pending).toBe(0);
  });

  it("retries network errors, 5xx and 429, and a lost response stores nothing twice", async () => {
    let lost = false;
    const spy = fetchSpy((n, _url, init) => {
      if (n === 1) return Promise.reject(new TypeError("fetch failed"));
      if (n === 2) return new Response(JSON.stringify({ error: { code: "unavailable", message: "x" } }), { status: 503 });
      if (n === 3) return new Response("{}", { status: 429, headers: { "Retry-After": "0" } });
      if (n === 4) {
        // The server stores the batch, but the answer never arrives.
        lost = true;
        return fetch(`${running.url}/v1/feedback`, init).then(() => Promise.reject(new TypeError("socket hang up")));
      }
      return undefined;
    });
    const rlxf = new Rlxf({ url: running.url, key: admin, fetch: spy.f, backoffMs: 1, flushOnExit: false });
    for (let i = 0; i < 20; i++) rlxf.feedback(fb(`r${i}`, i));
    await rlxf.flush();
    expect(lost).toBe(true);
    expect(spy.calls).toHaveLength(5);
    expect(rlxf.stats).toEqual({ inserted: 0, existing: 20, failed: 0, pending: 0 });
    expect((await store.counts(projectName())).feedback).toBe(20);
  });

  it("gives up after its retries, handing the records to onError", async () => {
    const failed: { code: string; n: number }[] = [];
    const spy = fetchSpy(() => Promise.reject(new TypeError("ECONNREFUSED")));
    const rlxf = new Rlxf({ url: running.url, key: admin, fetch: spy.f, retries: 2, backoffMs: 1, flushOnExit: false, onError: (e, recs) => failed.push({ code: e.code, n: recs.length }) });
    rlxf.feedback(fb("g1"));
    await rlxf.flush();
    expect(failed).toEqual([{ code: "network_error", n: 1 }]);
    expect(spy.calls).toHaveLength(3);
    const direct = await rlxf.createItems({ prompt: "x" }).catch((e: unknown) => e);
    expect(direct).toMatchObject({ status: 0, code: "network_error" });
  });

  it("sets aside the records the server refuses and stores the rest", async () => {
    const refused: { code: string; ids: string[] }[] = [];
    const rlxf = new Rlxf({ url: running.url, key: admin, flushOnExit: false, onError: (e, recs) => refused.push({ code: e.code, ids: recs.map((r) => r.id as string) }) });
    for (let i = 0; i < 10; i++) rlxf.feedback(i === 3 || i === 7 ? rating(`s${i}`, "no-such-generation", 3) as NewFeedback : fb(`s${i}`, i));
    rlxf.feedback(fb("s2", 4)); // same id as s2 with another body: a conflict
    await rlxf.flush();
    expect(refused).toEqual([
      { code: "missing_reference", ids: ["s3"] },
      { code: "missing_reference", ids: ["s7"] },
      { code: "conflict", ids: ["s2"] },
    ]);
    expect(rlxf.stats).toMatchObject({ inserted: 8, failed: 3, pending: 0 });
    expect((await store.counts(projectName())).feedback).toBe(8);
  });

  it("flushes queued feedback before the process exits (import from rlxf/client)", async () => {
    requireBuiltCli();
    const script = `
      import { Rlxf } from "rlxf/client";
      const rlxf = new Rlxf({ url: process.env.URL, key: process.env.KEY, flushIntervalMs: 600000 });
      for (let i = 0; i < 25; i++) rlxf.feedback({ id: "exit" + i, kind: "binary", targets: ["i1-b"], source: { type: "user", id: "u" }, value: { ok: true } });
      process.on("exit", () => console.log(JSON.stringify(rlxf.stats)));
    `;
    // Asynchronously: the server lives in this process.
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, env: { ...process.env, URL: running.url, KEY: admin }, timeout: 20_000 }, (err, out, errOut) =>
        err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
      );
    });
    expect(JSON.parse(stdout)).toEqual({ inserted: 25, existing: 0, failed: 0, pending: 0 });
    expect((await store.counts(projectName())).feedback).toBe(25);
  });
});

describe("dropped connections", () => {
  it("replaying a whole batch after the connection dropped mid-answer stores no duplicates", async () => {
    const p = projectName();
    const batch = Array.from({ length: 300 }, (_, i) => fb(`d${i}`, i));
    const body = JSON.stringify({ batch });
    // Send the request, then hang up without reading the answer.
    await new Promise<void>((resolve, reject) => {
      const s = connect(running.port, "127.0.0.1", () => {
        s.write(
          `POST /v1/feedback HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          () => {
            s.destroy();
            resolve();
          },
        );
      });
      s.on("error", reject);
    });
    // All or nothing: the batch is stored whole or not at all.
    await vi.waitFor(async () => {
      expect(running.inFlight()).toBe(0);
    });
    expect([0, 300]).toContain((await store.counts(p)).feedback);

    const rlxf = new Rlxf({ url: running.url, key: admin, flushOnExit: false });
    const again = await rlxf.createFeedback(batch);
    expect(again.results.map((r) => r.id)).toEqual(batch.map((b) => b.id));
    expect(again.inserted + again.existing).toBe(300);
    const again2 = await rlxf.createFeedback(batch);
    expect(again2).toMatchObject({ inserted: 0, existing: 300 });
    expect((await store.counts(p)).feedback).toBe(300);
  });
});
