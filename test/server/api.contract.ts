/**
 * The API suite, registered once per engine (api.sqlite.test.ts,
 * api.postgres.test.ts): writes, reads, errors, keys and roles, projects,
 * assignments, leaderboard, export, OpenAPI.
 */
import { afterEach, describe, expect, it } from "vitest";
import { bradleyTerryLeaderboard } from "../../src/eval/index.js";
import { exportToString, memorySource } from "../../src/io/index.js";
import { createApp, documentedOperations } from "../../src/server/index.js";
import { ROLES, type Role, type Store } from "../../src/store/index.js";
import {
  type Caller,
  type StoreFactory,
  caller,
  expectErrorShape,
  gen,
  item,
  itemsAndGenerations,
  keyOf,
  pairwise,
  rating,
} from "./helpers.js";

export function apiContract(name: string, factory: StoreFactory, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`api: ${name}`, () => {
    const open: Store[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    /** A store, an app over it, and an admin caller in project "p". */
    const setup = async (appOpts: { maxBatch?: number; maxBodyBytes?: number } = {}) => {
      const store = await factory();
      open.push(store);
      const errors: string[] = [];
      const app = createApp({ store, log: (l) => errors.push(l), ...appOpts });
      const key = await keyOf(store, "p", "admin");
      const as = async (role: Role, project = "p", nameOf?: string) => caller(app, await keyOf(store, project, role, nameOf));
      return { store, app, api: caller(app, key), as, errors };
    };

    /** Project "p" with items i0..i2 and generations <i>-a, <i>-b. */
    const seeded = async (appOpts = {}) => {
      const s = await setup(appOpts);
      const { items, generations } = itemsAndGenerations(3);
      expect((await s.api("POST", "/v1/items", { batch: items })).status).toBe(201);
      expect((await s.api("POST", "/v1/generations", { batch: generations })).status).toBe(201);
      return s;
    };

    describe("writes", () => {
      it("stores one record or a batch and reports each outcome in order", async () => {
        const { api, store } = await setup();
        const one = await api("POST", "/v1/items", item("x1", { dataset: "d" }));
        expect(one.status).toBe(201);
        expect(one.body).toEqual({ results: [{ id: "x1", status: "inserted" }], inserted: 1, existing: 0, recordedAt: expect.any(String) });

        const batch = await api("POST", "/v1/items", { batch: [item("x2"), item("x1", { dataset: "d" }), item("x3"), item("x2")] });
        expect(batch.status).toBe(201);
        expect(batch.body.results).toEqual([
          { id: "x2", status: "inserted" },
          { id: "x1", status: "existing" },
          { id: "x3", status: "inserted" },
          { id: "x2", status: "existing" },
        ]);
        expect(batch.body).toMatchObject({ inserted: 2, existing: 2 });
        expect(await store.getItem("p", "x1")).toMatchObject({ id: "x1", project: "p", dataset: "d" });
        expect((await store.counts("p")).items).toBe(3);
      });

      it("accepts 1,000 records in one batch", async () => {
        const { api, store } = await setup();
        const { items, generations } = itemsAndGenerations(500);
        expect((await api("POST", "/v1/items", { batch: items })).status).toBe(201);
        const r = await api("POST", "/v1/generations", { batch: generations });
        expect(r.status).toBe(201);
        expect(r.body.inserted).toBe(1000);
        const fb = items.flatMap((it, i) => [pairwise(`f${i}`, [`${it.id}-a`, `${it.id}-b`]), rating(`r${i}`, `${it.id}-a`, 3)]);
        const w = await api("POST", "/v1/feedback", { batch: fb });
        expect(w.status).toBe(201);
        expect(w.body.results).toHaveLength(1000);
        expect((await store.counts("p")).feedback).toBe(1000);
      });

      it("is idempotent by id: a replayed batch is all `existing` (200) and stores no duplicates", async () => {
        const { api, store } = await seeded();
        const fb = [pairwise("f1", ["i0-a", "i0-b"]), rating("f2", "i1-a", 4)];
        expect((await api("POST", "/v1/feedback", { batch: fb })).status).toBe(201);
        const again = await api("POST", "/v1/feedback", { batch: fb });
        expect(again.status).toBe(200);
        expect(again.body.results).toEqual([
          { id: "f1", status: "existing" },
          { id: "f2", status: "existing" },
        ]);
        // What was read back is also a no-op when sent again (project, itemId, createdAt filled in).
        const stored = (await api("GET", "/v1/feedback/f1")).body;
        expect((await api("POST", "/v1/feedback", stored)).body.results).toEqual([{ id: "f1", status: "existing" }]);
        expect((await store.counts("p")).feedback).toBe(2);
      });

      it("the same id with another body is a 409 naming the field, and nothing of the batch is stored", async () => {
        const { api, store } = await seeded();
        await api("POST", "/v1/feedback", pairwise("f1", ["i0-a", "i0-b"], "first"));
        const r = await api("POST", "/v1/feedback", { batch: [rating("new", "i0-a", 2), pairwise("f1", ["i0-a", "i0-b"], "second")] });
        expectErrorShape(r, 409, "conflict");
        expect(r.body.error).toMatchObject({ record: "batch.1", index: 1 });
        expect(r.body.error.issues.map((i: { path: string }) => i.path)).toEqual(["batch.1.value"]);
        expect(await store.getFeedback("p", "new")).toBeUndefined();
      });

      it("assigns an id to a record without one", async () => {
        const { api, store } = await seeded();
        const r = await api("POST", "/v1/feedback", pairwise(undefined, ["i0-a", "i0-b"]));
        expect(r.status).toBe(201);
        const id = r.body.results[0].id;
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        expect(await store.getFeedback("p", id)).toMatchObject({ id, project: "p", itemId: "i0" });
      });

      it("refuses invalid records with the path of every offending field, storing nothing", async () => {
        const { api, store } = await seeded();
        const r = await api("POST", "/v1/feedback", {
          batch: [
            pairwise("ok1", ["i0-a", "i0-b"]),
            { ...pairwise("bad1", ["i0-a", "i0-b"]), value: { choice: "first", pSecond: 0.9 } },
            { ...rating("bad2", "i1-a", 9), extra: true },
            "not an object",
          ],
        });
        expectErrorShape(r, 400, "validation_failed");
        expect(r.body.error).toMatchObject({ record: "batch.1", index: 1 });
        expect(r.body.error.issues.map((i: { path: string }) => i.path)).toEqual(["batch.1.value.pSecond", "batch.2.value.score", "batch.2.extra", "batch.3"]);
        expect(r.body.error.message).toContain("3 of 4 records");
        expect((await store.counts("p")).feedback).toBe(0);

        const single = await api("POST", "/v1/items", { id: "", prompt: 3 });
        expectErrorShape(single, 400, "validation_failed");
        expect(single.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["id", "prompt"]);
        expect(single.body.error.record).toBeUndefined();
      });

      it("refuses references the store cannot resolve (404 missing_reference) and checks spans against outputs (400)", async () => {
        const { api } = await seeded();
        const r = await api("POST", "/v1/feedback", { batch: [rating("a", "i0-a", 3), rating("b", "nope", 3)] });
        expectErrorShape(r, 404, "missing_reference");
        expect(r.body.error).toMatchObject({ record: "batch.1", index: 1, issues: [{ path: "batch.1.targets.0", message: expect.stringContaining("nope") }] });
        const g = await api("POST", "/v1/generations", gen("g", "no-item"));
        expectErrorShape(g, 404, "missing_reference");
        expect(g.body.error.issues[0].path).toBe("itemId");
        const sp = await api("POST", "/v1/feedback", {
          id: "s",
          kind: "spans",
          targets: ["i0-a"],
          source: { type: "human", id: "a" },
          value: { spans: [{ start: 0, end: 999, label: "x" }] },
        });
        expectErrorShape(sp, 400, "validation_failed");
        expect(sp.body.error.issues[0].path).toBe("value.spans.0.end");
        const mixed = await api("POST", "/v1/feedback", pairwise("m", ["i0-a", "i1-b"]));
        expectErrorShape(mixed, 400, "validation_failed");
      });

      it("fills in the key's project, accepts it named, and answers 404 for any other project", async () => {
        const { api, store } = await setup();
        expect((await api("POST", "/v1/items", item("a", { project: "p" }))).status).toBe(201);
        const r = await api("POST", "/v1/items", { batch: [item("b"), item("c", { project: "q" })] });
        expectErrorShape(r, 404, "not_found");
        expect(r.body.error).toMatchObject({ index: 1, issues: [{ path: "batch.1.project", message: "no such project" }] });
        expect(await store.projects()).toEqual(["p"]);
        expect(await store.getItem("p", "b")).toBeUndefined();
        const typed = await api("POST", "/v1/items", item("d", { project: 7 }));
        expectErrorShape(typed, 400, "validation_failed");
        expect(typed.body.error.issues[0].path).toBe("project");
      });

      it("concurrent single-record requests are committed together yet answered one by one", async () => {
        const { api, store } = await seeded();
        const requests = [
          ...Array.from({ length: 20 }, (_, i) => rating(`c${i}`, `i${i % 3}-a`, 1 + (i % 5))),
          rating("dangling", "no-such-generation", 3),
          rating("twin", "i0-a", 1),
          rating("twin", "i0-a", 1),
          rating("rival", "i0-a", 1),
          rating("rival", "i0-a", 2),
        ];
        const replies = await Promise.all(requests.map((r) => api("POST", "/v1/feedback", r)));
        replies.slice(0, 20).forEach((r, i) => expect(r.body.results, r.text).toEqual([{ id: `c${i}`, status: "inserted" }]));
        expectErrorShape(replies[20]!, 404, "missing_reference");
        expect(replies[20]!.body.error.issues[0].path).toBe("targets.0");
        expect(replies.slice(21, 23).map((r) => r.body.results[0].status).sort()).toEqual(["existing", "inserted"]);
        expect(replies.slice(23, 25).map((r) => r.status).sort()).toEqual([201, 409]);
        expect((await store.counts("p")).feedback).toBe(22);
        // Mixed kinds in flight together: parents are written before what refers to them.
        const mixed = await Promise.all([
          api("POST", "/v1/items", item("m1")),
          api("POST", "/v1/generations", gen("m1-a", "i0")),
          api("POST", "/v1/feedback", rating("m-f", "i1-b", 5)),
        ]);
        expect(mixed.map((r) => r.status)).toEqual([201, 201, 201]);
      });

      it("bounds batches: empty is 400, over the limit is 413", async () => {
        const { api } = await setup({ maxBatch: 10 });
        expectErrorShape(await api("POST", "/v1/items", { batch: [] }), 400, "validation_failed");
        const big = await api("POST", "/v1/items", { batch: Array.from({ length: 11 }, (_, i) => item(`x${i}`)) });
        expectErrorShape(big, 413, "batch_too_large");
        expect(big.body.error.message).toContain("at most 10");
        const extra = await api("POST", "/v1/items", { batch: [item("x")], more: 1 });
        expectErrorShape(extra, 400, "validation_failed");
        expect(extra.body.error.issues).toEqual([{ path: "more", message: "unknown field" }]);
        expectErrorShape(await api("POST", "/v1/items", { batch: "x" }), 400, "validation_failed");
      });
    });

    describe("request errors", () => {
      it("answers bad bodies and content types with 4xx in the one error shape", async () => {
        const { api } = await setup({ maxBodyBytes: 1000 });
        expectErrorShape(await api("POST", "/v1/items", "{", { "Content-Type": "application/json" }), 400, "invalid_json");
        expectErrorShape(await api("POST", "/v1/items", "", { "Content-Type": "application/json" }), 400, "invalid_json");
        expectErrorShape(await api("POST", "/v1/items", JSON.stringify(item("x")), { "Content-Type": "text/plain" }), 415, "unsupported_media_type");
        expectErrorShape(await api("POST", "/v1/items", JSON.stringify(item("x")), { "Content-Type": "application/json; charset=latin1" }), 415);
        expectErrorShape(await api("POST", "/v1/items", JSON.stringify(item("x")), { "Content-Type": "application/json", "Content-Encoding": "gzip" }), 415);
        expectErrorShape(await api("POST", "/v1/items", item("x", { prompt: "y".repeat(2000) })), 413, "payload_too_large");
        const deep = `{"id":"x","prompt":"p","metadata":${"[".repeat(100)}${"]".repeat(100)}}`;
        expectErrorShape(await api("POST", "/v1/items", deep), 400, "validation_failed");
        const proto = await api("POST", "/v1/items", '{"id":"x","prompt":"p","metadata":{"__proto__":{"admin":true}}}');
        expectErrorShape(proto, 400, "validation_failed");
        expect(proto.body.error.issues[0].path).toBe("metadata.__proto__");
        // Items are strict: an unknown field is named.
        const unknown = await api("POST", "/v1/items", item("x", { colour: "red" }));
        expect(unknown.body.error.issues).toEqual([{ path: "colour", message: "unknown field" }]);
        // Invalid UTF-8.
        const res = await api("POST", "/v1/items", new TextDecoder("latin1").decode(new Uint8Array([0x7b, 0xff, 0x7d])));
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      });

      it("answers bad ids, queries and cursors with 400, unknown routes with 404, wrong methods with 405", async () => {
        const { api } = await seeded();
        expectErrorShape(await api("GET", `/v1/items/${"x".repeat(600)}`), 400, "invalid_id");
        expectErrorShape(await api("GET", "/v1/items/a%00b"), 400, "invalid_id");
        expectErrorShape(await api("GET", "/v1/items/%E0%A4%A"), 404);
        expectErrorShape(await api("GET", "/v1/feedback?kind=nope"), 400, "validation_failed");
        expectErrorShape(await api("GET", "/v1/items?limit=0"), 400);
        expectErrorShape(await api("GET", "/v1/items?limit=abc"), 400);
        expectErrorShape(await api("GET", "/v1/items?since=yesterday"), 400);
        expectErrorShape(await api("GET", "/v1/items?cursor=garbage"), 400);
        expectErrorShape(await api("GET", "/v1/items?limit=1&limit=2"), 400);
        const unknown = await api("GET", "/v1/items?colour=red");
        expectErrorShape(unknown, 400);
        expect(unknown.body.error.issues).toEqual([{ path: "colour", message: "unknown field" }]);
        expectErrorShape(await api("GET", "/v1/nothing"), 404, "not_found");
        expectErrorShape(await api("GET", "/v2/items"), 404, "not_found");
        const m = await api("PUT", "/v1/items", item("x"));
        expectErrorShape(m, 405, "method_not_allowed");
        expect(m.headers.get("allow")).toContain("POST");
      });

      it("authenticates: missing, malformed, unknown, forged and revoked keys are 401", async () => {
        const { app, store, api } = await seeded();
        const anon = caller(app);
        const r = await anon("GET", "/v1/items");
        expectErrorShape(r, 401, "unauthorized");
        expect(r.headers.get("www-authenticate")).toContain("Bearer");
        expectErrorShape(await anon("GET", "/v1/items", undefined, { Authorization: "Basic abc" }), 401);
        expectErrorShape(await caller(app, "rlxf_nope")("GET", "/v1/items"), 401);
        const { key, secret } = await store.keys.create({ project: "p", role: "read" });
        const forged = secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A");
        expectErrorShape(await caller(app, forged)("GET", "/v1/items"), 401);
        const reader = caller(app, secret);
        expect((await reader("GET", "/v1/items")).status).toBe(200);
        expect((await api("DELETE", `/v1/keys/${key.id}`)).body).toMatchObject({ id: key.id, revokedAt: expect.any(String) });
        expectErrorShape(await reader("GET", "/v1/items"), 401, "unauthorized");
        // Revoked through the store (as `rlxf keys revoke` does): refused too.
        const other = await store.keys.create({ project: "p", role: "ingest" });
        await store.keys.revoke(other.key.id);
        expectErrorShape(await caller(app, other.secret)("POST", "/v1/items", item("z")), 401);
        expect(await store.getItem("p", "z")).toBeUndefined();
        // Health and the OpenAPI document need no key.
        expect((await anon("GET", "/v1/health")).body).toEqual({ status: "ok", version: expect.any(String) });
        expect((await anon("GET", "/v1/openapi.json")).status).toBe(200);
      });
    });

    describe("reads", () => {
      it("filters feedback by kind, source, item, generation, policy and time, and pages with cursors", async () => {
        const { api } = await seeded();
        await api("POST", "/v1/feedback", {
          batch: [
            pairwise("f1", ["i0-a", "i0-b"], "first", { createdAt: "2026-01-01T00:00:00Z" }),
            pairwise("f2", ["i1-b", "i1-a"], "second", { createdAt: "2026-02-01T00:00:00Z", source: { type: "judge", id: "gpt" } }),
            rating("f3", "i2-a", 4, { createdAt: "2026-03-01T00:00:00Z" }),
            { id: "f4", kind: "binary", targets: ["i2-b"], source: { type: "user", id: "u1" }, value: { ok: true }, createdAt: "2026-04-01T00:00:00Z" },
          ],
        });
        const ids = async (q: string) => (await api("GET", `/v1/feedback${q}`)).body.records.map((r: { id: string }) => r.id).sort();
        expect(await ids("")).toEqual(["f1", "f2", "f3", "f4"]);
        expect(await ids("?kind=pairwise")).toEqual(["f1", "f2"]);
        expect(await ids("?kind=rating,binary")).toEqual(["f3", "f4"]);
        expect(await ids("?kind=rating&kind=binary")).toEqual(["f3", "f4"]);
        expect(await ids("?sourceType=judge")).toEqual(["f2", "f3"]);
        expect(await ids("?sourceType=judge&sourceId=gpt")).toEqual(["f2"]);
        expect(await ids("?itemId=i1")).toEqual(["f2"]);
        expect(await ids("?generationId=i2-b")).toEqual(["f4"]);
        expect(await ids("?policy=b")).toEqual(["f1", "f2", "f4"]);
        expect(await ids("?since=2026-02-01T00:00:00Z&until=2026-04-01T00:00:00Z")).toEqual(["f2", "f3"]);
        expect(await ids(`?since=${Date.parse("2026-03-01T00:00:00Z")}`)).toEqual(["f3", "f4"]);

        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await api("GET", `/v1/feedback?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
          expect(page.status).toBe(200);
          expect(page.body.records.length).toBeLessThanOrEqual(3);
          seen.push(...page.body.records.map((r: { id: string }) => r.id));
          cursor = page.body.nextCursor;
        } while (cursor);
        expect(seen.sort()).toEqual(["f1", "f2", "f3", "f4"]);

        expect((await api("GET", "/v1/items?limit=2")).body.records).toHaveLength(2);
        const gens = await api("GET", "/v1/generations?itemId=i1&policy=a");
        expect(gens.body.records.map((g: { id: string }) => g.id)).toEqual(["i1-a"]);
      });

      it("accepts only ISO 8601 dates and date-times with an offset (or epoch ms) in since/until; anything else is a 400 naming it", async () => {
        const { api } = await seeded();
        await api("POST", "/v1/feedback", {
          batch: [pairwise("t1", ["i0-a", "i0-b"], "first", { createdAt: "2001-06-01T00:00:00Z" }), rating("t2", "i1-a", 3, { createdAt: "2026-01-01T00:00:00Z" })],
        });
        const ids = async (q: string) => {
          const r = await api("GET", `/v1/feedback?${q}`);
          expect(r.status, r.text).toBe(200);
          return r.body.records.map((x: { id: string }) => x.id).sort();
        };
        expect(await ids("since=2026-01-01")).toEqual(["t2"]);
        expect(await ids("since=2026-01-01T00:00:00Z")).toEqual(["t2"]);
        expect(await ids(`since=${encodeURIComponent("2026-01-01T02:00:00.000+02:00")}`)).toEqual(["t2"]);
        expect(await ids(`until=${encodeURIComponent("2025-12-31T23:59:59.999999-00:00")}`)).toEqual(["t1"]);
        expect(await ids("since=978307200000&until=1767225600000")).toEqual(["t1"]);
        // What Date.parse would guess at: an injection attempt it reads as 2001, short dates, words, local times, impossible dates.
        for (const bad of ["' OR '1'='1", "2001-1-1", "Jan 1 2001", "yesterday", "2026-01-01T00:00:00", "2026-02-30", "2026-13-01", "2026-01-01T25:00:00Z", "1e12", "x".repeat(5000)]) {
          for (const param of ["since", "until"]) {
            for (const path of ["/v1/feedback", "/v1/items", "/v1/generations"]) {
              const r = await api("GET", `${path}?${param}=${encodeURIComponent(bad)}`);
              expectErrorShape(r, 400, "validation_failed");
              expect(r.body.error.issues, `${path} ${param}=${bad.slice(0, 20)}`).toEqual([{ path: param, message: expect.stringMatching(/ISO 8601/) }]);
            }
          }
        }
      });

      it("bounds names and ids (policy, project, source id, dataset: 256; ids: 512) and checks ranks against the targets", async () => {
        const { api, store } = await seeded();
        const refused = async (path: string, body: unknown, field: string) => {
          const r = await api("POST", path, body);
          expectErrorShape(r, 400, "validation_failed");
          expect(r.body.error.issues.map((i: { path: string }) => i.path)).toContain(field);
        };
        await refused("/v1/generations", gen("g-big", "i0", "p".repeat(1 << 20)), "policy");
        await refused("/v1/generations", gen("g-big", "i0", "p".repeat(257)), "policy");
        await refused("/v1/items", item("it-big", { dataset: "d".repeat(257) }), "dataset");
        await refused("/v1/items", item("x".repeat(513)), "id");
        await refused("/v1/feedback", rating("r-big", "i0-a", 3, { source: { type: "judge", id: "j".repeat(257) } }), "source.id");
        const ranking = (id: string, ranks: number[]) => ({ id, kind: "ranking", targets: ["i0-a", "i0-b"], source: { type: "human", id: "h" }, value: { ranks } });
        await refused("/v1/feedback", ranking("rk1", [1, 1000]), "value.ranks.1");
        await refused("/v1/feedback", ranking("rk2", [2, 2]), "value.ranks");
        expect((await api("POST", "/v1/feedback", { batch: [ranking("rk3", [1, 1]), ranking("rk4", [2, 1])] })).status).toBe(201);
        expect((await api("POST", "/v1/generations", gen("g-ok", "i0", "p".repeat(256)))).status).toBe(201);
        for (const q of [`policy=${"p".repeat(257)}`, `dataset=${"d".repeat(257)}`, `sourceId=${"s".repeat(257)}`]) {
          const path = q.startsWith("dataset") ? "/v1/items" : q.startsWith("policy") ? "/v1/generations" : "/v1/feedback";
          const r = await api("GET", `${path}?${q}`);
          expectErrorShape(r, 400);
          expect(r.body.error.issues).toEqual([{ path: q.split("=")[0], message: "must be at most 256 characters" }]);
        }
        expect((await store.counts("p")).feedback).toBe(2);
      });

      it("gets one record by id (ids with slashes percent-encoded); unknown ids are 404", async () => {
        const { api } = await setup();
        await api("POST", "/v1/items", item("q/1 ü"));
        await api("POST", "/v1/generations", gen("q/1 ü/model-x", "q/1 ü"));
        await api("POST", "/v1/feedback", rating("r/1", "q/1 ü/model-x", 5));
        expect((await api("GET", `/v1/items/${encodeURIComponent("q/1 ü")}`)).body).toMatchObject({ id: "q/1 ü", project: "p" });
        expect((await api("GET", `/v1/generations/${encodeURIComponent("q/1 ü/model-x")}`)).body).toMatchObject({ itemId: "q/1 ü" });
        expect((await api("GET", "/v1/feedback/r%2F1")).body).toMatchObject({ id: "r/1", kind: "rating" });
        expectErrorShape(await api("GET", "/v1/items/nope"), 404, "not_found");
        expectErrorShape(await api("GET", "/v1/generations/nope"), 404, "not_found");
        expectErrorShape(await api("GET", "/v1/feedback/nope"), 404, "not_found");
      });
    });

    describe("roles and projects", () => {
      /** Project "a" holds data; returns callers for every role in project "b" and an admin of "a". */
      const twoProjects = async () => {
        const s = await setup();
        const a = await s.as("admin", "a");
        const { items, generations } = itemsAndGenerations(2, "a-");
        await a("POST", "/v1/items", { batch: items });
        await a("POST", "/v1/generations", { batch: generations });
        await a("POST", "/v1/feedback", pairwise("a-f", ["a-i0-a", "a-i0-b"]));
        await s.store.assignments.add("a", "ann", ["a-i0"]);
        const b = Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, await s.as(r, "b", "ann")] as const))) as Record<Role, Caller>;
        return { ...s, a, b };
      };

      it("no role of another project sees or changes a project's records (404, or 403 where the role may not act at all)", async () => {
        const { b, store } = await twoProjects();
        const before = await store.counts("a");
        for (const role of ROLES) {
          const api = b[role];
          const refused = async (method: string, path: string, body?: unknown) => {
            const r = await api(method, path, body);
            expect([403, 404], `${role} ${method} ${path}: ${r.text}`).toContain(r.status);
            expectErrorShape(r, r.status);
            expect(r.text).not.toContain("prompt of a-i0");
            return r;
          };
          const canRead = role === "admin" || role === "read" || role === "annotate";
          for (const path of ["/v1/items/a-i0", "/v1/generations/a-i0-a", "/v1/feedback/a-f"]) {
            const r = await refused("GET", path);
            if (canRead) expect(r.status).toBe(404);
          }
          const canWriteData = role === "admin" || role === "ingest";
          const gw = await refused("POST", "/v1/generations", gen("x", "a-i0"));
          if (canWriteData) expect(gw.body.error.code).toBe("missing_reference");
          await refused("POST", "/v1/items", item("a-i0", { project: "a", prompt: "overwritten" }));
          const fw = await refused("POST", "/v1/feedback", rating("x", "a-i0-a", 1, role === "annotate" ? { source: { type: "human", id: "ann" } } : {}));
          expect(fw.status).toBe(role === "read" ? 403 : 404);
          await refused("POST", "/v1/feedback", rating("x", "a-i0-a", 1, { project: "a" }));
          await refused("DELETE", "/v1/keys/0000000000000000");
          // Lists show only the key's own project (empty here).
          for (const path of ["/v1/items", "/v1/generations", "/v1/feedback", "/v1/assignments", "/v1/leaderboard", "/v1/export?format=rlxf"]) {
            const r = await api("GET", path);
            expect(r.text, `${role} GET ${path}`).not.toContain("a-i0");
            if (r.status >= 400) expectErrorShape(r, r.status);
          }
        }
        expect(await store.counts("a")).toEqual(before);
        expect((await store.getItem("a", "a-i0"))?.prompt).toBe("prompt of a-i0");
      });

      it("an admin cannot revoke or list another project's keys", async () => {
        const { store, b } = await twoProjects();
        const aKey = (await store.keys.list({ project: "a" }))[0]!;
        expectErrorShape(await b.admin("DELETE", `/v1/keys/${aKey.id}`), 404, "not_found");
        expect((await store.keys.get(aKey.id))?.revokedAt).toBeUndefined();
        const listed = await b.admin("GET", "/v1/keys");
        expect(listed.body.records.every((k: { project: string }) => k.project === "b")).toBe(true);
      });

      it("each role does what it may in its own project and gets 403 for the rest", async () => {
        const { as, store } = await seeded();
        const ingest = await as("ingest");
        const read = await as("read");
        expect((await ingest("POST", "/v1/items", item("n1"))).status).toBe(201);
        expect((await ingest("POST", "/v1/generations", gen("n1-a", "n1"))).status).toBe(201);
        expect((await ingest("POST", "/v1/feedback", rating("nf", "n1-a", 2))).status).toBe(201);
        for (const path of ["/v1/items", "/v1/items/n1", "/v1/feedback", "/v1/leaderboard", "/v1/export?format=rlxf", "/v1/keys"]) {
          expectErrorShape(await ingest("GET", path), 403, "forbidden");
        }
        expect((await read("GET", "/v1/items/n1")).status).toBe(200);
        expect((await read("GET", "/v1/feedback")).status).toBe(200);
        expect((await read("GET", "/v1/leaderboard")).status).toBe(200);
        expect((await read("GET", "/v1/export?format=rlxf")).status).toBe(200);
        expectErrorShape(await read("POST", "/v1/items", item("n2")), 403, "forbidden");
        expectErrorShape(await read("POST", "/v1/feedback", rating("nf2", "n1-a", 2)), 403, "forbidden");
        expectErrorShape(await read("POST", "/v1/keys", { role: "admin" }), 403, "forbidden");
        expectErrorShape(await read("GET", "/v1/keys"), 403, "forbidden");
        expect(await store.getItem("p", "n2")).toBeUndefined();
        for (const [role, api] of [["ingest", ingest], ["read", read]] as const) {
          expect((await api("GET", "/v1/me")).body).toMatchObject({ project: "p", role });
        }
      });

      it("annotate keys read only their assigned items and write feedback only as themselves, on those items", async () => {
        const { api, as, store } = await seeded();
        const alice = await as("annotate", "p", "alice");
        expect((await api("POST", "/v1/assignments", { annotator: "alice", itemIds: ["i0", "i1"] })).body).toEqual({ inserted: 2, existing: 0 });
        expectErrorShape(await api("POST", "/v1/assignments", { annotator: "alice", itemIds: ["nope"] }), 404, "missing_reference");
        expectErrorShape(await api("POST", "/v1/assignments", { annotator: "alice" }), 400, "validation_failed");

        const mine = await alice("GET", "/v1/assignments");
        expect(mine.body.records.map((a: { itemId: string }) => a.itemId)).toEqual(["i0", "i1"]);
        expect(mine.body.records[0].item).toMatchObject({ id: "i0", prompt: "prompt of i0" });
        expectErrorShape(await alice("GET", "/v1/assignments?annotator=bob"), 403);
        expect((await alice("GET", "/v1/items/i0")).status).toBe(200);
        expectErrorShape(await alice("GET", "/v1/items/i2"), 404, "not_found");
        expectErrorShape(await alice("GET", "/v1/items"), 403, "forbidden");
        expect((await alice("GET", "/v1/generations?itemId=i1")).body.records).toHaveLength(2);
        expectErrorShape(await alice("GET", "/v1/generations?itemId=i2"), 404);
        expectErrorShape(await alice("GET", "/v1/generations"), 403);
        expectErrorShape(await alice("GET", "/v1/generations/i2-a"), 404);
        expectErrorShape(await alice("GET", "/v1/leaderboard"), 403);
        expectErrorShape(await alice("POST", "/v1/items", item("z")), 403);

        // Source filled in; a foreign source refused; unassigned targets invisible.
        const { source: _s, ...noSource } = pairwise("af1", ["i0-a", "i0-b"]);
        const w = await alice("POST", "/v1/feedback", noSource);
        expect(w.status).toBe(201);
        expect(await store.getFeedback("p", "af1")).toMatchObject({ source: { type: "human", id: "alice" } });
        const asOther = await alice("POST", "/v1/feedback", pairwise("af2", ["i0-a", "i0-b"], "first", { source: { type: "judge", id: "alice" } }));
        expectErrorShape(asOther, 403, "forbidden");
        expect(asOther.body.error.issues[0].path).toBe("source");
        const unassigned = await alice("POST", "/v1/feedback", { batch: [rating("af3", "i1-a", 2, { source: { type: "human", id: "alice" } }), { ...noSource, id: "af4", targets: ["i2-a", "i2-b"] }] });
        expectErrorShape(unassigned, 404, "missing_reference");
        expect(unassigned.body.error).toMatchObject({ index: 1, issues: [{ path: "batch.1.targets.0", message: expect.any(String) }] });
        expect(await store.getFeedback("p", "af3")).toBeUndefined();

        // Reads only its own feedback.
        await api("POST", "/v1/feedback", pairwise("judge-f", ["i0-a", "i0-b"], "second", { source: { type: "judge", id: "j" } }));
        expect((await alice("GET", "/v1/feedback")).body.records.map((f: { id: string }) => f.id)).toEqual(["af1"]);
        expectErrorShape(await alice("GET", "/v1/feedback/judge-f"), 404);
        expectErrorShape(await alice("GET", "/v1/feedback?sourceType=judge"), 403);

        expect((await api("DELETE", "/v1/assignments", { annotator: "alice", itemIds: ["i0"] })).body).toEqual({ removed: 1 });
        expectErrorShape(await alice("GET", "/v1/items/i0"), 404);
      });

      it("admin keys create, list and revoke keys of their project; a new key works at once", async () => {
        const { api, app } = await seeded();
        const c = await api("POST", "/v1/keys", { role: "read", name: "dashboard" });
        expect(c.status).toBe(201);
        expect(c.body).toEqual({ key: expect.objectContaining({ project: "p", role: "read", name: "dashboard" }), secret: expect.stringMatching(/^rlxf_/) });
        expectErrorShape(await api("POST", "/v1/keys", { role: "root" }), 400, "validation_failed");
        expectErrorShape(await api("POST", "/v1/keys", { role: "read", project: "q" }), 400, "validation_failed");
        const reader = caller(app, c.body.secret);
        expect((await reader("GET", "/v1/items")).status).toBe(200);
        const list = await api("GET", "/v1/keys");
        expect(list.body.records.map((k: { name: string }) => k.name)).toContain("dashboard");
        expect(list.text).not.toContain(c.body.secret);
        await api("DELETE", `/v1/keys/${c.body.key.id}`);
        expect((await api("GET", "/v1/keys")).body.records.map((k: { id: string }) => k.id)).not.toContain(c.body.key.id);
        expect((await api("GET", "/v1/keys?includeRevoked=true")).body.records.map((k: { id: string }) => k.id)).toContain(c.body.key.id);
        expectErrorShape(await reader("GET", "/v1/items"), 401);
      });
    });

    describe("least information to write-only keys", () => {
      it("a 409 answered to a write-only key says only that the id is taken, so no stored field can be guessed; an admin sees the fields", async () => {
        const { api, as, store } = await setup();
        await api("POST", "/v1/items", item("q1", { prompt: "What is 6 x 7?", reference: "42" }));
        const ingest = await as("ingest");
        // Guessing the hidden reference: a wrong guess and a right guess must answer alike.
        const wrong = await ingest("POST", "/v1/items", item("q1", { prompt: "What is 6 x 7?", reference: "41" }));
        const right = await ingest("POST", "/v1/items", item("q1", { prompt: "What is 6 x 7?", reference: "42", dataset: "probe" }));
        for (const r of [wrong, right]) {
          expectErrorShape(r, 409, "conflict");
          expect(r.body.error.issues).toEqual([{ path: "id", message: "is already stored with a different body" }]);
          expect(r.text).not.toMatch(/reference|dataset|differs in/);
        }
        // In a batch: the record's index and its id, nothing else.
        const batch = await ingest("POST", "/v1/items", { batch: [item("fresh"), item("q1", { prompt: "What is 6 x 7?", reference: "7" })] });
        expectErrorShape(batch, 409, "conflict");
        expect(batch.body.error).toMatchObject({ index: 1, record: "batch.1", issues: [{ path: "batch.1.id", message: "is already stored with a different body" }] });
        expect(batch.text).not.toContain("reference");
        expect(await store.getItem("p", "fresh")).toBeUndefined();
        // An annotate key (which may not read what others stored) learns no more.
        await api("POST", "/v1/generations", gen("q1-a", "q1"));
        await api("POST", "/v1/feedback", rating("judged", "q1-a", 5));
        await api("POST", "/v1/assignments", { annotator: "ann", itemIds: ["q1"] });
        const ann = await as("annotate", "p", "ann");
        const r = await ann("POST", "/v1/feedback", rating("judged", "q1-a", 4, { source: { type: "human", id: "ann" } }));
        expectErrorShape(r, 409, "conflict");
        expect(r.body.error.issues).toEqual([{ path: "id", message: "is already stored with a different body" }]);
        // The admin, who may read the record anyway, is told which fields differ.
        const mine = await api("POST", "/v1/items", item("q1", { prompt: "What is 6 x 7?", reference: "41" }));
        expectErrorShape(mine, 409, "conflict");
        expect(mine.body.error.issues.map((i: { path: string }) => i.path)).toEqual(["reference"]);
        // A replay with the same body is still `existing` for everyone.
        expect((await ingest("POST", "/v1/items", item("q1", { prompt: "What is 6 x 7?", reference: "42" }))).body.results).toEqual([{ id: "q1", status: "existing" }]);
      });

      it("an ingest key scores with a saved reward spec by name but cannot read the specs", async () => {
        const { api, as } = await setup();
        expect((await api("POST", "/v1/reward/specs", { name: "house", spec: { type: "regex", pattern: "^secret-[0-9]+$" } })).status).toBe(201);
        const ingest = await as("ingest");
        expectErrorShape(await ingest("GET", "/v1/reward/specs"), 403, "forbidden");
        expectErrorShape(await ingest("GET", "/v1/reward/specs/house"), 403, "forbidden");
        const scored = await ingest("POST", "/v1/reward", { spec: "house", samples: [{ completion: "secret-12" }, { completion: "public" }] });
        expect(scored.status, scored.text).toBe(200);
        expect(scored.body.results.map((x: { score: number }) => x.score)).toEqual([1, 0]);
        expect(scored.text).not.toContain("^secret-");
        // Read keys may read them.
        expect((await (await as("read"))("GET", "/v1/reward/specs/house")).body.spec).toEqual({ type: "regex", pattern: "^secret-[0-9]+$" });
      });
    });

    describe("leaderboard and export", () => {
      it("serves the foundation's Bradley-Terry and AlpacaEval leaderboards over the stored feedback", async () => {
        const { api, store } = await seeded();
        const fb = [
          pairwise("f0", ["i0-a", "i0-b"], "second"),
          pairwise("f1", ["i1-a", "i1-b"], "second"),
          pairwise("f2", ["i2-a", "i2-b"], "first"),
          rating("r0", "i0-a", 2),
          rating("r1", "i0-b", 5),
        ];
        await api("POST", "/v1/feedback", { batch: fb });
        const bt = await api("GET", "/v1/leaderboard?bootstrap=50&seed=3");
        expect(bt.status).toBe(200);
        const feedback = [];
        const generations = new Map();
        for await (const rf of store.iterateResolvedFeedback({ project: "p", kind: ["pairwise", "ranking", "rating"] })) {
          feedback.push(rf.feedback);
          for (const g of rf.targets) generations.set(g.id, { policy: g.policy, itemId: g.itemId });
        }
        expect(bt.body).toEqual({ method: "bt", rows: JSON.parse(JSON.stringify(bradleyTerryLeaderboard(feedback, generations, { rounds: 50, seed: 3 }))) });
        expect(bt.body.rows.map((r: { model: string }) => r.model)).toEqual(["b", "a"]);

        const ae = await api("GET", "/v1/leaderboard?method=alpaca-eval&baseline=a");
        expect(ae.body).toMatchObject({ method: "alpaca-eval", baseline: "a", rows: [{ model: "b", n_wins: 2, n_wins_base: 1, n_total: 3 }] });
        expectErrorShape(await api("GET", "/v1/leaderboard?method=elo"), 400);
        const empty = await (await setup()).api("GET", "/v1/leaderboard");
        expect(empty.body).toEqual({ method: "bt", rows: [] });
      });

      it("AlpacaEval over stored comparisons: the baseline is the policy compared with every other, and the LC is real", async () => {
        const { api } = await setup();
        // 60 made-up instructions; "ref" is compared with "long" (stored ref first) and with "short" (stored ref
        // second), so "ref" takes part in every comparison; the judge likes longer answers.
        const items = [];
        const generations = [];
        const feedback = [];
        for (let i = 0; i < 60; i++) {
          items.push(item(`q${i}`, { prompt: `made-up question number ${i}` }));
          const len = { ref: 40 + ((i * 7) % 50), long: 60 + ((i * 13) % 120), short: 10 + ((i * 5) % 30) };
          for (const [policy, n] of Object.entries(len)) generations.push(gen(`q${i}-${policy}`, `q${i}`, policy, { output: "w ".repeat(n) }));
          const pLong = Math.min(0.95, Math.max(0.05, 0.3 + 0.004 * (len.long - len.ref) + 0.1 * Math.sin(i)));
          const pShort = Math.min(0.95, Math.max(0.05, 0.2 + 0.004 * (len.short - len.ref) + 0.1 * Math.cos(i)));
          feedback.push(pairwise(`l${i}`, [`q${i}-ref`, `q${i}-long`], pLong > 0.5 ? "second" : "first", { value: { choice: pLong > 0.5 ? "second" : "first", pSecond: pLong } }));
          feedback.push(pairwise(`s${i}`, [`q${i}-short`, `q${i}-ref`], pShort > 0.5 ? "first" : "second", { value: { choice: pShort > 0.5 ? "first" : "second", pSecond: 1 - pShort } }));
        }
        expect((await api("POST", "/v1/items", { batch: items })).status).toBe(201);
        expect((await api("POST", "/v1/generations", { batch: generations })).status).toBe(201);
        expect((await api("POST", "/v1/feedback", { batch: feedback })).status).toBe(201);
        const ae = await api("GET", "/v1/leaderboard?method=alpaca-eval");
        expect(ae.status, ae.text).toBe(200);
        expect(ae.body.baseline).toBe("ref");
        expect(ae.body.rows.map((r: { model: string }) => r.model).sort()).toEqual(["long", "short"]);
        expect(ae.body.difficulty).toMatchObject({ kind: "estimated", models: 2, instructions: 60 });
        expect(ae.body.warnings.join(" ")).toMatch(/estimated from only 2 models/);
        for (const r of ae.body.rows) {
          expect(r.n_total).toBe(60);
          expect(r.length_controlled_winrate).not.toBeCloseTo(50, 1);
          expect(r.lc_standard_error).toBeGreaterThan(0.1);
        }
        const noLc = await api("GET", "/v1/leaderboard?method=alpaca-eval&lc=false");
        expect(noLc.body.rows.every((r: { length_controlled_winrate: unknown }) => r.length_controlled_winrate === null)).toBe(true);
        expectErrorShape(await api("GET", "/v1/leaderboard?method=alpaca-eval&baseline=nobody"), 400, "validation_failed");
        expectErrorShape(await api("GET", "/v1/leaderboard?method=alpaca-eval&difficulty=shipped"), 400, "validation_failed");
      });

      it("answers bad leaderboard input with a 400 naming the field", async () => {
        const { api } = await seeded();
        await api("POST", "/v1/feedback", { batch: [pairwise("f0", ["i0-a", "i0-b"], "second"), pairwise("f1", ["i1-a", "i1-b"], "first")] });
        const zero = await api("GET", "/v1/leaderboard?bootstrap=0");
        expectErrorShape(zero, 400, "validation_failed");
        expect(zero.body.error.issues[0].path).toBe("bootstrap");
        // every evaluated output an empty string: no length to control for, and no AlpacaEval instruction
        const { api: api2 } = await setup();
        await api2("POST", "/v1/items", { batch: [item("e0"), item("e1"), item("e2")] });
        await api2("POST", "/v1/generations", { batch: ["e0", "e1", "e2"].flatMap((i) => [gen(`${i}-a`, i, "a"), gen(`${i}-b`, i, "b", { output: "" })]) });
        await api2("POST", "/v1/feedback", { batch: ["e0", "e1", "e2"].map((i, k) => pairwise(`x${k}`, [`${i}-a`, `${i}-b`], k ? "first" : "second")) });
        const empty = await api2("GET", "/v1/leaderboard?method=alpaca-eval&baseline=a");
        expectErrorShape(empty, 400, "validation_failed");
        expect(empty.body.error.issues[0].path).toBe("output_2");
        expect((await api2("GET", "/v1/leaderboard?method=alpaca-eval&baseline=a&lc=false")).body.rows).toHaveLength(1);
      });

      it("streams every export format exactly as the io room writes it", async () => {
        const { api, store } = await seeded();
        await api("POST", "/v1/feedback", { batch: [pairwise("f0", ["i0-a", "i0-b"], "second"), pairwise("f1", ["i1-a", "i1-b"], "tie"), { id: "b0", kind: "binary", targets: ["i2-a"], source: { type: "user", id: "u" }, value: { ok: true } }] });
        const items = [];
        const generations = [];
        const feedback = [];
        for await (const x of store.iterateItems({ project: "p" })) items.push(x);
        for await (const x of store.iterateGenerations({ project: "p" })) generations.push(x);
        for await (const x of store.iterateFeedback({ project: "p" })) feedback.push(x);
        const src = memorySource({ items, generations, feedback });
        for (const format of ["trl-preference", "trl-unpaired", "openai-dpo", "alpaca-eval", "rlxf"] as const) {
          const r = await api("GET", `/v1/export?format=${format}`);
          expect(r.status, format).toBe(200);
          expect(r.headers.get("content-type")).toContain(format === "alpaca-eval" ? "application/json" : "application/x-ndjson");
          expect(r.text, format).toBe(await exportToString(format, src));
        }
        expectErrorShape(await api("GET", "/v1/export"), 400);
        expectErrorShape(await api("GET", "/v1/export?format=csv"), 400);
      });
    });

    describe("OpenAPI", () => {
      it("documents every route, generated from the validating schemas", async () => {
        const { app } = await setup();
        const doc = (await caller(app)("GET", "/v1/openapi.json")).body;
        expect(doc.openapi).toBe("3.1.0");
        const routes = new Set<string>();
        for (const r of app.routes) {
          if (r.method === "ALL") continue;
          routes.add(`${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`);
        }
        const documented = new Set<string>();
        for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
          for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`);
        }
        expect([...routes].sort()).toEqual([...documented].sort());
        expect([...documented].sort()).toEqual([...documentedOperations()].sort());
        // Every $ref resolves.
        const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
        for (const ref of refs) expect(doc.components.schemas).toHaveProperty(ref.split("/").pop()!.replace(/"$/, ""));
        // The record schemas are the feedback room's: every kind, strict objects, id optional on input.
        const fb = doc.components.schemas.FeedbackInput;
        const kinds = (fb.oneOf ?? fb.anyOf).map((v: { properties: { kind: { const: string } } }) => v.properties.kind.const);
        expect(kinds).toContain("pairwise");
        expect(kinds).toHaveLength(10);
        expect((fb.oneOf ?? fb.anyOf)[0].additionalProperties).toBe(false);
        expect((fb.oneOf ?? fb.anyOf)[0].required).not.toContain("id");
        expect(doc.components.schemas.Feedback.oneOf?.[0]?.required ?? doc.components.schemas.Feedback.anyOf[0].required).toContain("id");
        const listFeedback = doc.paths["/v1/feedback"].get.parameters.map((p: { name: string }) => p.name);
        expect(listFeedback).toEqual(expect.arrayContaining(["kind", "sourceType", "sourceId", "itemId", "generationId", "policy", "since", "until", "limit", "cursor"]));
        expect(doc.paths["/v1/export"].get.parameters[0]).toMatchObject({ name: "format", required: true, schema: { enum: expect.arrayContaining(["rlxf"]) } });
      });
    });
  });
}
