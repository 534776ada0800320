import { describe, expect, it } from "vitest";
import type { AlpacaEvalAnnotation } from "./alpaca-eval.js";
import { alpacaEvalLeaderboard } from "./leaderboard.js";
import { estimateInstructionDifficulty, lengthControlledWinRate, lengthFeature } from "./length-controlled.js";
import { createRng } from "./random.js";
import { pearson, sigmoid, spearman } from "./stats.js";

/**
 * Synthetic AlpacaEval world: the judge prefers the model with probability
 * sigmoid(quality_m + gamma_x + 1.5 * tanh((len_model - len_base) / 500)), i.e. it rewards length. Model output
 * lengths are log-normal around a model-specific multiple of the baseline length, so the length difference varies
 * across instructions (as in real data; a constant shift would be indistinguishable from quality).
 */
function world(seed: number) {
  const rng = createRng(seed);
  const nInstr = 250;
  const gamma = Array.from({ length: nInstr }, () => rng.normal());
  const baseLen = Array.from({ length: nInstr }, () => 300 + Math.floor(rng.next() * 900));
  const models = [
    { name: "strong-concise", quality: 0.5, logRatio: -0.5 },
    { name: "weak-verbose", quality: -1.5, logRatio: 0.7 },
    { name: "mid", quality: -0.5, logRatio: 0 },
    { name: "weak", quality: -1.5, logRatio: 0 },
    { name: "strong", quality: 0.5, logRatio: 0.1 },
    { name: "poor", quality: -2.5, logRatio: -0.1 },
  ];
  const annotations: AlpacaEvalAnnotation[] = [];
  for (const m of models) {
    for (let x = 0; x < nInstr; x++) {
      const len = Math.max(1, Math.round(baseLen[x]! * Math.exp(m.logRatio + 0.6 * rng.normal())));
      const z = m.quality + gamma[x]! + 1.5 * Math.tanh((len - baseLen[x]!) / 500);
      // soft judge output around the true probability
      const p = Math.min(1, Math.max(0, sigmoid(z) + 0.15 * (rng.next() - 0.5)));
      annotations.push({
        instruction: `instruction ${x}`,
        output_1: "b".repeat(baseLen[x]!),
        generator_1: "baseline",
        output_2: "m".repeat(len),
        generator_2: m.name,
        preference: 1 + p,
      });
    }
  }
  return { annotations, gamma, models };
}

describe("lengthFeature", () => {
  it("is tanh of the baseline-minus-model length difference over its sd", () => {
    const rows = [10, 20, 30].map((l) => ({ output_1: "x".repeat(20), output_2: "y".repeat(l) }) as AlpacaEvalAnnotation);
    const f = lengthFeature(rows);
    // deltas 10, 0, -10 ; sd (ddof 1) = 10
    expect(f[0]).toBeCloseTo(Math.tanh(1), 12);
    expect(f[1]).toBe(0);
    expect(f[2]).toBeCloseTo(Math.tanh(-1), 12);
  });
});

describe("length-controlled win rate", () => {
  const { annotations, gamma, models } = world(3);
  const diff = estimateInstructionDifficulty(annotations);

  it("estimates instruction difficulty from the joint GLM", () => {
    const est = gamma.map((_, x) => diff.difficulty.get(`instruction ${x}`)!);
    expect(diff.reference).toBe("instruction 0");
    expect(diff.difficulty.get("instruction 0")).toBe(0);
    expect(pearson(est, gamma)).toBeGreaterThan(0.8);
    // per-model length slopes are negative (longer model output -> negative delta -> higher win probability)
    for (const m of models) expect(diff.lengthSlope.get(m.name)!).toBeLessThan(0);
  });

  it("removes the length advantage and ranks by quality", () => {
    const rows = alpacaEvalLeaderboard(annotations, { instructionDifficulty: diff.difficulty });
    const by = new Map(rows.map((r) => [r.model, r]));
    const verbose = by.get("weak-verbose")!;
    const concise = by.get("strong-concise")!;
    expect(verbose.length_controlled_winrate!).toBeLessThan(verbose.win_rate - 5);
    expect(concise.length_controlled_winrate!).toBeGreaterThan(concise.win_rate + 2);
    // same quality -> similar LC despite very different lengths
    expect(Math.abs(verbose.length_controlled_winrate! - by.get("weak")!.length_controlled_winrate!)).toBeLessThan(4);
    const lc = models.map((m) => by.get(m.name)!.length_controlled_winrate!);
    expect(spearman(lc, models.map((m) => m.quality))).toBeGreaterThan(0.9);
    // sorted by LC, descending
    for (let i = 1; i < rows.length; i++)
      expect(rows[i - 1]!.length_controlled_winrate!).toBeGreaterThanOrEqual(rows[i]!.length_controlled_winrate!);
  });

  it("reports coefficients and predictions; is deterministic", () => {
    const mine = annotations.filter((a) => a.generator_2 === "mid");
    const a = lengthControlledWinRate(mine, { instructionDifficulty: diff.difficulty });
    const b = lengthControlledWinRate(mine, { instructionDifficulty: diff.difficulty });
    expect(a).toEqual(b);
    expect(a.coefficients.length).toBeLessThan(0);
    expect(a.coefficients.instruction_difficulty).toBeGreaterThan(0);
    expect(a.predictions).toHaveLength(mine.length);
    expect(a.lc_standard_error).toBeGreaterThan(0);
  });

  it("ignores missing preferences in the fit but predicts for every instruction", () => {
    const mine = annotations
      .filter((a) => a.generator_2 === "mid")
      .map((a, i) => (i % 10 === 0 ? { ...a, preference: null } : a));
    const res = lengthControlledWinRate(mine, { instructionDifficulty: diff.difficulty });
    expect(res.predictions).toHaveLength(mine.length);
    expect(Number.isFinite(res.length_controlled_winrate)).toBe(true);
  });

  it("uses gamed-baseline rows when given", () => {
    const mine = annotations.filter((a) => a.generator_2 === "weak-verbose");
    const gamed = annotations
      .filter((a) => a.generator_2 === "mid")
      .map((a) => ({ ...a, generator_2: "baseline_verbose" }));
    const plain = lengthControlledWinRate(mine, { instructionDifficulty: diff.difficulty });
    const reg = lengthControlledWinRate(mine, { instructionDifficulty: diff.difficulty, gamedAnnotations: gamed });
    expect(reg.length_controlled_winrate).not.toBeCloseTo(plain.length_controlled_winrate, 6);
  });

  it("returns 50 for the baseline against itself", () => {
    const self = annotations
      .filter((a) => a.generator_2 === "mid")
      .map((a) => ({ ...a, generator_2: "baseline", output_2: a.output_1, preference: 1.5 }));
    const res = lengthControlledWinRate(self, { instructionDifficulty: diff.difficulty });
    expect(res.length_controlled_winrate).toBe(50);
    expect(res.lc_standard_error).toBe(0);
  });

  it("can skip the length-controlled columns", () => {
    const rows = alpacaEvalLeaderboard(annotations, { lengthControlled: false });
    expect(rows.every((r) => r.length_controlled_winrate === null && r.lc_standard_error === null)).toBe(true);
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.win_rate).toBeGreaterThanOrEqual(rows[i]!.win_rate);
  });
});
