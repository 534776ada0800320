/**
 * Preference objectives over per-sequence log-probabilities (sums over a sequence's tokens): the DPO family,
 * SimPO, ORPO and LiPO-lambda. Each returns the mean loss over the batch and the gradient of that mean with
 * respect to every input log-probability of the policy, so any trainer can chain it into its own parameters.
 *
 * Notation: l+ = log pi(y_w|x) - log ref(y_w|x), l- = log pi(y_l|x) - log ref(y_l|x), D = l+ - l-.
 */
import { Checks } from "./validate.js";
import { log1mexp, sigmoid, softplus } from "./math.js";

export interface PairBatch {
  /** Policy log pi(y_w|x) per pair (summed over tokens). */
  chosen: ArrayLike<number>;
  /** Policy log pi(y_l|x) per pair. */
  rejected: ArrayLike<number>;
  /** Reference log-probabilities (DPO, IPO, cDPO). */
  refChosen?: ArrayLike<number>;
  refRejected?: ArrayLike<number>;
  /** Token counts (SimPO, ORPO; IPO with `lengthNormalize`). */
  chosenLength?: ArrayLike<number>;
  rejectedLength?: ArrayLike<number>;
}

export interface PairLoss {
  /** Mean loss over the pairs. */
  loss: number;
  /** d loss / d chosen[i]. */
  dChosen: number[];
  /** d loss / d rejected[i]. */
  dRejected: number[];
  /**
   * Per-pair implicit reward margin: beta * D for DPO/cDPO/IPO (TRL's `rewards/margins`), beta times the
   * per-token log-prob difference for SimPO, and the log odds ratio for ORPO. Positive = chosen preferred.
   */
  margin: number[];
}

interface ReadPairs {
  n: number;
  c: Float64Array;
  r: Float64Array;
  rc: Float64Array;
  rr: Float64Array;
  lc: Float64Array;
  lr: Float64Array;
}

function readPairs(
  checks: Checks,
  b: PairBatch,
  need: { reference: boolean; lengths: boolean },
): ReadPairs {
  if (b === null || typeof b !== "object") {
    checks.add("(root)", "must be an object with chosen and rejected log-probabilities");
    checks.done();
  }
  const c = checks.vector("chosen", b.chosen, { nonEmpty: true });
  const n = c.length;
  const r = checks.vector("rejected", b.rejected, { length: n, lengthOf: "chosen" });
  const rc = need.reference ? checks.vector("refChosen", b.refChosen, { length: n, lengthOf: "chosen" }) : new Float64Array(0);
  const rr = need.reference ? checks.vector("refRejected", b.refRejected, { length: n, lengthOf: "chosen" }) : new Float64Array(0);
  let lc: Float64Array = new Float64Array(0);
  let lr: Float64Array = new Float64Array(0);
  if (need.lengths) {
    lc = checks.vector("chosenLength", b.chosenLength, { length: n, lengthOf: "chosen" });
    lr = checks.vector("rejectedLength", b.rejectedLength, { length: n, lengthOf: "chosen" });
    for (const [path, v] of [["chosenLength", lc], ["rejectedLength", lr]] as const) {
      for (let i = 0; i < v.length; i++) {
        if (!(v[i]! > 0)) {
          checks.add(`${path}.${i}`, `must be a positive token count, got ${v[i]}`);
          break;
        }
      }
    }
  }
  checks.done();
  return { n, c, r, rc, rr, lc, lr };
}

function beta(checks: Checks, value: unknown): number {
  return checks.scalar("beta", value, { required: true, min: 0, minExclusive: true });
}

/**
 * DPO (Rafailov et al. 2023, "Direct Preference Optimization"): -log sigma(beta D).
 * With `labelSmoothing` = eps > 0 it is conservative DPO (Mitchell 2023, "A note on DPO with noisy
 * preferences"): -(1-eps) log sigma(beta D) - eps log sigma(-beta D), exactly TRL's `sigmoid` loss with
 * `label_smoothing`. TRL's separate `robust` loss (Chowdhury et al. 2024) is a different, unbiased variant
 * and is not what this computes.
 */
export function dpoLoss(b: PairBatch, o: { beta: number; labelSmoothing?: number }): PairLoss {
  const checks = new Checks("dpoLoss input");
  const bt = beta(checks, o?.beta);
  const eps = checks.scalar("labelSmoothing", o?.labelSmoothing, { fallback: 0, min: 0, max: 0.5, maxExclusive: true });
  const { n, c, r, rc, rr } = readPairs(checks, b, { reference: true, lengths: false });
  const dChosen = new Array<number>(n);
  const dRejected = new Array<number>(n);
  const margin = new Array<number>(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const z = bt * (c[i]! - rc[i]! - (r[i]! - rr[i]!));
    // Both terms in softplus form: -log sigma(z) = softplus(-z), finite for any finite z.
    loss += (1 - eps) * softplus(-z) + (eps > 0 ? eps * softplus(z) : 0);
    const dz = (-(1 - eps) * sigmoid(-z) + eps * sigmoid(z)) / n;
    dChosen[i] = bt * dz;
    dRejected[i] = -bt * dz;
    margin[i] = z;
  }
  return { loss: loss / n, dChosen, dRejected, margin };
}

/**
 * IPO (Azar et al. 2023, "A General Theoretical Paradigm to Understand Learning from Human Preferences"):
 * (D - 1/(2 beta))^2, minimised at D = 1/(2 beta). The paper uses sequence log-probabilities; TRL's `ipo`
 * averages them per token first. The default follows the paper; `lengthNormalize: true` follows TRL and
 * then needs `chosenLength`/`rejectedLength`.
 */
export function ipoLoss(b: PairBatch, o: { beta: number; lengthNormalize?: boolean }): PairLoss {
  const checks = new Checks("ipoLoss input");
  const bt = beta(checks, o?.beta);
  const norm = o?.lengthNormalize === true;
  const { n, c, r, rc, rr, lc, lr } = readPairs(checks, b, { reference: true, lengths: norm });
  const target = 1 / (2 * bt);
  const dChosen = new Array<number>(n);
  const dRejected = new Array<number>(n);
  const margin = new Array<number>(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const sc = norm ? 1 / lc[i]! : 1;
    const sr = norm ? 1 / lr[i]! : 1;
    const d = (c[i]! - rc[i]!) * sc - (r[i]! - rr[i]!) * sr;
    const e = d - target;
    loss += e * e;
    dChosen[i] = (2 * e * sc) / n;
    dRejected[i] = (-2 * e * sr) / n;
    margin[i] = bt * d;
  }
  return { loss: loss / n, dChosen, dRejected, margin };
}

/**
 * SimPO (Meng et al. 2024, "Simple Preference Optimization with a Reference-Free Reward"):
 * -log sigma(beta (log pi(y_w)/|y_w| - log pi(y_l)/|y_l|) - gamma), no reference model. `labelSmoothing`
 * smooths it as TRL's CPOTrainer does with `loss_type="simpo"` (TRL writes gamma as beta * gamma_beta_ratio).
 */
export function simpoLoss(b: PairBatch, o: { beta: number; gamma: number; labelSmoothing?: number }): PairLoss {
  const checks = new Checks("simpoLoss input");
  const bt = beta(checks, o?.beta);
  const gamma = checks.scalar("gamma", o?.gamma, { required: true });
  const eps = checks.scalar("labelSmoothing", o?.labelSmoothing, { fallback: 0, min: 0, max: 0.5, maxExclusive: true });
  const { n, c, r, lc, lr } = readPairs(checks, b, { reference: false, lengths: true });
  const dChosen = new Array<number>(n);
  const dRejected = new Array<number>(n);
  const margin = new Array<number>(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const m = bt * (c[i]! / lc[i]! - r[i]! / lr[i]!);
    const z = m - gamma;
    loss += (1 - eps) * softplus(-z) + (eps > 0 ? eps * softplus(z) : 0);
    const dz = (-(1 - eps) * sigmoid(-z) + eps * sigmoid(z)) / n;
    dChosen[i] = (bt * dz) / lc[i]!;
    dRejected[i] = (-bt * dz) / lr[i]!;
    margin[i] = m;
  }
  return { loss: loss / n, dChosen, dRejected, margin };
}

/**
 * ORPO (Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model"):
 * -log pi(y_w)/|y_w| + lambda * -log sigma(log odds(y_w) - log odds(y_l)), where odds(y) = p/(1-p) with
 * log p the per-token mean log-prob, as in the paper and TRL's ORPOTrainer (whose `beta` is this lambda).
 * TRL takes the NLL term as a token-weighted mean over the whole batch; here it is the mean over pairs of each
 * chosen sequence's per-token NLL, so every pair weighs the same. Needs mean log-probs < 0 (p < 1).
 */
export function orpoLoss(b: PairBatch, o: { lambda: number }): PairLoss {
  const checks = new Checks("orpoLoss input");
  const lambda = checks.scalar("lambda", o?.lambda, { required: true, min: 0 });
  const { n, c, r, lc, lr } = readPairs(checks, b, { reference: false, lengths: true });
  for (const [path, v, len] of [["chosen", c, lc], ["rejected", r, lr]] as const) {
    for (let i = 0; i < n; i++) {
      if (!(v[i]! / len[i]! < 0)) {
        checks.add(`${path}.${i}`, `must be a log-probability below 0 (ORPO's odds need p < 1), got ${v[i]}`);
        break;
      }
    }
  }
  checks.done();
  const dChosen = new Array<number>(n);
  const dRejected = new Array<number>(n);
  const margin = new Array<number>(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const aw = c[i]! / lc[i]!;
    const al = r[i]! / lr[i]!;
    // log odds(a) = a - log(1 - e^a); its derivative is 1 / (1 - e^a) = 1 / -expm1(a).
    const z = aw - log1mexp(aw) - (al - log1mexp(al));
    loss += -aw + lambda * softplus(-z);
    const dz = -lambda * sigmoid(-z);
    dChosen[i] = (-1 + dz / -Math.expm1(aw)) / lc[i]! / n;
    dRejected[i] = (-dz / -Math.expm1(al)) / lr[i]! / n;
    margin[i] = z;
  }
  return { loss: loss / n, dChosen, dRejected, margin };
}

export interface ListGroup {
  /** Policy log-probabilities of one prompt's candidates. */
  logp: ArrayLike<number>;
  /** Reference log-probabilities; without them the scores are beta * logp (reference-free). */
  refLogp?: ArrayLike<number>;
  /** Graded labels, higher = better; equal labels form no pair. */
  labels: ArrayLike<number>;
}

export interface LipoOptions {
  beta: number;
  /**
   * Which ranking sets the DCG discounts 1/log2(1 + rank). "scores" (default, as in the paper and LambdaLoss):
   * the ranks of the current scores s_i, held constant in the gradient. "labels": the ranks of the labels, so
   * the weights are fixed per list.
   */
  rankBy?: "scores" | "labels";
}

/**
 * LiPO-lambda (Liu et al. 2024, "LiPO: Listwise Preference Optimization through Learning-to-Rank"), per list:
 * sum over pairs with psi_i > psi_j of Delta_ij * -log sigma(s_i - s_j), s_i = beta (log pi(y_i) - log ref(y_i)),
 * Delta_ij = |G_i - G_j| * |1/D(tau_i) - 1/D(tau_j)| with gain G = 2^psi - 1, discount D(tau) = log2(1 + tau)
 * and tau the 1-based rank (ties broken by position). The loss is the mean over lists of each list's sum.
 */
export function lipoLambdaLoss(groups: ListGroup[], o: LipoOptions): { loss: number; dLogp: number[][] } {
  const checks = new Checks("lipoLambdaLoss input");
  const bt = beta(checks, o?.beta);
  const rankBy = o?.rankBy ?? "scores";
  if (rankBy !== "scores" && rankBy !== "labels") checks.add("rankBy", `must be "scores" or "labels", got ${String(rankBy)}`);
  if (!Array.isArray(groups) || groups.length === 0) {
    checks.add("groups", "must be a non-empty array of lists");
    checks.done();
  }
  const read = groups.map((g, k) => {
    const logp = checks.vector(`groups.${k}.logp`, g?.logp, { nonEmpty: true });
    const labels = checks.vector(`groups.${k}.labels`, g?.labels, { length: logp.length, lengthOf: `groups.${k}.logp` });
    const ref = g?.refLogp === undefined ? undefined : checks.vector(`groups.${k}.refLogp`, g.refLogp, { length: logp.length, lengthOf: `groups.${k}.logp` });
    return { logp, labels, ref };
  });
  checks.done();
  const m = groups.length;
  let loss = 0;
  const dLogp: number[][] = [];
  for (const { logp, labels, ref } of read) {
    const k = logp.length;
    const s = new Float64Array(k);
    for (let i = 0; i < k; i++) s[i] = bt * (logp[i]! - (ref ? ref[i]! : 0));
    const key = rankBy === "scores" ? s : labels;
    const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => key[b]! - key[a]! || a - b);
    const invDiscount = new Float64Array(k);
    for (let pos = 0; pos < k; pos++) invDiscount[order[pos]!] = 1 / Math.log2(2 + pos);
    const gain = new Float64Array(k);
    for (let i = 0; i < k; i++) gain[i] = 2 ** labels[i]! - 1;
    const ds = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        if (!(labels[i]! > labels[j]!)) continue;
        const w = Math.abs(gain[i]! - gain[j]!) * Math.abs(invDiscount[i]! - invDiscount[j]!);
        if (w === 0) continue;
        const z = s[i]! - s[j]!;
        loss += w * softplus(-z);
        const g = w * sigmoid(-z);
        ds[i]! -= g;
        ds[j]! += g;
      }
    }
    const row = new Array<number>(k);
    for (let i = 0; i < k; i++) row[i] = (bt * ds[i]!) / m;
    dLogp.push(row);
  }
  return { loss: loss / m, dLogp };
}
