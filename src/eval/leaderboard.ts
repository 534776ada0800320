/**
 * AlpacaEval-style leaderboard: per-model win-rate statistics, average output length and length-controlled win
 * rate, from a flat list of annotations against a common baseline.
 */

import {
  type AlpacaEvalAnnotation,
  type AlpacaEvalWinRate,
  alpacaEvalWinRate,
  averageOutputLength,
} from "./alpaca-eval.js";
import {
  type AnnotationKeys,
  type GlmCvOptions,
  estimateInstructionDifficulty,
  lengthControlledWinRate,
} from "./length-controlled.js";

/** One leaderboard row (column names follow AlpacaEval's leaderboard CSV). */
export interface LeaderboardRow extends AlpacaEvalWinRate {
  model: string;
  /** Mean output length of the model in characters (code points). */
  avg_length: number;
  /** Length-controlled win rate, or null when not computed. */
  length_controlled_winrate: number | null;
  /** Standard error of the length-controlled win rate, or null when not computed. */
  lc_standard_error: number | null;
}

export interface LeaderboardOptions extends AnnotationKeys, GlmCvOptions {
  /** Compute the length-controlled win rate (default true). */
  lengthControlled?: boolean;
  /**
   * Per-instruction difficulty to use; by default it is estimated from all the given annotations with
   * {@link estimateInstructionDifficulty}. That estimate needs several models (20 reproduce the published AlpacaEval 2
   * LC closely); when ranking only one or two models, estimate it once on a larger pool of annotations and pass it.
   */
  instructionDifficulty?: ReadonlyMap<string, number>;
  /** Gamed-baseline annotations for the LC regularisation (see {@link lengthControlledWinRate}). */
  gamedAnnotations?: readonly AlpacaEvalAnnotation[];
  /** Sort key, descending (default: `length_controlled_winrate` when computed, else `win_rate`). */
  sortBy?: "win_rate" | "length_controlled_winrate";
}

/**
 * Group annotations by model (`generator_2`, or `opts.modelOf`) and compute one {@link LeaderboardRow} per model,
 * sorted descending by win rate or length-controlled win rate. Preferences given as numeric strings are parsed.
 */
export function alpacaEvalLeaderboard(
  annotations: readonly AlpacaEvalAnnotation[],
  opts: LeaderboardOptions = {},
): LeaderboardRow[] {
  const modelOf = opts.modelOf ?? ((a: AlpacaEvalAnnotation) => a.generator_2);
  const groups = new Map<string, AlpacaEvalAnnotation[]>();
  for (const a of annotations) {
    const m = modelOf(a);
    let g = groups.get(m);
    if (!g) groups.set(m, (g = []));
    g.push(a);
  }
  const withLC = opts.lengthControlled ?? true;
  const keys = {
    ...(opts.instructionKey ? { instructionKey: opts.instructionKey } : {}),
    modelOf,
  };
  const cv = { ...(opts.Cs ? { Cs: opts.Cs } : {}), ...(opts.nFolds ? { nFolds: opts.nFolds } : {}) };
  const difficulty =
    withLC && groups.size > 0
      ? (opts.instructionDifficulty ?? estimateInstructionDifficulty(annotations, { ...keys, ...cv }).difficulty)
      : undefined;

  const rows: LeaderboardRow[] = [];
  for (const [model, rowsOfModel] of groups) {
    const stats = alpacaEvalWinRate(rowsOfModel.map((a) => a.preference));
    let lc: number | null = null;
    let lcSe: number | null = null;
    if (difficulty) {
      const res = lengthControlledWinRate(rowsOfModel, {
        ...keys,
        ...cv,
        instructionDifficulty: difficulty,
        ...(opts.gamedAnnotations ? { gamedAnnotations: opts.gamedAnnotations } : {}),
      });
      lc = res.length_controlled_winrate;
      lcSe = res.lc_standard_error;
    }
    rows.push({
      model,
      ...stats,
      avg_length: averageOutputLength(rowsOfModel),
      length_controlled_winrate: lc,
      lc_standard_error: lcSe,
    });
  }
  const sortBy = opts.sortBy ?? (withLC ? "length_controlled_winrate" : "win_rate");
  const keyOf = (r: LeaderboardRow): number => {
    const v = sortBy === "length_controlled_winrate" ? r.length_controlled_winrate : r.win_rate;
    return v === null || Number.isNaN(v) ? -Infinity : v;
  };
  rows.sort((a, b) => keyOf(b) - keyOf(a) || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  return rows;
}
