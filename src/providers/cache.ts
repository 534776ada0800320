/**
 * The response cache: a response body kept under a key that is a hash of the
 * full request (provider kind, base URL, path, exact JSON body and sample
 * index), so the same request is answered once and re-runs cost nothing.
 * `StoreResponseCache` keeps it in the store (table `provider_cache`), writing
 * in batches so that caching never holds up the requests. Its entries belong to
 * one project: a project never sees responses another project paid for.
 */
import { createHash } from "node:crypto";
import type { CachedResponse, ResponseCacheStore } from "../store/index.js";
import type { WireRequest } from "./types.js";

export interface ResponseCache {
  get(key: string): Promise<string | undefined>;
  set(entry: { key: string; model: string; body: string }): void | Promise<void>;
  /** Make every `set` so far durable. */
  flush(): Promise<void>;
}

/**
 * The cache key of one request: sha256 over the provider kind, the URL, the
 * sample index and the exact JSON body sent (`bodyJson`, default
 * `JSON.stringify(wire.body)`): the full request, as the server sees it.
 */
export function cacheKey(kind: string, baseUrl: string, wire: WireRequest, sample = 0, bodyJson?: string): string {
  return createHash("sha256")
    .update(`${kind}\n${baseUrl.replace(/\/+$/, "")}${wire.path}\n${sample}\n`)
    .update(bodyJson ?? JSON.stringify(wire.body))
    .digest("hex");
}

/** The key a project's entry is stored under: the request's key scoped to the project. */
export function projectCacheKey(project: string, key: string): string {
  return createHash("sha256").update(`project\n${project}\n${key}`).digest("hex");
}

export class MemoryResponseCache implements ResponseCache {
  readonly entries = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.entries.get(key);
  }
  set(e: { key: string; body: string }): void {
    if (!this.entries.has(e.key)) this.entries.set(e.key, e.body);
  }
  async flush(): Promise<void> {}
}

/** Where `StoreResponseCache` keeps entries: a store's `responseCache`. */
export type CacheStore = Pick<ResponseCacheStore, "get" | "put">;

/**
 * The store-backed cache of one project (`project`: its entries are stored under
 * keys that include the project, so projects sharing a store never share
 * responses). Writes are buffered and flushed every `batchSize` entries or
 * `flushMs` milliseconds (and on `flush()`); reads see the buffer. Call
 * `flush()` before closing the store.
 */
export class StoreResponseCache implements ResponseCache {
  readonly #store: CacheStore;
  readonly project: string;
  readonly #batchSize: number;
  readonly #flushMs: number;
  #pending = new Map<string, CachedResponse>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  /** Batches handed to the store and not yet written. */
  #writingBatches: Map<string, CachedResponse>[] = [];
  #error: unknown;
  #lookups = new Map<string, { resolve: (v: string | undefined) => void; reject: (e: unknown) => void }[]>();
  #lookupScheduled = false;

  constructor(store: CacheStore, opts: { project: string; batchSize?: number; flushMs?: number }) {
    this.#store = store;
    this.project = opts.project;
    this.#batchSize = opts.batchSize ?? 256;
    this.#flushMs = opts.flushMs ?? 250;
  }

  async get(requestKey: string): Promise<string | undefined> {
    const key = projectCacheKey(this.project, requestKey);
    const p = this.#pending.get(key) ?? this.#writingBatches.find((b) => b.has(key))?.get(key);
    if (p) return p.body;
    // Reads arriving in the same turn of the event loop go to the store as one query.
    return new Promise<string | undefined>((resolve, reject) => {
      const waiting = this.#lookups.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.#lookups.set(key, [{ resolve, reject }]);
      if (!this.#lookupScheduled) {
        this.#lookupScheduled = true;
        setImmediate(() => void this.#lookup());
      }
    });
  }

  async #lookup(): Promise<void> {
    this.#lookupScheduled = false;
    const batch = this.#lookups;
    this.#lookups = new Map();
    try {
      const found = await this.#store.get([...batch.keys()]);
      for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.get(key)?.body);
    } catch (e) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(e);
    }
  }

  set(e: { key: string; model: string; body: string }): void {
    const key = projectCacheKey(this.project, e.key);
    if (this.#pending.has(key)) return;
    this.#pending.set(key, { key, model: e.model, body: e.body });
    if (this.#pending.size >= this.#batchSize) void this.#drain();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => void this.#drain(), this.#flushMs);
      this.#timer.unref();
    }
  }

  #drain(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.size === 0) return this.#writing;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#writingBatches.push(batch);
    this.#writing = this.#writing.then(async () => {
      try {
        await this.#store.put([...batch.values()]);
      } catch (e) {
        this.#error ??= e;
      } finally {
        this.#writingBatches = this.#writingBatches.filter((b) => b !== batch);
      }
    });
    return this.#writing;
  }

  async flush(): Promise<void> {
    await this.#drain();
    if (this.#error !== undefined) {
      const e = this.#error;
      this.#error = undefined;
      throw e;
    }
  }
}
