/**
 * The OpenAI chat-completions wire format, as OpenAI, vLLM, llama.cpp's server,
 * Ollama (`/v1`), LM Studio and most gateways speak it; plus `/embeddings`.
 */
import { ProviderError } from "./errors.js";
import type { Backend, ChatRequest, ChatResult, EmbedRequest, EmbedResult, TokenLogprob, TopLogprob, Usage, WireRequest } from "./types.js";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

/**
 * Normalise a base URL: no trailing slash, a bare origin gets `/v1`, and a
 * pasted endpoint (`.../v1/chat/completions`) is cut back to its base.
 */
export function normalizeOpenAIBaseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ProviderError("config", `the base URL "${raw}" is not a URL (expected e.g. http://127.0.0.1:8000/v1)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new ProviderError("config", `the base URL "${raw}" must start with http:// or https://`);
  }
  let path = u.pathname.replace(/\/+$/, "").replace(/\/(chat\/completions|completions|embeddings)$/, "");
  if (path === "") path = "/v1";
  return `${u.origin}${path}${u.search}`;
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function bad(what: string): ProviderError {
  return new ProviderError("protocol", `the server's answer is not an OpenAI-style ${what}`, { retryable: true });
}

function usageOf(u: unknown, input = "prompt_tokens", output = "completion_tokens"): Usage | undefined {
  const o = obj(u);
  if (!o) return undefined;
  const i = Number(o[input] ?? 0);
  const out = Number(o[output] ?? 0);
  if (!Number.isFinite(i) || !Number.isFinite(out)) return undefined;
  return { inputTokens: i, outputTokens: out };
}

function topOf(v: unknown): TopLogprob[] | undefined {
  if (Array.isArray(v)) {
    const out: TopLogprob[] = [];
    for (const t of v) {
      const o = obj(t);
      if (o && typeof o.token === "string" && typeof o.logprob === "number") out.push({ token: o.token, logprob: o.logprob });
    }
    return out;
  }
  // Legacy completions shape: {token: logprob}.
  const o = obj(v);
  if (o) return Object.entries(o).flatMap(([token, lp]) => (typeof lp === "number" ? [{ token, logprob: lp }] : []));
  return undefined;
}

/** Token logprobs from either the chat shape (`content: [{token, logprob, top_logprobs}]`) or the legacy one. */
export function parseOpenAILogprobs(v: unknown): TokenLogprob[] | undefined {
  const o = obj(v);
  if (!o) return undefined;
  if (Array.isArray(o.content)) {
    const out: TokenLogprob[] = [];
    for (const t of o.content) {
      const e = obj(t);
      if (!e || typeof e.token !== "string" || typeof e.logprob !== "number") continue;
      const top = topOf(e.top_logprobs);
      out.push(top && top.length ? { token: e.token, logprob: e.logprob, top } : { token: e.token, logprob: e.logprob });
    }
    return out;
  }
  if (Array.isArray(o.tokens) && Array.isArray(o.token_logprobs)) {
    const tops = Array.isArray(o.top_logprobs) ? o.top_logprobs : [];
    return o.tokens.map((token, i) => {
      const top = topOf(tops[i]);
      const lp = Number(o.token_logprobs && (o.token_logprobs as unknown[])[i]);
      return top && top.length ? { token: String(token), logprob: lp, top } : { token: String(token), logprob: lp };
    });
  }
  return undefined;
}

function contentText(c: unknown): string | undefined {
  if (typeof c === "string") return c;
  if (c === null) return "";
  if (Array.isArray(c)) {
    return c.map((p) => (typeof p === "string" ? p : typeof obj(p)?.text === "string" ? (obj(p)!.text as string) : "")).join("");
  }
  return undefined;
}

export interface OpenAIBackendOptions {
  baseUrl?: string;
  apiKey?: string;
  /** Extra headers (e.g. `OpenAI-Organization`, a gateway's own key header). */
  headers?: Record<string, string>;
}

export class OpenAIBackend implements Backend {
  readonly kind = "openai";
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #headers: Record<string, string>;

  constructor(opts: OpenAIBackendOptions = {}) {
    this.baseUrl = normalizeOpenAIBaseUrl(opts.baseUrl ?? OPENAI_BASE_URL);
    this.#apiKey = opts.apiKey;
    this.#headers = opts.headers ?? {};
  }

  headers(): Record<string, string> {
    return { ...(this.#apiKey ? { authorization: `Bearer ${this.#apiKey}` } : {}), ...this.#headers };
  }

  chatRequest(req: ChatRequest, model: string): WireRequest {
    const body: Record<string, unknown> = { model: req.model ?? model, messages: req.messages.map((m) => ({ role: m.role, content: m.content })) };
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
    if (req.topP !== undefined) body.top_p = req.topP;
    if (req.stop !== undefined && req.stop.length) body.stop = req.stop;
    if (req.seed !== undefined) body.seed = req.seed;
    if (req.logprobs || req.topLogprobs !== undefined) body.logprobs = true;
    if (req.topLogprobs !== undefined) body.top_logprobs = req.topLogprobs;
    if (req.logitBias !== undefined && Object.keys(req.logitBias).length) body.logit_bias = req.logitBias;
    if (req.json) body.response_format = { type: "json_object" };
    if (req.extra) Object.assign(body, req.extra);
    return { path: "/chat/completions", body };
  }

  parseChat(json: unknown): ChatResult {
    const o = obj(json);
    const choice = Array.isArray(o?.choices) ? obj(o!.choices[0]) : undefined;
    if (!o || !choice) throw bad("chat completion (no choices)");
    const message = obj(choice.message);
    // Some servers answer in the legacy completions shape (`text`).
    const text = message ? contentText(message.content) : typeof choice.text === "string" ? choice.text : undefined;
    if (text === undefined) throw bad("chat completion (no message content)");
    const out: ChatResult = { text };
    const logprobs = parseOpenAILogprobs(choice.logprobs);
    if (logprobs) out.logprobs = logprobs;
    const usage = usageOf(o.usage);
    if (usage) out.usage = usage;
    if (typeof o.model === "string") out.model = o.model;
    if (typeof choice.finish_reason === "string") out.finishReason = choice.finish_reason;
    return out;
  }

  embedRequest(req: EmbedRequest, model: string): WireRequest {
    const body: Record<string, unknown> = { model: req.model ?? model, input: req.inputs };
    if (req.dimensions !== undefined) body.dimensions = req.dimensions;
    return { path: "/embeddings", body };
  }

  parseEmbed(json: unknown): EmbedResult {
    const o = obj(json);
    if (!o || !Array.isArray(o.data)) throw bad("embeddings answer (no data)");
    const rows = o.data.map((d, i) => {
      const e = obj(d);
      if (!e || !Array.isArray(e.embedding) || !e.embedding.every((x) => typeof x === "number")) throw bad("embeddings answer (bad vector)");
      return { index: typeof e.index === "number" ? e.index : i, embedding: e.embedding as number[] };
    });
    rows.sort((a, b) => a.index - b.index);
    const out: EmbedResult = { embeddings: rows.map((r) => r.embedding) };
    const usage = usageOf(o.usage, "prompt_tokens", "completion_tokens");
    if (usage) out.usage = usage;
    if (typeof o.model === "string") out.model = o.model;
    return out;
  }

  errorMessage(json: unknown): string | undefined {
    const o = obj(json);
    const e = obj(o?.error);
    if (typeof e?.message === "string") return e.message;
    if (typeof o?.error === "string") return o.error;
    if (typeof o?.message === "string") return o.message;
    if (typeof o?.detail === "string") return o.detail;
    return undefined;
  }
}
