/**
 * Work a request must wait for but the event loop must not do: scoring a reward batch (verifiers, regular
 * expressions a spec brings, reward models, the CAS behind math answers) and a leaderboard's fit. It runs in
 * a small pool of worker threads, each with its own handle on the store, behind a bounded queue: when the
 * queue is full the request is answered 503 with `Retry-After` at once, and a call that runs past its time
 * limit has its thread terminated (a catastrophic regular expression cannot hold a thread for ever).
 *
 * Without the built thread script (the TypeScript sources) or for a store only this thread can open (SQLite
 * in memory), calls run in the calling thread.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { ModelSettings } from "../providers/index.js";
import type { Store, StoreTarget } from "../store/index.js";
import { type ComputeOps, type OpArgs, type OpResult, computeOps } from "./compute-ops.js";
import { ApiError } from "./errors.js";

const THREAD_URL = new URL("./compute-thread.js", import.meta.url);

export interface ComputeOptions {
  /** Threads (default: available cores - 1, from 1 to 4). */
  threads?: number;
  /** Calls waiting for a thread before new ones are refused with 503 (default 32). */
  maxQueue?: number;
  /** Longest a call may run (ms) before its thread is terminated (default 30 s). */
  timeoutMs?: number;
  /** Run in the calling thread even when threads are available. */
  inline?: boolean;
}

export interface SerializedError {
  status?: number;
  code?: string;
  message: string;
  issues?: { path: string; message: string }[];
  headers?: Record<string, string>;
  name?: string;
}

export function serializeError(e: unknown): SerializedError {
  const err = e as { status?: number; code?: string; message?: string; issues?: { path: string; message: string }[]; headers?: Record<string, string>; name?: string };
  return {
    message: err?.message ?? String(e),
    ...(typeof err?.status === "number" ? { status: err.status } : {}),
    ...(err?.code ? { code: err.code } : {}),
    ...(err?.issues ? { issues: err.issues } : {}),
    ...(err?.headers ? { headers: err.headers } : {}),
    ...(err?.name ? { name: err.name } : {}),
  };
}

function revive(e: SerializedError): Error {
  if (e.status !== undefined) return new ApiError(e.status, e.code ?? "error", e.message, { ...(e.issues ? { issues: e.issues } : {}), ...(e.headers ? { headers: e.headers } : {}) });
  // Errors of the domain become what the API makes of them (toErrorResponse) as best it can from their code.
  if (e.code === "validation_failed") return new ApiError(400, e.code, e.message, e.issues ? { issues: e.issues } : {});
  if (e.code === "not_found") return new ApiError(404, e.code, e.message);
  return Object.assign(new Error(e.message), { name: e.name ?? "Error", code: e.code });
}

interface Call {
  op: keyof ComputeOps;
  args: unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  call?: Call & { id: number; timer: NodeJS.Timeout };
}

export class ComputePool {
  readonly threaded: boolean;
  readonly #target: StoreTarget | undefined;
  readonly #judge: ModelSettings | undefined;
  readonly #size: number;
  readonly #maxQueue: number;
  readonly #timeoutMs: number;
  readonly #queue: Call[] = [];
  readonly #slots = new Set<Slot>();
  readonly #inline: ComputeOps;
  #next = 1;
  #closed = false;
  /** Calls refused because the queue was full, and calls cut at the time limit. */
  readonly counts = { refused: 0, timedOut: 0 };

  constructor(store: Store, opts: ComputeOptions & { judge?: ModelSettings; judgeModel?: () => import("../providers/types.js").ChatModel } = {}) {
    this.#target = store.target;
    this.#judge = opts.judge;
    this.#size = Math.max(1, opts.threads ?? Math.min(4, Math.max(1, availableParallelism() - 1)));
    this.#maxQueue = opts.maxQueue ?? 32;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#inline = computeOps(store, { ...(opts.judgeModel ? { judgeModel: opts.judgeModel } : opts.judge ? { judge: opts.judge } : {}) });
    const memory = this.#target === undefined || (this.#target.engine === "sqlite" && this.#target.path === ":memory:");
    // A judge model given only as a function cannot reach a thread: such an app scores in this thread.
    const judgeOnlyHere = opts.judgeModel !== undefined && opts.judge === undefined;
    this.threaded = !opts.inline && !memory && !judgeOnlyHere && THREAD_URL.protocol === "file:" && existsSync(fileURLToPath(THREAD_URL));
  }

  /** Calls waiting for a thread. */
  get waiting(): number {
    return this.#queue.length;
  }

  async call<K extends keyof ComputeOps>(op: K, args: OpArgs<K>): Promise<OpResult<K>> {
    if (!this.threaded) return (this.#inline[op] as (a: OpArgs<K>) => Promise<OpResult<K>>)(args);
    if (this.#closed) throw new ApiError(503, "unavailable", "the server is stopping", { headers: { "Retry-After": "1" } });
    const busy = [...this.#slots].filter((s) => s.call).length;
    if (busy >= this.#size && this.#queue.length >= this.#maxQueue) {
      this.counts.refused++;
      throw new ApiError(503, "busy", `the server is busy scoring ${busy + this.#queue.length} other requests; retry shortly`, { headers: { "Retry-After": "1" } });
    }
    return new Promise<OpResult<K>>((resolve, reject) => {
      this.#queue.push({ op, args, resolve: resolve as (v: unknown) => void, reject });
      this.#pump();
    });
  }

  #spawn(): Slot {
    const worker = new Worker(THREAD_URL, { workerData: { target: this.#target, judge: this.#judge } });
    worker.unref();
    const slot: Slot = { worker };
    worker.on("message", (m: { id: number; ok: boolean; value?: unknown; error?: SerializedError }) => {
      const call = slot.call;
      if (!call || call.id !== m.id) return;
      clearTimeout(call.timer);
      slot.call = undefined;
      if (m.ok) call.resolve(m.value);
      else call.reject(revive(m.error!));
      this.#pump();
    });
    const gone = (e: unknown) => {
      this.#slots.delete(slot);
      const call = slot.call;
      slot.call = undefined;
      if (call) {
        clearTimeout(call.timer);
        call.reject(e);
      }
      this.#pump();
    };
    worker.on("error", gone);
    worker.on("exit", () => gone(new ApiError(503, "unavailable", "a compute thread stopped; retry", { headers: { "Retry-After": "1" } })));
    this.#slots.add(slot);
    return slot;
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let slot = [...this.#slots].find((s) => !s.call);
      if (!slot && this.#slots.size < this.#size) slot = this.#spawn();
      if (!slot) return;
      const call = this.#queue.shift()!;
      const id = this.#next++;
      const s = slot;
      const timer = setTimeout(() => {
        this.counts.timedOut++;
        this.#slots.delete(s);
        s.call = undefined;
        call.reject(new ApiError(503, "timed_out", `the computation ran past the server's limit of ${Math.round(this.#timeoutMs / 1000)} s and was stopped`, { headers: { "Retry-After": "1" } }));
        void s.worker.terminate();
        this.#pump();
      }, this.#timeoutMs);
      timer.unref();
      s.call = { ...call, id, timer };
      s.worker.postMessage({ id, op: call.op, args: call.args });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const c of this.#queue.splice(0)) c.reject(new ApiError(503, "unavailable", "the server is stopping", { headers: { "Retry-After": "1" } }));
    await Promise.all([...this.#slots].map((s) => s.worker.terminate().catch(() => 0)));
    this.#slots.clear();
  }
}
