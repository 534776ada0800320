import { describe, expect, it } from "vitest";
import {
  DesignBuilder,
  type DesignMatrix,
  denseDesign,
  fitL1Logistic,
  fitL1LogisticCV,
  groupKFoldIds,
  predictProba,
} from "./logistic.js";
import { createRng } from "./random.js";
import { sigmoid } from "./stats.js";

/** Max violation of the L1 optimality (KKT) conditions, relative to C. */
function kktViolation(X: DesignMatrix, y: number[], w: number[], C: number, coef: Float64Array): number {
  const p = predictProba(X, coef);
  let worst = 0;
  for (let j = 0; j < X.nFeatures; j++) {
    let g = 0;
    const rows = X.colRows[j]!;
    const vals = X.colVals[j]!;
    for (let k = 0; k < rows.length; k++) g += C * w[rows[k]!]! * (p[rows[k]!]! - y[rows[k]!]!) * vals[k]!;
    const b = coef[j]!;
    const v = b > 0 ? Math.abs(g + 1) : b < 0 ? Math.abs(g - 1) : Math.max(0, Math.abs(g) - 1);
    worst = Math.max(worst, v);
  }
  return worst;
}

function synthetic(seed: number, n: number) {
  const rng = createRng(seed);
  const truth = [1.5, -2, 0, 0.7, 0];
  const rows: number[][] = [];
  const y: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = [1, rng.normal(), rng.normal(), Math.tanh(rng.normal() * 2), rng.bernoulli(0.2) ? 1 : 0];
    rows.push(x);
    const z = x.reduce((s, v, j) => s + v * truth[j]!, 0);
    // soft label: noisy probability
    y.push(Math.min(1, Math.max(0, sigmoid(z) + 0.1 * (rng.next() - 0.5))));
    w.push(0.5 + rng.next());
  }
  return { X: denseDesign(rows), y, w, truth };
}

describe("fitL1Logistic", () => {
  it("satisfies the KKT conditions on soft labels with weights", () => {
    const { X, y, w } = synthetic(1, 400);
    for (const C of [0.01, 0.1, 1, 100]) {
      const fit = fitL1Logistic(X, y, w, { C, tol: 1e-10 });
      expect(fit.converged).toBe(true);
      expect(kktViolation(X, y, w, C, fit.coef)).toBeLessThan(1e-6 * Math.max(1, C * 100));
    }
  });

  it("recovers the generating coefficients with weak regularisation", () => {
    const { X, y, w, truth } = synthetic(2, 4000);
    const fit = fitL1Logistic(X, y, w, { C: 1000 });
    truth.forEach((t, j) => expect(Math.abs(fit.coef[j]! - t)).toBeLessThan(0.15));
  });

  it("matches the closed form for a single feature", () => {
    // One constant feature, soft labels with mean ybar over n rows: the L1 optimum (beta > 0) solves
    // C * n * (sigmoid(beta) - ybar) + 1 = 0  =>  sigmoid(beta) = ybar - 1 / (C n).
    const X = denseDesign([[1], [1], [1], [1]]);
    const y = [0.9, 0.6, 0.8, 0.7];
    const C = 2;
    const fit = fitL1Logistic(X, y, undefined, { C, tol: 1e-12 });
    expect(sigmoid(fit.coef[0]!)).toBeCloseTo(0.75 - 1 / 8, 10);
    // unpenalised: sigmoid(beta) = ybar
    const free = fitL1Logistic(X, y, undefined, { C, penaltyFactor: [0], tol: 1e-12 });
    expect(sigmoid(free.coef[0]!)).toBeCloseTo(0.75, 10);
    // strong penalty: exactly zero
    expect(fitL1Logistic(X, y, undefined, { C: 0.1 }).coef[0]).toBe(0);
  });

  it("equals the duplicated-row hard-label formulation used by AlpacaEval", () => {
    const { X, y, w } = synthetic(3, 200);
    const soft = fitL1Logistic(X, y, w, { C: 0.5, tol: 1e-11 });
    // duplicate each row: label 1 with weight w*y, label 0 with weight w*(1-y)
    const b = new DesignBuilder(X.nFeatures);
    const y2: number[] = [];
    const w2: number[] = [];
    for (let copy = 0; copy < 2; copy++) {
      for (let i = 0; i < X.nRows; i++) {
        const cols: number[] = [];
        const vals: number[] = [];
        for (let j = 0; j < X.nFeatures; j++) {
          const k = X.colRows[j]!.indexOf(i);
          if (k >= 0) {
            cols.push(j);
            vals.push(X.colVals[j]![k]!);
          }
        }
        b.addRow(cols, vals);
        y2.push(copy === 0 ? 1 : 0);
        w2.push(copy === 0 ? w[i]! * y[i]! : w[i]! * (1 - y[i]!));
      }
    }
    const hard = fitL1Logistic(b.build(), y2, w2, { C: 0.5, tol: 1e-11 });
    for (let j = 0; j < X.nFeatures; j++) expect(hard.coef[j]).toBeCloseTo(soft.coef[j]!, 6);
  });

  it("rejects labels outside [0, 1]", () => {
    expect(() => fitL1Logistic(denseDesign([[1]]), [1.5], undefined, { C: 1 })).toThrow();
  });
});

describe("fitL1LogisticCV", () => {
  it("selects a C, refits, and is deterministic", () => {
    const { X, y, w } = synthetic(4, 600);
    const a = fitL1LogisticCV(X, y, w);
    const b = fitL1LogisticCV(X, y, w);
    expect(a.Cs).toHaveLength(10);
    expect(a.C).toBeGreaterThan(1e-3);
    expect(Array.from(a.coef)).toEqual(Array.from(b.coef));
    expect(a.cvScores.every((s) => Number.isFinite(s))).toBe(true);
    // the smallest C zeroes everything and scores worst
    expect(a.cvScores[0]!).toBeLessThan(Math.max(...a.cvScores));
  });

  it("deals folds round-robin like GroupKFold with equal groups", () => {
    expect(Array.from(groupKFoldIds(7, 3))).toEqual([0, 2, 1, 0, 2, 1, 0]);
  });
});
