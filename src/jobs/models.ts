/**
 * Models for jobs: the job names the endpoint and model; the worker brings the credentials. A worker's
 * `RLXF_API_KEY` goes only to the endpoint its own `RLXF_BASE_URL` names (or to the default endpoint when
 * neither names one), never to an endpoint a job names, so a job cannot send the worker's key elsewhere.
 * Every model of a worker shares the limits and pauses of its endpoint with the other workers (StoreLimiter).
 */
import { z } from "zod";
import { type Model, PROVIDERS, StoreResponseCache, createModel, normalizeOpenAIBaseUrl, resolveModelSettings } from "../providers/index.js";
import type { Store } from "../store/index.js";
import { StoreLimiter } from "./limiter.js";
import type { ModelInput } from "./types.js";

export const ModelInputSchema = z.strictObject({
  provider: z.enum(PROVIDERS).optional(),
  baseUrl: z.string().url().max(2000).optional(),
  model: z.string().min(1).max(200).optional(),
  concurrency: z.number().int().min(1).max(256).optional(),
  rpm: z.number().positive().max(1e7).optional(),
  tpm: z.number().positive().max(1e10).optional(),
  timeoutMs: z.number().int().min(100).max(3_600_000).optional(),
  maxRetries: z.number().int().min(0).max(20).optional(),
  cache: z.boolean().optional(),
});

export interface WorkerModelDefaults {
  /** Limits the worker applies to every endpoint (the lower of the job's and the worker's wins). */
  rpm?: number;
  tpm?: number;
  env?: NodeJS.ProcessEnv;
}

const min = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

/** The endpoint's key in the shared limits: provider, normalised base URL and model. */
export function limitKey(provider: string, baseUrl: string, model: string): string {
  return `${provider}|${baseUrl.replace(/\/+$/, "")}|${model}`;
}

export function jobModel(store: Store, settings: ModelInput, defaults: WorkerModelDefaults = {}, onError?: (e: unknown) => void): Model {
  const env = { ...(defaults.env ?? process.env) };
  const envBase = env.RLXF_BASE_URL ? normalizeOpenAIBaseUrl(env.RLXF_BASE_URL) : undefined;
  if (settings.baseUrl !== undefined && normalizeOpenAIBaseUrl(settings.baseUrl) !== envBase) {
    delete env.RLXF_API_KEY;
    delete env.OPENAI_API_KEY;
    delete env.ANTHROPIC_API_KEY;
  }
  const rpm = min(settings.rpm, defaults.rpm);
  const tpm = min(settings.tpm, defaults.tpm);
  const r = resolveModelSettings({ ...(settings.provider ? { provider: settings.provider } : {}), ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}), ...(settings.model ? { model: settings.model } : {}) }, env);
  const key = limitKey(r.provider, r.provider === "openai" ? normalizeOpenAIBaseUrl(r.baseUrl) : r.baseUrl, r.model);
  const limiter = new StoreLimiter(store.rateLimits, key, { ...(rpm ? { rpm } : {}), ...(tpm ? { tpm } : {}) }, onError ? { onError } : {});
  const cache = settings.cache === false ? undefined : new StoreResponseCache(store.responseCache);
  return createModel(
    {
      ...(settings.provider ? { provider: settings.provider } : {}),
      ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
      ...(settings.model ? { model: settings.model } : {}),
      ...(settings.concurrency ? { concurrency: settings.concurrency } : {}),
      ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}),
      ...(settings.maxRetries !== undefined ? { maxRetries: settings.maxRetries } : {}),
    },
    { env, limiter, ...(cache ? { cache } : {}) },
  );
}
