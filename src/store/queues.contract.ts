/**
 * Contract of the store's annotation queues and export jobs, registered once per engine beside the store contract.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Store } from "./types.js";

const identity = (n: number) => [...Array(n).keys()];
const reversed = (n: number) => [...Array(n).keys()].reverse();

export function queuesStoreContract(name: string, factory: () => Promise<Store>, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`queues contract: ${name}`, () => {
    const open: Store[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    /** Project "p": items i0..i(n-1), generations <i>-a and <i>-b; queue "q" of pair tasks. */
    const fresh = async (n = 3, per = 1, lockSeconds = 60) => {
      const s = await factory();
      open.push(s);
      const items = Array.from({ length: n }, (_, i) => ({ id: `i${i}`, project: "p", prompt: `p${i}` }));
      await s.write({ items, generations: items.flatMap((it) => ["a", "b"].map((pol) => ({ id: `${it.id}-${pol}`, project: "p", itemId: it.id, policy: pol, output: pol }))) });
      await s.queues.create(
        { project: "p", id: "q", name: "Q", annotatorsPerItem: per, lockSeconds, definition: { questions: [{ id: "x" }] } },
        items.map((it) => ({ itemId: it.id, generationIds: [`${it.id}-a`, `${it.id}-b`] })),
      );
      return s;
    };

    it("creates a queue with ordered tasks and refuses bad or duplicate ones", async () => {
      const s = await fresh();
      const q = await s.queues.get("p", "q");
      expect(q).toMatchObject({ project: "p", id: "q", name: "Q", annotatorsPerItem: 1, lockSeconds: 60, definition: { questions: [{ id: "x" }] } });
      expect(await s.queues.get("other", "q")).toBeUndefined();
      expect((await s.queues.tasks("p", "q")).map((t) => [t.id, t.position, t.itemId, t.generationIds])).toEqual([
        ["t1", 1, "i0", ["i0-a", "i0-b"]],
        ["t2", 2, "i1", ["i1-a", "i1-b"]],
        ["t3", 3, "i2", ["i2-a", "i2-b"]],
      ]);
      expect((await s.queues.tasks("p", "q", { offset: 1, limit: 1 })).map((t) => t.id)).toEqual(["t2"]);
      const base = { project: "p", name: "n", annotatorsPerItem: 1, lockSeconds: 1, definition: {} };
      await expect(s.queues.create({ ...base, id: "q" }, [{ itemId: "i0", generationIds: ["i0-a"] }])).rejects.toBeInstanceOf(ConflictError);
      const wrongItem = await s.queues.create({ ...base, id: "w" }, [{ itemId: "i0", generationIds: ["i1-a"] }]).catch((e: unknown) => e);
      expect(wrongItem).toBeInstanceOf(ValidationError);
      expect((wrongItem as ValidationError).issues[0]?.path).toBe("tasks.0.generationIds.0");
      await expect(s.queues.create({ ...base, id: "m" }, [{ itemId: "i0", generationIds: ["nope"] }])).rejects.toBeInstanceOf(ValidationError);
      await expect(s.queues.create({ ...base, id: "e" }, [])).rejects.toBeInstanceOf(ValidationError);
      await expect(s.queues.create({ ...base, id: "z", annotatorsPerItem: 0 }, [{ itemId: "i0", generationIds: ["i0-a"] }])).rejects.toBeInstanceOf(ValidationError);
      // Nothing of a refused queue was kept.
      expect((await s.queues.list("p")).map((x) => x.id)).toEqual(["q"]);
    });

    it("locks tasks, renews the holder's lock, and releases expired locks", async () => {
      const s = await fresh(2, 1, 10);
      const t0 = 1_000_000;
      const a = await s.queues.next("p", "q", "alice", { now: t0, shuffle: reversed });
      expect(a?.task.id).toBe("t1");
      expect(a?.claim).toMatchObject({ status: "locked", lockedUntil: t0 + 10_000, shownOrder: [1, 0] });
      const b = await s.queues.next("p", "q", "bob", { now: t0 + 1, shuffle: identity });
      expect(b?.task.id).toBe("t2");
      // Alice again: the same task, lock renewed, order kept.
      const again = await s.queues.next("p", "q", "alice", { now: t0 + 5000, shuffle: identity });
      expect(again?.task.id).toBe("t1");
      expect(again?.claim).toMatchObject({ lockedUntil: t0 + 15_000, shownOrder: [1, 0] });
      expect(await s.queues.next("p", "q", "carol", { now: t0 + 5000, shuffle: identity })).toBeUndefined();
      expect(await s.queues.progress("p", "q", t0 + 5000)).toEqual({ tasks: 2, done: 0, needed: 2, submitted: 0, skipped: 0, inProgress: 2 });
      // After Alice's lock expires, Carol gets her task; Bob's lock (renewed by nobody) expired too.
      const c = await s.queues.next("p", "q", "carol", { now: t0 + 15_001, shuffle: identity });
      expect(c?.task.id).toBe("t1");
      expect(c?.claim.shownOrder).toEqual([0, 1]);
      expect(await s.queues.progress("p", "q", t0 + 15_001)).toMatchObject({ inProgress: 1 });
    });

    it("keeps drafts, skips, and answers a repeated submission without writing again", async () => {
      const s = await fresh(2);
      const now = 5_000_000;
      const got = await s.queues.next("p", "q", "alice", { now, shuffle: identity });
      expect(await s.queues.saveDraft("p", "q", "t1", "alice", { x: "half" }, now)).toBe(true);
      expect(await s.queues.saveDraft("p", "q", "t1", "bob", { x: 1 }, now)).toBe(false);
      expect((await s.queues.claim("p", "q", "t1", "alice"))?.draft).toEqual({ x: "half" });
      expect(got?.task.id).toBe("t1");

      const records = {
        feedback: [{ id: "f1", project: "p", kind: "pairwise", targets: ["i0-a", "i0-b"], source: { type: "human", id: "alice" }, value: { choice: "first" } }],
      };
      const first = await s.queues.submit("p", "q", "t1", "alice", { submissionId: "s1", records, feedbackIds: ["f1"], now });
      expect(first.status).toBe("stored");
      const again = await s.queues.submit("p", "q", "t1", "alice", { submissionId: "s1", records, feedbackIds: ["f1"], now });
      expect(again).toEqual({ status: "replayed", feedbackIds: ["f1"] });
      await expect(s.queues.submit("p", "q", "t1", "alice", { submissionId: "s2", records, feedbackIds: ["f1"], now })).rejects.toBeInstanceOf(ConflictError);
      await expect(s.queues.submit("p", "q", "t2", "alice", { submissionId: "s3", records, feedbackIds: [], now })).rejects.toBeInstanceOf(NotFoundError);
      expect((await s.counts("p")).feedback).toBe(1);
      expect(await s.queues.claim("p", "q", "t1", "alice")).toMatchObject({ status: "submitted", submissionId: "s1", feedbackIds: ["f1"] });
      expect((await s.queues.feedbackByIds("p", ["f1", "missing"])).map((f) => f.id)).toEqual(["f1"]);

      const t2 = await s.queues.next("p", "q", "alice", { now, shuffle: identity });
      expect(t2?.task.id).toBe("t2");
      expect(await s.queues.skip("p", "q", "t2", "alice", now)).toBe(true);
      expect(await s.queues.next("p", "q", "alice", { now, shuffle: identity })).toBeUndefined();
      expect(await s.queues.progress("p", "q", now)).toEqual({ tasks: 2, done: 1, needed: 2, submitted: 1, skipped: 1, inProgress: 0 });
      expect((await s.queues.claims("p", "q", "skipped")).map((c) => c.taskId)).toEqual(["t2"]);
    });

    it("marks the feedback a submission stores with its queue, and nothing else, whatever metadata says", async () => {
      const s = await fresh(2);
      const now = 5_000_000;
      await s.queues.next("p", "q", "alice", { now, shuffle: identity });
      const fb = (id: string, targets: string[], metadata?: Record<string, unknown>) => ({ id, project: "p", kind: "pairwise", targets, source: { type: "human", id: "alice" }, value: { choice: "first" }, ...(metadata ? { metadata } : {}) });
      await s.queues.submit("p", "q", "t1", "alice", { submissionId: "s1", records: { feedback: [fb("f1", ["i0-a", "i0-b"], { queueId: "q" })] }, feedbackIds: ["f1"], now });
      // Written any other way, a record is no queue's, even when its metadata names one.
      await s.write({ feedback: [fb("forged", ["i1-a", "i1-b"], { queueId: "q", questionId: "x" }), fb("plain", ["i1-a", "i1-b"])] });
      expect((await s.listFeedback({ project: "p", queueId: "q" })).records.map((f) => f.id)).toEqual(["f1"]);
      const resolved: string[] = [];
      for await (const rf of s.iterateResolvedFeedback({ project: "p", queueId: "q" })) resolved.push(rf.feedback.id);
      expect(resolved).toEqual(["f1"]);
      expect((await s.listFeedback({ project: "p", queueId: "other" })).records).toEqual([]);
      expect((await s.queues.feedbackByIds("p", ["f1", "forged"], "q")).map((f) => f.id)).toEqual(["f1"]);
      expect((await s.queues.feedbackByIds("p", ["f1", "forged"])).map((f) => f.id)).toEqual(["f1", "forged"]);
    });

    it("stores a submission sent twice at once only once", async () => {
      const s = await fresh(1);
      await s.queues.next("p", "q", "alice", { now: 1, shuffle: identity });
      const records = { feedback: [{ id: "f1", project: "p", kind: "binary", targets: ["i0-a"], source: { type: "human", id: "alice" }, value: { ok: true } }] };
      const both = await Promise.all([0, 1].map(() => s.queues.submit("p", "q", "t1", "alice", { submissionId: "same", records, feedbackIds: ["f1"], now: 2 })));
      expect(both.map((r) => r.status).sort()).toEqual(["replayed", "stored"]);
      expect(both.every((r) => r.feedbackIds.join() === "f1")).toBe(true);
      expect((await s.counts("p")).feedback).toBe(1);
      expect((await s.queues.tasks("p", "q"))[0]).toMatchObject({ id: "t1" });
      expect(await s.queues.progress("p", "q", 3)).toMatchObject({ done: 1, submitted: 1 });
    });

    it("writes nothing, and keeps the task open, when the submission's records are refused", async () => {
      const s = await fresh(1);
      await s.queues.next("p", "q", "alice", { now: 1, shuffle: identity });
      const bad = { feedback: [{ id: "f1", project: "p", kind: "pairwise", targets: ["i0-a", "missing"], source: { type: "human", id: "alice" }, value: { choice: "first" } }] };
      await expect(s.queues.submit("p", "q", "t1", "alice", { submissionId: "s", records: bad, feedbackIds: ["f1"], now: 2 })).rejects.toThrow(/missing/);
      expect((await s.counts("p")).feedback).toBe(0);
      expect((await s.queues.claim("p", "q", "t1", "alice"))?.status).toBe("locked");
    });

    it("never hands one task to more annotators than it needs, however many ask at once", async () => {
      const s = await fresh(5, 2);
      const now = 9_000_000;
      const who = ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"];
      const got = await Promise.all(who.map((w) => s.queues.next("p", "q", w, { now, shuffle: identity })));
      const perTask = new Map<string, number>();
      for (const g of got) if (g) perTask.set(g.task.id, (perTask.get(g.task.id) ?? 0) + 1);
      expect([...perTask.values()].every((n) => n <= 2)).toBe(true);
      expect(got.filter(Boolean)).toHaveLength(8);
      expect(await s.queues.progress("p", "q", now)).toMatchObject({ inProgress: 8 });
    });

    it("keeps export jobs per project", async () => {
      const s = await fresh(1);
      const job = await s.queues.createExport({ project: "p", id: "e1", format: "rlxf", request: { filters: { kind: ["pairwise"] } }, now: 1000 });
      expect(job).toMatchObject({ id: "e1", status: "running", rows: 0, request: { filters: { kind: ["pairwise"] } } });
      await s.queues.finishExport("p", "e1", { status: "done", rows: 7, file: "/tmp/x.jsonl", now: 2000 });
      expect(await s.queues.getExport("p", "e1")).toMatchObject({ status: "done", rows: 7, file: "/tmp/x.jsonl", finishedAt: new Date(2000).toISOString() });
      expect(await s.queues.getExport("other", "e1")).toBeUndefined();
    });
  });
}
