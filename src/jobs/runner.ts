/**
 * The job runner of a worker (an `rlxf worker` process, or the serving process on SQLite): claims tasks from
 * the engine up to its concurrency, runs each attempt in a worker thread (pool.ts), sends heartbeats (with
 * progress) for what it runs, stops attempts whose job was cancelled, ends each attempt in the job tables
 * (done, retried with backoff, or failed for good), and hands on tasks of workers that went silent.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Store, type TaskRow, backoffMs } from "../store/index.js";
import type { QueueEngine } from "./engine.js";
import { JobCancelled, isPermanent } from "./execute.js";
import { JOB_KINDS } from "./kinds/index.js";
import type { Attempt, Runner } from "./pool.js";

export interface JobRunnerOptions {
  /** This worker's name in the job tables (default host:pid:random). */
  worker?: string;
  /** Kinds this worker runs (default every kind). */
  kinds?: readonly string[];
  /** Attempts at once (default 2). */
  concurrency?: number;
  /** Most tasks of one project running at once over every worker (default: no cap). */
  projectCap?: number;
  /** A worker silent this long is presumed gone and its tasks handed on (default 30 s). */
  leaseMs?: number;
  /** Heartbeat period (default 2 s); cancellations are seen within one. */
  heartbeatMs?: number;
  /** Longest wait between looks for new tasks when nothing wakes the runner (default 2 s). */
  pollMs?: number;
  /** Finished jobs (with their files) are deleted this long after they end (default: `RLXF_JOB_RETENTION_DAYS` days, else 7). */
  retentionMs?: number;
  log?: (line: string) => void;
}

interface Running {
  task: TaskRow;
  attempt: Attempt;
  progress?: { done: number; total?: number | null; note?: string };
  cancelled: boolean;
  stopping: boolean;
}

const keyOf = (t: { jobId: string; seq: number }) => `${t.jobId}#${t.seq}`;
/** How often a runner deletes jobs past their retention. */
const PRUNE_EVERY_MS = 10 * 60_000;

export function workerName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

export class JobRunner {
  readonly worker: string;
  readonly #store: Store;
  readonly #engine: QueueEngine;
  readonly #runner: Runner;
  readonly #opts: Required<Omit<JobRunnerOptions, "projectCap" | "worker">> & { projectCap?: number };
  #prunedAt = 0;
  readonly #running = new Map<string, Running>();
  #started = false;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timers: NodeJS.Timeout[] = [];
  #unwake: (() => void) | undefined;
  #finishing = new Set<Promise<void>>();
  /** Attempts finished by this runner, by outcome (for tests and the worker's log). */
  readonly counts = { succeeded: 0, failed: 0, retried: 0, cancelled: 0 };

  constructor(store: Store, engine: QueueEngine, runner: Runner, opts: JobRunnerOptions = {}) {
    this.#store = store;
    this.#engine = engine;
    this.#runner = runner;
    this.worker = opts.worker ?? workerName();
    this.#opts = {
      kinds: opts.kinds ?? JOB_KINDS,
      concurrency: Math.max(1, opts.concurrency ?? 2),
      leaseMs: opts.leaseMs ?? 30_000,
      heartbeatMs: opts.heartbeatMs ?? Math.min(2_000, Math.max(100, Math.floor((opts.leaseMs ?? 30_000) / 4))),
      pollMs: opts.pollMs ?? 2_000,
      retentionMs: opts.retentionMs ?? Number(process.env.RLXF_JOB_RETENTION_DAYS || 7) * 86_400_000,
      log: opts.log ?? ((line) => process.stderr.write(`${line}\n`)),
      ...(opts.projectCap !== undefined ? { projectCap: opts.projectCap } : {}),
    };
  }

  get running(): number {
    return this.#running.size;
  }

  start(): this {
    if (this.#started) return this;
    this.#started = true;
    this.#unwake = this.#engine.onWake(() => this.#wake?.());
    const every = (ms: number, fn: () => Promise<unknown>) => {
      let busy = false;
      const t = setInterval(() => {
        if (busy || this.#stopped) return;
        busy = true;
        fn()
          .catch((e: unknown) => this.#trouble("job runner", e))
          .finally(() => {
            busy = false;
          });
      }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#opts.heartbeatMs, () => this.#heartbeat());
    every(Math.max(1000, Math.floor(this.#opts.leaseMs / 3)), async () => {
      await this.#store.jobs.reap(this.#opts.leaseMs, this.#engine.settled);
      await this.#engine.recover(this.#opts.leaseMs);
      if (Date.now() - this.#prunedAt > PRUNE_EVERY_MS) {
        this.#prunedAt = Date.now();
        await this.#store.jobs.prune(Date.now() - this.#opts.retentionMs);
      }
    });
    this.#loop = this.#claimLoop();
    return this;
  }

  #trouble(what: string, e: unknown): void {
    if ((e as { code?: string })?.code === "store_closed") {
      void this.stop({ graceMs: 0 });
      return;
    }
    this.#opts.log(`${what}: ${(e as Error)?.message ?? String(e)}`);
  }

  async #claimLoop(): Promise<void> {
    while (!this.#stopped) {
      const free = this.#opts.concurrency - this.#running.size;
      let got = 0;
      if (free > 0) {
        try {
          const tasks = await this.#engine.claim({ worker: this.worker, kinds: this.#opts.kinds, n: free, leaseMs: this.#opts.leaseMs, ...(this.#opts.projectCap !== undefined ? { projectCap: this.#opts.projectCap } : {}) });
          got = tasks.length;
          for (const t of tasks) this.#begin(t);
        } catch (e) {
          this.#trouble("claiming tasks", e);
        }
      }
      if (this.#stopped) break;
      if (got === 0 || this.#running.size >= this.#opts.concurrency) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#opts.pollMs);
          timer.unref();
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
    }
  }

  #begin(task: TaskRow): void {
    const entry: Running = { task, attempt: undefined as never, cancelled: false, stopping: false };
    const k = keyOf(task);
    try {
      entry.attempt = this.#runner.run(task, {
        progress: (done, total, note) => {
          entry.progress = { done, ...(total !== undefined ? { total } : {}), ...(note !== undefined ? { note } : {}) };
        },
        addChunks: async (chunks) => {
          await this.#store.jobs.addChunks(task.jobId, chunks, this.#engine.enqueue);
        },
        log: (line) => this.#opts.log(`job ${task.jobId} task ${task.seq}: ${line}`),
      });
    } catch (e) {
      entry.attempt = { done: Promise.reject(e), abort: () => {} };
    }
    this.#running.set(k, entry);
    const fin = entry.attempt.done
      .then(
        (result) => this.#finish(entry, undefined, result),
        (error: unknown) => this.#finish(entry, error, undefined),
      )
      // Recording the end can fail too (the store closed under a stopping process): the task's lease then runs
      // out and another runner takes it up; nothing is left to reject unobserved.
      .catch((e: unknown) => this.#opts.log(`job ${task.jobId} task ${task.seq}: could not record how it ended: ${describe(e)}`));
    this.#finishing.add(fin);
    void fin.finally(() => this.#finishing.delete(fin));
  }

  async #finish(entry: Running, error: unknown, result: unknown): Promise<void> {
    const { task } = entry;
    let outcome: "succeeded" | "failed" | "retry" | "cancelled";
    let message: string | undefined;
    let runAfter: number | undefined;
    if (error === undefined) outcome = "succeeded";
    else if (entry.cancelled || (error instanceof JobCancelled && !entry.stopping)) outcome = "cancelled";
    else {
      message = entry.stopping ? `the worker stopped before the task finished (${this.worker})` : describe(error);
      const job = await this.#store.jobs.get(task.jobId).catch(() => undefined);
      const max = job?.maxAttempts ?? 1;
      if (!entry.stopping && (isPermanent(error) || task.attempts >= max)) outcome = "failed";
      else {
        outcome = "retry";
        runAfter = Date.now() + (entry.stopping ? 0 : backoffMs(task.attempts));
      }
    }
    try {
      const r = await this.#store.jobs.finishTask(
        task.jobId,
        task.seq,
        {
          worker: this.worker,
          attempt: task.attempts,
          outcome,
          ...(message !== undefined ? { error: message } : {}),
          ...(outcome === "succeeded" && result !== undefined ? { result } : {}),
          ...(runAfter !== undefined ? { runAfter } : {}),
          ...(entry.progress ? { progress: entry.progress } : {}),
        },
        this.#engine.settled,
      );
      if (r === "ok") this.counts[outcome === "retry" ? "retried" : outcome]++;
    } catch (e) {
      // A result too big to keep fails the task at once (another attempt would make the same result).
      if ((e as { code?: string })?.code === "result_too_large") {
        const r = await this.#store.jobs
          .finishTask(task.jobId, task.seq, { worker: this.worker, attempt: task.attempts, outcome: "failed", error: (e as Error).message }, this.#engine.settled)
          .catch(() => "stale" as const);
        if (r === "ok") this.counts.failed++;
        return;
      }
      // The task stays running without heartbeats: it is handed on after the lease.
      this.#trouble(`ending task ${task.seq} of job ${task.jobId}`, e);
    } finally {
      this.#running.delete(keyOf(task));
      this.#wake?.();
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#running.size === 0) return;
    const list = [...this.#running.values()];
    const stop = await this.#store.jobs.heartbeat(
      this.worker,
      list.map((r) => ({ jobId: r.task.jobId, seq: r.task.seq, ...(r.task.phase === "whole" && r.progress ? { progress: r.progress } : {}) })),
    );
    for (const r of list) {
      if (stop.has(r.task.jobId) && !r.cancelled) {
        r.cancelled = true;
        r.attempt.abort(new JobCancelled());
      }
    }
  }

  /** Stop taking tasks; running attempts are asked to stop and handed back (retried at once by another worker). */
  async stop(opts: { graceMs?: number } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#unwake?.();
    this.#wake?.();
    for (const r of this.#running.values()) {
      r.stopping = true;
      r.attempt.abort(new JobCancelled("the worker is stopping"));
    }
    const deadline = new Promise<void>((r) => setTimeout(r, opts.graceMs ?? 10_000).unref());
    await Promise.race([Promise.allSettled([...this.#finishing]), deadline]);
    await this.#loop?.catch(() => {});
    await this.#runner.close();
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
