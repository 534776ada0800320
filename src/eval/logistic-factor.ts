/**
 * L1-regularised logistic regression with soft targets, a few ordinary features and one high-cardinality factor
 * (one indicator per level, treatment coded), solved fast by profiling the factor out.
 *
 * The objective is the one of {@link fitL1Logistic} (liblinear's), with the factor's indicators as extra features:
 *
 *     F(θ, γ) = Σ_j f_j |θ_j| + Σ_k |γ_k| + C Σ_i w_i [ softplus(z_i) − y_i z_i ],    z_i = a_i·θ + γ_{k(i)}
 *
 * where row i belongs to level k(i) of the factor (or to the reference level, which has no coefficient). Each row
 * carries exactly one indicator, so for fixed θ the γ_k are independent one-dimensional L1 problems, solved exactly
 * by a safeguarded Newton search. What is left, G(θ) = min_γ F(θ, γ), is convex in the few θ and is minimised by
 * proximal Newton (newGLMNET's outer loop, Yuan, Ho & Lin 2012) with the exact profiled Hessian
 *
 *     ∇²G = Σ_i D_i a_i a_iᵀ − Σ_{k: γ_k ≠ 0} h_k h_kᵀ / d_k,    h_k = Σ_{i∈k} D_i a_i,  d_k = Σ_{i∈k} D_i
 *
 * (a Schur complement; a level held at 0 by its penalty does not move with θ). Coordinate descent on that small
 * dense quadratic gives the step, an Armijo search on G accepts it. This is the structure of AlpacaEval's joint
 * instruction-difficulty GLM (one effect per instruction, a bias and a length slope per model): where a generic
 * coordinate-descent solver crawls along the direction that trades all instruction effects against the shared
 * intercept, the profiled problem has a few dozen unknowns and converges in a handful of Newton steps.
 */

import { logspace } from "./stats.js";
import { ArgumentError } from "../errors.js";

/** Rows with a few sparse ordinary features and one factor level each. */
export interface FactorDesign {
  readonly nRows: number;
  /** Number of ordinary features (θ). */
  readonly nFeatures: number;
  /** Number of factor levels with a coefficient (γ); rows of the reference level carry level −1. */
  readonly nLevels: number;
  /** Row i's ordinary features are `colIdx/vals[rowPtr[i] .. rowPtr[i + 1])`. */
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly vals: Float64Array;
  /** Factor level of each row, −1 for the reference level. */
  readonly level: Int32Array;
}

/** Builds a {@link FactorDesign} row by row. */
export class FactorDesignBuilder {
  private readonly ptr: number[] = [0];
  private readonly idx: number[] = [];
  private readonly val: number[] = [];
  private readonly lev: number[] = [];

  constructor(
    readonly nFeatures: number,
    readonly nLevels: number,
  ) {}

  /** Append a row: its non-zero ordinary features and its level (−1: the reference level). */
  addRow(cols: readonly number[], values: readonly number[], level: number): number {
    if (!(Number.isInteger(level) && level >= -1 && level < this.nLevels)) throw new ArgumentError("level", `level ${level} out of range`);
    for (let k = 0; k < cols.length; k++) {
      const j = cols[k]!;
      const v = values[k]!;
      if (!(j >= 0 && j < this.nFeatures)) throw new ArgumentError("features", `feature index ${j} out of range`);
      if (!Number.isFinite(v)) throw new ArgumentError("features", `non-finite feature value at row ${this.lev.length}, feature ${j}`);
      if (v === 0) continue;
      this.idx.push(j);
      this.val.push(v);
    }
    this.ptr.push(this.idx.length);
    this.lev.push(level);
    return this.lev.length - 1;
  }

  build(): FactorDesign {
    return {
      nRows: this.lev.length,
      nFeatures: this.nFeatures,
      nLevels: this.nLevels,
      rowPtr: Int32Array.from(this.ptr),
      colIdx: Int32Array.from(this.idx),
      vals: Float64Array.from(this.val),
      level: Int32Array.from(this.lev),
    };
  }
}

export interface FactorFitOptions {
  /** Inverse regularisation strength (scikit-learn's `C`). */
  C: number;
  /** Penalty multipliers of the ordinary features (default all 1; levels always 1). */
  penaltyFactor?: ArrayLike<number>;
  /** Warm start (with the previous fit's `state` when it was on the same rows and weights, for another C). */
  init?: { coef: ArrayLike<number>; levelCoef: ArrayLike<number>; state?: FactorState };
  /**
   * Stop when the largest violation of the optimality conditions of θ (γ is exactly optimal for every θ) is below
   * `tol` × the largest violation at zero, or when a Newton step no longer decreases the objective (default 1e-9).
   */
  tol?: number;
  /** Maximum number of Newton steps on θ (default 100). */
  maxIter?: number;
}

export interface FactorFit {
  coef: Float64Array;
  levelCoef: Float64Array;
  objective: number;
  iterations: number;
  converged: boolean;
  /** Where the fit ended, to warm-start a fit of the same rows and weights at another C without recomputing it. */
  state: FactorState;
}

/** Row offsets a_i·θ, probabilities and the unscaled data term Σ w ℓ at a solution (see {@link FactorFit.state}). */
export interface FactorState {
  u: Float64Array;
  p: Float64Array;
  dataLoss: number;
}

/** Numerically stable sigmoid. */
function sig(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Rows grouped by level, reusable across fits of the same design (CSR by level; reference rows apart). */
interface LevelIndex {
  start: Int32Array;
  rows: Int32Array;
  reference: Int32Array;
}

const levelIndexCache = new WeakMap<FactorDesign, LevelIndex>();

function levelIndex(X: FactorDesign): LevelIndex {
  let li = levelIndexCache.get(X);
  if (li) return li;
  const count = new Int32Array(X.nLevels + 1);
  let nRef = 0;
  for (let i = 0; i < X.nRows; i++) {
    const l = X.level[i]!;
    if (l < 0) nRef++;
    else count[l + 1]!++;
  }
  for (let k = 0; k < X.nLevels; k++) count[k + 1]! += count[k]!;
  const rows = new Int32Array(X.nRows - nRef);
  const reference = new Int32Array(nRef);
  const fill = count.slice(0, X.nLevels);
  let r = 0;
  for (let i = 0; i < X.nRows; i++) {
    const l = X.level[i]!;
    if (l < 0) reference[r++] = i;
    else rows[fill[l]!++] = i;
  }
  li = { start: count, rows, reference };
  levelIndexCache.set(X, li);
  return li;
}

function checkInputs(X: FactorDesign, y: ArrayLike<number>, w: ArrayLike<number> | undefined): void {
  if (y.length !== X.nRows) throw new ArgumentError("y", `y has ${y.length} rows, X has ${X.nRows}`);
  if (w && w.length !== X.nRows) throw new ArgumentError("weights", `weights have ${w.length} rows, X has ${X.nRows}`);
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (!(v >= 0 && v <= 1)) throw new ArgumentError("y", `soft label y[${i}] = ${v} is not in [0, 1]`);
    if (w && !(w[i]! >= 0)) throw new ArgumentError("weights", `weight w[${i}] = ${w[i]} must be >= 0`);
  }
}

/**
 * The data term Σ c_i [softplus(u_i + g) − y_i (u_i + g)] of some rows at offset g, with each row's probability
 * written to `p`; also the first two derivatives in g (returned through `out`).
 */
function levelPass(rows: Int32Array, from: number, to: number, u: Float64Array, y: Float64Array, c: Float64Array, g: number, p: Float64Array, out: Float64Array): number {
  let loss = 0;
  let s = 0;
  let sp = 0;
  for (let t = from; t < to; t++) {
    const i = rows[t]!;
    const ci = c[i]!;
    if (ci === 0) continue;
    const z = u[i]! + g;
    let pi: number;
    let sp1: number;
    if (z >= 0) {
      const e = Math.exp(-z);
      pi = 1 / (1 + e);
      sp1 = z + Math.log1p(e);
    } else {
      const e = Math.exp(z);
      pi = e / (1 + e);
      sp1 = Math.log1p(e);
    }
    p[i] = pi;
    const yi = y[i]!;
    loss += ci * (sp1 - yi * z);
    s += ci * (pi - yi);
    sp += ci * pi * (1 - pi);
  }
  out[0] = s;
  out[1] = sp;
  return loss;
}

/**
 * Exact minimiser of |g| + Σ_{i∈rows} c_i [softplus(u_i + g) − y_i (u_i + g)] (c_i = C w_i), from a warm start:
 * φ(g) = Σ c_i (σ(u_i + g) − y_i) + sign(g) is increasing, so a Newton search kept inside a shrinking bracket finds
 * its root; g = 0 when |φ's smooth part at 0| ≤ 1. Writes the rows' probabilities at the solution to `p` and
 * returns [g, data term at g].
 */
function solveLevel(rows: Int32Array, from: number, to: number, u: Float64Array, y: Float64Array, c: Float64Array, g0: number, p: Float64Array, out: Float64Array): number {
  let total = 0;
  for (let t = from; t < to; t++) total += c[rows[t]!]!;
  if (total === 0) {
    out[0] = 0;
    return 0;
  }
  const eps = 1e-12 * Math.max(1, total);
  let g = g0;
  let lo = -Infinity;
  let hi = Infinity;
  for (let iter = 0; iter < 200; iter++) {
    const loss = levelPass(rows, from, to, u, y, c, g, p, out);
    const s = out[0]!;
    const sp = out[1]!;
    let next: number;
    if (g === 0) {
      if (Math.abs(s) <= 1) {
        out[0] = 0;
        return loss;
      }
      if (s < -1) lo = 0;
      else hi = 0;
      const target = s < -1 ? -1 : 1;
      next = sp > 0 ? -(s - target) / sp : s < -1 ? 1 : -1;
    } else {
      const f = s + (g > 0 ? 1 : -1);
      if (Math.abs(f) <= eps) {
        out[0] = g;
        return loss;
      }
      if (f < 0) lo = g;
      else hi = g;
      next = sp > 0 ? g - f / sp : f < 0 ? g + 1 : g - 1;
      // Crossing zero: try the kink first.
      if ((g > 0 && next <= 0) || (g < 0 && next >= 0)) next = 0;
    }
    if (!(next > lo && next < hi) && !(next === 0 && lo < 0 && hi > 0)) {
      if (Number.isFinite(lo) && Number.isFinite(hi)) next = 0.5 * (lo + hi);
      else if (Number.isFinite(lo)) next = lo + Math.max(1, 2 * Math.abs(g - lo));
      else next = hi - Math.max(1, 2 * Math.abs(hi - g));
    }
    if (Math.abs(next - g) <= 1e-15 * Math.max(1, Math.abs(g))) {
      out[0] = g;
      return loss;
    }
    g = next;
  }
  out[0] = g;
  return levelPass(rows, from, to, u, y, c, g, p, out);
}

/** out_i = a_i·b for every row. */
function rowsTimes(X: FactorDesign, b: Float64Array, out: Float64Array): void {
  const { rowPtr, colIdx, vals } = X;
  for (let i = 0; i < X.nRows; i++) {
    let s = 0;
    for (let t = rowPtr[i]!; t < rowPtr[i + 1]!; t++) s += vals[t]! * b[colIdx[t]!]!;
    out[i] = s;
  }
}

function l1(pf: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < b.length; j++) s += pf[j]! * Math.abs(b[j]!);
  return s;
}

/** Solve every level for offsets `u` (warm from `gamma`, in place), probabilities to `p`; the objective but θ's penalty. */
function profile(X: FactorDesign, li: LevelIndex, y: Float64Array, c: Float64Array, u: Float64Array, gamma: Float64Array, p: Float64Array, tmp: Float64Array): number {
  let obj = 0;
  for (let k = 0; k < X.nLevels; k++) {
    obj += solveLevel(li.rows, li.start[k]!, li.start[k + 1]!, u, y, c, gamma[k]!, p, tmp);
    const g = tmp[0]!;
    gamma[k] = g;
    obj += Math.abs(g);
  }
  if (li.reference.length) obj += levelPass(li.reference, 0, li.reference.length, u, y, c, 0, p, tmp);
  return obj;
}

/** ∇_θ of the data term at probabilities p. */
function gradientInto(X: FactorDesign, y: Float64Array, c: Float64Array, p: Float64Array, grad: Float64Array): void {
  const { rowPtr, colIdx, vals } = X;
  grad.fill(0);
  for (let i = 0; i < X.nRows; i++) {
    const ci = c[i]!;
    if (ci === 0) continue;
    const r = ci * (p[i]! - y[i]!);
    for (let t = rowPtr[i]!; t < rowPtr[i + 1]!; t++) grad[colIdx[t]!]! += r * vals[t]!;
  }
}

/** Largest violation of θ's optimality conditions (minimum-norm subgradient). */
function violation(theta: Float64Array, grad: Float64Array, pf: Float64Array): number {
  let worst = 0;
  for (let j = 0; j < theta.length; j++) {
    const gj = grad[j]!;
    const b = theta[j]!;
    const v = b > 0 ? Math.abs(gj + pf[j]!) : b < 0 ? Math.abs(gj - pf[j]!) : Math.max(0, Math.abs(gj) - pf[j]!);
    if (v > worst) worst = v;
  }
  return worst;
}

/** The profiled Hessian Σ D_i a_i a_iᵀ − Σ_{k: γ_k ≠ 0} h_k h_kᵀ / d_k (dense S × S); D_i written to `D`. */
function hessianInto(X: FactorDesign, li: LevelIndex, c: Float64Array, p: Float64Array, gamma: Float64Array, D: Float64Array, h: Float64Array, H: Float64Array): void {
  const { rowPtr, colIdx, vals } = X;
  const S = X.nFeatures;
  H.fill(0);
  for (let i = 0; i < X.nRows; i++) {
    const ci = c[i]!;
    if (ci === 0) {
      D[i] = 0;
      continue;
    }
    const pi = p[i]!;
    const Di = ci * pi * (1 - pi);
    D[i] = Di;
    const a = rowPtr[i]!;
    const b = rowPtr[i + 1]!;
    for (let t = a; t < b; t++) {
      const row = colIdx[t]! * S;
      const dv = Di * vals[t]!;
      for (let e = a; e < b; e++) H[row + colIdx[e]!]! += dv * vals[e]!;
    }
  }
  for (let k = 0; k < X.nLevels; k++) {
    if (gamma[k] === 0) continue;
    let dk = 0;
    let lo = S;
    let hi = -1;
    for (let t = li.start[k]!; t < li.start[k + 1]!; t++) {
      const i = li.rows[t]!;
      const Di = D[i]!;
      if (Di === 0) continue;
      dk += Di;
      for (let e = rowPtr[i]!; e < rowPtr[i + 1]!; e++) {
        const j = colIdx[e]!;
        h[j]! += Di * vals[e]!;
        if (j < lo) lo = j;
        if (j > hi) hi = j;
      }
    }
    if (dk > 0) {
      const inv = 1 / dk;
      for (let x = lo; x <= hi; x++) {
        const f = h[x]! * inv;
        if (f === 0) continue;
        const row = x * S;
        for (let z = x; z <= hi; z++) H[row + z]! -= f * h[z]!;
      }
    }
    for (let x = lo; x <= hi; x++) h[x] = 0;
  }
  // The row pass filled both triangles, the Schur pass only the upper one: mirror it.
  for (let j = 0; j < S; j++) for (let x = j + 1; x < S; x++) H[x * S + j] = H[j * S + x]!;
}

/** Coordinate descent on g·d + ½ dᵀ(H + νI)d + Σ f_j |θ_j + d_j| (a small dense quadratic); the step to `d`. */
function newtonStep(theta: Float64Array, grad: Float64Array, H: Float64Array, pf: Float64Array, d: Float64Array, Hd: Float64Array): void {
  const S = theta.length;
  let trace = 0;
  for (let j = 0; j < S; j++) trace += H[j * S + j]!;
  const nu = 1e-12 * Math.max(1, trace / Math.max(1, S));
  d.fill(0);
  Hd.fill(0);
  for (let sweep = 0; sweep < 200; sweep++) {
    let maxStep = 0;
    let maxScale = 0;
    for (let j = 0; j < S; j++) {
      const Hjj = H[j * S + j]! + nu;
      if (!(Hjj > 0)) continue;
      const G = grad[j]! + Hd[j]!;
      const cur = theta[j]! + d[j]!;
      const f = pf[j]!;
      let step: number;
      if (G + f <= Hjj * cur) step = -(G + f) / Hjj;
      else if (G - f >= Hjj * cur) step = -(G - f) / Hjj;
      else step = -cur;
      if (step === 0) continue;
      d[j]! += step;
      const row = j * S;
      for (let x = 0; x < S; x++) Hd[x]! += step * H[row + x]!;
      Hd[j]! += step * nu;
      const sh = Math.sqrt(Hjj);
      maxStep = Math.max(maxStep, Math.abs(step) * sh);
      maxScale = Math.max(maxScale, Math.abs(d[j]!) * sh);
    }
    if (maxStep <= 1e-6 * maxScale || maxStep < 1e-15) break;
  }
}

/** Unscaled gradient of the data term at zero, Σ w_i (½ − y_i) a_i and per level: C times it, less the penalty, is the violation at zero. */
function gradientAtZero(X: FactorDesign, y: Float64Array, w: Float64Array): { features: Float64Array; levels: Float64Array } {
  const { rowPtr, colIdx, vals } = X;
  const features = new Float64Array(X.nFeatures);
  const levels = new Float64Array(X.nLevels);
  for (let i = 0; i < X.nRows; i++) {
    const r = w[i]! * (0.5 - y[i]!);
    if (r === 0) continue;
    for (let t = rowPtr[i]!; t < rowPtr[i + 1]!; t++) features[colIdx[t]!]! += r * vals[t]!;
    const l = X.level[i]!;
    if (l >= 0) levels[l]! += r;
  }
  return { features, levels };
}

/**
 * Buffers of one design and one set of weights, reused by the fits of a path over C (and holding the last fit's
 * row offsets and probabilities, from which the next C starts).
 */
interface Workspace {
  X: FactorDesign;
  li: LevelIndex;
  y: Float64Array;
  w: Float64Array;
  pf: Float64Array;
  zero: { features: Float64Array; levels: Float64Array };
  c: Float64Array;
  u: Float64Array;
  p: Float64Array;
  uNew: Float64Array;
  pNew: Float64Array;
  D: Float64Array;
  q: Float64Array;
  /** Whether u, p and dataLoss hold the last solution (for `theta`, `gamma` of the next warm start). */
  warm: boolean;
  dataLoss: number;
}

function workspace(X: FactorDesign, y: Float64Array, weights: ArrayLike<number> | undefined, penaltyFactor: ArrayLike<number> | undefined): Workspace {
  const n = X.nRows;
  const w = new Float64Array(n);
  if (weights) for (let i = 0; i < n; i++) w[i] = weights[i]!;
  else w.fill(1);
  const pf = new Float64Array(X.nFeatures).fill(1);
  if (penaltyFactor) for (let j = 0; j < pf.length; j++) pf[j] = penaltyFactor[j]!;
  return {
    X,
    li: levelIndex(X),
    y,
    w,
    pf,
    zero: gradientAtZero(X, y, w),
    c: new Float64Array(n),
    u: new Float64Array(n),
    p: new Float64Array(n),
    uNew: new Float64Array(n),
    pNew: new Float64Array(n),
    D: new Float64Array(n),
    q: new Float64Array(n),
    warm: false,
    dataLoss: 0,
  };
}

/**
 * Fit the factor model (see the module comment) for one C. Rows of zero weight are ignored (cross-validation
 * folds pass their held-out rows with weight 0). Deterministic.
 */
export function fitL1LogisticFactor(X: FactorDesign, labels: ArrayLike<number>, weights: ArrayLike<number> | undefined, opts: FactorFitOptions): FactorFit {
  checkInputs(X, labels, weights);
  if (!(opts.C > 0)) throw new ArgumentError("C", `C must be > 0, got ${opts.C}`);
  // Typed arrays throughout keep the hot loops monomorphic.
  const ws = workspace(X, labels instanceof Float64Array ? labels : Float64Array.from(labels), weights, opts.penaltyFactor);
  const carried = opts.init?.state;
  if (carried && carried.u.length === X.nRows) {
    ws.u.set(carried.u);
    ws.p.set(carried.p);
    ws.dataLoss = carried.dataLoss;
    ws.warm = true;
  }
  const fit = fitIn(ws, opts.C, opts.init, opts.tol ?? 1e-9, opts.maxIter ?? 100);
  return { ...fit, state: { u: ws.u, p: ws.p, dataLoss: ws.dataLoss } };
}

/** One fit in a workspace, from `init` (whose row offsets and probabilities the workspace holds when `ws.warm`). */
function fitIn(ws: Workspace, C: number, init: { coef: ArrayLike<number>; levelCoef: ArrayLike<number> } | undefined, tol: number, maxIter: number): Omit<FactorFit, "state"> {
  const { X, li, y, pf, c } = ws;
  const S = X.nFeatures;
  const K = X.nLevels;
  const n = X.nRows;
  for (let i = 0; i < n; i++) c[i] = C * ws.w[i]!;

  const theta = new Float64Array(S);
  let gamma = new Float64Array(K);
  if (init) {
    for (let j = 0; j < S; j++) theta[j] = init.coef[j]!;
    for (let k = 0; k < K; k++) gamma[k] = init.levelCoef[k]!;
  }
  let g0 = 1e-12;
  for (let j = 0; j < S; j++) g0 = Math.max(g0, C * Math.abs(ws.zero.features[j]!) - pf[j]!);
  for (let k = 0; k < K; k++) g0 = Math.max(g0, C * Math.abs(ws.zero.levels[k]!) - 1);
  const tmp = new Float64Array(2);
  let u = ws.u;
  let p = ws.p;
  let uNew = ws.uNew;
  let pNew = ws.pNew;
  let obj: number;
  if (init && ws.warm) {
    // Same rows and weights at another C: θ, γ and the probabilities are as they were; the data term scales with C.
    obj = l1(pf, theta) + l1Levels(gamma) + C * ws.dataLoss;
  } else if (!init && K === 0) {
    // From zero without levels: every probability is ½ and every row costs log 2.
    u.fill(0);
    p.fill(0.5);
    let sc = 0;
    for (let i = 0; i < n; i++) sc += c[i]!;
    obj = Math.LN2 * sc;
  } else {
    rowsTimes(X, theta, u);
    obj = l1(pf, theta) + profile(X, li, y, c, u, gamma, p, tmp);
  }

  const grad = new Float64Array(S);
  const H = new Float64Array(S * S);
  const h = new Float64Array(S);
  const d = new Float64Array(S);
  const Hd = new Float64Array(S);
  const { D, q } = ws;
  let gammaNew = new Float64Array(K);
  const thetaNew = new Float64Array(S);

  let iterations = 0;
  let converged = false;
  for (; iterations < maxIter; iterations++) {
    gradientInto(X, y, c, p, grad);
    if (violation(theta, grad, pf) <= tol * g0) {
      converged = true;
      break;
    }
    hessianInto(X, li, c, p, gamma, D, h, H);
    newtonStep(theta, grad, H, pf, d, Hd);

    // Armijo search on the profiled objective.
    let delta = 0;
    for (let j = 0; j < S; j++) {
      thetaNew[j] = theta[j]! + d[j]!;
      delta += grad[j]! * d[j]!;
    }
    delta += l1(pf, thetaNew) - l1(pf, theta);
    if (!(delta < 0)) {
      converged = true; // no descent direction left: at the numerical optimum
      break;
    }
    rowsTimes(X, d, q);
    let step = 1;
    let accepted = false;
    for (let ls = 0; ls < 40; ls++) {
      for (let j = 0; j < S; j++) thetaNew[j] = theta[j]! + step * d[j]!;
      for (let i = 0; i < n; i++) uNew[i] = u[i]! + step * q[i]!;
      gammaNew.set(gamma);
      const newObj = l1(pf, thetaNew) + profile(X, li, y, c, uNew, gammaNew, pNew, tmp);
      if (newObj - obj <= 0.01 * step * delta) {
        theta.set(thetaNew);
        [u, uNew] = [uNew, u];
        [gamma, gammaNew] = [gammaNew, gamma];
        [p, pNew] = [pNew, p];
        const rel = (obj - newObj) / Math.max(1, Math.abs(obj));
        obj = newObj;
        accepted = true;
        if (rel < 1e-16) converged = true;
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
  ws.u = u;
  ws.p = p;
  ws.uNew = uNew;
  ws.pNew = pNew;
  ws.dataLoss = (obj - l1(pf, theta) - l1Levels(gamma)) / C;
  ws.warm = true;
  return { coef: theta, levelCoef: gamma, objective: obj, iterations, converged };
}

function l1Levels(gamma: Float64Array): number {
  let s = 0;
  for (let k = 0; k < gamma.length; k++) s += Math.abs(gamma[k]!);
  return s;
}

/** Linear predictor a_i·θ + γ_{k(i)} of every row. */
export function factorPredictor(X: FactorDesign, coef: ArrayLike<number>, levelCoef: ArrayLike<number>): Float64Array {
  const z = new Float64Array(X.nRows);
  for (let i = 0; i < X.nRows; i++) {
    let s = 0;
    for (let t = X.rowPtr[i]!; t < X.rowPtr[i + 1]!; t++) s += X.vals[t]! * coef[X.colIdx[t]!]!;
    const l = X.level[i]!;
    z[i] = s + (l >= 0 ? levelCoef[l]! : 0);
  }
  return z;
}

export interface FactorCVOptions {
  /** Grid of C values (default `logspace(-4, 4, 10)`). */
  Cs?: readonly number[];
  /** Fold id (0..k−1) of every row. */
  folds: ArrayLike<number>;
  penaltyFactor?: ArrayLike<number>;
  /** Tolerance of the refit on all rows (default 1e-9). */
  tol?: number;
  /** Tolerance of the folds' fits, which only rank the Cs (default 1e-5). */
  foldTol?: number;
  maxIter?: number;
}

export interface FactorCVFit extends FactorFit {
  C: number;
  Cs: number[];
  /** Mean held-out score (negative weighted soft log loss) per C. */
  cvScores: number[];
}

/**
 * Held-out scores of one fold along the C grid (warm-started from one C to the next): for each C, the negative
 * weighted soft log loss of the fold's rows, as scikit-learn's scorer computes it (mean over the held-out rows).
 * Also returns the fold's coefficients at each C, to warm-start the final refit.
 */
export function factorFoldPath(
  X: FactorDesign,
  y: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  folds: ArrayLike<number>,
  fold: number,
  Cs: readonly number[],
  opts: { penaltyFactor?: ArrayLike<number>; tol?: number; maxIter?: number } = {},
): { scores: number[]; coefs: Array<{ coef: Float64Array; levelCoef: Float64Array }> } {
  const wTrain = new Float64Array(X.nRows);
  const test: number[] = [];
  for (let i = 0; i < X.nRows; i++) {
    if (folds[i] === fold) test.push(i);
    else wTrain[i] = weights ? weights[i]! : 1;
  }
  const yy = y instanceof Float64Array ? y : Float64Array.from(y);
  const ws = workspace(X, yy, wTrain, opts.penaltyFactor);
  const scores: number[] = [];
  const coefs: Array<{ coef: Float64Array; levelCoef: Float64Array }> = [];
  let init: { coef: Float64Array; levelCoef: Float64Array } | undefined;
  for (const C of Cs) {
    if (!(C > 0)) throw new ArgumentError("C", `C must be > 0, got ${C}`);
    const fit = fitIn(ws, C, init, opts.tol ?? 1e-9, opts.maxIter ?? 100);
    init = { coef: fit.coef, levelCoef: fit.levelCoef };
    coefs.push(init);
    const eps = 1e-15;
    let s = 0;
    for (const i of test) {
      let z = 0;
      for (let t = X.rowPtr[i]!; t < X.rowPtr[i + 1]!; t++) z += X.vals[t]! * fit.coef[X.colIdx[t]!]!;
      const l = X.level[i]!;
      if (l >= 0) z += fit.levelCoef[l]!;
      const p = Math.min(1 - eps, Math.max(eps, sig(z)));
      s += (weights ? weights[i]! : 1) * (y[i]! * Math.log(p) + (1 - y[i]!) * Math.log(1 - p));
    }
    scores.push(test.length ? s / test.length : 0);
  }
  return { scores, coefs };
}

/**
 * Cross-validated {@link fitL1LogisticFactor}, as scikit-learn's `LogisticRegressionCV(refit=True)` with the given
 * folds: each fold's path over increasing C is warm-started; the C with the best mean held-out score wins (the
 * first on ties), and the refit on all rows starts from the folds' mean solution at that C.
 */
export function fitL1LogisticFactorCV(X: FactorDesign, y: ArrayLike<number>, weights: ArrayLike<number> | undefined, opts: FactorCVOptions): FactorCVFit {
  checkInputs(X, y, weights);
  const Cs = [...(opts.Cs ?? logspace(-4, 4, 10))];
  let k = 0;
  for (let i = 0; i < opts.folds.length; i++) k = Math.max(k, opts.folds[i]! + 1);
  const common = {
    ...(opts.penaltyFactor ? { penaltyFactor: opts.penaltyFactor } : {}),
    ...(opts.tol !== undefined ? { tol: opts.tol } : {}),
    ...(opts.maxIter !== undefined ? { maxIter: opts.maxIter } : {}),
  };
  const foldCommon = { ...common, tol: opts.foldTol ?? 1e-5 };
  const paths = Array.from({ length: k }, (_, f) => factorFoldPath(X, y, weights, opts.folds, f, Cs, foldCommon));
  return refitFactorCV(X, y, weights, Cs, paths, common);
}

/** The final step of {@link fitL1LogisticFactorCV}, given every fold's path (possibly computed elsewhere). */
export function refitFactorCV(
  X: FactorDesign,
  y: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  Cs: readonly number[],
  paths: ReadonlyArray<{ scores: readonly number[]; coefs: ReadonlyArray<{ coef: ArrayLike<number>; levelCoef: ArrayLike<number> }> }>,
  opts: { penaltyFactor?: ArrayLike<number>; tol?: number; maxIter?: number } = {},
): FactorCVFit {
  const k = paths.length;
  const scores = new Float64Array(Cs.length);
  for (const p of paths) for (let c = 0; c < Cs.length; c++) scores[c]! += p.scores[c]!;
  let best = 0;
  for (let c = 1; c < Cs.length; c++) if (scores[c]! > scores[best]!) best = c;
  const C = Cs[best]!;
  const coef = new Float64Array(X.nFeatures);
  const levelCoef = new Float64Array(X.nLevels);
  for (const p of paths) {
    const s = p.coefs[best]!;
    for (let j = 0; j < coef.length; j++) coef[j]! += s.coef[j]! / k;
    for (let l = 0; l < levelCoef.length; l++) levelCoef[l]! += s.levelCoef[l]! / k;
  }
  const fit = fitL1LogisticFactor(X, y, weights, { C, ...opts, init: { coef, levelCoef } });
  return { ...fit, C, Cs: [...Cs], cvScores: Array.from(scores, (s) => s / k) };
}
