/**
 * AlpacaEval head-to-head statistics (Li et al. 2023, "AlpacaEval: An Automatic Evaluator of Instruction-following
 * Models"; Dubois et al. 2024, "Length-Controlled AlpacaEval").
 *
 * Preference scale: 1 = output_1 (the baseline) is better, 2 = output_2 (the evaluated model) is better, 1.5 (or the
 * legacy 0) = draw; weighted annotators give any value in [1, 2]. The statistics below reproduce AlpacaEval's
 * `metrics/winrate.py::get_winrate` with `metrics/helpers.py::AbsoluteScoringRule` (and `ZeroOneScoringRule` for the
 * discrete win rate), including how missing preferences are counted.
 */

import { mean, sem } from "./stats.js";

/** One AlpacaEval pairwise annotation (baseline = output_1, evaluated model = output_2). */
export interface AlpacaEvalAnnotation {
  instruction: string;
  output_1: string;
  generator_1: string;
  output_2: string;
  generator_2: string;
  annotator?: string;
  /** 1 = baseline better, 2 = model better, 1.5 or 0 = draw, null = missing. Strings are parsed defensively. */
  preference: number | null;
  dataset?: string;
  /**
   * Lengths of the outputs in code points, when a reader counted them without keeping the texts (rlxf's fast
   * AlpacaEval file reader). They take precedence over `output_1` / `output_2`, which are then left empty.
   */
  output_1_length?: number;
  output_2_length?: number;
}

/**
 * The annotation with its output texts replaced by their lengths (`output_1_length`, `output_2_length`), which is
 * all a leaderboard needs of them: holding thousands of annotations this way keeps memory (and garbage collection)
 * small.
 */
export function withOutputLengths(a: AlpacaEvalAnnotation): AlpacaEvalAnnotation {
  const out: AlpacaEvalAnnotation = {
    instruction: a.instruction,
    output_1: "",
    output_1_length: outputLength(a, 1),
    generator_1: a.generator_1,
    output_2: "",
    output_2_length: outputLength(a, 2),
    generator_2: a.generator_2,
    preference: a.preference,
  };
  if (a.dataset !== undefined) out.dataset = a.dataset;
  if (a.annotator !== undefined) out.annotator = a.annotator;
  return out;
}

/** Length in code points of output 1 or 2 of an annotation (its counted length when the reader kept only that). */
export function outputLength(a: Pick<AlpacaEvalAnnotation, "output_1" | "output_2" | "output_1_length" | "output_2_length">, which: 1 | 2): number {
  if (which === 1) return a.output_1_length ?? codePointLength(a.output_1 ?? "");
  return a.output_2_length ?? codePointLength(a.output_2 ?? "");
}

/** The seven AlpacaEval win-rate statistics for one model. */
export interface AlpacaEvalWinRate {
  /** 100 × mean(preference − 1) over valid preferences. */
  win_rate: number;
  /** 100 × standard error of that mean (ddof = 1, pandas `.sem()`). */
  standard_error: number;
  /** Number of preferences > 1.5. */
  n_wins: number;
  /** Number of preferences < 1.5. */
  n_wins_base: number;
  /** Number of preferences exactly 1.5 (or 0). */
  n_draws: number;
  /** Number of valid preferences (in [1, 2]; missing/NaN/out-of-range dropped). */
  n_total: number;
  /** 100 × mean of rounded outcomes (win 1, draw 0.5, loss 0). */
  discrete_win_rate: number;
}

/**
 * Coerce a raw preference (number, numeric string, null/undefined) to a number, or NaN when missing or
 * unparsable. The legacy draw code 0 is kept as 0 here (statistics map it to 1.5).
 */
export function parsePreference(raw: unknown): number {
  if (raw === null || raw === undefined) return NaN;
  if (typeof raw === "number") return raw;
  if (typeof raw === "string") {
    const s = raw.trim();
    if (s === "" || /^(nan|none|null)$/i.test(s)) return NaN;
    const v = Number(s);
    return Number.isNaN(v) ? NaN : v;
  }
  if (typeof raw === "boolean") return NaN;
  return NaN;
}

/** Whether `p` (after mapping 0 → 1.5) is a usable AlpacaEval preference, i.e. within [1, 2]. */
export function isValidPreference(p: number): boolean {
  const q = p === 0 ? 1.5 : p;
  return q >= 1 && q <= 2;
}

/**
 * Map a raw preference to AlpacaEval's soft label in [0, 1] (probability that the model beats the baseline):
 * `preference − 1` with 0 treated as a draw; NaN when missing or outside [1, 2].
 */
export function preferenceToProbability(raw: unknown): number {
  const p = parsePreference(raw);
  if (!isValidPreference(p)) return NaN;
  return (p === 0 ? 1.5 : p) - 1;
}

/** Round half to even (numpy / pandas `.round()`). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * AlpacaEval's seven head-to-head statistics from a list of preferences (numbers, numeric strings or null).
 *
 * Mirrors `AbsoluteScoringRule.describe_head2head`: 0 is mapped to 1.5; draws are counted as values equal to 1.5;
 * values that are missing or outside [1, 2] are dropped before computing the mean, sem, wins and total. The discrete
 * win rate mirrors `ZeroOneScoringRule`: exact 1.5 is a draw, anything else is rounded to 1 or 2.
 */
export function alpacaEvalWinRate(preferences: readonly unknown[]): AlpacaEvalWinRate {
  const soft: number[] = [];
  const discrete: number[] = [];
  let nDraws = 0;
  let nWins = 0;
  let nWinsBase = 0;
  for (const raw of preferences) {
    const original = parsePreference(raw);
    const p = original === 0 ? 1.5 : original;
    // ZeroOneScoringRule: 1.5 -> 0, round, then 0 -> 1.5 (draw); keep values in [1, 2].
    if (!Number.isNaN(p)) {
      let r = p === 1.5 ? 0 : roundHalfEven(p);
      if (r === 0) r = 1.5;
      if (r >= 1 && r <= 2) discrete.push(r - 1);
    }
    if (p === 1.5) nDraws++;
    if (!(p >= 1 && p <= 2)) continue;
    const x = p - 1;
    soft.push(x);
    if (x > 0.5) nWins++;
    else if (x < 0.5) nWinsBase++;
  }
  return {
    win_rate: mean(soft) * 100,
    standard_error: sem(soft) * 100,
    n_wins: nWins,
    n_wins_base: nWinsBase,
    n_draws: nDraws,
    n_total: soft.length,
    discrete_win_rate: mean(discrete) * 100,
  };
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Length in Unicode code points, i.e. Python's `len(str)` (JavaScript's `.length` counts UTF-16 units, which
 * double-counts characters outside the BMP such as emoji).
 */
export function codePointLength(s: string): number {
  if (!SURROGATE.test(s)) return s.length; // most texts: a native scan and done
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Mean length (code points) of the evaluated model's outputs (`output_2`), AlpacaEval's `avg_length`. */
export function averageOutputLength(annotations: readonly Pick<AlpacaEvalAnnotation, "output_2" | "output_2_length">[]): number {
  return mean(annotations.map((a) => a.output_2_length ?? codePointLength(a.output_2 ?? "")));
}
