/**
 * One API call with retries: exponential backoff with full jitter on network errors, timeouts, 5xx and 429
 * (honouring Retry-After). Every record a write sends has an id first, so a retry never stores it twice.
 */
import type { Page, WriteResult } from "../api/index.js";
import { apiError, RlxfApiError } from "./errors.js";

export type Query = Record<string, string | number | boolean | Date | string[] | undefined>;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const uuid = (): string => globalThis.crypto.randomUUID();

export function env(name: string): string | undefined {
  return typeof process !== "undefined" ? process.env?.[name] : undefined;
}

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

function queryString(q: Query | undefined): string {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) p.set(k, v.join(","));
    else if (v instanceof Date) p.set(k, v.toISOString());
    else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

export interface TransportOptions {
  url: string;
  key: string | undefined;
  fetch: typeof fetch;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
  /** Most records per write request. */
  maxBatch: number;
}

export class Transport {
  readonly #o: TransportOptions;
  constructor(opts: TransportOptions) {
    this.#o = opts;
  }

  /** One API call with retries; returns the successful response (2xx) or throws RlxfApiError. */
  async request(method: string, path: string, opts: { query?: Query; body?: unknown; notFoundOk?: boolean } = {}): Promise<Response> {
    const url = this.#o.url + path + queryString(opts.query);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.#o.key) headers.Authorization = `Bearer ${this.#o.key}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    for (let attempt = 0; ; attempt++) {
      const backoff = () => Math.random() * Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** attempt);
      let res: Response;
      try {
        res = await this.#o.fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(this.#o.timeoutMs) });
      } catch (e) {
        if (attempt < this.#o.retries) {
          await sleep(backoff());
          continue;
        }
        throw new RlxfApiError(0, "network_error", `${method} ${path} failed after ${attempt + 1} attempt(s): ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      if ((res.status >= 500 || res.status === 429) && attempt < this.#o.retries) {
        await res.body?.cancel().catch(() => {});
        await sleep(retryAfterMs(res.headers.get("retry-after")) ?? backoff());
        continue;
      }
      if (res.ok || (opts.notFoundOk && res.status === 404)) return res;
      throw await apiError(res, method, path);
    }
  }

  async json<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    return (await res.json()) as T;
  }

  /** A request whose 404 is an answer: undefined. */
  async maybe<T>(path: string): Promise<T | undefined> {
    const res = await this.request("GET", path, { notFoundOk: true });
    if (res.status === 404) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    return (await res.json()) as T;
  }

  /** A request whose answer has no body. */
  async empty(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<void> {
    const res = await this.request(method, path, opts);
    await res.body?.cancel().catch(() => {});
  }

  /** Every record of a list, a page at a time. */
  async *pages<T>(path: string, query: Query): AsyncGenerator<T> {
    let cursor = typeof query.cursor === "string" ? query.cursor : undefined;
    for (;;) {
      const page = await this.json<Page<T>>("GET", path, { query: { ...query, cursor } });
      yield* page.records;
      if (!page.nextCursor) return;
      cursor = page.nextCursor;
    }
  }

  /** Send records in requests of at most `maxBatch`, each given an id first; results in order. */
  async create<T extends { id?: string }>(path: string, records: T | T[]): Promise<WriteResult> {
    const list = (Array.isArray(records) ? records : [records]).map((r) => (r.id === undefined ? { ...r, id: uuid() } : r));
    const out: WriteResult = { results: [], inserted: 0, existing: 0, recordedAt: new Date().toISOString() };
    for (let i = 0; i < list.length; i += this.#o.maxBatch) {
      const r = await this.json<WriteResult>("POST", path, { body: { batch: list.slice(i, i + this.#o.maxBatch) } });
      out.results.push(...r.results);
      out.inserted += r.inserted;
      out.existing += r.existing;
      out.recordedAt = r.recordedAt;
    }
    return out;
  }
}
