import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { readFileSync } from "node:fs";
import { Feedback, FEEDBACK_KINDS, MAX_ID_LENGTH, MAX_NAME_LENGTH, rankingProblem } from "./schema.js";
import { checkAgainstOutputs, parseFeedback, parseGeneration, parseItem } from "./validate.js";

const src = { type: "human", id: "ann-1" } as const;
const one = (kind: string, value: unknown) => ({ id: `f-${kind}`, kind, targets: ["g1"], source: src, value });

/** One valid example of every kind. */
const valid: Record<string, unknown> = {
  rating: one("rating", { score: 4, scale: { min: 1, max: 5 } }),
  binary: one("binary", { ok: false }),
  pairwise: { id: "p", kind: "pairwise", targets: ["g1", "g2"], source: src, value: { choice: "second", pSecond: 0.8, strength: 0.5 } },
  ranking: { id: "r", kind: "ranking", targets: ["g1", "g2", "g3"], source: src, value: { ranks: [2, 1, 2] } },
  critique: one("critique", { text: "Too long.", strengths: ["correct"], weaknesses: ["verbose"], suggestions: ["cut the intro"], verdict: "fail" }),
  spans: one("spans", { spans: [{ start: 0, end: 5, label: "hallucination", score: -1, comment: "made up" }] }),
  rubric: one("rubric", { criteria: [{ name: "cites sources", passed: true, weight: 2 }, { name: "style", score: 3, maxScore: 5 }], total: 0.8 }),
  correction: one("correction", { output: "The capital of Australia is Canberra." }),
  verification: one("verification", { passed: false, score: 0.5, details: { testsRun: 4, testsFailed: 2, error: "AssertionError" } }),
  signal: one("signal", { signal: "regenerate", value: true }),
};

describe("feedback record", () => {
  it("accepts one example of every kind and fills the default project", () => {
    for (const kind of FEEDBACK_KINDS) {
      const f = parseFeedback(valid[kind]);
      expect(f.kind).toBe(kind);
      expect(f.project).toBe("default");
    }
  });

  it.each([
    ["rating outside its scale", one("rating", { score: 6, scale: { min: 1, max: 5 } }), "value.score"],
    ["inverted scale", one("rating", { score: 1, scale: { min: 5, max: 1 } }), "value.scale.max"],
    ["pairwise with one target", { ...(valid.pairwise as object), targets: ["g1"] }, "targets"],
    ["pSecond disagreeing with choice", { ...(valid.pairwise as object), value: { choice: "first", pSecond: 0.9 } }, "value.pSecond"],
    ["pSecond above 1", { ...(valid.pairwise as object), value: { choice: "second", pSecond: 1.5 } }, "value.pSecond"],
    ["ranking with too few ranks", { ...(valid.ranking as object), value: { ranks: [1, 2] } }, "value.ranks"],
    ["ranking with rank 0", { ...(valid.ranking as object), value: { ranks: [0, 1, 2] } }, "value.ranks.0"],
    ["ranking with a rank beyond the number of targets", { ...(valid.pairwise as object), kind: "ranking", value: { ranks: [1, 1000] } }, "value.ranks.1"],
    ["ranking without a rank 1", { ...(valid.pairwise as object), kind: "ranking", value: { ranks: [2, 2] } }, "value.ranks"],
    ["ranking with a gap no tie explains", { ...(valid.ranking as object), value: { ranks: [1, 3, 3] } }, "value.ranks"],
    ["a 1 MB policy", { id: "g", itemId: "i", policy: "p".repeat(1 << 20), output: "o" }, "policy"],
    ["a project name over 256 characters", { ...(valid.binary as object), project: "p".repeat(257) }, "project"],
    ["a source id over 256 characters", { ...(valid.binary as object), source: { type: "human", id: "a".repeat(257) } }, "source.id"],
    ["an id over 512 characters", { ...(valid.binary as object), id: "f".repeat(513) }, "id"],
    ["a signal name over 256 characters", one("signal", { signal: "s".repeat(257), value: 1 }), "value.signal"],
    ["span ending before it starts", one("spans", { spans: [{ start: 5, end: 5, label: "x" }] }), "value.spans.0.end"],
    ["criterion without passed or score", one("rubric", { criteria: [{ name: "x" }] }), "value.criteria.0.passed"],
    ["unknown kind", one("vibes", { ok: true }), "kind"],
    ["unknown source type", { ...(valid.binary as object), source: { type: "oracle", id: "x" } }, "source.type"],
    ["unknown field", { ...(valid.binary as object), colour: "red" }, ""],
    ["duplicate targets", { ...(valid.pairwise as object), targets: ["g1", "g1"] }, "targets"],
    ["bad timestamp", { ...(valid.binary as object), createdAt: "yesterday" }, "createdAt"],
  ])("rejects %s, naming the field", (_name, input, path) => {
    let err: unknown;
    try {
      if ((input as { policy?: unknown }).policy !== undefined) parseGeneration(input, "line 7");
      else parseFeedback(input, "line 7");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    const v = err as ValidationError;
    expect(v.message).toContain("line 7");
    expect(v.issues.map((i) => i.path)).toContain(path);
  });

  it("ranks: integers 1..n; ties as a competition (1224) or a dense (1223) ranking; existing rankings stay valid", () => {
    const ranking = (ranks: number[]) => ({ id: "r", kind: "ranking", targets: ranks.map((_, i) => `g${i}`), source: src, value: { ranks } });
    const ok = [[1, 2], [2, 1], [1, 1], [1, 1, 1], [1, 2, 3, 4], [3, 1, 4, 2], [1, 2, 2], [2, 1, 2], [1, 1, 3], [1, 1, 2], [2, 2, 1, 4], [1, 2, 2, 3]];
    for (const r of ok) expect(() => parseFeedback(ranking(r)), JSON.stringify(r)).not.toThrow();
    const bad = [[1, 1000], [2, 2], [1, 3], [0, 1], [1.5, 1], [1, 3, 3], [2, 2, 3], [1, 1, 4], [1, 4, 4, 4]];
    for (const r of bad) expect(() => parseFeedback(ranking(r)), JSON.stringify(r)).toThrow(ValidationError);
    expect(rankingProblem([1, 3, 3])?.message).toMatch(/competition ranking.*dense/);
    // The rankings shipped in the example dataset are valid.
    for (const line of readFileSync(new URL("../../examples/demo.jsonl", import.meta.url), "utf8").split("\n")) {
      if (line.includes('"kind":"ranking"')) expect(() => parseFeedback(JSON.parse(line))).not.toThrow();
    }
  });

  it("names: project, policy, source id, dataset, dimension, signal and span label up to 256 characters; ids up to 512", () => {
    expect([MAX_NAME_LENGTH, MAX_ID_LENGTH]).toEqual([256, 512]);
    const long = "x".repeat(256);
    expect(parseGeneration({ id: "g".repeat(512), itemId: "i", policy: long, output: "", project: long }).policy).toBe(long);
    expect(parseItem({ id: "i", prompt: "p", dataset: long }).dataset).toBe(long);
    expect(() => parseItem({ id: "i", prompt: "p", dataset: `${long}x` })).toThrow(/dataset: must be at most 256 characters/);
    expect(() => parseFeedback(one("rating", { score: 1, scale: { min: 0, max: 1 }, dimension: `${long}x` }))).toThrow(/value\.dimension/);
    expect(() => parseFeedback(one("spans", { spans: [{ start: 0, end: 1, label: `${long}x` }] }))).toThrow(/value\.spans\.0\.label/);
  });

  it("validates items and generations", () => {
    expect(parseItem({ id: "i1", prompt: [{ role: "user", content: "hi" }] }).prompt).toHaveLength(1);
    expect(() => parseItem({ id: "i1", prompt: [] })).toThrow(/prompt/);
    expect(() => parseGeneration({ id: "g1", itemId: "i1", output: "x" })).toThrow(/policy/);
    expect(parseGeneration({ id: "g1", itemId: "i1", policy: "m", output: "" }).output).toBe("");
  });

  it("checks span offsets against the output in UTF-16 code units", () => {
    const f = parseFeedback(one("spans", { spans: [{ start: 0, end: 3, label: "x" }] }));
    // "a😀" is 3 UTF-16 code units: a span to 3 fits, to 4 does not
    expect(() => checkAgainstOutputs(f, () => "a😀")).not.toThrow();
    const g = parseFeedback(one("spans", { spans: [{ start: 0, end: 4, label: "x" }] }));
    expect(() => checkAgainstOutputs(g, () => "a😀", "batch[2]")).toThrow(/batch\[2\].*value\.spans\.0\.end/);
  });

  it("the union type narrows value by kind", () => {
    const f = Feedback.parse(valid.pairwise);
    if (f.kind === "pairwise") expect(f.value.choice).toBe("second");
    else throw new Error("expected pairwise");
  });
});
