/**
 * Percentile bootstrap of a mean, resampling clusters: units that are not independent (the six comparisons among
 * one question's four answers) are drawn together, so the interval is not too narrow.
 */
import { createRng } from "./random.js";
import { quantile } from "./stats.js";
import { ArgumentError } from "../errors.js";

export interface BootstrapInterval {
  /** The mean over all units. */
  mean: number;
  lo: number;
  hi: number;
  level: number;
  resamples: number;
  units: number;
  clusters: number;
}

/**
 * The mean of `values` with a percentile bootstrap interval. With `clusters` (one key per value), whole clusters
 * are resampled and the mean is the ratio of summed values to summed counts; without, every value is its own
 * cluster. Deterministic for a seed.
 */
export function bootstrapMean(
  values: ArrayLike<number>,
  opts: { clusters?: ArrayLike<string | number>; resamples?: number; seed?: number; level?: number } = {},
): BootstrapInterval {
  const n = values.length;
  const level = opts.level ?? 0.95;
  const resamples = opts.resamples ?? 2000;
  if (!(level > 0 && level < 1)) throw new ArgumentError("level", `level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new ArgumentError("resamples", `resamples must be a positive integer, got ${resamples}`);
  if (opts.clusters && opts.clusters.length !== n) throw new ArgumentError("clusters", `clusters has ${opts.clusters.length} keys for ${n} values`);
  const index = new Map<string | number, number>();
  const sums: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = opts.clusters ? opts.clusters[i]! : i;
    let c = index.get(k);
    if (c === undefined) {
      c = sums.length;
      index.set(k, c);
      sums.push(0);
      counts.push(0);
    }
    sums[c]! += values[i]!;
    counts[c]! += 1;
  }
  const m = sums.length;
  const total = sums.reduce((a, b) => a + b, 0);
  const mean = n ? total / n : NaN;
  if (m === 0) return { mean, lo: NaN, hi: NaN, level, resamples, units: 0, clusters: 0 };
  const rng = createRng(opts.seed ?? 0);
  const stats = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    let c = 0;
    for (let j = 0; j < m; j++) {
      const k = rng.int(m);
      s += sums[k]!;
      c += counts[k]!;
    }
    stats[b] = s / c;
  }
  const alpha = (1 - level) / 2;
  return { mean, lo: quantile(stats, alpha), hi: quantile(stats, 1 - alpha), level, resamples, units: n, clusters: m };
}
