/**
 * Concurrency and rate limits, and the backoff schedule. Time comes from an
 * injectable `Clock`, so tests can run them on virtual time.
 */
import { ArgumentError } from "../errors.js";

export interface Clock {
  /** Milliseconds (any origin; only differences matter). */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve()),
};

/**
 * A clock whose `sleep` advances virtual time at once, for tests: everything
 * that waits finishes immediately, and `now()` says how long it would have taken.
 */
export function virtualClock(start = 0): Clock & { slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      if (ms > 0) {
        slept.push(ms);
        t += ms;
      }
      await Promise.resolve();
    },
  };
}

/** At most `limit` holders at once; waiters are served first come, first served. */
export class Semaphore {
  readonly limit: number;
  #active = 0;
  readonly #queue: Array<() => void> = [];
  constructor(limit: number) {
    if (!(limit >= 1) || !Number.isFinite(limit)) throw new ArgumentError("concurrency", `concurrency must be a positive integer, got ${limit}`);
    this.limit = Math.floor(limit);
  }
  get active(): number {
    return this.#active;
  }
  get waiting(): number {
    return this.#queue.length;
  }
  /** Resolves with a release function once a slot is free. */
  async acquire(): Promise<() => void> {
    if (this.#active < this.limit) {
      this.#active++;
    } else {
      await new Promise<void>((r) => this.#queue.push(r));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next) next();
      else this.#active--;
    };
  }
}

/**
 * A token bucket holding up to `burst` units, refilled at `perMinute / 60 000`
 * units per millisecond. `acquire(n)` waits (first come, first served) until `n`
 * units are there and takes them; a request larger than the bucket waits for a
 * full bucket and leaves it in debt, so the long-run rate still holds.
 * `adjust(d)` corrects an estimate after the fact (e.g. actual tokens used).
 */
export class RateLimiter {
  readonly perMinute: number;
  readonly burst: number;
  readonly #clock: Clock;
  readonly #rate: number;
  #tokens: number;
  #last: number;
  #tail: Promise<void> = Promise.resolve();

  constructor(perMinute: number, opts: { burst?: number; clock?: Clock } = {}) {
    if (!(perMinute > 0) || !Number.isFinite(perMinute)) throw new ArgumentError("perMinute", `a rate limit must be a positive number per minute, got ${perMinute}`);
    this.perMinute = perMinute;
    // Default burst: one second's worth (at least 1), so a fresh limiter does not fire a minute's quota at once.
    this.burst = opts.burst ?? Math.max(1, perMinute / 60);
    this.#clock = opts.clock ?? systemClock;
    this.#rate = perMinute / 60_000;
    this.#tokens = this.burst;
    this.#last = this.#clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#last) * this.#rate);
    this.#last = now;
  }

  /** Units available now (negative while in debt). */
  get available(): number {
    this.#refill();
    return this.#tokens;
  }

  acquire(n = 1): Promise<void> {
    const run = this.#tail.then(async () => {
      const need = Math.min(n, this.burst);
      for (;;) {
        this.#refill();
        if (this.#tokens >= need - 1e-9) {
          this.#tokens -= n;
          return;
        }
        await this.#clock.sleep(Math.ceil((need - this.#tokens) / this.#rate));
      }
    });
    this.#tail = run.catch(() => {});
    return run;
  }

  adjust(delta: number): void {
    this.#refill();
    this.#tokens = Math.min(this.burst, this.#tokens - delta);
  }
}

/**
 * Limits kept outside this process (e.g. a token bucket in the database that every worker of a deployment
 * takes from). A model given one uses it instead of its own requests- and tokens-per-minute limiters.
 */
export interface SharedLimiter {
  /** Wait until a request estimated at `tokens` tokens may go out. */
  acquire(tokens: number): Promise<void>;
  /** The request used `delta` more tokens than estimated (negative: fewer, or none when it failed). */
  adjust(delta: number): void;
  /** Hold every request back for `ms` (a server's Retry-After). */
  pause(ms: number): void;
}

export interface BackoffOptions {
  /** First delay (ms); default 500. */
  initialMs?: number;
  /** Cap (ms); default 30 000. */
  maxMs?: number;
  /** Growth per attempt; default 2. */
  factor?: number;
}

/**
 * Delay before retry number `attempt` (0-based): exponential growth capped at
 * `maxMs`, with "equal jitter": half fixed, half uniform, so retries that
 * failed together spread out but never retry at once.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = opts.initialMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const factor = opts.factor ?? 2;
  const d = Math.min(max, initial * factor ** attempt);
  return d / 2 + random() * (d / 2);
}
