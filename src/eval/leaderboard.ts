/**
 * AlpacaEval-style leaderboard: per-model win-rate statistics, average output length and length-controlled win
 * rate, from a flat list of annotations against a common baseline; and the decisions every caller shares (which
 * policy is the baseline of a set of comparisons, which model a file of annotations is about).
 */

import { basename, dirname } from "node:path";
import { ValidationError } from "../errors.js";
import {
  type AlpacaEvalAnnotation,
  type AlpacaEvalWinRate,
  alpacaEvalWinRate,
  averageOutputLength,
  parsePreference,
} from "./alpaca-eval.js";
import {
  type DifficultyMode,
  type DifficultySource,
  MIN_MODELS_TO_ESTIMATE,
  chooseInstructionDifficulty,
} from "./instruction-difficulty.js";
import {
  type AnnotationKeys,
  type GlmCvOptions,
  type InstructionDifficulty,
  type LengthControlledResult,
  difficultyFoldPath,
  difficultyFolds,
  difficultyFromPaths,
  instructionDifficultyProblem,
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
  /** Per-instruction difficulty to use, by instruction key; overrides `difficulty`. */
  instructionDifficulty?: ReadonlyMap<string, number>;
  /**
   * Where the per-instruction difficulty comes from when `instructionDifficulty` is not given (default `auto`): the
   * difficulty rlxf ships for AlpacaEval's instructions when they are those, else estimated from the annotations
   * (see {@link chooseInstructionDifficulty}); `estimate` refits it from the annotations in any case.
   */
  difficulty?: DifficultyMode;
  /** Gamed-baseline annotations for the LC regularisation (see {@link lengthControlledWinRate}). */
  gamedAnnotations?: readonly AlpacaEvalAnnotation[];
  /** Sort key, descending (default: `length_controlled_winrate` when computed, else `win_rate`). */
  sortBy?: "win_rate" | "length_controlled_winrate";
  /** Called as the length-controlled fits progress: units done, units in all, what was just done. */
  onProgress?: (done: number, total: number, note: string) => void;
}

/** A leaderboard with what its length-controlled column rests on. */
export interface AlpacaEvalBoard {
  rows: LeaderboardRow[];
  /** Where the instruction difficulty of the LC column came from (absent without it). */
  difficulty?: DifficultySource;
  /** Things to know before trusting the LC column (few models, degenerate fits...). */
  warnings: string[];
}

/** The work of one leaderboard, split so that its heavy parts can run on other threads (see `board-threads`). */
export interface BoardPlan {
  groups: Map<string, AlpacaEvalAnnotation[]>;
  keys: Required<Pick<AnnotationKeys, "modelOf">> & Pick<AnnotationKeys, "instructionKey">;
  cv: GlmCvOptions;
  withLC: boolean;
  /** The difficulty to use, or the decision to estimate it. */
  difficulty?: { given: ReadonlyMap<string, number>; source: DifficultySource } | { estimate: true; models: number };
  warnings: string[];
}

const byGenerator2 = (a: AlpacaEvalAnnotation): string => a.generator_2;

/** Group the annotations by model and decide where the instruction difficulty comes from. */
export function planBoard(annotations: readonly AlpacaEvalAnnotation[], opts: LeaderboardOptions = {}): BoardPlan {
  const modelOf = opts.modelOf ?? byGenerator2;
  const groups = new Map<string, AlpacaEvalAnnotation[]>();
  for (const a of annotations) {
    const m = modelOf(a);
    let g = groups.get(m);
    if (!g) groups.set(m, (g = []));
    g.push(a);
  }
  const withLC = (opts.lengthControlled ?? true) && groups.size > 0;
  const keys = { ...(opts.instructionKey ? { instructionKey: opts.instructionKey } : {}), modelOf };
  const cv = { ...(opts.Cs ? { Cs: opts.Cs } : {}), ...(opts.nFolds ? { nFolds: opts.nFolds } : {}) };
  const warnings: string[] = [];
  const plan: BoardPlan = { groups, keys, cv, withLC, warnings };
  if (!withLC) return plan;
  if (opts.instructionDifficulty) {
    const seen = new Set(annotations.map((a) => (opts.instructionKey ?? ((x: AlpacaEvalAnnotation) => x.instruction))(a)));
    let covered = 0;
    for (const k of seen) if (opts.instructionDifficulty.has(k)) covered++;
    plan.difficulty = { given: opts.instructionDifficulty, source: { kind: "given", models: 0, instructions: seen.size, covered } };
    return plan;
  }
  const choice = chooseInstructionDifficulty(annotations, opts.difficulty ?? "auto", {
    instructionKey: opts.instructionKey ?? ((a) => a.instruction),
    modelOf,
  });
  if (choice.use === "shipped") {
    plan.difficulty = {
      given: choice.difficulty,
      source: { kind: "shipped", models: choice.models, instructions: choice.instructions, covered: choice.difficulty.size },
    };
    if (choice.difficulty.size < choice.instructions) {
      warnings.push(
        `${choice.instructions - choice.difficulty.size} of the ${choice.instructions} instructions are not AlpacaEval's: they get the mean of the shipped instruction difficulty`,
      );
    }
  } else {
    plan.difficulty = { estimate: true, models: choice.models };
    if (choice.models < MIN_MODELS_TO_ESTIMATE) {
      warnings.push(
        `instruction difficulty estimated from only ${choice.models} model${choice.models === 1 ? "" : "s"}` +
          `${opts.difficulty === "estimate" ? "" : " (the shipped estimate covers AlpacaEval's instructions only)"}: ` +
          `a model's LC may move by several points as models are added`,
      );
    }
  }
  return plan;
}

/** Number of progress units of a plan: the joint fit's folds and refit, then one per model. */
export function boardUnits(plan: BoardPlan, folds: number): number {
  if (!plan.withLC) return 0;
  return (plan.difficulty && "estimate" in plan.difficulty ? folds + 1 : 0) + plan.groups.size;
}

/** AlpacaEval's warning threshold for a length-controlled win rate far from the raw one (`get_is_extreme_changes`). */
function isExtremeChange(prev: number, next: number): boolean {
  const tooSmall = next < Math.min(prev - prev / 4, prev - 10);
  const tooLarge = next > Math.max(prev + (100 - prev) / 4, prev + 10);
  return tooSmall || tooLarge;
}

/** Rows of the board from the plan, the difficulty and each model's LC fit (in the plan's model order). */
export function finishBoard(
  plan: BoardPlan,
  source: DifficultySource | undefined,
  lc: ReadonlyArray<LengthControlledResult | undefined>,
  sortBy: LeaderboardOptions["sortBy"],
): AlpacaEvalBoard {
  const rows: LeaderboardRow[] = [];
  const warnings = [...plan.warnings];
  [...plan.groups].forEach(([model, rowsOfModel], mi) => {
    const stats = alpacaEvalWinRate(rowsOfModel.map((a) => a.preference));
    const res = lc[mi];
    if (res) {
      if (res.lc_standard_error_kind === "intercept") {
        warnings.push(
          res.coefficients.not_gamed_baseline === 0 && res.coefficients.length === 0
            ? `${model}: the length-controlled GLM shrank to zero on ${stats.n_total} comparisons, so its LC of 50 carries no information`
            : `${model}: the LC's predictions do not vary by instruction, so lc_standard_error is the delta-method error of the GLM's intercept`,
        );
      }
      if (res.lc_standard_error_kind !== "baseline" && isExtremeChange(stats.win_rate, res.length_controlled_winrate)) {
        warnings.push(
          `${model}: the length-controlled win rate (${res.length_controlled_winrate.toFixed(1)}%) is very different from the raw one (${stats.win_rate.toFixed(1)}%), which can be a sign that the GLM failed`,
        );
      }
    }
    rows.push({
      model,
      ...stats,
      avg_length: averageOutputLength(rowsOfModel),
      length_controlled_winrate: res ? res.length_controlled_winrate : null,
      lc_standard_error: res ? res.lc_standard_error : null,
    });
  });
  const by = sortBy ?? (plan.withLC ? "length_controlled_winrate" : "win_rate");
  const keyOf = (r: LeaderboardRow): number => {
    const v = by === "length_controlled_winrate" ? r.length_controlled_winrate : r.win_rate;
    return v === null || Number.isNaN(v) ? -Infinity : v;
  };
  rows.sort((a, b) => keyOf(b) - keyOf(a) || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  return { rows, ...(source ? { difficulty: source } : {}), warnings };
}

/** The source of an estimated difficulty. */
export function estimatedSource(est: InstructionDifficulty, models: number): DifficultySource {
  return { kind: "estimated", models, instructions: est.difficulty.size, covered: est.difficulty.size, C: est.C };
}

/**
 * Group annotations by model (`generator_2`, or `opts.modelOf`) and compute one {@link LeaderboardRow} per model,
 * sorted descending by length-controlled win rate (or win rate), with where the instruction difficulty came from
 * and warnings. Preferences given as numeric strings are parsed. Runs on the calling thread; `alpacaEvalBoardThreaded`
 * spreads the same work over worker threads.
 */
export function alpacaEvalBoard(annotations: readonly AlpacaEvalAnnotation[], opts: LeaderboardOptions = {}): AlpacaEvalBoard {
  const plan = planBoard(annotations, opts);
  if (!plan.withLC) return finishBoard(plan, undefined, [], opts.sortBy);
  let done = 0;
  let total = 0;
  const tick = (note: string) => opts.onProgress?.(++done, total, note);
  let difficulty: ReadonlyMap<string, number>;
  let source: DifficultySource;
  if ("estimate" in plan.difficulty!) {
    const problem = instructionDifficultyProblem(annotations, { ...plan.keys, ...plan.cv });
    const k = difficultyFolds(problem);
    total = boardUnits(plan, k);
    const paths = Array.from({ length: k }, (_, f) => {
      const p = difficultyFoldPath(problem, f);
      tick(`instruction difficulty: fold ${f + 1} of ${k}`);
      return p;
    });
    const est = difficultyFromPaths(problem, paths);
    tick("instruction difficulty: refit");
    difficulty = est.difficulty;
    source = estimatedSource(est, plan.difficulty.models);
  } else {
    total = boardUnits(plan, 0);
    difficulty = plan.difficulty!.given;
    source = plan.difficulty!.source;
  }
  const lc = [...plan.groups].map(([model, rows]) => {
    const res = lengthControlledWinRate(rows, {
      ...plan.keys,
      ...plan.cv,
      instructionDifficulty: difficulty,
      ...(opts.gamedAnnotations ? { gamedAnnotations: opts.gamedAnnotations } : {}),
    });
    tick(model);
    return res;
  });
  return finishBoard(plan, source, lc, opts.sortBy);
}

/** {@link alpacaEvalBoard}'s rows alone. */
export function alpacaEvalLeaderboard(annotations: readonly AlpacaEvalAnnotation[], opts: LeaderboardOptions = {}): LeaderboardRow[] {
  return alpacaEvalBoard(annotations, opts).rows;
}

// ------------------------------------------------------------- decisions ---

/**
 * The baseline of a set of pairwise comparisons: the policy every other is compared against, i.e. the one that
 * takes part in the most comparisons (in either position). Ties go to the one more often in the first position
 * (AlpacaEval's files put the baseline first), then to name order. Undefined when there are no comparisons.
 */
export function defaultBaseline(rows: Iterable<Pick<AlpacaEvalAnnotation, "generator_1" | "generator_2">>): string | undefined {
  const total = new Map<string, number>();
  const first = new Map<string, number>();
  for (const r of rows) {
    if (r.generator_1 === r.generator_2) continue;
    total.set(r.generator_1, (total.get(r.generator_1) ?? 0) + 1);
    total.set(r.generator_2, (total.get(r.generator_2) ?? 0) + 1);
    first.set(r.generator_1, (first.get(r.generator_1) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const m of total.keys()) {
    if (best === undefined) {
      best = m;
      continue;
    }
    const d = total.get(m)! - total.get(best)! || (first.get(m) ?? 0) - (first.get(best) ?? 0);
    if (d > 0 || (d === 0 && m < best)) best = m;
  }
  return best;
}

/**
 * The comparisons that involve `baseline`, with the baseline as `output_1`: rows with it second are mirrored
 * (outputs and generators swapped, preference p → 3 − p; draws and missing preferences stay as they are). Rows
 * without it, or of the baseline against itself, are dropped.
 */
export function orientToBaseline(rows: readonly AlpacaEvalAnnotation[], baseline: string): AlpacaEvalAnnotation[] {
  return rows.flatMap((r): AlpacaEvalAnnotation[] => {
    if (r.generator_1 === baseline && r.generator_2 !== baseline) return [r];
    if (r.generator_2 === baseline && r.generator_1 !== baseline) {
      const p = parsePreference(r.preference);
      const mirrored = Number.isNaN(p) ? null : p >= 1 && p <= 2 ? 3 - p : p;
      const swapped: AlpacaEvalAnnotation = { ...r, output_1: r.output_2, generator_1: r.generator_2, output_2: r.output_1, generator_2: r.generator_1, preference: mirrored };
      delete swapped.output_1_length;
      delete swapped.output_2_length;
      if (r.output_2_length !== undefined) swapped.output_1_length = r.output_2_length;
      if (r.output_1_length !== undefined) swapped.output_2_length = r.output_1_length;
      return [swapped];
    }
    return [];
  });
}

/** A baseline for pairwise rows: the one asked for (which must take part in some comparison), else {@link defaultBaseline}. */
export function resolveBaseline(rows: readonly AlpacaEvalAnnotation[], baseline?: string): string | undefined {
  if (baseline === undefined) return defaultBaseline(rows);
  const policies = new Set<string>();
  for (const r of rows) {
    if (r.generator_1 === r.generator_2) continue;
    policies.add(r.generator_1);
    policies.add(r.generator_2);
  }
  if (!policies.has(baseline)) {
    const some = [...policies].sort().slice(0, 10);
    throw new ValidationError([
      { path: "baseline", message: `no comparison involves ${JSON.stringify(baseline)}${some.length ? `; policies compared: ${some.join(", ")}${policies.size > 10 ? ", ..." : ""}` : ""}` },
    ]);
  }
  return baseline;
}

/**
 * The model a file of AlpacaEval annotations is about. AlpacaEval names a model by where its results live
 * (`results/<model>/<annotator>/annotations.json`), not by `generator_2` (NullModel's rows say "example"), so a
 * file holding one generator is named after its own name (without .json, .jsonl, .gz), or after its model
 * directory when it is called annotations.json; a file holding several generators keeps each row's `generator_2`
 * (undefined is returned).
 */
export function alpacaEvalModelName(path: string, generators: ReadonlySet<string>): string | undefined {
  if (generators.size !== 1) return undefined;
  const stem = basename(path).replace(/(\.json|\.jsonl)?(\.gz)?$/i, "");
  if (stem === "annotations") {
    const dir = basename(dirname(dirname(path)));
    return dir && dir !== "." && dir !== "/" ? dir : undefined;
  }
  return stem || undefined;
}

/**
 * The AlpacaEval leaderboard of pairwise comparisons given in any orientation (as stored feedback is): the
 * baseline ({@link resolveBaseline}), the comparisons turned to face it ({@link orientToBaseline}), their board.
 */
export function alpacaEvalBoardFromPairs(
  pairs: readonly AlpacaEvalAnnotation[],
  opts: LeaderboardOptions & { baseline?: string } = {},
): AlpacaEvalBoard & { baseline?: string } {
  const baseline = resolveBaseline(pairs, opts.baseline);
  if (baseline === undefined) return { rows: [], warnings: [] };
  return { baseline, ...alpacaEvalBoard(orientToBaseline(pairs, baseline), opts) };
}
