/** The options every command that calls a model takes, and the `Model` they make. */
import { type Command, InvalidArgumentError, Option } from "commander";
import { type Model, type ModelSettings, PROVIDERS, type ProviderKind, type ResponseCache, StoreResponseCache, createModel } from "../providers/index.js";
import type { ModelStats } from "../providers/index.js";
import { type RecordSink, WorkerSink } from "../sources/index.js";
import { type Store, resolveTarget } from "../store/index.js";
import { type DbOptions, storeFrom } from "./shared.js";

export interface ModelCliOptions extends DbOptions {
  provider?: ProviderKind;
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  concurrency: number;
  rpm?: number;
  tpm?: number;
  timeout: number;
  maxRetries: number;
  cache: boolean;
  priceInput?: number;
  priceOutput?: number;
}

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

const nonNegativeInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

export const number01 = (name: string, max = 1) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new InvalidArgumentError(`${name} must be a number from 0 to ${max}`);
  return n;
};

export function addModelOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--base-url <url>", "OpenAI-compatible (or Anthropic) endpoint, e.g. http://127.0.0.1:8000/v1 (default: $RLXF_BASE_URL, else OpenAI)"))
    .addOption(new Option("--model <name>", "model name (default: $RLXF_MODEL)"))
    .addOption(new Option("--api-key <key>", "API key (prefer $RLXF_API_KEY: flags end up in shell history)"))
    .addOption(new Option("--provider <kind>", "wire protocol (default: $RLXF_PROVIDER, else openai)").choices([...PROVIDERS]))
    .option("--concurrency <n>", "requests in flight at once", positive("--concurrency"), 16)
    .option("--rpm <n>", "requests per minute limit", positive("--rpm"))
    .option("--tpm <n>", "tokens per minute limit", positive("--tpm"))
    .option("--timeout <seconds>", "per-request timeout", positive("--timeout"), 60)
    .option("--max-retries <n>", "retries on 429 / 5xx / timeouts", nonNegativeInt("--max-retries"), 5)
    .option("--no-cache", "neither read nor write the response cache in the store")
    .option("--price-input <usd>", "USD per million input tokens, for the cost estimate", positive("--price-input"))
    .option("--price-output <usd>", "USD per million output tokens, for the cost estimate", positive("--price-output"));
}

export function modelFrom(opts: ModelCliOptions, cache: ResponseCache | undefined): Model {
  return createModel(
    {
      ...(opts.provider ? { provider: opts.provider } : {}),
      ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
      ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
      ...(opts.model ? { model: opts.model } : {}),
      concurrency: Math.floor(opts.concurrency),
      ...(opts.rpm ? { rpm: opts.rpm } : {}),
      ...(opts.tpm ? { tpm: opts.tpm } : {}),
      timeoutMs: opts.timeout * 1000,
      maxRetries: opts.maxRetries,
      ...(opts.priceInput !== undefined || opts.priceOutput !== undefined
        ? { pricing: { inputPerMillion: opts.priceInput ?? 0, outputPerMillion: opts.priceOutput ?? 0 } }
        : {}),
    },
    cache ? { cache } : {},
  );
}

export interface JudgeResources {
  model: Model;
  /** Open when feedback is stored or responses cached. */
  store?: Store;
  /** Set when feedback is stored: a writer thread on a SQLite file, else the runner writes through `store`. */
  sink?: RecordSink;
}

/**
 * The model, the store and where records go, for one judging command; all
 * closed afterwards. With a SQLite file, a writer thread does the store's
 * writes (feedback, failures, cache entries) so they never hold up the
 * requests; this thread only reads the cache.
 */
export async function withJudgeResources<T>(opts: ModelCliOptions & { store?: boolean }, fn: (r: JudgeResources) => Promise<T>): Promise<T> {
  const storeFeedback = opts.store !== false;
  if (!storeFeedback && !opts.cache) {
    const model = modelFrom(opts, undefined);
    try {
      return await fn({ model });
    } finally {
      await model.close();
    }
  }
  const store = await storeFrom(opts);
  let worker: WorkerSink | undefined;
  let model: Model | undefined;
  try {
    const target = resolveTarget(opts.db ? (/^postgres(ql)?:\/\//.test(opts.db) ? { url: opts.db } : { path: opts.db }) : {});
    if (store.engine === "sqlite" && target.engine === "sqlite" && target.path !== ":memory:" && WorkerSink.available()) {
      worker = new WorkerSink({ path: target.path });
    }
    const cache = opts.cache ? new StoreResponseCache(worker ? worker.cacheStore(store.responseCache) : store.responseCache) : undefined;
    model = modelFrom(opts, cache);
    return await fn({ model, ...(storeFeedback ? { store } : {}), ...(storeFeedback && worker ? { sink: worker } : {}) });
  } finally {
    try {
      await model?.close();
    } finally {
      await worker?.close();
      await store.close();
    }
  }
}

const fmt = (n: number) => n.toLocaleString("en-US");

export function modelSummary(m: ModelStats): string {
  const errs = Object.entries(m.errors)
    .map(([k, n]) => `${k} ×${n}`)
    .join(", ");
  const cost = m.costUsd !== undefined ? `, $${m.costUsd.toFixed(4)}` : "";
  const lat = m.latency.n ? `, latency p50 ${m.latency.p50Ms.toFixed(0)} ms p95 ${m.latency.p95Ms.toFixed(0)} ms` : "";
  return (
    `model: ${fmt(m.calls)} calls, ${fmt(m.cacheHits)} from cache, ${fmt(m.requests)} requests, ${fmt(m.retries)} retries` +
    `${errs ? ` (${errs})` : ""}${m.failed ? `, ${m.failed} gave up` : ""}, ${fmt(m.inputTokens)} input + ${fmt(m.outputTokens)} output tokens${cost}${lat}`
  );
}

export interface JudgeModelCliOptions {
  judgeModel?: string;
  judgeBaseUrl?: string;
  judgeProvider?: ProviderKind;
}

/**
 * The model judges in reward specs ask, made on first use: flags, then RLXF_JUDGE_* and then
 * RLXF_* variables. Its responses are cached in the store, like the judge commands' are.
 */
export function judgeModelFrom(opts: JudgeModelCliOptions, store: Store) {
  let made: { model: Model; cache: StoreResponseCache } | undefined;
  const env = process.env;
  const provider = opts.judgeProvider ?? (env.RLXF_JUDGE_PROVIDER as ProviderKind | undefined);
  const baseUrl = opts.judgeBaseUrl ?? env.RLXF_JUDGE_BASE_URL;
  const model = opts.judgeModel ?? env.RLXF_JUDGE_MODEL;
  const apiKey = env.RLXF_JUDGE_API_KEY;
  const settings: ModelSettings = { ...(provider ? { provider } : {}), ...(baseUrl ? { baseUrl } : {}), ...(model ? { model } : {}), ...(apiKey ? { apiKey } : {}) };
  return {
    /** The same model as settings, for threads (which cannot call `factory`). */
    settings,
    factory: (): Model => {
      if (made) return made.model;
      const cache = new StoreResponseCache(store.responseCache);
      const m = createModel(settings, { cache });
      made = { model: m, cache };
      return m;
    },
    async close(): Promise<void> {
      if (!made) return;
      await made.model.close();
      await made.cache.flush();
    },
  };
}
