/**
 * `rm-train`: a reward model trained on stored feedback (the learn room's trainers) and saved as the next
 * version of its name; `lab-run` and `lab-sweep`: the lab's comparisons of methods, saved as lab results.
 * Training reports its stages as progress; a cancelled job stops at the next stage or method (a stage that
 * computes for long without reporting ends with its worker thread).
 */
import { isAbsolute, join, normalize, sep } from "node:path";
import { z } from "zod";
import { RlxfError, ValidationError } from "../../errors.js";
import { FEEDBACK_KINDS, SOURCE_TYPES } from "../../feedback/schema.js";
import { LAB_FEEDBACK_SOURCES, type LabRunOptions, checkRunOptions, environmentSummary, loadLabEnvironment, parseMethods, runLab, runSweep, saveLabResult } from "../../lab/index.js";
import { PAIR_DERIVATIONS, REWARD_MODEL_TYPES, type TrainProgress, collectPairs, crossValidateRewardModel, hashedNgramFeaturizer, saveRewardModel, trainRewardModel } from "../../learn/index.js";
import type { JobKind, TaskContext } from "../types.js";

// ---------------------------------------------------------------- rm-train ---

export const RmTrainInput = z.strictObject({
  name: z.string().min(1).max(200),
  type: z.enum(REWARD_MODEL_TYPES).default("bradley-terry"),
  kinds: z.array(z.enum(FEEDBACK_KINDS)).min(1).optional(),
  sourceType: z.enum(SOURCE_TYPES).optional(),
  from: z.array(z.enum(PAIR_DERIVATIONS)).min(1).optional(),
  l2: z.number().positive().optional(),
  margin: z.number().min(0).optional(),
  solver: z.enum(["newton-cg", "lbfgs"]).default("newton-cg"),
  members: z.number().int().min(1).max(50).default(5),
  penalty: z.number().min(0).default(1),
  dims: z.number().int().min(1).max(64).default(4),
  robust: z.strictObject({ method: z.enum(["crossfit", "peers"]), rate: z.number().min(0).max(0.5).default(0.1), mode: z.enum(["drop", "downweight"]).default("drop") }).optional(),
  testFraction: z.number().min(0).max(0.9).default(0.2),
  calibrate: z.boolean().default(true),
  cv: z.number().int().min(2).max(20).optional(),
  seed: z.number().int().min(0).default(0),
  bits: z.number().int().min(8).max(24).default(18),
  ngrams: z.array(z.number().int().min(1).max(5)).min(1).default([1, 2]),
  save: z.boolean().default(true),
});
export type RmTrainInput = z.infer<typeof RmTrainInput>;

/** A progress callback that also stops the work when the job is cancelled (the learn room calls it between stages). */
function stages(ctx: TaskContext<unknown>): (p: TrainProgress) => void {
  let n = 0;
  return (p) => {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    ctx.progress(++n, null, `${p.stage}${p.step !== undefined ? ` ${p.step}/${p.total ?? "?"}` : ""}${p.note ? ` (${p.note})` : ""}`);
  };
}

export const rmTrainKind: JobKind<RmTrainInput> = {
  name: "rm-train",
  description: "train a reward model on stored feedback and save it as the next version of its name",
  input: RmTrainInput,
  roles: ["admin"],
  maxAttempts: 2,
  split: (input) => ({ input, split: { phase: "whole" } }),
  async runWhole(ctx) {
    const { store, job } = ctx;
    const o = job.input;
    const project = job.project;
    // The job is recorded with the model: an attempt after one that saved it (and died before saying so)
    // reports that version instead of training and saving another.
    const query = { project, ...(o.kinds ? { kinds: o.kinds } : {}), ...(o.sourceType ? { sourceType: o.sourceType } : {}), ...(o.from ? { derivations: o.from } : {}), job: job.id };
    if (o.save) {
      const prior = (await store.models.list({ project, name: o.name })).find((m) => (m.summary.query as { job?: string } | undefined)?.job === job.id);
      if (prior) return { name: prior.name, version: prior.version, type: prior.summary.type, saved: "by an earlier attempt of this job", summary: prior.summary };
    }
    ctx.progress(0, null, "reading feedback");
    const pairs = await collectPairs(
      {
        resolvedFeedback: () => store.iterateResolvedFeedback({ project, ...(o.kinds ? { kind: o.kinds } : {}), ...(o.sourceType ? { sourceType: o.sourceType } : {}) }),
        generations: () => store.iterateGenerations({ project }),
      },
      { ...(o.from ? { pairsFrom: o.from } : {}), onRecord: () => { if (ctx.signal.aborted) throw ctx.signal.reason; } },
    );
    if (pairs.length === 0) throw new RlxfError("no_data", `no preference pairs in project "${project}" with these filters (import or collect feedback first)`);
    const common = {
      type: o.type,
      name: o.name,
      project,
      featurizer: hashedNgramFeaturizer({ bits: o.bits, ngrams: o.ngrams, seed: o.seed }),
      solver: o.solver,
      members: o.members,
      penalty: o.penalty,
      dims: o.dims,
      seed: o.seed,
      calibrate: o.calibrate,
      query,
      onProgress: stages(ctx as TaskContext<unknown>),
      ...(o.l2 !== undefined ? { l2: o.l2 } : {}),
      ...(o.margin !== undefined ? { margin: o.margin } : {}),
      ...(o.robust ? { robust: o.robust } : {}),
    };
    const cv = o.cv ? await crossValidateRewardModel(pairs, { ...common, folds: o.cv }) : undefined;
    const result = await trainRewardModel(pairs, { ...common, testFraction: o.testFraction });
    const model = result.model;
    if (cv) model.meta.metrics = { ...model.meta.metrics, cv: { folds: cv.folds, accuracy: cv.metrics.accuracy, logLoss: cv.metrics.logLoss, perFold: cv.perFold } };
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const saved = o.save ? await saveRewardModel(store, model) : undefined;
    return {
      name: model.meta.name,
      ...(saved ? { version: saved.version } : {}),
      type: model.type,
      pairs: pairs.length,
      train: result.train.length,
      test: result.test.length,
      temperature: model.temperature,
      seed: o.seed,
      metrics: result.metrics,
      ...(cv ? { cv: { folds: cv.folds, accuracy: cv.metrics.accuracy, logLoss: cv.metrics.logLoss, baselines: cv.baselines } } : {}),
      flagged: result.flagged.length,
    };
  },
};

// --------------------------------------------------------------------- lab ---

const Settings = z
  .strictObject({
    steps: z.number().int().min(1).max(100_000),
    lr: z.number().positive(),
    beta: z.number().positive(),
    klCoef: z.number().min(0),
    batch: z.number().int().min(1).max(100_000),
    group: z.number().int().min(1).max(1000),
    bestOfN: z.number().int().min(1).max(10_000),
    rounds: z.number().int().min(1).max(1000),
    evalEvery: z.number().int().min(1),
  })
  .partial();

const LabCommon = {
  /**
   * AlpacaEval annotation files or directories. Over the API: names inside the workers' `RLXF_LAB_DATA`
   * directory; from the command line: paths as the workers see them.
   */
  paths: z.array(z.string().min(1).max(1000)).min(1).max(1000),
  methods: z.string().min(1).default("all"),
  feedback: z.enum(LAB_FEEDBACK_SOURCES).optional(),
  lengthBias: z.number().min(0).max(1).optional(),
  instructions: z.number().int().min(1).optional(),
  models: z.array(z.string().min(1)).optional(),
  exclude: z.array(z.string().min(1)).optional(),
  testFraction: z.number().min(0).max(0.9).default(0.2),
  settings: Settings.default({}),
  lc: z.boolean().default(true),
  /** Keep the result in the store under this name (the web app plots it). */
  save: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
};

export const LabRunInput = z.strictObject({ ...LabCommon, pFlip: z.number().min(0).max(0.5).optional(), labels: z.number().int().min(1).max(10_000_000).default(1000), seed: z.number().int().min(0).default(0) });
export type LabRunInput = z.infer<typeof LabRunInput>;
export const LabSweepInput = z.strictObject({
  ...LabCommon,
  pFlips: z.array(z.number().min(0).max(0.5)).min(1).max(50).default([0, 0.25]),
  labels: z.array(z.number().int().min(1).max(10_000_000)).min(1).max(50).default([300, 1000]),
  seeds: z.array(z.number().int().min(0)).min(1).max(50).default([0]),
});
export type LabSweepInput = z.infer<typeof LabSweepInput>;

/** Where the workers find lab data named over the API. */
export function labDataDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.RLXF_LAB_DATA || undefined;
}

/** Paths of a lab job as this worker reads them: relative names resolve inside `RLXF_LAB_DATA`. */
function labPaths(paths: readonly string[]): string[] {
  const root = labDataDir();
  return paths.map((p) => {
    if (isAbsolute(p)) return p;
    if (!root) throw new ValidationError([{ path: "paths", message: `"${p}" is relative, and this worker has no RLXF_LAB_DATA directory to find it in` }], undefined, "job input");
    return join(root, p);
  });
}

/** Over the API only names inside the lab data directory are allowed (never `..` or an absolute path). */
function checkApiPaths(paths: readonly string[]): void {
  paths.forEach((p, i) => {
    const n = normalize(p);
    if (isAbsolute(p) || n.startsWith("..") || n.split(sep).includes("..")) {
      throw new ValidationError([{ path: `paths.${i}`, message: "must name a file or directory inside the workers' lab data directory (RLXF_LAB_DATA), without .. or a leading /" }], undefined, "job input");
    }
  });
}

async function environmentOf(ctx: TaskContext<LabRunInput | LabSweepInput>, seed: number) {
  const o = ctx.job.input;
  ctx.progress(0, null, "loading the environment");
  return loadLabEnvironment(labPaths(o.paths), {
    seed,
    testFraction: o.testFraction,
    ...(o.instructions !== undefined ? { maxInstructions: o.instructions } : {}),
    ...(o.models ? { models: o.models } : {}),
    ...(o.exclude ? { excludeModels: o.exclude } : {}),
    difficulty: o.lc,
  });
}

export const labRunKind: JobKind<LabRunInput> = {
  name: "lab-run",
  description: "the lab: train each method from one feedback source and label budget, measured exactly; saved when named",
  input: LabRunInput,
  roles: ["admin"],
  maxAttempts: 2,
  check(input, env) {
    if (env.origin === "api") checkApiPaths(input.paths);
    parseMethods(input.methods);
  },
  split: (input) => ({ input, split: { phase: "whole" } }),
  async runWhole(ctx) {
    const o = ctx.job.input;
    const methods = parseMethods(o.methods);
    const options: LabRunOptions = {
      methods,
      ...(o.feedback ? { feedback: o.feedback } : {}),
      ...(o.pFlip !== undefined ? { pFlip: o.pFlip } : {}),
      ...(o.lengthBias !== undefined ? { lengthBias: o.lengthBias } : {}),
      labels: o.labels,
      seed: o.seed,
      settings: o.settings,
      lengthControlled: o.lc,
    };
    checkRunOptions(options);
    const env = await environmentOf(ctx, o.seed);
    let done = 0;
    const run = await runLab(env, {
      ...options,
      onMethod: (m, k) => {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        if (k > 0) done++;
        ctx.progress(done, methods.length, m);
      },
    });
    ctx.progress(methods.length, methods.length, "measured");
    const saved = o.save ? await saveLabResult(ctx.store, { project: ctx.job.project, name: o.save, ...(o.description !== undefined ? { description: o.description } : {}), result: { type: "run", run } }) : undefined;
    return { ...run, ...(saved ? { saved: { name: saved.name, version: saved.version } } : {}) };
  },
};

export const labSweepKind: JobKind<LabSweepInput> = {
  name: "lab-sweep",
  description: "the lab over a grid of methods x label noise x label budget (x seeds); saved when named",
  input: LabSweepInput,
  roles: ["admin"],
  maxAttempts: 2,
  check(input, env) {
    if (env.origin === "api") checkApiPaths(input.paths);
    parseMethods(input.methods);
  },
  split: (input) => ({ input, split: { phase: "whole" } }),
  async runWhole(ctx) {
    const o = ctx.job.input;
    const methods = parseMethods(o.methods);
    const t0 = performance.now();
    const env = await environmentOf(ctx, o.seeds[0] ?? 0);
    const grid = { methods, ...(o.feedback ? { feedback: o.feedback } : {}), ...(o.lengthBias !== undefined ? { lengthBias: o.lengthBias } : {}), pFlips: o.pFlips, labels: o.labels, seeds: o.seeds };
    const rows = await runSweep(env, {
      ...grid,
      settings: o.settings,
      lengthControlled: o.lc,
      onProgress: (done, total, note) => {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        ctx.progress(done, total, note);
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const saved = o.save
      ? await saveLabResult(ctx.store, { project: ctx.job.project, name: o.save, ...(o.description !== undefined ? { description: o.description } : {}), result: { type: "sweep", grid: { ...grid, environment: environmentSummary(env) }, rows, seconds } })
      : undefined;
    return { rows, seconds, ...(saved ? { saved: { name: saved.name, version: saved.version } } : {}) };
  },
};


