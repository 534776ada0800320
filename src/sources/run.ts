/**
 * Running a judge over many examples: examples in flight at once (the
 * model's own limits still apply), results in input order, records written
 * to the store in batches as they come, and a report of parsed and failed
 * judgements with the model's accounting.
 */
import type { FeedbackKind, SourceType } from "../feedback/schema.js";
import type { ModelStats } from "../providers/index.js";
import type { ChatModel } from "../providers/index.js";
import type { FailureReason } from "../store/index.js";
import type { Store } from "../store/index.js";
import { RlxfError } from "../errors.js";
import type { JudgeConfig, JudgeKind, PairwiseOrder } from "./config.js";
import type { OutputRow, PairRow } from "./inputs.js";
import {
  type Failed,
  type PairwiseJudgement,
  critique,
  critiqueSteps,
  gradeRubric,
  gradeWithReference,
  type Verdict,
  judgePair,
  shownOrders,
  snapPreference,
  splitSteps,
} from "./judge.js";
import { contentHash } from "../io/index.js";
import { type JudgeRecords, type JudgeSource, type SinkReport, StoreSink, failureRecord, feedbackRecord, outputTarget, pairTargets } from "./records.js";
import type { RecordSink } from "./writer.js";
import { resolveJudge } from "./registry.js";
import { type SimulatedJudgement, simulatePair } from "./simulate.js";

export interface RunContext {
  model: ChatModel & { stats?(): ModelStats; flush?(): Promise<void> };
  /** Where feedback and failures go; nothing is stored without one (or a `sink`). */
  store?: Store;
  /** Writes the records instead of a `StoreSink` on `store` (e.g. a `WorkerSink` on the same file). */
  sink?: RecordSink;
  /** Default "default". */
  project?: string;
  /** The feedback's `source.id`; default `<judge>/<model>`. */
  sourceId?: string;
  /** Examples in flight at once; default 64 (the model's concurrency limit still holds). */
  concurrency?: number;
  /** Store writes per batch; default 500. */
  batchSize?: number;
  /** Each result, in input order. */
  onResult?: (row: Record<string, unknown>, index: number) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface RunReport {
  judge: string;
  kind: JudgeKind | "pool";
  source: JudgeSource;
  total: number;
  /** Judgements that produced feedback. */
  parsed: number;
  /** Judgements recorded as failures. */
  failed: number;
  failures: Partial<Record<FailureReason, number>>;
  /** Counts by outcome (pairwise: first/second/tie; critique: pass/fail; steps: correct/wrong...). */
  outcomes: Record<string, number>;
  /** Pairwise: verdicts (one order of one pair) already stored by this judge and read back instead of asked again. */
  reused?: number;
  stored?: SinkReport;
  model?: ModelStats;
  seconds: number;
}

interface Outcome {
  row: Record<string, unknown>;
  records: Partial<JudgeRecords>;
  failed?: Failed;
  outcome?: string;
  reused?: number;
}

async function run<I>(
  inputs: readonly I[],
  ctx: RunContext,
  head: { judge: string; kind: JudgeKind | "pool"; source: JudgeSource },
  task: (input: I, index: number) => Promise<Outcome>,
): Promise<RunReport> {
  const started = performance.now();
  const sink: RecordSink | undefined = ctx.sink ?? (ctx.store ? new StoreSink(ctx.store, { batchSize: ctx.batchSize ?? 500 }) : undefined);
  const report: RunReport = { ...head, total: inputs.length, parsed: 0, failed: 0, failures: {}, outcomes: {}, seconds: 0 };
  const done = new Map<number, Outcome>();
  let emitted = 0;
  let next = 0;
  let finished = 0;
  let crash: unknown;
  const emit = () => {
    while (done.has(emitted)) {
      const o = done.get(emitted)!;
      done.delete(emitted);
      if (o.failed) {
        report.failed++;
        report.failures[o.failed.reason] = (report.failures[o.failed.reason] ?? 0) + 1;
      } else report.parsed++;
      if (o.outcome) report.outcomes[o.outcome] = (report.outcomes[o.outcome] ?? 0) + 1;
      if (o.reused) report.reused = (report.reused ?? 0) + o.reused;
      sink?.add(o.records);
      ctx.onResult?.(o.row, emitted);
      emitted++;
    }
  };
  const worker = async () => {
    while (next < inputs.length && crash === undefined && sink?.error === undefined) {
      const i = next++;
      try {
        done.set(i, await task(inputs[i]!, i));
      } catch (e) {
        crash ??= e;
        return;
      }
      finished++;
      ctx.onProgress?.(finished, inputs.length);
      emit();
    }
  };
  const width = Math.max(1, Math.min(ctx.concurrency ?? 64, inputs.length));
  await Promise.all(Array.from({ length: width }, worker));
  // Cache entries and the last records are written side by side.
  const [cached, stored] = await Promise.allSettled([ctx.model.flush?.(), sink?.flush()]);
  if (crash !== undefined) throw crash;
  if (stored.status === "rejected") throw stored.reason;
  if (cached.status === "rejected") throw cached.reason;
  if (sink && stored.value) report.stored = stored.value;
  const stats = ctx.model.stats?.();
  if (stats) report.model = stats;
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

const defaultSourceType = (kind: JudgeKind): SourceType => (kind === "critique" || kind === "steps" ? "critic" : "judge");

function sourceOf(ctx: RunContext, name: string, type: SourceType, model?: string): JudgeSource {
  return { type, id: ctx.sourceId ?? `${name}/${model ?? ctx.model.model}` };
}

const choiceOf = (p: number) => (p < 1.5 ? "first" : p > 1.5 ? "second" : "tie");

function failureFields(f: Failed): Record<string, unknown> {
  return { error: f.error, failure_reason: f.reason, raw: f.raw, attempts: f.attempts };
}

// -------------------------------------------------------------- pairwise ---

function pairwiseVerdictsMeta(j: PairwiseJudgement) {
  return j.verdicts.map((v) => ({
    swapped: v.swapped,
    preference: v.preference,
    raw: v.raw,
    ...(v.rawAll.length > 1 ? { unparsed: v.rawAll.slice(0, -1) } : {}),
    ...(v.fromLogprobs ? { fromLogprobs: true } : {}),
  }));
}

function pairwiseOutcome(
  row: PairRow,
  ctx: RunContext,
  source: JudgeSource,
  j: PairwiseJudgement | Failed | SimulatedJudgement,
  meta: Record<string, unknown>,
  extraRow: Record<string, unknown> = {},
): Outcome {
  const project = ctx.project ?? "default";
  const { item, generations } = pairTargets(project, row);
  const targets = [generations[0].id, generations[1].id];
  const base = { ...row.source, annotator: source.id, ...extraRow };
  if (!j.ok) {
    const failed = j as Failed;
    return {
      row: { ...base, preference: null, ...failureFields(failed) },
      records: { items: [item], generations, failures: [failureRecord({ project, itemId: item.id, kind: "pairwise", targets, source, failed, metadata: meta })] },
      failed,
    };
  }
  const judged = j as PairwiseJudgement | Extract<SimulatedJudgement, { noisy: true }>;
  const preference = judged.preference;
  const choice = choiceOf(preference);
  const verdicts = "rawAll" in (judged.verdicts[0] ?? {}) ? pairwiseVerdictsMeta(judged as PairwiseJudgement) : [];
  const judgeMeta = { ...meta, preference, verdicts, ...("identical" in judged && judged.identical ? { identical: true } : {}), attempts: judged.attempts };
  const fb = feedbackRecord({
    project,
    itemId: item.id,
    kind: "pairwise",
    targets,
    source,
    value: { choice, pSecond: preference - 1 },
    metadata: { judge: judgeMeta },
  });
  return {
    row: {
      ...base,
      preference,
      choice,
      verdicts: verdicts.map((v) => ({ order: v.swapped ? "swapped" : "original", preference: v.preference, raw: v.raw })),
      // AlpacaEval's column: the raw answer (in the order the judge saw), or both when both orders were asked.
      ...(verdicts.length === 1 ? { raw_completion: verdicts[0]!.raw } : verdicts.length > 1 ? { raw_completion: verdicts.map((v) => v.raw) } : {}),
      ...("identical" in judged && judged.identical ? { identical: true } : {}),
      feedback_id: fb.id,
    },
    records: { items: [item], generations, feedback: [fb] },
    outcome: "identical" in judged && judged.identical ? "identical" : choice,
  };
}

export interface PairwiseRunOptions {
  /** Overrides the judge's `order`: `random`, `both` (swap: both orders, combined) or `fixed`. */
  order?: PairwiseOrder;
  /** Seed of the position randomization; default 0. */
  seed?: number;
}

const SHOWN = (swapped: boolean) => (swapped ? "swapped" : "original");

/**
 * The record of one verdict: the pair seen in one order by one judge (source and config). Its id depends on
 * nothing else, so the same judgement asked again (a re-run, or `--swap` after a run in one order) finds it
 * stored and is not asked or stored twice. Readers count a pair's records of one judge as one judgement
 * (`withOrderVerdictsMerged` in the feedback room).
 */
function verdictId(project: string, targets: string[], source: JudgeSource, key: string, swapped: boolean): string {
  return `fb_${contentHash({ project, kind: "pairwise", targets, source: { type: source.type, id: source.id }, judge: key, shown: SHOWN(swapped) })}`;
}

function verdictRecord(project: string, itemId: string, targets: string[], source: JudgeSource, key: string, v: Verdict, meta: Record<string, unknown>) {
  const fb = feedbackRecord({
    project,
    itemId,
    kind: "pairwise",
    targets,
    source,
    value: { choice: choiceOf(v.preference), pSecond: v.preference - 1 },
    metadata: { judge: { ...meta, key, shown: SHOWN(v.swapped), preference: v.preference, verdicts: pairwiseVerdictsMeta({ ok: true, preference: v.preference, verdicts: [v], attempts: v.rawAll.length }), attempts: v.rawAll.length } },
  });
  return { ...fb, id: verdictId(project, targets, source, key, v.swapped) };
}

/** A stored verdict record read back as the verdict it holds. */
function storedVerdict(f: { value: unknown; metadata?: Record<string, unknown> }, swapped: boolean): Verdict | undefined {
  const j = f.metadata?.judge as { preference?: unknown; verdicts?: Array<{ raw?: unknown; fromLogprobs?: unknown }> } | undefined;
  if (typeof j?.preference !== "number") return undefined;
  const raw = typeof j.verdicts?.[0]?.raw === "string" ? (j.verdicts[0].raw as string) : "";
  return { swapped, preference: j.preference, raw, rawAll: [raw], fromLogprobs: j.verdicts?.[0]?.fromLogprobs === true, cached: true };
}

/**
 * Judge pairs with a pairwise judge; each result row adds `preference` in [1, 2] (AlpacaEval's encoding) and the
 * raw verdicts. Each order a pair is shown in is one verdict, stored as its own record: verdicts this judge
 * already stored (same source and config) are read back rather than asked again, so `order: "both"` after a
 * run in one order asks and stores only the other order.
 */
export async function runPairwise(rows: readonly PairRow[], judgeRef: string | JudgeConfig, ctx: RunContext, opts: PairwiseRunOptions = {}): Promise<RunReport> {
  const judge = resolveJudge(judgeRef);
  if (judge.kind !== "pairwise") throw new RlxfError("invalid_config", `judge "${judge.name}" is a ${judge.kind} judge, not pairwise`);
  const source = sourceOf(ctx, judge.name, judge.sourceType ?? "judge", judge.completion?.model);
  const order = opts.order ?? judge.order ?? "random";
  const seed = opts.seed ?? 0;
  const model = judge.completion?.model ?? ctx.model.model;
  const meta = { config: judge.name, model, order, seed };
  // What decides a verdict besides the pair: the judge's config (prompt, parser, settings) and the model.
  const key = contentHash({ judge: { ...judge, order: undefined, retries: undefined }, model });
  const project = ctx.project ?? "default";
  // Verdicts in this run by record id: a pair listed twice is asked once.
  const asked = new Map<string, Promise<Verdict | Failed>>();
  return run(rows, ctx, { judge: judge.name, kind: "pairwise", source }, async (row) => {
    if (row.output_1 === row.output_2) return pairwiseOutcome(row, ctx, source, await judgePair(ctx.model, judge, row, { order, seed }), meta);
    const { item, generations } = pairTargets(project, row);
    const targets = [generations[0].id, generations[1].id];
    const orders = shownOrders(order, row.instruction, seed);
    const ids = orders.map((sw) => verdictId(project, targets, source, key, sw));
    let reused = 0;
    const verdicts = await Promise.all(
      orders.map(async (swapped, k): Promise<{ v: Verdict | Failed; fresh: boolean }> => {
        const id = ids[k]!;
        const pending = asked.get(id);
        if (pending) return { v: await pending, fresh: false };
        const stored = ctx.store ? await ctx.store.getFeedback(project, id) : undefined;
        const known = stored ? storedVerdict(stored, swapped) : undefined;
        if (known) {
          reused++;
          return { v: known, fresh: false };
        }
        const p = judgePair(ctx.model, judge, row, { shown: [swapped] }).then((j): Verdict | Failed => (j.ok ? j.verdicts[0]! : j));
        asked.set(id, p);
        return { v: await p, fresh: true };
      }),
    );
    const failed = verdicts.find((x) => !("swapped" in x.v));
    if (failed) {
      const f = failed.v as Failed;
      const raw = verdicts.flatMap((x) => ("swapped" in x.v ? x.v.rawAll : (x.v as Failed).raw));
      const which = orders.length > 1 ? ` (${SHOWN(orders[verdicts.indexOf(failed)]!)} order)` : "";
      const o = pairwiseOutcome(row, ctx, source, { ...f, error: f.error + which, raw }, meta);
      // Verdicts of the other order that did parse are kept.
      const kept = verdicts.filter((x) => x.fresh && "swapped" in x.v).map((x) => verdictRecord(project, item.id, targets, source, key, x.v as Verdict, meta));
      return { ...o, records: { ...o.records, feedback: kept }, reused };
    }
    const vs = verdicts.map((x) => x.v as Verdict);
    const preference = snapPreference(vs.reduce((s, v) => s + v.preference, 0) / vs.length);
    const fresh = verdicts.filter((x) => x.fresh).map((x) => verdictRecord(project, item.id, targets, source, key, x.v as Verdict, meta));
    const choice = choiceOf(preference);
    return {
      row: {
        ...row.source,
        annotator: source.id,
        preference,
        choice,
        verdicts: vs.map((v) => ({ order: SHOWN(v.swapped), preference: v.preference, raw: v.raw })),
        ...(vs.length === 1 ? { raw_completion: vs[0]!.raw } : { raw_completion: vs.map((v) => v.raw) }),
        ...(reused ? { reused } : {}),
        feedback_id: ids[0],
        ...(ids.length > 1 ? { feedback_ids: ids } : {}),
      },
      records: { items: [item], generations, feedback: fresh },
      outcome: choice,
      reused,
    };
  });
}

// -------------------------------------------------------------- simulate ---

export interface SimulationRunOptions {
  /** Label-flip probability p (default: the pool's pFlip, else 0). */
  pFlip?: number;
  seed?: number;
}

/** Simulated pairwise feedback from an AlpacaFarm-style pool (see simulate.ts); source type `simulated`. */
export async function runSimulation(
  rows: readonly PairRow[],
  pool: { pool: { name: string; pFlip?: number }; members: JudgeConfig[] },
  ctx: RunContext,
  opts: SimulationRunOptions = {},
): Promise<RunReport> {
  const pFlip = opts.pFlip ?? pool.pool.pFlip ?? 0;
  const seed = opts.seed ?? 0;
  const source = sourceOf(ctx, pool.pool.name, "simulated");
  return run(rows, ctx, { judge: pool.pool.name, kind: "pool", source }, async (row) => {
    const j = await simulatePair(ctx.model, pool.members, row, { pFlip, seed });
    const member = pool.members.find((m) => m.name === j.annotator)!;
    const meta = { config: j.annotator, pool: pool.pool.name, model: member.completion?.model ?? ctx.model.model, pFlip, seed, noisy: j.noisy };
    const o = pairwiseOutcome(row, ctx, source, j, meta, { simulated_annotator: j.annotator, noisy: j.noisy });
    if (j.ok && j.noisy) o.outcome = `noisy ${o.outcome}`;
    return o;
  });
}

// ------------------------------------------------------- single outputs ---

const FEEDBACK_OF: Record<Exclude<JudgeKind, "pairwise" | "checklist">, FeedbackKind> = {
  rubric: "rubric",
  critique: "critique",
  steps: "spans",
  reference: "rating",
};

/** Grade single outputs with a rubric, critique, steps or reference judge. */
export async function runOutputs(rows: readonly OutputRow[], judgeRef: string | JudgeConfig, ctx: RunContext): Promise<RunReport> {
  const judge = resolveJudge(judgeRef);
  if (judge.kind === "pairwise") throw new RlxfError("invalid_config", `judge "${judge.name}" is pairwise: use it on pairs`);
  if (judge.kind === "checklist") {
    throw new RlxfError("invalid_config", `"${judge.name}" writes checklists; name it as the "checklist" of a rubric judge (like the shipped "checklist")`);
  }
  const kind = judge.kind;
  const checklist = judge.checklist !== undefined ? resolveJudge(judge.checklist as never) : undefined;
  if (checklist && checklist.kind !== "checklist") throw new RlxfError("invalid_config", `the checklist of "${judge.name}" must be a checklist config, not ${checklist.kind}`);
  const source = sourceOf(ctx, judge.name, judge.sourceType ?? defaultSourceType(kind), judge.completion?.model);
  const project = ctx.project ?? "default";
  const model = judge.completion?.model ?? ctx.model.model;
  return run(rows, ctx, { judge: judge.name, kind, source }, async (row) => {
    const text = kind === "steps" ? splitSteps(row).output : row.output;
    const { item, generation } = outputTarget(project, { ...row, output: text });
    const base = { ...row.source, annotator: source.id };
    const meta: Record<string, unknown> = { config: judge.name, model };
    const j =
      kind === "rubric"
        ? await gradeRubric(ctx.model, judge, row, checklist ? { checklist } : {})
        : kind === "critique"
          ? await critique(ctx.model, judge, row)
          : kind === "steps"
            ? await critiqueSteps(ctx.model, judge, row)
            : await gradeWithReference(ctx.model, judge, row);
    let fbKind: FeedbackKind = FEEDBACK_OF[kind];
    if (!j.ok) {
      return {
        row: { ...base, ...failureFields(j) },
        records: { items: [item], generations: [generation], failures: [failureRecord({ project, itemId: item.id, kind: fbKind, targets: [generation.id], source, failed: j, metadata: meta })] },
        failed: j,
      };
    }
    let value: Record<string, unknown>;
    let outcome: string;
    const judgeMeta: Record<string, unknown> = { ...meta, raw: j.raw, attempts: j.attempts };
    if ("criteria" in j) {
      value = { criteria: j.criteria, total: j.total };
      if (j.checklist) judgeMeta.checklist = j.checklist;
      outcome = j.total >= 0.5 ? "total >= 0.5" : "total < 0.5";
    } else if ("verdict" in j) {
      value = { text: j.text, strengths: j.strengths, weaknesses: j.weaknesses, suggestions: j.suggestions, verdict: j.verdict };
      outcome = j.verdict;
    } else if ("firstErrorStep" in j) {
      const step = j.firstErrorStep === null ? undefined : j.steps[j.firstErrorStep - 1]!;
      value = { spans: step ? [{ start: step.start, end: step.end, label: "first_error", ...(j.explanation ? { comment: j.explanation } : {}) }] : [] };
      Object.assign(judgeMeta, { firstErrorStep: j.firstErrorStep, steps: j.steps.length, ...(j.explanation ? { explanation: j.explanation } : {}) });
      outcome = j.firstErrorStep === null ? "no error" : "error found";
    } else {
      if (j.score !== undefined) {
        value = { score: j.score, scale: j.scale, dimension: "reference", ...(j.rationale ? { comment: j.rationale } : {}) };
        if (j.correct !== undefined) judgeMeta.correct = j.correct;
        outcome = `score ${j.score}`;
      } else {
        fbKind = "binary";
        value = { ok: j.correct!, ...(j.rationale ? { comment: j.rationale } : {}) };
        outcome = j.correct ? "correct" : "incorrect";
      }
    }
    const fb = feedbackRecord({ project, itemId: item.id, kind: fbKind, targets: [generation.id], source, value, metadata: { judge: judgeMeta } });
    const resultRow: Record<string, unknown> = { ...base, kind: fbKind, result: value, feedback_id: fb.id };
    if ("firstErrorStep" in j) resultRow.first_error_step = j.firstErrorStep;
    if ("criteria" in j && j.checklist) resultRow.checklist = j.checklist.items;
    return { row: resultRow, records: { items: [item], generations: [generation], feedback: [fb] }, outcome };
  });
}
