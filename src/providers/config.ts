/**
 * Which endpoint, key and model to use: explicit options first, then the
 * environment (`RLXF_PROVIDER`, `RLXF_BASE_URL`, `RLXF_API_KEY`, `RLXF_MODEL`).
 */
import { ANTHROPIC_BASE_URL, AnthropicBackend } from "./anthropic.js";
import type { ResponseCache } from "./cache.js";
import { ProviderError } from "./errors.js";
import type { BackoffOptions, Clock, SharedLimiter } from "./limits.js";
import { Model, type Pricing } from "./model.js";
import { OPENAI_BASE_URL, OpenAIBackend } from "./openai.js";

export const PROVIDERS = ["openai", "anthropic"] as const;
export type ProviderKind = (typeof PROVIDERS)[number];

export interface ModelSettings {
  /** `openai` (any OpenAI-compatible server) or `anthropic`. */
  provider?: ProviderKind;
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  headers?: Record<string, string>;
  concurrency?: number;
  rpm?: number;
  tpm?: number;
  timeoutMs?: number;
  maxRetries?: number;
  backoff?: BackoffOptions;
  pricing?: Pricing;
}

export interface ResolvedModelSettings extends ModelSettings {
  provider: ProviderKind;
  baseUrl: string;
  model: string;
}

/**
 * Fill settings from the environment. A provider's own key variable
 * (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`) is used only with that provider's
 * own endpoint, so a key is never sent to a server it was not issued for.
 */
export function resolveModelSettings(s: ModelSettings = {}, env: NodeJS.ProcessEnv = process.env): ResolvedModelSettings {
  const rawProvider = s.provider ?? (env.RLXF_PROVIDER || undefined);
  const baseUrlGiven = s.baseUrl ?? (env.RLXF_BASE_URL || undefined);
  const provider = (rawProvider ?? (baseUrlGiven && /anthropic\.com/i.test(baseUrlGiven) ? "anthropic" : "openai")) as ProviderKind;
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new ProviderError("config", `unknown provider "${provider}" (use ${PROVIDERS.join(" or ")})`);
  }
  const baseUrl = baseUrlGiven ?? (provider === "anthropic" ? ANTHROPIC_BASE_URL : OPENAI_BASE_URL);
  let apiKey = s.apiKey ?? (env.RLXF_API_KEY || undefined);
  if (apiKey === undefined) {
    if (provider === "openai" && /^https:\/\/api\.openai\.com(\/|$)/.test(baseUrl)) apiKey = env.OPENAI_API_KEY || undefined;
    if (provider === "anthropic" && /^https:\/\/api\.anthropic\.com(\/|$)/.test(baseUrl)) apiKey = env.ANTHROPIC_API_KEY || undefined;
  }
  const model = s.model ?? (env.RLXF_MODEL || undefined);
  if (!model) throw new ProviderError("config", "no model name: pass --model or set RLXF_MODEL (e.g. gpt-4o-mini, or the name your server serves)");
  return { ...s, provider, baseUrl, model, ...(apiKey !== undefined ? { apiKey } : {}) };
}

/** A ready `Model` from settings (resolved against the environment). */
export function createModel(
  settings: ModelSettings = {},
  extra: { cache?: ResponseCache; clock?: Clock; random?: () => number; env?: NodeJS.ProcessEnv; limiter?: SharedLimiter } = {},
): Model {
  const s = resolveModelSettings(settings, extra.env);
  const backendOpts = { baseUrl: s.baseUrl, ...(s.apiKey ? { apiKey: s.apiKey } : {}), ...(s.headers ? { headers: s.headers } : {}) };
  const backend = s.provider === "anthropic" ? new AnthropicBackend(backendOpts) : new OpenAIBackend(backendOpts);
  return new Model({
    backend,
    model: s.model,
    ...(s.concurrency !== undefined ? { concurrency: s.concurrency } : {}),
    ...(s.rpm !== undefined ? { rpm: s.rpm } : {}),
    ...(s.tpm !== undefined ? { tpm: s.tpm } : {}),
    ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}),
    ...(s.maxRetries !== undefined ? { maxRetries: s.maxRetries } : {}),
    ...(s.backoff ? { backoff: s.backoff } : {}),
    ...(s.pricing ? { pricing: s.pricing } : {}),
    ...(extra.cache ? { cache: extra.cache } : {}),
    ...(extra.clock ? { clock: extra.clock } : {}),
    ...(extra.random ? { random: extra.random } : {}),
    ...(extra.limiter ? { limiter: extra.limiter } : {}),
  });
}
