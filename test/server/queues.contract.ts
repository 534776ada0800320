/**
 * Annotation queues, dashboards and background exports over a real listening server, registered once per
 * engine (queues.sqlite.test.ts, queues.postgres.test.ts).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cohenKappa, krippendorffAlpha } from "../../src/eval/index.js";
import { createApp, listen, type RunningServer } from "../../src/server/index.js";
import type { Store } from "../../src/store/index.js";
import type { StoreFactory } from "./helpers.js";
import { keyOf } from "./helpers.js";

interface Reply {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}
type Http = (method: string, path: string, body?: unknown) => Promise<Reply>;

/** Outputs of distinct lengths, so a test can tell generations apart on screen. */
const OUT: Record<string, string> = { a: "alpha output", b: "the bravo output, longer" };

export function queuesContract(name: string, factory: StoreFactory, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`queues api: ${name}`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    let exportDir = "";
    beforeAll(() => {
      exportDir = mkdtempSync(join(tmpdir(), "rlxf-exports-test-"));
      process.env.RLXF_EXPORT_DIR = exportDir;
    });
    afterAll(() => {
      delete process.env.RLXF_EXPORT_DIR;
      rmSync(exportDir, { recursive: true, force: true });
    });
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f();
    });

    /** A server over a fresh store; project "p" with items i0..i3 (dataset d), generations <i>-a, <i>-b. */
    const setup = async (n = 4) => {
      const store: Store = await factory();
      const errors: string[] = [];
      const running: RunningServer = await listen(createApp({ store, log: (l) => errors.push(l) }), { port: 0 });
      cleanup.push(async () => {
        await running.close();
        await store.close();
      });
      const http = (key: string): Http => async (method, path, body) => {
        const res = await fetch(`${running.url}${path}`, {
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
        return { status: res.status, body: parsed, text, headers: res.headers };
      };
      const items = Array.from({ length: n }, (_, i) => ({ id: `i${i}`, project: "p", prompt: `question ${i}`, dataset: "d" }));
      const generations = items.flatMap((it) => ["a", "b"].map((pol) => ({ id: `${it.id}-${pol}`, project: "p", itemId: it.id, policy: pol, output: `${OUT[pol]} ${it.id}` })));
      await store.write({ items, generations });
      const admin = http(await keyOf(store, "p", "admin"));
      const annotator = async (who: string, project = "p") => http(await keyOf(store, project, "annotate", who));
      return { store, admin, annotator, http, errors, url: running.url };
    };

    const pairQueue = (extra: Record<string, unknown> = {}) => ({
      id: "pq",
      name: "Which is better?",
      selection: { mode: "pairs" },
      questions: [{ id: "pref", kind: "pairwise", prompt: "Which answer is better?", strength: true }],
      ...extra,
    });

    const expectError = (r: { status: number; body: any; text: string }, status: number, code: string) => {
      expect(r.status, r.text).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(typeof r.body.error.message).toBe("string");
    };

    /** Which slot shows policy `pol` (by its output). */
    const slotOf = (task: any, pol: string) => task.generations.findIndex((g: any) => g.output.startsWith(OUT[pol]!));

    it("creates queues from pairs, generations, lists, explicit pairs and a seeded sample", async () => {
      const { admin } = await setup();
      const r = await admin("POST", "/v1/queues", pairQueue({ annotatorsPerItem: 2 }));
      expect(r.status, r.text).toBe(201);
      expect(r.body.queue).toMatchObject({ id: "pq", annotatorsPerItem: 2, lockSeconds: 600, progress: { tasks: 4, done: 0, needed: 8, submitted: 0, skipped: 0, inProgress: 0 } });

      const gens = await admin("POST", "/v1/queues", { id: "gq", name: "Rate", selection: { mode: "generations", itemIds: ["i0", "i1"] }, questions: [{ id: "r", kind: "rating", prompt: "How good?", min: 1, max: 5 }] });
      expect(gens.body.queue.progress.tasks).toBe(4);
      const onlyA = await admin("POST", "/v1/queues", { id: "ga", name: "Rate a", selection: { mode: "generations", policies: ["a"] }, questions: [{ id: "r", kind: "binary", prompt: "OK?" }] });
      expect(onlyA.body.queue.progress.tasks).toBe(4);
      const lists = await admin("POST", "/v1/queues", { id: "lq", name: "Rank", selection: { mode: "lists" }, questions: [{ id: "rank", kind: "ranking", prompt: "Rank them" }] });
      expect(lists.body.queue.progress.tasks).toBe(4);
      const explicit = await admin("POST", "/v1/queues", { id: "xq", name: "x", selection: { mode: "pairs", pairs: [["i2-b", "i2-a"]] }, questions: [{ id: "pref", kind: "pairwise", prompt: "?" }] });
      expect(explicit.body.queue.progress.tasks).toBe(1);

      // A seeded sample is reproducible: same seed, same tasks.
      const sample = async (id: string, seed: number) => {
        const q = await admin("POST", "/v1/queues", { id, name: id, selection: { mode: "generations", sample: { n: 3, seed } }, questions: [{ id: "ok", kind: "binary", prompt: "OK?" }] });
        expect(q.status, q.text).toBe(201);
        return q.body.queue.progress.tasks;
      };
      expect(await sample("s1", 7)).toBe(3);

      const list = await admin("GET", "/v1/queues");
      expect(list.body.queues.map((q: any) => q.id).sort()).toEqual(["ga", "gq", "lq", "pq", "s1", "xq"]);
      expect((await admin("GET", "/v1/queues/pq")).body.queue.questions[0]).toMatchObject({ id: "pref", kind: "pairwise" });

      // Bad definitions are 400s naming the field; a taken id is a 409.
      const bad = await admin("POST", "/v1/queues", { name: "x", selection: { mode: "generations" }, questions: [{ id: "p", kind: "pairwise", prompt: "?" }] });
      expect(bad.status).toBe(400);
      expect(bad.body.error.issues).toContainEqual({ path: "questions.0.kind", message: expect.stringContaining("pairs") });
      const badRating = await admin("POST", "/v1/queues", { name: "x", selection: { mode: "generations" }, questions: [{ id: "r", kind: "rating", prompt: "?", min: 5, max: 1 }] });
      expect(badRating.body.error.issues).toContainEqual({ path: "questions.0.max", message: "max must be greater than min" });
      const none = await admin("POST", "/v1/queues", { name: "x", selection: { mode: "generations", dataset: "nope" }, questions: [{ id: "ok", kind: "binary", prompt: "?" }] });
      expect(none.status).toBe(400);
      expect(none.body.error.issues[0].path).toBe("selection");
      const missing = await admin("POST", "/v1/queues", { name: "x", selection: { mode: "pairs", pairs: [["i0-a", "zz"]] }, questions: [{ id: "p", kind: "pairwise", prompt: "?" }] });
      expect(missing.body.error.issues).toEqual([{ path: "selection.pairs.0.1", message: 'generation "zz" does not exist' }]);
      expect((await admin("POST", "/v1/queues", pairQueue())).status).toBe(409);
    });

    it("samples the same tasks for the same seed and other tasks for another", async () => {
      const { admin, annotator } = await setup(10);
      const ann = await annotator("alice");
      const firstTasks = async (id: string, seed: number) => {
        await admin("POST", "/v1/queues", { id, name: id, selection: { mode: "generations", sample: { n: 4, seed } }, questions: [{ id: "ok", kind: "binary", prompt: "OK?" }] });
        const seen: string[] = [];
        for (let i = 0; i < 4; i++) {
          const t = (await ann("POST", `/v1/queues/${id}/next`)).body.task;
          seen.push(t.generations[0].output);
          expect((await ann("POST", `/v1/queues/${id}/tasks/${t.id}/skip`)).status).toBe(204);
        }
        expect((await ann("POST", `/v1/queues/${id}/next`)).body.task).toBeNull();
        return seen;
      };
      const a = await firstTasks("s1", 1);
      expect(await firstTasks("s2", 1)).toEqual(a);
      expect(await firstTasks("s3", 2)).not.toEqual(a);
    });

    it("locks a task to one annotator, gives it back to them, and releases it when the lock expires", async () => {
      const { admin, annotator } = await setup(1);
      await admin("POST", "/v1/queues", pairQueue({ lockSeconds: 1 }));
      const alice = await annotator("alice");
      const bob = await annotator("bob");
      const t1 = (await alice("POST", "/v1/queues/pq/next")).body.task;
      expect(t1).toMatchObject({ id: "t1", queueId: "pq", item: { id: "i0", prompt: "question 0" }, questions: [{ id: "pref" }] });
      expect(t1.generations.map((g: any) => g.slot)).toEqual([0, 1]);
      expect(t1.generations.every((g: any) => !("policy" in g) && !("id" in g))).toBe(true);
      // The only task is Alice's: Bob gets nothing, Alice gets the same task in the same order.
      expect((await bob("POST", "/v1/queues/pq/next")).body.task).toBeNull();
      const again = (await alice("POST", "/v1/queues/pq/next")).body.task;
      expect(again.id).toBe("t1");
      expect(again.generations).toEqual(t1.generations);
      expect((await admin("GET", "/v1/queues/pq")).body.queue.progress.inProgress).toBe(1);
      // Bob cannot touch a task he does not hold.
      expect((await bob("POST", "/v1/queues/pq/tasks/t1/submit", { submissionId: "s", answers: { pref: { choice: "first" } } })).status).toBe(404);
      expect((await bob("PUT", "/v1/queues/pq/tasks/t1/draft", { answers: {} })).status).toBe(404);

      await new Promise((r) => setTimeout(r, 1100));
      const bobs = (await bob("POST", "/v1/queues/pq/next")).body.task;
      expect(bobs?.id).toBe("t1");
      expect((await admin("GET", "/v1/queues/pq")).body.queue.progress.inProgress).toBe(1);
      // Alice's lock is gone and the task needs one annotator, held by Bob: her late submit is refused.
      const late = await alice("POST", "/v1/queues/pq/tasks/t1/submit", { submissionId: "late", answers: { pref: { choice: "first" } } });
      expect(late.status).toBe(409);
    });

    it("hands each task to annotatorsPerItem distinct annotators and never again to the same one", async () => {
      const { admin, annotator } = await setup(2);
      await admin("POST", "/v1/queues", pairQueue({ annotatorsPerItem: 2 }));
      const anns = await Promise.all(["a1", "a2", "a3"].map((w) => annotator(w)));
      const done: Record<string, string[]> = { a1: [], a2: [], a3: [] };
      const work = async (who: string, http: Http) => {
        for (;;) {
          const t = (await http("POST", "/v1/queues/pq/next")).body.task;
          if (!t) return;
          const r = await http("POST", `/v1/queues/pq/tasks/${t.id}/submit`, { submissionId: `${who}-${t.id}`, answers: { pref: { choice: "tie" } } });
          expect(r.status, r.text).toBe(200);
          done[who]!.push(t.id);
        }
      };
      await work("a1", anns[0]!);
      expect(done.a1).toEqual(["t1", "t2"]);
      await work("a2", anns[1]!);
      expect(done.a2).toEqual(["t1", "t2"]);
      await work("a3", anns[2]!);
      expect(done.a3).toEqual([]);
      expect((await admin("GET", "/v1/queues/pq")).body.queue.progress).toEqual({ tasks: 2, done: 2, needed: 4, submitted: 4, skipped: 0, inProgress: 0 });
    });

    it("keeps drafts across reloads and skips a task for good", async () => {
      const { admin, annotator } = await setup(2);
      await admin("POST", "/v1/queues", pairQueue());
      const alice = await annotator("alice");
      const t = (await alice("POST", "/v1/queues/pq/next")).body.task;
      expect(t.draft).toBeUndefined();
      const draft = { pref: { choice: "second", strength: 0.5 }, note: "half done" };
      expect((await alice("PUT", `/v1/queues/pq/tasks/${t.id}/draft`, { answers: draft })).status).toBe(204);
      const reloaded = (await alice("POST", "/v1/queues/pq/next")).body.task;
      expect(reloaded).toMatchObject({ id: t.id, draft });
      expect((await alice("GET", `/v1/queues/pq/tasks/${t.id}`)).body.task).toMatchObject({ id: t.id, draft, status: "locked" });

      expect((await alice("POST", `/v1/queues/pq/tasks/${t.id}/skip`)).status).toBe(204);
      const next = (await alice("POST", "/v1/queues/pq/next")).body.task;
      expect(next.id).not.toBe(t.id);
      await alice("POST", `/v1/queues/pq/tasks/${next.id}/skip`);
      expect((await alice("POST", "/v1/queues/pq/next")).body.task).toBeNull();
      // Skipped by Alice, still open for Bob.
      const bob = await annotator("bob");
      expect((await bob("POST", "/v1/queues/pq/next")).body.task.id).toBe(t.id);
      expect((await admin("GET", "/v1/queues/pq")).body.queue.progress).toMatchObject({ skipped: 2, inProgress: 1, submitted: 0 });
      // Each annotator sees their own counts; admins see none.
      expect((await alice("GET", "/v1/queues/pq")).body.queue.mine).toEqual({ submitted: 0, skipped: 2, holding: 0 });
      expect((await bob("GET", "/v1/queues")).body.queues[0].mine).toEqual({ submitted: 0, skipped: 0, holding: 1 });
      expect((await admin("GET", "/v1/queues/pq")).body.queue.mine).toBeUndefined();
    });

    it("stores every question kind as correctly typed feedback, mapped back from the shown order", async () => {
      const { admin, annotator, store } = await setup(4);
      const questions = [
        { id: "pref", kind: "pairwise", prompt: "Which is better?", strength: true },
        { id: "rank", kind: "ranking", prompt: "Rank them" },
        { id: "stars", kind: "rating", prompt: "How good?", min: 1, max: 7, dimension: "quality" },
        { id: "ok", kind: "binary", prompt: "Acceptable?" },
        { id: "crit", kind: "critique", prompt: "Critique it", required: false },
        { id: "spans", kind: "span", prompt: "Mark errors", labels: ["error", "good"], required: false },
        { id: "rub", kind: "rubric", prompt: "Check", criteria: [{ id: "correct", description: "Is it correct?" }, { id: "style", description: "Style 0-3", maxScore: 3, weight: 2 }], required: false },
        { id: "fix", kind: "correction", prompt: "Fix it", required: false },
      ];
      const c = await admin("POST", "/v1/queues", { id: "all", name: "Everything", selection: { mode: "pairs" }, questions });
      expect(c.status, c.text).toBe(201);
      const alice = await annotator("alice");
      const seenOrders = new Set<string>();
      for (let round = 0; round < 4; round++) {
        const t = (await alice("POST", "/v1/queues/all/next")).body.task;
        const itemId = t.item.id as string;
        const sa = slotOf(t, "a");
        const sb = slotOf(t, "b");
        expect([sa, sb].sort()).toEqual([0, 1]);
        seenOrders.add(`${sa}${sb}`);
        const byPolicy = (forA: unknown, forB: unknown) => (sa === 0 ? [forA, forB] : [forB, forA]);
        const aOutput = t.generations[sa].output as string;
        const answers = {
          // b is better: "first" on screen when b was shown first.
          pref: { choice: sb === 0 ? "first" : "second", strength: 0.75 },
          rank: { ranks: byPolicy(2, 1) },
          stars: byPolicy(3, { score: 6, comment: "good" }),
          ok: byPolicy(false, { ok: true }),
          crit: byPolicy({ text: "too short", weaknesses: ["short", " "], verdict: "fail" }, null),
          spans: byPolicy({ spans: [{ start: 6, end: 12, label: "error" }, { start: 0, end: 5, label: "good" }] }, null),
          rub: byPolicy({ criteria: { correct: true, style: { score: 2, rationale: "ok" } } }, null),
          fix: byPolicy({ output: `${aOutput} (fixed)` }, null),
        };
        const r = await alice("POST", `/v1/queues/all/tasks/${t.id}/submit`, { submissionId: `sub-${t.id}`, answers });
        expect(r.status, r.text).toBe(200);
        expect(r.body.replayed).toBe(false);
        const ids: string[] = r.body.feedback;
        expect(ids).toHaveLength(10);
        const fb = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await store.getFeedback("p", id)])));
        const one = (q: string, target?: string) =>
          Object.values(fb).find((f: any) => f.metadata.questionId === q && (target === undefined || f.targets[0] === target)) as any;
        const [ga, gb] = [`${itemId}-a`, `${itemId}-b`];

        const pw = one("pref");
        expect(pw).toMatchObject({ kind: "pairwise", itemId, targets: [ga, gb], source: { type: "human", id: "alice" }, value: { choice: "second", strength: 0.75 } });
        expect(pw.metadata).toMatchObject({ queueId: "all", taskId: t.id, questionId: "pref", submissionId: `sub-${t.id}`, shownOrder: sa === 0 ? [ga, gb] : [gb, ga] });
        expect(one("rank")).toMatchObject({ kind: "ranking", targets: [ga, gb], value: { ranks: [2, 1] } });
        expect(one("stars", ga)).toMatchObject({ kind: "rating", targets: [ga], value: { score: 3, scale: { min: 1, max: 7 }, dimension: "quality" } });
        expect(one("stars", gb)).toMatchObject({ kind: "rating", targets: [gb], value: { score: 6, comment: "good" } });
        expect(one("ok", ga).value).toEqual({ ok: false });
        expect(one("ok", gb)).toMatchObject({ kind: "binary", value: { ok: true } });
        expect(one("crit", ga)).toMatchObject({ kind: "critique", targets: [ga], value: { text: "too short", weaknesses: ["short"], verdict: "fail" } });
        expect(one("crit", gb)).toBeUndefined();
        expect(one("spans", ga)).toMatchObject({ kind: "spans", targets: [ga], value: { spans: [{ start: 0, end: 5, label: "good" }, { start: 6, end: 12, label: "error" }] } });
        expect(one("rub", ga)).toMatchObject({
          kind: "rubric",
          value: { criteria: [{ name: "correct", passed: true }, { name: "style", score: 2, maxScore: 3, weight: 2, rationale: "ok" }] },
        });
        const fix = one("fix", ga);
        expect(fix).toMatchObject({ kind: "correction", targets: [ga], value: { output: `${aOutput} (fixed)` } });
        // The correction's edit is a generation of its own (the correction conversion's id and policy).
        expect(r.body.generations).toEqual([`${fix.id}:corrected`]);
        expect(await store.getGeneration("p", `${fix.id}:corrected`)).toMatchObject({
          itemId,
          policy: "correction:human:alice",
          output: `${aOutput} (fixed)`,
          metadata: { correctedFrom: ga },
        });
      }
      // Over four tasks both orders are likely but not certain; the mapping is checked either way.
      expect(seenOrders.size).toBeGreaterThanOrEqual(1);
    });

    it("answers a repeated submission with the same ids and stores nothing new", async () => {
      const { admin, annotator, store } = await setup(1);
      await admin("POST", "/v1/queues", { ...pairQueue(), questions: [...pairQueue().questions, { id: "fix", kind: "correction", prompt: "Fix", required: false }] });
      const alice = await annotator("alice");
      const t = (await alice("POST", "/v1/queues/pq/next")).body.task;
      const body = { submissionId: "once", answers: { pref: { choice: "first" }, fix: [{ output: "new text" }, null] } };
      const first = await alice("POST", `/v1/queues/pq/tasks/${t.id}/submit`, body);
      expect(first.status, first.text).toBe(200);
      const before = await store.counts("p");
      const retry = await alice("POST", `/v1/queues/pq/tasks/${t.id}/submit`, body);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual({ feedback: first.body.feedback, generations: first.body.generations, replayed: true });
      expect(await store.counts("p")).toEqual(before);
      expect(before.feedback).toBe(2);
      expect(before.generations).toBe(3);
      // The same task under another submission id is a conflict, not a second record.
      const other = await alice("POST", `/v1/queues/pq/tasks/${t.id}/submit`, { ...body, submissionId: "twice" });
      expect(other.status).toBe(409);
      expect((await store.counts("p")).feedback).toBe(2);
    });

    it("refuses invalid answers with errors naming the field, storing nothing", async () => {
      const { admin, annotator, store } = await setup(1);
      await admin("POST", "/v1/queues", {
        id: "v",
        name: "v",
        selection: { mode: "pairs" },
        questions: [
          { id: "pref", kind: "pairwise", prompt: "?", allowTie: false },
          { id: "stars", kind: "rating", prompt: "?", min: 1, max: 5 },
          { id: "spans", kind: "span", prompt: "?", labels: ["error"], required: false },
          { id: "rank", kind: "ranking", prompt: "?", required: false },
          { id: "rub", kind: "rubric", prompt: "?", criteria: [{ id: "c1", description: "d" }], required: false },
        ],
      });
      const alice = await annotator("alice");
      const t = (await alice("POST", "/v1/queues/v/next")).body.task;
      const submit = (answers: unknown) => alice("POST", `/v1/queues/v/tasks/${t.id}/submit`, { submissionId: "x", answers });
      const paths = async (answers: unknown) => {
        const r = await submit(answers);
        expect(r.status, r.text).toBe(400);
        expect(r.body.error.code).toBe("validation_failed");
        return r.body.error.issues.map((i: any) => i.path);
      };
      expect(await paths({ stars: [3, 4] })).toEqual(["answers.pref"]);
      expect(await paths({ pref: { choice: "tie" }, stars: [3, 4] })).toEqual(["answers.pref.choice"]);
      expect(await paths({ pref: { choice: "left" }, stars: [3, 4] })).toEqual(["answers.pref.choice"]);
      expect(await paths({ pref: { choice: "first" }, stars: [3, 9] })).toEqual(["answers.stars.1"]);
      expect(await paths({ pref: { choice: "first" }, stars: [3, { score: 2.5 }] })).toEqual(["answers.stars.1.score"]);
      expect(await paths({ pref: { choice: "first" }, stars: 3 })).toEqual(["answers.stars"]);
      expect(await paths({ pref: { choice: "first" }, stars: [3, null] })).toEqual(["answers.stars.1"]);
      expect(await paths({ pref: { choice: "first" }, stars: [3, 4], spans: [{ spans: [{ start: 0, end: 999, label: "error" }] }, null] })).toEqual(["answers.spans.0.spans.0.end"]);
      expect(await paths({ pref: { choice: "first" }, stars: [3, 4], spans: [{ spans: [{ start: 0, end: 2, label: "typo" }] }, null] })).toEqual(["answers.spans.0.spans.0.label"]);
      expect(await paths({ pref: { choice: "first" }, stars: [3, 4], rank: { ranks: [1] } })).toEqual(["answers.rank.ranks"]);
      expect(await paths({ pref: { choice: "first" }, stars: [3, 4], rank: { ranks: [1, 1000] } })).toEqual(["answers.rank.ranks.1"]);
      expect(await paths({ pref: { choice: "first" }, stars: [3, 4], rank: { ranks: [2, 2] } })).toEqual(["answers.rank.ranks"]);
      expect(await paths({ pref: { choice: "first" }, stars: [3, 4], rub: [{ criteria: {} }, null] })).toEqual(["answers.rub.0.criteria.c1"]);
      expect(await paths({ pref: { choice: "first" }, stars: [3, 4], extra: 1 })).toEqual(["answers.extra"]);
      expect((await store.counts("p")).feedback).toBe(0);
      // Still open: a valid answer goes through.
      expect((await submit({ pref: { choice: "first" }, stars: [3, 4] })).status).toBe(200);
    });

    it("refuses question and criterion ids every JavaScript object already has, so no queue is impossible to answer", async () => {
      const { admin, annotator } = await setup(1);
      for (const id of ["constructor", "__proto__", "toString", "hasOwnProperty", "__x"]) {
        const r = await admin("POST", "/v1/queues", pairQueue({ id: "bad", questions: [{ id, kind: "pairwise", prompt: "?" }] }));
        expectError(r, 400, "validation_failed");
        expect(r.body.error.issues, id).toEqual([{ path: "questions.0.id", message: expect.stringMatching(/is reserved/) }]);
        const rub = await admin("POST", "/v1/queues", pairQueue({ id: "bad", questions: [{ id: "r", kind: "rubric", prompt: "?", criteria: [{ id, description: "d" }] }] }));
        expect(rub.body.error.issues, id).toEqual([{ path: "questions.0.criteria.0.id", message: expect.stringMatching(/is reserved/) }]);
      }
      // Ids that merely resemble them are fine, and a queue with an optional question answers without it.
      const ok = await admin("POST", "/v1/queues", pairQueue({ id: "fine", questions: [{ id: "pref", kind: "pairwise", prompt: "?" }, { id: "constructor_2", kind: "critique", prompt: "?", required: false }] }));
      expect(ok.status, ok.text).toBe(201);
      const alice = await annotator("alice");
      const t = (await alice("POST", "/v1/queues/fine/next")).body.task;
      const done = await alice("POST", `/v1/queues/fine/tasks/${t.id}/submit`, { submissionId: "s", answers: { pref: { choice: "first" } } });
      expect(done.status, done.text).toBe(200);
    });

    it("keeps annotate keys to their project and to the queues that name them", async () => {
      const { admin, annotator, store, http } = await setup(2);
      await admin("POST", "/v1/queues", pairQueue({ annotators: ["alice"] }));
      await admin("POST", "/v1/queues", { ...pairQueue(), id: "open", annotators: undefined });
      // Another project with a queue of the same id.
      await store.write({ items: [{ id: "i0", project: "q", prompt: "secret prompt" }], generations: ["a", "b"].map((p) => ({ id: `i0-${p}`, project: "q", itemId: "i0", policy: p, output: `secret ${p}` })) });
      const adminQ = http(await keyOf(store, "q", "admin"));
      expect((await adminQ("POST", "/v1/queues", pairQueue())).status).toBe(201);

      const alice = await annotator("alice");
      const bob = await annotator("bob");
      const outsider = await annotator("alice", "q");
      expect((await alice("GET", "/v1/queues")).body.queues.map((q: any) => q.id).sort()).toEqual(["open", "pq"]);
      expect((await bob("GET", "/v1/queues")).body.queues.map((q: any) => q.id)).toEqual(["open"]);
      expect((await bob("GET", "/v1/queues/pq")).status).toBe(404);
      expect((await bob("POST", "/v1/queues/pq/next")).status).toBe(404);

      const t = (await alice("POST", "/v1/queues/pq/next")).body.task;
      expect(t.item.prompt).toBe("question 0");
      // Alice's task in queue pq is not reachable through another queue, nor from project q.
      expect((await alice("GET", `/v1/queues/open/tasks/${t.id}`)).status).toBe(404);
      expect((await alice("POST", `/v1/queues/open/tasks/${t.id}/submit`, { submissionId: "s", answers: { pref: { choice: "first" } } })).status).toBe(404);
      const qTask = (await outsider("POST", "/v1/queues/pq/next")).body.task;
      expect(qTask.item.prompt).toBe("secret prompt");
      expect((await outsider("GET", `/v1/queues/pq/tasks/${t.id}`)).body.task.item.prompt).toBe("secret prompt");
      // Annotate keys make no queues and read no statistics.
      expect((await alice("POST", "/v1/queues", pairQueue({ id: "mine" }))).status).toBe(403);
      expect((await alice("GET", "/v1/queues/pq/stats")).status).toBe(403);
      expect((await alice("POST", "/v1/exports", { format: "rlxf" })).status).toBe(403);
    });

    it("computes agreement per question on a hand-computed case, and agreement with a judge", async () => {
      const { admin, annotator, store } = await setup(4);
      await admin("POST", "/v1/queues", {
        id: "ag",
        name: "agreement",
        selection: { mode: "generations", policies: ["a"] },
        questions: [
          { id: "ok", kind: "binary", prompt: "OK?" },
          { id: "stars", kind: "rating", prompt: "?", min: 1, max: 5 },
        ],
        annotatorsPerItem: 2,
      });
      // Units i0..i3 (generation <i>-a). ok: A = T T F F, B = T F F F. stars: A = 1 2 3 4, B = 1 2 3 5.
      const plan: Record<string, { ok: boolean[]; stars: number[] }> = { A: { ok: [true, true, false, false], stars: [1, 2, 3, 4] }, B: { ok: [true, false, false, false], stars: [1, 2, 3, 5] } };
      for (const who of ["A", "B"]) {
        const http = await annotator(who);
        for (;;) {
          const t = (await http("POST", "/v1/queues/ag/next")).body.task;
          if (!t) break;
          const i = Number(t.item.id.slice(1));
          const r = await http("POST", `/v1/queues/ag/tasks/${t.id}/submit`, { submissionId: `${who}${t.id}`, answers: { ok: plan[who]!.ok[i], stars: plan[who]!.stars[i] } });
          expect(r.status, r.text).toBe(200);
        }
      }
      // A judge rated i0..i3: binary T F T F (agrees with the human consensus where it exists).
      await store.write({
        feedback: [true, false, true, false].map((ok, i) => ({ id: `j${i}`, project: "p", kind: "binary", targets: [`i${i}-a`], source: { type: "judge", id: "gpt" }, value: { ok } })),
      });
      const s = await admin("GET", "/v1/queues/ag/stats");
      expect(s.status, s.text).toBe(200);
      expect(s.body.progress).toMatchObject({ tasks: 4, done: 4, submitted: 8 });
      expect(s.body.annotators).toEqual([{ id: "A", submitted: 4, skipped: 0 }, { id: "B", submitted: 4, skipped: 0 }]);
      const ok = s.body.questions.find((q: any) => q.id === "ok");
      // By hand: coincidences o_TT = 2, o_TF = o_FT = 1, o_FF = 4; n_T = 3, n_F = 5, n = 8;
      // alpha = 1 - (n - 1) * 2 / (2 * n_T * n_F) = 1 - 14/30 = 8/15. Kappa: p_o = 3/4, p_e = 1/2 * 1/4 + 1/2 * 3/4 = 1/2, kappa = 1/2.
      expect(ok).toMatchObject({ kind: "binary", level: "nominal", records: 8, units: 4 });
      expect(ok.alpha).toBeCloseTo(8 / 15, 12);
      expect(ok.pairs).toHaveLength(1);
      expect(ok.pairs[0]).toMatchObject({ annotators: ["A", "B"], n: 4, agreement: 0.75 });
      expect(ok.pairs[0].kappa).toBeCloseTo(0.5, 12);
      // Interval alpha on the ratings, by hand: values 1,1,2,2,3,3,4,5 (n = 8, mean 21/8).
      // D_o = sum over units of 2*(a-b)^2 / (n) = 2*1/8 = 1/4; D_e = sum_{c<k} 2 n_c n_k (c-k)^2 / (n(n-1)) = 2 * sum_i<j (x_i-x_j)^2/ (8*7) over the 8 values.
      const xs = [1, 1, 2, 2, 3, 3, 4, 5];
      let pairSq = 0;
      for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) pairSq += (xs[i]! - xs[j]!) ** 2;
      const De = (2 * pairSq) / (8 * 7);
      const stars = s.body.questions.find((q: any) => q.id === "stars");
      expect(stars.level).toBe("interval");
      expect(stars.alpha).toBeCloseTo(1 - 0.25 / De, 12);
      // The shared implementation gives the same numbers (guards the hand computation itself).
      expect(krippendorffAlpha([[true, true, false, false], [true, false, false, false]])).toBeCloseTo(8 / 15, 12);
      expect(cohenKappa([true, true, false, false], [true, false, false, false])).toBeCloseTo(0.5, 12);

      // Judge vs human consensus: i1 is a human tie (A true, B false) and is left out; on i0, i2, i3 the consensus is T, F, F
      // and the judge says T, T, F: agreement 2/3; kappa: p_o = 2/3, p_e = 1/3*2/3 + 2/3*1/3 = 4/9, kappa = (2/3-4/9)/(5/9) = 2/5.
      expect(ok.judges).toHaveLength(1);
      expect(ok.judges[0]).toMatchObject({ source: { type: "judge", id: "gpt" }, n: 3 });
      expect(ok.judges[0].agreement).toBeCloseTo(2 / 3, 12);
      expect(ok.judges[0].kappa).toBeCloseTo(0.4, 12);
      expect(stars.judges).toEqual([]);
    });

    it("lists a queue's tasks with their claims, releases a lock to others, and deletes a queue but not its feedback", async () => {
      const { admin, annotator, store } = await setup(3);
      await admin("POST", "/v1/queues", pairQueue({ annotatorsPerItem: 1 }));
      const alice = await annotator("alice");
      const bob = await annotator("bob");
      // alice submits the first task, takes the second and keeps a draft on it; bob is offered the third.
      const t0 = (await alice("POST", "/v1/queues/pq/next")).body.task;
      expect((await alice("POST", `/v1/queues/pq/tasks/${t0.id}/submit`, { submissionId: "a0", answers: { pref: { choice: "first" } } })).status).toBe(200);
      const t1 = (await alice("POST", "/v1/queues/pq/next")).body.task;
      expect((await alice("PUT", `/v1/queues/pq/tasks/${t1.id}/draft`, { answers: { pref: { choice: "second" } } })).status).toBe(204);
      const b = (await bob("POST", "/v1/queues/pq/next")).body.task;
      expect(b.id).not.toBe(t1.id);

      const page = await admin("GET", "/v1/queues/pq/tasks?limit=2");
      expect(page.status, page.text).toBe(200);
      expect(page.body).toMatchObject({ total: 3, offset: 0 });
      expect(page.body.tasks.map((t: any) => t.position)).toEqual([1, 2]);
      const claimsOf = (body: any, id: string) => body.tasks.find((t: any) => t.id === id)?.claims;
      expect(claimsOf(page.body, t0.id)).toEqual([expect.objectContaining({ annotator: "alice", status: "submitted", hasDraft: false })]);
      const held = claimsOf(page.body, t1.id);
      expect(held).toEqual([expect.objectContaining({ annotator: "alice", status: "locked", hasDraft: true })]);
      expect(Date.parse(held[0].lockedUntil)).toBeGreaterThan(Date.now());
      expect((await admin("GET", "/v1/queues/pq/tasks?offset=2")).body.tasks.map((t: any) => t.id)).toEqual([b.id]);
      expectError(await admin("GET", "/v1/queues/pq/tasks?limit=0"), 400, "validation_failed");
      expect((await alice("GET", "/v1/queues/pq/tasks")).status).toBe(403);

      // Released, alice's task goes to carol; alice's claim shows as expired and keeps her draft.
      const carol = await annotator("carol");
      expect((await carol("POST", "/v1/queues/pq/next")).body.task).toBeNull();
      expect((await alice("POST", `/v1/queues/pq/tasks/${t1.id}/release`)).status).toBe(403);
      expectError(await admin("POST", `/v1/queues/pq/tasks/nope/release`), 404, "not_found");
      expect((await admin("POST", `/v1/queues/pq/tasks/${t1.id}/release?annotator=bob`)).body).toEqual({ released: 0 });
      expect((await admin("POST", `/v1/queues/pq/tasks/${t1.id}/release`)).body).toEqual({ released: 1 });
      expect((await admin("POST", `/v1/queues/pq/tasks/${t1.id}/release`)).body).toEqual({ released: 0 });
      expect((await carol("POST", "/v1/queues/pq/next")).body.task.id).toBe(t1.id);
      const after = claimsOf((await admin("GET", "/v1/queues/pq/tasks")).body, t1.id);
      expect(after).toEqual([expect.objectContaining({ annotator: "alice", status: "expired", hasDraft: true }), expect.objectContaining({ annotator: "carol", status: "locked" })]);
      expect((await store.queues.claim("p", "pq", t1.id, "alice"))?.draft).toEqual({ pref: { choice: "second" } });

      // Deleting the queue deletes its tasks and claims; the submitted feedback stays.
      const before = (await store.listFeedback({ project: "p", sourceType: "human" })).records.length;
      expect(before).toBe(1);
      expect((await alice("DELETE", "/v1/queues/pq")).status).toBe(403);
      const del = await admin("DELETE", "/v1/queues/pq");
      expect(del.status, del.text).toBe(200);
      expect(del.body).toEqual({ queue: "pq", tasks: 3, claims: 4 });
      expectError(await admin("GET", "/v1/queues/pq"), 404, "not_found");
      expectError(await admin("DELETE", "/v1/queues/pq"), 404, "not_found");
      expect((await alice("POST", `/v1/queues/pq/tasks/${t1.id}/submit`, { submissionId: "late", answers: { pref: { choice: "first" } } })).status).toBe(404);
      expect((await store.listFeedback({ project: "p", sourceType: "human" })).records.length).toBe(before);
      // The id is free again.
      expect((await admin("POST", "/v1/queues", pairQueue())).status).toBe(201);
      expect((await admin("GET", "/v1/queues/pq")).body.queue.progress).toMatchObject({ tasks: 3, submitted: 0 });
    });

    it("measures agreement on spans (F1 of labelled spans) and corrections (word similarity), by hand", async () => {
      const { admin, annotator } = await setup(2);
      await admin("POST", "/v1/queues", {
        id: "tx",
        name: "spans and fixes",
        selection: { mode: "generations", policies: ["a"] },
        questions: [
          { id: "marks", kind: "span", prompt: "Mark", labels: ["error", "good"] },
          { id: "fix", kind: "correction", prompt: "Fix" },
        ],
        annotatorsPerItem: 2,
      });
      // Outputs "alpha output i0", "alpha output i1".
      // Spans: i0 A = error[0,5), B = error[0,5) + good[6,12) -> 1 matched of 3; i1 A = none, B = error[6,12) -> 0 of 1. F1 = 2*1/4.
      // Fixes: i0 identical -> 1; i1 "alpha output i1" vs "beta output i1": LCS 2 of 3 + 3 words -> 4/6. Mean 5/6.
      const plan: Record<string, { spans: { start: number; end: number; label: string }[][]; fix: string[] }> = {
        A: { spans: [[{ start: 0, end: 5, label: "error" }], []], fix: ["alpha output i0 fixed", "alpha output i1"] },
        B: { spans: [[{ start: 0, end: 5, label: "error" }, { start: 6, end: 12, label: "good" }], [{ start: 6, end: 12, label: "error" }]], fix: ["alpha output i0 fixed", "beta output i1"] },
      };
      for (const who of ["A", "B"]) {
        const http = await annotator(who);
        for (;;) {
          const t = (await http("POST", "/v1/queues/tx/next")).body.task;
          if (!t) break;
          const i = Number(t.item.id.slice(1));
          const r = await http("POST", `/v1/queues/tx/tasks/${t.id}/submit`, { submissionId: `${who}${t.id}`, answers: { marks: { spans: plan[who]!.spans[i] }, fix: { output: plan[who]!.fix[i] } } });
          expect(r.status, r.text).toBe(200);
        }
      }
      const s = await admin("GET", "/v1/queues/tx/stats");
      expect(s.status, s.text).toBe(200);
      const marks = s.body.questions.find((q: any) => q.id === "marks");
      expect(marks).toMatchObject({ kind: "span", level: null, alpha: null, records: 4, units: 2 });
      expect(marks.measure).toContain("F1");
      expect(marks.pairs).toEqual([{ annotators: ["A", "B"], n: 2, agreement: 0.5, kappa: null }]);
      const fix = s.body.questions.find((q: any) => q.id === "fix");
      expect(fix.measure).toContain("similarity");
      expect(fix.pairs).toHaveLength(1);
      expect(fix.pairs[0]).toMatchObject({ annotators: ["A", "B"], n: 2, kappa: null });
      expect(fix.pairs[0].agreement).toBeCloseTo(5 / 6, 12);
    });

    it("maps a judge's reversed pair onto the human order in judge-vs-human agreement", async () => {
      const { admin, annotator, store } = await setup(2);
      await admin("POST", "/v1/queues", pairQueue());
      const alice = await annotator("alice");
      for (;;) {
        const t = (await alice("POST", "/v1/queues/pq/next")).body.task;
        if (!t) break;
        // Alice prefers b everywhere.
        await alice("POST", `/v1/queues/pq/tasks/${t.id}/submit`, { submissionId: t.id, answers: { pref: { choice: slotOf(t, "b") === 0 ? "first" : "second" } } });
      }
      // The judge saw (b, a) and preferred its first, i.e. b: full agreement once flipped.
      await store.write({
        feedback: ["i0", "i1"].map((i) => ({ id: `j-${i}`, project: "p", kind: "pairwise", targets: [`${i}-b`, `${i}-a`], source: { type: "judge", id: "j" }, value: { choice: "first" } })),
      });
      const q = (await admin("GET", "/v1/queues/pq/stats")).body.questions[0];
      expect(q.judges).toEqual([{ source: { type: "judge", id: "j" }, n: 2, agreement: 1, kappa: null, alpha: null }]);
      const fb = (await store.listFeedback({ project: "p", sourceType: "human" })).records;
      expect(fb.map((f) => f.kind === "pairwise" && f.value.choice)).toEqual(["second", "second"]);
    });

    it("marks queue feedback on the server: no key can write into a queue's records or as its annotators, and queue readers count only marked records", async () => {
      const { admin, annotator, store, http } = await setup(2);
      expect((await admin("POST", "/v1/queues", pairQueue())).status).toBe(201);
      const alice = await annotator("alice");
      const task = (await alice("POST", "/v1/queues/pq/next")).body.task;
      const sub = await alice("POST", `/v1/queues/pq/tasks/${task.id}/submit`, { submissionId: "s1", answers: { pref: { choice: "first" } } });
      expect(sub.status, sub.text).toBe(200);
      const [aliceId] = sub.body.feedback as string[];
      const other = task.id === "t1" ? "i1" : "i0";

      const ingest = http(await keyOf(store, "p", "ingest", "app"));
      const forged = (extra: Record<string, unknown>) => ({ kind: "pairwise", targets: [`${other}-a`, `${other}-b`], source: { type: "human", id: "mallory" }, value: { choice: "second" }, ...extra });
      // Reserved metadata: refused for every key, naming each reserved field.
      for (const api of [ingest, admin]) {
        const r = await api("POST", "/v1/feedback", forged({ id: "f1", metadata: { queueId: "pq", questionId: "pref", taskId: "t2", note: "ok" } }));
        expectError(r, 400, "validation_failed");
        expect(r.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(["metadata.questionId", "metadata.queueId"]);
      }
      // Ids of queue submissions: refused, in a batch too (nothing of it stored).
      const byId = await ingest("POST", "/v1/feedback", { batch: [forged({ id: "ok-1" }), forged({ id: `queue:pq:t2:alice:pref` })] });
      expectError(byId, 400, "validation_failed");
      expect(byId.body.error.issues.map((i: { path: string }) => i.path)).toEqual(["batch.1.id"]);
      expect(await store.getFeedback("p", "ok-1")).toBeUndefined();
      // An annotator's name (or an admin's): an ingest key cannot give feedback as them.
      const asAlice = await ingest("POST", "/v1/feedback", forged({ id: "f2", source: { type: "human", id: "alice" } }));
      expectError(asAlice, 403, "forbidden");
      expect(asAlice.body.error.issues.map((i: { path: string }) => i.path)).toEqual(["source.id"]);
      // Human feedback under another name (an app's user) is fine, and is nobody's queue work.
      expect((await ingest("POST", "/v1/feedback", forged({ id: "f3", metadata: { note: "thumbs down" } }))).status).toBe(201);
      // A record that reached the store another way (an import, or one written before this server) and claims the queue in its metadata.
      await store.write({ feedback: [{ ...forged({ id: "legacy", source: { type: "human", id: "alice" }, metadata: { queueId: "pq", questionId: "pref", taskId: "t2" } }), project: "p" }] });

      // Queue readers count only what the queue's submissions stored.
      const listed = await admin("GET", "/v1/feedback?queueId=pq");
      expect(listed.body.records.map((f: { id: string }) => f.id)).toEqual([aliceId]);
      const dist = await admin("GET", "/v1/analysis/distributions?queueId=pq");
      expect(dist.body.lengths).toMatchObject({ pairs: 1, ties: 0 });
      expect((await admin("GET", "/v1/analysis/distributions")).body.lengths.pairs).toBe(3);
      const stats = await admin("GET", "/v1/queues/pq/stats");
      expect(stats.body.questions[0]).toMatchObject({ id: "pref", records: 1 });
      expect(stats.body.annotators).toEqual([{ id: "alice", submitted: 1, skipped: 0 }]);
      const job = await admin("POST", "/v1/exports", { format: "rlxf", filters: { queueId: "pq" } });
      let done = job;
      for (let i = 0; i < 200 && done.body.status !== "done"; i++) {
        await new Promise((res) => setTimeout(res, 25));
        done = await admin("GET", `/v1/exports/${job.body.id}`);
      }
      expect(done.body.status, done.text).toBe("done");
      const lines = (await admin("GET", `/v1/exports/${job.body.id}/file`)).text.trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.kind === "pairwise").map((l) => l.id)).toEqual([aliceId]);
    });

    it("gives rating histograms and lengths of preferred vs rejected outputs", async () => {
      const { admin, store } = await setup(3);
      await store.write({
        feedback: [
          { id: "p0", project: "p", kind: "pairwise", targets: ["i0-a", "i0-b"], source: { type: "human", id: "h" }, value: { choice: "second" } },
          { id: "p1", project: "p", kind: "pairwise", targets: ["i1-a", "i1-b"], source: { type: "human", id: "h" }, value: { choice: "first" } },
          { id: "p2", project: "p", kind: "pairwise", targets: ["i2-a", "i2-b"], source: { type: "judge", id: "j" }, value: { choice: "tie" } },
          { id: "r0", project: "p", kind: "rating", targets: ["i0-a"], source: { type: "human", id: "h" }, value: { score: 2, scale: { min: 1, max: 5 }, dimension: "q" } },
          { id: "r1", project: "p", kind: "rating", targets: ["i1-a"], source: { type: "human", id: "h" }, value: { score: 2, scale: { min: 1, max: 5 }, dimension: "q" } },
          { id: "r2", project: "p", kind: "rating", targets: ["i2-a"], source: { type: "judge", id: "j" }, value: { score: 5, scale: { min: 1, max: 5 }, dimension: "q" } },
        ],
      });
      const r = await admin("GET", "/v1/analysis/distributions?bins=2");
      expect(r.status, r.text).toBe(200);
      expect(r.body.ratings).toEqual([{ name: "q", scale: { min: 1, max: 5 }, n: 3, mean: 3, histogram: [{ value: 2, count: 2 }, { value: 5, count: 1 }] }]);
      const la = "alpha output i0".length;
      const lb = "the bravo output, longer i0".length;
      expect(r.body.lengths).toMatchObject({ pairs: 2, ties: 1, preferred: { n: 2, mean: (la + lb) / 2 }, rejected: { n: 2, mean: (la + lb) / 2 }, longerPreferred: 0.5 });
      expect(r.body.lengths.bins.map((b: any) => [b.preferred, b.rejected])).toEqual([[0, 0], [2, 2]]);
      const humans = await admin("GET", "/v1/analysis/distributions?sourceType=human");
      expect(humans.body.ratings[0].histogram).toEqual([{ value: 2, count: 2 }]);
      expect(humans.body.lengths.ties).toBe(0);
      expect((await admin("GET", "/v1/analysis/distributions?bins=0")).status).toBe(400);
    });

    it("runs exports in the background and serves the finished file", async () => {
      const { admin, store, http } = await setup(3);
      await store.write({
        feedback: [
          { id: "p0", project: "p", kind: "pairwise", targets: ["i0-a", "i0-b"], source: { type: "human", id: "h" }, value: { choice: "second" } },
          { id: "p1", project: "p", kind: "pairwise", targets: ["i1-a", "i1-b"], source: { type: "judge", id: "j" }, value: { choice: "first" } },
        ],
      });
      const wait = async (id: string) => {
        for (let i = 0; i < 200; i++) {
          const r = await admin("GET", `/v1/exports/${id}`);
          if (r.body.status !== "running") return r;
          await new Promise((res) => setTimeout(res, 25));
        }
        throw new Error("export did not finish");
      };
      const start = await admin("POST", "/v1/exports", { format: "trl-preference" });
      expect(start.status, start.text).toBe(202);
      expect(start.body).toMatchObject({ id: expect.any(String), format: "trl-preference", status: "running", rows: 0 });
      expect(start.headers.get("location")).toBe(`/v1/exports/${start.body.id}`);
      const done = await wait(start.body.id);
      expect(done.body).toMatchObject({ status: "done", rows: 2, finishedAt: expect.any(String) });
      const file = await admin("GET", `/v1/exports/${start.body.id}/file`);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-disposition")).toMatch(/^attachment; filename="p-trl-preference-[0-9a-f]{8}\.jsonl"$/);
      const rows = file.text.trim().split("\n").map((l) => JSON.parse(l));
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({ prompt: "question 0", chosen: "the bravo output, longer i0", rejected: "alpha output i0" });
      expect(rows[1]).toMatchObject({ prompt: "question 1", chosen: "alpha output i1", rejected: "the bravo output, longer i1" });

      // Filtered rlxf export: only the human feedback and what it refers to.
      const f = await admin("POST", "/v1/exports", { format: "rlxf", filters: { sourceType: "human" } });
      expect((await wait(f.body.id)).body).toMatchObject({ status: "done", filters: { sourceType: "human" } });
      const lines = (await admin("GET", `/v1/exports/${f.body.id}/file`)).text.trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.map((l) => l.id)).toEqual(["i0", "i0-a", "i0-b", "p0"]);

      // Another project's key does not see the job; a bad format is a 400.
      const other = http(await keyOf(store, "q", "admin"));
      expect((await other("GET", `/v1/exports/${start.body.id}`)).status).toBe(404);
      expect((await other("GET", `/v1/exports/${start.body.id}/file`)).status).toBe(404);
      const bad = await admin("POST", "/v1/exports", { format: "csv" });
      expect(bad.status).toBe(400);
      expect(bad.body.error.issues[0].path).toBe("format");
      // Filters are checked before a job starts: a time Date.parse would guess at, an unknown kind, an overlong name.
      for (const [filters, path] of [
        [{ since: "' OR '1'='1" }, "filters.since"],
        [{ until: "2026-01-01T00:00:00" }, "filters.until"],
        [{ kind: ["vibes"] }, "filters.kind.0"],
        [{ policy: "p".repeat(257) }, "filters.policy"],
      ] as const) {
        const r = await admin("POST", "/v1/exports", { format: "rlxf", filters });
        expect(r.status, r.text).toBe(400);
        expect(r.body.error.issues.map((i: { path: string }) => i.path)).toEqual([path]);
      }
      const timed = await admin("POST", "/v1/exports", { format: "rlxf", filters: { since: "2000-01-01", until: 4102444800000 } });
      expect((await wait(timed.body.id)).body).toMatchObject({ status: "done", rows: 8 });
      // Exports are jobs: the file is kept in the database, so any server on the store serves it.
      const job = await admin("GET", `/v1/jobs/${start.body.id}`);
      expect(job.body.job).toMatchObject({ kind: "export", state: "succeeded", result: { rows: 2, file: expect.stringMatching(/\.jsonl$/) } });
      expect(Number(file.headers.get("content-length"))).toBe(Buffer.byteLength(file.text));
      expect(readdirSync(exportDir)).toEqual([]);
      // An unknown export is a 404; one that is not done yet has no file (409).
      expect((await admin("GET", "/v1/exports/orphan")).status).toBe(404);
      const q = await store.jobs.create({ id: "queued-export", project: "p", kind: "export", input: { format: "rlxf" }, maxAttempts: 1, phase: "whole", runAfter: Date.now() + 3_600_000 });
      expect((await admin("GET", `/v1/exports/${q.id}`)).body.status).toBe("running");
      expect((await admin("GET", `/v1/exports/${q.id}/file`)).status).toBe(409);
      expect(existsSync(exportDir)).toBe(true);
    });

    it("documents every queue, dashboard and export route in the OpenAPI document", async () => {
      const { url } = await setup(1);
      const doc = (await (await fetch(`${url}/v1/openapi.json`)).json()) as any;
      for (const [path, method] of [
        ["/v1/queues", "post"],
        ["/v1/queues", "get"],
        ["/v1/queues/{id}", "get"],
        ["/v1/queues/{id}/next", "post"],
        ["/v1/queues/{id}/tasks/{taskId}", "get"],
        ["/v1/queues/{id}/tasks/{taskId}/draft", "put"],
        ["/v1/queues/{id}/tasks/{taskId}/submit", "post"],
        ["/v1/queues/{id}/tasks/{taskId}/skip", "post"],
        ["/v1/queues/{id}/stats", "get"],
        ["/v1/analysis/distributions", "get"],
        ["/v1/exports", "post"],
        ["/v1/exports/{id}", "get"],
        ["/v1/exports/{id}/file", "get"],
      ] as const) {
        expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
      }
      expect(doc.components.schemas.CreateQueueBody.properties.questions).toBeDefined();
    });
  });
}
