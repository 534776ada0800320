/**
 * Synthetic preference sets with known ground truth, for tests, demos and benchmarks of the learners:
 * a linear hidden reward over words (with optional label flips), and rock-paper-scissors (cyclic preferences
 * that no scalar reward can represent).
 */
import { createRng } from "../eval/index.js";
import type { PreferencePair } from "./datasets/examples.js";

const FILLER = "the a of to and in it is that for on with as this was at by from or an be are".split(" ");

function pair(
  i: number,
  project: string,
  prompt: string,
  chosen: string,
  rejected: string,
  derivation: PreferencePair["derivation"] = "pairwise",
): PreferencePair {
  return {
    id: `syn-${i}`,
    project,
    itemId: `item-${i}`,
    prompt,
    chosen: { text: chosen, generationId: `g-${i}-c` },
    rejected: { text: rejected, generationId: `g-${i}-r` },
    pChosen: 1,
    derivation,
    sources: ["simulated:synthetic"],
    feedbackIds: [`f-${i}`],
  };
}

export interface LinearSynthetic {
  pairs: PreferencePair[];
  /** Whether each pair's label was flipped (so it contradicts the hidden reward). */
  flipped: boolean[];
  /** The hidden reward of a text. */
  reward(text: string): number;
}

/**
 * Pairs of responses made of words with hidden utilities (`good*` words positive, `bad*` negative, with
 * random magnitudes); the one with the higher total utility is chosen, then a share `flipRate` of labels is
 * flipped at random.
 */
export function linearSynthetic(opts: { n: number; seed?: number; flipRate?: number; words?: number; length?: number }): LinearSynthetic {
  const rng = createRng(opts.seed ?? 0);
  const nWords = opts.words ?? 30;
  const len = opts.length ?? 8;
  const utility = new Map<string, number>();
  const vocab: string[] = [];
  for (let k = 0; k < nWords; k++) {
    const good = k % 2 === 0;
    const w = `${good ? "good" : "bad"}${k}`;
    vocab.push(w);
    utility.set(w, (good ? 1 : -1) * (0.5 + rng.next()));
  }
  const reward = (text: string) => text.split(/\s+/).reduce((s, w) => s + (utility.get(w) ?? 0), 0);
  const response = () => {
    const words: string[] = [];
    for (let k = 0; k < len; k++) words.push(rng.next() < 0.5 ? vocab[rng.int(vocab.length)]! : FILLER[rng.int(FILLER.length)]!);
    return words.join(" ");
  };
  const pairs: PreferencePair[] = [];
  const flipped: boolean[] = [];
  for (let i = 0; i < opts.n; i++) {
    let a = response();
    let b = response();
    while (reward(a) === reward(b)) b = response();
    if (reward(a) < reward(b)) [a, b] = [b, a];
    const flip = rng.next() < (opts.flipRate ?? 0);
    pairs.push(pair(i, "default", `question ${i % 17}`, flip ? b : a, flip ? a : b));
    flipped.push(flip);
  }
  return { pairs, flipped, reward };
}

export const RPS = ["rock", "paper", "scissors"] as const;
export type Rps = (typeof RPS)[number];

/** Whether `a` beats `b`: paper ≻ rock, scissors ≻ paper, rock ≻ scissors. */
export const rpsBeats = (a: Rps, b: Rps) => (a === "paper" && b === "rock") || (a === "scissors" && b === "paper") || (a === "rock" && b === "scissors");

/**
 * Rock-paper-scissors: every response plays one of the three (named in its text, among filler words), and a
 * pair's winner is the one that beats the other. Every ordered match-up is equally frequent, so the only
 * scalar reward that fits is a constant: any Bradley-Terry model is at chance.
 */
export function rockPaperScissors(opts: { n: number; seed?: number; filler?: number }): { pairs: PreferencePair[]; moves: Array<[Rps, Rps]> } {
  const rng = createRng(opts.seed ?? 0);
  const fill = opts.filler ?? 4;
  const text = (m: Rps) => {
    const words = [`I play ${m}`];
    for (let k = 0; k < fill; k++) words.push(FILLER[rng.int(FILLER.length)]!);
    return words.join(" ");
  };
  const matchups: Array<[Rps, Rps]> = [];
  for (const a of RPS) for (const b of RPS) if (a !== b) matchups.push([a, b]);
  const pairs: PreferencePair[] = [];
  const moves: Array<[Rps, Rps]> = [];
  for (let i = 0; i < opts.n; i++) {
    const [a, b] = matchups[i % matchups.length]!;
    const [w, l] = rpsBeats(a, b) ? [a, b] : [b, a];
    pairs.push(pair(i, "default", "Pick a move.", text(w), text(l)));
    moves.push([w, l]);
  }
  return { pairs, moves };
}
