/**
 * Answers to feedback records, for both display orders of a pair: what the annotator saw first must be
 * stored relative to the generation order of the record's targets.
 */
import { describe, expect, it } from "vitest";
import { Feedback } from "../feedback/index.js";
import { buildRecords } from "./answers.js";
import type { Claim, QueueRecord, QueueTask } from "../store/index.js";

const queue: QueueRecord = {
  project: "p",
  id: "q",
  name: "q",
  annotatorsPerItem: 1,
  lockSeconds: 60,
  createdAt: new Date(0).toISOString(),
  definition: {
    selection: { mode: "pairs" },
    questions: [
      { id: "pref", kind: "pairwise", prompt: "?" },
      { id: "rank", kind: "ranking", prompt: "?" },
      { id: "ok", kind: "binary", prompt: "?" },
      { id: "spans", kind: "span", prompt: "?", labels: ["bad"], required: false },
    ],
  },
};
const task: QueueTask = { queueId: "q", id: "t1", position: 1, itemId: "i", generationIds: ["g-x", "g-y"] };
const generations = [
  { id: "g-x", project: "p", itemId: "i", policy: "x", output: "xx" },
  { id: "g-y", project: "p", itemId: "i", policy: "y", output: "yyyyyy" },
];
const claim = (shownOrder: number[]): Claim => ({ queueId: "q", taskId: "t1", annotator: "ann", status: "locked", revision: 0, lockedUntil: 0, shownOrder, updatedAt: "" });
const build = (shownOrder: number[], answers: Record<string, unknown>) =>
  buildRecords({ project: "p", queue, task, claim: claim(shownOrder), annotator: "ann", submissionId: "s", answers, generations });

describe("answers to records", () => {
  for (const [order, label] of [
    [[0, 1], "in task order"],
    [[1, 0], "reversed"],
  ] as const) {
    it(`maps shown slots back to targets when the pair is shown ${label}`, () => {
      // The annotator prefers whatever they saw first, ranks it first, and says only the second shown is ok.
      const out = build([...order], {
        pref: { choice: "first", strength: 1 },
        rank: { ranks: [1, 2] },
        ok: [false, true],
        spans: [null, { spans: [{ start: 1, end: 2, label: "bad" }] }],
      });
      expect(out.issues).toEqual([]);
      const shownFirst = task.generationIds[order[0]]!;
      const shownSecond = task.generationIds[order[1]]!;
      const byQ = (q: string) => out.feedback.filter((f) => (f.metadata as { questionId: string }).questionId === q);
      const pw = byQ("pref")[0]!;
      expect(pw.targets).toEqual(["g-x", "g-y"]);
      expect(pw.value).toEqual({ choice: shownFirst === "g-x" ? "first" : "second", strength: 1 });
      expect(pw.metadata).toMatchObject({ shownOrder: [shownFirst, shownSecond], shownChoice: "first" });
      expect(byQ("rank")[0]!.value).toEqual({ ranks: shownFirst === "g-x" ? [1, 2] : [2, 1] });
      // Per-generation records come in target order, whatever the display order.
      expect(byQ("ok").map((f) => f.targets[0])).toEqual(["g-x", "g-y"]);
      const okOf = Object.fromEntries(byQ("ok").map((f) => [f.targets[0], (f.value as { ok: boolean }).ok]));
      expect(okOf).toEqual({ [shownFirst]: false, [shownSecond]: true });
      // Span offsets are into the generation the annotator highlighted, the one shown second.
      expect(byQ("spans")).toHaveLength(1);
      expect(byQ("spans")[0]!.targets).toEqual([shownSecond]);
      // Every record is a valid feedback record of its kind.
      for (const f of out.feedback) expect(Feedback.safeParse(f).success).toBe(true);
    });
  }

  it("gives deterministic ids: the same answers make the same ids, other questions other ids", () => {
    const a = build([1, 0], { pref: { choice: "tie" }, rank: { ranks: [1, 1] }, ok: [true, true] });
    const b = build([0, 1], { pref: { choice: "second" }, rank: { ranks: [2, 1] }, ok: [false, true] });
    expect(a.feedback.map((f) => f.id)).toEqual(b.feedback.map((f) => f.id));
    expect(new Set(a.feedback.map((f) => f.id)).size).toBe(a.feedback.length);
    expect(a.feedback[0]!.value).toEqual({ choice: "tie" });
  });

  it("checks span offsets against the generation they were made on", () => {
    // "yyyyyy" has 6 code units, "xx" has 2: end 5 fits g-y only.
    const ok = build([1, 0], { pref: { choice: "tie" }, rank: { ranks: [1, 2] }, ok: [true, true], spans: [{ spans: [{ start: 0, end: 5, label: "bad" }] }, null] });
    expect(ok.issues).toEqual([]);
    const bad = build([0, 1], { pref: { choice: "tie" }, rank: { ranks: [1, 2] }, ok: [true, true], spans: [{ spans: [{ start: 0, end: 5, label: "bad" }] }, null] });
    expect(bad.issues).toEqual([{ path: "answers.spans.0.spans.0.end", message: "must be at most the output's length (2 UTF-16 code units)" }]);
  });
});
