import { describe, expect, it } from "vitest";
import { DesignBuilder, fitL1Logistic, fitL1LogisticCV, groupKFoldIds } from "./logistic.js";
import { FactorDesignBuilder, factorPredictor, fitL1LogisticFactor, fitL1LogisticFactorCV } from "./logistic-factor.js";
import { createRng } from "./random.js";
import { sigmoid } from "./stats.js";

/**
 * A joint-GLM-shaped problem: models with a bias and a length slope each, a shared intercept that is the sum of
 * the biases' columns (so the unpenalised problem is degenerate), and one effect per instruction (the first is the
 * reference level). The same rows as a generic sparse design and as a factor design.
 */
function problem(seed: number, nModels: number, nInstr: number) {
  const rng = createRng(seed);
  const gamma = Array.from({ length: nInstr }, () => 1.5 * rng.normal());
  const bias = Array.from({ length: nModels }, () => rng.normal() - 1);
  const slope = Array.from({ length: nModels }, () => -0.5 * rng.next());
  const nFeat = 1 + 2 * nModels;
  const generic = new DesignBuilder(nFeat + nInstr - 1);
  const factor = new FactorDesignBuilder(nFeat, nInstr - 1);
  const y: number[] = [];
  for (let m = 0; m < nModels; m++) {
    for (let k = 0; k < nInstr; k++) {
      const t = Math.tanh(rng.normal());
      const p = sigmoid(bias[m]! + slope[m]! * t + gamma[k]!);
      y.push(Math.min(1, Math.max(0, p + 0.2 * (rng.next() - 0.5))));
      const cols = [0, 1 + m, 1 + nModels + m];
      const vals = [1, 1, t];
      factor.addRow(cols, vals, k - 1);
      if (k > 0) {
        cols.push(nFeat + k - 1);
        vals.push(1);
      }
      generic.addRow(cols, vals);
    }
  }
  return { X: generic.build(), F: factor.build(), y, nFeat };
}

/** Largest violation of the L1 optimality conditions of the full (θ, γ) problem. */
function kkt(F: ReturnType<typeof problem>["F"], y: number[], C: number, coef: Float64Array, levelCoef: Float64Array, w?: number[]): number {
  const z = factorPredictor(F, coef, levelCoef);
  const g = new Float64Array(F.nFeatures);
  const gl = new Float64Array(F.nLevels);
  for (let i = 0; i < F.nRows; i++) {
    const r = C * (w ? w[i]! : 1) * (sigmoid(z[i]!) - y[i]!);
    for (let t = F.rowPtr[i]!; t < F.rowPtr[i + 1]!; t++) g[F.colIdx[t]!]! += r * F.vals[t]!;
    if (F.level[i]! >= 0) gl[F.level[i]!]! += r;
  }
  const v = (b: number, gj: number) => (b > 0 ? Math.abs(gj + 1) : b < 0 ? Math.abs(gj - 1) : Math.max(0, Math.abs(gj) - 1));
  let worst = 0;
  for (let j = 0; j < g.length; j++) worst = Math.max(worst, v(coef[j]!, g[j]!));
  for (let k = 0; k < gl.length; k++) worst = Math.max(worst, v(levelCoef[k]!, gl[k]!));
  return worst;
}

describe("fitL1LogisticFactor", () => {
  it("solves the full L1 problem exactly (KKT), for every C, with weights and a warm start", () => {
    const { F, y } = problem(1, 6, 60);
    const rng = createRng(9);
    const w = Array.from({ length: F.nRows }, () => (rng.next() < 0.2 ? 0 : 0.5 + rng.next()));
    let init: { coef: Float64Array; levelCoef: Float64Array } | undefined;
    for (const C of [0.01, 0.3, 3, 100]) {
      const fit = fitL1LogisticFactor(F, y, w, { C, tol: 1e-10, ...(init ? { init } : {}) });
      expect(fit.converged).toBe(true);
      expect(kkt(F, y, C, fit.coef, fit.levelCoef, w)).toBeLessThan(1e-6 * Math.max(1, C));
      init = { coef: fit.coef, levelCoef: fit.levelCoef };
    }
    // tiny C: everything is zero
    const zero = fitL1LogisticFactor(F, y, w, { C: 1e-5 });
    expect([...zero.coef, ...zero.levelCoef].every((b) => b === 0)).toBe(true);
  });

  it("reaches the generic solver's objective and predictions", () => {
    const { X, F, y, nFeat } = problem(2, 4, 40);
    const C = 2;
    const generic = fitL1Logistic(X, y, undefined, { C, tol: 1e-12, maxIter: 5000 });
    const fast = fitL1LogisticFactor(F, y, undefined, { C, tol: 1e-12 });
    expect(fast.objective).toBeLessThanOrEqual(generic.objective + 1e-7 * generic.objective);
    expect(Math.abs(fast.objective - generic.objective)).toBeLessThan(1e-6 * generic.objective);
    const zf = factorPredictor(F, fast.coef, fast.levelCoef);
    const zg = factorPredictor(F, generic.coef.slice(0, nFeat), generic.coef.slice(nFeat));
    for (let i = 0; i < zf.length; i++) expect(Math.abs(sigmoid(zf[i]!) - sigmoid(zg[i]!))).toBeLessThan(1e-4);
  });

  it("cross-validates like the generic CV (same folds, same chosen C, same held-out scores)", () => {
    const { X, F, y } = problem(3, 5, 50);
    const folds = groupKFoldIds(F.nRows, 5);
    const generic = fitL1LogisticCV(X, y, undefined, { tol: 1e-10, maxIter: 5000 });
    const fast = fitL1LogisticFactorCV(F, y, undefined, { folds, foldTol: 1e-10 });
    expect(fast.C).toBe(generic.C);
    fast.cvScores.forEach((s, c) => expect(s).toBeCloseTo(generic.cvScores[c]!, 5));
  });

  it("is deterministic and validates its inputs", () => {
    const { F, y } = problem(4, 3, 20);
    expect(fitL1LogisticFactor(F, y, undefined, { C: 1 })).toEqual(fitL1LogisticFactor(F, y, undefined, { C: 1 }));
    expect(() => fitL1LogisticFactor(F, y.slice(1), undefined, { C: 1 })).toThrow(/rows/);
    expect(() => fitL1LogisticFactor(F, y.map(() => 1.5), undefined, { C: 1 })).toThrow(/soft label/);
    expect(() => fitL1LogisticFactor(F, y, undefined, { C: 0 })).toThrow(/C must be/);
    expect(() => new FactorDesignBuilder(2, 3).addRow([0], [1], 3)).toThrow(/level/);
  });
});
