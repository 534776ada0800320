/**
 * Bradley-Terry model for pairwise comparisons (Bradley & Terry 1952), fitted by Newton's method on the
 * L2-penalised log-likelihood, with a percentile bootstrap for confidence intervals (as used by Chatbot Arena,
 * Chiang et al. 2024).
 *
 *     P(b beats a) = sigmoid(s_b − s_a)
 *
 * Soft outcomes are allowed: `pB` is the probability (or fraction of the vote) that b won; 0.5 is a tie. A tiny
 * Gaussian prior (L2 penalty λ/2 · Σ s²) makes the problem strictly convex, so players that never lost, never won
 * or sit in disconnected components still get finite scores; at the optimum the scores are automatically centred
 * (Σ s = 0), because the likelihood is invariant to a common shift.
 */

import { ArgumentError, RlxfError } from "../errors.js";
import type { Comparison } from "../feedback/index.js";
import { createRng } from "./random.js";
import { quantile, sigmoid, softplus } from "./stats.js";

/** One pairwise comparison between players `a` and `b` (`pB`: probability b beats a; 0.5 is a tie). */
export type PairwiseComparison = Comparison;

/** Output scale for scores. */
export type BradleyTerryScale = "log" | "elo";

export interface BradleyTerryOptions {
  /** L2 prior strength λ on the log-strengths (default 1e-4, in units of comparison weight). */
  l2?: number;
  /** Scale of `scores`: natural log-strength (default) or Elo-like `base + 400/ln(10) · s`. */
  scale?: BradleyTerryScale;
  /** Elo offset for `scale: "elo"` (default 1000, as Chatbot Arena). */
  eloBase?: number;
  /** Maximum Newton iterations (default 100). */
  maxIter?: number;
  /** Convergence tolerance on the max-abs gradient (default 1e-10). */
  tol?: number;
  /** Explicit player list (order of the result); players without comparisons score 0. */
  players?: readonly string[];
  /** Warm start, log-strength per player. */
  init?: ReadonlyMap<string, number>;
}

export interface BradleyTerryResult {
  /** Players in output order (first appearance, unless `opts.players`). */
  players: string[];
  /** Scores on the requested scale. */
  scores: Map<string, number>;
  /** Centred natural log-strengths s. */
  logStrength: Map<string, number>;
  /** Penalised log-likelihood at the optimum. */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
}

/** Convert a centred log-strength to an Elo-like rating, `base + 400/ln(10) · s`. */
export function toElo(logStrength: number, base = 1000): number {
  return base + (400 / Math.LN10) * logStrength;
}

/** P(b beats a) under fitted log-strengths. */
export function bradleyTerryWinProbability(result: BradleyTerryResult, a: string, b: string): number {
  return sigmoid((result.logStrength.get(b) ?? 0) - (result.logStrength.get(a) ?? 0));
}

function validate(comparisons: readonly PairwiseComparison[]): void {
  comparisons.forEach((c, i) => {
    if (!(c.pB >= 0 && c.pB <= 1)) throw new ArgumentError(`comparisons.${i}.pB`, `comparison ${i}: pB = ${c.pB} not in [0, 1]`);
    if (c.weight !== undefined && !(c.weight >= 0)) throw new ArgumentError(`comparisons.${i}.weight`, `comparison ${i}: weight must be >= 0`);
  });
}

/** Solve A x = b for symmetric positive-definite A (row-major n×n) by Cholesky; A is overwritten. */
function choleskySolve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j]!;
    for (let k = 0; k < j; k++) d -= A[j * n + k]! * A[j * n + k]!;
    if (!(d > 0)) throw new RlxfError("internal_error", "Bradley-Terry Hessian is not positive definite (use l2 > 0)");
    const l = Math.sqrt(d);
    A[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < j; k++) s -= A[i * n + k]! * A[j * n + k]!;
      A[i * n + j] = s / l;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let s = x[i]!;
    for (let k = 0; k < i; k++) s -= A[i * n + k]! * x[k]!;
    x[i] = s / A[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < n; k++) s -= A[k * n + i]! * x[k]!;
    x[i] = s / A[i * n + i]!;
  }
  return x;
}

interface Indexed {
  players: string[];
  ia: Int32Array;
  ib: Int32Array;
  p: Float64Array;
  w: Float64Array;
}

function indexComparisons(comparisons: readonly PairwiseComparison[], players?: readonly string[]): Indexed {
  const order: string[] = players ? [...players] : [];
  const idx = new Map<string, number>(order.map((p, i) => [p, i]));
  const get = (name: string): number => {
    let i = idx.get(name);
    if (i === undefined) {
      i = order.length;
      order.push(name);
      idx.set(name, i);
    }
    return i;
  };
  const n = comparisons.length;
  const ia = new Int32Array(n);
  const ib = new Int32Array(n);
  const p = new Float64Array(n);
  const w = new Float64Array(n);
  comparisons.forEach((c, k) => {
    ia[k] = get(c.a);
    ib[k] = get(c.b);
    p[k] = c.pB;
    w[k] = c.weight ?? 1;
  });
  return { players: order, ia, ib, p, w };
}

function fitIndexed(
  data: Indexed,
  l2: number,
  maxIter: number,
  tol: number,
  init?: Float64Array,
): { s: Float64Array; ll: number; iterations: number; converged: boolean } {
  const n = data.players.length;
  const m = data.ia.length;
  const s = init ? Float64Array.from(init) : new Float64Array(n);
  const objective = (x: Float64Array): number => {
    // penalised log-likelihood (to maximise)
    let ll = 0;
    for (let k = 0; k < m; k++) {
      if (data.ia[k] === data.ib[k]) continue;
      const d = x[data.ib[k]!]! - x[data.ia[k]!]!;
      ll -= data.w[k]! * (softplus(d) - data.p[k]! * d);
    }
    let pen = 0;
    for (let i = 0; i < n; i++) pen += x[i]! * x[i]!;
    return ll - 0.5 * l2 * pen;
  };
  let ll = objective(s);
  let iterations = 0;
  let converged = false;
  const g = new Float64Array(n);
  const H = new Float64Array(n * n);
  for (; iterations < maxIter; iterations++) {
    g.fill(0);
    H.fill(0);
    for (let i = 0; i < n; i++) {
      g[i] = -l2 * s[i]!;
      H[i * n + i] = l2;
    }
    for (let k = 0; k < m; k++) {
      const a = data.ia[k]!;
      const b = data.ib[k]!;
      if (a === b) continue;
      const q = sigmoid(s[b]! - s[a]!);
      const r = data.w[k]! * (data.p[k]! - q); // d ll / d s_b
      const h = data.w[k]! * q * (1 - q);
      g[b]! += r;
      g[a]! -= r;
      H[a * n + a]! += h;
      H[b * n + b]! += h;
      H[a * n + b]! -= h;
      H[b * n + a]! -= h;
    }
    let gmax = 0;
    for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(g[i]!));
    if (gmax <= tol) {
      converged = true;
      break;
    }
    const step = choleskySolve(H, g, n); // Newton direction for maximisation (H is the negated Hessian)
    let t = 1;
    let accepted = false;
    const next = new Float64Array(n);
    for (let ls = 0; ls < 50; ls++) {
      for (let i = 0; i < n; i++) next[i] = s[i]! + t * step[i]!;
      const llNext = objective(next);
      if (llNext >= ll - 1e-12 * Math.abs(ll)) {
        s.set(next);
        ll = llNext;
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {
      converged = true;
      iterations++;
      break;
    }
  }
  // The optimum is centred analytically; remove residual numerical drift.
  let c = 0;
  for (let i = 0; i < n; i++) c += s[i]!;
  c /= Math.max(n, 1);
  for (let i = 0; i < n; i++) s[i] = s[i]! - c;
  return { s, ll, iterations, converged };
}

function toResult(
  players: string[],
  s: Float64Array,
  ll: number,
  iterations: number,
  converged: boolean,
  opts: BradleyTerryOptions,
): BradleyTerryResult {
  const scale = opts.scale ?? "log";
  const base = opts.eloBase ?? 1000;
  const logStrength = new Map(players.map((p, i) => [p, s[i]!]));
  const scores = new Map(players.map((p, i) => [p, scale === "elo" ? toElo(s[i]!, base) : s[i]!]));
  return { players, scores, logStrength, logLikelihood: ll, iterations, converged };
}

/**
 * Fit Bradley-Terry log-strengths to (soft) pairwise outcomes by Newton's method with a tiny L2 prior.
 * Deterministic; comparisons of a player with itself are ignored.
 */
export function bradleyTerry(
  comparisons: readonly PairwiseComparison[],
  opts: BradleyTerryOptions = {},
): BradleyTerryResult {
  validate(comparisons);
  const l2 = opts.l2 ?? 1e-4;
  if (!(l2 > 0)) throw new ArgumentError("l2", "bradleyTerry: l2 must be > 0");
  const data = indexComparisons(comparisons, opts.players);
  const init = opts.init ? Float64Array.from(data.players, (p) => opts.init!.get(p) ?? 0) : undefined;
  const fit = fitIndexed(data, l2, opts.maxIter ?? 100, opts.tol ?? 1e-10, init);
  return toResult(data.players, fit.s, fit.ll, fit.iterations, fit.converged, opts);
}

export interface BradleyTerryBootstrapOptions extends BradleyTerryOptions {
  /** Number of bootstrap resamples (default 1000). */
  rounds?: number;
  /** PRNG seed (default 0). */
  seed?: number;
  /** Two-sided miscoverage: the interval is the [α/2, 1−α/2] percentile range (default 0.05). */
  alpha?: number;
  /** Called after each resample. */
  onProgress?: (done: number, total: number) => void;
}

export interface BradleyTerryInterval {
  /** Point estimate from the full data (on the requested scale). */
  estimate: number;
  lower: number;
  upper: number;
  /** Median of the bootstrap distribution. */
  median: number;
}

export interface BradleyTerryBootstrapResult {
  /** Fit on the full data. */
  fit: BradleyTerryResult;
  /** Percentile interval per player (requested scale). */
  intervals: Map<string, BradleyTerryInterval>;
  /** Bootstrap draws, `rounds × players` in `fit.players` order (requested scale). */
  samples: Float64Array[];
}

/**
 * Percentile-bootstrap confidence intervals for Bradley-Terry scores: resample the comparisons with replacement
 * `rounds` times using a seeded PRNG ({@link createRng}), refit each resample (warm-started from the full fit) and
 * take the α/2 and 1−α/2 quantiles per player. Same seed, same result.
 */
export function bradleyTerryBootstrap(
  comparisons: readonly PairwiseComparison[],
  opts: BradleyTerryBootstrapOptions = {},
): BradleyTerryBootstrapResult {
  const rounds = opts.rounds ?? 1000;
  const alpha = opts.alpha ?? 0.05;
  if (!(rounds >= 1) || !Number.isInteger(rounds)) throw new ArgumentError("rounds", "rounds must be a positive integer");
  if (!(alpha > 0 && alpha < 1)) throw new ArgumentError("alpha", "alpha must be in (0, 1)");
  const fit = bradleyTerry(comparisons, opts);
  const l2 = opts.l2 ?? 1e-4;
  const full = indexComparisons(comparisons, fit.players);
  const n = fit.players.length;
  const m = comparisons.length;
  const rng = createRng(opts.seed ?? 0);
  const start = Float64Array.from(fit.players, (p) => fit.logStrength.get(p)!);
  const scale = opts.scale ?? "log";
  const base = opts.eloBase ?? 1000;
  const samples: Float64Array[] = [];
  for (let r = 0; r < rounds; r++) {
    const counts = new Float64Array(m);
    for (let k = 0; k < m; k++) counts[rng.int(m)]! += 1;
    const w = new Float64Array(m);
    for (let k = 0; k < m; k++) w[k] = full.w[k]! * counts[k]!;
    const res = fitIndexed({ ...full, w }, l2, opts.maxIter ?? 100, opts.tol ?? 1e-10, start);
    samples.push(scale === "elo" ? res.s.map((x) => toElo(x, base)) : res.s);
    opts.onProgress?.(r + 1, rounds);
  }
  const intervals = new Map<string, BradleyTerryInterval>();
  for (let i = 0; i < n; i++) {
    const col = samples.map((row) => row[i]!);
    const p = fit.players[i]!;
    intervals.set(p, {
      estimate: fit.scores.get(p)!,
      lower: quantile(col, alpha / 2),
      upper: quantile(col, 1 - alpha / 2),
      median: quantile(col, 0.5),
    });
  }
  return { fit, intervals, samples };
}
