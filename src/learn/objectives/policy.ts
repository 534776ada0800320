/**
 * Policy-gradient pieces over per-sequence log-probabilities: KL estimators, advantage estimators and the
 * REINFORCE / PPO surrogate losses. Losses are means over the batch; gradients are of that mean.
 */
import { Checks } from "./validate.js";

/** Schulman's estimators of KL(pi || ref) from samples of pi. */
export type KlEstimator = "k1" | "k2" | "k3";

export interface KlPenalty {
  /** Mean of the estimator over the samples. */
  value: number;
  /** d value / d logp[i], with the samples held fixed. */
  dLogp: number[];
  /** The estimator per sample (to subtract from rewards, as PPO-style RLHF does). */
  perSample: number[];
}

/**
 * KL estimators (Schulman 2020, "Approximating KL divergence"), with d = log pi(y) - log ref(y), y ~ pi:
 * k1 = d (unbiased, can be negative), k2 = d^2 / 2 (biased, low variance), k3 = (e^-d - 1) + d (unbiased,
 * always >= 0). verl names them kl/mse/low_var_kl and OpenRLHF k1/k2/k3; verl clamps d to [-20, 20] for k3
 * and OpenRLHF to [-10, 10]. Here nothing is clamped unless `clampLogRatio` is given (then, as with a clamp,
 * samples beyond it get zero gradient). k3 overflows to Infinity once -d exceeds about 709.
 */
export function klPenalty(
  x: { logp: ArrayLike<number>; refLogp: ArrayLike<number> },
  estimator: KlEstimator,
  o?: { clampLogRatio?: number },
): KlPenalty {
  const checks = new Checks("klPenalty input");
  if (estimator !== "k1" && estimator !== "k2" && estimator !== "k3") {
    checks.add("estimator", `must be "k1", "k2" or "k3", got ${String(estimator)}`);
  }
  const clamp = checks.scalar("clampLogRatio", o?.clampLogRatio, { fallback: Number.POSITIVE_INFINITY, min: 0, minExclusive: true });
  const logp = checks.vector("logp", x?.logp, { nonEmpty: true });
  const ref = checks.vector("refLogp", x?.refLogp, { length: logp.length, lengthOf: "logp" });
  checks.done();
  const n = logp.length;
  const dLogp = new Array<number>(n);
  const perSample = new Array<number>(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let d = logp[i]! - ref[i]!;
    let live = 1;
    if (d > clamp || d < -clamp) {
      d = d > clamp ? clamp : -clamp;
      live = 0;
    }
    let v: number;
    let g: number;
    if (estimator === "k1") [v, g] = [d, 1];
    else if (estimator === "k2") [v, g] = [0.5 * d * d, d];
    // expm1 keeps k3 accurate (and >= 0) when d is near 0, where e^-d - 1 + d cancels.
    else [v, g] = [Math.expm1(-d) + d, -Math.expm1(-d)];
    perSample[i] = v;
    sum += v;
    dLogp[i] = live ? g / n : 0;
  }
  return { value: sum / n, dLogp, perSample };
}

/**
 * REINFORCE with a moving-average baseline (Williams 1992): A_i = r_i - b, using the baseline from before this
 * batch (so it does not depend on the batch and the gradient stays unbiased); then
 * b' = momentum * b + (1 - momentum) * mean(r). Default momentum 0.9.
 */
export function reinforceAdvantages(
  rewards: ArrayLike<number>,
  o: { baseline: number; momentum?: number },
): { advantages: number[]; baseline: number } {
  const checks = new Checks("reinforceAdvantages input");
  const b = checks.scalar("baseline", o?.baseline, { required: true });
  const m = checks.scalar("momentum", o?.momentum, { fallback: 0.9, min: 0, max: 1 });
  const r = checks.vector("rewards", rewards);
  checks.done();
  const n = r.length;
  if (n === 0) return { advantages: [], baseline: b };
  const advantages = new Array<number>(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    advantages[i] = r[i]! - b;
    sum += r[i]!;
  }
  return { advantages, baseline: m * b + (1 - m) * (sum / n) };
}

function groupMeans(r: Float64Array, g: number): Float64Array {
  const means = new Float64Array(r.length / g);
  for (let k = 0; k < means.length; k++) {
    let s = 0;
    for (let i = k * g; i < (k + 1) * g; i++) s += r[i]!;
    means[k] = s / g;
  }
  return means;
}

/**
 * RLOO (Kool et al. 2019, "Buy 4 REINFORCE Samples, Get a Baseline for Free!"; Ahmadian et al. 2024, "Back to
 * Basics"): A_i = r_i - mean of the other k-1 rewards of the same prompt = k/(k-1) (r_i - mean). groupSize >= 2.
 */
export function rlooAdvantages(rewards: ArrayLike<number>, o: { groupSize: number }): number[] {
  const checks = new Checks("rlooAdvantages input");
  const r = checks.vector("rewards", rewards);
  const g = checks.groupSize("groupSize", o?.groupSize, r.length, 2);
  checks.done();
  const out = new Array<number>(r.length);
  for (let k = 0; k < r.length / g; k++) {
    let s = 0;
    for (let i = k * g; i < (k + 1) * g; i++) s += r[i]!;
    for (let i = k * g; i < (k + 1) * g; i++) out[i] = r[i]! - (s - r[i]!) / (g - 1);
  }
  return out;
}

/**
 * GRPO (Shao et al. 2024, "DeepSeekMath"): A_i = (r_i - mean_group) / (std_group + eps), with the unbiased
 * (n-1) standard deviation as TRL, verl and OpenRLHF compute it (torch.std). `scaleByStd: false` is Dr. GRPO
 * (Liu et al. 2025, "Understanding R1-Zero-Like Training"): A_i = r_i - mean_group. eps defaults to 1e-6 as in
 * verl (TRL adds 1e-4, OpenRLHF 1e-9). groupSize >= 2.
 */
export function grpoAdvantages(
  rewards: ArrayLike<number>,
  o: { groupSize: number; scaleByStd?: boolean; eps?: number },
): number[] {
  const checks = new Checks("grpoAdvantages input");
  const r = checks.vector("rewards", rewards);
  const g = checks.groupSize("groupSize", o?.groupSize, r.length, 2);
  const eps = checks.scalar("eps", o?.eps, { fallback: 1e-6, min: 0 });
  checks.done();
  const scale = o?.scaleByStd !== false;
  const means = groupMeans(r, g);
  const out = new Array<number>(r.length);
  for (let k = 0; k < means.length; k++) {
    const mu = means[k]!;
    let denom = 1;
    if (scale) {
      let ss = 0;
      for (let i = k * g; i < (k + 1) * g; i++) ss += (r[i]! - mu) ** 2;
      denom = Math.sqrt(ss / (g - 1)) + eps;
    }
    for (let i = k * g; i < (k + 1) * g; i++) {
      const c = r[i]! - mu;
      // A group whose rewards are all equal carries no signal: 0, also when eps = 0.
      out[i] = c === 0 ? 0 : c / denom;
    }
  }
  return out;
}

/**
 * REINFORCE++ (Hu 2025, "REINFORCE++"): advantages normalised over the whole batch,
 * A_i = (r_i - mean) / sqrt(max(var, eps)) with the population variance, as OpenRLHF whitens them (there over
 * tokens, here over sequences). With `groupSize` the group mean is subtracted first (OpenRLHF's
 * `reinforce_baseline`, "REINFORCE++-baseline"). eps defaults to 1e-8.
 */
export function reinforcePlusPlusAdvantages(
  rewards: ArrayLike<number>,
  o?: { eps?: number; groupSize?: number },
): number[] {
  const checks = new Checks("reinforcePlusPlusAdvantages input");
  const r = checks.vector("rewards", rewards);
  const eps = checks.scalar("eps", o?.eps, { fallback: 1e-8, min: 0, minExclusive: true });
  const g = o?.groupSize === undefined ? 0 : checks.groupSize("groupSize", o.groupSize, r.length, 1);
  checks.done();
  const n = r.length;
  if (n === 0) return [];
  const a = Float64Array.from(r);
  if (g > 0) {
    const means = groupMeans(r, g);
    for (let i = 0; i < n; i++) a[i] = a[i]! - means[Math.floor(i / g)]!;
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += a[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (a[i]! - mean) ** 2;
  const rstd = 1 / Math.sqrt(Math.max(v / n, eps));
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = (a[i]! - mean) * rstd;
  return out;
}

/**
 * ReMax (Li et al. 2023, "ReMax"): A_i = r_i - r(greedy response of the same prompt); one greedy reward per
 * group of `groupSize` sampled responses.
 */
export function remaxAdvantages(
  rewards: ArrayLike<number>,
  o: { groupSize: number; greedyRewards: ArrayLike<number> },
): number[] {
  const checks = new Checks("remaxAdvantages input");
  const r = checks.vector("rewards", rewards);
  const g = checks.groupSize("groupSize", o?.groupSize, r.length, 1);
  const groups = Number.isInteger(g) && g > 0 && r.length % g === 0 ? r.length / g : undefined;
  const greedy = checks.vector("greedyRewards", o?.greedyRewards, { length: groups, lengthOf: "rewards / groupSize" });
  checks.done();
  const out = new Array<number>(r.length);
  for (let i = 0; i < r.length; i++) out[i] = r[i]! - greedy[Math.floor(i / g)]!;
  return out;
}

function readLogpAdvantages(checks: Checks, x: { logp: ArrayLike<number>; advantages: ArrayLike<number> }) {
  const logp = checks.vector("logp", x?.logp, { nonEmpty: true });
  const adv = checks.vector("advantages", x?.advantages, { length: logp.length, lengthOf: "logp" });
  return { logp, adv };
}

/** The REINFORCE surrogate (Williams 1992): -mean(A_i log pi(y_i)); its gradient is the policy gradient. */
export function policyGradientLoss(x: { logp: ArrayLike<number>; advantages: ArrayLike<number> }): { loss: number; dLogp: number[] } {
  const checks = new Checks("policyGradientLoss input");
  const { logp, adv } = readLogpAdvantages(checks, x);
  checks.done();
  const n = logp.length;
  const dLogp = new Array<number>(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    loss -= adv[i]! * logp[i]!;
    dLogp[i] = -adv[i]! / n;
  }
  return { loss: loss / n, dLogp };
}

export interface PpoOptions {
  /** Lower clip range eps: the ratio is clipped to [1 - clip, 1 + clipHigh]. Default 0.2. */
  clip?: number;
  /** Upper clip range (DAPO's clip-higher, Yu et al. 2025). Defaults to `clip`. */
  clipHigh?: number;
  /**
   * Dual clip c > 1 (Ye et al. 2020, as in verl's clip_ratio_c and OpenRLHF): for A < 0 the loss is capped at
   * -c A, so a huge ratio on a bad sample cannot blow up the loss. Off by default.
   */
  dualClip?: number;
}

export interface PpoLoss {
  loss: number;
  dLogp: number[];
  /** Share of samples whose clipped term is active (zero gradient), as TRL/verl's `clipfrac`. */
  clipFraction: number;
  /** Share of samples capped by the dual clip (0 without it). */
  dualClipFraction: number;
  /** Importance ratios pi / pi_old. */
  ratio: number[];
}

/**
 * PPO's clipped surrogate (Schulman et al. 2017, "Proximal Policy Optimization Algorithms"), per sequence:
 * max(-A rho, -A clip(rho, 1 - eps, 1 + epsHigh)), rho = exp(logp - oldLogp); mean over the batch
 * (sequence-level, as the inputs are sequence log-probs; verl/TRL default to token-level means).
 */
export function ppoClipLoss(
  x: { logp: ArrayLike<number>; oldLogp: ArrayLike<number>; advantages: ArrayLike<number> },
  o?: PpoOptions,
): PpoLoss {
  const checks = new Checks("ppoClipLoss input");
  const lo = checks.scalar("clip", o?.clip, { fallback: 0.2, min: 0, max: 1, minExclusive: true, maxExclusive: true });
  const hi = checks.scalar("clipHigh", o?.clipHigh, { fallback: Number.isFinite(lo) ? lo : 0.2, min: 0, minExclusive: true });
  const dual = checks.scalar("dualClip", o?.dualClip, { fallback: Number.POSITIVE_INFINITY, min: 1, minExclusive: true });
  const { logp, adv } = readLogpAdvantages(checks, x);
  const old = checks.vector("oldLogp", x?.oldLogp, { length: logp.length, lengthOf: "logp" });
  checks.done();
  const n = logp.length;
  const dLogp = new Array<number>(n);
  const ratio = new Array<number>(n);
  let loss = 0;
  let clipped = 0;
  let dualClipped = 0;
  for (let i = 0; i < n; i++) {
    const a = adv[i]!;
    const rho = Math.exp(logp[i]! - old[i]!);
    ratio[i] = rho;
    if (a === 0) {
      dLogp[i] = 0;
      continue;
    }
    const unclipped = -a * rho;
    const clippedTerm = -a * Math.min(Math.max(rho, 1 - lo), 1 + hi);
    let li: number;
    let g: number;
    if (clippedTerm > unclipped) {
      // Clipped branch active: A > 0 with rho > 1 + epsHigh, or A < 0 with rho < 1 - eps. Constant in logp.
      li = clippedTerm;
      g = 0;
      clipped++;
    } else {
      li = unclipped;
      g = -a * rho; // d(-A rho)/d logp
    }
    if (a < 0 && li > -dual * a) {
      li = -dual * a;
      g = 0;
      dualClipped++;
    }
    loss += li;
    dLogp[i] = g / n;
  }
  return { loss: loss / n, dLogp, clipFraction: clipped / n, dualClipFraction: dualClipped / n, ratio };
}
