/**
 * Smooth unconstrained minimisers for the learners: limited-memory BFGS and truncated Newton (Newton-CG).
 * Both are deterministic. Newton-CG needs Hessian-vector products, which for a generalised linear model cost
 * two sparse matrix-vector products, and usually converges in a handful of outer steps; L-BFGS needs only
 * gradients (the GPM's objective is not convex, so it uses L-BFGS).
 */
import { ArgumentError } from "../../errors.js";

export interface SmoothObjective {
  /** Number of parameters. */
  readonly size: number;
  /** f(x); writes ∇f(x) into `grad`. */
  valueGrad(x: Float64Array, grad: Float64Array): number;
  /** H(x)·v for the x of the latest `valueGrad` call; written into `out`. */
  hessVec?(v: Float64Array, out: Float64Array): void;
}

export interface OptimizeOptions {
  /** Stop when ‖∇f‖∞ ≤ tol · max(1, ‖∇f(x0)‖∞) (default 1e-6). */
  tol?: number;
  /** Outer iterations (default 500 for L-BFGS, 100 for Newton-CG). */
  maxIter?: number;
  /** L-BFGS memory (default 10). */
  memory?: number;
  /** Called after each outer iteration; return `false` to stop. */
  onIteration?: (info: { iteration: number; value: number; gradNorm: number }) => boolean | void;
}

export interface OptimizeResult {
  x: Float64Array;
  value: number;
  gradNorm: number;
  iterations: number;
  /** Function/gradient evaluations. */
  evaluations: number;
  /** Hessian-vector products (Newton-CG). */
  hessVecs: number;
  converged: boolean;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function normInf(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > m) m = v;
  }
  return m;
}

/**
 * Backtracking line search from `x` along `d` (Armijo, c1 = 1e-4), starting at `step`. On success `xNew`,
 * `gNew` hold the new point and its gradient; returns the value there, or undefined when no step decreased f.
 */
function backtrack(
  obj: SmoothObjective,
  x: Float64Array,
  f: number,
  slope: number,
  d: Float64Array,
  step: number,
  xNew: Float64Array,
  gNew: Float64Array,
  count: { evals: number },
): { value: number; step: number } | undefined {
  for (let k = 0; k < 40; k++) {
    for (let i = 0; i < x.length; i++) xNew[i] = x[i]! + step * d[i]!;
    const fNew = obj.valueGrad(xNew, gNew);
    count.evals++;
    if (Number.isFinite(fNew) && fNew <= f + 1e-4 * step * slope) return { value: fNew, step };
    step *= k === 0 ? 0.1 : 0.5;
  }
  return undefined;
}

/** Limited-memory BFGS with a backtracking line search. */
export function lbfgs(obj: SmoothObjective, x0: Float64Array, opts: OptimizeOptions = {}): OptimizeResult {
  const n = obj.size;
  const m = opts.memory ?? 10;
  const maxIter = opts.maxIter ?? 500;
  const tol = opts.tol ?? 1e-6;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  const count = { evals: 1 };
  let f = obj.valueGrad(x, g);
  const g0 = Math.max(1, normInf(g));
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  const d = new Float64Array(n);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  let iterations = 0;
  let converged = normInf(g) <= tol * g0;
  while (!converged && iterations < maxIter) {
    // Two-loop recursion: d = −H·g.
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    for (let k = S.length - 1; k >= 0; k--) {
      const a = rho[k]! * dot(S[k]!, d);
      alpha[k] = a;
      const y = Y[k]!;
      for (let i = 0; i < n; i++) d[i]! -= a * y[i]!;
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last]!, Y[last]!) / dot(Y[last]!, Y[last]!);
      for (let i = 0; i < n; i++) d[i]! *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const b = rho[k]! * dot(Y[k]!, d);
      const s = S[k]!;
      const a = alpha[k]!;
      for (let i = 0; i < n; i++) d[i]! += (a - b) * s[i]!;
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = dot(g, d);
    }
    const first = S.length === 0 ? Math.min(1, 1 / Math.max(1e-12, Math.sqrt(-slope))) : 1;
    const ls = backtrack(obj, x, f, slope, d, first, xNew, gNew, count);
    iterations++;
    if (!ls) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const fPrev = f;
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = ls.value;
    const gn = normInf(g);
    if (opts.onIteration?.({ iteration: iterations, value: f, gradNorm: gn }) === false) break;
    if (gn <= tol * g0) converged = true;
    else if (Math.abs(fPrev - f) <= 1e-15 * Math.max(1, Math.abs(f))) converged = true;
  }
  return { x, value: f, gradNorm: normInf(g), iterations, evaluations: count.evals, hessVecs: 0, converged };
}

/**
 * Truncated Newton: each step solves H·d = −g by conjugate gradients to a relative residual of 0.1, then
 * backtracks from the full step (which is almost always accepted).
 */
export function newtonCg(obj: SmoothObjective, x0: Float64Array, opts: OptimizeOptions = {}): OptimizeResult {
  if (!obj.hessVec) throw new ArgumentError("obj.hessVec", "newtonCg needs an objective with hessVec");
  const n = obj.size;
  const maxIter = opts.maxIter ?? 100;
  const tol = opts.tol ?? 1e-6;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  const count = { evals: 1 };
  let f = obj.valueGrad(x, g);
  const g0 = Math.max(1, normInf(g));
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  const d = new Float64Array(n);
  const r = new Float64Array(n);
  const p = new Float64Array(n);
  const Hp = new Float64Array(n);
  let hessVecs = 0;
  let iterations = 0;
  let converged = normInf(g) <= tol * g0;
  while (!converged && iterations < maxIter) {
    // CG on H d = −g, from d = 0.
    d.fill(0);
    for (let i = 0; i < n; i++) {
      r[i] = -g[i]!;
      p[i] = r[i]!;
    }
    const gNorm = Math.sqrt(dot(g, g));
    // Forcing term 0.1, as liblinear's trust-region Newton uses: measured on hashed HH features, it needs
    // fewer Hessian-vector products in all than an adaptive min(0.5, √‖g‖) term.
    const eta = 0.1;
    const cgTol = eta * gNorm;
    let rr = dot(r, r);
    const maxCg = Math.max(20, Math.min(n, 500));
    for (let k = 0; k < maxCg; k++) {
      obj.hessVec(p, Hp);
      hessVecs++;
      const pHp = dot(p, Hp);
      if (pHp <= 1e-16 * dot(p, p)) {
        if (k === 0) d.set(p); // no curvature information: fall back to steepest descent
        break;
      }
      const a = rr / pHp;
      for (let i = 0; i < n; i++) {
        d[i]! += a * p[i]!;
        r[i]! -= a * Hp[i]!;
      }
      const rrNew = dot(r, r);
      if (Math.sqrt(rrNew) <= cgTol) break;
      const beta = rrNew / rr;
      rr = rrNew;
      for (let i = 0; i < n; i++) p[i] = r[i]! + beta * p[i]!;
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      slope = dot(g, d);
    }
    const ls = backtrack(obj, x, f, slope, d, 1, xNew, gNew, count);
    iterations++;
    if (!ls) break;
    const fPrev = f;
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = ls.value;
    const gn = normInf(g);
    if (opts.onIteration?.({ iteration: iterations, value: f, gradNorm: gn }) === false) break;
    if (gn <= tol * g0) converged = true;
    else if (Math.abs(fPrev - f) <= 1e-15 * Math.max(1, Math.abs(f))) converged = true;
  }
  // The gradient buffer holds the value at x (the last accepted point); the objective's Hessian state may not.
  return { x, value: f, gradNorm: normInf(g), iterations, evaluations: count.evals, hessVecs, converged };
}
