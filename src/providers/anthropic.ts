/**
 * The Anthropic messages wire format (`POST /v1/messages`). No logprobs: judges
 * that want them fall back to reading the text.
 */
import { ProviderError } from "./errors.js";
import type { Backend, ChatRequest, ChatResult, WireRequest } from "./types.js";

export const ANTHROPIC_BASE_URL = "https://api.anthropic.com";
export const ANTHROPIC_VERSION = "2023-06-01";
/** Anthropic requires `max_tokens`; used when the request sets none. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 1024;

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

export function normalizeAnthropicBaseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ProviderError("config", `the base URL "${raw}" is not a URL (expected e.g. https://api.anthropic.com)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ProviderError("config", `the base URL "${raw}" must start with http:// or https://`);
  const path = u.pathname.replace(/\/+$/, "").replace(/\/messages$/, "").replace(/\/v1$/, "");
  return `${u.origin}${path}`;
}

export interface AnthropicBackendOptions {
  baseUrl?: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

export class AnthropicBackend implements Backend {
  readonly kind = "anthropic";
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #headers: Record<string, string>;

  constructor(opts: AnthropicBackendOptions = {}) {
    this.baseUrl = normalizeAnthropicBaseUrl(opts.baseUrl ?? ANTHROPIC_BASE_URL);
    this.#apiKey = opts.apiKey;
    this.#headers = opts.headers ?? {};
  }

  headers(): Record<string, string> {
    return { "anthropic-version": ANTHROPIC_VERSION, ...(this.#apiKey ? { "x-api-key": this.#apiKey } : {}), ...this.#headers };
  }

  chatRequest(req: ChatRequest, model: string): WireRequest {
    const system = req.messages.filter((m) => m.role === "system").map((m) => m.content);
    const body: Record<string, unknown> = {
      model: req.model ?? model,
      max_tokens: req.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
      messages: req.messages.filter((m) => m.role !== "system").map((m) => ({ role: m.role, content: m.content })),
    };
    if (system.length) body.system = system.join("\n\n");
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.topP !== undefined) body.top_p = req.topP;
    if (req.stop !== undefined && req.stop.length) body.stop_sequences = req.stop;
    if (req.extra) Object.assign(body, req.extra);
    return { path: "/v1/messages", body };
  }

  parseChat(json: unknown): ChatResult {
    const o = obj(json);
    if (!o || !Array.isArray(o.content)) {
      throw new ProviderError("protocol", "the server's answer is not an Anthropic message (no content)", { retryable: true });
    }
    const text = o.content.map((b) => (obj(b)?.type === "text" && typeof obj(b)!.text === "string" ? (obj(b)!.text as string) : "")).join("");
    const out: ChatResult = { text };
    const u = obj(o.usage);
    if (u) out.usage = { inputTokens: Number(u.input_tokens ?? 0), outputTokens: Number(u.output_tokens ?? 0) };
    if (typeof o.model === "string") out.model = o.model;
    if (typeof o.stop_reason === "string") out.finishReason = o.stop_reason;
    return out;
  }

  errorMessage(json: unknown): string | undefined {
    const e = obj(obj(json)?.error);
    return typeof e?.message === "string" ? e.message : undefined;
  }
}
