/**
 * The model interface rlxf talks to: chat messages in; text, optional token
 * logprobs and token usage out. Backends (OpenAI-compatible, Anthropic) turn a
 * `ChatRequest` into one HTTP request; `Model` (model.ts) adds the concurrency
 * limit, rate limits, retries, timeouts, the response cache and accounting.
 */

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** Overrides the model the `Model` was created with. */
  model?: string;
  temperature?: number;
  /** Upper bound on generated tokens (`max_tokens`). */
  maxTokens?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  /** Ask for the chosen tokens' logprobs (OpenAI-compatible servers only). */
  logprobs?: boolean;
  /** How many alternatives per position (OpenAI allows 0..20). Implies `logprobs`. */
  topLogprobs?: number;
  /** Token-id → bias, as the server understands it (OpenAI `logit_bias`). */
  logitBias?: Record<string, number>;
  /** Ask for a JSON object (`response_format: {type: "json_object"}`). */
  json?: boolean;
  /** Extra body fields sent as they are (e.g. vLLM's `guided_choice`); they win over the fields above. */
  extra?: Record<string, unknown>;
  /**
   * Which sample of this same request this is. Not sent; part of the cache
   * key, so asking again for sample 1 after a useless sample 0 makes a new call.
   */
  sample?: number;
  /** false: neither read nor write the response cache for this call. */
  cache?: boolean;
}

export interface TopLogprob {
  token: string;
  logprob: number;
}

/** One generated token with its logprob and, when asked for, the most likely alternatives at its position. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top?: TopLogprob[];
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResult {
  text: string;
  /** Per generated token, when the server returned logprobs. */
  logprobs?: TokenLogprob[];
  usage?: Usage;
  /** The model that answered, as the server names it. */
  model?: string;
  finishReason?: string;
}

export interface ChatResponse extends ChatResult {
  /** Served from the response cache (no request was made). */
  cached: boolean;
  /** Wall time of the successful HTTP attempt (0 when cached). */
  latencyMs: number;
  /** HTTP attempts this call took (0 when cached). */
  attempts: number;
}

export interface EmbedRequest {
  inputs: string[];
  model?: string;
  /** Output dimensionality, for models that support it. */
  dimensions?: number;
  cache?: boolean;
}

export interface EmbedResult {
  /** One vector per input, in input order. */
  embeddings: number[][];
  usage?: Usage;
  model?: string;
}

export interface EmbedResponse extends EmbedResult {
  cached: boolean;
  latencyMs: number;
  attempts: number;
}

/** One HTTP request a backend wants made: a path under its base URL and a JSON body. */
export interface WireRequest {
  path: string;
  body: Record<string, unknown>;
}

/**
 * A provider's wire format. Pure: building and parsing only; `Model` sends.
 * The cache key is the backend kind, its base URL and the wire request.
 */
export interface Backend {
  readonly kind: string;
  /** e.g. `https://api.openai.com/v1`. */
  readonly baseUrl: string;
  headers(): Record<string, string>;
  chatRequest(req: ChatRequest, model: string): WireRequest;
  /** Parse a 2xx body; throws on a body that is not a chat completion. */
  parseChat(json: unknown): ChatResult;
  embedRequest?(req: EmbedRequest, model: string): WireRequest;
  parseEmbed?(json: unknown): EmbedResult;
  /** The server's own error message out of an error body, when it has one. */
  errorMessage(json: unknown): string | undefined;
}

/** What a `Model` can do, as judges see it: tests and other rooms may supply their own. */
export interface ChatModel {
  /** The default model name requests go to. */
  readonly model: string;
  chat(req: ChatRequest): Promise<ChatResponse>;
}
