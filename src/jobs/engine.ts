/**
 * Queue engines: what delivers tasks to workers. The job tables (src/store/jobs.ts) hold what the API shows
 * and decide who runs a task (one attempt at a time, with heartbeats); an engine only hands tasks out.
 *
 * - `LocalEngine` (SQLite, and any single machine): the `job_tasks` table is the queue; workers are threads
 *   of the serving process (or `rlxf worker` processes on the same file).
 * - `PgBossEngine` (PostgreSQL): pg-boss jobs deliver the tasks, so workers on any machine that reaches the
 *   database share them; its rows are written in the same transactions as the job's.
 */
import { EventEmitter } from "node:events";
import type { EngineHook, Store, TaskRow } from "../store/index.js";

export interface ClaimOptions {
  worker: string;
  kinds: readonly string[];
  n: number;
  /** Most tasks of one project running at once, over every worker. */
  projectCap?: number;
  /** A worker silent this long is presumed gone (its running tasks do not count against the cap). */
  leaseMs: number;
}

export interface QueueEngine {
  readonly name: "local" | "pg-boss";
  /** Runs in the transaction that adds tasks (a job's creation, a plan's chunks, a retry). */
  readonly enqueue: EngineHook;
  /** Runs in the transaction that ends attempts (done, failed, handed on): closes their deliveries, delivers retries. */
  readonly settled: EngineHook;
  /** Claim and start up to `n` tasks for `worker`. */
  claim(opts: ClaimOptions): Promise<TaskRow[]>;
  /** Deliveries lost between a worker taking them and starting them (a crash in between): hand them out again. */
  recover(leaseMs: number): Promise<number>;
  /** Called when tasks may be waiting (this process or, where the engine hears it, another one). */
  onWake(fn: () => void): () => void;
  wake(): void;
  close(): Promise<void>;
}

export class LocalEngine implements QueueEngine {
  readonly name = "local" as const;
  readonly #store: Store;
  readonly #events = new EventEmitter();

  constructor(store: Store) {
    this.#store = store;
    this.#events.setMaxListeners(100);
  }

  readonly enqueue: EngineHook = async () => {
    // The task rows are the queue; wake this process's workers once the transaction is over.
    setImmediate(() => this.wake());
  };

  readonly settled: EngineHook = async (_tx, tasks) => {
    if (tasks.some((t) => t.state === "queued")) setImmediate(() => this.wake());
  };

  claim(opts: ClaimOptions): Promise<TaskRow[]> {
    return this.#store.jobs.claimLocal({ worker: opts.worker, kinds: opts.kinds, n: opts.n, leaseMs: opts.leaseMs, ...(opts.projectCap !== undefined ? { projectCap: opts.projectCap } : {}) });
  }

  async recover(): Promise<number> {
    return 0;
  }

  onWake(fn: () => void): () => void {
    this.#events.on("wake", fn);
    return () => this.#events.off("wake", fn);
  }

  wake(): void {
    this.#events.emit("wake");
  }

  async close(): Promise<void> {
    this.#events.removeAllListeners();
  }
}
