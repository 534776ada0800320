import { RlxfError } from "../errors.js";

export type ProviderErrorKind = "http" | "timeout" | "network" | "protocol" | "config" | "unsupported";

/**
 * A model call that failed. `retryable` says whether trying again may help
 * (429, 5xx, timeouts, dropped connections, garbled bodies); `retryAfterMs` is
 * the server's own `Retry-After`, when it sent one.
 */
export class ProviderError extends RlxfError {
  readonly kind: ProviderErrorKind;
  readonly status?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  /** HTTP attempts made before giving up (set by `Model`). */
  attempts: number;
  constructor(
    kind: ProviderErrorKind,
    message: string,
    opts: { status?: number; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(`provider_${kind}`, message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "ProviderError";
    this.kind = kind;
    this.status = opts.status;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
    this.attempts = 0;
  }
}

/** Statuses worth retrying: request timeout, too early, rate limited, server errors (incl. Anthropic's 529 overloaded). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
