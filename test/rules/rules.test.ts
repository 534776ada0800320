/**
 * Judges on live traffic, on SQLite and PostgreSQL, with a real local model server as the judge: a rule evaluates
 * the new generations its filter matches and no others, samples deterministically by generation id, survives a
 * crash between the write and the evaluation, stores one verdict per generation however often an evaluation is
 * retried, stops when disabled, and keeps to its hourly ceiling with the rest left as visible backlog.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Jobs, openJobs } from "../../src/jobs/index.js";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { createRule, ruleFeedbackId, sampledIn, updateRule } from "../../src/rules/index.js";
import { RULE_CLAIM_LEASE_MS, type Store, openStore } from "../../src/store/index.js";
import { postgresForFile } from "../support/postgres.js";

const pg = postgresForFile("rules");
const dir = mkdtempSync(join(tmpdir(), "rlxf-rules-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const engines: [string, () => Promise<string | { path: string }>, boolean][] = [
  ["sqlite", async () => ({ path: join(dir, `${Math.random().toString(36).slice(2)}.db`) }), false],
  ["postgres", () => pg.fresh(), !pg.available],
];

const CRITIQUE = JSON.stringify({ summary: "fine", strengths: ["clear"], weaknesses: [], suggestions: [], verdict: "pass" });

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeModelServer({ respond: () => CRITIQUE });
});
afterAll(() => server.close());

/** Wait until `check` holds (polling the store; generous bound, no timing asserted). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const [name, target, skip] of engines) {
  describe.skipIf(skip)(`rules on live traffic: ${name}`, () => {
    const cleanup: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
      server.reset();
      server.respond = () => CRITIQUE;
    });

    async function open(where?: string | { path: string }): Promise<{ store: Store; where: string | { path: string } }> {
      const w = where ?? (await target());
      const store = await openStore(typeof w === "string" ? { url: w } : w);
      cleanup.push(() => store.close());
      return { store, where: w };
    }
    function run(store: Store): Jobs {
      const jobs = openJobs(store, { run: { concurrency: 2, pollMs: 50, heartbeatMs: 200, threads: false }, rulesSweepMs: 200, log: () => {} });
      cleanup.push(() => jobs.close());
      return jobs;
    }
    const model = () => ({ baseUrl: server.baseUrl, model: "judge" });
    const items = (project: string, n: number, dataset = "live") => Array.from({ length: n }, (_, i) => ({ id: `i${i}`, project, prompt: `question ${i}`, dataset }));
    const counts = async (store: Store, project: string, id: string) => (await store.rules.counts(project)).get(id) ?? { matched: 0, evaluated: 0, failed: 0, pending: 0, lastHour: 0 };

    it("evaluates the new generations its filter matches, and no others, as feedback from the judge with the rule in its metadata", async () => {
      const { store } = await open();
      await store.write({ items: [...items("p", 3), { id: "other", project: "p", prompt: "elsewhere", dataset: "offline" }], generations: [{ id: "old", project: "p", itemId: "i0", policy: "prod", output: "written before the rule" }] });
      const rule = await createRule(store, "p", { name: "critique prod", judge: "critique", model: model(), filter: { dataset: "live", policy: "prod", metadata: { env: "live" } } });
      expect(rule).toMatchObject({ pairwise: false, enabled: true, sampleRate: 1, maxPerHour: 1000 });
      await store.write({
        generations: [
          { id: "g1", project: "p", itemId: "i1", policy: "prod", output: "one", metadata: { env: "live" } },
          { id: "g2", project: "p", itemId: "i2", policy: "prod", output: "two", metadata: { env: "live", extra: 1 } },
          { id: "n-policy", project: "p", itemId: "i1", policy: "canary", output: "x", metadata: { env: "live" } },
          { id: "n-meta", project: "p", itemId: "i1", policy: "prod", output: "x", metadata: { env: "test" } },
          { id: "n-nometa", project: "p", itemId: "i1", policy: "prod", output: "x" },
          { id: "n-dataset", project: "p", itemId: "other", policy: "prod", output: "x", metadata: { env: "live" } },
        ],
      });
      // Another project's rule-less traffic is untouched.
      await store.write({ items: items("q", 1), generations: [{ id: "g1", project: "q", itemId: "i0", policy: "prod", output: "one", metadata: { env: "live" } }] });
      expect(await counts(store, "p", rule.id)).toMatchObject({ matched: 2, pending: 2, evaluated: 0 });
      run(store);
      await until(async () => (await counts(store, "p", rule.id)).evaluated === 2, "two evaluations");
      const fb = (await store.listFeedback({ project: "p" })).records;
      expect(fb.map((f) => f.targets[0]).sort()).toEqual(["g1", "g2"]);
      for (const f of fb) {
        expect(f).toMatchObject({ kind: "critique", source: { type: "critic", id: "critique/judge" }, metadata: { rule: rule.id, ruleName: "critique prod" }, value: { verdict: "pass" } });
        expect(f.id).toBe(ruleFeedbackId(rule.id, f.targets));
      }
      expect((await store.listFeedback({ project: "q" })).records).toEqual([]);
      expect(server.requests.filter((r) => r.api === "chat")).toHaveLength(2);
      expect(await counts(store, "p", rule.id)).toMatchObject({ matched: 2, evaluated: 2, failed: 0, pending: 0, lastHour: 2 });
    });

    it("samples by generation id: the same generations are in or out every time, a lower rate takes a subset", async () => {
      const { store } = await open();
      const half = await createRule(store, "p", { name: "half", judge: "critique", model: model(), sampleRate: 0.5, enabled: false });
      const tenth = await createRule(store, "p", { name: "tenth", judge: "critique", model: model(), sampleRate: 0.1, enabled: false });
      await updateRule(store, "p", half.id, { enabled: true });
      await updateRule(store, "p", tenth.id, { enabled: true });
      const ids = Array.from({ length: 200 }, (_, i) => `gen-${i}`);
      await store.write({ items: items("p", 1), generations: ids.map((id) => ({ id, project: "p", itemId: "i0", policy: "prod", output: id })) });
      const both = await store.rules.claim({ project: "p", worker: "t", n: 1000, leaseMs: RULE_CLAIM_LEASE_MS });
      const halfIds = both.filter((c) => c.ruleId === half.id).map((c) => c.subject).sort();
      const tenthIds = both.filter((c) => c.ruleId === tenth.id).map((c) => c.subject).sort();
      expect(halfIds).toEqual(ids.filter((id) => sampledIn(id, 0.5)).sort());
      expect(tenthIds).toEqual(ids.filter((id) => sampledIn(id, 0.1)).sort());
      expect(halfIds.length).toBeGreaterThan(60);
      expect(halfIds.length).toBeLessThan(140);
      expect(tenthIds.length).toBeGreaterThan(0);
      expect(tenthIds.every((id) => halfIds.includes(id))).toBe(true);
      // The same ids in another project make the same choice.
      const again = await createRule(store, "p2", { name: "half", judge: "critique", model: model(), sampleRate: 0.5 });
      await store.write({ items: items("p2", 1), generations: ids.map((id) => ({ id, project: "p2", itemId: "i0", policy: "prod", output: id })) });
      const p2 = (await store.rules.claim({ project: "p2", worker: "t", n: 1000, leaseMs: RULE_CLAIM_LEASE_MS })).filter((c) => c.ruleId === again.id).map((c) => c.subject).sort();
      expect(p2).toEqual(halfIds);
      expect(sampledIn("anything", 0)).toBe(false);
      expect(sampledIn("anything", 1)).toBe(true);
    });

    it("a crash between the write and the evaluation loses nothing: the pending evaluation is in the store, and a worker started later runs it", async () => {
      const first = await open();
      const rule = await createRule(first.store, "p", { name: "crash", judge: "critique", model: model() });
      await first.store.write({ items: items("p", 2), generations: [{ id: "a", project: "p", itemId: "i0", policy: "prod", output: "a" }, { id: "b", project: "p", itemId: "i1", policy: "prod", output: "b" }] });
      // A worker that claimed one and died mid-evaluation: its claim is older than the lease.
      const [lost] = await first.store.rules.claim({ project: "p", worker: "dead", n: 1, leaseMs: RULE_CLAIM_LEASE_MS, now: Date.now() - RULE_CLAIM_LEASE_MS - 60_000 });
      expect(lost).toBeDefined();
      // The process goes away before any job was submitted.
      await first.store.close();
      const second = await open(first.where);
      expect(await counts(second.store, "p", rule.id)).toMatchObject({ matched: 2, pending: 2 });
      run(second.store);
      await until(async () => (await counts(second.store, "p", rule.id)).evaluated === 2, "both evaluations after the restart");
      expect((await second.store.listFeedback({ project: "p" })).records.map((f) => f.targets[0]).sort()).toEqual(["a", "b"]);
      const jobs = await second.store.jobs.list({ project: "p", kind: "rules" });
      expect(jobs.jobs.length).toBeGreaterThanOrEqual(1);
    });

    it("never stores a second verdict: completing an evaluation again, or running it again after its verdict, writes nothing", async () => {
      const { store } = await open();
      const rule = await createRule(store, "p", { name: "once", judge: "critique", model: model() });
      await store.write({ items: items("p", 1), generations: [{ id: "g", project: "p", itemId: "i0", policy: "prod", output: "g" }] });
      const [ev] = await store.rules.claim({ project: "p", worker: "w1", n: 10, leaseMs: RULE_CLAIM_LEASE_MS });
      const verdict = (verdict: string) => ({
        id: ruleFeedbackId(rule.id, ["g"]),
        project: "p",
        itemId: "i0",
        kind: "critique" as const,
        targets: ["g"],
        source: { type: "critic" as const, id: "critique/judge" },
        value: { verdict, summary: verdict },
        metadata: { rule: rule.id },
      });
      expect(await store.rules.complete(ev!, { feedback: verdict("pass") as never })).toBe("stored");
      // The same evaluation finished again (a second worker that took it over): nothing more, even with another verdict.
      expect(await store.rules.complete(ev!, { feedback: verdict("fail") as never })).toBe("existing");
      expect(await store.rules.complete(ev!, { error: "late failure" })).toBe("existing");
      // Workers and further rules jobs find nothing to do.
      const jobs = run(store);
      await jobs.submit({ kind: "rules", input: {}, project: "p", origin: "cli" });
      await until(async () => (await store.jobs.list({ project: "p", kind: "rules", state: "succeeded" })).jobs.length >= 1, "the rules job");
      const fb = (await store.listFeedback({ project: "p" })).records;
      expect(fb).toHaveLength(1);
      expect(fb[0]!.value).toMatchObject({ verdict: "pass" });
      expect(server.requests).toHaveLength(0);
      expect(await counts(store, "p", rule.id)).toMatchObject({ matched: 1, evaluated: 1, pending: 0 });
    });

    it("retries a provider failure, then keeps the failure; an unreadable answer fails at once", async () => {
      const { store } = await open();
      const rule = await createRule(store, "p", { name: "flaky", judge: "critique", model: { ...model(), maxRetries: 0 } });
      server.respond = (r) => (r.prompt.includes("broken") ? { status: 500, body: { error: { message: "down" } } } : r.prompt.includes("nonsense") ? "no json here" : CRITIQUE);
      await store.write({
        items: items("p", 3),
        generations: [
          { id: "ok", project: "p", itemId: "i0", policy: "prod", output: "fine" },
          { id: "down", project: "p", itemId: "i1", policy: "prod", output: "broken" },
          { id: "bad", project: "p", itemId: "i2", policy: "prod", output: "nonsense" },
        ],
      });
      run(store);
      await until(async () => {
        const c = await counts(store, "p", rule.id);
        return c.evaluated + c.failed === 3;
      }, "every evaluation to finish");
      expect(await counts(store, "p", rule.id)).toMatchObject({ matched: 3, evaluated: 1, failed: 2, pending: 0 });
      const down = server.requests.filter((r) => r.prompt.includes("broken"));
      // Three attempts of the evaluation, each asking once.
      expect(down).toHaveLength(3);
      expect((await store.listFeedback({ project: "p" })).records.map((f) => f.targets[0])).toEqual(["ok"]);
    });

    it("a disabled rule marks nothing new and runs nothing it had pending; enabled again, it goes on", async () => {
      const { store } = await open();
      const rule = await createRule(store, "p", { name: "toggle", judge: "critique", model: model() });
      await store.rules.update("p", rule.id, { enabled: false });
      await store.write({ items: items("p", 3), generations: [{ id: "while-off", project: "p", itemId: "i0", policy: "prod", output: "x" }] });
      expect(await counts(store, "p", rule.id)).toMatchObject({ matched: 0 });
      await store.rules.update("p", rule.id, { enabled: true });
      await store.write({ generations: [{ id: "pending-then-off", project: "p", itemId: "i1", policy: "prod", output: "y" }] });
      await store.rules.update("p", rule.id, { enabled: false });
      expect(await store.rules.claim({ project: "p", worker: "w", n: 10, leaseMs: RULE_CLAIM_LEASE_MS })).toEqual([]);
      expect((await store.rules.backlog({ leaseMs: RULE_CLAIM_LEASE_MS })).get("p")).toBeUndefined();
      const jobs = run(store);
      await jobs.submit({ kind: "rules", input: {}, project: "p", origin: "cli" });
      await until(async () => (await store.jobs.list({ project: "p", kind: "rules", state: "succeeded" })).jobs.length >= 1, "the rules job");
      expect(await counts(store, "p", rule.id)).toMatchObject({ matched: 1, evaluated: 0, pending: 1 });
      expect(server.requests).toHaveLength(0);
      await store.rules.update("p", rule.id, { enabled: true });
      await jobs.kickRules("p");
      await until(async () => (await counts(store, "p", rule.id)).evaluated === 1, "the evaluation once enabled");
      expect((await store.listFeedback({ project: "p" })).records.map((f) => f.targets[0])).toEqual(["pending-then-off"]);
    });

    it("keeps to its evaluations per hour: the rest wait as backlog and no job spins on them", async () => {
      const { store } = await open();
      const rule = await createRule(store, "p", { name: "capped", judge: "critique", model: model(), maxPerHour: 3 });
      await store.write({ items: items("p", 8), generations: Array.from({ length: 8 }, (_, i) => ({ id: `c${i}`, project: "p", itemId: `i${i}`, policy: "prod", output: `c${i}` })) });
      const jobs = run(store);
      await until(async () => (await counts(store, "p", rule.id)).evaluated === 3, "three evaluations");
      await until(async () => (await store.jobs.list({ project: "p", kind: "rules", state: "running" })).jobs.length === 0 && (await store.jobs.list({ project: "p", kind: "rules", state: "queued" })).jobs.length === 0, "the jobs to end");
      expect(await counts(store, "p", rule.id)).toMatchObject({ matched: 8, evaluated: 3, pending: 5, lastHour: 3 });
      // Nothing claimable within the hour: the sweep submits no more jobs.
      expect((await store.rules.backlog({ leaseMs: RULE_CLAIM_LEASE_MS })).get("p")).toBeUndefined();
      expect(await jobs.kickRules("p")).toBe(0);
      expect(server.requests).toHaveLength(3);
      // An hour later there is room again.
      expect((await store.rules.claim({ project: "p", worker: "w", n: 10, leaseMs: RULE_CLAIM_LEASE_MS, now: Date.now() + 3_600_001 })).length).toBe(3);
    });

    it("a pairwise rule judges each new pair of one item's outputs of two policies, once", async () => {
      const { store } = await open();
      server.respond = () => "M";
      const rule = await createRule(store, "p", { name: "ab", judge: "pairwise", model: model() });
      expect(rule.pairwise).toBe(true);
      await store.write({ items: items("p", 2), generations: [{ id: "a0", project: "p", itemId: "i0", policy: "a", output: "first answer" }] });
      await store.write({ generations: [{ id: "b0", project: "p", itemId: "i0", policy: "b", output: "second answer" }, { id: "a1", project: "p", itemId: "i1", policy: "a", output: "lonely" }] });
      // A second output of the same policy makes no pair with its own policy.
      await store.write({ generations: [{ id: "a0bis", project: "p", itemId: "i0", policy: "a", output: "again" }] });
      run(store);
      await until(async () => (await counts(store, "p", rule.id)).evaluated === 2, "two pairs");
      const fb = (await store.listFeedback({ project: "p" })).records;
      expect(fb.map((f) => f.targets.join(",")).sort()).toEqual(["a0,b0", "b0,a0bis"]);
      for (const f of fb) expect(f).toMatchObject({ kind: "pairwise", itemId: "i0", source: { type: "judge" }, metadata: { rule: rule.id } });
    });

    it("a verifier rule scores new outputs with a saved reward spec by name", async () => {
      const { store } = await open();
      await store.configs.save({ project: "p", kind: "reward-spec", name: "answers", body: "math" });
      const rule = await createRule(store, "p", { name: "math", verifier: "answers" });
      await expect(createRule(store, "p", { name: "nope", verifier: "no-such-spec" })).rejects.toThrow(/no-such-spec/);
      await store.write({
        items: [{ id: "m", project: "p", prompt: "2+2?", reference: "4" }],
        generations: [{ id: "right", project: "p", itemId: "m", policy: "prod", output: "\\boxed{4}" }, { id: "wrong", project: "p", itemId: "m", policy: "prod", output: "\\boxed{5}" }],
      });
      run(store);
      await until(async () => (await counts(store, "p", rule.id)).evaluated === 2, "two verifications");
      const fb = (await store.listFeedback({ project: "p" })).records;
      const byTarget = Object.fromEntries(fb.map((f) => [f.targets[0], f]));
      expect(byTarget.right).toMatchObject({ kind: "verification", source: { type: "verifier" }, value: { passed: true }, metadata: { rule: rule.id } });
      expect(byTarget.wrong).toMatchObject({ value: { passed: false } });
    });
  });
}
