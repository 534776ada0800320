/** `rlxf rm ...`: reward models trained on stored feedback, kept as versioned artifacts in the store. */
import { createWriteStream } from "node:fs";
import { type Command, Option } from "commander";
import { RlxfError } from "../errors.js";
import { FEEDBACK_KINDS, type FeedbackKind, Prompt, SOURCE_TYPES, type SourceType } from "../feedback/index.js";
import {
  type Embedder,
  type Featurizer,
  type PairDerivation,
  PAIR_DERIVATIONS,
  type PairMetrics,
  REWARD_MODEL_KIND,
  pairMetrics,
  REWARD_MODEL_TYPES,
  type RewardModel,
  type RewardModelType,
  type Solver,
  type TrainProgress,
  cachedEmbedder,
  collectPairs,
  countSourceTypes,
  crossValidateRewardModel,
  embeddingFeaturizer,
  evaluateRewardModel,
  getRewardModelArtifact,
  hashedNgramFeaturizer,
  itemPassages,
  loadRewardModel,
  openAiEmbedder,
  passagesOf,
  readPassages,
  readRewardModelArtifact,
  readRewardModelFile,
  saveRewardModel,
  saveRewardModelArtifact,
  splitByItem,
  trainRewardModel,
  writeRewardModelFile,
} from "../learn/index.js";
import { type Store, readSnapshot } from "../store/index.js";
import { type FeedbackQuery, feedbackSource, listOf, num, queryRecord, sourceTypeList, sourcesLine } from "./dataset.js";
import { type SegmentTrainCliOptions, runTrainSegments, segmentTrainOptions } from "./dense.js";
import { submitRmTrain } from "./jobs.js";
import { progress } from "./progress.js";
import { type DbOptions, dbOption, info, jsonLines, otherProjectsHint, out, table, withStore, projectOption } from "./shared.js";

interface QueryOptions extends DbOptions {
  project: string;
  kinds?: FeedbackKind[];
  sourceType?: SourceType[];
  from?: PairDerivation[];
}

interface EmbedOptions {
  embedUrl?: string;
  embedModel?: string;
}

function queryOf(opts: QueryOptions): FeedbackQuery {
  const q: FeedbackQuery = { project: opts.project };
  if (opts.kinds) q.kinds = opts.kinds;
  if (opts.sourceType) q.sourceType = opts.sourceType;
  if (opts.from) q.from = opts.from;
  return q;
}

/** The embedder named by options or environment, cached in the store; undefined when none is named. */
function embedderFrom(opts: EmbedOptions, store: Store): (Embedder & { model: string }) | undefined {
  const baseUrl = opts.embedUrl ?? process.env.RLXF_EMBED_URL;
  if (!baseUrl) return undefined;
  const model = opts.embedModel ?? process.env.RLXF_EMBED_MODEL;
  if (!model) throw new RlxfError("missing_option", "--embed-url needs --embed-model (or RLXF_EMBED_MODEL)");
  const apiKey = process.env.RLXF_EMBED_API_KEY ?? process.env.OPENAI_API_KEY;
  const inner = openAiEmbedder({ baseUrl, model, ...(apiKey ? { apiKey } : {}) });
  return Object.assign(cachedEmbedder(inner, store.vectors, `embedding:${model}`), { model });
}

/**
 * Progress of training on stderr (a TTY only): a counter for stages with steps (ensemble members, folds,
 * rounds), a status line for the others. `done()` closes the last line.
 */
function trainProgress(): { report: (p: TrainProgress) => void; done: () => void } {
  const live = Boolean(process.stderr.isTTY) && !process.env.CI;
  let current: { key: string; bar?: ReturnType<typeof progress> } | undefined;
  const close = () => {
    if (!current) return;
    if (current.bar) current.bar.done();
    else if (live) info("\n");
    current = undefined;
  };
  return {
    report(p) {
      const key = `${p.stage}:${p.note ?? ""}`;
      const label = `${p.stage}${p.note ? ` (${p.note})` : ""}`;
      if (current?.key !== key) {
        close();
        current = { key, ...(p.step !== undefined ? { bar: progress(label, p.total) } : {}) };
        if (!current.bar && live) info(`\r${label} ...\x1b[K`);
      }
      current.bar?.tick(1);
    },
    done: close,
  };
}

function metricsRows(named: Array<[string, PairMetrics | undefined]>): Record<string, unknown>[] {
  return named
    .filter((x): x is [string, PairMetrics] => x[1] !== undefined)
    .map(([split, m]) => ({ split, pairs: m.pairs, accuracy: m.accuracy, logLoss: m.logLoss, ece: m.ece, brier: m.brier }));
}

const METRIC_COLUMNS = [
  { key: "split" },
  { key: "pairs" },
  { key: "accuracy", digits: 4 },
  { key: "logLoss", title: "log-loss", digits: 4 },
  { key: "ece", title: "ECE", digits: 4 },
  { key: "brier", digits: 4 },
];

function marginTable(m: PairMetrics): string {
  return table(
    m.byMargin.map((b) => ({ margin: `${b.lo.toFixed(2)}–${Number.isFinite(b.hi) ? b.hi.toFixed(2) : "∞"}`, pairs: b.pairs, accuracy: b.accuracy })),
    [{ key: "margin", title: "|margin|" }, { key: "pairs" }, { key: "accuracy", digits: 4 }],
  );
}

// ------------------------------------------------------------------ train ---

interface TrainCliOptions extends QueryOptions, EmbedOptions {
  name: string;
  type: RewardModelType;
  l2?: number;
  margin?: number;
  solver: Solver;
  members: number;
  penalty: number;
  dims: number;
  robust?: "crossfit" | "peers";
  noiseRate: number;
  robustMode: "drop" | "downweight";
  testFraction: number;
  calibrate: boolean;
  cv?: number;
  seed: number;
  bits: number;
  ngrams: number[];
  out?: string;
  save: boolean;
  json?: boolean;
}

async function runTrain(opts: TrainCliOptions & Partial<SegmentTrainCliOptions>): Promise<void> {
  if (opts.type === "segments") {
    if (opts.kinds || opts.from || opts.robust || opts.cv) throw new RlxfError("invalid_input", "--type segments trains from spans (and chooses its combination on pairwise feedback): --kinds, --from, --robust and --cv do not apply");
    return runTrainSegments(opts as SegmentTrainCliOptions);
  }
  await withStore(opts, async (store) => {
    const q = queryOf(opts);
    const bar = progress("reading feedback");
    const pairs = await readSnapshot(() =>
      collectPairs(feedbackSource(store, q), {
        ...(opts.from ? { pairsFrom: opts.from } : {}),
        onRecord: () => bar.tick(),
      }),
    );
    bar.done(`records: ${pairs.length} pairs`);
    if (pairs.length === 0) {
      throw new RlxfError("no_data", `no preference pairs in project "${opts.project}" with these filters (import or collect feedback first)${await otherProjectsHint(store, opts.project)}`);
    }
    const embedder = embedderFrom(opts, store);
    const featurizer: Featurizer = embedder
      ? embeddingFeaturizer(embedder, { model: embedder.model })
      : hashedNgramFeaturizer({ bits: opts.bits, ngrams: opts.ngrams, seed: opts.seed });
    const reporter = trainProgress();
    const common = {
      type: opts.type,
      name: opts.name,
      project: opts.project,
      featurizer,
      solver: opts.solver,
      members: opts.members,
      penalty: opts.penalty,
      dims: opts.dims,
      seed: opts.seed,
      calibrate: opts.calibrate,
      query: queryRecord(q),
      onProgress: reporter.report,
      ...(opts.l2 !== undefined ? { l2: opts.l2 } : {}),
      ...(opts.margin !== undefined ? { margin: opts.margin } : {}),
      ...(opts.robust ? { robust: { method: opts.robust, rate: opts.noiseRate, mode: opts.robustMode } } : {}),
    };
    let cv: Awaited<ReturnType<typeof crossValidateRewardModel>> | undefined;
    if (opts.cv) cv = await crossValidateRewardModel(pairs, { ...common, folds: opts.cv });
    const result = await trainRewardModel(pairs, { ...common, testFraction: opts.testFraction });
    reporter.done();
    const model = result.model;
    const sources = countSourceTypes([...result.train, ...result.test]);
    const robust = opts.robust
      ? { method: opts.robust, mode: opts.robustMode, flagged: result.flagged.length, of: result.train.length, kept: result.train.length - (opts.robustMode === "drop" ? result.flagged.length : 0) }
      : undefined;
    if (cv) model.meta.metrics = { ...model.meta.metrics, cv: { folds: cv.folds, accuracy: cv.metrics.accuracy, logLoss: cv.metrics.logLoss, perFold: cv.perFold } };
    const saved = opts.save ? await saveRewardModel(store, model) : undefined;
    if (opts.out) await writeRewardModelFile(opts.out, model);
    const summary = {
      name: model.meta.name,
      version: saved?.version,
      type: model.type,
      pairs: pairs.length,
      train: result.train.length,
      test: result.test.length,
      temperature: model.temperature,
      seed: opts.seed,
      sources,
      ...(robust ? { robust } : {}),
      metrics: result.metrics,
      ...(cv ? { cv: { folds: cv.folds, accuracy: cv.metrics.accuracy, logLoss: cv.metrics.logLoss, perFold: cv.perFold, baselines: cv.baselines } } : {}),
      flagged: result.flagged.length,
      durationMs: model.meta.training?.durationMs,
      ...(opts.out ? { file: opts.out } : {}),
    };
    if (opts.json) {
      out(`${JSON.stringify(summary)}\n`);
      return;
    }
    out(
      `trained ${model.type} reward model ${model.meta.name}${saved ? `@${saved.version}` : " (not saved)"} on ${result.train.length} pairs ` +
        `(${result.test.length} held out by item) in ${((model.meta.training?.durationMs ?? 0) / 1000).toFixed(2)} s; temperature ${model.temperature.toFixed(3)}\n`,
    );
    out(`${sourcesLine(sources, "pairs")}\n`);
    if (robust) {
      out(
        robust.mode === "drop"
          ? `noise-robust (${robust.method}): dropped ${robust.flagged} of ${robust.of} training pairs as likely noise; trained on the other ${robust.kept}\n`
          : `noise-robust (${robust.method}): down-weighted ${robust.flagged} of ${robust.of} training pairs as likely noise (none dropped)\n`,
      );
    }
    out(table(metricsRows([["train", result.metrics.train], ["test", result.metrics.test]]), METRIC_COLUMNS));
    if (result.metrics.test) out(`\naccuracy by |margin| (test):\n${marginTable(result.metrics.test)}`);
    if (cv) {
      out(
        `\n${cv.folds}-fold cross-validated accuracy ${cv.metrics.accuracy.toFixed(4)} (log-loss ${cv.metrics.logLoss.toFixed(4)}); ` +
          `always-shorter ${cv.baselines.shorter.toFixed(4)}, always-longer ${cv.baselines.longer.toFixed(4)}\n`,
      );
    }
    if (opts.out) info(`wrote ${opts.out}\n`);
  });
}

// ------------------------------------------------------------------- eval ---

interface EvalCliOptions extends QueryOptions, EmbedOptions {
  model?: string;
  file?: string;
  /** Default: the training run's held-out split, else all pairs. */
  split?: "all" | "test" | "train";
  json?: boolean;
}

const SPLIT_NOTE: Record<"all" | "test" | "train", string> = {
  test: "held-out split: items the training run never saw",
  train: "training split: pairs the model was fitted on",
  all: "all pairs, training pairs included",
};

async function modelFrom(store: Store, opts: { model?: string; file?: string; project: string } & EmbedOptions): Promise<RewardModel> {
  const embedder = embedderFrom(opts, store);
  if (opts.file) return readRewardModelFile(opts.file, embedder ? { embedder } : {});
  if (!opts.model) throw new RlxfError("missing_option", "name a model: --model NAME[@VERSION] (stored) or --file FILE");
  return loadRewardModel(store, opts.model, { project: opts.project, ...(embedder ? { embedder } : {}) });
}

async function runEval(opts: EvalCliOptions): Promise<void> {
  await withStore(opts, async (store) => {
    const model = await modelFrom(store, opts);
    const q = queryOf(opts);
    let pairs = await readSnapshot(() => collectPairs(feedbackSource(store, q), opts.from ? { pairsFrom: opts.from } : {}));
    const t = model.meta.training;
    const share = typeof t?.options.testFraction === "number" ? t.options.testFraction : 0;
    // Held out by default: accuracy on the pairs a model was fitted on says little about it.
    const split = opts.split ?? (share > 0 ? "test" : "all");
    let note = SPLIT_NOTE[split];
    if (split !== "all") {
      if (!(share > 0)) throw new RlxfError("invalid_input", `model ${model.meta.name} was trained without a held-out split: use --split all`, { field: "--split" });
      pairs = splitByItem(pairs, share, model.meta.seed)[split];
    } else if (opts.split === undefined) note += `; the model was trained without a held-out split`;
    if (pairs.length === 0) throw new RlxfError("no_data", "no preference pairs to evaluate on with these filters");
    const bar = progress("evaluating", pairs.length);
    let m: PairMetrics;
    if (model.type === "segments") {
      // Segment models read the items' grounding passages.
      const passages = new Map<string, ReturnType<typeof itemPassages>>();
      for (const p of pairs) if (!passages.has(p.itemId)) passages.set(p.itemId, itemPassages((await store.getItem(opts.project, p.itemId))?.metadata));
      const preds = await model.compare(
        pairs.map((p) => {
          const ps = passages.get(p.itemId);
          return { prompt: p.prompt, first: p.chosen.text, second: p.rejected.text, ...(ps ? { passages: ps } : {}) };
        }),
      );
      m = pairMetrics(
        preds.map((x) => x.margin),
        pairs.map((p) => p.pChosen),
        { strength: pairs.map((p) => p.strength) },
      );
    } else m = await evaluateRewardModel(model, pairs);
    bar.tick(pairs.length);
    bar.done();
    const ref = `${model.meta.name}${model.meta.version !== undefined ? `@${model.meta.version}` : ""}`;
    const sources = countSourceTypes(pairs);
    if (opts.json) {
      out(`${JSON.stringify({ model: ref, split, sources, ...m })}\n`);
      return;
    }
    out(`${model.type} reward model ${ref} on ${m.pairs} pair(s), split ${split} (${note}; --split test|train|all):\n`);
    out(`${sourcesLine(sources, "pairs")}\n`);
    out(table(metricsRows([[split, m]]), METRIC_COLUMNS));
    out(`\naccuracy by |margin|:\n${marginTable(m)}`);
    if (m.byStrength?.length) {
      out(`\naccuracy by stated strength:\n`);
      out(table(m.byStrength.map((b) => ({ strength: `${b.lo}–${b.hi}`, pairs: b.pairs, accuracy: b.accuracy })), [{ key: "strength" }, { key: "pairs" }, { key: "accuracy", digits: 4 }]));
    }
  });
}

// ------------------------------------------------------------------ score ---

interface ScoreCliOptions extends EmbedOptions, DbOptions {
  model?: string;
  file?: string;
  project: string;
  in?: string;
  out?: string;
  policy?: string;
}

function promptOf(row: Record<string, unknown>, where: string): Prompt {
  const r = Prompt.safeParse(row.prompt);
  if (!r.success) throw new RlxfError("invalid_input", `${where}: "prompt" must be a string or a list of {role, content} messages`);
  return r.data;
}

class StopScoring extends Error {}

async function runScore(opts: ScoreCliOptions): Promise<void> {
  await withStore(opts, async (store) => {
    const model = await modelFrom(store, opts);
    const sink = opts.out ? createWriteStream(opts.out) : undefined;
    // A closed pipe (`rlxf rm score | head`) ends the output quietly.
    let closed = false;
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") closed = true;
      else throw e;
    };
    if (!sink) process.stdout.on("error", onError);
    const write = async (obj: unknown) => {
      if (closed) throw new StopScoring();
      const s = `${JSON.stringify(obj)}\n`;
      if (sink) {
        if (!sink.write(s)) await new Promise<void>((r) => sink.once("drain", () => r()));
      } else if (!process.stdout.write(s)) {
        await new Promise<void>((r) => {
          process.stdout.once("drain", () => r());
          process.stdout.once("error", () => r());
        });
      }
    };
    const bar = progress("scoring");
    let n = 0;
    try {
      if (opts.in) {
        for await (const { row, line } of jsonLines(opts.in)) {
          const where = `${opts.in} line ${line}`;
          const prompt = promptOf(row, where);
          let passages: ReturnType<typeof readPassages> | undefined;
          try {
            passages = row.passages !== undefined ? readPassages(row.passages) : passagesOf(row.reference);
          } catch (e) {
            throw new RlxfError("invalid_input", `${where}: ${(e as Error).message}`);
          }
          if (typeof row.response === "string") {
            const [s] = await model.score([{ prompt, response: row.response, ...(passages ? { passages } : {}) }]);
            await write({ ...row, ...s });
          } else if (typeof row.first === "string" && typeof row.second === "string") {
            const [p] = await model.compare([{ prompt, first: row.first, second: row.second, ...(passages ? { passages } : {}) }]);
            await write({ ...row, ...p });
          } else if (Array.isArray(row.responses) && row.responses.every((r) => typeof r === "string")) {
            await write({ ...row, scores: await model.rank(prompt, row.responses as string[], passages) });
          } else {
            throw new RlxfError("invalid_input", `${where}: needs "response", or "first" and "second", or "responses"`);
          }
          n++;
          bar.tick();
        }
      } else {
        // Stored generations, a page at a time.
        if (!model.scalar) throw new RlxfError("wrong_kind", "a general preference model compares pairs: pass --in with {prompt, first, second} or {prompt, responses} rows");
        const items = new Map<string, { prompt: Prompt; passages: ReturnType<typeof itemPassages> }>();
        let page: Array<{ id: string; itemId: string; policy: string; output: string }> = [];
        const flush = async () => {
          if (!page.length) return;
          for (const g of page) {
            if (!items.has(g.itemId)) {
              const it = await store.getItem(opts.project, g.itemId);
              if (it) items.set(g.itemId, { prompt: it.prompt, passages: itemPassages(it.metadata) });
            }
          }
          const scores = await model.score(
            page.map((g) => {
              const it = items.get(g.itemId)!;
              return { prompt: it.prompt, response: g.output, ...(it.passages ? { passages: it.passages } : {}) };
            }),
          );
          for (let i = 0; i < page.length; i++) {
            const g = page[i]!;
            await write({ generationId: g.id, itemId: g.itemId, policy: g.policy, ...scores[i] });
          }
          n += page.length;
          bar.tick(page.length);
          page = [];
          if (items.size > 10_000) items.clear();
        };
        for await (const g of store.iterateGenerations({ project: opts.project, ...(opts.policy ? { policy: opts.policy } : {}) })) {
          page.push(g);
          if (page.length >= 500) await flush();
        }
        await flush();
      }
    } catch (e) {
      if (!(e instanceof StopScoring)) throw e;
    } finally {
      bar.done(`${n} scored`);
      if (sink) await new Promise<void>((r) => sink.end(() => r()));
      else process.stdout.off("error", onError);
    }
    if (opts.out) info(`wrote ${n} score(s) to ${opts.out}\n`);
  });
}

// ----------------------------------------------------------- list, files ---

async function runList(opts: DbOptions & { project: string; json?: boolean }): Promise<void> {
  await withStore(opts, async (store) => {
    const models = await store.models.list({ project: opts.project, kind: REWARD_MODEL_KIND });
    if (opts.json) {
      out(`${JSON.stringify(models)}\n`);
      return;
    }
    if (models.length === 0) {
      out(`no reward models in project "${opts.project}"\n`);
      return;
    }
    out(
      table(
        models.map((m) => ({
          model: `${m.name}@${m.version}`,
          type: m.summary.type,
          features: m.summary.featurizer,
          pairs: m.summary.trainPairs,
          "test acc": m.summary.testAccuracy,
          created: m.createdAt,
        })),
        [{ key: "model" }, { key: "type" }, { key: "features" }, { key: "pairs" }, { key: "test acc", digits: 4 }, { key: "created" }],
      ),
    );
  });
}

async function runExportModel(opts: DbOptions & { model: string; project: string; out: string }): Promise<void> {
  await withStore(opts, async (store) => {
    const a = await getRewardModelArtifact(store, opts.model, opts.project);
    await writeRewardModelFile(opts.out, a);
    info(`wrote ${a.name}@${a.version} to ${opts.out}\n`);
  });
}

async function runImportModel(file: string, opts: DbOptions & { name?: string; project?: string }): Promise<void> {
  const a = await readRewardModelArtifact(file);
  await withStore(opts, async (store) => {
    const saved = await saveRewardModelArtifact(store, a, { ...(opts.name ? { name: opts.name } : {}), ...(opts.project ? { project: opts.project } : {}) });
    info(`stored ${saved.name}@${saved.version} (project ${saved.project})\n`);
  }, { create: true });
}

// --------------------------------------------------------------- commands ---

function queryOptions(c: Command): Command {
  return c
    .addOption(projectOption("project"))
    .option("--kinds <list>", `feedback kinds to read (${FEEDBACK_KINDS.join(", ")})`, listOf("--kinds", FEEDBACK_KINDS))
    .option("--source-type <list>", `only feedback from these source types, comma-separated (${SOURCE_TYPES.join(", ")})`, sourceTypeList)
    .option("--from <list>", `pair derivations to use (${PAIR_DERIVATIONS.join(", ")})`, listOf("--from", PAIR_DERIVATIONS));
}

function embedOptions(c: Command): Command {
  return c
    .option("--embed-url <url>", "OpenAI-compatible API base for embedding features, e.g. http://127.0.0.1:8000/v1 (env RLXF_EMBED_URL; key in RLXF_EMBED_API_KEY or OPENAI_API_KEY)")
    .option("--embed-model <name>", "embedding model (env RLXF_EMBED_MODEL)");
}

export function register(program: Command): void {
  const rm = program.command("rm").description("reward models trained on stored feedback (Bradley-Terry, ensembles, general preference models)");

  segmentTrainOptions(embedOptions(queryOptions(rm.command("train"))))
    .description("train a reward model on pairs drawn from feedback of any kind (segments: from spans, one detector per error type); store it as the next version of --name")
    .requiredOption("--name <name>", "model name (each training stores a new version)")
    .addOption(new Option("--type <type>", "model").choices([...REWARD_MODEL_TYPES]).default("bradley-terry"))
    .option("--l2 <lambda>", "L2 strength (default 1; gpm 0.01)", num("--l2", 0))
    .option("--margin <m>", "required margin per unit of stated preference strength", num("--margin", 0))
    .addOption(new Option("--solver <solver>", "optimiser of convex models").choices(["newton-cg", "lbfgs"]).default("newton-cg"))
    .option("--members <n>", "ensemble size", num("--members", 2, 100), 5)
    .option("--penalty <k>", "ensemble: reward = mean − k·std", num("--penalty", 0), 1)
    .option("--dims <n>", "gpm: embedding dimension (even)", num("--dims", 2, 64), 4)
    .addOption(new Option("--robust <method>", "noise-robust training: cross-fitted or peer-reviewed (CRM-style) flags").choices(["crossfit", "peers"]))
    .option("--noise-rate <r>", "with --robust: share of pairs to flag", num("--noise-rate", 0, 0.9), 0.1)
    .addOption(new Option("--robust-mode <mode>", "with --robust: what to do with flagged pairs").choices(["drop", "downweight"]).default("drop"))
    .option("--test-fraction <share>", "share of items held out for testing", num("--test-fraction", 0, 0.9), 0.2)
    .option("--no-calibrate", "skip temperature calibration")
    .option("--cv <k>", "also report k-fold cross-validated accuracy (by item)", num("--cv", 2, 20))
    .option("--seed <n>", "seed (split, bootstraps, hashing, starts)", num("--seed"), 0)
    .option("--bits <n>", "hashed features: log2 of the hash space", num("--bits", 4, 28), 18)
    .option("--ngrams <list>", "hashed features: word n-gram orders", (v: string) => v.split(",").map(Number), [1, 2])
    .option("--out <file>", "also write the model artifact to a file (.gz compresses)")
    .option("--no-save", "do not store the model")
    .option("--submit", "enqueue it as a background job instead of running it here (prints the job id; follow it with rlxf jobs wait ID)")
    .addOption(dbOption())
    .option("--json", "print a JSON summary on stdout")
    .action(async (o: TrainCliOptions & { submit?: boolean }) => (o.submit ? void (await submitRmTrain(o as never)) : runTrain(o)));

  embedOptions(queryOptions(rm.command("eval")))
    .description("evaluate a reward model on stored feedback: accuracy, log-loss, calibration error, accuracy by margin")
    .option("--model <ref>", "stored model: NAME (latest) or NAME@VERSION")
    .option("--file <file>", "a model artifact file instead")
    .addOption(new Option("--split <split>", "the training run's held-out items (test; the default when it held some out), its training side, or all pairs").choices(["test", "train", "all"]))
    .addOption(dbOption())
    .option("--json", "print JSON")
    .action(runEval);

  embedOptions(rm.command("score"))
    .description("score responses: JSON Lines in ({prompt, response} | {prompt, first, second} | {prompt, responses}), or stored generations")
    .option("--model <ref>", "stored model: NAME (latest) or NAME@VERSION")
    .option("--file <file>", "a model artifact file instead")
    .option("--in <file>", "JSON Lines to score (- for stdin); default: the project's stored generations")
    .option("--out <file>", "write JSON Lines here instead of stdout")
    .option("--policy <name>", "stored generations of this policy only")
    .addOption(projectOption("project"))
    .addOption(dbOption())
    .action(runScore);

  rm.command("list")
    .description("stored reward models, newest version first")
    .addOption(projectOption("project"))
    .addOption(dbOption())
    .option("--json", "print JSON")
    .action(runList);

  rm.command("export")
    .description("write a stored reward model to a file")
    .requiredOption("--model <ref>", "NAME or NAME@VERSION")
    .requiredOption("--out <file>", "artifact file (.json, .json.gz)")
    .addOption(projectOption("project"))
    .addOption(dbOption())
    .action(runExportModel);

  rm.command("import")
    .description("store a reward model artifact file as the next version of its name")
    .argument("<file>", "artifact file")
    .option("--name <name>", "store under this name instead")
    .option("--project <name>", "store in this project instead")
    .addOption(dbOption())
    .action(runImportModel);
}
