/**
 * The store contract: one suite, registered once per engine
 * (store.sqlite.test.ts, store.postgres.test.ts).
 */
import { describe, expect, it } from "vitest";
import { freshStores } from "./support.contract.js";
import { ConflictError, NotFoundError, RlxfError, ValidationError } from "../errors.js";
import type { FeedbackInput, GenerationInput, ItemInput } from "../feedback/schema.js";
import type { Store, WriteBatch } from "./types.js";
import { MissingReferenceError, type RecordConflictError } from "./write.js";

export interface ContractOptions {
  /** Skip every test (engine not available). */
  skip?: boolean;
}

// ------------------------------------------------------------ test data ---

export const item = (id: string, extra: Partial<ItemInput> = {}): ItemInput => ({ id, prompt: `prompt of ${id}`, ...extra });

export const gen = (id: string, itemId: string, policy = "p1", extra: Partial<GenerationInput> = {}): GenerationInput => ({
  id,
  itemId,
  policy,
  output: `output ${id}`,
  ...extra,
});

export const pairwise = (
  id: string,
  targets: [string, string],
  choice: "first" | "second" | "tie" = "first",
  extra: Partial<FeedbackInput> = {},
): FeedbackInput =>
  ({
    id,
    kind: "pairwise",
    targets,
    source: { type: "human", id: "ann1" },
    value: { choice },
    ...extra,
  }) as FeedbackInput;

export const rating = (id: string, target: string, score: number, extra: Partial<FeedbackInput> = {}): FeedbackInput =>
  ({
    id,
    kind: "rating",
    targets: [target],
    source: { type: "judge", id: "gpt-judge" },
    value: { score, scale: { min: 1, max: 5 } },
    ...extra,
  }) as FeedbackInput;

/** n items with two generations each (policies "a" and "b") and one pairwise feedback per item. */
export function syntheticBatch(n: number, prefix = "", project?: string): Required<WriteBatch> {
  const p = project ? { project } : {};
  const items: ItemInput[] = [];
  const generations: GenerationInput[] = [];
  const feedback: FeedbackInput[] = [];
  for (let i = 0; i < n; i++) {
    const iid = `${prefix}i${String(i).padStart(5, "0")}`;
    items.push(item(iid, p));
    generations.push(gen(`${iid}-a`, iid, "a", p), gen(`${iid}-b`, iid, "b", p));
    feedback.push(pairwise(`${iid}-f`, [`${iid}-a`, `${iid}-b`], i % 3 === 0 ? "second" : "first", p));
  }
  return { items, generations, feedback };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function catchError(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the promise to reject");
}

const lineLabel = (_kind: string, i: number) => `line ${i + 1}`;

// ---------------------------------------------------------------- suite ---

export function storeContract(name: string, factory: () => Promise<Store>, opts: ContractOptions = {}): void {
  describe.skipIf(!!opts.skip)(`store contract: ${name}`, () => {
    const fresh = freshStores(factory);

    /** A store holding items i1, i2; generations g1 (i1, p1), g2 (i1, p2), g3 (i2, p1). */
    const seeded = async () => {
      const s = await fresh();
      await s.write({
        items: [item("i1", { dataset: "d1" }), item("i2", { dataset: "d2" })],
        generations: [gen("g1", "i1", "p1"), gen("g2", "i1", "p2"), gen("g3", "i2", "p1")],
      });
      return s;
    };

    describe("write and read", () => {
      it("round-trips records in their parsed shape, and a re-write of what was read is a no-op", async () => {
        const s = await fresh();
        const r = await s.write({
          items: [item("i1", { reference: "ref", dataset: "ds", metadata: { a: [1, { b: null }] } })],
          generations: [gen("g1", "i1", "m1", { metadata: { temp: 0.7 } }), gen("g2", "i1", "m2")],
          feedback: [pairwise("f1", ["g1", "g2"], "second", { value: { choice: "second", pSecond: 0.8 } } as never)],
        });
        expect(r.items).toEqual({ inserted: 1, existing: 0, outcomes: ["inserted"] });
        expect(r.generations).toEqual({ inserted: 2, existing: 0, outcomes: ["inserted", "inserted"] });
        expect(r.feedback).toEqual({ inserted: 1, existing: 0, outcomes: ["inserted"] });

        const i1 = await s.getItem("default", "i1");
        expect(i1).toEqual({
          id: "i1",
          project: "default",
          prompt: "prompt of i1",
          reference: "ref",
          dataset: "ds",
          metadata: { a: [1, { b: null }] },
          createdAt: r.recordedAt,
        });
        const g1 = await s.getGeneration("default", "g1");
        expect(g1).toMatchObject({ id: "g1", project: "default", itemId: "i1", policy: "m1", output: "output g1", metadata: { temp: 0.7 } });
        const f1 = await s.getFeedback("default", "f1");
        expect(f1).toEqual({
          id: "f1",
          project: "default",
          itemId: "i1",
          kind: "pairwise",
          targets: ["g1", "g2"],
          source: { type: "human", id: "ann1" },
          value: { choice: "second", pSecond: 0.8 },
          createdAt: r.recordedAt,
        });

        expect(await s.getItem("default", "nope")).toBeUndefined();
        expect(await s.getGeneration("default", "nope")).toBeUndefined();
        expect(await s.getFeedback("default", "nope")).toBeUndefined();

        const again = await s.write({ items: [i1], generations: [g1], feedback: [f1] });
        expect(again.items.outcomes).toEqual(["existing"]);
        expect(again.generations.outcomes).toEqual(["existing"]);
        expect(again.feedback.outcomes).toEqual(["existing"]);
      });

      it("keeps chat prompts and every feedback kind intact", async () => {
        const s = await fresh();
        const chat = [
          { role: "system", content: "be brief" },
          { role: "user", content: "hi" },
        ];
        const fb: FeedbackInput[] = [
          rating("r", "g1", 4, { value: { score: 4, scale: { min: 1, max: 5, step: 1 }, dimension: "helpful" } } as never),
          { id: "b", kind: "binary", targets: ["g1"], source: { type: "user", id: "u1" }, value: { ok: true } },
          { id: "rk", kind: "ranking", targets: ["g2", "g1", "g3"], source: { type: "human", id: "a" }, value: { ranks: [1, 2, 2] } },
          {
            id: "c",
            kind: "critique",
            targets: ["g1"],
            source: { type: "critic", id: "c1" },
            value: { text: "ok", weaknesses: ["short"], verdict: "pass" },
          },
          {
            id: "ru",
            kind: "rubric",
            targets: ["g1"],
            source: { type: "judge", id: "j" },
            value: { criteria: [{ name: "a", passed: true }, { name: "b", score: 0.5, weight: 2 }], total: 0.75 },
          },
          { id: "co", kind: "correction", targets: ["g1"], source: { type: "human", id: "a" }, value: { output: "better" } },
          {
            id: "v",
            kind: "verification",
            targets: ["g1"],
            source: { type: "verifier", id: "tests" },
            value: { passed: false, details: { testsRun: 3, testsFailed: 1, extra: "x" } },
          },
          { id: "sg", kind: "signal", targets: ["g1"], source: { type: "user", id: "u" }, value: { signal: "dwell_ms", value: 1200 } },
          {
            id: "sp",
            kind: "spans",
            targets: ["g1"],
            source: { type: "human", id: "a" },
            value: { spans: [{ start: 0, end: 3, label: "bad", score: -1 }] },
          },
        ];
        await s.write({
          items: [item("i1", { prompt: chat })],
          generations: [gen("g1", "i1"), gen("g2", "i1"), gen("g3", "i1")],
          feedback: fb,
        });
        expect((await s.getItem("default", "i1"))?.prompt).toEqual(chat);
        for (const f of fb) {
          const got = await s.getFeedback("default", f.id);
          expect(got).toMatchObject({ ...f, project: "default", itemId: "i1" });
        }
        const c = await s.counts();
        expect(c.feedback).toBe(fb.length);
        expect(c.byKind).toMatchObject({ rating: 1, binary: 1, ranking: 1, critique: 1, rubric: 1, correction: 1, verification: 1, signal: 1, spans: 1, pairwise: 0 });
      });

      it("accepts a batch with only some kinds, and an empty batch", async () => {
        const s = await fresh();
        const r = await s.write({});
        expect(r.items).toEqual({ inserted: 0, existing: 0, outcomes: [] });
        await s.write({ items: [item("i1")] });
        await s.write({ generations: [gen("g1", "i1")] });
        await s.write({ feedback: [rating("f", "g1", 3)] });
        expect(await s.counts()).toMatchObject({ items: 1, generations: 1, feedback: 1 });
      });
    });

    describe("all or nothing", () => {
      it("one invalid feedback among 100 stores nothing and names the record and field", async () => {
        const s = await fresh();
        const batch = syntheticBatch(100);
        const bad = { ...(batch.feedback[57] as object), value: { choice: "first", pSecond: 0.9 } };
        batch.feedback[57] = bad;
        const e = await catchError(s.write(batch, { label: (_k, i) => `batch[${i}]` }));
        expect(e).toBeInstanceOf(ValidationError);
        const v = e as ValidationError;
        expect(v.record).toBe("batch[57]");
        expect(v.issues.map((i) => i.path)).toContain("value.pSecond");
        expect(v.message).toContain("batch[57]");
        expect(v.message).toContain("value.pSecond");
        expect(await s.counts()).toMatchObject({ items: 0, generations: 0, feedback: 0 });
        expect(await s.projects()).toEqual([]);
      });

      it("an invalid item or generation stores nothing either; the default label names kind and index", async () => {
        const s = await fresh();
        const batch = syntheticBatch(10);
        batch.generations[13] = { ...(batch.generations[13] as object), policy: "" };
        const e = await catchError(s.write(batch));
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).record).toBe("generations[13]");
        expect((e as ValidationError).issues[0]?.path).toBe("policy");

        const b2 = syntheticBatch(10);
        b2.items[4] = { id: "x", prompt: [] };
        const e2 = await catchError(s.write(b2, { label: lineLabel }));
        expect((e2 as ValidationError).record).toBe("line 5");
        expect((e2 as ValidationError).issues[0]?.path).toBe("prompt");
        expect(await s.counts()).toMatchObject({ items: 0, generations: 0, feedback: 0 });
      });

      it("a failure after earlier valid batches leaves those intact", async () => {
        const s = await fresh();
        await s.write(syntheticBatch(5, "ok"));
        const batch = syntheticBatch(5, "bad");
        batch.feedback.push(rating("dangling", "no-such-gen", 3));
        await expect(s.write(batch)).rejects.toBeInstanceOf(NotFoundError);
        expect(await s.counts()).toMatchObject({ items: 5, generations: 10, feedback: 5 });
      });

      it("rejects non-array fields", async () => {
        const s = await fresh();
        await expect(s.write({ items: "nope" as never })).rejects.toBeInstanceOf(ValidationError);
      });
    });

    describe("references", () => {
      it("a generation's item must exist (stored or in the batch, same project)", async () => {
        const s = await fresh();
        const e = await catchError(
          s.write({ items: [item("i1")], generations: [gen("g1", "i1"), gen("g2", "missing")] }, { label: lineLabel }),
        );
        expect(e).toBeInstanceOf(NotFoundError);
        expect(e).toBeInstanceOf(MissingReferenceError);
        expect((e as MissingReferenceError).record).toBe("line 2");
        expect((e as MissingReferenceError).path).toBe("itemId");
        expect(e.message).toContain("line 2");
        expect(e.message).toContain("itemId");
        expect(e.message).toContain('"missing"');
        expect(await s.counts()).toMatchObject({ items: 0, generations: 0 });

        await s.write({ items: [item("i1")] });
        const r = await s.write({ generations: [gen("g1", "i1")] });
        expect(r.generations.outcomes).toEqual(["inserted"]);
      });

      it("a feedback's targets must exist; itemId defaults to the item of the first target", async () => {
        const s = await seeded();
        const e = await catchError(s.write({ feedback: [rating("ok", "g1", 2), pairwise("f", ["g1", "gX"])] }));
        expect(e).toBeInstanceOf(MissingReferenceError);
        expect((e as MissingReferenceError).record).toBe("feedback[1]");
        expect((e as MissingReferenceError).path).toBe("targets.1");
        expect(e.message).toContain('"gX"');
        expect(await s.counts()).toMatchObject({ feedback: 0 });

        await s.write({ feedback: [pairwise("f", ["g2", "g1"])] });
        expect((await s.getFeedback("default", "f"))?.itemId).toBe("i1");
      });

      it("targets must answer one item, and an explicit itemId must agree", async () => {
        const s = await seeded();
        const e = await catchError(s.write({ feedback: [pairwise("f", ["g1", "g3"])] }));
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).issues[0]?.path).toBe("targets.1");
        const e2 = await catchError(s.write({ feedback: [rating("r", "g1", 3, { itemId: "i2" })] }));
        expect(e2).toBeInstanceOf(ValidationError);
        expect((e2 as ValidationError).issues[0]?.path).toBe("itemId");
        await s.write({ feedback: [rating("r", "g1", 3, { itemId: "i1" })] });
        // Given explicitly or derived, the stored record is the same.
        const r = await s.write({ feedback: [rating("r", "g1", 3)] });
        expect(r.feedback.outcomes).toEqual(["existing"]);
      });

      it("references never cross projects", async () => {
        const s = await seeded();
        const e = await catchError(s.write({ generations: [gen("g9", "i1", "p1", { project: "other" })] }));
        expect(e).toBeInstanceOf(MissingReferenceError);
        expect(e.message).toContain('project "other"');
        const e2 = await catchError(s.write({ feedback: [rating("r", "g1", 3, { project: "other" })] }));
        expect(e2).toBeInstanceOf(MissingReferenceError);
      });
    });

    describe("idempotency and conflicts", () => {
      it("re-writing the same batch is a no-op reported as existing", async () => {
        const s = await fresh();
        const batch = syntheticBatch(20);
        const r1 = await s.write(batch);
        expect(r1.feedback.inserted).toBe(20);
        const r2 = await s.write(batch);
        expect(r2.items).toMatchObject({ inserted: 0, existing: 20 });
        expect(r2.generations).toMatchObject({ inserted: 0, existing: 40 });
        expect(r2.feedback).toMatchObject({ inserted: 0, existing: 20 });
        expect(r2.feedback.outcomes.every((o) => o === "existing")).toBe(true);
        expect(await s.counts()).toMatchObject({ items: 20, generations: 40, feedback: 20 });
      });

      it("mixes new and existing records in one batch", async () => {
        const s = await fresh();
        await s.write({ items: [item("i1")], generations: [gen("g1", "i1")] });
        const r = await s.write({ items: [item("i2"), item("i1")], generations: [gen("g1", "i1"), gen("g2", "i2")] });
        expect(r.items.outcomes).toEqual(["inserted", "existing"]);
        expect(r.generations.outcomes).toEqual(["existing", "inserted"]);
      });

      it("an absent createdAt matches the stored one; a different one conflicts", async () => {
        const s = await fresh();
        await s.write({ items: [item("i1", { createdAt: "2025-01-02T03:04:05.678+02:00" })] });
        expect((await s.getItem("default", "i1"))?.createdAt).toBe("2025-01-02T01:04:05.678Z");
        expect((await s.write({ items: [item("i1")] })).items.outcomes).toEqual(["existing"]);
        // Same instant, other spelling.
        expect((await s.write({ items: [item("i1", { createdAt: "2025-01-02T01:04:05.678Z" })] })).items.outcomes).toEqual([
          "existing",
        ]);
        const e = await catchError(s.write({ items: [item("i1", { createdAt: "2025-01-02T01:04:06Z" })] }));
        expect(e).toBeInstanceOf(ConflictError);
        expect((e as RecordConflictError).fields).toEqual(["createdAt"]);
      });

      it("the same id with a different body is a conflict naming the id, and nothing of the batch is stored", async () => {
        const s = await seeded();
        const e = await catchError(
          s.write({ items: [item("new1")], generations: [gen("g2", "i1", "p2", { output: "changed" })] }, { label: lineLabel }),
        );
        expect(e).toBeInstanceOf(ConflictError);
        expect(e).toBeInstanceOf(RlxfError);
        expect((e as RlxfError).code).toBe("conflict");
        expect(e.message).toContain('"g2"');
        expect(e.message).toContain("line 1");
        expect((e as RecordConflictError).fields).toEqual(["output"]);
        expect(await s.getItem("default", "new1")).toBeUndefined();
        expect((await s.getGeneration("default", "g2"))?.output).toBe("output g2");

        await s.write({ feedback: [rating("f", "g1", 3)] });
        const e2 = await catchError(s.write({ feedback: [rating("f", "g1", 4)] }));
        expect(e2).toBeInstanceOf(ConflictError);
        expect((e2 as RecordConflictError).fields).toEqual(["value"]);
      });

      it("duplicates inside one batch: identical ones are stored once, differing ones conflict", async () => {
        const s = await fresh();
        const r = await s.write({
          items: [item("i1"), item("i1", { createdAt: "2024-05-05T00:00:00Z" }), item("i1")],
          generations: [gen("g1", "i1"), gen("g1", "i1")],
          feedback: [rating("f", "g1", 3), rating("f", "g1", 3, { itemId: "i1" })],
        });
        expect(r.items).toEqual({ inserted: 1, existing: 2, outcomes: ["inserted", "existing", "existing"] });
        expect(r.generations.outcomes).toEqual(["inserted", "existing"]);
        expect(r.feedback.outcomes).toEqual(["inserted", "existing"]);
        expect((await s.getItem("default", "i1"))?.createdAt).toBe("2024-05-05T00:00:00.000Z");
        expect(await s.counts()).toMatchObject({ items: 1, generations: 1, feedback: 1 });

        const e = await catchError(s.write({ items: [item("j1"), item("j1", { prompt: "other" })] }));
        expect(e).toBeInstanceOf(ConflictError);
        expect(e.message).toContain('"j1"');
        expect(e.message).toContain("items[1]");
        expect(await s.getItem("default", "j1")).toBeUndefined();
      });
    });

    describe("projects", () => {
      it("the same id in two projects is two records, and reads of one never return the other's", async () => {
        const s = await fresh();
        await s.write({
          items: [item("i1", { project: "A", prompt: "A's" }), item("i1", { project: "B", prompt: "B's" })],
          generations: [gen("g1", "i1", "p", { project: "A" }), gen("g1", "i1", "q", { project: "B" })],
          feedback: [rating("f1", "g1", 1, { project: "A" }), rating("f1", "g1", 5, { project: "B" })],
        });
        expect((await s.getItem("A", "i1"))?.prompt).toBe("A's");
        expect((await s.getItem("B", "i1"))?.prompt).toBe("B's");
        expect((await s.getItem("default", "i1"))).toBeUndefined();
        expect((await s.getFeedback("B", "f1"))?.value).toMatchObject({ score: 5 });
        for (const p of ["A", "B"]) {
          const all = [
            ...(await s.listItems({ project: p })).records,
            ...(await s.listGenerations({ project: p })).records,
            ...(await s.listFeedback({ project: p })).records,
            ...(await collect(s.iterateFeedback({ project: p }))),
          ];
          expect(all.length).toBe(4);
          expect(all.every((r) => r.project === p)).toBe(true);
          const resolved = await collect(s.iterateResolvedFeedback({ project: p }));
          expect(resolved).toHaveLength(1);
          expect(resolved[0]?.item.project).toBe(p);
          expect(resolved[0]?.targets[0]?.project).toBe(p);
        }
        expect((await s.listFeedback({ project: "A", policy: "q" })).records).toEqual([]);
        expect((await s.listFeedback({ project: "B", policy: "q" })).records).toHaveLength(1);
        expect(await s.counts("A")).toMatchObject({ items: 1, generations: 1, feedback: 1 });
        expect(await s.counts()).toMatchObject({ items: 0, generations: 0, feedback: 0 });
        expect(await s.projects()).toEqual(["A", "B"]);
        // Same ids, other body, other project: still no conflict.
        const r = await s.write({ items: [item("i1", { project: "C", prompt: "C's" })] });
        expect(r.items.outcomes).toEqual(["inserted"]);
      });
    });

    describe("filters", () => {
      const filtered = async () => {
        const s = await seeded();
        await s.write({
          feedback: [
            rating("r1", "g1", 4, { createdAt: "2025-01-01T00:00:00Z" }),
            rating("r2", "g3", 2, { createdAt: "2025-01-02T00:00:00Z", source: { type: "judge", id: "other-judge" } }),
            pairwise("p1", ["g1", "g2"], "first", { createdAt: "2025-01-03T00:00:00Z" }),
            pairwise("p2", ["g2", "g1"], "second", { createdAt: "2025-01-04T00:00:00Z", source: { type: "human", id: "ann2" } }),
            { id: "b1", kind: "binary", targets: ["g2"], source: { type: "user", id: "ann1" }, value: { ok: false }, createdAt: "2025-01-05T00:00:00Z" },
          ],
        });
        return s;
      };
      const ids = (fs: { id: string }[]) => fs.map((f) => f.id).sort();

      it("by kind (one or several), source type and id, item, generation and policy", async () => {
        const s = await filtered();
        const q = async (f: Parameters<Store["listFeedback"]>[0]) => ids((await s.listFeedback(f)).records);
        expect(await q({})).toEqual(["b1", "p1", "p2", "r1", "r2"]);
        expect(await q({ kind: "rating" })).toEqual(["r1", "r2"]);
        expect(await q({ kind: ["rating", "binary"] })).toEqual(["b1", "r1", "r2"]);
        expect(await q({ kind: [] })).toEqual([]);
        expect(await q({ sourceType: "human" })).toEqual(["p1", "p2"]);
        expect(await q({ sourceId: "ann1" })).toEqual(["b1", "p1"]);
        expect(await q({ sourceType: "human", sourceId: "ann1" })).toEqual(["p1"]);
        expect(await q({ itemId: "i2" })).toEqual(["r2"]);
        expect(await q({ itemId: "i1" })).toEqual(["b1", "p1", "p2", "r1"]);
        expect(await q({ generationId: "g1" })).toEqual(["p1", "p2", "r1"]);
        expect(await q({ generationId: "g2" })).toEqual(["b1", "p1", "p2"]);
        expect(await q({ policy: "p1" })).toEqual(["p1", "p2", "r1", "r2"]);
        expect(await q({ policy: "p2" })).toEqual(["b1", "p1", "p2"]);
        expect(await q({ policy: "p2", kind: "pairwise", sourceId: "ann2" })).toEqual(["p2"]);
        expect(await q({ policy: "nobody" })).toEqual([]);
        expect(await q({ project: "elsewhere" })).toEqual([]);
        expect(ids(await collect(s.iterateFeedback({ kind: "pairwise", pageSize: 1 })))).toEqual(["p1", "p2"]);
      });

      it("by createdAt: since inclusive, until exclusive, as ISO strings, Dates or epoch ms", async () => {
        const s = await filtered();
        const q = async (f: Parameters<Store["listFeedback"]>[0]) => ids((await s.listFeedback(f)).records);
        expect(await q({ since: "2025-01-02T00:00:00Z" })).toEqual(["b1", "p1", "p2", "r2"]);
        expect(await q({ until: "2025-01-02T00:00:00Z" })).toEqual(["r1"]);
        expect(await q({ since: new Date("2025-01-02T00:00:00Z"), until: Date.parse("2025-01-04T00:00:00Z") })).toEqual(["p1", "r2"]);
        expect(await q({ since: "2025-01-03T01:00:00+01:00", until: "2025-01-03T00:00:00.001Z" })).toEqual(["p1"]);
        await expect(s.listFeedback({ since: "yesterday" })).rejects.toBeInstanceOf(ValidationError);
        // Strings are ISO 8601 only: nothing Date.parse would guess at (this one it reads as 2001-01-01).
        for (const bad of ["' OR '1'='1", "2025-01-02T00:00:00", "Jan 2 2025", "2025-02-29"]) {
          const e = await s.listFeedback({ since: bad }).catch((x: unknown) => x);
          expect(e, bad).toBeInstanceOf(ValidationError);
          expect((e as ValidationError).issues).toEqual([{ path: "since", message: expect.stringMatching(/ISO 8601/) }]);
        }
        expect(await q({ since: "2025-01-03", until: "2025-01-03T00:00:00.001000Z" })).toEqual(["p1"]);
      });

      it("rejects unknown kinds, source types, limits and cursors", async () => {
        const s = await filtered();
        await expect(s.listFeedback({ kind: "vibes" as never })).rejects.toBeInstanceOf(ValidationError);
        await expect(s.listFeedback({ sourceType: "oracle" as never })).rejects.toBeInstanceOf(ValidationError);
        await expect(s.listFeedback({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
        await expect(s.listFeedback({ limit: 2.5 })).rejects.toBeInstanceOf(ValidationError);
        await expect(s.listFeedback({ cursor: "not-a-cursor" })).rejects.toBeInstanceOf(ValidationError);
      });

      it("items by dataset and createdAt; generations by item and policy", async () => {
        const s = await seeded();
        await s.write({ items: [item("i3", { dataset: "d1", createdAt: "2000-01-01T00:00:00Z" })] });
        expect(ids((await s.listItems({ dataset: "d1" })).records)).toEqual(["i1", "i3"]);
        expect(ids((await s.listItems({ until: "2001-01-01T00:00:00Z" })).records)).toEqual(["i3"]);
        expect(ids((await s.listItems({})).records)).toEqual(["i1", "i2", "i3"]);
        expect(ids((await s.listGenerations({ itemId: "i1" })).records)).toEqual(["g1", "g2"]);
        expect(ids((await s.listGenerations({ policy: "p1" })).records)).toEqual(["g1", "g3"]);
        expect(ids((await s.listGenerations({ policy: "p1", itemId: "i2" })).records)).toEqual(["g3"]);
        expect(ids(await collect(s.iterateGenerations({ pageSize: 2 })))).toEqual(["g1", "g2", "g3"]);
        expect(ids(await collect(s.iterateItems({ dataset: "d2" })))).toEqual(["i2"]);
      });
    });

    describe("pagination", () => {
      it("pages cover every record exactly once, in (recordedAt, id) order, across batches", async () => {
        const s = await fresh();
        const written: string[] = [];
        for (let b = 0; b < 3; b++) {
          const batch = syntheticBatch(83, `b${b}-`);
          // Shuffle so input order is not id order.
          batch.feedback.reverse();
          await s.write(batch);
          written.push(...batch.feedback.map((f) => (f as { id: string }).id));
          await new Promise((r) => setTimeout(r, 3));
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await s.listFeedback({ limit: 7, ...(cursor ? { cursor } : {}) });
          expect(page.records.length).toBeLessThanOrEqual(7);
          seen.push(...page.records.map((f) => f.id));
          cursor = page.nextCursor;
          pages++;
        } while (cursor);
        expect(pages).toBe(Math.ceil(249 / 7));
        expect(seen).toHaveLength(249);
        expect(new Set(seen).size).toBe(249);
        expect([...seen].sort()).toEqual([...written].sort());
        // Within a batch (same recordedAt) the order is by id; batches come in write order.
        for (let b = 0; b < 3; b++) {
          const part = seen.slice(b * 83, (b + 1) * 83);
          expect(part.every((id) => id.startsWith(`b${b}-`))).toBe(true);
          expect(part).toEqual([...part].sort());
        }
        const iterated = (await collect(s.iterateFeedback({ pageSize: 10 }))).map((f) => f.id);
        expect(iterated).toEqual(seen);
        // Exactly one page: no cursor.
        const whole = await s.listFeedback({ limit: 249 });
        expect(whole.records).toHaveLength(249);
        expect(whole.nextCursor).toBeUndefined();
        // Default page size.
        expect((await s.listFeedback()).records).toHaveLength(100);
        // Filtered pagination.
        const second: string[] = [];
        cursor = undefined;
        do {
          const page = await s.listFeedback({ kind: "pairwise", generationId: "b1-i00010-a", limit: 1, ...(cursor ? { cursor } : {}) });
          second.push(...page.records.map((f) => f.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect(second).toEqual(["b1-i00010-f"]);
        // Items and generations page the same way.
        const gens: string[] = [];
        cursor = undefined;
        do {
          const page = await s.listGenerations({ limit: 50, ...(cursor ? { cursor } : {}) });
          gens.push(...page.records.map((g) => g.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect(new Set(gens).size).toBe(498);
        expect((await collect(s.iterateItems({ pageSize: 100 }))).length).toBe(249);
      });

      it("an iterator can stop early", async () => {
        const s = await fresh();
        await s.write(syntheticBatch(30));
        let n = 0;
        for await (const _ of s.iterateFeedback({ pageSize: 4 })) if (++n === 9) break;
        expect(n).toBe(9);
        expect(await s.counts()).toMatchObject({ feedback: 30 });
      });
    });

    describe("resolved feedback", () => {
      it("yields feedback in order with its item and targets in target order", async () => {
        const s = await seeded();
        await s.write({
          feedback: [
            pairwise("fb-b", ["g2", "g1"], "second"),
            rating("fb-a", "g3", 5),
            { id: "fb-c", kind: "ranking", targets: ["g2", "g1"], source: { type: "human", id: "a" }, value: { ranks: [2, 1] } },
          ],
        });
        const out = await collect(s.iterateResolvedFeedback({ pageSize: 2 }));
        expect(out.map((r) => r.feedback.id)).toEqual(["fb-a", "fb-b", "fb-c"]);
        expect(out.map((r) => r.item.id)).toEqual(["i2", "i1", "i1"]);
        expect(out[1]?.targets.map((g) => g.id)).toEqual(["g2", "g1"]);
        expect(out[1]?.targets[0]).toEqual(await s.getGeneration("default", "g2"));
        expect(out[1]?.item).toEqual(await s.getItem("default", "i1"));
        expect(out[0]?.targets.map((g) => g.policy)).toEqual(["p1"]);
        const filtered = await collect(s.iterateResolvedFeedback({ kind: "pairwise" }));
        expect(filtered.map((r) => r.feedback.id)).toEqual(["fb-b"]);
      });

      it("resolves many feedback records across pages", async () => {
        const s = await fresh();
        await s.write(syntheticBatch(120));
        const out = await collect(s.iterateResolvedFeedback({ pageSize: 50, policy: "b" }));
        expect(out).toHaveLength(120);
        for (const r of out) {
          expect(r.targets.map((t) => t.id)).toEqual(r.feedback.targets);
          expect(r.targets.every((t) => t.itemId === r.item.id)).toBe(true);
          expect(r.feedback.itemId).toBe(r.item.id);
        }
      });
    });

    describe("spans", () => {
      it("rejects spans beyond the target's output, whether the target is in the batch or stored", async () => {
        const s = await fresh();
        const spans = (id: string, target: string, end: number): FeedbackInput => ({
          id,
          kind: "spans",
          targets: [target],
          source: { type: "human", id: "a" },
          value: { spans: [{ start: 0, end: 2, label: "ok" }, { start: 1, end, label: "x" }] },
        });
        // "héllo 👋" is 8 UTF-16 code units.
        const e = await catchError(
          s.write({
            items: [item("i1")],
            generations: [gen("g1", "i1", "p", { output: "héllo 👋" })],
            feedback: [spans("s1", "g1", 9)],
          }),
        );
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).issues[0]?.path).toBe("value.spans.1.end");
        expect((e as ValidationError).record).toBe("feedback[0]");
        expect(await s.counts()).toMatchObject({ items: 0 });

        await s.write({ items: [item("i1")], generations: [gen("g1", "i1", "p", { output: "héllo 👋" })], feedback: [spans("s1", "g1", 8)] });
        const e2 = await catchError(s.write({ feedback: [spans("s2", "g1", 9)] }, { label: lineLabel }));
        expect(e2).toBeInstanceOf(ValidationError);
        expect((e2 as ValidationError).record).toBe("line 1");
        expect((await s.write({ feedback: [spans("s2", "g1", 8)] })).feedback.inserted).toBe(1);
      });
    });

    describe("timestamps", () => {
      it("createdAt defaults to the ingestion time; recordedAt is kept apart", async () => {
        const s = await fresh();
        const before = Date.now();
        const r = await s.write({ items: [item("i1"), item("i2", { createdAt: "1999-12-31T23:59:59.999Z" })] });
        const after = Date.now();
        const t1 = await s.times("item", "default", "i1");
        const t2 = await s.times("item", "default", "i2");
        expect(t1?.createdAt).toBe(t1?.recordedAt);
        expect(t1?.recordedAt).toBe(r.recordedAt);
        const rec = Date.parse(r.recordedAt);
        expect(rec).toBeGreaterThanOrEqual(before);
        expect(rec).toBeLessThanOrEqual(after);
        expect(t2).toEqual({ createdAt: "1999-12-31T23:59:59.999Z", recordedAt: r.recordedAt });
        expect(await s.times("feedback", "default", "i1")).toBeUndefined();
        expect((await s.getItem("default", "i2"))?.createdAt).toBe("1999-12-31T23:59:59.999Z");
      });

      it("keeps dates far from now", async () => {
        const s = await fresh();
        const dates = ["1970-01-01T00:00:00.000Z", "1901-03-04T05:06:07.089Z", "2999-12-31T23:59:59.999Z"];
        await s.write({ items: dates.map((createdAt, i) => item(`i${i}`, { createdAt })) });
        for (const [i, d] of dates.entries()) expect((await s.getItem("default", `i${i}`))?.createdAt).toBe(d);
        expect((await s.listItems({ since: "1960-01-01T00:00:00Z", until: "1980-01-01T00:00:00Z" })).records.map((x) => x.id)).toEqual(["i0"]);
      });
    });

    describe("text", () => {
      it("keeps Unicode text, ids and project names exactly", async () => {
        const s = await fresh();
        const text = "naïve café — 東京 🇯🇵 👩‍👩‍👧 e\u0301 \u200f שלום \u0000 nul \t tab \\ \" '";
        const project = "projét-東京";
        await s.write({
          items: [item("ítem-🙂", { project, prompt: text, reference: text, metadata: { k: text } })],
          generations: [gen("gén-東", "ítem-🙂", "pólicy", { project, output: text })],
          feedback: [rating("fb-ü", "gén-東", 3, { project, value: { score: 3, scale: { min: 1, max: 5 }, comment: text } } as never)],
        });
        const i = await s.getItem(project, "ítem-🙂");
        expect(i?.prompt).toBe(text);
        expect(i?.reference).toBe(text);
        expect(i?.metadata).toEqual({ k: text });
        expect((await s.getGeneration(project, "gén-東"))?.output).toBe(text);
        expect((await s.getFeedback(project, "fb-ü"))?.value).toMatchObject({ comment: text });
        expect((await s.listFeedback({ project, policy: "pólicy" })).records).toHaveLength(1);
        expect(await s.projects()).toEqual([project]);
        const r = await s.write({ items: [i] });
        expect(r.items.outcomes).toEqual(["existing"]);
      });

      it("orders ids by code point on every engine", async () => {
        const s = await fresh();
        const ids = ["b", "B", "a", "Z", "é", "e", "東", "🙂", "a-1", "a_1", "a1", "ab"];
        await s.write({ items: ids.map((id) => item(id)) });
        const got = (await s.listItems({ limit: 100 })).records.map((x) => x.id);
        const byCodePoint = [...ids].sort((x, y) => (Buffer.compare(Buffer.from(x), Buffer.from(y))));
        expect(got).toEqual(byCodePoint);
      });

      it("rejects key strings neither engine can keep exactly", async () => {
        const s = await fresh();
        const e = await catchError(s.write({ items: [item("bad\u0000id")] }));
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).issues[0]?.path).toBe("id");
        const e2 = await catchError(s.write({ items: [item("i1")], generations: [gen("g1", "i1", "p\uD800")] }));
        expect((e2 as ValidationError).issues[0]?.path).toBe("policy");
      });

      it("keeps lone surrogates inside texts (span offsets stay valid)", async () => {
        const s = await fresh();
        const out = "x\uD83Dy";
        await s.write({ items: [item("i1")], generations: [gen("g1", "i1", "p", { output: out })] });
        expect((await s.getGeneration("default", "g1"))?.output).toBe(out);
      });

      it("keeps large texts", async () => {
        const s = await fresh();
        const big = "αβγ 0123456789 🙂\n".repeat(150_000); // ~2.7 M UTF-16 units
        await s.write({ items: [item("i1", { prompt: big })], generations: [gen("g1", "i1", "p", { output: big })] });
        expect((await s.getGeneration("default", "g1"))?.output).toBe(big);
        expect((await s.getItem("default", "i1"))?.prompt).toBe(big);
        expect((await s.write({ generations: [gen("g1", "i1", "p", { output: big })] })).generations.outcomes).toEqual(["existing"]);
        await s.write({
          feedback: [
            {
              id: "s",
              kind: "spans",
              targets: ["g1"],
              source: { type: "human", id: "a" },
              value: { spans: [{ start: big.length - 5, end: big.length, label: "end" }] },
            },
          ],
        });
      });
    });

    describe("scale", () => {
      // How fast is measured by npm run bench:ingest and bench:scale, not here: this shows the write is whole and idempotent at this size.
      it("imports ~805 items, ~17k generations and 16.1k pairwise feedback in one write, and again as a no-op", async () => {
        const s = await fresh();
        const items: ItemInput[] = [];
        const generations: GenerationInput[] = [];
        const feedback: FeedbackInput[] = [];
        const policies = Array.from({ length: 21 }, (_, k) => `model-${k}`);
        for (let i = 0; i < 805; i++) {
          const iid = `alpaca-${i}`;
          items.push(item(iid, { dataset: "alpaca_eval", prompt: `Instruction ${i}: `.padEnd(200, "x") }));
          for (const p of policies) generations.push(gen(`${iid}/${p}`, iid, p, { output: `Answer by ${p}. `.padEnd(800, "y") }));
          for (let k = 0; k < 20; k++) {
            const a = `${iid}/${policies[0]}`;
            const b = `${iid}/${policies[k + 1]}`;
            feedback.push(
              pairwise(`${iid}#${k}`, [a, b], k % 2 ? "first" : "second", {
                source: { type: "judge", id: "weighted_alpaca_eval_gpt4_turbo" },
                value: { choice: k % 2 ? "first" : "second", pSecond: k % 2 ? 0.25 : 0.75 },
              } as never),
            );
          }
        }
        const t0 = performance.now();
        const r = await s.write({ items, generations, feedback });
        const ms = performance.now() - t0;
        const t1 = performance.now();
        const again = await s.write({ items, generations, feedback });
        const msAgain = performance.now() - t1;
        const t2 = performance.now();
        let n = 0;
        for await (const x of s.iterateResolvedFeedback({ pageSize: 1000 })) if (x.targets.length === 2) n++;
        const msRead = performance.now() - t2;
        console.log(
          `[${name}] write ${items.length} items + ${generations.length} generations + ${feedback.length} feedback: ` +
            `${Math.round(ms)} ms; idempotent re-write: ${Math.round(msAgain)} ms; resolved read of all feedback: ${Math.round(msRead)} ms`,
        );
        expect(r.generations.inserted).toBe(805 * 21);
        expect(r.feedback.inserted).toBe(16_100);
        expect(again.feedback.existing).toBe(16_100);
        expect(n).toBe(16_100);
        expect((await s.counts()).byKind.pairwise).toBe(16_100);
        expect((await s.listFeedback({ policy: "model-7", limit: 10_000 })).records).toHaveLength(805);
      }, 120_000);
    });

    it("refuses work once closed", async () => {
      const s = await factory();
      await s.close();
      await s.close();
      await expect(s.getItem("default", "x")).rejects.toBeInstanceOf(RlxfError);
      await expect(s.write({})).rejects.toBeInstanceOf(RlxfError);
    });
  });
}
