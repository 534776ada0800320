/**
 * What judgements become in the store: the item and generations judged (ids
 * derived from content exactly as `rlxf import` derives them, so judging pairs
 * that were imported lands on the same generations), a feedback record with
 * the judge as source and the raw answers in `metadata.judge`, or, when the
 * judgement failed, a judgement-failure record with the raw answers.
 */
import { ConflictError } from "../errors.js";
import type { FeedbackInput, GenerationInput, ItemInput, SourceType } from "../feedback/schema.js";
import { DEFAULT_POLICY } from "../io/index.js";
import { contentHash, feedbackIdFor, generationIdFor, itemIdFor } from "../io/index.js";
import type { FeedbackKind } from "../feedback/schema.js";
import type { JudgementFailureInput } from "../store/index.js";
import type { Store, WriteReport } from "../store/index.js";
import type { Failed } from "./judge.js";

export interface JudgeSource {
  type: SourceType;
  id: string;
}

export interface JudgeRecords {
  items: ItemInput[];
  generations: GenerationInput[];
  feedback: FeedbackInput[];
  failures: JudgementFailureInput[];
}

export const emptyRecords = (): JudgeRecords => ({ items: [], generations: [], feedback: [], failures: [] });

function itemOf(project: string, instruction: string, extra: { dataset?: string; reference?: string }): ItemInput {
  const item: ItemInput = { id: itemIdFor(project, instruction), project, prompt: instruction };
  if (extra.dataset !== undefined) item.dataset = extra.dataset;
  if (extra.reference !== undefined) item.reference = extra.reference;
  return item;
}

/** The item and the two generations of a pair (distinct ids even when both outputs are the same). */
export function pairTargets(
  project: string,
  p: { instruction: string; output_1: string; output_2: string; generator_1?: string; generator_2?: string; dataset?: string; reference?: string },
): { item: ItemInput; generations: [GenerationInput, GenerationInput] } {
  const item = itemOf(project, p.instruction, p);
  const b1 = { project, itemId: item.id, policy: p.generator_1 ?? DEFAULT_POLICY, output: p.output_1 };
  const b2 = { project, itemId: item.id, policy: p.generator_2 ?? DEFAULT_POLICY, output: p.output_2 };
  const id1 = generationIdFor(b1);
  let id2 = generationIdFor(b2);
  if (id2 === id1) id2 = generationIdFor(b2, 1);
  return { item, generations: [{ id: id1, ...b1 }, { id: id2, ...b2 }] };
}

export function outputTarget(
  project: string,
  o: { instruction: string; output: string; generator?: string; dataset?: string; reference?: string },
): { item: ItemInput; generation: GenerationInput } {
  const item = itemOf(project, o.instruction, o);
  const body = { project, itemId: item.id, policy: o.generator ?? DEFAULT_POLICY, output: o.output };
  return { item, generation: { id: generationIdFor(body), ...body } };
}

/** A feedback record with its content-hash id. */
export function feedbackRecord(args: {
  project: string;
  itemId: string;
  kind: FeedbackKind;
  targets: string[];
  source: JudgeSource;
  value: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}): FeedbackInput {
  const body: Record<string, unknown> = {
    project: args.project,
    itemId: args.itemId,
    kind: args.kind,
    targets: args.targets,
    source: { type: args.source.type, id: args.source.id },
    value: args.value,
  };
  if (args.metadata !== undefined) body.metadata = args.metadata;
  return { id: feedbackIdFor(body), ...body } as FeedbackInput;
}

export function failureRecord(args: {
  project: string;
  itemId: string;
  kind: FeedbackKind;
  targets: string[];
  source: JudgeSource;
  failed: Failed;
  metadata?: Record<string, unknown>;
}): JudgementFailureInput {
  const body = {
    project: args.project,
    judge: args.source.id,
    sourceType: args.source.type,
    kind: args.kind,
    itemId: args.itemId,
    targets: args.targets,
    reason: args.failed.reason,
    error: args.failed.error,
    raw: args.failed.raw,
    attempts: args.failed.attempts,
    ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
  };
  return { id: `jf_${contentHash(body)}`, ...body };
}

/**
 * Records waiting to be written, as both sinks (in-thread and worker) buffer them:
 * `add` says when a batch is full, `take` hands the batch over and starts a new one.
 */
export class PendingRecords {
  #records = emptyRecords();
  #count = 0;
  constructor(readonly batchSize: number) {}

  /** Queue records; true when the batch is full (feedback plus failures reach `batchSize`). */
  add(r: Partial<JudgeRecords>): boolean {
    this.#records.items.push(...(r.items ?? []));
    this.#records.generations.push(...(r.generations ?? []));
    this.#records.feedback.push(...(r.feedback ?? []));
    this.#records.failures.push(...(r.failures ?? []));
    this.#count += (r.feedback?.length ?? 0) + (r.failures?.length ?? 0);
    return this.#count >= this.batchSize;
  }

  get empty(): boolean {
    return this.#count === 0 && this.#records.items.length === 0;
  }

  take(): JudgeRecords {
    const batch = this.#records;
    this.#records = emptyRecords();
    this.#count = 0;
    return batch;
  }
}

export interface SinkReport {
  feedback: { inserted: number; existing: number };
  failures: { inserted: number; existing: number };
}

/**
 * Writes judgement records to a store in batches while judging goes on.
 * Items already stored (perhaps with a dataset or reference this run does
 * not know) are left as they are. A write error stops further writes and is
 * thrown by `flush()`; `error` lets a runner stop early.
 */
export class StoreSink {
  readonly #store: Store;
  readonly #pending: PendingRecords;
  #chain: Promise<void> = Promise.resolve();
  #error: unknown;
  readonly #knownItems = new Set<string>();
  readonly #knownGenerations = new Set<string>();
  readonly report: SinkReport = { feedback: { inserted: 0, existing: 0 }, failures: { inserted: 0, existing: 0 } };

  constructor(store: Store, opts: { batchSize?: number } = {}) {
    this.#store = store;
    this.#pending = new PendingRecords(opts.batchSize ?? 500);
  }

  get error(): unknown {
    return this.#error;
  }

  add(r: Partial<JudgeRecords>): void {
    if (this.#error !== undefined) return;
    if (this.#pending.add(r)) this.#drain();
  }

  #drain(): void {
    const batch = this.#pending.take();
    this.#chain = this.#chain.then(async () => {
      if (this.#error !== undefined) return;
      try {
        await this.#write(batch);
      } catch (e) {
        this.#error = e;
      }
    });
  }

  async #write(b: JudgeRecords): Promise<void> {
    const key = (r: { project?: string; id: string }) => `${r.project ?? "default"}\u0000${r.id}`;
    const uniq = <T extends { project?: string; id: string }>(xs: T[], known: Set<string>) => {
      const seen = new Map<string, T>();
      for (const x of xs) if (!known.has(key(x)) && !seen.has(key(x))) seen.set(key(x), x);
      return [...seen.values()];
    };
    let items = uniq(b.items, this.#knownItems);
    const generations = uniq(b.generations, this.#knownGenerations);
    let r: WriteReport;
    try {
      r = await this.#store.write({ items, generations, feedback: b.feedback });
    } catch (e) {
      if (!(e instanceof ConflictError) || items.length === 0) throw e;
      // An item is stored with a different body (say, with a dataset): keep the stored one.
      const stored = await Promise.all(items.map((i) => this.#store.getItem(i.project ?? "default", i.id)));
      items = items.filter((_, k) => !stored[k]);
      r = await this.#store.write({ items, generations, feedback: b.feedback });
    }
    for (const i of b.items) this.#knownItems.add(key(i));
    for (const g of generations) this.#knownGenerations.add(key(g));
    this.report.feedback.inserted += r.feedback.inserted;
    this.report.feedback.existing += r.feedback.existing;
    if (b.failures.length) {
      const f = await this.#store.judgementFailures.write(b.failures);
      this.report.failures.inserted += f.inserted;
      this.report.failures.existing += f.existing;
    }
  }

  /** Write what is pending; throws the first write error. */
  async flush(): Promise<SinkReport> {
    if (!this.#pending.empty) this.#drain();
    await this.#chain;
    if (this.#error !== undefined) throw this.#error;
    return this.report;
  }
}
