/**
 * The methods the lab compares, each training a {@link LogLinearPolicy} (or, for best-of-n, defining a policy) on
 * the training instructions from one feedback source. Losses and advantages come from the learn room's objectives;
 * their gradients with respect to log-probabilities are chained into θ exactly.
 */
import { ValidationError } from "../errors.js";
import { type Rng } from "../eval/index.js";
import {
  dpoLoss,
  grpoAdvantages,
  ipoLoss,
  klPenalty,
  lipoLambdaLoss,
  orpoLoss,
  policyGradientLoss,
  ppoClipLoss,
  reinforceAdvantages,
  reinforcePlusPlusAdvantages,
  remaxAdvantages,
  rlooAdvantages,
  simpoLoss,
  type PairBatch,
  type PairLoss,
} from "../learn/objectives/index.js";
import type { LabEnvironment } from "./environment.js";
import type { LabelledPair } from "./feedback.js";
import { type PolicyDistribution } from "./measure.js";
import { Adam, LogLinearPolicy, argmax, logSoftmax, sampleIndex } from "./policy.js";

export const PAIR_METHODS = ["dpo", "ipo", "cdpo", "simpo", "orpo", "lipo"] as const;
export const REWARD_METHODS = ["ppo", "grpo", "rloo", "reinforce++", "remax"] as const;
export const LAB_METHODS = ["best-of-n", "expert-iteration", ...PAIR_METHODS, "online-dpo", ...REWARD_METHODS] as const;
export type LabMethod = (typeof LAB_METHODS)[number];
export type PairMethod = (typeof PAIR_METHODS)[number];
export type RewardMethod = (typeof REWARD_METHODS)[number];

/** Hyperparameters shared by the methods (each uses those that apply to it). */
export interface MethodSettings {
  /** Optimisation steps (best-of-n: none; expert iteration and online DPO: spread over their rounds). */
  steps: number;
  /** Adam learning rate on θ. */
  lr: number;
  /** β of the DPO family (inverse temperature of the implicit reward). */
  beta: number;
  /** cDPO label smoothing ε. */
  labelSmoothing: number;
  /** SimPO's β (its implicit reward is β times the mean log-probability per word, so it needs a larger β). */
  simpoBeta: number;
  /** SimPO target margin γ. */
  simpoGamma: number;
  /** ORPO's λ. */
  orpoLambda: number;
  /** KL penalty coefficient to the reference policy of the policy-gradient methods (0 removes it). */
  klCoef: number;
  /** Instructions per policy-gradient step. */
  batch: number;
  /** Examples per step of the supervised and pairwise methods (pairs, or instructions for expert iteration). */
  minibatch: number;
  /** Samples per instruction (group size of GRPO, RLOO, ReMax; candidates per instruction in expert iteration). */
  group: number;
  /** PPO epochs over each batch. */
  ppoEpochs: number;
  /** n of best-of-n. */
  bestOfN: number;
  /** Rounds of expert iteration and of online DPO. */
  rounds: number;
  /** Curve points: measure every this many steps. */
  evalEvery: number;
}

export const DEFAULT_SETTINGS: MethodSettings = {
  steps: 200,
  lr: 0.02,
  beta: 0.1,
  labelSmoothing: 0.1,
  simpoBeta: 2,
  simpoGamma: 0.5,
  orpoLambda: 1,
  klCoef: 0.05,
  batch: 32,
  minibatch: 64,
  group: 4,
  ppoEpochs: 2,
  bestOfN: 16,
  rounds: 5,
  evalEvery: 10,
};

/** What a method can use. */
export interface MethodContext {
  env: LabEnvironment;
  settings: MethodSettings;
  rng: Rng;
  /** Proxy reward per candidate row (best-of-n, expert iteration, policy gradients). */
  proxy: Float64Array;
  /** The fixed labelled pairs of the offline methods (drawn under the initial policy). */
  offlinePairs: readonly LabelledPair[];
  /** Label a fresh comparison (online DPO): P(a ≻ b) as 1, 0 or 0.5. */
  label: (i: number, a: number, b: number) => number;
  /** Label budget of online DPO. */
  labelBudget: number;
  /** Called every `evalEvery` steps (and at the end) with the current policy. */
  record: (step: number, dist: PolicyDistribution) => void;
}

export interface MethodOutcome {
  dist: PolicyDistribution;
  /** Fresh labels asked for by the method itself (online DPO). */
  freshLabels: number;
}

const policyDist =
  (policy: LogLinearPolicy): PolicyDistribution =>
  (i) =>
    policy.probs(i);

/**
 * Best-of-n under the uniform reference policy, exactly: with the K candidates ranked by proxy reward (ties by
 * position), the best of n independent draws is the candidate of rank k with probability (k/K)^n − ((k−1)/K)^n.
 */
export function bestOfNDistribution(env: LabEnvironment, proxy: Float64Array, n: number): PolicyDistribution {
  return (i) => {
    const k = env.instructions[i]!.candidates.length;
    const r0 = env.features.start[i]!;
    const order = Array.from({ length: k }, (_, y) => y).sort((a, b) => proxy[r0 + a]! - proxy[r0 + b]! || b - a);
    const p = new Float64Array(k);
    order.forEach((y, rank) => (p[y] = ((rank + 1) / k) ** n - (rank / k) ** n));
    return p;
  };
}

/**
 * The optimum of KL-regularised reward maximisation, max E_pi[r] − β KL(pi || ref), in closed form:
 * pi*(y|x) ∝ ref(y|x) exp(r(x, y)/β) (Rafailov et al. 2023, eq. 4), here with the uniform reference. What the
 * policy-gradient methods with KL coefficient β tend to when their policy class can represent it.
 */
export function klOptimumDistribution(env: LabEnvironment, proxy: Float64Array, beta: number): PolicyDistribution {
  if (!(beta > 0)) throw new ValidationError([{ path: "beta", message: `must be positive, got ${beta}` }]);
  return (i) => {
    const k = env.instructions[i]!.candidates.length;
    const r0 = env.features.start[i]!;
    return Float64Array.from(logSoftmax(Array.from({ length: k }, (_, y) => proxy[r0 + y]! / beta)), Math.exp);
  };
}

function runBestOfN(ctx: MethodContext): MethodOutcome {
  const n = ctx.settings.bestOfN;
  for (let m = 1; m < n; m *= 2) ctx.record(m, bestOfNDistribution(ctx.env, ctx.proxy, m));
  const dist = bestOfNDistribution(ctx.env, ctx.proxy, n);
  ctx.record(n, dist);
  return { dist, freshLabels: 0 };
}

/**
 * Expert iteration / rejection-sampling fine-tuning (AlpacaFarm's "expert iteration"; Anthony et al. 2017): each
 * round samples `group` candidates per training instruction from the current policy, keeps the one the proxy
 * reward ranks highest, and fits the policy to those by maximum likelihood.
 */
function runExpertIteration(ctx: MethodContext): MethodOutcome {
  const { env, settings: s, rng } = ctx;
  const policy = LogLinearPolicy.uniform(env);
  const opt = new Adam(env.features.dim, s.lr);
  const perRound = Math.max(1, Math.floor(s.steps / s.rounds));
  let step = 0;
  ctx.record(0, policyDist(policy));
  for (let round = 0; round < s.rounds; round++) {
    const targets: Array<{ i: number; y: number }> = [];
    for (const i of env.train) {
      const p = policy.probs(i);
      const r0 = env.features.start[i]!;
      let best = -1;
      for (let t = 0; t < s.group; t++) {
        const y = sampleIndex(p, rng);
        if (best < 0 || ctx.proxy[r0 + y]! > ctx.proxy[r0 + best]!) best = y;
      }
      targets.push({ i, y: best });
    }
    for (let t = 0; t < perRound; t++) {
      const grad = policy.zeroGrad();
      const mb = minibatch(targets, s.minibatch, rng);
      for (const { i, y } of mb) {
        const p = policy.probs(i);
        const c = new Float64Array(p.length);
        c[y] = -1 / mb.length; // d(mean NLL)/d log pi(y|x)
        policy.addGradient(i, c, p, grad);
      }
      opt.step(policy.theta, grad);
      step++;
      if (step % s.evalEvery === 0) ctx.record(step, policyDist(policy));
    }
  }
  if (step % s.evalEvery !== 0) ctx.record(step, policyDist(policy));
  return { dist: policyDist(policy), freshLabels: 0 };
}

/** One full-batch gradient of a pairwise or listwise objective, chained into θ. */
function pairGradient(env: LabEnvironment, policy: LogLinearPolicy, method: PairMethod, pairs: readonly LabelledPair[], s: MethodSettings): Float64Array {
  const grad = policy.zeroGrad();
  const cache = new Map<number, { p: Float64Array; lp: Float64Array; c: Float64Array }>();
  const at = (i: number) => {
    let e = cache.get(i);
    if (!e) {
      const lp = policy.logProbs(i);
      e = { lp, p: Float64Array.from(lp, Math.exp), c: new Float64Array(lp.length) };
      cache.set(i, e);
    }
    return e;
  };
  if (method === "lipo") {
    // Listwise: the candidates compared on one instruction, labelled by their net wins (a Borda count).
    const lists = new Map<number, Map<number, number>>();
    for (const q of pairs) {
      let m = lists.get(q.instruction);
      if (!m) lists.set(q.instruction, (m = new Map()));
      m.set(q.a, (m.get(q.a) ?? 0) + (2 * q.pA - 1));
      m.set(q.b, (m.get(q.b) ?? 0) + (1 - 2 * q.pA));
    }
    const groups: Array<{ i: number; ys: number[]; labels: number[] }> = [];
    for (const [i, m] of lists) {
      const ys = [...m.keys()].sort((a, b) => a - b);
      const net = ys.map((y) => m.get(y)!);
      const low = Math.min(...net);
      const labels = net.map((v) => v - low); // relevance >= 0: LiPO's gains are 2^label − 1
      if (ys.length < 2 || labels.every((l) => l === labels[0])) continue;
      groups.push({ i, ys, labels });
    }
    if (groups.length === 0) return grad;
    const res = lipoLambdaLoss(
      groups.map((g) => {
        const e = at(g.i);
        const logK = -Math.log(e.lp.length);
        return { logp: g.ys.map((y) => e.lp[y]!), refLogp: g.ys.map(() => logK), labels: g.labels };
      }),
      { beta: s.beta },
    );
    groups.forEach((g, k) => {
      const e = at(g.i);
      g.ys.forEach((y, t) => (e.c[y]! += res.dLogp[k]![t]!));
    });
  } else {
    const decided = pairs.filter((q) => q.pA !== 0.5);
    if (decided.length === 0) return grad;
    const chosen: number[] = [];
    const rejected: number[] = [];
    const ref: number[] = [];
    const cl: number[] = [];
    const rl: number[] = [];
    const sides = decided.map((q) => (q.pA > 0.5 ? [q.a, q.b] : [q.b, q.a]) as [number, number]);
    // ORPO's odds need p < 1: keep a log-probability that rounds to 0 just below it.
    const lpOf = (v: number) => (method === "orpo" ? Math.min(v, -1e-9) : v);
    decided.forEach((q, k) => {
      const e = at(q.instruction);
      const [w, l] = sides[k]!;
      chosen.push(lpOf(e.lp[w]!));
      rejected.push(lpOf(e.lp[l]!));
      ref.push(-Math.log(e.lp.length));
      // SimPO normalises by length (words stand in for tokens). ORPO's odds are of the whole output: a candidate
      // is one action of this policy, so its "per-token" probability is pi(y|x) itself (length 1); dividing by words
      // would scale each pair's NLL gradient by 1/|y| and push ORPO toward short outputs.
      const cands = env.instructions[q.instruction]!.candidates;
      cl.push(method === "orpo" ? 1 : cands[w]!.words);
      rl.push(method === "orpo" ? 1 : cands[l]!.words);
    });
    const batch: PairBatch = { chosen, rejected, refChosen: ref, refRejected: ref, chosenLength: cl, rejectedLength: rl };
    let res: PairLoss;
    if (method === "dpo") res = dpoLoss(batch, { beta: s.beta });
    else if (method === "cdpo") res = dpoLoss(batch, { beta: s.beta, labelSmoothing: s.labelSmoothing });
    else if (method === "ipo") res = ipoLoss(batch, { beta: s.beta });
    else if (method === "simpo") res = simpoLoss(batch, { beta: s.simpoBeta, gamma: s.simpoGamma });
    else res = orpoLoss(batch, { lambda: s.orpoLambda });
    decided.forEach((q, k) => {
      const e = at(q.instruction);
      const [w, l] = sides[k]!;
      e.c[w]! += res.dChosen[k]!;
      e.c[l]! += res.dRejected[k]!;
    });
  }
  for (const [i, e] of cache) policy.addGradient(i, e.c, e.p, grad);
  return grad;
}

/** `size` examples drawn without replacement (all of them when there are no more). */
function minibatch<T>(xs: readonly T[], size: number, rng: Rng): T[] {
  if (xs.length <= size) return xs.slice();
  const idx = Array.from({ length: xs.length }, (_, k) => k);
  for (let k = 0; k < size; k++) {
    const j = k + rng.int(xs.length - k);
    [idx[k], idx[j]] = [idx[j]!, idx[k]!];
  }
  return idx.slice(0, size).map((k) => xs[k]!);
}

/** The pairs of random instructions (whole lists, for a listwise loss) until `size` pairs are taken. */
function lipoMinibatch(pairs: readonly LabelledPair[], size: number, rng: Rng): LabelledPair[] {
  if (pairs.length <= size) return pairs.slice();
  const by = new Map<number, LabelledPair[]>();
  for (const q of pairs) {
    let l = by.get(q.instruction);
    if (!l) by.set(q.instruction, (l = []));
    l.push(q);
  }
  const out: LabelledPair[] = [];
  for (const l of minibatch([...by.values()], by.size, rng)) {
    if (out.length >= size) break;
    out.push(...l);
  }
  return out;
}

/** Offline DPO and its variants on the fixed labelled pairs (minibatch Adam). */
function runOfflinePairs(method: PairMethod, ctx: MethodContext): MethodOutcome {
  const { env, settings: s, rng } = ctx;
  const policy = LogLinearPolicy.uniform(env);
  const opt = new Adam(env.features.dim, s.lr);
  ctx.record(0, policyDist(policy));
  for (let step = 1; step <= s.steps; step++) {
    opt.step(policy.theta, pairGradient(env, policy, method, method === "lipo" ? lipoMinibatch(ctx.offlinePairs, s.minibatch, rng) : minibatch(ctx.offlinePairs, s.minibatch, rng), s));
    if (step % s.evalEvery === 0 || step === s.steps) ctx.record(step, policyDist(policy));
  }
  return { dist: policyDist(policy), freshLabels: 0 };
}

/**
 * Online (iterative) DPO (Xiong et al. 2024; Guo et al. 2024, "Direct Language Model Alignment from Online AI
 * Feedback"): each round draws two different candidates from the current policy for random training instructions,
 * asks the feedback source which is better, and continues DPO (reference: the initial policy) on all pairs so far.
 */
function runOnlineDpo(ctx: MethodContext): MethodOutcome {
  const { env, settings: s, rng } = ctx;
  const policy = LogLinearPolicy.uniform(env);
  const opt = new Adam(env.features.dim, s.lr);
  const pairs: LabelledPair[] = [];
  const perRound = Math.max(1, Math.floor(s.steps / s.rounds));
  let step = 0;
  let asked = 0;
  ctx.record(0, policyDist(policy));
  for (let round = 0; round < s.rounds; round++) {
    const want = Math.floor((ctx.labelBudget * (round + 1)) / s.rounds) - asked;
    for (let t = 0; t < want; t++) {
      const i = env.train[rng.int(env.train.length)]!;
      const p = policy.probs(i);
      const a = sampleIndex(p, rng);
      const b = sampleIndex(p, rng, a);
      pairs.push({ instruction: i, a, b, pA: ctx.label(i, a, b) });
      asked++;
    }
    for (let t = 0; t < perRound; t++) {
      opt.step(policy.theta, pairGradient(env, policy, "dpo", minibatch(pairs, s.minibatch, rng), s));
      step++;
      if (step % s.evalEvery === 0) ctx.record(step, policyDist(policy));
    }
  }
  if (step % s.evalEvery !== 0) ctx.record(step, policyDist(policy));
  return { dist: policyDist(policy), freshLabels: asked };
}

/**
 * Policy-gradient methods against the proxy reward with a KL penalty to the reference (the initial policy):
 * - PPO (Schulman et al. 2017; Ouyang et al. 2022): reward minus β·(log pi − log ref) per sample, advantage
 *   against a moving baseline (a one-step bandit has no value network to learn), clipped surrogate for
 *   `ppoEpochs` epochs per batch;
 * - GRPO (Shao et al. 2024): group-normalised advantages, KL as a separate k3 loss term;
 * - RLOO (Ahmadian et al. 2024), REINFORCE++ (Hu 2025: batch-normalised), ReMax (Li et al. 2023: greedy baseline):
 *   KL-shaped rewards, on-policy policy gradient.
 */
function runPolicyGradient(method: RewardMethod, ctx: MethodContext): MethodOutcome {
  const { env, settings: s, rng } = ctx;
  const policy = LogLinearPolicy.uniform(env);
  const opt = new Adam(env.features.dim, s.lr);
  const G = s.group;
  let baseline = 0;
  ctx.record(0, policyDist(policy));
  for (let step = 1; step <= s.steps; step++) {
    const batch: number[] = [];
    for (let b = 0; b < s.batch; b++) batch.push(env.train[rng.int(env.train.length)]!);
    const lps = batch.map((i) => policy.logProbs(i));
    const samples: number[] = [];
    const logp: number[] = [];
    const refLogp: number[] = [];
    const raw: number[] = [];
    const greedy: number[] = [];
    batch.forEach((i, b) => {
      const lp = lps[b]!;
      const p = Float64Array.from(lp, Math.exp);
      const r0 = env.features.start[i]!;
      const logRef = -Math.log(lp.length);
      for (let g = 0; g < G; g++) {
        const y = sampleIndex(p, rng);
        samples.push(y);
        logp.push(lp[y]!);
        refLogp.push(logRef);
        raw.push(ctx.proxy[r0 + y]!);
      }
      const yg = argmax(lp);
      greedy.push(ctx.proxy[r0 + yg]! - (method === "grpo" ? 0 : s.klCoef * (lp[yg]! - logRef)));
    });
    // KL in the reward (all but GRPO): r − β (log pi − log ref), a constant of the sample.
    const shaped = method === "grpo" ? raw : raw.map((r, k) => r - s.klCoef * (logp[k]! - refLogp[k]!));
    let dLogp: number[];
    if (method === "ppo") {
      const adv = reinforceAdvantages(shaped, { baseline, momentum: 0.9 });
      baseline = adv.baseline;
      const oldLogp = logp.slice();
      dLogp = ppoClipLoss({ logp, oldLogp, advantages: adv.advantages }).dLogp;
      applySampleGradient(policy, opt, batch, G, samples, dLogp, lps);
      for (let e = 1; e < s.ppoEpochs; e++) {
        const lpsNow = batch.map((i) => policy.logProbs(i));
        const now = samples.map((y, k) => lpsNow[Math.floor(k / G)]![y]!);
        const d = ppoClipLoss({ logp: now, oldLogp, advantages: adv.advantages }).dLogp;
        applySampleGradient(policy, opt, batch, G, samples, d, lpsNow);
      }
    } else {
      let advantages: number[];
      if (method === "grpo") advantages = grpoAdvantages(shaped, { groupSize: G });
      else if (method === "rloo") advantages = rlooAdvantages(shaped, { groupSize: G });
      else if (method === "reinforce++") advantages = reinforcePlusPlusAdvantages(shaped);
      else advantages = remaxAdvantages(shaped, { groupSize: G, greedyRewards: greedy });
      if (method === "grpo") {
        // GRPO's per-sample objective: clipped surrogate (one update per batch, so ratios are 1) plus β·k3 KL.
        const pg = ppoClipLoss({ logp, oldLogp: logp, advantages });
        dLogp = pg.dLogp;
        if (s.klCoef > 0) {
          const kl = klPenalty({ logp, refLogp }, "k3");
          dLogp = dLogp.map((d, k) => d + s.klCoef * kl.dLogp[k]!);
        }
      } else dLogp = policyGradientLoss({ logp, advantages }).dLogp;
      applySampleGradient(policy, opt, batch, G, samples, dLogp, lps);
    }
    if (step % s.evalEvery === 0 || step === s.steps) ctx.record(step, policyDist(policy));
  }
  return { dist: policyDist(policy), freshLabels: 0 };
}

/** Chain per-sample dL/d log pi(y|x) into θ and take one Adam step. */
function applySampleGradient(
  policy: LogLinearPolicy,
  opt: Adam,
  batch: readonly number[],
  G: number,
  samples: readonly number[],
  dLogp: readonly number[],
  lps: readonly Float64Array[],
): void {
  const grad = policy.zeroGrad();
  batch.forEach((i, b) => {
    const lp = lps[b]!;
    const c = new Float64Array(lp.length);
    for (let g = 0; g < G; g++) c[samples[b * G + g]!]! += dLogp[b * G + g]!;
    policy.addGradient(i, c, Float64Array.from(lp, Math.exp), grad);
  });
  opt.step(policy.theta, grad);
}

/** Run one method. */
export function runMethod(method: LabMethod, ctx: MethodContext): MethodOutcome {
  const s = ctx.settings;
  if (!(s.steps >= 1) || !Number.isInteger(s.steps)) throw new ValidationError([{ path: "steps", message: `must be a positive integer, got ${s.steps}` }]);
  if (!(s.evalEvery >= 1)) throw new ValidationError([{ path: "evalEvery", message: "must be a positive integer" }]);
  switch (method) {
    case "best-of-n":
      return runBestOfN(ctx);
    case "expert-iteration":
      return runExpertIteration(ctx);
    case "online-dpo":
      return runOnlineDpo(ctx);
    case "dpo":
    case "ipo":
    case "cdpo":
    case "simpo":
    case "orpo":
    case "lipo":
      return runOfflinePairs(method, ctx);
    case "ppo":
    case "grpo":
    case "rloo":
    case "reinforce++":
    case "remax":
      return runPolicyGradient(method, ctx);
    default:
      throw new ValidationError([{ path: "methods", message: `unknown method "${method as string}"; known: ${LAB_METHODS.join(", ")}` }]);
  }
}
