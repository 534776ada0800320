/**
 * A lab run: one feedback source, one label budget, one seed, several methods; each method's policy is measured
 * exactly on the test instructions, with curves over its training steps. A sweep repeats runs over a grid.
 */
import { ValidationError } from "../errors.js";
import { createRng } from "../eval/index.js";
import { type LabEnvironment, hashSeed } from "./environment.js";
import { Annotator, type LabFeedbackSource, LAB_FEEDBACK_SOURCES, type LabelledPair, type ProxyReward, drawUniformPairs, trainProxyReward } from "./feedback.js";
import { constantShare, lengthControlledWinRate, measurePolicy, uniformDistribution } from "./measure.js";
import { DEFAULT_SETTINGS, LAB_METHODS, type LabMethod, type MethodSettings, runMethod } from "./methods.js";

export interface LabRunOptions {
  methods: readonly LabMethod[];
  /** Where labels come from (default "gold"). */
  feedback?: LabFeedbackSource;
  /** Label-flip probability of the simulated annotator (simulated and rm feedback; default 0.25 there, 0 for gold). */
  pFlip?: number;
  /** Share of the simulated annotator's judgements decided by length alone (default 0). */
  lengthBias?: number;
  /** Label budget: pairs labelled by the annotator (default 1000). */
  labels?: number;
  /** Seed of everything random in the run (default 0). */
  seed?: number;
  settings?: Partial<MethodSettings>;
  /** Compute the length-controlled win rate of each final policy (default true). */
  lengthControlled?: boolean;
  /**
   * Seeds the proxy reward model's test accuracy is measured over (default 3): each draws its own labelled pairs
   * and noise and trains its own proxy; the methods use the first (the run's seed). One seed's accuracy moves by
   * points from seed to seed, so a single figure would overstate what a label budget buys.
   */
  proxySeeds?: number;
  onMethod?: (method: LabMethod, index: number, total: number) => void;
}

export interface CurvePoint {
  /** Training step (best-of-n: n). */
  step: number;
  winRate: number;
  length: number;
  kl: number;
  proxyReward?: number;
}

export interface LabMethodResult {
  method: LabMethod | "initial";
  /** Expected win rate against the reference on the test instructions (%). */
  winRate: number;
  /** Length-controlled win rate (%). */
  lcWinRate?: number;
  /** Probability (%) the policy puts on constant outputs (only when the environment keeps such candidates). */
  constantShare?: number;
  /** Expected output length (characters). */
  length: number;
  /** KL(pi || reference), nats per instruction. */
  kl: number;
  /** Expected proxy reward, when a proxy was trained. */
  proxyReward?: number;
  /** Annotator labels the method's policy was trained from. */
  labels: number;
  /** Wall time in seconds (including the proxy reward model's training, for methods that use it). */
  seconds: number;
  curve: CurvePoint[];
}

export interface LabRunResult {
  feedback: LabFeedbackSource;
  pFlip: number;
  lengthBias: number;
  labels: number;
  seed: number;
  settings: MethodSettings;
  environment: { instructions: number; train: number; test: number; models: number; candidates: number };
  /**
   * The proxy reward model, when one was trained: gold pairwise accuracy on test instructions of the proxy the
   * methods used, training time, and the accuracy's mean and standard deviation over `proxySeeds` seeds.
   */
  proxy?: { testAccuracy: number; seconds: number; accuracy?: { mean: number; sd: number; seeds: number } };
  /** Models left out of the environment as constant outputs, and those kept. */
  constant?: { leftOut: string[]; kept: string[] };
  methods: LabMethodResult[];
  seconds: number;
}

/** Methods that learn from the proxy reward model (under every feedback source). */
const USES_PROXY = new Set<LabMethod>(["best-of-n", "expert-iteration", "ppo", "grpo", "rloo", "reinforce++", "remax"]);

export function parseMethods(spec: string | readonly string[]): LabMethod[] {
  const names = (typeof spec === "string" ? spec.split(",") : spec).map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (names.length === 1 && names[0] === "all") return [...LAB_METHODS];
  const unknown = names.filter((n) => !(LAB_METHODS as readonly string[]).includes(n));
  if (unknown.length || names.length === 0) {
    throw new ValidationError([{ path: "methods", message: `${unknown.length ? `unknown method(s) ${unknown.join(", ")}` : "none given"}; choose from ${LAB_METHODS.join(", ")} or all` }]);
  }
  return [...new Set(names)] as LabMethod[];
}

/** Check a run's options (before anything slow happens); throws ValidationError naming the field. */
export function checkRunOptions(opts: LabRunOptions): { feedback: LabFeedbackSource; pFlip: number; lengthBias: number; labels: number; seed: number; settings: MethodSettings } {
  const feedback = opts.feedback ?? "gold";
  if (!LAB_FEEDBACK_SOURCES.includes(feedback)) throw new ValidationError([{ path: "feedback", message: `must be one of ${LAB_FEEDBACK_SOURCES.join(", ")}` }]);
  const pFlip = opts.pFlip ?? (feedback === "gold" ? 0 : 0.25);
  const lengthBias = opts.lengthBias ?? 0;
  if (feedback === "gold" && (pFlip !== 0 || lengthBias !== 0)) {
    throw new ValidationError([{ path: pFlip !== 0 ? "pFlip" : "lengthBias", message: "gold feedback has no noise: use simulated (or rm) feedback for label noise or length bias" }]);
  }
  const labels = opts.labels ?? 1000;
  if (!Number.isInteger(labels) || labels < 2) throw new ValidationError([{ path: "labels", message: `must be an integer >= 2, got ${labels}` }]);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ValidationError([{ path: "seed", message: "must be an integer" }]);
  const settings = { ...DEFAULT_SETTINGS, ...(opts.settings ?? {}) };
  for (const [k, v] of Object.entries(settings)) {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new ValidationError([{ path: `settings.${k}`, message: `must be a non-negative number, got ${v}` }]);
  }
  for (const k of ["steps", "batch", "minibatch", "group", "ppoEpochs", "bestOfN", "rounds", "evalEvery"] as const) {
    if (!Number.isInteger(settings[k]) || settings[k] < 1) throw new ValidationError([{ path: `settings.${k}`, message: `must be a positive integer, got ${settings[k]}` }]);
  }
  if (settings.group < 2) throw new ValidationError([{ path: "settings.group", message: "must be at least 2 (group baselines need two samples)" }]);
  return { feedback, pFlip, lengthBias, labels, seed, settings };
}

/** The size of an environment, as runs report it. */
export function environmentSummary(env: LabEnvironment): LabRunResult["environment"] {
  return {
    instructions: env.instructions.length,
    train: env.train.length,
    test: env.test.length,
    models: env.models.length,
    candidates: env.instructions.reduce((s, i) => s + i.candidates.length, 0),
  };
}

/** Run the given methods on one environment with one feedback source and label budget. */
export async function runLab(env: LabEnvironment, opts: LabRunOptions): Promise<LabRunResult> {
  const t0 = performance.now();
  const o = checkRunOptions(opts);
  const methods = parseMethods(opts.methods);
  const proxySeeds = opts.proxySeeds ?? 3;
  if (!Number.isInteger(proxySeeds) || proxySeeds < 1) throw new ValidationError([{ path: "proxySeeds", message: `must be a positive integer, got ${proxySeeds}` }]);
  const lc = opts.lengthControlled ?? true;
  const annotator = new Annotator(env, { pFlip: o.pFlip, lengthBias: o.lengthBias, seed: o.seed });

  // The annotator's fixed set of labelled pairs, drawn under the initial policy: offline methods learn from it and
  // the proxy reward model is trained on it.
  const drawn = drawUniformPairs(env, o.labels, createRng(hashSeed(o.seed, "offline-pairs")));
  const humanPairs: LabelledPair[] = drawn.map((q) => ({ ...q, pA: annotator.judge(q.instruction, q.a, q.b) }));

  let proxy: ProxyReward | undefined;
  let accuracy: { mean: number; sd: number; seeds: number } | undefined;
  if (o.feedback === "rm" || methods.some((m) => USES_PROXY.has(m))) {
    proxy = await trainProxyReward(env, humanPairs, { seed: o.seed });
    const values = [proxy.testAccuracy];
    for (let k = 1; k < proxySeeds; k++) {
      const s = o.seed + k;
      const ann = new Annotator(env, { pFlip: o.pFlip, lengthBias: o.lengthBias, seed: s });
      const pairs = drawUniformPairs(env, o.labels, createRng(hashSeed(s, "offline-pairs"))).map((q) => ({ ...q, pA: ann.judge(q.instruction, q.a, q.b) }));
      values.push((await trainProxyReward(env, pairs, { seed: s })).testAccuracy);
    }
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : 0;
    accuracy = { mean, sd, seeds: values.length };
  }
  const proxyJudge = (i: number, a: number, b: number): number => {
    const r0 = env.features.start[i]!;
    const d = proxy!.reward[r0 + a]! - proxy!.reward[r0 + b]!;
    return d > 0 ? 1 : d < 0 ? 0 : 0.5;
  };
  // With rm feedback the pairwise methods get the reward model's labels on pairs of their own.
  const offlinePairs =
    o.feedback === "rm"
      ? drawUniformPairs(env, o.labels, createRng(hashSeed(o.seed, "rm-pairs"))).map((q) => ({ ...q, pA: proxyJudge(q.instruction, q.a, q.b) }))
      : humanPairs;

  const keptConstant = env.constant.models.filter((m) => !env.constant.leftOut.includes(m));
  const measureFinal = (method: LabMethodResult["method"], dist: Parameters<typeof measurePolicy>[1]) => {
    const m = measurePolicy(env, dist, env.test, proxy?.reward);
    return {
      method,
      ...m,
      ...(lc ? { lcWinRate: lengthControlledWinRate(env, dist, env.test) } : {}),
      ...(keptConstant.length ? { constantShare: constantShare(env, dist, env.test) } : {}),
    };
  };

  const results: LabMethodResult[] = [{ ...measureFinal("initial", uniformDistribution(env)), labels: 0, seconds: 0, curve: [] }];
  methods.forEach((method, index) => {
    opts.onMethod?.(method, index, methods.length);
    const tm = performance.now();
    const curve: CurvePoint[] = [];
    const outcome = runMethod(method, {
      env,
      settings: o.settings,
      rng: createRng(hashSeed(o.seed, `method:${method}`)),
      proxy: proxy?.reward ?? new Float64Array(0),
      offlinePairs,
      label: o.feedback === "rm" ? proxyJudge : (i, a, b) => annotator.judge(i, a, b),
      labelBudget: o.labels,
      record: (step, dist) => curve.push({ step, ...measurePolicy(env, dist, env.test, proxy?.reward) }),
    });
    const usesProxy = o.feedback === "rm" || USES_PROXY.has(method);
    const labels = o.feedback === "rm" || method !== "online-dpo" ? o.labels : outcome.freshLabels;
    const trainSeconds = (performance.now() - tm) / 1000 + (usesProxy && proxy ? proxy.seconds : 0);
    const final = measureFinal(method, outcome.dist);
    results.push({ ...final, labels, seconds: trainSeconds, curve });
  });
  return {
    feedback: o.feedback,
    pFlip: o.pFlip,
    lengthBias: o.lengthBias,
    labels: o.labels,
    seed: o.seed,
    settings: o.settings,
    environment: environmentSummary(env),
    ...(proxy ? { proxy: { testAccuracy: proxy.testAccuracy, seconds: proxy.seconds, ...(accuracy ? { accuracy } : {}) } } : {}),
    ...(env.constant.models.length ? { constant: { leftOut: env.constant.leftOut, kept: keptConstant } } : {}),
    methods: results,
    seconds: (performance.now() - t0) / 1000,
  };
}

export interface SweepOptions extends Omit<LabRunOptions, "pFlip" | "labels" | "seed" | "onMethod"> {
  pFlips: readonly number[];
  labels: readonly number[];
  seeds?: readonly number[];
  /** Called after each (cell, method) with the number done and the total. */
  onProgress?: (done: number, total: number, note: string) => void;
}

export interface SweepRow {
  method: LabMethod | "initial";
  pFlip: number;
  labels: number;
  seed: number;
  winRate: number;
  lcWinRate?: number;
  length: number;
  kl: number;
  labelsUsed: number;
  seconds: number;
}

/** Runs over the grid noise × label budget × seed, one row per (cell, method). */
export async function runSweep(env: LabEnvironment, opts: SweepOptions): Promise<SweepRow[]> {
  const methods = parseMethods(opts.methods);
  const seeds = opts.seeds ?? [0];
  if (opts.pFlips.length === 0) throw new ValidationError([{ path: "pFlips", message: "give at least one noise level" }]);
  if (opts.labels.length === 0) throw new ValidationError([{ path: "labels", message: "give at least one label budget" }]);
  const total = opts.pFlips.length * opts.labels.length * seeds.length * methods.length;
  let done = 0;
  const rows: SweepRow[] = [];
  for (const pFlip of opts.pFlips) {
    for (const labels of opts.labels) {
      for (const seed of seeds) {
        const feedback = opts.feedback ?? (pFlip === 0 && !opts.lengthBias ? "gold" : "simulated");
        const r = await runLab(env, {
          ...opts,
          // A sweep's spread comes from its own seeds.
          proxySeeds: opts.proxySeeds ?? 1,
          methods,
          feedback,
          ...(feedback === "gold" ? {} : { pFlip }),
          labels,
          seed,
          onMethod: (m, k) => {
            if (k > 0) done++;
            opts.onProgress?.(done, total, `${m} p=${pFlip} labels=${labels} seed=${seed}`);
          },
        });
        done++;
        opts.onProgress?.(done, total, `p=${pFlip} labels=${labels} seed=${seed}`);
        for (const m of r.methods) {
          rows.push({
            method: m.method,
            pFlip,
            labels,
            seed,
            winRate: m.winRate,
            ...(m.lcWinRate !== undefined ? { lcWinRate: m.lcWinRate } : {}),
            length: m.length,
            kl: m.kl,
            labelsUsed: m.labels,
            seconds: m.seconds,
          });
        }
      }
    }
  }
  return rows;
}
