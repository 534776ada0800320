/** The rlxf HTTP API as the web app uses it: the key, errors, and retried submissions. */

import type { ApiKey, ErrorBody, FieldIssue } from "../../src/api/index.js";

export type { FieldIssue, Role } from "../../src/api/index.js";
/** The key the app runs with, as `GET /v1/me` returns it. */
export type Me = ApiKey;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

/** A request that never reached an answer (offline, connection reset, server gone). */
export class NetworkError extends Error {}

const KEY_STORAGE = "rlxf.key";

export function storedKey(): string | null {
  try {
    return localStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    /* private mode: the key lives for this page only */
  }
}

let currentKey: string | null = storedKey();
export function setKey(key: string | null): void {
  currentKey = key;
  storeKey(key);
}
export function getKey(): string | null {
  return currentKey;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  key?: string;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const key = opts.key ?? currentKey;
  if (key) headers.Authorization = `Bearer ${key}`;
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? (opts.body !== undefined ? "POST" : "GET"),
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new NetworkError("the server could not be reached");
  }
  if (res.status === 204) return undefined as T;
  let data: unknown;
  try {
    data = await res.json();
  } catch (e) {
    if (res.ok) throw new NetworkError("the answer was cut off");
    throw new ApiError(res.status, "http_error", `${res.status} ${res.statusText}`);
  }
  if (!res.ok) {
    const err: Partial<ErrorBody["error"]> = (data as Partial<ErrorBody>).error ?? {};
    throw new ApiError(res.status, err.code ?? "http_error", err.message ?? `${res.status} ${res.statusText}`, err.issues ?? []);
  }
  return data as T;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends a request that is safe to repeat (it carries its own idempotency id) until it gets an
 * answer: network failures, 429 and 5xx are retried with backoff; other errors are final.
 */
export async function requestWithRetry<T>(
  path: string,
  opts: RequestOptions,
  onRetry?: (attempt: number, error: Error) => void,
  maxAttempts = 8,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request<T>(path, opts);
    } catch (e) {
      const retriable = e instanceof NetworkError || (e instanceof ApiError && (e.status === 429 || e.status >= 500));
      if (!retriable || attempt >= maxAttempts) throw e;
      onRetry?.(attempt, e as Error);
      await sleep(Math.min(250 * 2 ** (attempt - 1), 4000));
    }
  }
}

export function newId(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export const enc = encodeURIComponent;

export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    const fields = e.issues.length ? ` (${e.issues.map((i) => `${i.path}: ${i.message}`).join("; ")})` : "";
    return e.issues.length && e.message.includes(e.issues[0]!.message) ? e.message : e.message + fields;
  }
  return (e as Error)?.message ?? String(e);
}
