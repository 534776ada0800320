/**
 * Provider limits shared by every worker of a deployment: requests- and tokens-per-minute token buckets kept in
 * the store (`rate_limits`), taken atomically on the database's clock, and pauses that a provider's
 * `Retry-After` sets for everyone (verl's `rate_limited` reward manager and Langfuse's retry handler do the same
 * within one process; here the bucket is a row, so the limit holds across processes and machines).
 *
 * Within a process, requests queue for the bucket one at a time (first come, first served), so the database
 * sees one contender per process rather than one per request in flight.
 */
import type { SharedLimiter } from "../providers/index.js";
import type { RateLimitStore } from "../store/index.js";

export interface SharedLimits {
  /** Requests per minute (across every process using the same key). */
  rpm?: number;
  /** Tokens (input + output) per minute. */
  tpm?: number;
}

/** Without rate limits, how often a process asks whether another one paused the provider. */
const PAUSE_CHECK_MS = 250;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Burst of a bucket: half a second's worth (at least one unit). Small enough that any window of T seconds
 * sees at most rate·T + burst requests (for 600 rpm: 5 over the cap in any window), large enough that a
 * worker waking a little late loses no capacity.
 */
export function burstOf(perMinute: number): number {
  return Math.max(1, perMinute / 120);
}

export class StoreLimiter implements SharedLimiter {
  readonly #store: RateLimitStore;
  readonly #key: string;
  readonly #limits: SharedLimits;
  #tail: Promise<void> = Promise.resolve();
  /** Known pause end (local clock), so requests of this process do not ask the database while it lasts. */
  #pausedUntil = 0;
  /** Without limits, only pauses matter: looked up at most this often. */
  #pauseCheckedAt = 0;
  readonly #onError: (e: unknown) => void;

  /** `key` names the provider endpoint (every process limiting the same endpoint must use the same key). */
  constructor(store: RateLimitStore, key: string, limits: SharedLimits, opts: { onError?: (e: unknown) => void } = {}) {
    this.#store = store;
    this.#key = key;
    this.#limits = limits;
    this.#onError = opts.onError ?? (() => {});
  }

  get key(): string {
    return this.#key;
  }

  acquire(tokens: number): Promise<void> {
    const run = this.#tail.then(() => this.#take(tokens));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #take(tokens: number): Promise<void> {
    const { rpm, tpm } = this.#limits;
    for (;;) {
      const pause = this.#pausedUntil - Date.now();
      if (pause > 0) await sleep(pause);
      let wait = 0;
      if (rpm) wait = await this.#store.take(`rpm:${this.#key}`, 1, rpm, burstOf(rpm));
      else if (!tpm && Date.now() - this.#pauseCheckedAt > PAUSE_CHECK_MS) {
        wait = await this.#store.pausedFor(`rpm:${this.#key}`);
        this.#pauseCheckedAt = Date.now();
        if (wait > 0) this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + wait);
      }
      if (wait === 0 && tpm) {
        const tWait = await this.#store.take(`tpm:${this.#key}`, tokens, tpm, Math.max(burstOf(tpm), tokens));
        if (tWait > 0) {
          // Give the request back: it goes when both buckets have room.
          if (rpm) await this.#store.adjust(`rpm:${this.#key}`, -1, rpm, burstOf(rpm));
          wait = tWait;
        }
      }
      if (wait === 0) return;
      await sleep(Math.min(wait, 5_000));
    }
  }

  adjust(delta: number): void {
    const tpm = this.#limits.tpm;
    if (!tpm || delta === 0) return;
    this.#store.adjust(`tpm:${this.#key}`, delta, tpm, burstOf(tpm)).catch(this.#onError);
  }

  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + ms);
    // Both buckets carry the pause, so every process sees it whichever limit it has.
    this.#store.pause(`rpm:${this.#key}`, ms).catch(this.#onError);
    if (this.#limits.tpm) this.#store.pause(`tpm:${this.#key}`, ms).catch(this.#onError);
  }
}
