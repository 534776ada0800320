/**
 * Evaluation of pairwise predictions: accuracy, log-loss, expected calibration error, Brier score, and accuracy
 * by margin bucket; and temperature scaling, the one-parameter calibration of a logit.
 */
import { sigmoid, softplus } from "./logistic.js";

export interface MarginBucket {
  /** Bucket bounds on |predicted margin| (logit units, after temperature): [lo, hi). */
  lo: number;
  hi: number;
  pairs: number;
  accuracy: number;
}

export interface PairMetrics {
  /** Pairs evaluated (ties in the labels are counted in log-loss only). */
  pairs: number;
  /** Share of non-tie pairs ranked the labelled way (a predicted tie counts half). */
  accuracy: number;
  /** Mean cross-entropy between the labels (soft) and the predicted probabilities, in nats. */
  logLoss: number;
  /** Mean squared error of the predicted probability. */
  brier: number;
  /** Expected calibration error over `bins` equal-width bins of confidence (max(p, 1 − p)). */
  ece: number;
  /** Accuracy by quantile bucket of the predicted |margin|: confident predictions should be right more often. */
  byMargin: MarginBucket[];
  /** Accuracy by the labels' stated strength, when pairs state one. */
  byStrength?: Array<{ lo: number; hi: number; pairs: number; accuracy: number }>;
}

/**
 * Metrics of predicted margins `z` (logit of P(chosen ≻ rejected)) against labels `y` (P(chosen ≻ rejected),
 * 0.5 for a tie). `strength` (optional, in [0, 1]) adds accuracy by stated strength.
 */
export function pairMetrics(
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: { bins?: number; buckets?: number; strength?: ArrayLike<number | undefined> } = {},
): PairMetrics {
  const n = z.length;
  const bins = opts.bins ?? 10;
  const nb = opts.buckets ?? 4;
  let correct = 0;
  let decided = 0;
  let ll = 0;
  let brier = 0;
  const binCount = new Float64Array(bins);
  const binConf = new Float64Array(bins);
  const binAcc = new Float64Array(bins);
  const hit = new Float64Array(n).fill(NaN);
  for (let i = 0; i < n; i++) {
    const zi = z[i]!;
    const yi = y[i]!;
    const p = sigmoid(zi);
    ll += softplus(zi) - yi * zi; // −[y log σ(z) + (1 − y) log σ(−z)]
    brier += (p - yi) * (p - yi);
    if (yi === 0.5) continue;
    const h = zi === 0 ? 0.5 : (zi > 0) === (yi > 0.5) ? 1 : 0;
    hit[i] = h;
    correct += h;
    decided++;
    const conf = Math.max(p, 1 - p);
    const b = Math.min(bins - 1, Math.floor(((conf - 0.5) / 0.5) * bins));
    binCount[b]! += 1;
    binConf[b]! += conf;
    binAcc[b]! += h;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (binCount[b]! > 0) ece += (binCount[b]! / Math.max(1, decided)) * Math.abs(binAcc[b]! / binCount[b]! - binConf[b]! / binCount[b]!);

  // Quantile buckets of |z| among decided pairs.
  const idx = [...Array(n).keys()].filter((i) => !Number.isNaN(hit[i]!)).sort((a, b) => Math.abs(z[a]!) - Math.abs(z[b]!));
  const byMargin: MarginBucket[] = [];
  for (let k = 0; k < nb && idx.length > 0; k++) {
    const s = Math.floor((k * idx.length) / nb);
    const e = Math.floor(((k + 1) * idx.length) / nb);
    if (e <= s) continue;
    let acc = 0;
    for (let t = s; t < e; t++) acc += hit[idx[t]!]!;
    byMargin.push({
      lo: Math.abs(z[idx[s]!]!),
      hi: k === nb - 1 ? Infinity : Math.abs(z[idx[e]!] ?? Infinity),
      pairs: e - s,
      accuracy: acc / (e - s),
    });
  }
  const out: PairMetrics = {
    pairs: n,
    accuracy: decided ? correct / decided : NaN,
    logLoss: n ? ll / n : NaN,
    brier: n ? brier / n : NaN,
    ece,
    byMargin,
  };
  if (opts.strength && Array.from(opts.strength).some((s) => s !== undefined)) {
    const edges = [0, 0.25, 0.5, 0.75, 1.0000001];
    out.byStrength = [];
    for (let k = 0; k + 1 < edges.length; k++) {
      let m = 0;
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const s = opts.strength[i];
        if (s === undefined || Number.isNaN(hit[i]!) || s < edges[k]! || s >= edges[k + 1]!) continue;
        m++;
        acc += hit[i]!;
      }
      if (m) out.byStrength.push({ lo: edges[k]!, hi: Math.min(1, edges[k + 1]!), pairs: m, accuracy: acc / m });
    }
  }
  return out;
}

/**
 * Temperature scaling: the T > 0 minimising the log-loss of σ(z / T) against `y` (Guo et al. 2017). Newton's
 * method on log T; T = 1 when every margin is 0.
 */
export function fitTemperature(z: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = z.length;
  let any = false;
  for (let i = 0; i < n; i++) if (z[i] !== 0) any = true;
  if (!any) return 1;
  // Minimise over a = 1/T (convex in a): L(a) = Σ softplus(a z) − y a z.
  const loss = (a: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += softplus(a * z[i]!) - y[i]! * a * z[i]!;
    return s;
  };
  let a = 1;
  for (let it = 0; it < 100; it++) {
    let g = 0;
    let h = 0;
    for (let i = 0; i < n; i++) {
      const zi = z[i]!;
      const p = sigmoid(a * zi);
      g += (p - y[i]!) * zi;
      h += p * (1 - p) * zi * zi;
    }
    if (h <= 1e-300) break;
    let step = g / h;
    const f0 = loss(a);
    let next = a - step;
    for (let k = 0; k < 30 && (next <= 0 || loss(next) > f0); k++) {
      step /= 2;
      next = a - step;
    }
    if (next <= 0) break;
    if (Math.abs(next - a) <= 1e-10 * Math.max(1, a)) {
      a = next;
      break;
    }
    a = next;
  }
  // All-correct, separable data push a to infinity: cap the sharpening.
  a = Math.min(Math.max(a, 1e-3), 1e3);
  return 1 / a;
}
