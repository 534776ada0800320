/**
 * Contract of queue review (revisions, adjudications, supersession of feedback) and of item search, registered
 * once per engine beside the store contract (migration 0010_queue_review runs on both).
 */
import { describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { freshStores } from "./support.contract.js";
import type { Store } from "./types.js";

const identity = (n: number) => [...Array(n).keys()];

export function reviewContract(name: string, factory: () => Promise<Store>, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`queue review and search contract: ${name}`, () => {
    const open = freshStores(factory);

    /** Project "p": items i0, i1 with generations <i>-a, <i>-b; queue "q" of their pairs, one annotator each. */
    const fresh = async () => {
      const s = await open();
      const items = ["i0", "i1"].map((id) => ({ id, project: "p", prompt: `prompt ${id}` }));
      await s.write({ items, generations: items.flatMap((it) => ["a", "b"].map((pol) => ({ id: `${it.id}-${pol}`, project: "p", itemId: it.id, policy: pol, output: `${pol} says` }))) });
      await s.queues.create({ project: "p", id: "q", name: "Q", annotatorsPerItem: 2, lockSeconds: 60, definition: { questions: [{ id: "x" }] } }, items.map((it) => ({ itemId: it.id, generationIds: [`${it.id}-a`, `${it.id}-b`] })));
      return s;
    };
    const pref = (id: string, choice: string, source = { type: "human", id: "ann" }, itemId = "i0") => ({
      id,
      project: "p",
      kind: "pairwise",
      itemId,
      targets: [`${itemId}-a`, `${itemId}-b`],
      source,
      value: { choice },
    });

    it("keeps the submitted answers, revises them with new records that supersede the old, and reads only the latest when asked", async () => {
      const s = await fresh();
      const t0 = 1_000_000;
      await s.queues.next("p", "q", "ann", { now: t0, shuffle: identity });
      await s.queues.submit("p", "q", "t1", "ann", { submissionId: "s1", records: { feedback: [pref("f1", "first")] }, feedbackIds: ["f1"], answers: { x: { choice: "first" } }, now: t0 + 1 });
      const claim = await s.queues.claim("p", "q", "t1", "ann");
      expect(claim).toMatchObject({ status: "submitted", revision: 0, answers: { x: { choice: "first" } }, feedbackIds: ["f1"] });

      const revision = { submissionId: "s2", records: { feedback: [pref("f1r1", "second")] }, feedbackIds: ["f1r1"], supersedes: [{ feedbackId: "f1", byId: "f1r1", reason: "revision" as const }], answers: { x: { choice: "second" } }, revision: 1, now: t0 + 2 };
      const r = await s.queues.revise("p", "q", "t1", "ann", revision);
      expect(r.status).toBe("stored");
      expect(await s.queues.claim("p", "q", "t1", "ann")).toMatchObject({ status: "submitted", revision: 1, submissionId: "s2", feedbackIds: ["f1r1"], answers: { x: { choice: "second" } } });
      // A retry is answered, nothing twice; a stale revision number is a conflict.
      expect(await s.queues.revise("p", "q", "t1", "ann", revision)).toEqual({ status: "replayed", feedbackIds: ["f1r1"] });
      await expect(s.queues.revise("p", "q", "t1", "ann", { ...revision, submissionId: "s3", revision: 1 })).rejects.toBeInstanceOf(ConflictError);
      // Nothing of the refused revision was kept (its records included).
      await expect(s.queues.revise("p", "q", "t1", "ann", { ...revision, submissionId: "s3", records: { feedback: [pref("f1r9", "tie")] }, feedbackIds: ["f1r9"], revision: 5 })).rejects.toBeInstanceOf(ConflictError);
      expect(await s.getFeedback("p", "f1r9")).toBeUndefined();

      expect(await s.queues.supersessions("p", ["f1", "f1r1"])).toEqual([{ feedbackId: "f1", byId: "f1r1", reason: "revision" }]);
      // Both records are kept; the latest view leaves out the superseded one.
      expect((await s.listFeedback({ project: "p" })).records.map((f) => f.id).sort()).toEqual(["f1", "f1r1"]);
      expect((await s.listFeedback({ project: "p", latest: true })).records.map((f) => f.id)).toEqual(["f1r1"]);
      const latest: string[] = [];
      for await (const rf of s.iterateResolvedFeedback({ project: "p", latest: true })) latest.push(rf.feedback.id);
      expect(latest).toEqual(["f1r1"]);

      // Only a submitted task of one's own can be revised.
      await s.queues.next("p", "q", "bob", { now: t0, shuffle: identity });
      await expect(s.queues.revise("p", "q", "t1", "bob", { ...revision, submissionId: "b1" })).rejects.toBeInstanceOf(ConflictError);
      await expect(s.queues.revise("p", "q", "t2", "zed", { ...revision, submissionId: "z1" })).rejects.toBeInstanceOf(NotFoundError);

      const mine = await s.queues.claimsOf("p", "q", "ann", "submitted", { offset: 0, limit: 10 });
      expect(mine.total).toBe(1);
      expect(mine.claims.map((c) => c.taskId)).toEqual(["t1"]);
    });

    it("stores adjudications with their supersessions, re-adjudicates by revision, and deletes them with the queue", async () => {
      const s = await fresh();
      const now = 2_000_000;
      await s.write({ feedback: [pref("h1", "first"), pref("h2", "second", { type: "human", id: "bob" })] });
      const first = {
        adjudicator: "admin",
        submissionId: "adj-1",
        records: { feedback: [pref("adj1", "second", { type: "human", id: "admin" })] },
        feedbackIds: ["adj1"],
        supersedes: [
          { feedbackId: "h1", byId: "adj1", reason: "adjudication" as const },
          { feedbackId: "h2", byId: "adj1", reason: "adjudication" as const },
        ],
        answers: { x: { choice: "second" } },
        revision: 1,
        now,
      };
      expect((await s.queues.adjudicate("p", "q", "t1", first)).status).toBe("stored");
      expect(await s.queues.adjudicate("p", "q", "t1", first)).toEqual({ status: "replayed", feedbackIds: ["adj1"] });
      expect(await s.queues.adjudication("p", "q", "t1")).toMatchObject({ adjudicator: "admin", revision: 1, feedbackIds: ["adj1"], answers: { x: { choice: "second" } } });
      await expect(s.queues.adjudicate("p", "q", "t1", { ...first, submissionId: "adj-x" })).rejects.toBeInstanceOf(ConflictError);
      await expect(s.queues.adjudicate("p", "q", "t9", { ...first, submissionId: "adj-y" })).rejects.toBeInstanceOf(NotFoundError);
      await expect(s.queues.adjudicate("p", "q", "t1", { ...first, submissionId: "bad\u0000id", revision: 2 })).rejects.toBeInstanceOf(ValidationError);
      const second = { ...first, submissionId: "adj-2", records: { feedback: [pref("adj2", "tie", { type: "human", id: "admin" })] }, feedbackIds: ["adj2"], supersedes: [...first.supersedes.map((x) => ({ ...x, byId: "adj2" })), { feedbackId: "adj1", byId: "adj2", reason: "adjudication" as const }], revision: 2 };
      await s.queues.adjudicate("p", "q", "t1", second);
      expect((await s.listFeedback({ project: "p", latest: true })).records.map((f) => f.id)).toEqual(["adj2"]);
      expect((await s.queues.adjudications("p", "q")).map((a) => [a.taskId, a.revision])).toEqual([["t1", 2]]);

      expect(await s.queues.remove("p", "q")).toEqual({ tasks: 2, claims: 0 });
      expect(await s.queues.adjudication("p", "q", "t1")).toBeUndefined();
      // The feedback itself stays.
      expect((await s.listFeedback({ project: "p" })).records).toHaveLength(4);
    });

    it("updates a queue's definition and keeps its tasks", async () => {
      const s = await fresh();
      const q = await s.queues.updateDefinition("p", "q", { questions: [{ id: "x" }], suggestions: [{ question: "x", source: { type: "judge" } }] });
      expect(q.definition).toEqual({ questions: [{ id: "x" }], suggestions: [{ question: "x", source: { type: "judge" } }] });
      expect((await s.queues.get("p", "q"))?.definition).toEqual(q.definition);
      expect(await s.queues.tasks("p", "q")).toHaveLength(2);
      await expect(s.queues.updateDefinition("p", "nope", {})).rejects.toBeInstanceOf(NotFoundError);
    });

    /** Items s0..s(n-1) with a/b generations; some text, metadata and feedback to find. */
    const searchable = async (n = 12) => {
      const s = await open();
      const items = Array.from({ length: n }, (_, i) => ({
        id: `s${i}`,
        project: "p",
        dataset: i % 2 ? "odd" : "even",
        prompt: i === 3 ? "What is 100% of 50_000? Say \"why\"" : i === 5 ? [{ role: "user", content: "Tell me about Zebras" }] : `plain question ${i}`,
        ...(i === 4 ? { metadata: { topic: "math", level: 3 } } : {}),
      }));
      const generations = items.flatMap((it, i) => [
        { id: `${it.id}-a`, project: "p", itemId: it.id, policy: "a", output: i === 7 ? "The CAPYBARA answer" : `a on ${it.id}` },
        { id: `${it.id}-b`, project: "p", itemId: it.id, policy: i === 8 ? "rare" : "b", output: `b on ${it.id}` },
      ]);
      const pw = (id: string, itemId: string, choice: string, source: { type: string; id: string }, extra: Record<string, unknown> = {}) => ({ id, project: "p", kind: "pairwise", itemId, targets: [`${itemId}-a`, `${itemId}-b`], source, value: { choice }, ...extra });
      const feedback = [
        // s1: two humans disagree; s2: a human and a judge disagree; s6: they agree.
        pw("d1", "s1", "first", { type: "human", id: "ann" }),
        pw("d2", "s1", "second", { type: "human", id: "bob" }),
        pw("j1", "s2", "second", { type: "judge", id: "gpt" }),
        { ...pw("h2", "s2", "first", { type: "human", id: "ann" }), targets: ["s2-b", "s2-a"], value: { choice: "second" } },
        pw("j6", "s6", "first", { type: "judge", id: "gpt" }),
        pw("h6", "s6", "first", { type: "human", id: "ann" }, { metadata: { queueId: "q7" } }),
        { id: "r9", project: "p", kind: "rating", itemId: "s9", targets: ["s9-a"], source: { type: "human", id: "ann" }, value: { score: 5, scale: { min: 1, max: 5 } } },
        { id: "r10", project: "p", kind: "rating", itemId: "s10", targets: ["s10-a"], source: { type: "human", id: "ann" }, value: { score: 2, scale: { min: 1, max: 5 } } },
        { id: "b11a", project: "p", kind: "binary", itemId: "s11", targets: ["s11-a"], source: { type: "human", id: "ann" }, value: { ok: true } },
        { id: "b11b", project: "p", kind: "binary", itemId: "s11", targets: ["s11-a"], source: { type: "verifier", id: "v" }, value: { ok: false } },
      ];
      await s.write({ items, generations, feedback });
      return s;
    };
    const ids = (p: { records: { id: string }[] }) => p.records.map((r) => r.id);

    it("finds items by text in prompts and outputs (case-insensitive, wildcards literal), dataset, policy and metadata", async () => {
      const s = await searchable();
      expect(ids(await s.search.items({ project: "p", text: "capybara" }))).toEqual(["s7"]);
      expect(ids(await s.search.items({ project: "p", text: "zebras" }))).toEqual(["s5"]);
      expect(ids(await s.search.items({ project: "p", text: "100%" }))).toEqual(["s3"]);
      expect(ids(await s.search.items({ project: "p", text: "50_0" }))).toEqual(["s3"]);
      expect(ids(await s.search.items({ project: "p", text: 'say "why' }))).toEqual(["s3"]);
      // `%` and `_` are not wildcards.
      expect(ids(await s.search.items({ project: "p", text: "%" }))).toEqual(["s3"]);
      expect(ids(await s.search.items({ project: "p", text: "plain question 1" }))).toEqual(["s1", "s10", "s11"]);
      expect(ids(await s.search.items({ project: "p", text: "plain question 1", dataset: "even" }))).toEqual(["s10"]);
      expect(ids(await s.search.items({ project: "p", policy: "rare" }))).toEqual(["s8"]);
      expect(ids(await s.search.items({ project: "p", metadata: { key: "topic", value: "math" } }))).toEqual(["s4"]);
      expect(ids(await s.search.items({ project: "p", metadata: { key: "level", value: "3" } }))).toEqual(["s4"]);
      expect(ids(await s.search.items({ project: "p", metadata: { key: "queueId", value: "q7" } }))).toEqual(["s6"]);
      expect(ids(await s.search.items({ project: "other", text: "plain" }))).toEqual([]);
      await expect(s.search.items({ project: "p", text: "" })).rejects.toBeInstanceOf(ValidationError);
      await expect(s.search.items({ project: "p", metadata: { key: "a.b", value: "x" } })).rejects.toBeInstanceOf(ValidationError);
    });

    it("finds items by their feedback's kind, source and value, and by disagreement", async () => {
      const s = await searchable();
      expect(ids(await s.search.items({ project: "p", feedback: { kind: "rating" } }))).toEqual(["s10", "s9"]);
      expect(ids(await s.search.items({ project: "p", feedback: { kind: "rating", value: { field: "score", op: ">=", value: "4" } } }))).toEqual(["s9"]);
      expect(ids(await s.search.items({ project: "p", feedback: { kind: "rating", value: { field: "score", op: "=", value: "2" } } }))).toEqual(["s10"]);
      expect(ids(await s.search.items({ project: "p", feedback: { sourceType: "judge", value: { field: "choice", op: "=", value: "second" } } }))).toEqual(["s2"]);
      expect(ids(await s.search.items({ project: "p", feedback: { kind: "binary", value: { field: "ok", op: "=", value: "false" } } }))).toEqual(["s11"]);
      expect(ids(await s.search.items({ project: "p", feedback: { sourceId: "bob" } }))).toEqual(["s1"]);
      await expect(s.search.items({ project: "p", feedback: { value: { field: "score", op: ">", value: "high" } } })).rejects.toBeInstanceOf(ValidationError);

      // Pairwise verdicts both ways (stored in either order of targets), yes and no on the same output.
      expect(ids(await s.search.items({ project: "p", disagreement: "any" }))).toEqual(["s1", "s11", "s2"]);
      expect(ids(await s.search.items({ project: "p", disagreement: "human-judge" }))).toEqual(["s11", "s2"]);

      // A revision that settles the disagreement takes the item out.
      await s.write({ feedback: [{ id: "d2r", project: "p", kind: "pairwise", itemId: "s1", targets: ["s1-a", "s1-b"], source: { type: "human", id: "bob" }, value: { choice: "first" } }] });
      await s.queues.create({ project: "p", id: "rq", name: "R", annotatorsPerItem: 1, lockSeconds: 60, definition: {} }, [{ itemId: "s1", generationIds: ["s1-a", "s1-b"] }]);
      await s.queues.adjudicate("p", "rq", "t1", { adjudicator: "admin", submissionId: "x", records: {}, feedbackIds: [], supersedes: [{ feedbackId: "d2", byId: "d2r", reason: "revision" }], answers: {}, revision: 1, now: 1 });
      expect(ids(await s.search.items({ project: "p", disagreement: "any" }))).toEqual(["s11", "s2"]);
    });

    it("pages by cursor and examines a bounded window per call", async () => {
      const s = await searchable(30);
      // Ten at a time: three pages.
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 5; i++) {
        const page = await s.search.items({ project: "p", text: "on s" }, { limit: 10, ...(cursor ? { cursor } : {}) });
        seen.push(...ids(page));
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      expect(seen).toHaveLength(30);
      expect(new Set(seen).size).toBe(30);
      // A window of 4 items per call: a rare match is reached by following the cursor, never by a longer scan.
      let calls = 0;
      const found: string[] = [];
      cursor = undefined;
      do {
        const page = await s.search.items({ project: "p", policy: "rare" }, { limit: 5, scan: 4, ...(cursor ? { cursor } : {}) });
        calls++;
        expect(page.scanned).toBeLessThanOrEqual(4);
        found.push(...ids(page));
        cursor = page.nextCursor;
      } while (cursor && calls < 20);
      expect(found).toEqual(["s8"]);
      expect(calls).toBe(8);
      await expect(s.search.items({ project: "p" }, { scan: 100_000 })).rejects.toBeInstanceOf(ValidationError);
      await expect(s.search.items({ project: "p" }, { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    });
  });
}
