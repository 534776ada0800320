/**
 * `judge`: an LLM judge over rows sent with the job (pairs or single outputs, as `rlxf judge` reads them) or
 * over a stored selection (each item's outputs of two policies, or of one), run with the sources room's
 * runner (src/sources/run.ts). Each row is a unit: its feedback (or judgement failure) is committed with
 * the unit, exactly once, and the feedback lands on the stored generations when the rows came from the store.
 */
import { z } from "zod";
import { ValidationError } from "../../errors.js";
import type { Generation } from "../../feedback/schema.js";
import { feedbackIdFor, promptText } from "../../io/index.js";
import {
  type JudgeConfig,
  type JudgeRecords,
  type OutputRow,
  PAIRWISE_ORDERS,
  type PairRow,
  type RecordSink,
  type SinkReport,
  defaultJudges,
  outputRow,
  pairRow,
  resolveJudge,
  runOutputs,
  runPairwise,
} from "../../sources/index.js";
import type { UnitCommit } from "../../store/index.js";
import { ModelInputSchema } from "../models.js";
import type { JobKind, UnitsContext } from "../types.js";

const MAX_ROWS = 1_000_000;

export const JudgeSelection = z.strictObject({
  dataset: z.string().min(1).max(200).optional(),
  itemIds: z.array(z.string().min(1)).min(1).max(100_000).optional(),
  /** Pairwise judges: the two policies whose outputs of each item are compared (first, second). */
  policies: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
  /** Single-output judges: the policy whose outputs are graded (default: every output). */
  policy: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(MAX_ROWS).optional(),
});

export const JudgeInput = z
  .strictObject({
    /** A shipped judge name, or a judge config object (`rlxf judge show pairwise` prints one). */
    judge: z.union([z.string().min(1).max(200), z.record(z.string(), z.unknown())]),
    rows: z.array(z.unknown()).min(1).max(MAX_ROWS).optional(),
    selection: JudgeSelection.optional(),
    order: z.enum(PAIRWISE_ORDERS).optional(),
    seed: z.number().int().default(0),
    sourceId: z.string().min(1).max(500).optional(),
    model: ModelInputSchema.default({}),
    /** Examples in flight at once per task (the model's own concurrency limit still holds). */
    concurrency: z.number().int().min(1).max(512).optional(),
    chunkSize: z.number().int().min(1).max(5000).optional(),
  })
  .refine((x) => (x.rows === undefined) !== (x.selection === undefined), { message: "give either rows or a selection of stored outputs", path: ["rows"] });
export type JudgeInput = z.infer<typeof JudgeInput>;

/** Over the API a judge is a shipped name or a config object, never a file on a worker's disk. */
export function judgeOf(ref: string | Record<string, unknown>): JudgeConfig {
  if (typeof ref === "string") {
    const found = defaultJudges().find((j) => j.name === ref);
    if (!found) throw new ValidationError([{ path: "judge", message: `no shipped judge "${ref}"; use one of ${defaultJudges().map((j) => j.name).join(", ")} or a judge config object` }], undefined, "job input");
    return found;
  }
  try {
    return resolveJudge(ref as never);
  } catch (e) {
    throw new ValidationError([{ path: "judge", message: (e as Error).message }], undefined, "job input");
  }
}

const isPairwise = (j: JudgeConfig) => j.kind === "pairwise";

/** A stored selection's unit: the row to judge and the stored records it stands for. */
interface StoredRow {
  row: Record<string, unknown>;
  stored: { itemId: string; targets: string[] };
}

function rowOf(judge: JudgeConfig, value: unknown, label: string): PairRow | OutputRow {
  return isPairwise(judge) ? pairRow(value, label) : outputRow(value, label, { needsReference: judge.kind === "reference" });
}

/**
 * Feedback on the stored item and generations a selection named (the judge's own records would use
 * content-derived ids): targets and item are rewritten and the id recomputed from the new body.
 */
function onStored(records: Partial<JudgeRecords>, stored: StoredRow["stored"]): Partial<JudgeRecords> {
  const feedback = (records.feedback ?? []).map((f) => {
    const body: Record<string, unknown> = { ...(f as Record<string, unknown>), itemId: stored.itemId, targets: stored.targets };
    delete body.id;
    return { id: feedbackIdFor(body), ...body } as never;
  });
  const failures = (records.failures ?? []).map((f) => ({ ...f, itemId: stored.itemId, targets: stored.targets }));
  return { feedback, failures };
}

/**
 * Collects what the runner emits (in input order, one entry per row) and commits it in small batches,
 * each unit with its records in one transaction. Cancellation stops the runner through `error`.
 */
class CommitSink implements RecordSink {
  readonly #ctx: UnitsContext<JudgeInput>;
  readonly #units: readonly { unit: number; input: unknown }[];
  readonly #stored: (StoredRow["stored"] | undefined)[];
  #records: Partial<JudgeRecords>[] = [];
  #ready: UnitCommit[] = [];
  #chain: Promise<void> = Promise.resolve();
  #error: unknown;
  #last = Date.now();
  readonly report: SinkReport = { feedback: { inserted: 0, existing: 0 }, failures: { inserted: 0, existing: 0 } };

  constructor(ctx: UnitsContext<JudgeInput>, units: readonly { unit: number; input: unknown }[], stored: (StoredRow["stored"] | undefined)[]) {
    this.#ctx = ctx;
    this.#units = units;
    this.#stored = stored;
  }

  get error(): unknown {
    return this.#error ?? (this.#ctx.signal.aborted ? this.#ctx.signal.reason : undefined);
  }

  add(r: Partial<JudgeRecords>): void {
    this.#records.push(r);
  }

  /** The runner's result row of unit `index` (called right after `add` for it). */
  result(row: Record<string, unknown>, index: number): void {
    const u = this.#units[index]!;
    const stored = this.#stored[index];
    const records = stored ? onStored(this.#records[index]!, stored) : this.#records[index]!;
    const failed = row.error !== undefined;
    const fb = records.feedback?.[0] as { id?: string } | undefined;
    const fail = records.failures?.[0] as { id?: string } | undefined;
    this.#ready.push({
      unit: u.unit,
      seq: this.#ctx.seq,
      failed,
      outcome: failed ? `failed: ${String(row.failure_reason)}` : String(row.choice ?? (row.result as { verdict?: string } | undefined)?.verdict ?? row.kind ?? "judged"),
      ...(fb?.id ? { recordId: fb.id } : fail?.id ? { recordId: fail.id } : {}),
      ...(failed ? { error: String(row.error) } : {}),
      records,
    });
    this.#records[index] = {};
    if (this.#ready.length >= 20 || Date.now() - this.#last > 1000) this.#drain();
  }

  #drain(): void {
    const batch = this.#ready;
    this.#ready = [];
    this.#last = Date.now();
    if (batch.length === 0) return;
    this.#chain = this.#chain.then(async () => {
      if (this.#error !== undefined) return;
      try {
        await this.#ctx.commit(batch);
      } catch (e) {
        this.#error = e;
      }
    });
  }

  async flush(): Promise<SinkReport> {
    this.#drain();
    await this.#chain;
    if (this.#error !== undefined) throw this.#error;
    if (this.#ctx.signal.aborted) throw this.#ctx.signal.reason;
    return this.report;
  }
}

async function runUnits(ctx: UnitsContext<JudgeInput>, units: readonly { unit: number; input: unknown }[]): Promise<void> {
  const input = ctx.job.input;
  const judge = judgeOf(input.judge);
  const stored = units.map((u) => (u.input as Partial<StoredRow>).stored);
  const rows = units.map((u) => rowOf(judge, (u.input as Partial<StoredRow>).stored ? (u.input as StoredRow).row : u.input, `unit ${u.unit}`));
  const model = ctx.model(input.model);
  const sink = new CommitSink(ctx, units, stored);
  try {
    const run = {
      model,
      sink,
      project: ctx.job.project,
      ...(input.sourceId ? { sourceId: input.sourceId } : {}),
      concurrency: input.concurrency ?? Math.max(16, 2 * model.concurrency),
      onResult: (row: Record<string, unknown>, i: number) => sink.result(row, i),
    };
    if (isPairwise(judge)) await runPairwise(rows as PairRow[], judge, run, { ...(input.order ? { order: input.order } : {}), seed: input.seed });
    else await runOutputs(rows as OutputRow[], judge, run);
  } finally {
    await model.close();
  }
}

/** The stored selection, as rows with the records they stand for. */
async function plan(ctx: Parameters<NonNullable<JobKind<JudgeInput>["plan"]>>[0]): Promise<void> {
  const { store, job } = ctx;
  const sel = job.input.selection!;
  const judge = judgeOf(job.input.judge);
  const project = job.project;
  const limit = sel.limit ?? MAX_ROWS;
  const wanted = sel.itemIds ? new Set(sel.itemIds) : undefined;
  const items = new Map<string, { prompt: string; reference?: string; dataset?: string }>();
  for await (const it of store.iterateItems({ project, ...(sel.dataset ? { dataset: sel.dataset } : {}) })) {
    if (wanted && !wanted.has(it.id)) continue;
    items.set(it.id, { prompt: promptText(it.prompt), ...(it.reference !== undefined ? { reference: it.reference } : {}), ...(it.dataset !== undefined ? { dataset: it.dataset } : {}) });
    if (ctx.signal.aborted) throw ctx.signal.reason;
  }
  let batch: StoredRow[] = [];
  let n = 0;
  const flush = async () => {
    if (batch.length) await ctx.addUnits(batch);
    batch = [];
  };
  const push = async (r: StoredRow) => {
    batch.push(r);
    n++;
    if (batch.length >= 2000) await flush();
  };
  if (isPairwise(judge)) {
    const [a, b] = sel.policies ?? [];
    if (!a || !b) throw new ValidationError([{ path: "selection.policies", message: "a pairwise judge compares two policies: give [first, second]" }], undefined, "job input");
    const first = new Map<string, Generation>();
    for await (const g of store.iterateGenerations({ project, policy: a })) if (items.has(g.itemId) && !first.has(g.itemId)) first.set(g.itemId, g);
    const seen = new Set<string>();
    for await (const g of store.iterateGenerations({ project, policy: b })) {
      const f = first.get(g.itemId);
      if (!f || seen.has(g.itemId) || n >= limit) continue;
      seen.add(g.itemId);
      const it = items.get(g.itemId)!;
      await push({
        row: { instruction: it.prompt, output_1: f.output, output_2: g.output, generator_1: a, generator_2: b, ...(it.dataset ? { dataset: it.dataset } : {}), ...(it.reference ? { reference: it.reference } : {}) },
        stored: { itemId: g.itemId, targets: [f.id, g.id] },
      });
      if (ctx.signal.aborted) throw ctx.signal.reason;
    }
  } else {
    for await (const g of store.iterateGenerations({ project, ...(sel.policy ? { policy: sel.policy } : {}) })) {
      const it = items.get(g.itemId);
      if (!it || n >= limit) continue;
      if (judge.kind === "reference" && it.reference === undefined) continue;
      await push({
        row: { instruction: it.prompt, output: g.output, generator: g.policy, ...(it.dataset ? { dataset: it.dataset } : {}), ...(it.reference !== undefined ? { reference: it.reference } : {}) },
        stored: { itemId: g.itemId, targets: [g.id] },
      });
      if (ctx.signal.aborted) throw ctx.signal.reason;
    }
  }
  await flush();
}

export const judgeKind: JobKind<JudgeInput> = {
  name: "judge",
  description: "an LLM judge over rows sent with the job or a stored selection; each row's feedback is stored exactly once",
  input: JudgeInput,
  roles: ["admin"],
  chunkSize: 50,
  check(input) {
    const judge = judgeOf(input.judge);
    if (judge.kind === "checklist") throw new ValidationError([{ path: "judge", message: "a checklist config writes checklists; use it as the checklist of a rubric judge" }], undefined, "job input");
    input.rows?.forEach((r, i) => rowOf(judge, r, `rows.${i}`));
    if (input.selection && isPairwise(judge) && !input.selection.policies) {
      throw new ValidationError([{ path: "selection.policies", message: "a pairwise judge compares two policies: give [first, second]" }], undefined, "job input");
    }
  },
  split(input) {
    const { rows, ...rest } = input;
    return rows ? { input: rest, split: { phase: "units", units: rows } } : { input: rest, split: { phase: "plan" } };
  },
  plan,
  runUnits,
};
