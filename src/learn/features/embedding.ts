/**
 * Embedding features from an OpenAI-compatible `/v1/embeddings` endpoint, cached in the store.
 *
 * The featurizer depends only on the small {@link Embedder} interface, so any embedding client can serve it
 * (rlxf/providers' client, a local model, a test double); {@link openAiEmbedder} is a minimal fetch-based one.
 */
import { createHash } from "node:crypto";
import { RlxfError } from "../../errors.js";
import { promptText } from "../../io/index.js";
import type { EmbeddingSpec, FeatureInput, Featurizer } from "./featurizer.js";
import { type SparseVector, sparseFromDense } from "./sparse.js";

/** Anything that turns texts into vectors, one per text, in order. */
export interface Embedder {
  embed(texts: string[]): Promise<number[][]>;
}

export interface OpenAiEmbedderOptions {
  /** Base URL of the API, e.g. "https://api.openai.com/v1" or "http://127.0.0.1:8000/v1". */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer <apiKey>` when given. */
  apiKey?: string;
  /** Texts per request (default 64). */
  batchSize?: number;
  /** Ask for this many dimensions (models that support it). */
  dimensions?: number;
  /** Per-request timeout in ms (default 60000). */
  timeoutMs?: number;
  /** Attempts per request on network errors, 429 and 5xx (default 3). */
  retries?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A minimal OpenAI-compatible embedder: POST `{baseUrl}/embeddings` with `{model, input: [...]}` and read
 * `data[i].embedding` (ordered by `data[i].index`). Retries network errors, 429 and 5xx with backoff.
 */
export function openAiEmbedder(opts: OpenAiEmbedderOptions): Embedder & { readonly model: string } {
  const url = `${opts.baseUrl.replace(/\/+$/, "")}/embeddings`;
  const batchSize = opts.batchSize ?? 64;
  const retries = opts.retries ?? 3;
  const call = async (input: string[]): Promise<number[][]> => {
    const body: Record<string, unknown> = { model: opts.model, input };
    if (opts.dimensions !== undefined) body.dimensions = opts.dimensions;
    let lastError: unknown;
    for (let attempt = 0; attempt < retries; attempt++) {
      if (attempt > 0) await sleep(200 * 2 ** (attempt - 1));
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
        });
      } catch (e) {
        lastError = e;
        continue;
      }
      const text = await res.text();
      if (res.status === 429 || res.status >= 500) {
        lastError = new RlxfError("model_failed", `${url} answered ${res.status}: ${text.slice(0, 200)}`);
        continue;
      }
      if (!res.ok) throw new RlxfError("model_failed", `${url} answered ${res.status}: ${text.slice(0, 500)}`);
      let json: { data?: Array<{ index?: number; embedding?: unknown }> };
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        throw new RlxfError("model_failed", `${url} did not answer JSON: ${text.slice(0, 200)}`);
      }
      const data = json.data;
      if (!Array.isArray(data) || data.length !== input.length) {
        throw new RlxfError("model_failed", `${url} returned ${Array.isArray(data) ? data.length : "no"} embeddings for ${input.length} inputs`);
      }
      const out: number[][] = new Array(input.length);
      data.forEach((d, k) => {
        const i = typeof d.index === "number" ? d.index : k;
        const e = d.embedding;
        if (!Array.isArray(e) || !e.every((x) => typeof x === "number" && Number.isFinite(x))) {
          throw new RlxfError("model_failed", `${url}: embedding ${i} is not a list of numbers (base64 encoding is not supported)`);
        }
        out[i] = e as number[];
      });
      if (out.some((e) => e === undefined)) throw new RlxfError("model_failed", `${url}: embedding indices do not cover the inputs`);
      return out;
    }
    throw new RlxfError("model_failed", `${url}: ${(lastError as Error)?.message ?? String(lastError)} (after ${retries} attempts)`, {
      cause: lastError,
    });
  };
  return {
    model: opts.model,
    async embed(texts) {
      const out: number[][] = [];
      for (let s = 0; s < texts.length; s += batchSize) out.push(...(await call(texts.slice(s, s + batchSize))));
      return out;
    },
  };
}

/** Where cached vectors live (the store's `vectors`). */
export interface VectorCacheLike {
  get(namespace: string, keys: readonly string[]): Promise<Map<string, Float32Array>>;
  put(namespace: string, entries: ReadonlyArray<{ key: string; vector: ArrayLike<number> }>): Promise<void>;
}

/** The cache key of a text: sha256 of its UTF-8 bytes. */
export const textKey = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * An embedder that asks `inner` only for texts not yet in `cache` under `namespace` (e.g. "embedding:<model>"),
 * and stores what it gets. Repeated texts within a call are embedded once.
 */
export function cachedEmbedder(inner: Embedder, cache: VectorCacheLike, namespace: string): Embedder & { calls: number; embedded: number } {
  const self = {
    calls: 0,
    embedded: 0,
    async embed(texts: string[]): Promise<number[][]> {
      const keys = texts.map(textKey);
      const have = await cache.get(namespace, keys);
      const todo: string[] = [];
      const todoKeys: string[] = [];
      const queued = new Set<string>();
      keys.forEach((k, i) => {
        if (!have.has(k) && !queued.has(k)) {
          queued.add(k);
          todo.push(texts[i]!);
          todoKeys.push(k);
        }
      });
      if (todo.length) {
        self.calls++;
        self.embedded += todo.length;
        const got = await inner.embed(todo);
        await cache.put(
          namespace,
          got.map((vector, i) => ({ key: todoKeys[i]!, vector })),
        );
        got.forEach((v, i) => have.set(todoKeys[i]!, Float32Array.from(v)));
      }
      return keys.map((k) => Array.from(have.get(k)!));
    },
  };
  return self;
}

/**
 * Features from embeddings: e(response), and for `combine: "pair"` also e(prompt) ⊙ e(response) (the prompt's
 * text, all turns), so a linear reward can depend on how the response relates to the prompt. Embeddings are
 * scaled to unit length first.
 */
export function embeddingFeaturizer(embedder: Embedder, partial: Partial<Omit<EmbeddingSpec, "type">> & { model: string }): Featurizer {
  const spec: EmbeddingSpec = { type: "embedding", model: partial.model, dim: partial.dim ?? 0, combine: partial.combine ?? "pair" };
  const unit = (v: number[]) => {
    let s = 0;
    for (const x of v) s += x * x;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    return v.map((x) => x * inv);
  };
  const self: Featurizer = {
    spec,
    get dim() {
      return spec.combine === "pair" ? 2 * spec.dim : spec.dim;
    },
    async featurize(inputs: readonly FeatureInput[]): Promise<SparseVector[]> {
      if (inputs.length === 0) return [];
      const prompts = inputs.map((x) => promptText(x.prompt));
      const texts = spec.combine === "pair" ? [...new Set([...inputs.map((x) => x.response), ...prompts])] : [...new Set(inputs.map((x) => x.response))];
      const vecs = await embedder.embed(texts);
      const byText = new Map<string, number[]>();
      texts.forEach((t, i) => byText.set(t, unit(vecs[i]!)));
      const d = vecs[0]!.length;
      if (spec.dim === 0) spec.dim = d;
      if (vecs.some((v) => v.length !== spec.dim)) {
        throw new RlxfError("model_failed", `embeddings of model ${spec.model} have ${d} dimensions, expected ${spec.dim}`);
      }
      return inputs.map((x, i) => {
        const r = byText.get(x.response)!;
        if (spec.combine === "response") return sparseFromDense(r);
        const p = byText.get(prompts[i]!)!;
        const both = new Float64Array(2 * spec.dim);
        both.set(r, 0);
        for (let k = 0; k < spec.dim; k++) both[spec.dim + k] = p[k]! * r[k]!;
        return sparseFromDense(both);
      });
    },
  };
  return self;
}
