/**
 * Rules over HTTP, through the TypeScript client and from the command line, on SQLite and PostgreSQL: admins
 * create, change, disable and delete rules; read keys list them; generations written through the API are
 * judged by the server's workers and the counts show it; bad rules and rules over the server's ceilings are
 * refused with the field named.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { program } from "../../src/cli/program.js";
import { Rlxf } from "../../src/client/index.js";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { createApp, listen } from "../../src/server/index.js";
import { type Store, openStore } from "../../src/store/index.js";
import { postgresForFile } from "../support/postgres.js";

const pg = postgresForFile("rules-api");
const dir = mkdtempSync(join(tmpdir(), "rlxf-rules-api-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CRITIQUE = JSON.stringify({ summary: "ok", strengths: [], weaknesses: ["short"], suggestions: [], verdict: "fail" });
let model: FakeServer;
beforeAll(async () => {
  model = await startFakeModelServer({ respond: () => CRITIQUE });
});
afterAll(() => model.close());

const engines: [string, () => Promise<Store>, boolean][] = [
  ["sqlite", () => openStore({ path: join(dir, `${Math.random().toString(36).slice(2)}.db`) }), false],
  ["postgres", async () => openStore({ url: await pg.fresh() }), !pg.available],
];

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const [name, open, skip] of engines) {
  describe.skipIf(skip)(`rules API and client: ${name}`, () => {
    const cleanup: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
    });

    async function setup(limits: Record<string, number> = {}) {
      const store = await open();
      const app = createApp({ store, log: () => {}, limits });
      const running = await listen(app, { port: 0 });
      cleanup.push(() => store.close(), () => running.close());
      const keys = Object.fromEntries(await Promise.all((["admin", "read", "ingest", "annotate"] as const).map(async (role) => [role, (await store.keys.create({ project: "p", role, name: role })).secret])));
      const http = async (method: string, path: string, body?: unknown, key = keys.admin) => {
        const res = await fetch(running.url + path, { method, headers: { Authorization: `Bearer ${key}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
        const text = await res.text();
        return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any, headers: res.headers };
      };
      const client = (key = keys.admin) => new Rlxf({ url: running.url, key, retries: 0 });
      return { store, http, client, keys };
    }

    it("an admin makes a rule; generations written through the API are judged by the server's workers; the counts show it", async () => {
      const { http, client, keys } = await setup();
      const r = await http("POST", "/v1/rules", { name: "critique prod", judge: "critique", model: { baseUrl: model.baseUrl, model: "judge" }, filter: { policy: "prod", metadata: { env: "live" } } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.headers.get("location")).toBe(`/v1/rules/${r.body.rule.id}`);
      expect(r.body.rule).toMatchObject({ name: "critique prod", enabled: true, pairwise: false, sampleRate: 1, maxPerHour: 1000, counts: { matched: 0, evaluated: 0, failed: 0, pending: 0 } });
      const id = r.body.rule.id as string;
      const ingest = client(keys.ingest);
      await ingest.createItems({ id: "q1", prompt: "what is up?" });
      // One record (group-committed) and a batch.
      expect((await http("POST", "/v1/generations", { id: "g1", itemId: "q1", policy: "prod", output: "the sky", metadata: { env: "live" } }, keys.ingest)).status).toBe(201);
      expect(
        (await http("POST", "/v1/generations", { batch: [{ id: "g2", itemId: "q1", policy: "prod", output: "nothing", metadata: { env: "live" } }, { id: "g3", itemId: "q1", policy: "prod", output: "test", metadata: { env: "test" } }] }, keys.ingest)).status,
      ).toBe(201);
      const reader = client(keys.read);
      const done = await until(() => reader.rule(id), (x) => x?.counts.evaluated === 2, "two evaluations");
      expect(done!.counts).toMatchObject({ matched: 2, evaluated: 2, failed: 0, pending: 0 });
      const fb = await reader.listFeedback({ sourceType: "critic" });
      expect(fb.records.map((f) => f.targets[0]).sort()).toEqual(["g1", "g2"]);
      expect(fb.records.every((f) => (f.metadata as { rule?: string }).rule === id)).toBe(true);
      // The work ran as rules jobs the Jobs page lists.
      expect((await client().jobs({ kind: "rules" })).jobs.length).toBeGreaterThanOrEqual(1);
      expect((await reader.rules()).map((x) => [x.id, x.counts.evaluated])).toEqual([[id, 2]]);

      // Disabled: new traffic is not matched.
      const off = await client().updateRule(id, { enabled: false });
      expect(off.enabled).toBe(false);
      await ingest.createGenerations({ id: "g4", itemId: "q1", policy: "prod", output: "later", metadata: { env: "live" } });
      expect((await reader.rule(id))!.counts.matched).toBe(2);
      // Sampling at 0: nothing is taken even when enabled.
      await client().updateRule(id, { enabled: true, sampleRate: 0 });
      await ingest.createGenerations({ id: "g5", itemId: "q1", policy: "prod", output: "later still", metadata: { env: "live" } });
      expect((await reader.rule(id))!.counts.matched).toBe(2);

      await client().deleteRule(id);
      expect(await reader.rule(id)).toBeUndefined();
      expect((await http("DELETE", `/v1/rules/${id}`)).status).toBe(404);
      // The verdicts stay.
      expect((await reader.listFeedback({ sourceType: "critic" })).records).toHaveLength(2);
    });

    it("only admins manage rules; read keys list them; ingest and annotate keys see none", async () => {
      const { http, keys } = await setup();
      const body = { name: "r", judge: "critique" };
      for (const role of ["read", "ingest", "annotate"] as const) expect((await http("POST", "/v1/rules", body, keys[role])).status).toBe(403);
      const id = (await http("POST", "/v1/rules", body)).body.rule.id;
      expect((await http("GET", "/v1/rules", undefined, keys.read)).body.rules).toHaveLength(1);
      expect((await http("GET", `/v1/rules/${id}`, undefined, keys.read)).status).toBe(200);
      for (const role of ["ingest", "annotate"] as const) {
        expect((await http("GET", "/v1/rules", undefined, keys[role])).status).toBe(403);
        expect((await http("GET", `/v1/rules/${id}`, undefined, keys[role])).status).toBe(403);
      }
      expect((await http("PATCH", `/v1/rules/${id}`, { enabled: false }, keys.read)).status).toBe(403);
      expect((await http("DELETE", `/v1/rules/${id}`, undefined, keys.read)).status).toBe(403);
      // Another project's admin does not see it.
      const { http: other } = await setup();
      expect((await other("GET", `/v1/rules/${id}`)).status).toBe(404);
    });

    it("refuses bad rules with the field named, and rules over the server's ceilings", async () => {
      const { http } = await setup({ ruleMaxPerHour: 50, rulesPerProject: 2 });
      const bad = async (body: unknown, field: string, status = 400) => {
        const r = await http("POST", "/v1/rules", body);
        expect(r.status, JSON.stringify(r.body)).toBe(status);
        expect(JSON.stringify(r.body.error)).toContain(field);
      };
      await bad({ name: "x" }, "judge");
      await bad({ name: "x", judge: "critique", verifier: "math" }, "judge");
      await bad({ name: "x", judge: "no-such-judge" }, "no-such-judge");
      await bad({ name: "x", verifier: "no-such-spec" }, "no-such-spec");
      await bad({ name: "x", judge: "critique", sampleRate: 1.5 }, "sampleRate");
      await bad({ name: "x", judge: "critique", maxPerHour: 0 }, "maxPerHour");
      await bad({ name: "x", judge: "critique", maxPerHour: 51 }, "ruleMaxPerHour");
      await bad({ name: "x", judge: "critique", filter: { policy: "" } }, "filter.policy");
      await bad({ name: "x", judge: "critique", surprise: true }, "surprise");
      const first = await http("POST", "/v1/rules", { name: "a", judge: "critique" });
      expect(first.body.rule.maxPerHour).toBe(50);
      expect((await http("PATCH", `/v1/rules/${first.body.rule.id}`, { maxPerHour: 500 })).status).toBe(400);
      expect((await http("PATCH", `/v1/rules/${first.body.rule.id}`, {})).status).toBe(400);
      expect((await http("PATCH", "/v1/rules/nope", { enabled: false })).status).toBe(404);
      expect((await http("POST", "/v1/rules", { name: "b", verifier: "math" })).status).toBe(201);
      const over = await http("POST", "/v1/rules", { name: "c", judge: "critique" });
      expect(over.status).toBe(400);
      expect(over.body.error).toMatchObject({ code: "over_ceiling" });
      expect(over.body.error.message).toContain("rulesPerProject");
    });

    it("holds rulesPerProject under concurrent creates: the ceiling is checked where the rule is written", async () => {
      const { http } = await setup({ rulesPerProject: 3 });
      expect((await http("POST", "/v1/rules", { name: "first", judge: "critique" })).status).toBe(201);
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => http("POST", "/v1/rules", { name: `r${i}`, judge: "critique" })));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses, JSON.stringify(answers.map((a) => a.body))).toEqual([201, 201, 400, 400, 400, 400]);
      for (const a of answers.filter((x) => x.status === 400)) {
        expect(a.body.error).toMatchObject({ code: "over_ceiling" });
        expect(a.body.error.message).toContain("rulesPerProject");
      }
      expect((await http("GET", "/v1/rules")).body.rules).toHaveLength(3);
    });

    it("makes a create with an id safe to retry: the same definition answers the rule (200), another is a 409", async () => {
      const { http } = await setup({ rulesPerProject: 1 });
      const body = { id: "critique-prod", name: "critique prod", judge: "critique", filter: { policy: "prod" }, sampleRate: 0.5 };
      const first = await http("POST", "/v1/rules", body);
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      expect(first.body.rule).toMatchObject({ id: "critique-prod", sampleRate: 0.5 });
      // Retried (say its answer was lost): the same rule, not a second one, even at the project's ceiling of one.
      const again = await http("POST", "/v1/rules", body);
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(again.body.rule).toEqual(first.body.rule);
      const changed = await http("POST", "/v1/rules", { ...body, sampleRate: 0.25 });
      expect(changed.status).toBe(409);
      expect(changed.body.error).toMatchObject({ code: "conflict" });
      expect(changed.body.error.message).toContain("critique-prod");
      expect((await http("POST", "/v1/rules", { ...body, id: "" })).status).toBe(400);
      const rules = (await http("GET", "/v1/rules")).body.rules;
      expect(rules.map((r: { id: string; sampleRate: number }) => [r.id, r.sampleRate])).toEqual([["critique-prod", 0.5]]);
    });

    it("is described in the OpenAPI document with its roles", async () => {
      const { http } = await setup();
      const doc = (await http("GET", "/v1/openapi.json")).body;
      expect(Object.keys(doc.paths["/v1/rules"]).sort()).toEqual(["get", "post"]);
      expect(Object.keys(doc.paths["/v1/rules/{id}"]).sort()).toEqual(["delete", "get", "patch"]);
      expect(doc.paths["/v1/rules"].post["x-roles"]).toEqual(["admin"]);
      expect(doc.paths["/v1/rules"].get["x-roles"]).toEqual(["admin", "read"]);
      expect(doc.components.schemas.CreateRuleBody).toBeDefined();
      expect(doc.components.schemas.CreateRuleBody.properties.id).toBeDefined();
      expect(Object.keys(doc.paths["/v1/rules"].post.responses)).toEqual(expect.arrayContaining(["200", "201", "409"]));
    });
  });
}

describe("rlxf rules", () => {
  async function rlxf(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number; error?: unknown }> {
    let stdout = "";
    let stderr = "";
    const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
    const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
    const before = process.exitCode;
    process.exitCode = 0;
    let error: unknown;
    try {
      const p = program();
      p.exitOverride();
      await p.parseAsync(["node", "rlxf", ...args]);
    } catch (err) {
      error = err;
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
    const exitCode = Number(process.exitCode ?? 0);
    process.exitCode = before;
    return { stdout, stderr, exitCode, error };
  }

  it("adds, lists, shows, disables and enables rules on a database the workers share", async () => {
    const db = join(dir, "cli.db");
    const add = await rlxf(["rules", "add", "--name", "live critique", "--judge", "critique", "--base-url", model.baseUrl, "--model", "judge", "--policy", "prod", "--meta", "env=live", "--meta", "tier=gold", "--sample-rate", "0.5", "--max-per-hour", "20", "--project", "c", "--db", db]);
    expect(add.error).toBeUndefined();
    const id = add.stdout.trim();
    expect(id).toMatch(/^rule_/);
    const store = await openStore({ path: db });
    try {
      expect(await store.rules.get("c", id)).toMatchObject({ name: "live critique", judge: "critique", model: { baseUrl: model.baseUrl, model: "judge" }, filter: { policy: "prod", metadata: { env: "live", tier: "gold" } }, sampleRate: 0.5, maxPerHour: 20, enabled: true });
      await store.write({ items: [{ id: "i", project: "c", prompt: "hi" }], generations: Array.from({ length: 20 }, (_, i) => ({ id: `g${i}`, project: "c", itemId: "i", policy: "prod", output: `o${i}`, metadata: { env: "live", tier: "gold" } })) });
      const matched = (await store.rules.counts("c")).get(id)!.matched;
      expect(matched).toBeGreaterThan(0);
      expect(matched).toBeLessThan(20);
      const list = await rlxf(["rules", "list", "--project", "c", "--db", db]);
      expect(list.stdout).toContain("live critique");
      expect(list.stdout).toContain("judge critique");
      expect(list.stdout).toContain("env=live tier=gold");
      expect(list.stdout).toMatch(new RegExp(`enabled.*\\b${matched}\\b`));
      const show = JSON.parse((await rlxf(["rules", "show", id, "--project", "c", "--db", db])).stdout);
      expect(show).toMatchObject({ id, counts: { matched, pending: matched, evaluated: 0 } });
      expect((await rlxf(["rules", "disable", id, "--project", "c", "--db", db])).stdout).toContain("disabled");
      expect((await store.rules.get("c", id))!.enabled).toBe(false);
      await rlxf(["rules", "enable", id, "--project", "c", "--db", db]);
      expect((await store.rules.get("c", id))!.enabled).toBe(true);
      const json = JSON.parse((await rlxf(["rules", "list", "--project", "c", "--db", db, "--json"])).stdout);
      expect(json.map((r: { id: string }) => r.id)).toEqual([id]);
      const missing = await rlxf(["rules", "show", "nope", "--project", "c", "--db", db]);
      expect(String((missing.error as Error | undefined)?.message ?? missing.stderr)).toContain('no rule "nope"');
      const bad = await rlxf(["rules", "add", "--name", "x", "--judge", "no-such-judge", "--project", "c", "--db", db]);
      expect(String((bad.error as Error | undefined)?.message ?? bad.stderr)).toContain("no-such-judge");
      expect((await store.rules.list("c")).length).toBe(1);
      // With --id, adding the same rule twice (a script run again) leaves one rule.
      const named = ["rules", "add", "--id", "math-live", "--name", "math", "--verifier", "math", "--project", "c", "--db", db];
      expect((await rlxf(named)).stdout.trim()).toBe("math-live");
      const twice = await rlxf(named);
      expect(twice.error).toBeUndefined();
      expect(twice.stderr).toContain("already there");
      expect((await store.rules.list("c")).map((r) => r.id).sort()).toEqual([id, "math-live"].sort());
    } finally {
      await store.close();
    }
  });
});
