/**
 * Fuzzing the API: thousands of random, mutated and byte-damaged requests.
 * Whatever arrives, the answer is never a 5xx, always the one error shape
 * when refused, and a refused request stores nothing.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

  // ------------------------------------------------ fields, cursors, regexes, times ---

  /** A refused request names what to fix: every 400 carries issues, each with the path of a field. */
  const namesAField = (r: Reply, what: string, field?: RegExp) => {
    if (r.status !== 400 || r.body?.error?.code === "invalid_json") return;
    const issues: { path: string; message: string }[] = r.body.error.issues ?? [];
    expect(issues.length, `${what} → 400 without a field: ${r.text.slice(0, 300)}`).toBeGreaterThan(0);
    for (const i of issues) {
      expect(i.path, `${what} → an issue without a path: ${r.text.slice(0, 300)}`).not.toBe("");
      if (field) expect(i.path, `${what} → ${r.text.slice(0, 300)}`).toMatch(field);
    }
  };

  const HOSTILE_NAMES = ["", "x".repeat(256), "x".repeat(257), "x".repeat(513), "p".repeat(70_000), "__proto__", "constructor", "toString", "a\u0000b", "\ud800", "😀".repeat(130), " ", "../x", 7, null, true, ["a"], { a: 1 }];

  /** A valid record with one resource field replaced by something hostile. */
  function hostileRecord(r: Rng): { kind: "items" | "generations" | "feedback"; body: Record<string, unknown>; field: string } {
    const name = () => pick(r, HOSTILE_NAMES);
    const i = r.int(3);
    switch (r.int(9)) {
      case 0:
        return { kind: "items", body: item(someId(r), { dataset: name() }), field: "dataset" };
      case 1:
        return { kind: "items", body: item(someId(r), { project: name() }), field: "project" };
      case 2:
        return { kind: "generations", body: { ...gen(someId(r), `i${i}`, "a"), policy: name() }, field: "policy" };
      case 3:
        return { kind: "generations", body: { ...gen(someId(r), `i${i}`, "a"), id: name() }, field: "id" };
      case 4:
        return { kind: "feedback", body: { ...rating(someId(r), `i${i}-a`, 3), source: { type: "judge", id: name() } }, field: "source" };
      case 5: {
        const n = 2 + r.int(2);
        const targets = [`i${i}-a`, `i${i}-b`].slice(0, n);
        const ranks = Array.from({ length: targets.length }, () => pick(r, [0, 1, 1, 2, 2, 3, 1000, -1, 1.5, 2 ** 53, Number.MAX_VALUE]));
        return { kind: "feedback", body: { id: someId(r), kind: "ranking", targets, source: { type: "human", id: "h" }, value: { ranks } }, field: "value" };
      }
      case 6:
        return { kind: "feedback", body: { ...rating(someId(r), `i${i}-a`, 3), value: { score: 3, scale: { min: 1, max: 5 }, dimension: name() } }, field: "value" };
      case 7:
        return { kind: "feedback", body: { ...rating(someId(r), `i${i}-a`, 3), createdAt: pick(r, TIMES) }, field: "createdAt" };
      default:
        return { kind: "feedback", body: { ...rating(someId(r), `i${i}-a`, 3), targets: [name()] }, field: "targets" };
    }
  }

  /** What must be refused whatever else holds: names over 256 characters, ids over 512, ranks that are no ranking of the targets. */
  function mustRefuse(b: Record<string, unknown>): boolean {
    // Lengths count characters (code points), as the schemas do.
    const long = (v: unknown, n: number) => typeof v === "string" && [...v].length > n;
    const value = b.value as Record<string, unknown> | undefined;
    const source = b.source as Record<string, unknown> | undefined;
    if ([b.project, b.dataset, b.policy, source?.id, value?.dimension].some((v) => long(v, 256))) return true;
    if (long(b.id, 512)) return true;
    if (b.kind === "ranking" && Array.isArray(value?.ranks)) {
      const ranks = value.ranks as number[];
      const n = ranks.length;
      if (ranks.some((x) => !Number.isInteger(x) || x < 1 || x > n) || !ranks.includes(1)) return true;
    }
    return false;
  }

  it("resource fields: hostile names, ids, ranks and times are a 400 naming the field, never a 5xx, and store nothing", async () => {
    const r = createRng(SEED + 2);
    const app = createApp({ store, log: (l) => errors.push(l), maxBodyBytes: 256 * 1024 });
    const api = caller(app, adminKey);
    let refused = 0;
    for (let n = 0; n < 400; n++) {
      const { kind, body, field } = hostileRecord(r);
      const payload = r.bernoulli(0.3) ? { batch: [validRecord(r, kind), body] } : body;
      const before = await counts();
      const res = await api("POST", `/v1/${kind}`, payload);
      check(res, `POST /v1/${kind} ${JSON.stringify(body).slice(0, 200)}`);
      if (mustRefuse(body)) expect(res.status, `accepted ${JSON.stringify(body).slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      if (res.status === 400) {
        refused++;
        namesAField(res, `POST /v1/${kind} ${field}`);
        expect(await counts()).toEqual(before);
      }
    }
    expect(refused).toBeGreaterThan(150);
    // Queue questions keyed by hostile ids.
    for (let n = 0; n < 60; n++) {
      const id = pick(r, [...HOSTILE_NAMES, "q1", "hasOwnProperty", "valueOf", "__x", "a.b-c_d"]);
      const res = await api("POST", "/v1/queues", { name: "q", selection: { mode: "pairs" }, questions: [{ id, kind: pick(r, ["pairwise", "ranking", "rubric"]), prompt: "?", criteria: [{ id, description: "d" }] }] });
      check(res, `POST /v1/queues question id ${JSON.stringify(id)?.slice(0, 40)}`);
      if (typeof id === "string" && (id in Object.prototype || id.startsWith("__"))) expect(res.status, id).toBe(400);
      namesAField(res, "queue question id", /^questions\.0\./);
    }
    expect(errors).toEqual([]);
  });

  const TIMES = [
    "2026-01-01",
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.123456+05:30",
    "2026-01-01T00:00:00",
    "' OR '1'='1",
    "2001",
    "Jan 1 2001",
    "2026-02-29",
    "2026-1-1",
    "2026-01-01T24:00:00Z",
    "2026-01-01T00:00:00+25:00",
    "+275760-09-13T00:00:00Z",
    "1700000000000",
    "-1",
    "99999999999999999",
    "1e10",
    "0x10",
    "",
    " 2026-01-01",
    "2026-01-01\u0000",
  ];

  /** The rule, stated independently: epoch ms digits, or an ISO 8601 date / date-time with an offset that is a real moment. */
  function isTime(v: string): boolean {
    if (/^-?\d{1,16}$/.test(v)) return Math.abs(Number(v)) <= 8.64e15;
    const m = /^(\d{4})-(\d{2})-(\d{2})(T(\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/.exec(v);
    if (!m) return false;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const day = new Date(Date.UTC(2000, mo - 1, d));
    const leapOk = !(mo === 2 && d === 29) || (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0));
    if (mo < 1 || mo > 12 || day.getUTCMonth() !== mo - 1 || !leapOk) return false;
    if (m[4] && (Number(m[5]) > 23 || Number(m[6]) > 59 || Number(m[8] ?? 0) > 59 || Number(m[11] ?? 0) > 23 || Number(m[12] ?? 0) > 59)) return false;
    return true;
  }

  /** A time-like string: one of the known cases, or a valid one with a character changed. */
  const someTime = (r: Rng) => {
    const t = pick(r, TIMES);
    if (!r.bernoulli(0.4) || t.length === 0) return t;
    const at = r.int(t.length);
    return t.slice(0, at) + pick(r, ["0", "9", "-", ":", "T", "Z", "+", " ", "x", ""]) + t.slice(at + 1);
  };

  it("time filters: only ISO 8601 (or epoch ms) passes; anything else is a 400 naming since or until", async () => {
    const r = createRng(SEED + 3);
    const app = createApp({ store, log: (l) => errors.push(l) });
    const callers = [caller(app, adminKey), caller(app, await keyOf(store, "p", "read", "reader"))];
    for (let n = 0; n < 300; n++) {
      const api = pick(r, callers);
      const param = pick(r, ["since", "until"]);
      const value = someTime(r);
      const path = `${pick(r, ["/v1/items", "/v1/generations", "/v1/feedback"])}?${param}=${enc(value)}`;
      const res = await api("GET", path);
      check(res, `GET ${path}`);
      namesAField(res, `GET ${path}`, /^(since|until)$/);
      expect(res.status, `GET ${path}`).toBe(isTime(value) ? 200 : 400);
      // The background export's filters are held to the same rule, before a job starts.
      const ex = await api("POST", "/v1/exports", { format: "rlxf", filters: { [param]: r.bernoulli(0.2) ? Number(value) : value } });
      check(ex, `POST /v1/exports ${param}=${value}`);
      namesAField(ex, `POST /v1/exports ${param}=${value}`, /^filters\.(since|until)$/);
    }
    expect(errors).toEqual([]);
  });

  it("cursors: forged, truncated and foreign cursors are a 400 naming the cursor, never a 5xx", async () => {
    const r = createRng(SEED + 4);
    const app = createApp({ store, log: (l) => errors.push(l) });
    const api = caller(app, adminKey);
    const real: string[] = [];
    for (const path of ["/v1/items", "/v1/generations", "/v1/feedback"]) {
      const page = await api("GET", `${path}?limit=1`);
      if (page.body.nextCursor) real.push(page.body.nextCursor);
    }
    const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v), "utf8").toString("base64url");
    const forged = () =>
      pick(r, [
        b64([1e308, "x"]),
        b64([-1, "i0"]),
        b64([2 ** 53, "i0"]),
        b64(["1", "i0"]),
        b64([1, 2]),
        b64([1]),
        b64([1, "i0", 3]),
        b64({ recordedAt: 1, id: "x" }),
        b64("not json"),
        b64([1.5, "i0"]),
        b64([Date.now(), "x".repeat(3000)]),
        b64([0, "\u0000"]),
        "!!!",
        "%",
        "x".repeat(5000),
        "",
        real.length ? pick(r, real).slice(0, 1 + r.int(pick(r, real).length)) : "eyJ",
        real.length ? `${pick(r, real)}x` : "eyJ9",
      ]);
    for (let n = 0; n < 300; n++) {
      const path = `${pick(r, ["/v1/items", "/v1/generations", "/v1/feedback", "/v1/assignments"])}?cursor=${enc(forged())}${r.bernoulli(0.3) ? `&limit=${1 + r.int(5)}` : ""}`;
      const res = await api("GET", path);
      check(res, `GET ${path.slice(0, 200)}`);
      namesAField(res, `GET ${path.slice(0, 200)}`, /^cursor$/);
    }
    // A real cursor still pages.
    for (const c of real) expect((await api("GET", `/v1/items?cursor=${enc(c)}`)).status).toBe(200);
    expect(errors).toEqual([]);
  });

  /** A random pattern from pieces: ordinary ones, catastrophic ones, and ones RE2 cannot run. */
  function somePattern(r: Rng): string {
    const PIECES = ["a", "b+", "(a+)+", "(a|a)*", "(x+x+)+y", "\\d{1,3}", "[a-z]*", ".*", "^", "$", "\\b", "(?<n>\\w+)", "(?:ab)?", "\\1", "(?=a)", "(?!b)", "(?<=c)", "(?<!d)", "\\k<n>", "a{1001}", "a{2,1}", "(", ")", "[", "\\", "\\p{L}", "\\u00e9", "*", "a**", "|", "(?i)", "\\x{41}", "\\Q", "😀"];
    const n = 1 + r.int(5);
    let out = "";
    for (let k = 0; k < n; k++) out += pick(r, PIECES);
    return r.bernoulli(0.05) ? out.repeat(500) : out;
  }

  it("regex specs: any pattern is scored in linear time or refused with a 400 naming the pattern, never a 5xx", async () => {
    const r = createRng(SEED + 5);
    const app = createApp({ store, log: (l) => errors.push(l) });
    const api = caller(app, adminKey);
    const texts = ["", "aaaa", `${"a".repeat(5000)}!`, `${"x".repeat(3000)}`, "answer: 42", "😀é\n\u0000"];
    let scored = 0;
    let refused = 0;
    for (let n = 0; n < 300; n++) {
      const pattern = somePattern(r);
      const flags = pick(r, [undefined, "", "i", "ims", "g", "u", "y", "x", "ii", 3]);
      const regex = { type: "regex", pattern, ...(flags !== undefined ? { flags } : {}), ...(r.bernoulli(0.3) ? { mode: pick(r, ["search", "full", "nope"]) } : {}) };
      const where = r.int(4);
      let res: Reply;
      let field: RegExp;
      if (where === 0) {
        res = await api("POST", "/v1/reward", { spec: regex, samples: [{ completion: pick(r, texts) }, { completion: pick(r, texts) }] });
        field = /^spec\.(pattern|flags|mode)$/;
      } else if (where === 1) {
        res = await api("POST", "/v1/reward", { spec: { type: "composite", members: [{ verifier: regex }, { verifier: "exact" }] }, samples: [{ completion: pick(r, texts), reference: "a" }] });
        field = /^spec\.members\.0\.verifier\.(pattern|flags|mode)$/;
      } else if (where === 2) {
        res = await api("POST", "/v1/reward/specs", { name: `re-${n}`, spec: regex });
        field = /^spec\.(pattern|flags|mode)$/;
      } else {
        // A judge config's parser patterns: refused on their own path before any model is asked.
        const judge = { name: "j", kind: "reference", prompt: "{{output}}", parser: { type: "regex", patterns: { score: pattern }, ...(typeof flags === "string" ? { flags } : {}) } };
        res = await api("POST", "/v1/reward", { spec: { type: "judge", judge }, samples: [{ completion: "x" }] });
        field = /^spec(\.judge\.parser\.(patterns\.score|flags))?$/;
      }
      check(res, `regex spec ${JSON.stringify(regex).slice(0, 200)}`);
      // What a linear-time engine cannot run is refused, whatever surrounds it.
      if (/\(\?[=!]|\(\?<[=!]|\\[1-9]|\\k</.test(pattern)) expect(res.status, `accepted ${pattern}`).toBe(400);
      if (res.status < 300) scored++;
      else {
        refused++;
        namesAField(res, `regex spec ${JSON.stringify(regex).slice(0, 200)}`, field);
      }
    }
    expect(scored).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
    expect(errors).toEqual([]);
  });

  it("every route, every role: hostile path ids, query parameters and bodies are answered below 500, in the error shape", async () => {
    const r = createRng(SEED + 5);
    const dir = mkdtempSync(join(tmpdir(), "rlxf-fuzz-exports-"));
    process.env.RLXF_EXPORT_DIR = dir;
    const log: string[] = [];
    // Rate limits off: this is about answers, not about how many.
    const app = createApp({ store, log: (l) => log.push(l), maxBodyBytes: 64 * 1024, limits: { keyRate: Infinity, projectRate: Infinity } });
    const admin = caller(app, adminKey);
    const callers = [admin, caller(app, annotateKey), caller(app, await keyOf(store, "p", "ingest")), caller(app, await keyOf(store, "p", "read"))];
    // Something real to aim at: a queue with a claimed task, a saved spec.
    expect((await admin("POST", "/v1/queues", { id: "fq", name: "f", selection: { mode: "pairs" }, questions: [{ id: "q", kind: "pairwise", prompt: "?" }] })).status).toBe(201);
    await caller(app, annotateKey)("POST", "/v1/queues/fq/next");
    expect((await admin("POST", "/v1/reward/specs", { name: "s", spec: "exact" })).status).toBe(201);
    const doc = (await admin("GET", "/v1/openapi.json")).body as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    const VALID: Record<string, unknown> = {
      "POST /v1/queues": { name: "q", selection: { mode: "pairs", itemIds: ["i0"] }, questions: [{ id: "q", kind: "pairwise", prompt: "?" }], annotatorsPerItem: 2 },
      "POST /v1/queues/{id}/tasks/{taskId}/submit": { submissionId: "s1", answers: { q: { choice: "first" } } },
      "PUT /v1/queues/{id}/tasks/{taskId}/draft": { answers: { q: { choice: "tie" } } },
      "POST /v1/exports": { format: "rlxf", filters: { kind: ["pairwise"], since: "2026-01-01" } },
      "POST /v1/reward": { spec: "math", samples: [{ completion: "\\boxed{1}", reference: "1" }] },
      "POST /v1/reward/openrlhf": { query: ["2+2? 4"], prompts: ["2+2?"], labels: ["4"] },
      "POST /v1/reward/specs": { name: "s2", spec: { type: "composite", members: [{ verifier: "exact", weight: 1 }] } },
      "POST /v1/keys": { role: "read", name: "k" },
      "POST /v1/assignments": { annotator: "ann", itemIds: ["i1"] },
      "DELETE /v1/assignments": { annotator: "ann", itemIds: ["i1"] },
      "POST /v1/items": item("fz"),
      "POST /v1/generations": gen("fz-a", "i0"),
      "POST /v1/feedback": pairwise("fz-f", ["i0-a", "i0-b"]),
    };
    const IDS = ["fq", "t1", "t2", "s", "i0", "i0-a", "f1", "x", "ann", "exact", "00000000-0000-4000-8000-000000000000"];
    const VALUES = ["1", "0", "-1", "2001", "99999999", "true", "false", "rlxf", "bt", "alpaca-eval", "pairwise", "human", "judge", "math", "fq", "ann", "i0", "10", "auto", "shipped"];
    let requests = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const name = `${method.toUpperCase()} ${path}`;
        const query = (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
        for (let n = 0; n < Number(process.env.RLXF_FUZZ_ROUTE_N ?? 12); n++) {
          const api = pick(r, callers);
          const url = path.replace(/\{[^}]+\}/g, () => (r.bernoulli(0.5) ? pick(r, IDS) : enc(pick(r, WEIRD_STRINGS)) || "x"));
          const params = [...query, "x", "__proto__"].filter(() => r.bernoulli(0.4)).map((q) => `${q}=${enc(r.bernoulli(0.6) ? pick(r, VALUES) : pick(r, WEIRD_STRINGS))}`);
          let body: unknown;
          if (method !== "get" && method !== "delete") body = VALID[name] !== undefined && r.bernoulli(0.7) ? mutate(r, VALID[name]) : randomJson(r);
          if (method === "delete" && VALID[name] !== undefined) body = mutate(r, VALID[name]);
          const res = await api(method.toUpperCase(), `${url}${params.length ? `?${params.join("&")}` : ""}`, body === undefined ? undefined : JSON.stringify(body));
          check(res, `${name} ${url} ${JSON.stringify(body)?.slice(0, 200)}`);
          requests++;
        }
      }
    }
    expect(requests).toBeGreaterThan(500);
    // Background exports it started finish before the store goes.
    for (let i = 0; i < 400 && readdirSync(dir).some((f) => f.includes(".tmp-")); i++) await new Promise((res) => setTimeout(res, 25));
    expect(log.filter((l) => l.startsWith("error on"))).toEqual([]);
    delete process.env.RLXF_EXPORT_DIR;
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
