/**
 * Fuzzing the API: thousands of random, mutated and byte-damaged requests.
 * Whatever arrives, the answer is never a 5xx, always the one error shape
 * when refused, and a refused request stores nothing.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng, type Rng } from "../../src/eval/index.js";
import { createApp, listen, type RunningServer } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { type Reply, caller, expectErrorShape, gen, item, itemsAndGenerations, keyOf, pairwise, rating } from "./helpers.js";

const SEED = Number(process.env.RLXF_FUZZ_SEED ?? 20261125);

// ------------------------------------------------------------ generators ---

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[r.int(xs.length)] as T;

const WEIRD_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "😀",
  "x".repeat(513),
  "x".repeat(5000),
  "../../etc/passwd",
  "'; drop table feedback; --",
  "%00",
  "__proto__",
  "constructor",
  "p",
  "demo",
  "other",
  "2026-01-01T00:00:00Z",
  "not-a-date",
  "\n\r\t",
];

function randomJson(r: Rng, depth = 0): unknown {
  const k = r.int(depth > 3 ? 6 : 9);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r.bernoulli(0.5);
    case 2:
      return pick(r, [0, -0, 1, -1, 0.5, 1e308, -1e308, 5e-324, 2 ** 53 + 1, 3, 7, 1.5]);
    case 3:
    case 4:
      return pick(r, WEIRD_STRINGS);
    case 5:
      return r.int(1000);
    case 6:
      return Array.from({ length: r.int(4) }, () => randomJson(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(4); i > 0; i--) o[pick(r, ["id", "kind", "value", "targets", "source", "x", "batch", "project", "prompt", "metadata"])] = randomJson(r, depth + 1);
      return o;
    }
  }
}

const ID_POOL = ["f1", "f2", "f3", "i0", "i1", "x", "i0-a", "i0-b", "i1-a", "g-new", "it-new"];

/** Mostly fresh ids (accepted writes), sometimes a shared one (replays and conflicts). */
const someId = (r: Rng) => (r.bernoulli(0.3) ? pick(r, ID_POOL) : `n${r.int(1_000_000)}`);

function validFeedback(r: Rng): Record<string, unknown> {
  const id = someId(r);
  const i = r.int(3);
  switch (r.int(6)) {
    case 0:
      return pairwise(id, [`i${i}-a`, `i${i}-b`], pick(r, ["first", "second", "tie"]));
    case 1:
      return rating(id, `i${i}-a`, 1 + r.int(5));
    case 2:
      return { id, kind: "binary", targets: [`i${i}-b`], source: { type: "user", id: "u" }, value: { ok: r.bernoulli(0.5) } };
    case 3:
      return { id, kind: "ranking", targets: [`i${i}-a`, `i${i}-b`], source: { type: "judge", id: "j" }, value: { ranks: [1, 2] } };
    case 4:
      return { id, kind: "spans", targets: [`i${i}-a`], source: { type: "human", id: "h" }, value: { spans: [{ start: 0, end: 1 + r.int(20), label: "l" }] } };
    default:
      return { id, kind: "critique", targets: [`i${i}-a`], source: { type: "critic", id: "c" }, value: { text: "t", verdict: "pass" } };
  }
}

function validRecord(r: Rng, kind: "items" | "generations" | "feedback"): Record<string, unknown> {
  if (kind === "items") return item(someId(r), r.bernoulli(0.3) ? { dataset: "d", metadata: { n: r.int(3) } } : {});
  if (kind === "generations") return gen(someId(r), `i${r.int(4)}`, pick(r, ["a", "b"]));
  return validFeedback(r);
}

/** Change one thing somewhere in `v`: drop, retype, add, or replace a field (recursively). */
function mutate(r: Rng, v: unknown, depth = 0): unknown {
  if (v === null || typeof v !== "object" || (depth > 0 && r.bernoulli(0.25))) return randomJson(r);
  if (Array.isArray(v)) {
    const out = [...v];
    const op = r.int(4);
    if (op === 0 || out.length === 0) out.push(randomJson(r));
    else if (op === 1) out.splice(r.int(out.length), 1);
    else {
      const i = r.int(out.length);
      out[i] = mutate(r, out[i], depth + 1);
    }
    return out;
  }
  const o = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(o);
  const op = r.int(5);
  if (op === 0 && keys.length) delete o[pick(r, keys)];
  else if (op === 1) o[pick(r, ["extra", "project", "createdAt", "itemId", "metadata", "id"])] = randomJson(r);
  else if (keys.length) {
    const k = pick(r, keys);
    o[k] = mutate(r, o[k], depth + 1);
  }
  return o;
}

function payload(r: Rng, kind: "items" | "generations" | "feedback"): unknown {
  const mode = r.int(10);
  if (mode === 0) return randomJson(r);
  if (mode <= 3) return { batch: Array.from({ length: 1 + r.int(6) }, () => (r.bernoulli(0.7) ? validRecord(r, kind) : mutate(r, validRecord(r, kind)))) };
  if (mode <= 5) return validRecord(r, kind);
  return mutate(r, r.bernoulli(0.5) ? validRecord(r, kind) : { batch: [validRecord(r, kind), validRecord(r, kind)] });
}

/** Damage the bytes of a serialized payload. */
function damage(r: Rng, text: string): string {
  const at = r.int(text.length + 1);
  switch (r.int(6)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + String.fromCharCode(r.int(256)) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + pick(r, ['"', "{", "}", "[", "]", ",", ":", "\\", "\\u", "\u0000", "NaN", "Infinity", "1e999999", "-"]) + text.slice(at);
    case 3:
      return text + text;
    case 4:
      return "\ufeff" + text;
    default:
      return text.replace(/"/g, r.bernoulli(0.5) ? "'" : "");
  }
}

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json;charset=UTF-8",
  "application/merge-patch+json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "",
  "json",
];

/** Percent-encode, writing a lone surrogate as the (invalid UTF-8) bytes ED A0 80. */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.split(/([\ud800-\udfff])/).map((p) => (/^[\ud800-\udfff]$/.test(p) ? "%ED%A0%80" : encodeURIComponent(p))).join("");
  }
}

function randomGetPath(r: Rng): string {
  const base = pick(r, ["/v1/items", "/v1/generations", "/v1/feedback", "/v1/leaderboard", "/v1/export", "/v1/assignments", "/v1/keys", "/v1/me", "/v1/nope", "/v1"]);
  if (r.bernoulli(0.3) && ["/v1/items", "/v1/generations", "/v1/feedback", "/v1/keys"].includes(base)) {
    const raw = pick(r, [...ID_POOL, ...WEIRD_STRINGS]);
    const encoded = r.bernoulli(0.8) ? enc(raw) : pick(r, ["%", "%zz", "%E0%A4%A", "%C0%AF", "a/b/c", "..", "%2e%2e"]);
    return `${base}/${encoded || "x"}`;
  }
  const params = ["kind", "sourceType", "sourceId", "itemId", "generationId", "policy", "since", "until", "limit", "cursor", "format", "method", "bootstrap", "seed", "dataset", "annotator", "__proto__", "constructor", "x"];
  const values = ["pairwise", "rating,binary", "judge", "0", "1", "1000", "1001", "-1", "abc", "2026-01-01", "1700000000000", "eyJ4IjoxfQ", "rlxf", "trl-preference", "bt", "alpaca-eval", "5", "%", "", ...WEIRD_STRINGS.slice(0, 8)];
  const q = Array.from({ length: r.int(4) }, () => `${pick(r, params)}=${enc(pick(r, values))}`);
  return q.length ? `${base}?${q.join("&")}` : base;
}

// ---------------------------------------------------------------- tests ---

describe("fuzz", () => {
  let store: Store;
  let errors: string[];
  let adminKey: string;
  let annotateKey: string;

  beforeAll(async () => {
    store = await openStore({ path: ":memory:" });
    const { items, generations } = itemsAndGenerations(3);
    await store.write({ items: items.map((i) => ({ ...i, project: "p" })), generations: generations.map((g) => ({ ...g, project: "p" })) });
    await store.write({ items: [item("secret-item", { project: "other" })] });
    adminKey = await keyOf(store, "p", "admin");
    annotateKey = await keyOf(store, "p", "annotate", "ann");
    await store.assignments.add("p", "ann", ["i0"]);
    errors = [];
  });
  afterAll(async () => {
    await store.close();
  });

  const counts = async () => {
    const c = await store.counts("p");
    const o = await store.counts("other");
    return [c.items, c.generations, c.feedback, o.items, o.generations, o.feedback];
  };

  const check = (r: Reply, what: string) => {
    expect(r.status, `${what} → ${r.text.slice(0, 300)}`).toBeLessThan(500);
    if (r.status >= 400) expectErrorShape(r, r.status);
  };

  it("answers 3,000 random and mutated requests without a 5xx; refused writes store nothing", async () => {
    const r = createRng(SEED);
    const app = createApp({ store, log: (l) => errors.push(l), maxBodyBytes: 64 * 1024, maxBatch: 50 });
    const callers = [caller(app, adminKey), caller(app, annotateKey), caller(app, await keyOf(store, "p", "ingest")), caller(app, await keyOf(store, "p", "read"))];
    let accepted = 0;
    let refused = 0;
    for (let n = 0; n < 3000; n++) {
      const api = n % 5 === 4 ? pick(r, callers) : callers[0]!;
      const kind = pick(r, ["items", "generations", "feedback", "feedback"] as const);
      const mode = r.int(10);
      if (mode === 0) {
        const path = randomGetPath(r);
        check(await api("GET", path), `GET ${path}`);
        continue;
      }
      let body = JSON.stringify(payload(r, kind));
      if (mode === 1) body = damage(r, body);
      if (mode === 2 && r.bernoulli(0.3)) body = `{"batch":[${Array.from({ length: 60 }, () => JSON.stringify(validRecord(r, kind))).join(",")}]}`;
      if (mode === 3 && r.bernoulli(0.3)) body = `{"id":"big","prompt":"${"x".repeat(70 * 1024)}"}`;
      const headers: Record<string, string> = {};
      if (mode === 4) headers["Content-Type"] = pick(r, CONTENT_TYPES);
      const method = mode === 5 && r.bernoulli(0.2) ? pick(r, ["PUT", "PATCH", "DELETE"]) : "POST";
      const before = await counts();
      const res = await api(method, `/v1/${kind}`, body, headers);
      check(res, `${method} /v1/${kind} ${body.slice(0, 200)}`);
      if (res.status >= 400) {
        refused++;
        expect(await counts(), `refused (${res.status}) but something was stored: ${body.slice(0, 200)}`).toEqual(before);
      } else {
        accepted++;
        const after = await counts();
        const grew = after.reduce((s, x, i) => s + x - before[i]!, 0);
        expect(grew).toBe(res.body.inserted);
      }
    }
    // The fuzzer exercised both sides.
    expect(accepted).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(1000);
    expect(errors).toEqual([]);
    // Nothing reached the other project.
    expect(await store.counts("other")).toMatchObject({ items: 1, generations: 0, feedback: 0 });
  });

  describe("over a socket", () => {
    let running: RunningServer;
    beforeAll(async () => {
      running = await listen(createApp({ store, log: (l) => errors.push(l), maxBodyBytes: 64 * 1024 }), { port: 0, log: (l) => errors.push(l) });
    });
    afterAll(async () => {
      await running.close();
    });

    /** Send raw bytes, read what comes back (until close or 2 s). */
    const raw = (bytes: string | Buffer) =>
      new Promise<string>((resolve) => {
        const s = connect(running.port, "127.0.0.1");
        const chunks: Buffer[] = [];
        const done = () => {
          clearTimeout(t);
          s.destroy();
          resolve(Buffer.concat(chunks).toString("latin1"));
        };
        const t = setTimeout(done, 2000);
        s.on("data", (d) => {
          chunks.push(d);
          if (/\r\n\r\n/.test(Buffer.concat(chunks).toString("latin1")) && /HTTP\/1\.1 \d{3}/.test(chunks[0]!.toString("latin1"))) {
            const text = Buffer.concat(chunks).toString("latin1");
            const len = /content-length: (\d+)/i.exec(text)?.[1];
            const head = text.indexOf("\r\n\r\n") + 4;
            if (len !== undefined && Buffer.byteLength(text.slice(head), "latin1") >= Number(len)) done();
          }
        });
        s.on("error", done);
        s.on("close", done);
        s.write(bytes);
        s.end();
      });

    it("survives malformed HTTP and lying headers without a 5xx, and keeps serving", async () => {
      const r = createRng(SEED + 1);
      const auth = `Authorization: Bearer ${adminKey}\r\n`;
      const body = JSON.stringify({ batch: [rating("sock-1", "i0-a", 3)] });
      const cases: string[] = [
        "GARBAGE\r\n\r\n",
        "POST /v1/feedback HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nContent-Length: 5\r\n\r\n" + body,
        "POST /v1/feedback HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nContent-Length: 99999\r\n\r\n" + body,
        "POST /v1/feedback HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        "POST /v1/feedback HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{}",
        "POST /v1/feedback HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + `${(70 * 1024).toString(16)}\r\n${"x".repeat(70 * 1024)}\r\n0\r\n\r\n`,
        "GET /v1/items/%ZZ HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
        "GET /v1/items?" + "a=1&".repeat(2000) + " HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
        "GET /v1/items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + "k".repeat(10000) + "\r\n\r\n",
        "GET /v1/items HTTP/1.1\r\nHost: x\r\nX: " + "h".repeat(20000) + "\r\n\r\n",
      ];
      for (let i = 0; i < 40; i++) {
        const req = pick(r, cases);
        cases.push(damage(r, req));
      }
      const before = await counts();
      for (const req of cases) {
        const reply = await raw(req);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1];
        if (status) expect(Number(status), `${JSON.stringify(req.slice(0, 120))} → ${reply.slice(0, 200)}`).toBeLessThan(500);
      }
      // Truncated bodies stored nothing; the server still answers.
      expect(await counts()).toEqual(before);
      const health = await fetch(`${running.url}/v1/health`);
      expect(health.status).toBe(200);
      expect(errors).toEqual([]);
    });
  });
});
