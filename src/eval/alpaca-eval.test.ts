import { describe, expect, it } from "vitest";
import {
  alpacaEvalWinRate,
  averageOutputLength,
  codePointLength,
  isValidPreference,
  outputLength,
  parsePreference,
  preferenceToProbability,
  withOutputLengths,
} from "./alpaca-eval.js";
import { lengthFeature } from "./length-controlled.js";

describe("parsePreference", () => {
  it("parses numbers, numeric strings and missing values", () => {
    expect(parsePreference(1.25)).toBe(1.25);
    expect(parsePreference("1.0000001827")).toBeCloseTo(1.0000001827, 12);
    expect(parsePreference(" 2 ")).toBe(2);
    expect(Number.isNaN(parsePreference(null))).toBe(true);
    expect(Number.isNaN(parsePreference(undefined))).toBe(true);
    expect(Number.isNaN(parsePreference("NaN"))).toBe(true);
    expect(Number.isNaN(parsePreference(""))).toBe(true);
    expect(Number.isNaN(parsePreference("abc"))).toBe(true);
  });

  it("maps to probabilities with 0 as a draw", () => {
    expect(preferenceToProbability(0)).toBe(0.5);
    expect(preferenceToProbability("1.75")).toBe(0.75);
    expect(Number.isNaN(preferenceToProbability(2.5))).toBe(true);
    expect(isValidPreference(0)).toBe(true);
    expect(isValidPreference(0.5)).toBe(false);
  });
});

describe("alpacaEvalWinRate", () => {
  it("computes the seven statistics like AlpacaEval's AbsoluteScoringRule", () => {
    // valid: 1, 2, 1.5, 0 (-> 1.5), "1.75"; dropped: null, "nan", 2.5
    const s = alpacaEvalWinRate([1, 2, 1.5, 0, null, "1.75", "nan", 2.5]);
    // soft outcomes 0, 1, .5, .5, .75 -> mean .55; sum sq dev = .3025 + .2025 + .0025 + .0025 + .04 = .55
    expect(s.win_rate).toBeCloseTo(55, 10);
    expect(s.standard_error).toBeCloseTo((100 * Math.sqrt(0.55 / 4)) / Math.sqrt(5), 10);
    expect(s.n_wins).toBe(2);
    expect(s.n_wins_base).toBe(1);
    expect(s.n_draws).toBe(2);
    expect(s.n_total).toBe(5);
    // ZeroOneScoringRule rounds before validating, so 2.5 -> 2 (half to even) still counts there:
    // outcomes 0, 1, .5, .5, 1 (1.75 -> 2), 1 (2.5 -> 2) -> 4 / 6
    expect(s.discrete_win_rate).toBeCloseTo((100 * 4) / 6, 10);
  });

  it("handles the all-missing and single-value cases", () => {
    const none = alpacaEvalWinRate([null, null]);
    expect(none.n_total).toBe(0);
    expect(Number.isNaN(none.win_rate)).toBe(true);
    const one = alpacaEvalWinRate([2]);
    expect(one.win_rate).toBe(100);
    expect(Number.isNaN(one.standard_error)).toBe(true);
  });

  it("treats near-draw weighted preferences as wins / losses, not draws", () => {
    const s = alpacaEvalWinRate([1.5000001, 1.4999999]);
    expect(s.n_draws).toBe(0);
    expect(s.n_wins).toBe(1);
    expect(s.n_wins_base).toBe(1);
    expect(s.discrete_win_rate).toBe(50);
  });
});

describe("lengths", () => {
  it("counts code points like Python's len()", () => {
    expect(codePointLength("abc")).toBe(3);
    expect(codePointLength("a😀b")).toBe(3);
    expect("a😀b".length).toBe(4);
    expect(codePointLength("\ud800")).toBe(1); // lone surrogate
    expect(averageOutputLength([{ output_2: "ab" }, { output_2: "😀😀😀😀" }])).toBe(3);
  });

  it("keeps only the outputs' lengths when asked, and every length-based statistic agrees", () => {
    const rows = ["ab", "日本語", "a😀b", "\u00e9\u0301", "x".repeat(50)].map((o, i) => ({
      instruction: `q${i}`,
      output_1: "ref😀".repeat(i + 1),
      generator_1: "ref",
      output_2: o,
      generator_2: "m",
      preference: 1.5,
      dataset: "d",
    }));
    const compact = rows.map(withOutputLengths);
    expect(compact[2]).toEqual({ dataset: "d", instruction: "q2", output_1: "", output_1_length: 12, generator_1: "ref", output_2: "", output_2_length: 3, generator_2: "m", preference: 1.5 });
    compact.forEach((c, i) => expect([outputLength(c, 1), outputLength(c, 2)]).toEqual([outputLength(rows[i]!, 1), outputLength(rows[i]!, 2)]));
    expect(averageOutputLength(compact)).toBe(averageOutputLength(rows));
    expect(Array.from(lengthFeature(compact))).toEqual(Array.from(lengthFeature(rows)));
  });
});
