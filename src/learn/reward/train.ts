/**
 * Training, evaluating and cross-validating reward models on preference pairs.
 *
 *     const pairs = await collectPairs(storeSource);            // any feedback kind, through the conversions
 *     const { model, metrics } = await trainRewardModel(pairs, { type: "bradley-terry", seed: 1 });
 *     const [s] = await model.score([{ prompt, response }]);
 */
import { RlxfError } from "../../errors.js";
import { createRng } from "../../eval/index.js";
import type { PreferencePair } from "../datasets/examples.js";
import { foldsByItem, splitByItem } from "../datasets/filters.js";
import { FeatureCache } from "../features/cache.js";
import type { FeatureInput, Featurizer } from "../features/featurizer.js";
import { hashedNgramFeaturizer } from "../features/hashed.js";
import { type SparseVector, csrFromRows, sparseConcat } from "../features/sparse.js";
import { fitGpm } from "./gpm.js";
import { headFromCompact, pairDesign } from "./linear.js";
import { type Solver, fitLogistic } from "./logistic.js";
import { type PairMetrics, fitTemperature, pairMetrics } from "./metrics.js";
import { type ModelMetadata, type ModelParams, type RewardModelType, RewardModel } from "./model.js";
import { type RobustOptions, flagNoisyPairs } from "./robust.js";

export interface TrainProgress {
  stage: "featurize" | "robust" | "fit" | "calibrate" | "evaluate";
  /** e.g. member 2 of 5, fold 1 of 3, round 1 of 3. */
  step?: number;
  total?: number;
  note?: string;
}

export interface TrainOptions {
  /** Default "bradley-terry". */
  type?: RewardModelType;
  /** Name recorded in the model (default "reward-model"). */
  name?: string;
  project?: string;
  /** Default: hashed n-grams with default settings. Ensembles of hashed featurizers give member m seed + m. */
  featurizer?: Featurizer;
  /** L2 strength λ (scikit-learn's C = 1/λ). Default 1 (Bradley-Terry, ensemble), 0.01 (GPM). */
  l2?: number;
  /**
   * Required margin per unit of stated strength: a pair with strength s is fitted to −log σ(r_c − r_r − margin·s),
   * as TRL's RewardTrainer does with its `margin` column. Default 0 (off).
   */
  margin?: number;
  /** Optimiser of the convex models (default "newton-cg"). */
  solver?: Solver;
  /** Relative gradient tolerance (default 1e-6). */
  tol?: number;
  /** Ensemble: number of members (default 5). */
  members?: number;
  /** Ensemble: k in the uncertainty-penalised reward mean − k·std (default 1). */
  penalty?: number;
  /** Ensemble: fit each member on a Poisson bootstrap of the pairs (default true). */
  bootstrap?: boolean;
  /** GPM: embedding dimension 2k (default 4). */
  dims?: number;
  /** Noise-robust training (default off). */
  robust?: RobustOptions;
  /** Fit a temperature on cross-fitted margins of the training pairs (default true). */
  calibrate?: boolean;
  /** Share of items held out for testing (default 0.2; 0 trains on everything). */
  testFraction?: number;
  /** Seed of the split, bootstraps, folds and random starts (default 0). */
  seed?: number;
  /** What the pairs were drawn from, recorded in the model. */
  query?: Record<string, unknown>;
  /** Share feature vectors with other calls (cross-validation folds). */
  cache?: FeatureCache;
  onProgress?: (p: TrainProgress) => void;
}

export interface TrainResult {
  model: RewardModel;
  train: PreferencePair[];
  test: PreferencePair[];
  metrics: { train: PairMetrics; test?: PairMetrics };
  /** Pairs flagged by noise-robust training, most suspicious first. */
  flagged: PreferencePair[];
}

const inputsOf = (pairs: readonly PreferencePair[], side: "chosen" | "rejected"): FeatureInput[] =>
  pairs.map((p) => ({ prompt: p.prompt, response: p[side].text }));

function offsets(pairs: readonly PreferencePair[], margin: number): Float64Array {
  return Float64Array.from(pairs, (p) => (margin > 0 && p.pChosen > 0.5 ? margin * (p.strength ?? 0) : 0));
}

/** Knuth's Poisson(1) draw: the Poisson bootstrap weight of one pair. */
function poisson1(rng: { next(): number }): number {
  const L = Math.exp(-1);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rng.next();
  } while (p > L);
  return k - 1;
}

interface FitContext {
  type: RewardModelType;
  featurizer: Featurizer;
  l2: number;
  margin: number;
  solver: Solver;
  tol: number;
  members: number;
  penalty: number;
  bootstrap: boolean;
  dims: number;
  seed: number;
  cache: FeatureCache;
  progress: (p: TrainProgress) => void;
}

function memberFeaturizer(base: Featurizer, m: number): Featurizer {
  if (base.spec.type !== "hashed-ngrams" || m === 0) return base;
  const { type: _t, ...rest } = base.spec;
  return hashedNgramFeaturizer({ ...rest, seed: base.spec.seed + m });
}

async function fitLinear(
  pairs: readonly PreferencePair[],
  featurizer: Featurizer,
  w: Float64Array | undefined,
  ctx: FitContext,
) {
  const chosen = await ctx.cache.vectors(featurizer, inputsOf(pairs, "chosen"));
  const rejected = await ctx.cache.vectors(featurizer, inputsOf(pairs, "rejected"));
  const d = pairDesign(chosen, rejected, Float64Array.from(pairs, (p) => p.pChosen), offsets(pairs, ctx.margin));
  const fit = fitLogistic({ X: d.X, y: d.y, offset: d.offset, l2: ctx.l2, ...(w ? { w } : {}) }, { solver: ctx.solver, tol: ctx.tol });
  return headFromCompact(d.X.columns, fit.coef);
}

/** Fit the model's parameters on `pairs` (with optional pair weights). */
async function fitParams(pairs: readonly PreferencePair[], weights: Float64Array | undefined, ctx: FitContext): Promise<ModelParams> {
  if (pairs.length === 0) throw new RlxfError("no_data", "no preference pairs to train on");
  if (ctx.type === "bradley-terry") {
    ctx.progress({ stage: "fit" });
    return { type: "bradley-terry", featurizer: ctx.featurizer, head: await fitLinear(pairs, ctx.featurizer, weights, ctx) };
  }
  if (ctx.type === "ensemble") {
    const members: Array<{ featurizer: Featurizer; head: ReturnType<typeof headFromCompact> }> = [];
    for (let m = 0; m < ctx.members; m++) {
      ctx.progress({ stage: "fit", step: m + 1, total: ctx.members, note: "ensemble member" });
      const fz = memberFeaturizer(ctx.featurizer, m);
      let w = weights ? Float64Array.from(weights) : new Float64Array(pairs.length).fill(1);
      if (ctx.bootstrap) {
        const rng = createRng(ctx.seed * 7919 + m + 1);
        w = w.map((x) => x * poisson1(rng));
        if (!w.some((x) => x > 0)) w = weights ? Float64Array.from(weights) : new Float64Array(pairs.length).fill(1);
      }
      members.push({ featurizer: fz, head: await fitLinear(pairs, fz, w, ctx) });
    }
    return { type: "ensemble", members, penalty: ctx.penalty };
  }
  // GPM: distinct responses (with a constant feature) and pair indices into them.
  ctx.progress({ stage: "fit", note: "general preference model" });
  const fz = ctx.featurizer;
  const biasIndex = fz.dim;
  const chosen = await ctx.cache.vectors(fz, inputsOf(pairs, "chosen"));
  const rejected = await ctx.cache.vectors(fz, inputsOf(pairs, "rejected"));
  const rowOf = new Map<SparseVector, number>();
  const rows: SparseVector[] = [];
  const one: SparseVector = { index: Int32Array.of(0), value: Float64Array.of(1) };
  const row = (v: SparseVector) => {
    let r = rowOf.get(v);
    if (r === undefined) {
      r = rows.length;
      rowOf.set(v, r);
      rows.push(sparseConcat(v, one, biasIndex));
    }
    return r;
  };
  const a = Int32Array.from(chosen, row);
  const b = Int32Array.from(rejected, row);
  const fit = fitGpm(
    { responses: csrFromRows(rows), a, b, y: Float64Array.from(pairs, (p) => p.pChosen), ...(weights ? { w: weights } : {}), biasIndex },
    { dims: ctx.dims, l2: ctx.l2, seed: ctx.seed, tol: ctx.tol },
  );
  return { type: "gpm", featurizer: fz, head: fit.head };
}

/** Margins (logit of P(chosen ≻ rejected)) of pairs under a model. */
export async function pairMargins(model: RewardModel, pairs: readonly PreferencePair[]): Promise<Float64Array> {
  const preds = await model.compare(pairs.map((p) => ({ prompt: p.prompt, first: p.chosen.text, second: p.rejected.text })));
  return Float64Array.from(preds, (x) => x.margin);
}

/** Pairwise accuracy, log-loss, calibration error and accuracy by margin of a model on pairs. */
export async function evaluateRewardModel(model: RewardModel, pairs: readonly PreferencePair[]): Promise<PairMetrics> {
  const z = await pairMargins(model, pairs);
  return pairMetrics(
    z,
    Float64Array.from(pairs, (p) => p.pChosen),
    { strength: pairs.map((p) => p.strength) },
  );
}

function contextOf(opts: TrainOptions): FitContext {
  const type = opts.type ?? "bradley-terry";
  const seed = opts.seed ?? 0;
  return {
    type,
    featurizer: opts.featurizer ?? hashedNgramFeaturizer(),
    l2: opts.l2 ?? (type === "gpm" ? 0.01 : 1),
    margin: opts.margin ?? 0,
    solver: opts.solver ?? "newton-cg",
    tol: opts.tol ?? 1e-6,
    members: opts.members ?? 5,
    penalty: opts.penalty ?? 1,
    bootstrap: opts.bootstrap ?? true,
    dims: opts.dims ?? 4,
    seed,
    cache: opts.cache ?? new FeatureCache(),
    progress: opts.onProgress ?? (() => {}),
  };
}

/**
 * Train a reward model: split by item (test share `testFraction`), optionally flag noisy training pairs,
 * fit, calibrate a temperature on cross-fitted margins, and evaluate on both sides.
 */
export async function trainRewardModel(pairs: readonly PreferencePair[], opts: TrainOptions = {}): Promise<TrainResult> {
  if (opts.type === "segments") {
    throw new RlxfError("wrong_kind", "segment reward models learn from span feedback, not pairs: use trainSegmentModel (CLI: rlxf rm train --type segments)");
  }
  const t0 = performance.now();
  const ctx = contextOf(opts);
  const testFraction = opts.testFraction ?? 0.2;
  const usable = pairs.filter((p) => p.chosen.text !== p.rejected.text || p.pChosen === 0.5);
  const { train, test } = testFraction > 0 ? splitByItem(usable, testFraction, ctx.seed) : { train: [...usable], test: [] };
  if (train.length === 0) throw new RlxfError("no_data", `no training pairs (of ${pairs.length}; test share ${testFraction})`);

  ctx.progress({ stage: "featurize", note: `${train.length + test.length} pairs` });
  await ctx.cache.vectors(ctx.featurizer, [...inputsOf(train, "chosen"), ...inputsOf(train, "rejected")]);

  let weights: Float64Array | undefined;
  let flagged: PreferencePair[] = [];
  if (opts.robust) {
    const chosen = await ctx.cache.vectors(ctx.featurizer, inputsOf(train, "chosen"));
    const rejected = await ctx.cache.vectors(ctx.featurizer, inputsOf(train, "rejected"));
    const r = flagNoisyPairs(
      { chosen, rejected, y: Float64Array.from(train, (p) => p.pChosen), offset: offsets(train, ctx.margin), records: train },
      {
        ...opts.robust,
        l2: ctx.type === "gpm" ? 1 : ctx.l2,
        solver: ctx.solver,
        seed: ctx.seed,
        onRound: (round, rounds) => ctx.progress({ stage: "robust", step: round, total: rounds, note: opts.robust!.method }),
      },
    );
    weights = r.weights;
    flagged = r.flagged.map((i) => train[i]!);
  }

  const params = await fitParams(train, weights, ctx);
  const meta: ModelMetadata = {
    name: opts.name ?? "reward-model",
    project: opts.project ?? train[0]!.project,
    createdAt: new Date().toISOString(),
    seed: ctx.seed,
  };
  const model = new RewardModel(params, meta, 1, ctx.cache);

  if ((opts.calibrate ?? true) && train.length >= 30) {
    // Out-of-fold margins of the training pairs (3 folds by item), then one temperature for them.
    const k = 3;
    const folds = foldsByItem(train, k, ctx.seed + 1);
    const z = new Float64Array(train.length);
    for (let f = 0; f < k; f++) {
      ctx.progress({ stage: "calibrate", step: f + 1, total: k });
      const inIdx: number[] = [];
      const outIdx: number[] = [];
      folds.forEach((g, i) => (g === f ? outIdx : inIdx).push(i));
      if (inIdx.length === 0 || outIdx.length === 0) continue;
      const w = weights ? Float64Array.from(inIdx, (i) => weights![i]!) : undefined;
      const sub = new RewardModel(await fitParams(inIdx.map((i) => train[i]!), w, { ...ctx, progress: () => {} }), meta, 1, ctx.cache);
      const m = await pairMargins(sub, outIdx.map((i) => train[i]!));
      outIdx.forEach((i, t) => (z[i] = m[t]!));
    }
    const keep = weights ? [...z.keys()].filter((i) => weights![i]! > 0) : [...z.keys()];
    model.temperature = fitTemperature(
      keep.map((i) => z[i]!),
      keep.map((i) => train[i]!.pChosen),
    );
  }

  ctx.progress({ stage: "evaluate" });
  const metrics: TrainResult["metrics"] = { train: await evaluateRewardModel(model, train) };
  if (test.length) metrics.test = await evaluateRewardModel(model, test);
  const options: Record<string, unknown> = {
    type: ctx.type,
    l2: ctx.l2,
    margin: ctx.margin,
    solver: ctx.solver,
    tol: ctx.tol,
    testFraction,
    calibrate: opts.calibrate ?? true,
  };
  if (ctx.type === "ensemble") Object.assign(options, { members: ctx.members, penalty: ctx.penalty, bootstrap: ctx.bootstrap });
  if (ctx.type === "gpm") options.dims = ctx.dims;
  if (opts.robust) options.robust = opts.robust;
  model.meta.training = {
    query: opts.query ?? {},
    trainPairs: train.length,
    testPairs: test.length,
    options,
    ...(opts.robust ? { robust: { method: opts.robust.method, flagged: flagged.length, mode: opts.robust.mode ?? "drop" } } : {}),
    durationMs: Math.round(performance.now() - t0),
  };
  model.meta.metrics = { train: metrics.train, ...(metrics.test ? { test: metrics.test } : {}) };
  return { model, train, test, metrics, flagged };
}

export interface CrossValidation {
  folds: number;
  /** Pooled over all held-out pairs. */
  metrics: PairMetrics;
  /** Accuracy of each fold. */
  perFold: number[];
  /** Baselines on the same pairs: always prefer the shorter / the longer output (ties by length count half). */
  baselines: { shorter: number; longer: number };
}

/** k-fold cross-validation by item: train on k−1 folds, predict the held-out fold, pool the predictions. */
export async function crossValidateRewardModel(
  pairs: readonly PreferencePair[],
  opts: Omit<TrainOptions, "testFraction"> & { folds?: number } = {},
): Promise<CrossValidation> {
  const k = opts.folds ?? 5;
  const seed = opts.seed ?? 0;
  const usable = pairs.filter((p) => p.chosen.text !== p.rejected.text || p.pChosen === 0.5);
  const folds = foldsByItem(usable, k, seed);
  const cache = opts.cache ?? new FeatureCache();
  const z = new Float64Array(usable.length);
  const perFold: number[] = [];
  for (let f = 0; f < k; f++) {
    opts.onProgress?.({ stage: "fit", step: f + 1, total: k, note: "cross-validation fold" });
    const train: PreferencePair[] = [];
    const testIdx: number[] = [];
    folds.forEach((g, i) => (g === f ? testIdx.push(i) : train.push(usable[i]!)));
    const { onProgress: _p, folds: _f, ...rest } = opts;
    const { model } = await trainRewardModel(train, { ...rest, testFraction: 0, cache });
    const test = testIdx.map((i) => usable[i]!);
    const m = await pairMargins(model, test);
    testIdx.forEach((i, t) => (z[i] = m[t]!));
    perFold.push(pairMetrics(m, Float64Array.from(test, (p) => p.pChosen)).accuracy);
  }
  let shorter = 0;
  let decided = 0;
  for (const p of usable) {
    if (p.pChosen === 0.5) continue;
    decided++;
    const c = p.chosen.text.length;
    const r = p.rejected.text.length;
    shorter += c < r ? 1 : c === r ? 0.5 : 0;
  }
  return {
    folds: k,
    metrics: pairMetrics(z, Float64Array.from(usable, (p) => p.pChosen), { strength: usable.map((p) => p.strength) }),
    perFold,
    baselines: { shorter: decided ? shorter / decided : NaN, longer: decided ? 1 - shorter / decided : NaN },
  };
}
