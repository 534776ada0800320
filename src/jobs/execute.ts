/**
 * Running one attempt of one task: load the job, find its kind, and call the kind's code with the context it
 * needs (the units of its chunk that no attempt has committed yet, a cancellation signal, progress, models).
 * The same code runs in a worker thread (pool.ts) or, for a store that only this thread can open (SQLite in
 * memory), in the calling thread.
 */
import { NotFoundError, RlxfError, typedError } from "../errors.js";
import type { Store, TaskRow } from "../store/index.js";
import { loadJobKind } from "./kinds/index.js";
import { type WorkerModelDefaults, jobModel } from "./models.js";
import type { JobKind, PlanContext, TaskContext, UnitsContext } from "./types.js";

export interface ExecHooks {
  /** Progress of a whole task. */
  progress(done: number, total?: number | null, note?: string): void;
  /** A plan task's chunks of units, to add as tasks (through the engine, in one transaction per call). */
  addChunks(chunks: unknown[][]): Promise<void>;
  log(line: string): void;
}

/** The job was cancelled (or the worker is stopping): the attempt ends without failing the task. */
export class JobCancelled extends RlxfError {
  constructor(message = "the job was cancelled") {
    super("aborted", message);
    this.name = "JobCancelled";
  }
}

/**
 * Errors another attempt cannot fix: bad input (a bad config, an unknown name, nothing to work on), something that
 * does not exist, work over a ceiling it runs under.
 */
export function isPermanent(e: unknown): boolean {
  const t = typedError(e);
  return t?.category === "validation" || t?.category === "not_found" || t?.code === "over_ceiling";
}

export function chunked<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export async function executeTask(store: Store, task: TaskRow, signal: AbortSignal, hooks: ExecHooks, defaults: WorkerModelDefaults = {}): Promise<unknown> {
  const job = await store.jobs.get(task.jobId);
  if (!job) throw new NotFoundError(`job ${task.jobId} no longer exists`);
  const kind: JobKind = await loadJobKind(job.kind);
  const base: TaskContext<unknown> = {
    store,
    job: { id: job.id, project: job.project, kind: job.kind, input: job.input, ...(job.createdBy ? { createdBy: job.createdBy } : {}), retries: job.retries },
    seq: task.seq,
    attempt: task.attempts,
    signal,
    progress: task.phase === "whole" ? hooks.progress : () => {},
    // A retried job asks again: the cached answers are what failed.
    model: (settings) => jobModel(store, job.retries > 0 ? { ...settings, cache: false } : settings, defaults, (e) => hooks.log(`shared rate limit: ${(e as Error).message}`)),
    log: hooks.log,
  };
  const size = (job.input as { chunkSize?: number } | null)?.chunkSize ?? kind.chunkSize ?? 50;
  if (task.phase === "plan") {
    if (!kind.plan) throw new RlxfError("invalid_config", `jobs of kind ${job.kind} cannot list their units`);
    const ctx: PlanContext<unknown> = { ...base, addUnits: (units) => hooks.addChunks(chunked(units, size)) };
    await kind.plan(ctx);
    return undefined;
  }
  if (task.phase === "units") {
    if (!kind.runUnits) throw new RlxfError("invalid_config", `jobs of kind ${job.kind} have no units`);
    const chunk = await store.jobs.chunk(job.id, task.seq);
    if (!chunk) throw new NotFoundError(`job ${job.id} has no units for task ${task.seq}`);
    const done = await store.jobs.committedUnits(job.id, chunk.firstUnit, chunk.units.length);
    const pending = chunk.units.map((input, i) => ({ unit: chunk.firstUnit + i, input })).filter((u) => !done.has(u.unit));
    if (pending.length === 0) return undefined;
    const ctx: UnitsContext<unknown> = { ...base, commit: (units) => store.jobs.commitUnits(job.id, units) };
    await kind.runUnits(ctx, pending);
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new JobCancelled();
    return undefined;
  }
  if (!kind.runWhole) throw new RlxfError("invalid_config", `jobs of kind ${job.kind} run in units`);
  const result = await kind.runWhole(base);
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new JobCancelled();
  return result;
}
