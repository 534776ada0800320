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
import type { ChatModel, ModelSettings } from "../providers/index.js";
import { shareSandboxSlots } from "../sources/verifiers/index.js";
import { type OpenStoreOptions, type Store, reopenOptions } from "../store/index.js";
import { type ComputeOps, type OpArgs, type OpResult, computeOps } from "./compute-ops.js";
import { type ErrorCode, type FieldIssue, isErrorCode, typedError } from "../errors.js";
import { ApiError, toErrorResponse } from "./errors.js";

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
  /**
   * The thread's script (default: compute-thread.js beside this module). It posts `{ready: true}` once loaded,
   * then answers `{id, op, args}` with `{id, ok, value | error}`.
   */
  thread?: URL;
}

export interface SerializedError {
  /** A typed error's code (see src/errors.ts); absent for anything else. */
  code?: ErrorCode;
  message: string;
  issues?: FieldIssue[];
  record?: string;
  index?: number;
  headers?: Record<string, string>;
  name?: string;
  stack?: string;
}

/** An error as it crosses from a thread: a typed one keeps its code and what the API shows of it. */
export function serializeError(e: unknown): SerializedError {
  const t = typedError(e);
  if (t && t.category !== "internal") {
    const { body, headers } = toErrorResponse(e);
    return {
      code: t.code,
      message: body.error.message,
      ...(body.error.issues ? { issues: body.error.issues } : {}),
      ...(body.error.record !== undefined ? { record: body.error.record } : {}),
      ...(body.error.index !== undefined ? { index: body.error.index } : {}),
      ...(headers ? { headers } : {}),
    };
  }
  const err = e as { message?: string; name?: string; stack?: string };
  return { message: err?.message ?? String(e), ...(err?.name ? { name: err.name } : {}), ...(err?.stack ? { stack: err.stack } : {}) };
}

function revive(e: SerializedError): Error {
  if (e.code !== undefined && isErrorCode(e.code)) {
    return new ApiError(e.code, e.message, {
      ...(e.issues ? { issues: e.issues } : {}),
      ...(e.record !== undefined ? { record: e.record } : {}),
      ...(e.index !== undefined ? { index: e.index } : {}),
      ...(e.headers ? { headers: e.headers } : {}),
    });
  }
  return Object.assign(new Error(e.message), { name: e.name ?? "Error", ...(e.stack ? { stack: e.stack } : {}) });
}

/** 503 with Retry-After: the server cannot take this now; the client retries. */
const retryLater = (code: "unavailable" | "busy" | "timed_out", message: string) => new ApiError(code, message, { headers: { "Retry-After": "1" } });

interface Call {
  op: keyof ComputeOps;
  args: unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** The thread has loaded its modules and opened its store: a call's time limit runs from here. */
  ready: boolean;
  call?: Call & { id: number; timer?: NodeJS.Timeout };
}

/** How long a new thread may take to load and open its store (a busy machine), apart from its calls' limit. */
const STARTUP_MS = 60_000;

export class ComputePool {
  readonly threaded: boolean;
  readonly #reopen: OpenStoreOptions | undefined;
  readonly #judge: ModelSettings | undefined;
  readonly #size: number;
  readonly #maxQueue: number;
  readonly #timeoutMs: number;
  readonly #thread: URL;
  readonly #queue: Call[] = [];
  readonly #slots = new Set<Slot>();
  readonly #inline: ComputeOps;
  #next = 1;
  #closed = false;
  /** Calls refused because the queue was full, and calls cut at the time limit. */
  readonly counts = { refused: 0, timedOut: 0 };

  constructor(store: Store, opts: ComputeOptions & { judge?: ModelSettings; judgeModel?: (project: string) => ChatModel } = {}) {
    this.#reopen = reopenOptions(store, 3);
    this.#judge = opts.judge;
    this.#size = Math.max(1, opts.threads ?? Math.min(4, Math.max(1, availableParallelism() - 1)));
    this.#maxQueue = opts.maxQueue ?? 32;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#thread = opts.thread ?? THREAD_URL;
    this.#inline = computeOps(store, { ...(opts.judgeModel ? { judgeModel: opts.judgeModel } : opts.judge ? { judge: opts.judge } : {}) });
    const memory = this.#reopen === undefined;
    // A judge model given only as a function cannot reach a thread: such an app scores in this thread.
    const judgeOnlyHere = opts.judgeModel !== undefined && opts.judge === undefined;
    this.threaded = !opts.inline && !memory && !judgeOnlyHere && this.#thread.protocol === "file:" && existsSync(fileURLToPath(this.#thread));
  }

  /** Calls waiting for a thread. */
  get waiting(): number {
    return this.#queue.length;
  }

  async call<K extends keyof ComputeOps>(op: K, args: OpArgs<K>): Promise<OpResult<K>> {
    if (!this.threaded) return (this.#inline[op] as (a: OpArgs<K>) => Promise<OpResult<K>>)(args);
    if (this.#closed) throw retryLater("unavailable", "the server is stopping");
    const busy = [...this.#slots].filter((s) => s.call).length;
    if (busy >= this.#size && this.#queue.length >= this.#maxQueue) {
      this.counts.refused++;
      throw retryLater("busy", `the server is busy scoring ${busy + this.#queue.length} other requests; retry shortly`);
    }
    return new Promise<OpResult<K>>((resolve, reject) => {
      this.#queue.push({ op, args, resolve: resolve as (v: unknown) => void, reject });
      this.#pump();
    });
  }

  #spawn(): Slot {
    // The thread's code sandboxes take their slots from this process's (and keep its ceilings).
    const sandbox = shareSandboxSlots();
    const worker = new Worker(this.#thread, { workerData: { store: this.#reopen, judge: this.#judge, sandbox }, transferList: [sandbox.port] });
    worker.unref();
    const slot: Slot = { worker, ready: false };
    const startup = setTimeout(() => {
      if (slot.ready) return;
      this.#slots.delete(slot);
      const call = slot.call;
      slot.call = undefined;
      call?.reject(retryLater("unavailable", `a compute thread did not start within ${STARTUP_MS / 1000} s; retry`));
      void worker.terminate();
      this.#pump();
    }, STARTUP_MS);
    startup.unref();
    worker.on("message", (m: { ready?: true; id: number; ok: boolean; value?: unknown; error?: SerializedError }) => {
      if (m.ready) {
        clearTimeout(startup);
        slot.ready = true;
        if (slot.call && !slot.call.timer) slot.call.timer = this.#limit(slot, slot.call);
        return;
      }
      const call = slot.call;
      if (!call || call.id !== m.id) return;
      clearTimeout(call.timer);
      slot.call = undefined;
      if (m.ok) call.resolve(m.value);
      else call.reject(revive(m.error!));
      this.#pump();
    });
    const gone = (e: unknown) => {
      clearTimeout(startup);
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
    worker.on("exit", () => gone(retryLater("unavailable", "a compute thread stopped; retry")));
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
      slot.call = { ...call, id };
      // A new thread's start-up does not count against the call's limit: its timer starts when the thread is ready.
      if (slot.ready) slot.call.timer = this.#limit(slot, slot.call);
      slot.worker.postMessage({ id, op: call.op, args: call.args });
    }
  }

  /** The call's time limit: past it the call is refused (503 timed_out) and its thread stopped. */
  #limit(s: Slot, call: Call): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.counts.timedOut++;
      this.#slots.delete(s);
      s.call = undefined;
      call.reject(retryLater("timed_out", `the computation ran past the server's limit of ${Math.round(this.#timeoutMs / 1000)} s and was stopped`));
      void s.worker.terminate();
      this.#pump();
    }, this.#timeoutMs);
    timer.unref();
    return timer;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const c of this.#queue.splice(0)) c.reject(retryLater("unavailable", "the server is stopping"));
    await Promise.all([...this.#slots].map((s) => s.worker.terminate().catch(() => 0)));
    this.#slots.clear();
  }
}
