/**
 * Where attempts run: worker threads, each with its own handle on the store, so that CPU-heavy work
 * (bootstrap rounds, model fits, verifiers, big exports) never holds up the event loop of the process that
 * serves requests or sends heartbeats. A thread runs one attempt at a time and is kept for the next one; an
 * attempt asked to stop that does not stop within the grace period (a long synchronous computation) has its
 * thread terminated.
 *
 * A store no other thread can open (SQLite in memory), or the TypeScript sources (no built thread script),
 * run attempts in the calling thread instead.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { RlxfError, isErrorCode, typedError } from "../errors.js";
import { shareSandboxSlots } from "../sources/verifiers/code/index.js";
import type { OpenStoreOptions, Store, TaskRow } from "../store/index.js";
import { type ExecHooks, JobCancelled, executeTask } from "./execute.js";
import type { WorkerModelDefaults } from "./models.js";

const THREAD_URL = new URL("./thread.js", import.meta.url);

export interface Attempt {
  /** The attempt's result (a whole task's), or its error. */
  readonly done: Promise<unknown>;
  /** Ask it to stop (cancellation, shutdown); after `graceMs` its thread is terminated. */
  abort(reason: Error): void;
}

export interface Runner {
  readonly threaded: boolean;
  run(task: TaskRow, hooks: ExecHooks): Attempt;
  close(): Promise<void>;
}

/** Serialised errors keep their name, code and message across the thread boundary. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  permanent?: boolean;
  stack?: string;
}

export function toWire(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, ...(typedError(err) ? { code: typedError(err)!.code } : {}), ...(err.stack ? { stack: err.stack } : {}) };
}

export class WireFailure extends RlxfError {
  readonly original: WireError;
  constructor(w: WireError) {
    super(isErrorCode(w.code) ? w.code : "internal_error", w.message);
    this.name = w.name;
    this.original = w;
  }
}

export function threadsAvailable(url: URL = THREAD_URL): boolean {
  return url.protocol === "file:" && existsSync(fileURLToPath(url));
}

/** Attempts in the calling thread (cancellation is cooperative only). */
export class InlineRunner implements Runner {
  readonly threaded = false;
  readonly #store: Store;
  readonly #defaults: WorkerModelDefaults;
  constructor(store: Store, defaults: WorkerModelDefaults = {}) {
    this.#store = store;
    this.#defaults = defaults;
  }
  run(task: TaskRow, hooks: ExecHooks): Attempt {
    const ctl = new AbortController();
    const done = executeTask(this.#store, task, ctl.signal, hooks, this.#defaults);
    return { done, abort: (reason) => ctl.abort(reason) };
  }
  async close(): Promise<void> {}
}

interface Slot {
  worker: Worker;
  busy: boolean;
  current?: { id: number; resolve: (v: unknown) => void; reject: (e: unknown) => void; hooks: ExecHooks; killTimer?: NodeJS.Timeout };
}

type FromThread =
  | { type: "done"; id: number; result: unknown }
  | { type: "error"; id: number; error: WireError }
  | { type: "progress"; id: number; done: number; total?: number | null; note?: string }
  | { type: "log"; id: number; line: string }
  | { type: "chunks"; id: number; req: number; chunks: unknown[][] };

export class ThreadRunner implements Runner {
  readonly threaded = true;
  readonly #target: OpenStoreOptions;
  readonly #defaults: WorkerModelDefaults;
  readonly #graceMs: number;
  readonly #slots = new Set<Slot>();
  #next = 1;
  #closed = false;

  /** `warm`: start this many threads now, loading the code of these kinds, so the first tasks do not wait for it. */
  constructor(target: OpenStoreOptions, opts: { defaults?: WorkerModelDefaults; graceMs?: number; warm?: { threads: number; kinds: readonly string[] } } = {}) {
    this.#target = target;
    this.#defaults = opts.defaults ?? {};
    this.#graceMs = opts.graceMs ?? 5_000;
    for (let i = 0; i < (opts.warm?.threads ?? 0); i++) this.#spawn().worker.postMessage({ type: "preload", kinds: opts.warm!.kinds });
  }

  #spawn(): Slot {
    // The thread's code sandboxes take their slots from this process's (and keep its ceilings).
    const sandbox = shareSandboxSlots();
    const worker = new Worker(THREAD_URL, { workerData: { target: this.#target, defaults: { rpm: this.#defaults.rpm, tpm: this.#defaults.tpm }, sandbox }, transferList: [sandbox.port] });
    const slot: Slot = { worker, busy: false };
    worker.on("message", (m: FromThread) => this.#onMessage(slot, m));
    worker.on("error", (e) => this.#fail(slot, e));
    worker.on("exit", (code) => {
      this.#slots.delete(slot);
      this.#fail(slot, new RlxfError("unavailable", `the worker thread exited (code ${code})`));
    });
    this.#slots.add(slot);
    return slot;
  }

  #fail(slot: Slot, e: unknown): void {
    const cur = slot.current;
    if (!cur) return;
    slot.current = undefined;
    slot.busy = false;
    if (cur.killTimer) clearTimeout(cur.killTimer);
    cur.reject(e);
  }

  #onMessage(slot: Slot, m: FromThread): void {
    const cur = slot.current;
    if (!cur || cur.id !== m.id) return;
    switch (m.type) {
      case "done":
      case "error": {
        slot.current = undefined;
        slot.busy = false;
        if (cur.killTimer) clearTimeout(cur.killTimer);
        if (m.type === "done") cur.resolve(m.result);
        else cur.reject(m.error.name === "JobCancelled" ? new JobCancelled(m.error.message) : new WireFailure(m.error));
        return;
      }
      case "progress":
        cur.hooks.progress(m.done, m.total, m.note);
        return;
      case "log":
        cur.hooks.log(m.line);
        return;
      case "chunks":
        cur.hooks.addChunks(m.chunks).then(
          () => slot.worker.postMessage({ type: "reply", req: m.req, ok: true }),
          (e: unknown) => slot.worker.postMessage({ type: "reply", req: m.req, ok: false, error: toWire(e) }),
        );
        return;
    }
  }

  run(task: TaskRow, hooks: ExecHooks): Attempt {
    if (this.#closed) throw new RlxfError("unavailable", "the job runner is closed");
    const slot = [...this.#slots].find((s) => !s.busy) ?? this.#spawn();
    slot.busy = true;
    const id = this.#next++;
    const done = new Promise<unknown>((resolve, reject) => {
      slot.current = { id, resolve, reject, hooks };
    });
    slot.worker.postMessage({ type: "run", id, task });
    return {
      done,
      abort: (reason) => {
        const cur = slot.current;
        if (!cur || cur.id !== id || cur.killTimer) return;
        slot.worker.postMessage({ type: "abort", id, reason: reason.message });
        // Work that does not look at its signal (a long synchronous fit) ends with its thread.
        cur.killTimer = setTimeout(() => {
          if (slot.current?.id !== id) return;
          this.#slots.delete(slot);
          this.#fail(slot, reason);
          void slot.worker.terminate();
        }, this.#graceMs);
        cur.killTimer.unref();
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#slots].map((s) => s.worker.terminate().catch(() => 0)));
    this.#slots.clear();
  }
}
