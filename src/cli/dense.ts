/**
 * Dense, fine-grained rewards on the command line:
 * - `rlxf rm train --type segments` (see rm.ts) trains a segment reward model from stored spans;
 * - `rlxf dense score` writes per-segment rewards (JSON Lines with offsets, or TRL stepwise rows);
 * - `rlxf dense eval` measures a segment model's detection per error type and its pairwise accuracy;
 * - `rlxf spans from-critiques` turns stored critiques into spans aligned with the outputs they criticise.
 */
import { createWriteStream } from "node:fs";
import { type Command, InvalidArgumentError, Option } from "commander";
import { RlxfError } from "../errors.js";
import { type Feedback, Prompt, SOURCE_TYPES, type SourceType } from "../feedback/index.js";
import {
  AGGREGATES,
  COMBINE_MODES,
  DERIVED_SPANS,
  type Aggregate,
  type CombineMode,
  type DerivedSpans,
  type Embedder,
  type RewardModel,
  SEGMENT_EXPORT_FORMATS,
  SEGMENT_LEVELS,
  type SegmentExportFormat,
  type SegmentLevel,
  type SegmentPair,
  type SegmentRewardModel,
  cachedEmbedder,
  collectSegmentData,
  detectionMetrics,
  itemPassages,
  labelCues,
  loadRewardModel,
  openAiEmbedder,
  pairMetrics,
  passagesOf,
  readPassages,
  readRewardModelFile,
  saveRewardModel,
  segmentLabels,
  segmentRewardModel,
  segmentRewardRow,
  segmentStepwiseRow,
  spansFromCritiques,
  splitByItem,
  trainSegmentModel,
  writeRewardModelFile,
} from "../learn/index.js";
import type { Store } from "../store/index.js";
import { feedbackSource, num, queryRecord } from "./dataset.js";
import { progress } from "./progress.js";
import { type DbOptions, dbOption, info, jsonLines, out, table, withStore, projectOption } from "./shared.js";

// ------------------------------------------------------------------ train ---

export interface SegmentTrainCliOptions extends DbOptions {
  name: string;
  project: string;
  /** One source type, or several (`rm train --source-type human,judge`). */
  sourceType?: SourceType | SourceType[];
  l2?: number;
  testFraction: number;
  seed: number;
  bits: number;
  ngrams: number[];
  level: SegmentLevel;
  groups?: Record<string, string[]>;
  ignore?: Record<string, string[]>;
  weights?: "equal" | "fit" | Record<string, number>;
  combine?: CombineMode;
  aggregate?: Aggregate;
  minPositives: number;
  derivedSpans: DerivedSpans;
  out?: string;
  save: boolean;
  json?: boolean;
}

/** A comma-separated list of names. */
const names = (flag: string) => (v: string): string[] => {
  const xs = v.split(",").map((s) => s.trim()).filter(Boolean);
  if (!xs.length) throw new InvalidArgumentError(`${flag}: give one or more comma-separated names`);
  return xs;
};

/** `NAME=a+b;NAME2=c` (types made of span labels), as a record. */
export function parseGroups(flag: string) {
  return (v: string): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const part of v.split(";").map((s) => s.trim()).filter(Boolean)) {
      const m = /^([^=]+)=(.+)$/.exec(part);
      if (!m) throw new InvalidArgumentError(`${flag}: expected NAME=LABEL+LABEL;NAME=LABEL, got "${part}"`);
      const labels = m[2]!.split("+").map((s) => s.trim()).filter(Boolean);
      if (!labels.length) throw new InvalidArgumentError(`${flag}: "${m[1]!.trim()}" names no labels`);
      out[m[1]!.trim()] = labels;
    }
    if (!Object.keys(out).length) throw new InvalidArgumentError(`${flag}: give at least one NAME=LABEL`);
    return out;
  };
}

/** `equal`, `fit`, or `TYPE=1.5,TYPE2=0.5`. */
function parseWeights(v: string): "equal" | "fit" | Record<string, number> {
  if (v === "equal" || v === "fit") return v;
  const out: Record<string, number> = {};
  for (const part of v.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=]+)=(.+)$/.exec(part);
    const w = m ? Number(m[2]) : NaN;
    if (!m || !(w >= 0) || !Number.isFinite(w)) throw new InvalidArgumentError(`--weights: expected equal, fit or TYPE=WEIGHT,... with non-negative weights, got "${part}"`);
    out[m[1]!.trim()] = w;
  }
  return out;
}

const pct = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "" : x.toFixed(3));

/** Train a segment reward model from the project's spans (and choose its combination on its pairs). */
export async function runTrainSegments(opts: SegmentTrainCliOptions): Promise<void> {
  await withStore(opts, async (store) => {
    const bar = progress("reading feedback");
    const q = { project: opts.project, ...(opts.sourceType ? { sourceType: opts.sourceType } : {}) };
    const data = await collectSegmentData(
      { spans: feedbackSource(store, { ...q, kinds: ["spans"] }), pairs: feedbackSource(store, { ...q, kinds: ["pairwise", "ranking"] }) },
      { derived: opts.derivedSpans, onRecord: () => bar.tick() },
    );
    bar.done(`${data.examples.length} outputs with spans, ${data.pairs.length} pairs`);
    if (data.examples.length === 0) throw new RlxfError("no_data", `no span feedback in project "${opts.project}" with these filters (import or collect spans first)`);
    const live = progress("training");
    const result = await trainSegmentModel(data.examples, {
      name: opts.name,
      project: opts.project,
      seed: opts.seed,
      testFraction: opts.testFraction,
      level: opts.level,
      bits: opts.bits,
      ngrams: opts.ngrams,
      minPositives: opts.minPositives,
      pairs: data.pairs,
      ...(opts.l2 !== undefined ? { l2: [opts.l2] } : {}),
      ...(opts.groups ? { groups: opts.groups } : {}),
      ...(opts.ignore ? { ignore: opts.ignore } : {}),
      ...(opts.weights ? { weights: opts.weights } : {}),
      ...(opts.combine ? { combine: opts.combine } : {}),
      ...(opts.aggregate ? { aggregate: opts.aggregate } : {}),
      onProgress: (p) => live.tick(1, `${p.stage}${p.note ? ` ${p.note}` : ""}`),
    });
    live.done();
    const model = segmentRewardModel(result, {
      name: opts.name,
      project: opts.project,
      seed: opts.seed,
      testFraction: opts.testFraction,
      query: { ...queryRecord({ ...q, kinds: ["spans", "pairwise", "ranking"] }), derivedSpans: opts.derivedSpans },
    });
    const saved = opts.save ? await saveRewardModel(store, model) : undefined;
    if (opts.out) await writeRewardModelFile(opts.out, model);
    const seg = result.model;
    const summary = {
      name: opts.name,
      version: saved?.version,
      type: "segments",
      level: seg.featurizer.spec.level,
      outputs: { train: result.train.length, test: result.test.length },
      types: seg.types.map((t) => ({ name: t.name, labels: t.labels, weight: t.weight, threshold: t.threshold, l2: t.l2, ...result.detection[t.name] })),
      dropped: result.dropped,
      combine: seg.combine,
      aggregate: seg.aggregate,
      bias: seg.bias,
      temperature: seg.temperature,
      combinations: result.combinations,
      pairs: result.pairs,
      durationMs: result.durationMs,
      ...(opts.out ? { file: opts.out } : {}),
    };
    if (opts.json) {
      out(`${JSON.stringify(summary)}\n`);
      return;
    }
    out(
      `trained segment reward model ${opts.name}${saved ? `@${saved.version}` : " (not saved)"} on ${result.train.length} outputs with spans ` +
        `(${result.test.length} held out by item), ${seg.featurizer.spec.level}s, in ${(result.durationMs / 1000).toFixed(2)} s\n`,
    );
    out(
      table(
        seg.types.map((t) => {
          const d = result.detection[t.name]!;
          return {
            type: t.name,
            labels: t.labels.join("+"),
            weight: t.weight,
            "cv F1": d.train.f1,
            "test F1": d.test?.f1,
            "test P": d.test?.precision,
            "test R": d.test?.recall,
            "always-flag F1": d.test?.alwaysFlagF1,
            "test +": d.test ? `${d.test.positives}/${d.test.segments}` : "",
          };
        }),
        [
          { key: "type" },
          { key: "labels" },
          { key: "weight", digits: 3 },
          { key: "cv F1", digits: 3 },
          { key: "test F1", digits: 3 },
          { key: "test P", digits: 3 },
          { key: "test R", digits: 3 },
          { key: "always-flag F1", digits: 3 },
          { key: "test +" },
        ],
      ),
    );
    if (result.dropped.length) info(`left out for too few positive segments: ${result.dropped.map((d) => `${d.name} (${d.positives})`).join(", ")}\n`);
    out(`combination: ${seg.combine} rewards, ${seg.aggregate} over segments${seg.bias ? `, ${seg.bias.toFixed(3)} per segment` : ""}, temperature ${seg.temperature.toFixed(3)}\n`);
    if (result.pairs) {
      out(`pairwise accuracy (ties left out): train (cross-fitted) ${pct(result.pairs.train?.accuracy)} of ${result.pairs.train?.pairs ?? 0} pairs; test ${pct(result.pairs.test?.accuracy)} of ${result.pairs.test?.pairs ?? 0} pairs\n`);
    }
    if (opts.out) info(`wrote ${opts.out}\n`);
  });
}

// ----------------------------------------------------------------- models ---

interface ModelCliOptions extends DbOptions {
  model?: string;
  file?: string;
  project: string;
}

async function segmentModelFrom(store: Store, opts: ModelCliOptions): Promise<{ model: RewardModel; segments: SegmentRewardModel }> {
  let model: RewardModel;
  if (opts.file) model = await readRewardModelFile(opts.file);
  else if (opts.model) model = await loadRewardModel(store, opts.model, { project: opts.project });
  else throw new RlxfError("missing_option", "name a model: --model NAME[@VERSION] (stored) or --file FILE");
  if (model.params.type !== "segments") {
    throw new RlxfError("wrong_kind", `reward model "${model.meta.name}" is a ${model.type} model: it gives no per-segment rewards (train one with rlxf rm train --type segments)`);
  }
  return { model, segments: model.params.segments };
}

// ------------------------------------------------------------------ score ---

interface ScoreCliOptions extends ModelCliOptions {
  in?: string;
  out?: string;
  format: SegmentExportFormat;
  policy?: string;
}

class StopScoring extends Error {}

async function runScore(opts: ScoreCliOptions): Promise<void> {
  await withStore(opts, async (store) => {
    const { segments: model } = await segmentModelFrom(store, opts);
    const sink = opts.out ? createWriteStream(opts.out) : process.stdout;
    // A closed pipe (`rlxf dense score | head`) ends the output quietly.
    let closed = false;
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") closed = true;
      else throw e;
    };
    if (!opts.out) process.stdout.on("error", onError);
    const write = async (row: unknown) => {
      if (closed) throw new StopScoring();
      if (!sink.write(`${JSON.stringify(row)}\n`)) {
        await new Promise<void>((r) => {
          sink.once("drain", () => r());
          sink.once("error", () => r());
        });
      }
    };
    const emit = async (prompt: Prompt, response: string, passages: ReturnType<typeof readPassages> | undefined, base: Record<string, unknown>) => {
      const s = model.score({ prompt, response, ...(passages ? { passages } : {}) });
      if (opts.format === "trl-stepwise") {
        if (s.segments.length) await write(segmentStepwiseRow(prompt, s.segments));
      } else await write(segmentRewardRow(base, s));
    };
    const bar = progress("scoring");
    let n = 0;
    try {
      if (opts.in) {
        for await (const { row, line } of jsonLines(opts.in)) {
          const where = `${opts.in} line ${line}`;
          const p = Prompt.safeParse(row.prompt);
          if (!p.success) throw new RlxfError("invalid_input", `${where}: "prompt" must be a string or a list of {role, content} messages`);
          if (typeof row.response !== "string") throw new RlxfError("invalid_input", `${where}: "response" must be a string`);
          let passages: ReturnType<typeof readPassages> | undefined;
          try {
            passages = row.passages === undefined ? passagesOf(row.reference) : readPassages(row.passages);
          } catch (e) {
            throw new RlxfError("invalid_input", `${where}: ${(e as Error).message}`);
          }
          const { response: _r, passages: _p, ...rest } = row;
          await emit(p.data, row.response, passages, rest);
          bar.tick();
          n++;
        }
      } else {
        const items = new Map<string, { prompt: Prompt; passages: ReturnType<typeof itemPassages> }>();
        for await (const g of store.iterateGenerations({ project: opts.project, ...(opts.policy ? { policy: opts.policy } : {}) })) {
          let it = items.get(g.itemId);
          if (!it) {
            const item = await store.getItem(opts.project, g.itemId);
            if (!item) continue;
            it = { prompt: item.prompt, passages: itemPassages(item.metadata) };
            if (items.size > 10_000) items.clear();
            items.set(g.itemId, it);
          }
          await emit(it.prompt, g.output, it.passages, { generationId: g.id, itemId: g.itemId, policy: g.policy });
          bar.tick();
          n++;
        }
      }
    } catch (e) {
      if (!(e instanceof StopScoring)) throw e;
    } finally {
      bar.done(`${n} scored`);
      if (opts.out) await new Promise<void>((r) => (sink as ReturnType<typeof createWriteStream>).end(() => r()));
      else process.stdout.off("error", onError);
    }
    if (opts.out) info(`wrote ${n} output(s) to ${opts.out}\n`);
  });
}

// ------------------------------------------------------------------- eval ---

interface EvalCliOptions extends ModelCliOptions {
  split: "all" | "test" | "train";
  sourceType?: SourceType;
  derivedSpans: DerivedSpans;
  json?: boolean;
}

async function runEval(opts: EvalCliOptions): Promise<void> {
  await withStore(opts, async (store) => {
    const { model, segments } = await segmentModelFrom(store, opts);
    const q = { project: opts.project, ...(opts.sourceType ? { sourceType: opts.sourceType } : {}) };
    const data = await collectSegmentData(
      { spans: feedbackSource(store, { ...q, kinds: ["spans"] }), pairs: feedbackSource(store, { ...q, kinds: ["pairwise", "ranking"] }) },
      { derived: opts.derivedSpans },
    );
    let examples = data.examples;
    let pairs: SegmentPair[] = data.pairs;
    if (opts.split !== "all") {
      const share = model.meta.training?.options.testFraction;
      if (typeof share !== "number" || !(share > 0)) throw new RlxfError("invalid_input", `model ${model.meta.name} was trained without a held-out split: use --split all`);
      examples = splitByItem(examples, share, model.meta.seed)[opts.split];
      const keep = new Set(examples.map((e) => e.itemId));
      const all = splitByItem(data.pairs.map((p) => ({ ...p, project: opts.project })), share, model.meta.seed)[opts.split];
      pairs = all.filter((p) => keep.has(p.itemId) || examples.length === 0);
    }
    const bar = progress("evaluating", examples.length + pairs.length);
    const detection = segments.types.map((t) => {
      const labels = new Set(t.labels);
      const ys: boolean[] = [];
      const flags: boolean[] = [];
      for (const ex of examples) {
        const { segments: segs, probs } = segments.probabilities({ prompt: ex.prompt, response: ex.response, ...(ex.passages ? { passages: ex.passages } : {}) });
        const k = segments.types.indexOf(t);
        segmentLabels(ex.response, segs, ex.spans, labels).forEach((y, s) => {
          ys.push(y);
          flags.push(probs[k]![s]! >= t.threshold);
        });
      }
      return { type: t.name, ...detectionMetrics(ys, flags) };
    });
    bar.tick(examples.length);
    const z = pairs.map((p) => {
      const base = { prompt: p.prompt, ...(p.passages ? { passages: p.passages } : {}) };
      return segments.score({ ...base, response: p.chosen }).reward - segments.score({ ...base, response: p.rejected }).reward;
    });
    bar.tick(pairs.length);
    bar.done();
    const pm = pairs.length ? pairMetrics(z, pairs.map((p) => p.pChosen)) : undefined;
    const ref = `${model.meta.name}${model.meta.version !== undefined ? `@${model.meta.version}` : ""}`;
    if (opts.json) {
      out(`${JSON.stringify({ model: ref, split: opts.split, outputs: examples.length, detection, pairs: pm })}\n`);
      return;
    }
    out(`segment reward model ${ref} on ${examples.length} output(s) with spans (${opts.split}):\n`);
    out(
      table(
        detection.map((d) => ({ ...d, positives: `${d.positives}/${d.segments}` })),
        [
          { key: "type" },
          { key: "positives" },
          { key: "precision", digits: 3 },
          { key: "recall", digits: 3 },
          { key: "f1", title: "F1", digits: 3 },
          { key: "alwaysFlagF1", title: "always-flag F1", digits: 3 },
        ],
      ),
    );
    if (pm) out(`pairwise accuracy ${pm.accuracy.toFixed(4)} on ${pm.pairs} pair(s) (ties left out of accuracy), log-loss ${pm.logLoss.toFixed(4)}\n`);
  });
}

// --------------------------------------------------------- from critiques ---

interface FromCritiquesCliOptions extends DbOptions {
  project: string;
  sourceType?: SourceType;
  labels?: string[];
  repetition?: string[];
  contradiction?: string[];
  minScore: number;
  includePositive?: boolean;
  embedUrl?: string;
  embedModel?: string;
  dryRun?: boolean;
  json?: boolean;
}

function embedderFrom(opts: { embedUrl?: string; embedModel?: string }, store: Store): (Embedder & { model: string }) | undefined {
  const baseUrl = opts.embedUrl ?? process.env.RLXF_EMBED_URL;
  if (!baseUrl) return undefined;
  const model = opts.embedModel ?? process.env.RLXF_EMBED_MODEL;
  if (!model) throw new RlxfError("missing_option", "--embed-url needs --embed-model (or RLXF_EMBED_MODEL)");
  const apiKey = process.env.RLXF_EMBED_API_KEY ?? process.env.OPENAI_API_KEY;
  const inner = openAiEmbedder({ baseUrl, model, ...(apiKey ? { apiKey } : {}) });
  return Object.assign(cachedEmbedder(inner, store.vectors, `embedding:${model}`), { model });
}

async function runFromCritiques(opts: FromCritiquesCliOptions): Promise<void> {
  await withStore(opts, async (store) => {
    const embedder = embedderFrom(opts, store);
    const labels = opts.labels ? labelCues(opts.labels, { repetition: opts.repetition ?? [], contradiction: opts.contradiction ?? [] }) : undefined;
    const bar = progress("aligning critiques");
    const source = store.iterateResolvedFeedback({ project: opts.project, kind: ["critique"], ...(opts.sourceType ? { sourceType: opts.sourceType } : {}) });
    const pending: Feedback[] = [];
    let written = 0;
    const flush = async () => {
      if (!pending.length || opts.dryRun) return;
      const r = await store.write({ feedback: pending.splice(0) });
      written += r.feedback.inserted;
    };
    const { feedback, report } = await spansFromCritiques(source, {
      minScore: opts.minScore,
      ...(opts.includePositive ? { includePositive: true } : {}),
      ...(labels ? { labels } : {}),
      ...(embedder ? { embedder, embeddingModel: embedder.model } : {}),
      onProgress: () => bar.tick(),
      onRecord: async (f) => {
        pending.push(f);
        if (pending.length >= 500) await flush();
      },
    });
    await flush();
    bar.done(`${report.critiques} critiques`);
    const summary = { ...report, written: opts.dryRun ? 0 : written, existing: opts.dryRun ? 0 : feedback.length - written, dryRun: Boolean(opts.dryRun) };
    if (opts.json) {
      out(`${JSON.stringify(summary)}\n`);
      return;
    }
    out(
      `${report.critiques} critique(s): ${report.derived} gave spans (${report.spans} span(s)); ` +
        (opts.dryRun ? "dry run, nothing stored\n" : `${written} new spans record(s) stored, ${feedback.length - written} already there\n`),
    );
    const skippedPhrases = Object.entries(report.skippedPhrases);
    if (skippedPhrases.length) out(`phrases without a span: ${skippedPhrases.map(([k, v]) => `${k} ${v}`).join(", ")}\n`);
    const skipped = Object.entries(report.skipped);
    if (skipped.length) out(`critiques without spans: ${skipped.map(([k, v]) => `${k} ${v}`).join(", ")}\n`);
  });
}

// --------------------------------------------------------------- commands ---

/** The options `rlxf rm train` takes for `--type segments`. */
export function segmentTrainOptions(c: Command): Command {
  return c
    .addOption(new Option("--level <level>", "segments: segments are sentences or sub-sentences").choices([...SEGMENT_LEVELS]).default("sentence"))
    .option("--groups <spec>", 'segments: error types made of span labels, e.g. "relevance=Irrelevant+Redundant;factuality=Wrong-Grounding" (default: one type per label)', parseGroups("--groups"))
    .option("--ignore <spec>", 'segments: segments a type leaves out of training, e.g. "factuality=Irrelevant+Redundant"', parseGroups("--ignore"))
    .option("--weights <w>", "segments: type weights: equal, fit (on the training pairs), or TYPE=W,TYPE=W (default: chosen on the training pairs)", parseWeights)
    .addOption(new Option("--combine <mode>", "segments: per-segment reward: sign (±1 per type) or prob (1 − 2p) (default: chosen on the training pairs)").choices([...COMBINE_MODES]))
    .addOption(new Option("--aggregate <how>", "segments: an output's reward: sum or mean of its segments' (default: chosen on the training pairs)").choices([...AGGREGATES]))
    .option("--min-positives <n>", "segments: leave out types with fewer positive training segments", num("--min-positives", 1), 10)
    .addOption(new Option("--derived-spans <which>", "segments: spans derived from critiques: include, exclude, only").choices([...DERIVED_SPANS]).default("include"));
}

export function register(program: Command): void {
  const dense = program.command("dense").description("dense rewards: per-segment rewards from segment reward models (train one with rlxf rm train --type segments)");

  dense
    .command("score")
    .description("per-segment rewards of outputs: JSON Lines {prompt, response, passages?} in, or the project's stored generations")
    .option("--model <ref>", "stored segment model: NAME (latest) or NAME@VERSION")
    .option("--file <file>", "a model artifact file instead")
    .option("--in <file>", "JSON Lines to score (- for stdin); passages in `passages` or `reference.passages`; default: stored generations (passages from item metadata)")
    .option("--out <file>", "write here instead of stdout")
    .addOption(new Option("--format <format>", "segments: {.., reward, segments: [{start, end, text, rewards, reward, flagged}]}; trl-stepwise: {prompt, completions, labels}").choices([...SEGMENT_EXPORT_FORMATS]).default("segments"))
    .option("--policy <name>", "stored generations of this policy only")
    .addOption(projectOption("project"))
    .addOption(dbOption())
    .action(runScore);

  dense
    .command("eval")
    .description("a segment model's detection per error type (precision, recall, F1 against stored spans) and its pairwise accuracy")
    .option("--model <ref>", "stored segment model: NAME (latest) or NAME@VERSION")
    .option("--file <file>", "a model artifact file instead")
    .addOption(new Option("--split <split>", "all items, or the training run's held-out (test) or training items").choices(["all", "test", "train"]).default("test"))
    .addOption(new Option("--source-type <type>", "only feedback from this source type").choices([...SOURCE_TYPES]))
    .addOption(new Option("--derived-spans <which>", "spans derived from critiques: include, exclude, only").choices([...DERIVED_SPANS]).default("exclude"))
    .addOption(projectOption("project"))
    .addOption(dbOption())
    .option("--json", "print JSON")
    .action(runEval);

  const spans = program.command("spans").description("span feedback: derive spans from critiques");
  spans
    .command("from-critiques")
    .description("align each stored critique's phrases with the output it criticises and store the result as spans feedback (provenance in metadata)")
    .addOption(projectOption("project"))
    .addOption(new Option("--source-type <type>", "only critiques from this source type").choices([...SOURCE_TYPES]))
    .option("--labels <list>", "span labels to use (each also matched by name in a phrase, or as a \"Label:\" prefix); default: redundant, irrelevant, incoherent, unsupported, incorrect", names("--labels"))
    .option("--repetition <list>", "with --labels: labels that mean repeated content (the later copies are marked)", names("--repetition"))
    .option("--contradiction <list>", "with --labels: labels that mean contradicting a cited source", names("--contradiction"))
    .option("--min-score <s>", "smallest alignment score kept", num("--min-score", 0, 1), 0.3)
    .option("--include-positive", "also mark praised parts (score +1)")
    .option("--embed-url <url>", "OpenAI-compatible API base for embedding alignment (env RLXF_EMBED_URL)")
    .option("--embed-model <name>", "embedding model (env RLXF_EMBED_MODEL)")
    .option("--dry-run", "align and report without storing")
    .addOption(dbOption())
    .option("--json", "print a JSON report")
    .action(runFromCritiques);
}
