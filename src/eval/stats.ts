/**
 * Basic descriptive statistics and correlations used across `src/eval`.
 * All functions are pure and ignore nothing silently: callers filter missing values first.
 */
import { ArgumentError } from "../errors.js";

/** Arithmetic mean; NaN for an empty input. */
export function mean(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i]!;
  return s / n;
}

/** Variance with `ddof` delta degrees of freedom (default 1, like pandas `.var()`); NaN when n <= ddof. */
export function variance(xs: ArrayLike<number>, ddof = 1): number {
  const n = xs.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - m;
    s += d * d;
  }
  return s / (n - ddof);
}

/** Standard deviation with `ddof` (default 1, like pandas `.std()`). */
export function std(xs: ArrayLike<number>, ddof = 1): number {
  return Math.sqrt(variance(xs, ddof));
}

/** Standard error of the mean, `std(ddof=1) / sqrt(n)`, exactly as pandas `Series.sem()`. */
export function sem(xs: ArrayLike<number>): number {
  return std(xs, 1) / Math.sqrt(xs.length);
}

/** Median (average of the two middle values for even n); NaN for an empty input. */
export function median(xs: ArrayLike<number>): number {
  return quantile(xs, 0.5);
}

/**
 * Quantile with linear interpolation between order statistics (Hyndman & Fan type 7, numpy's default).
 * `q` in [0, 1]. NaN for an empty input.
 */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const n = xs.length;
  if (n === 0) return NaN;
  if (!(q >= 0 && q <= 1)) throw new ArgumentError("q", `quantile q must be in [0, 1], got ${q}`);
  const s = Float64Array.from(xs as ArrayLike<number>).sort();
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

/**
 * Ranks starting at 1, ties receiving the average of the ranks they span ("fractional" ranking, as
 * `scipy.stats.rankdata(method="average")`).
 */
export function averageRanks(xs: ArrayLike<number>): Float64Array {
  const n = xs.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => xs[a]! - xs[b]! || a - b);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && xs[idx[j + 1]!] === xs[idx[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]!] = r;
    i = j + 1;
  }
  return ranks;
}

/** Pearson product-moment correlation. NaN if either input is constant or lengths are < 2. */
export function pearson(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  const n = xs.length;
  if (ys.length !== n) throw new ArgumentError("ys", `pearson: length mismatch ${n} vs ${ys.length}`);
  if (n < 2) return NaN;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman rank correlation: Pearson correlation of average ranks (ties handled like scipy's `spearmanr`). */
export function spearman(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  if (ys.length !== xs.length) throw new ArgumentError("ys", `spearman: length mismatch ${xs.length} vs ${ys.length}`);
  return pearson(averageRanks(xs), averageRanks(ys));
}

/** Logistic sigmoid, numerically stable for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** `log(1 + exp(z))`, numerically stable. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** `n` points evenly spaced in log10 space from 10^start to 10^stop inclusive (numpy `logspace`). */
export function logspace(start: number, stop: number, n: number): number[] {
  if (n === 1) return [10 ** start];
  return Array.from({ length: n }, (_, i) => 10 ** (start + ((stop - start) * i) / (n - 1)));
}
