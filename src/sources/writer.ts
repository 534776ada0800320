/**
 * Where judgement records go while a run goes on. `StoreSink` (records.ts)
 * writes on the calling thread; `WorkerSink` hands records and cache entries
 * to a worker thread with its own handle on the same SQLite file, so that the
 * inserts (synchronous in better-sqlite3) never hold up the event loop that
 * is waiting on the model. Only one thread then writes the file; the main
 * thread only reads it (cache lookups), which WAL never blocks.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { RlxfError, isErrorCode } from "../errors.js";
import type { CacheStore } from "../providers/index.js";
import type { CachedResponse, ResponseCacheStore } from "../store/index.js";
import type { OpenStoreOptions } from "../store/index.js";
import { type JudgeRecords, PendingRecords, type SinkReport } from "./records.js";

export interface RecordSink {
  add(r: Partial<JudgeRecords>): void;
  /** The first write error, once there is one (a runner stops early). */
  readonly error: unknown;
  /** Write everything pending; throws the first write error. */
  flush(): Promise<SinkReport>;
}

const WORKER_URL = new URL("./writer-worker.js", import.meta.url);

interface Reply {
  id: number;
  ok: boolean;
  report?: SinkReport;
  error?: { name: string; message: string; code?: string };
}

export class WorkerSink implements RecordSink {
  /** Whether the worker script is there (it is in the built package; not when running the TypeScript sources). */
  static available(url: URL = WORKER_URL): boolean {
    return url.protocol === "file:" && existsSync(fileURLToPath(url));
  }

  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (r: Reply) => void }>();
  #nextId = 1;
  readonly #pending: PendingRecords;
  #outstanding: Promise<unknown>[] = [];
  #error: unknown;
  #report: SinkReport = { feedback: { inserted: 0, existing: 0 }, failures: { inserted: 0, existing: 0 } };
  #closed = false;

  /** `target`: the same SQLite file (or PostgreSQL URL) the caller's store uses. */
  constructor(target: OpenStoreOptions, opts: { batchSize?: number; workerUrl?: URL } = {}) {
    this.#pending = new PendingRecords(opts.batchSize ?? 500);
    this.#worker = new Worker(opts.workerUrl ?? WORKER_URL, { workerData: target });
    this.#worker.on("message", (r: Reply) => {
      const w = this.#waiting.get(r.id);
      if (w) {
        this.#waiting.delete(r.id);
        w.resolve(r);
      }
    });
    this.#worker.on("error", (e) => {
      this.#error ??= e;
      for (const w of this.#waiting.values()) w.resolve({ id: -1, ok: false, error: { name: e.name, message: e.message } });
      this.#waiting.clear();
    });
  }

  get error(): unknown {
    return this.#error;
  }

  #send(type: "records" | "cache" | "close", payload?: unknown): Promise<Reply> {
    if (this.#error !== undefined && type !== "close") return Promise.resolve({ id: -1, ok: false });
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve) => this.#waiting.set(id, { resolve }));
    this.#worker.postMessage({ id, type, payload });
    return reply.then((r) => {
      if (!r.ok && r.error && this.#error === undefined) {
        this.#error = Object.assign(new RlxfError(isErrorCode(r.error.code) ? r.error.code : "store_write_failed", r.error.message), { name: r.error.name });
      }
      if (r.report) this.#report = r.report;
      return r;
    });
  }

  add(r: Partial<JudgeRecords>): void {
    if (this.#error !== undefined) return;
    if (this.#pending.add(r)) this.#drain();
  }

  #drain(): void {
    const batch = this.#pending.take();
    this.#outstanding.push(this.#send("records", batch));
  }

  /** A cache store that reads through `read` (this thread) and writes through the worker. */
  cacheStore(read: Pick<ResponseCacheStore, "get">): CacheStore {
    return {
      get: (keys) => read.get(keys),
      put: async (entries: readonly CachedResponse[]) => {
        const r = await this.#send("cache", entries);
        if (!r.ok) throw this.#error ?? new RlxfError("store_write_failed", "the writer thread could not cache responses");
        return entries.length;
      },
    };
  }

  async flush(): Promise<SinkReport> {
    if (!this.#pending.empty) this.#drain();
    await Promise.all(this.#outstanding.splice(0));
    if (this.#error !== undefined) throw this.#error;
    return this.#report;
  }

  /** Close the worker's store and end the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await Promise.all(this.#outstanding.splice(0));
      await this.#send("close");
    } finally {
      await this.#worker.terminate();
    }
  }
}
