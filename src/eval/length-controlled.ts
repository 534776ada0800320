/**
 * Length-controlled AlpacaEval win rate (Dubois, Galambosi, Liang & Hashimoto 2024, "Length-Controlled AlpacaEval:
 * A Simple Way to Debias Automatic Evaluators"), GLM `length_controlled_v1`.
 *
 * For one evaluated model m against the baseline b, AlpacaEval fits the logistic GLM
 *
 *     logit P(m ≻ b | x) = θ_len · tanh(Δ_x / σ_m) + θ_diff · γ_x + θ_m · 1[not a gamed baseline]
 *
 * with Δ_x = len(baseline output) − len(model output) (characters; note the sign: longer model outputs give a
 * negative Δ, and θ_len comes out negative), σ_m the sample standard deviation (ddof = 1) of Δ over all of m's
 * rows, γ_x the per-instruction difficulty, and no other intercept. It is fitted on soft targets y = preference − 1
 * by L1-penalised logistic regression (liblinear, no intercept) with C chosen from `logspace(-4, 4, 10)` by 5-fold
 * GroupKFold cross-validation on the soft log loss. Optionally, annotations of "gamed" baselines (the baseline
 * prompted to be verbose / concise) are appended with the not-gamed indicator set to 0 and sample weight λ/2
 * (λ = 0.2), which ties θ_len and θ_diff to what pure length changes of the baseline do.
 *
 * The length-controlled win rate is the model's predicted win rate with the length term removed:
 *
 *     LC = 100 · mean_x sigmoid(θ_diff · γ_x + θ_m)        lc_standard_error = 100 · sem_x(same)
 *
 * over all of m's instructions (including those with a missing preference).
 */

import { ValidationError } from "../errors.js";
import { type AlpacaEvalAnnotation, outputLength, preferenceToProbability } from "./alpaca-eval.js";
import { type FactorDesign, FactorDesignBuilder, factorFoldPath, fitL1LogisticFactorCV, refitFactorCV } from "./logistic-factor.js";
import { groupKFoldIds } from "./logistic.js";
import { logspace, mean, sem, sigmoid, std } from "./stats.js";

/** Regularisation-to-baseline strength used by AlpacaEval's `length_controlled_v1`. */
export const LC_REGULARIZE_TO_BASELINE_LAMBDA = 0.2;

/** How annotations are identified. */
export interface AnnotationKeys {
  /** Key identifying an instruction across models (default: the instruction text). */
  instructionKey?: (a: AlpacaEvalAnnotation) => string;
  /** Model name of an annotation (default: `generator_2`). */
  modelOf?: (a: AlpacaEvalAnnotation) => string;
}

/** Cross-validation settings for the L1 logistic fits. */
export interface GlmCvOptions {
  /** Grid of inverse regularisation strengths (default `logspace(-4, 4, 10)`). */
  Cs?: readonly number[];
  /** Number of GroupKFold folds (default 5). */
  nFolds?: number;
}

const defaultKey = (a: AlpacaEvalAnnotation): string => a.instruction;
const defaultModel = (a: AlpacaEvalAnnotation): string => a.generator_2;

/** Standardised, tanh-squashed length difference `tanh((len_1 − len_2) / sd)` for each annotation. */
export function lengthFeature(rows: readonly AlpacaEvalAnnotation[]): Float64Array {
  const delta = rows.map((a) => outputLength(a, 1) - outputLength(a, 2));
  const sd = std(delta, 1);
  const out = new Float64Array(rows.length);
  if (!(sd > 0)) return out; // constant (or single) length difference: no usable length signal
  for (let i = 0; i < rows.length; i++) out[i] = Math.tanh(delta[i]! / sd);
  return out;
}

/** Per-instruction difficulty estimate and the joint fit it came from. */
export interface InstructionDifficulty {
  /** γ per instruction key (logit scale; higher = evaluated models fare better on it). */
  difficulty: Map<string, number>;
  /** Instruction whose γ is fixed to 0 (treatment coding). */
  reference: string;
  /** Per-model bias of the joint fit (added to the shared not-gamed intercept). */
  modelBias: Map<string, number>;
  /** Per-model length coefficient of the joint fit. */
  lengthSlope: Map<string, number>;
  /** Shared not-gamed-baseline intercept of the joint fit. */
  intercept: number;
  /** C selected by cross-validation. */
  C: number;
  /** Number of annotation rows used. */
  nRows: number;
}

/** The joint GLM's data: design, soft targets, folds, the grid of C, and what its rows and levels are. */
export interface DifficultyProblem {
  X: FactorDesign;
  y: Float64Array;
  folds: Int32Array;
  Cs: number[];
  models: string[];
  instructions: string[];
}

/**
 * The joint GLM of {@link estimateInstructionDifficulty} as a problem for {@link fitL1LogisticFactorCV}: ordinary
 * features [not-gamed, bias per model, length slope per model], and the instruction as a factor whose first level
 * is the reference. Rows with a missing preference or an empty model output are skipped, as in AlpacaEval's
 * notebook; rows are ordered by model, then as given (which fixes the GroupKFold folds).
 */
export function instructionDifficultyProblem(annotations: readonly AlpacaEvalAnnotation[], opts: AnnotationKeys & GlmCvOptions = {}): DifficultyProblem {
  const keyOf = opts.instructionKey ?? defaultKey;
  const modelOf = opts.modelOf ?? defaultModel;
  const byModel = new Map<string, AlpacaEvalAnnotation[]>();
  const instructions: string[] = [];
  const instrIndex = new Map<string, number>();
  for (const a of annotations) {
    const y = preferenceToProbability(a.preference);
    if (Number.isNaN(y) || outputLength(a, 2) === 0) continue;
    const m = modelOf(a);
    let list = byModel.get(m);
    if (!list) byModel.set(m, (list = []));
    list.push(a);
    const k = keyOf(a);
    if (!instrIndex.has(k)) {
      instrIndex.set(k, instructions.length);
      instructions.push(k);
    }
  }
  if (instructions.length === 0) {
    const anyValid = annotations.some((a) => !Number.isNaN(preferenceToProbability(a.preference)));
    throw new ValidationError([
      anyValid
        ? { path: "output_2", message: "every annotation with a preference has an empty output_2: instruction difficulty cannot be estimated from empty outputs" }
        : { path: "preference", message: "no annotation has a valid preference (a number from 1 to 2, or 0 for a draw)" },
    ]);
  }
  const models = [...byModel.keys()];
  const nModels = models.length;
  const builder = new FactorDesignBuilder(1 + 2 * nModels, instructions.length - 1);
  const y: number[] = [];
  models.forEach((m, mi) => {
    const rows = byModel.get(m)!;
    const len = lengthFeature(rows);
    rows.forEach((a, i) => {
      builder.addRow([0, 1 + mi, 1 + nModels + mi], [1, 1, len[i]!], instrIndex.get(keyOf(a))! - 1);
      y.push(preferenceToProbability(a.preference));
    });
  });
  const X = builder.build();
  return { X, y: Float64Array.from(y), folds: groupKFoldIds(X.nRows, opts.nFolds ?? 5), Cs: [...(opts.Cs ?? logspace(-4, 4, 10))], models, instructions };
}

/** Number of fold paths of a {@link DifficultyProblem} (each can run on its own thread). */
export function difficultyFolds(problem: DifficultyProblem): number {
  let k = 0;
  for (let i = 0; i < problem.folds.length; i++) k = Math.max(k, problem.folds[i]! + 1);
  return k;
}

/** One fold's path over the grid of C (see {@link factorFoldPath}). */
export function difficultyFoldPath(problem: DifficultyProblem, fold: number): ReturnType<typeof factorFoldPath> {
  return factorFoldPath(problem.X, problem.y, undefined, problem.folds, fold, problem.Cs, { tol: DIFFICULTY_FOLD_TOL });
}

/** The refit at the chosen C, given every fold's path, read out as γ per instruction. */
export function difficultyFromPaths(problem: DifficultyProblem, paths: ReadonlyArray<ReturnType<typeof factorFoldPath>>): InstructionDifficulty {
  const fit = refitFactorCV(problem.X, problem.y, undefined, problem.Cs, paths, { tol: DIFFICULTY_TOL });
  const nModels = problem.models.length;
  const difficulty = new Map<string, number>();
  problem.instructions.forEach((k, i) => difficulty.set(k, i === 0 ? 0 : fit.levelCoef[i - 1]!));
  return {
    difficulty,
    reference: problem.instructions[0]!,
    modelBias: new Map(problem.models.map((m, mi) => [m, fit.coef[1 + mi]!])),
    lengthSlope: new Map(problem.models.map((m, mi) => [m, fit.coef[1 + nModels + mi]!])),
    intercept: fit.coef[0]!,
    C: fit.C,
    nRows: problem.X.nRows,
  };
}

/** Tolerances of the joint fit: the folds only rank the Cs; the refit is the answer. */
export const DIFFICULTY_FOLD_TOL = 1e-5;
const DIFFICULTY_TOL = 1e-9;

/**
 * Estimate AlpacaEval's per-instruction difficulty γ from many models' annotations against the same baseline.
 *
 * AlpacaEval does not derive γ per model: its `instruction_difficulty.csv` was fitted once, jointly over the
 * annotations of all leaderboard models (see the repository's `notebooks/instruction_difficulty.ipynb`), with the
 * joint GLM
 *
 *     logit P = θ_len,m · tanh(Δ_x / σ_m) + θ_m + γ_x + θ_0 · 1[not gamed]
 *
 * (patsy `C(generator_2):tanh(std_delta_len) + C(generator_2) + C(index) + not_gamed_baseline − 1`): a length
 * slope and bias per model, one fixed effect per instruction with the first instruction as reference (γ = 0), L1
 * logistic regression on soft targets with C chosen by 5-fold GroupKFold CV; γ_x is the fitted instruction effect.
 * This function refits exactly that model on the annotations it is given (rows with a missing preference or an
 * empty model output are skipped, as in the notebook), so with few models γ is noisier than AlpacaEval's, which
 * was fitted on the full early-2024 leaderboard. The fit profiles the instruction effects out
 * ({@link fitL1LogisticFactorCV}), which is exact and fast.
 */
export function estimateInstructionDifficulty(
  annotations: readonly AlpacaEvalAnnotation[],
  opts: AnnotationKeys & GlmCvOptions = {},
): InstructionDifficulty {
  const problem = instructionDifficultyProblem(annotations, opts);
  const paths = Array.from({ length: difficultyFolds(problem) }, (_, f) => difficultyFoldPath(problem, f));
  return difficultyFromPaths(problem, paths);
}

/** Options for {@link lengthControlledWinRate}. */
export interface LengthControlledOptions extends AnnotationKeys, GlmCvOptions {
  /** γ per instruction key (e.g. from {@link estimateInstructionDifficulty}); unknown keys get the mean γ. */
  instructionDifficulty: ReadonlyMap<string, number>;
  /**
   * Annotations of gamed baselines (the baseline prompted to be verbose / concise, judged against the plain
   * baseline). When given, they are appended with not-gamed = 0 and weight λ / (number of gamed models), as in
   * AlpacaEval (which uses two gamed models, hence λ/2). AlpacaEval's own gamed rows are not public in these data,
   * so by default none are used (AlpacaEval's `length_controlled_noreg` variant of the same formula).
   */
  gamedAnnotations?: readonly AlpacaEvalAnnotation[];
  /** λ for the gamed rows (default {@link LC_REGULARIZE_TO_BASELINE_LAMBDA}). */
  regularizeToBaselineLambda?: number;
}

/** Length-controlled win rate of one model and its GLM. */
export interface LengthControlledResult {
  length_controlled_winrate: number;
  lc_standard_error: number;
  /**
   * How `lc_standard_error` was computed: `instructions`, AlpacaEval's standard error of the per-instruction
   * predictions; `intercept`, the delta-method (sandwich) standard error of the model's intercept, used when the
   * predictions do not vary by instruction (the difficulty coefficient is 0), where the former would be a
   * meaningless 0; `baseline`, the baseline against itself (50 by construction, no error).
   */
  lc_standard_error_kind: "instructions" | "intercept" | "baseline";
  /** GLM coefficients: length term, instruction difficulty, not-gamed-baseline intercept. */
  coefficients: { length: number; instruction_difficulty: number; not_gamed_baseline: number };
  /** C picked by cross-validation (NaN when no fit was needed). */
  C: number;
  /** Per-annotation length-controlled win probability (same order as the input). */
  predictions: Float64Array;
}

/** A model's length-controlled GLM as numbers: what to fit (none for the baseline itself) and, per annotation, its
 * difficulty, length term and soft label (NaN when missing). */
export interface LengthControlledProblem {
  fit?: { X: FactorDesign; y: Float64Array; weights?: Float64Array; Cs: number[]; folds: Int32Array };
  gammas: Float64Array;
  len: Float64Array;
  labels: Float64Array;
}

const ALL_THREE = [0, 1, 2] as const;

/** The numbers of {@link lengthControlledWinRate}'s GLM for one model (see the module comment). */
export function lengthControlledProblem(annotations: readonly AlpacaEvalAnnotation[], opts: LengthControlledOptions): LengthControlledProblem {
  const keyOf = opts.instructionKey ?? defaultKey;
  const n = annotations.length;
  if (n === 0) throw new ValidationError([{ path: "annotations", message: "no annotations to compute a length-controlled win rate from" }]);
  let gammaDefault = 0;
  if (opts.instructionDifficulty.size) {
    for (const g of opts.instructionDifficulty.values()) gammaDefault += g;
    gammaDefault /= opts.instructionDifficulty.size;
  }
  const gamma = (a: AlpacaEvalAnnotation): number => opts.instructionDifficulty.get(keyOf(a)) ?? gammaDefault;
  const gammas = new Float64Array(n);
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    gammas[i] = gamma(annotations[i]!);
    labels[i] = preferenceToProbability(annotations[i]!.preference);
  }
  const len = lengthFeature(annotations);
  if (annotations.every((a) => a.generator_2 === a.generator_1)) return { gammas, len, labels };

  // Training rows: gamed baselines first (as AlpacaEval concatenates them), then the model's own rows.
  // Features: [length term, instruction difficulty, not-gamed-baseline indicator].
  const builder = new FactorDesignBuilder(3, 0);
  const y: number[] = [];
  const w: number[] = [];
  const gamed = opts.gamedAnnotations ?? [];
  if (gamed.length > 0) {
    const modelOf = opts.modelOf ?? defaultModel;
    const groups = new Map<string, AlpacaEvalAnnotation[]>();
    for (const a of gamed) {
      const m = modelOf(a);
      let g = groups.get(m);
      if (!g) groups.set(m, (g = []));
      g.push(a);
    }
    const lambda = opts.regularizeToBaselineLambda ?? LC_REGULARIZE_TO_BASELINE_LAMBDA;
    for (const rows of groups.values()) {
      const glen = lengthFeature(rows);
      rows.forEach((a, i) => {
        const p = preferenceToProbability(a.preference);
        if (Number.isNaN(p)) return;
        builder.addRow([0, 1], [glen[i]!, gamma(a)], -1);
        y.push(p);
        w.push(lambda / groups.size);
      });
    }
  }
  const nGamed = y.length;
  const own = [3, 3, 3];
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(labels[i]!)) continue;
    own[0] = len[i]!;
    own[1] = gammas[i]!;
    own[2] = 1;
    builder.addRow(ALL_THREE, own, -1);
    y.push(labels[i]!);
    w.push(1);
  }
  const X = builder.build();
  if (X.nRows === nGamed) {
    throw new ValidationError([{ path: "preference", message: "no annotation of this model has a valid preference (a number from 1 to 2, or 0 for a draw)" }]);
  }
  return {
    fit: {
      X,
      y: Float64Array.from(y),
      ...(gamed.length > 0 ? { weights: Float64Array.from(w) } : {}),
      Cs: [...(opts.Cs ?? logspace(-4, 4, 10))],
      folds: groupKFoldIds(X.nRows, opts.nFolds ?? 5),
    },
    gammas,
    len,
    labels,
  };
}

/** Fit a {@link LengthControlledProblem}'s GLM (cross-validated C); pure numbers in and out, so it can run anywhere. */
export function solveLengthControlled(fit: NonNullable<LengthControlledProblem["fit"]>): { coef: Float64Array; C: number } {
  const r = fitL1LogisticFactorCV(fit.X, fit.y, fit.weights, { Cs: fit.Cs, folds: fit.folds, tol: LC_TOL });
  return { coef: r.coef, C: r.C };
}

/** The length-controlled win rate from a problem and its fitted coefficients (none for the baseline itself). */
export function lengthControlledFromFit(problem: LengthControlledProblem, solved?: { coef: ArrayLike<number>; C: number }): LengthControlledResult {
  const n = problem.gammas.length;
  if (!problem.fit || !solved) {
    return {
      length_controlled_winrate: 50,
      lc_standard_error: 0,
      lc_standard_error_kind: "baseline",
      coefficients: { length: 0, instruction_difficulty: 0, not_gamed_baseline: 0 },
      C: NaN,
      predictions: new Float64Array(n).fill(0.5),
    };
  }
  const [bLen, bDiff, bNg] = [solved.coef[0]!, solved.coef[1]!, solved.coef[2]!];
  const predictions = new Float64Array(n);
  for (let i = 0; i < n; i++) predictions[i] = sigmoid(bDiff * problem.gammas[i]! + bNg);
  let se = sem(predictions) * 100;
  let kind: LengthControlledResult["lc_standard_error_kind"] = "instructions";
  if (bDiff === 0 || !(se > 1e-9)) {
    // Predictions constant across instructions: their spread says nothing. Use the sandwich variance of the
    // intercept, Σ (y − p)² / (Σ p(1 − p))², through the delta method (≈ the soft labels' standard error).
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      const y = problem.labels[i]!;
      if (Number.isNaN(y)) continue;
      const p = sigmoid(bLen * problem.len[i]! + bDiff * problem.gammas[i]! + bNg);
      num += (y - p) * (y - p);
      den += p * (1 - p);
    }
    const p0 = predictions[0]!;
    se = den > 0 ? 100 * p0 * (1 - p0) * (Math.sqrt(num) / den) : NaN;
    kind = "intercept";
  }
  return {
    length_controlled_winrate: mean(predictions) * 100,
    lc_standard_error: se,
    lc_standard_error_kind: kind,
    coefficients: { length: bLen, instruction_difficulty: bDiff, not_gamed_baseline: bNg },
    C: solved.C,
    predictions,
  };
}

/**
 * Length-controlled win rate of a single model (all annotations must share `generator_2`, or `modelOf`), following
 * AlpacaEval's `get_length_controlled_winrate` with GLM `length_controlled_v1` (see the module comment).
 * When the model is the baseline itself the result is 50 by construction.
 */
export function lengthControlledWinRate(
  annotations: readonly AlpacaEvalAnnotation[],
  opts: LengthControlledOptions,
): LengthControlledResult {
  const problem = lengthControlledProblem(annotations, opts);
  return lengthControlledFromFit(problem, problem.fit && solveLengthControlled(problem.fit));
}

/** Tolerance of the per-model GLM's refit (its folds use the default, which only ranks the Cs). */
const LC_TOL = 1e-9;
