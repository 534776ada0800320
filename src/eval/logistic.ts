/**
 * L1-regularised logistic regression with soft (probabilistic) targets and sample weights.
 *
 * Objective (the liblinear / scikit-learn `penalty="l1", fit_intercept=False` parameterisation):
 *
 *     F(β) = Σ_j f_j |β_j|  +  C Σ_i w_i [ softplus(x_i·β) − y_i x_i·β ]
 *
 * where y_i ∈ [0, 1] is a soft label, w_i ≥ 0 a sample weight and f_j a per-feature penalty factor (1 by default,
 * 0 leaves a feature unpenalised). The bracket is the cross-entropy between y_i and sigmoid(x_i·β) up to a constant;
 * it equals what scikit-learn minimises when every row is duplicated with labels 1 and 0 and weights w·y, w·(1−y)
 * (the trick AlpacaEval uses for soft targets).
 *
 * Solver: proximal Newton with coordinate-descent inner loop ("newGLMNET", Yuan, Ho & Lin 2012, the algorithm
 * behind liblinear's L1 logistic solver), with an Armijo line search. Coordinates are visited in a fixed order, so
 * results are deterministic. The design matrix is stored by columns (sparse), which keeps one inner sweep at
 * O(nnz).
 */

import { ArgumentError } from "../errors.js";
import { logspace, sigmoid, softplus } from "./stats.js";

/** Column-compressed sparse design matrix (nRows × nFeatures). */
export interface DesignMatrix {
  readonly nRows: number;
  readonly nFeatures: number;
  /** Row indices of the non-zeros of each column. */
  readonly colRows: readonly Int32Array[];
  /** Values of the non-zeros of each column (same order as `colRows`). */
  readonly colVals: readonly Float64Array[];
  /** Optional feature names, for reporting. */
  readonly names?: readonly string[];
}

/** Build a {@link DesignMatrix} from a dense row-major array (zeros are dropped). */
export function denseDesign(rows: readonly (readonly number[])[], names?: readonly string[]): DesignMatrix {
  const nRows = rows.length;
  const nFeatures = nRows === 0 ? (names?.length ?? 0) : rows[0]!.length;
  const b = new DesignBuilder(nFeatures, names);
  for (const r of rows) {
    if (r.length !== nFeatures) throw new ArgumentError("rows", "denseDesign: ragged rows");
    const cols: number[] = [];
    const vals: number[] = [];
    for (let j = 0; j < nFeatures; j++) {
      if (r[j] !== 0) {
        cols.push(j);
        vals.push(r[j]!);
      }
    }
    b.addRow(cols, vals);
  }
  return b.build();
}

/** Incrementally builds a sparse {@link DesignMatrix} row by row. */
export class DesignBuilder {
  private nRows = 0;
  private readonly rows: number[][];
  private readonly vals: number[][];

  constructor(
    readonly nFeatures: number,
    private readonly names?: readonly string[],
  ) {
    this.rows = Array.from({ length: nFeatures }, () => []);
    this.vals = Array.from({ length: nFeatures }, () => []);
  }

  /** Append a row given its non-zero feature indices and values; returns the row index. */
  addRow(cols: readonly number[], values: readonly number[]): number {
    const i = this.nRows++;
    for (let k = 0; k < cols.length; k++) {
      const j = cols[k]!;
      const v = values[k]!;
      if (!(j >= 0 && j < this.nFeatures)) throw new ArgumentError("index", `feature index ${j} out of range`);
      if (v === 0) continue;
      if (!Number.isFinite(v)) throw new ArgumentError("value", `non-finite feature value at row ${i}, feature ${j}`);
      this.rows[j]!.push(i);
      this.vals[j]!.push(v);
    }
    return i;
  }

  build(): DesignMatrix {
    return {
      nRows: this.nRows,
      nFeatures: this.nFeatures,
      colRows: this.rows.map((r) => Int32Array.from(r)),
      colVals: this.vals.map((v) => Float64Array.from(v)),
      ...(this.names ? { names: this.names } : {}),
    };
  }
}

/** Linear predictor X·β for every row. */
export function linearPredictor(X: DesignMatrix, coef: ArrayLike<number>): Float64Array {
  const z = new Float64Array(X.nRows);
  for (let j = 0; j < X.nFeatures; j++) {
    const b = coef[j]!;
    if (b === 0) continue;
    const r = X.colRows[j]!;
    const v = X.colVals[j]!;
    for (let k = 0; k < r.length; k++) z[r[k]!]! += v[k]! * b;
  }
  return z;
}

/** sigmoid(X·β) for every row. */
export function predictProba(X: DesignMatrix, coef: ArrayLike<number>): Float64Array {
  const z = linearPredictor(X, coef);
  for (let i = 0; i < z.length; i++) z[i] = sigmoid(z[i]!);
  return z;
}

export interface L1LogisticOptions {
  /** Inverse regularisation strength (scikit-learn's `C`). */
  C: number;
  /** Per-feature penalty multipliers (default all 1). */
  penaltyFactor?: ArrayLike<number>;
  /** Warm start. */
  init?: ArrayLike<number>;
  /** Stop when the minimum-norm subgradient is below `tol` × its value at β = 0 (default 1e-7). */
  tol?: number;
  /** Maximum number of Newton (outer) iterations (default 200). */
  maxIter?: number;
  /** Maximum number of coordinate-descent sweeps per Newton step (default 20). */
  maxInner?: number;
}

export interface L1LogisticFit {
  coef: Float64Array;
  /** Objective value F(β) at the solution. */
  objective: number;
  iterations: number;
  converged: boolean;
}

function checkInputs(X: DesignMatrix, y: ArrayLike<number>, w: ArrayLike<number> | undefined): void {
  if (y.length !== X.nRows) throw new ArgumentError("y", `y has ${y.length} rows, X has ${X.nRows}`);
  if (w && w.length !== X.nRows) throw new ArgumentError("weights", `weights have ${w.length} rows, X has ${X.nRows}`);
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (!(v >= 0 && v <= 1)) throw new ArgumentError(`y.${i}`, `soft label y[${i}] = ${v} is not in [0, 1]`);
    if (w && !(w[i]! >= 0)) throw new ArgumentError(`weights.${i}`, `weight w[${i}] = ${w[i]} must be >= 0`);
  }
}

function dataLoss(z: Float64Array, y: ArrayLike<number>, w: ArrayLike<number> | undefined): number {
  let s = 0;
  for (let i = 0; i < z.length; i++) {
    const wi = w ? w[i]! : 1;
    if (wi === 0) continue;
    s += wi * (softplus(z[i]!) - y[i]! * z[i]!);
  }
  return s;
}

/**
 * Fit an L1-penalised logistic regression with soft labels `y ∈ [0,1]` and optional sample weights, minimising
 * the objective documented at the top of this module. Deterministic.
 */
export function fitL1Logistic(
  X: DesignMatrix,
  y: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  opts: L1LogisticOptions,
): L1LogisticFit {
  checkInputs(X, y, weights);
  const { C } = opts;
  if (!(C > 0)) throw new ArgumentError("C", `C must be > 0, got ${C}`);
  const p = X.nFeatures;
  const n = X.nRows;
  const tol = opts.tol ?? 1e-7;
  const maxIter = opts.maxIter ?? 200;
  const maxInner = opts.maxInner ?? 20;
  const pf = new Float64Array(p).fill(1);
  if (opts.penaltyFactor) for (let j = 0; j < p; j++) pf[j] = opts.penaltyFactor[j]!;

  const beta = new Float64Array(p);
  if (opts.init) for (let j = 0; j < p; j++) beta[j] = opts.init[j]!;
  let z = linearPredictor(X, beta);
  const D = new Float64Array(n);
  const r = new Float64Array(n); // C * w * (p - y)
  const grad = new Float64Array(p);
  const hdiag = new Float64Array(p);
  const d = new Float64Array(p);
  const q = new Float64Array(n); // X d

  const penalty = (b: ArrayLike<number>): number => {
    let s = 0;
    for (let j = 0; j < p; j++) s += pf[j]! * Math.abs(b[j]!);
    return s;
  };
  let obj = penalty(beta) + C * dataLoss(z, y, weights);

  // Subgradient norm at beta = 0 for the relative stopping rule.
  let g0 = 0;
  {
    for (let j = 0; j < p; j++) {
      const rows = X.colRows[j]!;
      const vals = X.colVals[j]!;
      let g = 0;
      for (let k = 0; k < rows.length; k++) {
        const i = rows[k]!;
        g += C * (weights ? weights[rows[k]!]! : 1) * (0.5 - y[i]!) * vals[k]!;
      }
      g0 = Math.max(g0, Math.max(0, Math.abs(g) - pf[j]!));
    }
    g0 = Math.max(g0, 1e-12);
  }

  let iterations = 0;
  let converged = false;
  const newBeta = new Float64Array(p);
  for (; iterations < maxIter; iterations++) {
    for (let i = 0; i < n; i++) {
      const wi = weights ? weights[i]! : 1;
      const pi = sigmoid(z[i]!);
      r[i] = C * wi * (pi - y[i]!);
      D[i] = C * wi * pi * (1 - pi);
    }
    let maxViolation = 0;
    for (let j = 0; j < p; j++) {
      const rows = X.colRows[j]!;
      const vals = X.colVals[j]!;
      let g = 0;
      let h = 0;
      for (let k = 0; k < rows.length; k++) {
        const i = rows[k]!;
        const v = vals[k]!;
        g += r[i]! * v;
        h += D[i]! * v * v;
      }
      grad[j] = g;
      hdiag[j] = h + 1e-12;
      // minimum-norm subgradient
      let viol: number;
      if (beta[j]! > 0) viol = Math.abs(g + pf[j]!);
      else if (beta[j]! < 0) viol = Math.abs(g - pf[j]!);
      else viol = Math.max(0, Math.abs(g) - pf[j]!);
      if (viol > maxViolation) maxViolation = viol;
    }
    if (maxViolation <= tol * g0) {
      converged = true;
      break;
    }

    // Inner coordinate descent on the quadratic model: min_d g·d + ½ dᵀHd + Σ f_j |β_j + d_j|.
    d.fill(0);
    q.fill(0);
    for (let sweep = 0; sweep < maxInner; sweep++) {
      let maxStep = 0;
      let maxScale = 0;
      for (let j = 0; j < p; j++) {
        const rows = X.colRows[j]!;
        const vals = X.colVals[j]!;
        if (rows.length === 0) continue;
        let G = grad[j]!;
        for (let k = 0; k < rows.length; k++) G += D[rows[k]!]! * vals[k]! * q[rows[k]!]!;
        const H = hdiag[j]!;
        const cur = beta[j]! + d[j]!;
        const f = pf[j]!;
        let step: number;
        if (G + f <= H * cur) step = -(G + f) / H;
        else if (G - f >= H * cur) step = -(G - f) / H;
        else step = -cur;
        if (Math.abs(step) < 1e-15) continue;
        d[j] = d[j]! + step;
        for (let k = 0; k < rows.length; k++) q[rows[k]!]! += step * vals[k]!;
        maxStep = Math.max(maxStep, Math.abs(step) * Math.sqrt(H));
        maxScale = Math.max(maxScale, Math.abs(d[j]!) * Math.sqrt(H));
      }
      if (maxStep <= 1e-3 * maxScale || maxStep < 1e-14) break;
    }

    // Armijo line search along d.
    let delta = penalty(beta.map((b, j) => b + d[j]!)) - penalty(beta);
    for (let j = 0; j < p; j++) delta += grad[j]! * d[j]!;
    if (!(delta < 0)) {
      converged = true; // no descent direction left: at numerical optimum
      break;
    }
    let step = 1;
    let accepted = false;
    const zNew = new Float64Array(n);
    for (let ls = 0; ls < 40; ls++) {
      for (let j = 0; j < p; j++) newBeta[j] = beta[j]! + step * d[j]!;
      for (let i = 0; i < n; i++) zNew[i] = z[i]! + step * q[i]!;
      const newObj = penalty(newBeta) + C * dataLoss(zNew, y, weights);
      if (newObj - obj <= 0.01 * step * delta) {
        beta.set(newBeta);
        z = zNew;
        const rel = (obj - newObj) / Math.max(1, Math.abs(obj));
        obj = newObj;
        accepted = true;
        if (rel < 1e-15) converged = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted || converged) {
      converged = converged || !accepted;
      iterations++;
      break;
    }
  }
  return { coef: beta, objective: obj, iterations, converged };
}

/** Weighted soft log loss, `−(1/n) Σ w_i [y_i log p_i + (1−y_i) log(1−p_i)]`, p clipped to [1e-15, 1−1e-15]. */
export function softLogLoss(y: ArrayLike<number>, p: ArrayLike<number>, w?: ArrayLike<number>): number {
  const eps = 1e-15;
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const pi = Math.min(1 - eps, Math.max(eps, p[i]!));
    s += (w ? w[i]! : 1) * (y[i]! * Math.log(pi) + (1 - y[i]!) * Math.log(1 - pi));
  }
  return -s / y.length;
}

/**
 * Fold ids for group k-fold with one row per group, in the order scikit-learn's `GroupKFold` produces for groups
 * of equal size (groups are taken in reverse order and dealt round-robin to the lightest fold).
 */
export function groupKFoldIds(nRows: number, nFolds: number): Int32Array {
  const f = new Int32Array(nRows);
  for (let i = 0; i < nRows; i++) f[i] = (nRows - 1 - i) % nFolds;
  return f;
}

export interface L1LogisticCVOptions {
  /** Grid of C values (default `logspace(-4, 4, 10)`, scikit-learn's `LogisticRegressionCV(Cs=10)`). */
  Cs?: readonly number[];
  /** Number of folds (default 5). Ignored when `folds` is given. */
  nFolds?: number;
  /** Explicit fold id (0..k-1) per row; default {@link groupKFoldIds}. */
  folds?: ArrayLike<number>;
  penaltyFactor?: ArrayLike<number>;
  tol?: number;
  maxIter?: number;
}

export interface L1LogisticCVFit extends L1LogisticFit {
  /** The selected C. */
  C: number;
  Cs: number[];
  /** Mean held-out score (negative weighted soft log loss, higher is better) per C. */
  cvScores: number[];
}

/**
 * Cross-validated {@link fitL1Logistic}, as scikit-learn's `LogisticRegressionCV(refit=True)`: for each C in the
 * grid, fit on k−1 folds and score the held-out fold by negative weighted soft log loss; pick the C with the best
 * mean score (first one on ties) and refit on all rows. Each fold's path over increasing C is warm-started.
 */
export function fitL1LogisticCV(
  X: DesignMatrix,
  y: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  opts: L1LogisticCVOptions = {},
): L1LogisticCVFit {
  checkInputs(X, y, weights);
  const Cs = [...(opts.Cs ?? logspace(-4, 4, 10))];
  const folds = opts.folds ?? groupKFoldIds(X.nRows, opts.nFolds ?? 5);
  let k = 0;
  for (let i = 0; i < folds.length; i++) k = Math.max(k, folds[i]! + 1);
  const common = {
    ...(opts.penaltyFactor ? { penaltyFactor: opts.penaltyFactor } : {}),
    ...(opts.tol !== undefined ? { tol: opts.tol } : {}),
    ...(opts.maxIter !== undefined ? { maxIter: opts.maxIter } : {}),
  };
  const scores = new Float64Array(Cs.length);
  for (let f = 0; f < k; f++) {
    const wTrain = new Float64Array(X.nRows);
    const testIdx: number[] = [];
    for (let i = 0; i < X.nRows; i++) {
      const wi = weights ? weights[i]! : 1;
      if (folds[i] === f) testIdx.push(i);
      else wTrain[i] = wi;
    }
    let init: Float64Array | undefined;
    for (let c = 0; c < Cs.length; c++) {
      const fit = fitL1Logistic(X, y, wTrain, { C: Cs[c]!, ...common, ...(init ? { init } : {}) });
      init = fit.coef;
      const pr = predictProba(X, fit.coef);
      scores[c]! += -softLogLoss(
        testIdx.map((i) => y[i]!),
        testIdx.map((i) => pr[i]!),
        testIdx.map((i) => (weights ? weights[i]! : 1)),
      );
    }
  }
  let best = 0;
  for (let c = 1; c < Cs.length; c++) if (scores[c]! > scores[best]!) best = c;
  const C = Cs[best]!;
  const fit = fitL1Logistic(X, y, weights, { C, ...common });
  return { ...fit, C, Cs, cvScores: Array.from(scores, (s) => s / k) };
}
