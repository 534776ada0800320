/**
 * The providers room (`rlxf/providers`): a small model interface (chat in;
 * text, token logprobs and usage out) over OpenAI-compatible servers (OpenAI,
 * vLLM, llama.cpp, Ollama, LM Studio...) and Anthropic, with concurrency and
 * rate limits, retries, timeouts, a response cache and cost accounting.
 *
 *     const model = createModel({ baseUrl: "http://127.0.0.1:8000/v1", model: "qwen2.5-7b" });
 *     const r = await model.chat({ messages: [{ role: "user", content: "Hi" }], maxTokens: 16 });
 */
export * from "./types.js";
export { ProviderError, type ProviderErrorKind, isRetryableStatus } from "./errors.js";
export { type Clock, systemClock, virtualClock, Semaphore, RateLimiter, type SharedLimiter, type BackoffOptions, backoffDelay } from "./limits.js";
export { type ResponseCache, type CacheStore, MemoryResponseCache, StoreResponseCache, cacheKey } from "./cache.js";
export { OpenAIBackend, type OpenAIBackendOptions, OPENAI_BASE_URL, normalizeOpenAIBaseUrl, parseOpenAILogprobs } from "./openai.js";
export { AnthropicBackend, type AnthropicBackendOptions, ANTHROPIC_BASE_URL, ANTHROPIC_VERSION, normalizeAnthropicBaseUrl } from "./anthropic.js";
export { Model, type ModelOptions, type ModelStats, type LatencySummary, type Pricing } from "./model.js";
export { PROVIDERS, type ProviderKind, type ModelSettings, type ResolvedModelSettings, resolveModelSettings, createModel } from "./config.js";
export { retryAfterMs } from "./transport.js";
