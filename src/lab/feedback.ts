/**
 * Feedback sources of the lab: gold pairwise judgements consistent with the real AlpacaEval preferences, a
 * simulated annotator with AlpacaFarm's label-flip noise and an optional length bias, and a reward model trained on
 * some of that feedback (a proxy that can be over-optimised). Every label asked of an annotator is counted.
 */
import { ValidationError } from "../errors.js";
import { createRng, type Rng } from "../eval/index.js";
import type { PreferencePair } from "../learn/index.js";
import { trainRewardModel } from "../learn/index.js";
import { type LabEnvironment, hashSeed } from "./environment.js";

export const LAB_FEEDBACK_SOURCES = ["gold", "simulated", "rm"] as const;
export type LabFeedbackSource = (typeof LAB_FEEDBACK_SOURCES)[number];

/** One labelled comparison of two candidates of one instruction. */
export interface LabelledPair {
  instruction: number;
  a: number;
  b: number;
  /** P(a ≻ b) as labelled: 1, 0, or 0.5 for a tie. */
  pA: number;
}

/** Bradley-Terry reward of a candidate implied by its gold preference against the reference: logit(gold). */
export function goldReward(gold: number): number {
  const g = Math.min(1 - 1e-6, Math.max(1e-6, gold));
  return Math.log(g / (1 - g));
}

/**
 * Gold pairwise probability that candidate a beats candidate b of instruction i. With r(y) = logit P(y ≻ ref)
 * the Bradley-Terry model through the reference gives P(a ≻ b) = σ(r(a) − r(b)).
 */
export function goldPairProbability(env: LabEnvironment, i: number, a: number, b: number): number {
  const c = env.instructions[i]!.candidates;
  const d = goldReward(c[a]!.gold) - goldReward(c[b]!.gold);
  return 1 / (1 + Math.exp(-d));
}

export interface AnnotatorOptions {
  /**
   * AlpacaFarm's `p_label_flip`: with probability 2p the label is replaced by a fair coin, so a label is wrong
   * with probability p (0 = gold labels; AlpacaFarm trains with 0.25).
   */
  pFlip?: number;
  /** Share of judgements decided by length alone (the longer output wins) before noise (default 0). */
  lengthBias?: number;
  /** Seed of the noise (default 0). */
  seed?: number;
}

/**
 * A pairwise annotator over the environment. Its gold decision is the more probable outcome under the gold
 * Bradley-Terry model (the candidate with the higher real preference against the reference; exact ties are a
 * coin). The noise of a comparison is seeded by the comparison itself (as AlpacaFarm seeds on the inputs), so
 * asking the same question twice gives the same answer whatever the order of questions.
 */
export class Annotator {
  readonly pFlip: number;
  readonly lengthBias: number;
  readonly seed: number;
  /** Labels given so far. */
  labels = 0;

  constructor(
    private readonly env: LabEnvironment,
    opts: AnnotatorOptions = {},
  ) {
    this.pFlip = opts.pFlip ?? 0;
    this.lengthBias = opts.lengthBias ?? 0;
    this.seed = opts.seed ?? 0;
    if (!(this.pFlip >= 0 && this.pFlip <= 0.5)) throw new ValidationError([{ path: "pFlip", message: `must lie in [0, 0.5], got ${opts.pFlip}` }]);
    if (!(this.lengthBias >= 0 && this.lengthBias <= 1)) throw new ValidationError([{ path: "lengthBias", message: `must lie in [0, 1], got ${opts.lengthBias}` }]);
  }

  /** P(a ≻ b) as this annotator labels it: 1, 0 or (for identical outputs) 0.5. */
  judge(i: number, a: number, b: number): number {
    this.labels++;
    const c = this.env.instructions[i]!.candidates;
    if (c[a]!.text === c[b]!.text) return 0.5;
    const rng = createRng(hashSeed(this.seed, `${i}:${a}:${b}`));
    let label: number;
    const ga = goldReward(c[a]!.gold);
    const gb = goldReward(c[b]!.gold);
    if (this.lengthBias > 0 && rng.next() < this.lengthBias && c[a]!.length !== c[b]!.length) label = c[a]!.length > c[b]!.length ? 1 : 0;
    else label = ga > gb ? 1 : ga < gb ? 0 : rng.next() < 0.5 ? 1 : 0;
    if (this.pFlip > 0 && rng.next() < 2 * this.pFlip) label = rng.next() < 0.5 ? 1 : 0;
    return label;
  }
}

/** Two distinct candidates of a random training instruction under the uniform (initial) policy. */
export function drawUniformPairs(env: LabEnvironment, n: number, rng: Rng): Array<{ instruction: number; a: number; b: number }> {
  const out: Array<{ instruction: number; a: number; b: number }> = [];
  for (let t = 0; t < n; t++) {
    const i = env.train[rng.int(env.train.length)]!;
    const k = env.instructions[i]!.candidates.length;
    const a = rng.int(k);
    let b = rng.int(k - 1);
    if (b >= a) b++;
    out.push({ instruction: i, a, b });
  }
  return out;
}

/** The labelled pairs as reward-model training pairs. */
export function toPreferencePairs(env: LabEnvironment, pairs: readonly LabelledPair[]): PreferencePair[] {
  return pairs.map((p, k) => {
    const ins = env.instructions[p.instruction]!;
    const [w, l] = p.pA >= 0.5 ? [p.a, p.b] : [p.b, p.a];
    return {
      id: `lab-${k}`,
      project: "lab",
      itemId: `i${p.instruction}`,
      prompt: ins.text,
      chosen: { policy: ins.candidates[w]!.model, text: ins.candidates[w]!.text },
      rejected: { policy: ins.candidates[l]!.model, text: ins.candidates[l]!.text },
      pChosen: Math.max(p.pA, 1 - p.pA),
      derivation: "pairwise" as const,
      sources: ["simulated:lab"],
      feedbackIds: [],
    };
  });
}

export interface ProxyReward {
  /** Reward of every candidate row of the environment (calibrated logit scale). */
  reward: Float64Array;
  /** Pairwise accuracy of the proxy against the gold decisions on all test-instruction pairs. */
  testAccuracy: number;
  seconds: number;
}

/**
 * A Bradley-Terry reward model on the lab's hashed features (the learn room's trainer), trained on labelled pairs,
 * scored on every candidate.
 */
export async function trainProxyReward(env: LabEnvironment, pairs: readonly LabelledPair[], opts: { seed?: number; l2?: number } = {}): Promise<ProxyReward> {
  const t0 = performance.now();
  const { model } = await trainRewardModel(toPreferencePairs(env, pairs), {
    featurizer: env.featurizer,
    cache: env.cache,
    testFraction: 0,
    seed: opts.seed ?? 0,
    name: "lab-proxy",
    ...(opts.l2 !== undefined ? { l2: opts.l2 } : {}),
  });
  const reward = new Float64Array(env.features.start[env.instructions.length]!);
  for (const ins of env.instructions) {
    const scores = await model.score(ins.candidates.map((c) => ({ prompt: ins.text, response: c.text })));
    const r0 = env.features.start[ins.index]!;
    scores.forEach((s, y) => (reward[r0 + y] = s.reward));
  }
  let right = 0;
  let total = 0;
  for (const i of env.test) {
    const c = env.instructions[i]!.candidates;
    const r0 = env.features.start[i]!;
    for (let a = 0; a < c.length; a++) {
      for (let b = a + 1; b < c.length; b++) {
        const g = goldReward(c[a]!.gold) - goldReward(c[b]!.gold);
        if (g === 0) continue;
        const d = reward[r0 + a]! - reward[r0 + b]!;
        total++;
        if (d === 0) right += 0.5;
        else if (d > 0 === g > 0) right++;
      }
    }
  }
  return { reward, testAccuracy: total ? right / total : NaN, seconds: (performance.now() - t0) / 1000 };
}
