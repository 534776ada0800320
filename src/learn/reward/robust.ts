/**
 * Noise-robust reward training: find the pairs whose labels the data contradicts, and drop or down-weight
 * them before the final fit.
 *
 * A pair's suspicion is its loss under a model that did **not** train on it (a model that did can memorise a
 * flipped label). Two ways to get such models:
 *
 * - `crossfit`: one model per fold (by item); each pair is scored by the model of the other folds;
 * - `peers` (after Collaborative Reward Modeling): two peer models, each trained on one half of the items,
 *   review each other's half; each round a peer trains only on the pairs its peer kept, with a curriculum
 *   that drops few pairs at first and `rate` of them by the last round.
 *
 * Both use an L2 Bradley-Terry model as the reviewer (convex, fast); the flags then apply to whichever model
 * is trained. With `mode: "drop"` flagged pairs get weight 0; with `"downweight"` their weight is
 * 2·P(label) under the reviewer (so a confidently contradicted pair counts little), capped at 1.
 */
import { ArgumentError } from "../../errors.js";
import { createRng } from "../../eval/index.js";
import { type SparseVector, csrFromRows, sparseSub } from "../features/sparse.js";
import { foldsByItem } from "../datasets/filters.js";
import { type Solver, fitLogistic, sigmoid } from "./logistic.js";

export interface RobustOptions {
  method: "crossfit" | "peers";
  /** Share of pairs to flag in the end (e.g. the expected noise rate, default 0.1). */
  rate?: number;
  /** Rounds of review; the flagged share grows linearly to `rate` (default 3). */
  rounds?: number;
  mode?: "drop" | "downweight";
  /** Folds for `crossfit` (default 5). */
  folds?: number;
}

export interface RobustResult {
  /** Weight of every pair for the final fit. */
  weights: Float64Array;
  /** Indices of the flagged pairs, most suspicious first. */
  flagged: number[];
  /** Each pair's loss under the reviewer that did not train on it (last round). */
  losses: Float64Array;
}

export interface RobustInput {
  chosen: readonly SparseVector[];
  rejected: readonly SparseVector[];
  /** P(chosen ≻ rejected). */
  y: Float64Array;
  offset?: Float64Array;
  /** Item of every pair, for grouping. */
  records: ReadonlyArray<{ project: string; itemId: string }>;
}

/** Flag suspicious pairs; see the module comment. */
export function flagNoisyPairs(
  input: RobustInput,
  opts: RobustOptions & { l2?: number; solver?: Solver; seed?: number; onRound?: (round: number, rounds: number) => void },
): RobustResult {
  const n = input.y.length;
  const rate = opts.rate ?? 0.1;
  if (!(rate >= 0 && rate < 1)) throw new ArgumentError("rate", `rate must be in [0, 1), got ${rate}`);
  const rounds = Math.max(1, opts.rounds ?? 3);
  const mode = opts.mode ?? "drop";
  const l2 = opts.l2 ?? 1;
  const seed = opts.seed ?? 0;
  const rows = input.chosen.map((c, i) => sparseSub(c, input.rejected[i]!));
  const offset = input.offset ?? new Float64Array(n);

  /** Train on `train` (with weights) and return margins of `evalIdx`. */
  const review = (train: number[], w: Float64Array, evalIdx: number[]): Float64Array => {
    const X = csrFromRows(train.map((i) => rows[i]!));
    const fit = fitLogistic(
      { X, y: Float64Array.from(train, (i) => input.y[i]!), w: Float64Array.from(train, (i) => w[i]!), offset: Float64Array.from(train, (i) => offset[i]!), l2 },
      { ...(opts.solver ? { solver: opts.solver } : {}), tol: 1e-5 },
    );
    const pos = new Map<number, number>();
    X.columns.forEach((c, j) => pos.set(c, j));
    return Float64Array.from(evalIdx, (i) => {
      const r = rows[i]!;
      let s = 0;
      for (let k = 0; k < r.index.length; k++) {
        const j = pos.get(r.index[k]!);
        if (j !== undefined) s += r.value[k]! * fit.coef[j]!;
      }
      return s - offset[i]!;
    });
  };

  const lossOf = (i: number, z: number) => {
    const p = sigmoid(z);
    const y = input.y[i]!;
    const eps = 1e-12;
    return -(y * Math.log(Math.max(eps, p)) + (1 - y) * Math.log(Math.max(eps, 1 - p)));
  };

  const losses = new Float64Array(n);
  const pLabel = new Float64Array(n).fill(1);
  let weights = new Float64Array(n).fill(1);
  let flagged: number[] = [];

  const flagTop = (idx: number[], share: number): number[] => {
    const k = Math.round(share * idx.length);
    return [...idx].sort((a, b) => losses[b]! - losses[a]! || a - b).slice(0, k);
  };
  const weightsFrom = (flags: Iterable<number>) => {
    const w = new Float64Array(n).fill(1);
    for (const i of flags) w[i] = mode === "drop" ? 0 : Math.min(1, 2 * pLabel[i]!);
    return w;
  };
  const record = (idx: number[], z: Float64Array) => {
    idx.forEach((i, t) => {
      losses[i] = lossOf(i, z[t]!);
      const p = sigmoid(z[t]!);
      pLabel[i] = input.y[i]! >= 0.5 ? p : 1 - p;
    });
  };

  if (opts.method === "crossfit") {
    const folds = foldsByItem(input.records, Math.max(2, opts.folds ?? 5), seed);
    const k = Math.max(...folds) + 1;
    for (let round = 1; round <= rounds; round++) {
      opts.onRound?.(round, rounds);
      for (let f = 0; f < k; f++) {
        const train: number[] = [];
        const test: number[] = [];
        for (let i = 0; i < n; i++) (folds[i] === f ? test : train).push(i);
        if (test.length === 0 || train.length === 0) continue;
        record(test, review(train, weights, test));
      }
      flagged = flagTop([...Array(n).keys()], (rate * round) / rounds);
      weights = weightsFrom(flagged);
    }
  } else {
    // Two peers on the two halves of the items; each reviews the other's half.
    const rng = createRng(seed);
    const side = new Map<string, number>();
    const half = Int32Array.from(input.records, (r) => {
      const key = `${r.project}\u0000${r.itemId}`;
      let s = side.get(key);
      if (s === undefined) {
        s = rng.int(2);
        side.set(key, s);
      }
      return s;
    });
    const A: number[] = [];
    const B: number[] = [];
    for (let i = 0; i < n; i++) (half[i] === 0 ? A : B).push(i);
    let keepA = new Float64Array(n).fill(1); // weights the peer on A trains with (set by the peer on B)
    let keepB = new Float64Array(n).fill(1);
    for (let round = 1; round <= rounds; round++) {
      opts.onRound?.(round, rounds);
      const share = (rate * round) / rounds;
      if (A.length && B.length) {
        record(B, review(A, keepA, B)); // peer A reviews B
        record(A, review(B, keepB, A)); // peer B reviews A
      }
      const flagsB = flagTop(B, share);
      const flagsA = flagTop(A, share);
      keepB = weightsFrom(flagsB);
      keepA = weightsFrom(flagsA);
      flagged = [...flagsA, ...flagsB].sort((a, b) => losses[b]! - losses[a]! || a - b);
    }
    weights = weightsFrom(flagged);
  }
  return { weights, flagged, losses };
}
