/**
 * Exact measurement of a policy on the environment's instructions: expectations under pi(·|x) over the finite
 * candidate sets, so two policies are compared without sampling noise.
 */
import { DesignBuilder, fitL1LogisticCV } from "../eval/index.js";
import { logspace, sigmoid } from "../eval/index.js";
import type { LabEnvironment } from "./environment.js";

/** A policy's distribution over an instruction's candidates (probabilities in candidate order). */
export type PolicyDistribution = (instruction: number) => Float64Array;

export interface PolicyMeasurement {
  /** 100 × E_x E_{y~pi} gold(x, y): the expected AlpacaEval win rate against the reference. */
  winRate: number;
  /** Expected length in characters. */
  length: number;
  /** E_x KL(pi(·|x) || uniform), in nats. */
  kl: number;
  /** E_x E_{y~pi} proxy(x, y), when a proxy reward is given. */
  proxyReward?: number;
}

/**
 * Expected win rate, length, KL to the uniform reference policy and (optionally) proxy reward over `instructions`.
 * `proxy` holds one reward per candidate row of the environment.
 */
export function measurePolicy(env: LabEnvironment, dist: PolicyDistribution, instructions: readonly number[], proxy?: Float64Array): PolicyMeasurement {
  let win = 0;
  let len = 0;
  let kl = 0;
  let pr = 0;
  for (const i of instructions) {
    const p = dist(i);
    const cands = env.instructions[i]!.candidates;
    const r0 = env.features.start[i]!;
    const logK = Math.log(cands.length);
    for (let y = 0; y < cands.length; y++) {
      const q = p[y]!;
      if (q === 0) continue;
      win += q * cands[y]!.gold;
      len += q * cands[y]!.length;
      kl += q * (Math.log(q) + logK);
      if (proxy) pr += q * proxy[r0 + y]!;
    }
  }
  const n = instructions.length;
  const m: PolicyMeasurement = { winRate: (100 * win) / n, length: len / n, kl: Math.max(0, kl / n) };
  if (proxy) m.proxyReward = pr / n;
  return m;
}

/**
 * The length-controlled win rate (Dubois et al. 2024, AlpacaEval's GLM `length_controlled_v1`, without gamed
 * baselines) of a policy, exactly: the GLM logit P = θ_len·tanh(Δ/σ) + θ_diff·γ_x + θ_m is fitted to every
 * (instruction, candidate) row with sample weight pi(y|x), so the fit is the one AlpacaEval's would converge to on
 * outputs sampled from pi (each instruction weighs 1 in all, as with one output per instruction). σ is the
 * pi-weighted standard deviation of Δ = len(reference) − len(y) with AlpacaEval's ddof = 1 taken over
 * instructions; folds of the cross-validated L1 fit group rows by instruction. LC = 100 · mean_x σ(θ_diff γ_x + θ_m).
 */
export function lengthControlledWinRate(env: LabEnvironment, dist: PolicyDistribution, instructions: readonly number[]): number {
  const rows: Array<{ i: number; delta: number; gold: number; w: number; fold: number }> = [];
  let allReference = true;
  instructions.forEach((i, pos) => {
    const p = dist(i);
    const ins = env.instructions[i]!;
    const refLen = ins.candidates[ins.reference]!.length;
    ins.candidates.forEach((c, y) => {
      if (p[y]! <= 1e-12) return;
      if (y !== ins.reference) allReference = false;
      rows.push({ i, delta: refLen - c.length, gold: c.gold, w: p[y]!, fold: pos % 5 });
    });
  });
  if (allReference) return 50;
  const n = instructions.length;
  let sw = 0;
  let mean = 0;
  for (const r of rows) {
    sw += r.w;
    mean += r.w * r.delta;
  }
  mean /= sw;
  let ss = 0;
  for (const r of rows) ss += r.w * (r.delta - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (sw * (1 - 1 / n))) : 0;
  const builder = new DesignBuilder(3);
  for (const r of rows) builder.addRow([0, 1, 2], [sd > 0 ? Math.tanh(r.delta / sd) : 0, env.difficulty[r.i]!, 1]);
  const fit = fitL1LogisticCV(
    builder.build(),
    rows.map((r) => r.gold),
    rows.map((r) => r.w),
    { Cs: logspace(-4, 4, 10), folds: rows.map((r) => r.fold) },
  );
  const bDiff = fit.coef[1]!;
  const bNg = fit.coef[2]!;
  let s = 0;
  for (const i of instructions) s += sigmoid(bDiff * env.difficulty[i]! + bNg);
  return (100 * s) / n;
}

/**
 * The policy's probability (%) on candidates whose output is the same string for every instruction (the
 * environment's `constant.models` kept in), averaged over `instructions`: how much of it went to gaming the judge.
 */
export function constantShare(env: LabEnvironment, dist: PolicyDistribution, instructions: readonly number[]): number {
  const constant = new Set(env.constant.models.filter((m) => !env.constant.leftOut.includes(m)));
  if (constant.size === 0 || instructions.length === 0) return 0;
  let s = 0;
  for (const i of instructions) {
    const p = dist(i);
    env.instructions[i]!.candidates.forEach((c, y) => {
      if (constant.has(c.model)) s += p[y]!;
    });
  }
  return (100 * s) / instructions.length;
}

/** The uniform (initial, reference) policy. */
export const uniformDistribution =
  (env: LabEnvironment): PolicyDistribution =>
  (i) => {
    const k = env.instructions[i]!.candidates.length;
    return new Float64Array(k).fill(1 / k);
  };
