/**
 * `Model`: a backend (OpenAI-compatible or Anthropic) behind everything a
 * batch job needs: a concurrency limit, requests- and tokens-per-minute
 * limits, retries with exponential backoff and jitter on 429 / 5xx / timeouts /
 * dropped connections (a server's `Retry-After` wins, and pauses every request
 * of this model until it has passed), a per-attempt timeout, the response
 * cache, and counts of requests, tokens, cost and latency.
 */
import { performance } from "node:perf_hooks";
import { type ResponseCache, cacheKey } from "./cache.js";
import { ProviderError, isRetryableStatus } from "./errors.js";
import { type BackoffOptions, type Clock, RateLimiter, Semaphore, type SharedLimiter, backoffDelay, systemClock } from "./limits.js";
import { Agents, postJson, retryAfterMs } from "./transport.js";
import type { Backend, ChatModel, ChatRequest, ChatResponse, EmbedRequest, EmbedResponse, WireRequest } from "./types.js";

export interface Pricing {
  /** USD per million input (prompt) tokens. */
  inputPerMillion: number;
  /** USD per million output (completion) tokens. */
  outputPerMillion: number;
}

export interface ModelOptions {
  backend: Backend;
  /** Default model name (a request's `model` overrides it). */
  model: string;
  /** Requests in flight at once; default 8. */
  concurrency?: number;
  /** Requests per minute; unlimited when absent. */
  rpm?: number;
  /** Tokens (input + output) per minute; unlimited when absent. Estimated before, corrected after each request. */
  tpm?: number;
  /** Per-attempt timeout (ms); default 60 000. */
  timeoutMs?: number;
  /** Retries after the first attempt; default 5. */
  maxRetries?: number;
  backoff?: BackoffOptions;
  /** Longest `Retry-After` honoured as sent (ms); longer ones are cut to this. Default 120 000. */
  maxRetryAfterMs?: number;
  cache?: ResponseCache;
  pricing?: Pricing;
  /** Limits shared with other processes; replaces `rpm` and `tpm` (and hears every Retry-After). */
  limiter?: SharedLimiter;
  /** Injectable time source for the limits and the waits between retries. */
  clock?: Clock;
  /** Injectable uniform [0, 1) source for the jitter. */
  random?: () => number;
}

export interface LatencySummary {
  n: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface ModelStats {
  /** chat/embed calls made. */
  calls: number;
  /** Calls answered from the cache (or by an identical call in flight). */
  cacheHits: number;
  /** HTTP attempts. */
  requests: number;
  retries: number;
  /** Calls that gave up (not retryable, or out of retries). */
  failed: number;
  /** Failed attempts by cause: an HTTP status ("429", "500"), "timeout", "network" or "protocol". */
  errors: Record<string, number>;
  inputTokens: number;
  outputTokens: number;
  /** USD, when pricing was given. */
  costUsd?: number;
  /** Of successful attempts. */
  latency: LatencySummary;
}

const DEFAULTS = { concurrency: 8, timeoutMs: 60_000, maxRetries: 5, maxRetryAfterMs: 120_000 };

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

interface Sent {
  text: string;
  result: unknown;
  latencyMs: number;
  attempts: number;
}

export class Model implements ChatModel {
  readonly model: string;
  readonly backend: Backend;
  readonly concurrency: number;
  readonly #opts: ModelOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #sem: Semaphore;
  readonly #rpm: RateLimiter | undefined;
  readonly #tpm: RateLimiter | undefined;
  readonly #agents = new Agents();
  readonly #inflight = new Map<string, Promise<Sent>>();
  readonly #urls = new Map<string, URL>();
  #headers: Record<string, string> | undefined;
  #pausedUntil = 0;
  #latencies: number[] = [];
  #stats = { calls: 0, cacheHits: 0, requests: 0, retries: 0, failed: 0, inputTokens: 0, outputTokens: 0 };
  #errors: Record<string, number> = {};

  constructor(opts: ModelOptions) {
    if (!opts.model) throw new ProviderError("config", "no model name: pass --model or set RLXF_MODEL");
    this.#opts = opts;
    this.backend = opts.backend;
    this.model = opts.model;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.concurrency = opts.concurrency ?? DEFAULTS.concurrency;
    this.#sem = new Semaphore(this.concurrency);
    this.#rpm = opts.rpm ? new RateLimiter(opts.rpm, { clock: this.#clock }) : undefined;
    this.#tpm = opts.tpm ? new RateLimiter(opts.tpm, { clock: this.#clock }) : undefined;
  }

  /** One chat completion. Throws `ProviderError` once retries are spent or on an error retrying cannot fix. */
  async chat(req: ChatRequest): Promise<ChatResponse> {
    const wire = this.backend.chatRequest(req, this.model);
    let chars = 0;
    for (const m of req.messages) chars += m.content.length;
    const estimate = Math.ceil(chars / 4) + (req.maxTokens ?? 0);
    const r = await this.#call(wire, req.cache !== false, req.sample ?? 0, estimate, (json) => this.backend.parseChat(json));
    return { ...r.result, cached: r.cached, latencyMs: r.latencyMs, attempts: r.attempts };
  }

  /** Embeddings (OpenAI-compatible `/embeddings`). */
  async embed(req: EmbedRequest): Promise<EmbedResponse> {
    const parse = this.backend.parseEmbed?.bind(this.backend);
    if (!this.backend.embedRequest || !parse) {
      throw new ProviderError("unsupported", `the ${this.backend.kind} provider has no embeddings endpoint`);
    }
    const wire = this.backend.embedRequest(req, this.model);
    const estimate = Math.ceil(req.inputs.reduce((n, s) => n + s.length, 0) / 4);
    const r = await this.#call(wire, req.cache !== false, 0, estimate, parse);
    return { ...r.result, cached: r.cached, latencyMs: r.latencyMs, attempts: r.attempts };
  }

  async #call<T extends { usage?: { inputTokens: number; outputTokens: number } }>(
    wire: WireRequest,
    useCache: boolean,
    sample: number,
    estimate: number,
    parse: (json: unknown) => T,
  ): Promise<{ result: T; cached: boolean; latencyMs: number; attempts: number }> {
    this.#stats.calls++;
    const cache = useCache ? this.#opts.cache : undefined;
    const fromText = (text: string) => ({ result: parse(JSON.parse(text)), cached: true, latencyMs: 0, attempts: 0 });
    const body = JSON.stringify(wire.body);
    try {
      if (!cache) {
        const sent = await this.#send(wire, body, estimate, parse);
        return { result: sent.result as T, cached: false, latencyMs: sent.latencyMs, attempts: sent.attempts };
      }
      const key = cacheKey(this.backend.kind, this.backend.baseUrl, wire, sample, body);
      // An identical request already on its way (or being looked up): share its answer.
      const same = this.#inflight.get(key);
      if (same) {
        const r = await same;
        this.#stats.cacheHits++;
        return fromText(r.text);
      }
      const job = (async (): Promise<Sent & { hit: boolean }> => {
        const hit = await cache.get(key);
        if (hit !== undefined) return { text: hit, result: undefined, latencyMs: 0, attempts: 0, hit: true };
        const sent = await this.#send(wire, body, estimate, parse);
        await cache.set({ key, model: String(wire.body.model ?? this.model), body: sent.text });
        return { ...sent, hit: false };
      })();
      this.#inflight.set(key, job);
      try {
        const r = await job;
        if (r.hit) {
          this.#stats.cacheHits++;
          return fromText(r.text);
        }
        return { result: r.result as T, cached: false, latencyMs: r.latencyMs, attempts: r.attempts };
      } finally {
        this.#inflight.delete(key);
      }
    } catch (e) {
      this.#stats.failed++;
      throw e;
    }
  }

  #url(path: string): URL {
    let u = this.#urls.get(path);
    if (!u) {
      u = new URL(this.backend.baseUrl + path);
      this.#urls.set(path, u);
    }
    return u;
  }

  async #send(wire: WireRequest, body: string, estimate: number, parse: (json: unknown) => { usage?: { inputTokens: number; outputTokens: number } }): Promise<Sent> {
    const url = this.#url(wire.path);
    const headers = (this.#headers ??= this.backend.headers());
    const maxRetries = this.#opts.maxRetries ?? DEFAULTS.maxRetries;
    for (let attempt = 0; ; attempt++) {
      const wait = this.#pausedUntil - this.#clock.now();
      if (wait > 0) await this.#clock.sleep(wait);
      let error: ProviderError;
      const release = await this.#sem.acquire();
      try {
        if (this.#opts.limiter) await this.#opts.limiter.acquire(estimate);
        if (this.#rpm && !this.#opts.limiter) await this.#rpm.acquire(1);
        if (this.#tpm && !this.#opts.limiter) await this.#tpm.acquire(estimate);
        this.#stats.requests++;
        const t0 = performance.now();
        const res = await postJson(this.#agents, url, body, headers, { timeoutMs: this.#opts.timeoutMs ?? DEFAULTS.timeoutMs });
        const latencyMs = performance.now() - t0;
        if (res.status >= 200 && res.status < 300) {
          // Parse now, so a garbled 200 is retried like any transient failure.
          const result = parse(parseJson(res.text));
          this.#account(result.usage, estimate, latencyMs);
          return { text: res.text, result, latencyMs, attempts: attempt + 1 };
        }
        const parsed = safeJson(res.text);
        const msg = (parsed !== undefined ? this.backend.errorMessage(parsed) : undefined) ?? res.text.slice(0, 300);
        const ra = retryAfterMs(res.headers);
        error = new ProviderError("http", `${url.origin}${url.pathname} answered HTTP ${res.status}${msg ? `: ${msg}` : ""}`, {
          status: res.status,
          retryable: isRetryableStatus(res.status),
          ...(ra !== undefined ? { retryAfterMs: ra } : {}),
        });
      } catch (e) {
        error = e instanceof ProviderError ? e : new ProviderError("network", (e as Error).message, { retryable: false, cause: e });
      } finally {
        release();
      }
      const cause = error.kind === "http" ? String(error.status) : error.kind;
      this.#errors[cause] = (this.#errors[cause] ?? 0) + 1;
      if (this.#tpm) this.#tpm.adjust(-estimate);
      this.#opts.limiter?.adjust(-estimate);
      if (!error.retryable || attempt >= maxRetries) {
        error.attempts = attempt + 1;
        throw error;
      }
      this.#stats.retries++;
      let delay: number;
      if (error.retryAfterMs !== undefined) {
        delay = Math.min(error.retryAfterMs, this.#opts.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs);
        // The server asked everyone to wait: hold back this model's other requests too.
        this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + delay);
        this.#opts.limiter?.pause(delay);
      } else {
        delay = backoffDelay(attempt, this.#opts.backoff, this.#random);
      }
      await this.#clock.sleep(delay);
    }
  }

  #account(usage: { inputTokens: number; outputTokens: number } | undefined, estimate: number, latencyMs: number): void {
    this.#latencies.push(latencyMs);
    if (usage) {
      this.#stats.inputTokens += usage.inputTokens;
      this.#stats.outputTokens += usage.outputTokens;
      if (this.#tpm) this.#tpm.adjust(usage.inputTokens + usage.outputTokens - estimate);
      this.#opts.limiter?.adjust(usage.inputTokens + usage.outputTokens - estimate);
    }
  }

  stats(): ModelStats {
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const n = sorted.length;
    const out: ModelStats = {
      ...this.#stats,
      errors: { ...this.#errors },
      latency: {
        n,
        meanMs: n ? sorted.reduce((s, x) => s + x, 0) / n : 0,
        p50Ms: quantile(sorted, 0.5),
        p95Ms: quantile(sorted, 0.95),
        maxMs: n ? sorted[n - 1]! : 0,
      },
    };
    const p = this.#opts.pricing;
    if (p) out.costUsd = (this.#stats.inputTokens * p.inputPerMillion + this.#stats.outputTokens * p.outputPerMillion) / 1e6;
    return out;
  }

  /** Write buffered cache entries. */
  async flush(): Promise<void> {
    await this.#opts.cache?.flush();
  }

  /** Flush the cache and close idle connections. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.#agents.destroy();
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError("protocol", `the server answered with a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`, { retryable: true });
  }
}
