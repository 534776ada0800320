/**
 * AlpacaFarm's simulated annotators: a pool of pairwise judge configs, one
 * chosen per example by a seeded hash of the example (so the choice varies
 * across examples but is fixed for each), label-flip noise with probability
 * p (the label is replaced by a fair coin with probability 2p: label 1 with
 * probability p, label 2 with probability p, as AlpacaFarm draws it; such
 * examples skip the model call), and seeded position randomization. Given the
 * seed and the model's answers (the response cache keeps them), everything is
 * reproducible.
 */
import { ArgumentError } from "../errors.js";
import type { ChatModel } from "../providers/index.js";
import type { JudgeConfig } from "./config.js";
import { seededIndex, seededUnit } from "./hash.js";
import { type Failed, type PairInput, type PairwiseJudgement, judgePair } from "./judge.js";

export interface SimulateOptions {
  /** Label-flip probability p in [0, 0.5]; default 0. */
  pFlip?: number;
  /** Default 0. */
  seed?: number;
}

export type SimulatedJudgement = ((PairwiseJudgement | Failed) & { annotator: string; noisy: false }) | {
  ok: true;
  annotator: string;
  /** The label is the noise coin's, not the annotator's. */
  noisy: true;
  preference: 1 | 2;
  verdicts: [];
  attempts: 0;
};

/** Which member annotates this example: seeded on the instruction, as AlpacaEval's `random_seeded_choice`. */
export function chooseAnnotator(instruction: string, seed: number, n: number): number {
  return seededIndex(n, "annotator", seed, instruction);
}

/** The noisy label of this example, when the noise coin replaces the annotator's (probability 2p); else undefined. */
export function noisyLabel(pair: PairInput, pFlip: number, seed: number): 1 | 2 | undefined {
  if (!(pFlip >= 0 && pFlip <= 0.5)) throw new ArgumentError("pFlip", `p_label_flip must lie in [0, 0.5], got ${pFlip}`);
  if (pFlip === 0) return undefined;
  const u = seededUnit("noisy_preference", seed, pair.instruction, pair.output_1, pair.output_2);
  if (u < pFlip) return 1;
  if (u < 2 * pFlip) return 2;
  return undefined;
}

export async function simulatePair(model: ChatModel, members: readonly JudgeConfig[], pair: PairInput, opts: SimulateOptions = {}): Promise<SimulatedJudgement> {
  const seed = opts.seed ?? 0;
  const member = members[chooseAnnotator(pair.instruction, seed, members.length)]!;
  const noisy = noisyLabel(pair, opts.pFlip ?? 0, seed);
  if (noisy !== undefined) return { ok: true, annotator: member.name, noisy: true, preference: noisy, verdicts: [], attempts: 0 };
  // Position randomization is always on for simulated annotators (a member set to "fixed" keeps its order).
  const j = await judgePair(model, member, pair, { seed, order: member.order === "fixed" ? "fixed" : member.order === "both" ? "both" : "random" });
  return { ...j, annotator: member.name, noisy: false };
}
