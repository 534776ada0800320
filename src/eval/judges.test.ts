import { describe, expect, it } from "vitest";
import {
  aggregateJudges,
  disagreementOf,
  discretize,
  hasList,
  judgeAgreement,
  lengthBiasRate,
  listBiasRate,
  majorityVote,
  positionBiasRate,
  routeToHumans,
} from "./judges.js";

describe("votes", () => {
  it("majority and weighted votes; draws between 1 and 2 are ties", () => {
    expect(discretize(1.2)).toBe(1);
    expect(discretize(1.5)).toBe(1.5);
    expect(discretize(1.9)).toBe(2);
    expect(majorityVote([1, 1, 2])).toMatchObject({ label: 1, agreement: 2 / 3, n: 3 });
    expect(majorityVote([1, 2])).toMatchObject({ label: 1.5 });
    expect(majorityVote([1, 1.5, 1.5, 2])).toMatchObject({ label: 1.5 });
    expect(majorityVote([1, 2, 2], [5, 1, 1])).toMatchObject({ label: 1, agreement: 5 / 7 });
    expect(majorityVote([1.1, 1.3]).mean).toBeCloseTo(1.2);
    expect(majorityVote([])).toMatchObject({ label: 1.5, agreement: 0 });
    expect(() => majorityVote([1], [1, 2])).toThrow(RangeError);
  });

  it("aggregates judges per pair (humans left out), by majority, weights or mean", () => {
    const labels = [
      { pair: "p", annotator: "a", preference: 1 },
      { pair: "p", annotator: "b", preference: 2 },
      { pair: "p", annotator: "c", preference: 1.9 },
      { pair: "p", annotator: "h", preference: 1, human: true },
    ];
    expect(aggregateJudges(labels).get("p")!.label).toBe(2);
    expect(aggregateJudges(labels, { method: "weighted", weights: { a: 3 } }).get("p")!.label).toBe(1);
    expect(aggregateJudges(labels, { method: "mean" }).get("p")!.label).toBe(2); // mean 1.633
  });
});

describe("agreement with humans", () => {
  // Pair p1: humans 1,1,2; pair p2: humans 2,2; pair p3: one human (1).
  const humans = [
    { pair: "p1", annotator: "h1", preference: 1, human: true },
    { pair: "p1", annotator: "h2", preference: 1, human: true },
    { pair: "p1", annotator: "h3", preference: 2, human: true },
    { pair: "p2", annotator: "h1", preference: 2, human: true },
    { pair: "p2", annotator: "h2", preference: 2, human: true },
    { pair: "p3", annotator: "h1", preference: 1, human: true },
  ];

  it("computes AlpacaEval's leave-one-out agreement for judges and the human baseline", () => {
    const labels = [
      ...humans,
      { pair: "p1", annotator: "judge", preference: 1 },
      { pair: "p2", annotator: "judge", preference: 1.2 },
      { pair: "p3", annotator: "judge", preference: 1 },
    ];
    const r = judgeAgreement(labels);
    // Humans, p1: h1 vs mode(1,2) = {1,2} → 1/2; h2 vs {1,2} → 1/2; h3 vs mode(1,1) = 1 → 0. p2: each vs the other → 1, 1.
    expect(r.humans).toMatchObject({ annotators: 3, pairs: 3, pairsLeaveOneOut: 2 });
    expect(r.humans.agreement).toBeCloseTo((0.5 + 0.5 + 0 + 1 + 1) / 5);
    const j = r.judges[0]!;
    // Judge (label 1), p1: vs {1,2} 1/2, vs {1,2} 1/2, vs {1} 1; p2 (label 1): vs {2} 0, vs {2} 0.
    expect(j.humanAgreement).toBeCloseTo((0.5 + 0.5 + 1 + 0 + 0) / 5);
    expect(j.humanBaseline).toBeCloseTo(r.humans.agreement);
    expect(j.nLeaveOneOut).toBe(2);
    // Against the full majority: p1 → 1 (agree), p2 → 2 (disagree), p3 → 1 (agree).
    expect(j.accuracy).toBeCloseTo(2 / 3);
    expect(j.n).toBe(3);
    expect(j.nWithHumans).toBe(3);
    expect(Number.isNaN(j.kappa)).toBe(false);
  });

  it("gives a perfect judge kappa 1, and compares judges with each other", () => {
    const labels = [
      ...humans,
      ...["p1", "p2", "p3"].map((pair, i) => ({ pair, annotator: "copy", preference: [1, 2, 1][i]! })),
      ...["p1", "p2", "p3"].map((pair, i) => ({ pair, annotator: "contrarian", preference: [2, 1, 2][i]! })),
    ];
    const r = judgeAgreement(labels);
    const copy = r.judges.find((j) => j.judge === "copy")!;
    expect(copy.kappa).toBe(1);
    expect(copy.accuracy).toBe(1);
    expect(r.between).toEqual([{ a: "contrarian", b: "copy", n: 3, agreement: 0, kappa: expect.any(Number) }]);
    expect(r.between[0]!.kappa).toBeLessThan(0);
    expect(r.alpha).toBeLessThan(0);
  });
});

describe("bias rates", () => {
  it("position: a judge always choosing the first shown scores 1, a fair one 0.5", () => {
    expect(positionBiasRate([1, 1, 1, 1])).toEqual({ rate: 1, n: 4 });
    expect(positionBiasRate([1, 2, 1, 2])).toEqual({ rate: 0.5, n: 4 });
    expect(positionBiasRate([1.2, 1.5]).rate).toBeCloseTo((0.8 + 0.5) / 2);
    expect(Number.isNaN(positionBiasRate([]).rate)).toBe(true);
  });

  it("length: over pairs more than 30 characters apart, how often the longer wins", () => {
    const long = "x".repeat(100);
    const pairs = [
      { preference: 2, output_1: "short", output_2: long },
      { preference: 1, output_1: long, output_2: "short" },
      { preference: 1, output_1: "short", output_2: long },
      { preference: 2, output_1: "abc", output_2: "abcd" }, // too close: ignored
    ];
    expect(lengthBiasRate(pairs)).toEqual({ rate: 2 / 3, n: 3 });
  });

  it("lists: over pairs where one output has a list, how often it wins", () => {
    expect(hasList("Steps:\n1. a\n2. b")).toBe(true);
    expect(hasList("- one\n- two")).toBe(true);
    expect(hasList("- only one bullet")).toBe(false);
    expect(hasList("plain prose, 2. not a list")).toBe(false);
    const pairs = [
      { preference: 2, output_1: "prose", output_2: "- a\n- b" },
      { preference: 2, output_1: "* a\n* b", output_2: "prose" },
      { preference: 1, output_1: "- a\n- b", output_2: "- c\n- d" }, // both lists: ignored
    ];
    expect(listBiasRate(pairs)).toEqual({ rate: 0.5, n: 2 });
  });
});

describe("routing to humans", () => {
  it("ranks pairs by the judges' disagreement, then by the uncertainty of their mean", () => {
    expect(disagreementOf("p", [1, 2])).toMatchObject({ disagreement: 1, uncertainty: 1 });
    expect(disagreementOf("p", [1, 1])).toMatchObject({ disagreement: 0, uncertainty: 0 });
    expect(disagreementOf("p", [1.5, 1.5])).toMatchObject({ disagreement: 0, uncertainty: 1 });
    const labels = [
      { pair: "agree", annotator: "a", preference: 1 },
      { pair: "agree", annotator: "b", preference: 1 },
      { pair: "split", annotator: "a", preference: 1 },
      { pair: "split", annotator: "b", preference: 2 },
      { pair: "unsure", annotator: "a", preference: 1.5 },
      { pair: "unsure", annotator: "b", preference: 1.6 },
      { pair: "single", annotator: "a", preference: 1.5 },
      { pair: "split", annotator: "h", preference: 2, human: true },
    ];
    expect(routeToHumans(labels, { minJudges: 2 }).map((r) => r.pair)).toEqual(["split", "unsure", "agree"]);
    expect(routeToHumans(labels, { budget: 1, minJudges: 2 }).map((r) => r.pair)).toEqual(["split"]);
    expect(routeToHumans(labels, { fraction: 0.5 }).map((r) => r.pair)).toEqual(["split", "unsure"]);
  });
});
