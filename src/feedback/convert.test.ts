import { describe, expect, it } from "vitest";
import {
  correctionToPairwise,
  critiqueToBinary,
  pairwiseToComparisons,
  ratingsToPairwise,
  rankingToPairwise,
  rubricToRating,
  rubricToScalar,
  verificationToBinary,
  verificationToScalar,
} from "./convert.js";
import type { FeedbackOf, Generation } from "./schema.js";
import { parseFeedback } from "./validate.js";

const human = { type: "human", id: "ann" } as const;

describe("ranking -> pairwise", () => {
  const r = parseFeedback({ id: "r1", kind: "ranking", itemId: "i", targets: ["a", "b", "c", "d"], source: human, value: { ranks: [3, 1, 2, 2] } }) as FeedbackOf<"ranking">;

  it("emits every pair with the winner the ranks imply, ties included", () => {
    const pairs = rankingToPairwise(r);
    expect(pairs).toHaveLength(6);
    const byTargets = Object.fromEntries(pairs.map((p) => [p.targets.join(">"), p.value.choice]));
    expect(byTargets).toEqual({ "a>b": "second", "a>c": "second", "a>d": "second", "b>c": "first", "b>d": "first", "c>d": "tie" });
    for (const p of pairs) {
      expect(p.itemId).toBe("i");
      expect(p.metadata?.derivedFrom).toBe("r1");
      parseFeedback(p); // every derived record is itself valid
    }
  });

  it("gives larger strength to larger rank gaps and can drop ties", () => {
    const pairs = rankingToPairwise(r, { includeTies: false });
    expect(pairs).toHaveLength(5);
    const ab = pairs.find((p) => p.targets.join() === "a,b")!;
    const ac = pairs.find((p) => p.targets.join() === "a,c")!;
    expect(ab.value.strength).toBe(1);
    expect(ac.value.strength).toBe(0.5);
  });

  it("is deterministic", () => {
    expect(rankingToPairwise(r)).toEqual(rankingToPairwise(r));
  });
});

describe("ratings -> pairwise", () => {
  const rating = (id: string, target: string, score: number, item = "i1", source: { type: string; id: string } = human) =>
    parseFeedback({ id, kind: "rating", itemId: item, targets: [target], source, value: { score, scale: { min: 1, max: 5 } } }) as FeedbackOf<"rating">;

  it("compares generations of the same item only, by the same source", () => {
    const pairs = ratingsToPairwise([
      rating("r1", "g1", 2),
      rating("r2", "g2", 5),
      rating("r3", "g3", 5, "i2"),
      rating("r4", "g4", 1, "i1", { type: "judge", id: "j" }),
    ]);
    expect(pairs).toHaveLength(1);
    expect(pairs[0]!.targets).toEqual(["g1", "g2"]);
    expect(pairs[0]!.value.choice).toBe("second");
    expect(pairs[0]!.value.strength).toBeCloseTo(0.75);
  });

  it("honours minMargin and ties", () => {
    const rs = [rating("r1", "g1", 3), rating("r2", "g2", 3), rating("r3", "g3", 3.5)];
    const all = ratingsToPairwise(rs);
    expect(all.map((p) => p.value.choice).sort()).toEqual(["second", "second", "tie"]);
    expect(ratingsToPairwise(rs, { minMargin: 0.2, includeTies: false })).toHaveLength(0);
  });

  it("finds the item through itemOf, and says what to do when it cannot", () => {
    const a = parseFeedback({ id: "x1", kind: "rating", targets: ["g1"], source: human, value: { score: 1, scale: { min: 0, max: 1 } } }) as FeedbackOf<"rating">;
    const b = parseFeedback({ id: "x2", kind: "rating", targets: ["g2"], source: human, value: { score: 0, scale: { min: 0, max: 1 } } }) as FeedbackOf<"rating">;
    expect(ratingsToPairwise([a, b], { itemOf: () => "i" })[0]!.value.choice).toBe("first");
    expect(() => ratingsToPairwise([a, b])).toThrow(/itemOf/);
  });
});

describe("correction -> pairwise", () => {
  const original: Generation = { id: "g1", project: "default", itemId: "i1", policy: "m", output: "Sydney is the capital." };
  const c = parseFeedback({ id: "c1", kind: "correction", targets: ["g1"], source: human, value: { output: "Canberra is the capital." } }) as FeedbackOf<"correction">;

  it("prefers the corrected output over the original", () => {
    const { generation, feedback } = correctionToPairwise(c, original);
    expect(generation.output).toBe("Canberra is the capital.");
    expect(generation.itemId).toBe("i1");
    expect(feedback.targets).toEqual(["g1", generation.id]);
    expect(feedback.value.choice).toBe("second");
    expect(feedback.itemId).toBe("i1");
    parseFeedback(feedback);
  });

  it("refuses a generation that is not the correction's target", () => {
    expect(() => correctionToPairwise(c, { ...original, id: "g2" })).toThrow(/targets g1/);
  });
});

describe("scalar and binary views", () => {
  it("critique verdicts become binary, and no verdict means no label", () => {
    const pass = parseFeedback({ id: "k", kind: "critique", targets: ["g"], source: human, value: { text: "fine", verdict: "pass" } }) as FeedbackOf<"critique">;
    const none = parseFeedback({ id: "k2", kind: "critique", targets: ["g"], source: human, value: { text: "hmm" } }) as FeedbackOf<"critique">;
    expect(critiqueToBinary(pass)?.value.ok).toBe(true);
    expect(critiqueToBinary(none)).toBeUndefined();
  });

  it("rubrics become a weighted mean of normalised criterion scores", () => {
    const r = parseFeedback({
      id: "rb",
      kind: "rubric",
      targets: ["g"],
      source: human,
      value: { criteria: [{ name: "a", passed: true, weight: 2 }, { name: "b", score: 1, maxScore: 4 }, { name: "c", passed: false, weight: 1 }] },
    }) as FeedbackOf<"rubric">;
    // (2*1 + 1*0.25 + 1*0) / 4
    expect(rubricToScalar(r)).toBeCloseTo(0.5625);
    expect(rubricToRating(r).value).toEqual({ score: 0.5625, scale: { min: 0, max: 1 } });
    const zero = { ...r, value: { criteria: [{ name: "a", passed: true, weight: 0 }] } } as FeedbackOf<"rubric">;
    expect(() => rubricToScalar(zero)).toThrow(/weights are 0/);
  });

  it("verification becomes binary and a scalar", () => {
    const v = (value: unknown) => parseFeedback({ id: "v", kind: "verification", targets: ["g"], source: { type: "verifier", id: "tests" }, value }) as FeedbackOf<"verification">;
    expect(verificationToBinary(v({ passed: false })).value.ok).toBe(false);
    expect(verificationToScalar(v({ passed: true, score: 0.3 }))).toBe(0.3);
    expect(verificationToScalar(v({ passed: false, details: { testsRun: 4, testsFailed: 1 } }))).toBe(0.75);
    expect(verificationToScalar(v({ passed: true }))).toBe(1);
    expect(verificationToScalar(v({ passed: false }))).toBe(0);
  });
});

describe("pairwise -> comparisons", () => {
  it("maps generations to players and uses pSecond when present", () => {
    const fs = [
      parseFeedback({ id: "1", kind: "pairwise", targets: ["g1", "g2"], source: human, value: { choice: "second", pSecond: 0.7 } }),
      parseFeedback({ id: "2", kind: "pairwise", targets: ["g3", "g1"], source: human, value: { choice: "tie" } }),
      parseFeedback({ id: "3", kind: "pairwise", targets: ["g1", "g4"], source: human, value: { choice: "first" } }),
    ];
    const policy: Record<string, string> = { g1: "A", g2: "B", g3: "B", g4: "A" };
    expect(pairwiseToComparisons(fs, (g) => policy[g])).toEqual([
      { a: "A", b: "B", pB: 0.7 },
      { a: "B", b: "A", pB: 0.5 },
    ]);
    expect(() => pairwiseToComparisons(fs, () => undefined)).toThrow(/no player/);
  });
});
