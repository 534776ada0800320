/**
 * What one request may make the server do, and how fast a key or a project may ask: one settings object
 * (`Limits`) that every route reads, with safe defaults that an operator raises or lowers
 * (`rlxf serve --limits`, `RLXF_LIMITS`, `createApp({limits})`). A request may ask for less than a ceiling,
 * never more:
 *
 * - a request parameter over a ceiling (bootstrap rounds, samples per reward request) is a 400 naming the
 *   parameter and the ceiling (`validation_failed`);
 * - a body or a write batch over its ceiling is a 413 (`payload_too_large`, `batch_too_large`);
 * - work found over a ceiling before it starts (feedback rows a leaderboard would load, records an export
 *   would write) is a 400 `over_ceiling` naming the ceiling;
 * - asking faster than the rate limit, or holding too many exports at once, is a 429 `rate_limited` with
 *   `Retry-After`.
 *
 * Rate limits are token buckets per key and per project, in units of work: a plain request costs 1, and
 * work weighs more (records written, rows of a page or an export, reward samples, bootstrap rounds, queue
 * tasks). A request takes its known cost from both buckets up front, or waits (429); work only known once done
 * (rows an export wrote) is charged afterwards, which may leave a bucket in debt for at most one burst.
 * The buckets live in this process (`MemoryRateLimiter`): replicas each enforce their own unless they share a
 * `RateLimiter` backed by a shared store.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { RlxfError, ValidationError, issuesFromZod } from "../errors.js";
import { ApiError } from "./errors.js";
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES } from "../api/index.js";

const count = (what: string) => z.number().int("must be an integer").positive("must be positive").describe(what);
/** A rate in units per second; Infinity (`off` in a file or a flag) turns that bucket off. */
const rate = (what: string) =>
  z
    .custom<number>((v) => v === Infinity || (typeof v === "number" && Number.isFinite(v) && v > 0), "must be a positive number (or off)")
    .describe(what);
const cost = (what: string) => z.number().min(0, "must be 0 or more").refine(Number.isFinite, "must be a finite number").describe(what);

/** The server's ceilings and rate limits; every field has a default (`DEFAULT_LIMITS`). */
export const LimitsSchema = z.strictObject({
  maxBodyBytes: count("largest request body, in bytes (413 beyond)"),
  maxBatch: count("records in one write batch, item ids in one assignment request (413 beyond)"),
  rewardSamples: count("samples in one reward request (POST /v1/reward, /v1/reward/openrlhf)"),
  bootstrapRounds: count("bootstrap rounds of a Bradley-Terry leaderboard (the bootstrap parameter)"),
  analysisRows: count("feedback records one leaderboard, distribution or queue statistics request loads"),
  queueTasks: count("tasks of one queue (what its selection makes)"),
  exportRows: count("records one export writes (items, generations and feedback together)"),
  jobsPerKey: count("background jobs (any kind) one key has queued or running at once"),
  exportsPerKey: count("background exports one key runs at once"),
  exportsPerProject: count("background exports one project runs at once"),
  exportFiles: count("finished export files kept per project (the oldest go first)"),
  exportRetentionSeconds: count("how long a finished export's file is kept"),
  rulesPerProject: count("rules (judges on live traffic) one project may hold"),
  ruleMaxPerHour: count("evaluations per hour one rule may ask for (and what a rule that names none gets, up to 1000)"),
  keyRate: rate("units of work per second each key's bucket refills"),
  keyBurst: count("units of work each key's bucket holds"),
  projectRate: rate("units of work per second each project's bucket refills (all its keys together)"),
  projectBurst: count("units of work each project's bucket holds"),
  costRecord: cost("units per record written (items, generations, feedback)"),
  costRow: cost("units per record read: of a page (its limit), of an export, of a leaderboard or distribution"),
  costSample: cost("units per reward sample"),
  costRound: cost("units per bootstrap round"),
  costTask: cost("units per task of a new queue"),
  costExport: cost("units to start an export (its rows are charged as it finishes)"),
  costAnalysis: cost("units of a leaderboard, distribution or queue statistics request (its rows on top)"),
});
export type Limits = z.infer<typeof LimitsSchema>;

/** Safe for a key shipped inside an app: a plain request costs 1 unit. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  maxBatch: DEFAULT_MAX_BATCH,
  rewardSamples: 1024,
  bootstrapRounds: 2000,
  analysisRows: 200_000,
  queueTasks: 100_000,
  exportRows: 1_000_000,
  jobsPerKey: 8,
  exportsPerKey: 2,
  exportsPerProject: 4,
  exportFiles: 10,
  exportRetentionSeconds: 3600,
  rulesPerProject: 100,
  ruleMaxPerHour: 10_000,
  keyRate: 100,
  keyBurst: 2000,
  projectRate: 400,
  projectBurst: 8000,
  costRecord: 0.01,
  costRow: 0.01,
  costSample: 0.1,
  costRound: 0.05,
  costTask: 0.01,
  costExport: 50,
  costAnalysis: 10,
});

export const LIMIT_NAMES = Object.keys(LimitsSchema.shape) as (keyof Limits)[];

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** Limits with `overrides` applied, checked: a 400-style error naming each bad field otherwise. */
export function resolveLimits(overrides: Partial<Limits> = {}, what = "limits"): Limits {
  const r = LimitsSchema.safeParse({ ...DEFAULT_LIMITS, ...overrides });
  if (!r.success) throw new ValidationError(issuesFromZod(r.error, { eachUnknownKey: true }), undefined, what);
  return r.data;
}

/**
 * Limits from `--limits` / `RLXF_LIMITS`: `name=value,...` (bytes may carry K, M or G; a rate may be `off`),
 * or the path of a JSON file holding such an object.
 */
export function parseLimits(text: string, what = "--limits"): Partial<Limits> {
  const t = text.trim();
  if (t !== "" && !t.includes("=")) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(t, "utf8"));
    } catch (e) {
      throw new RlxfError("invalid_file", `${what}: cannot read "${t}" as a JSON object of limits (or give name=value,...): ${(e as Error).message}`, { field: what });
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new RlxfError("invalid_file", `${what}: "${t}" must hold a JSON object of limits`, { field: what });
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) out[k] = v === "off" || v === null ? Infinity : v;
    const r = LimitsSchema.partial().safeParse(out);
    if (!r.success) throw new ValidationError(issuesFromZod(r.error, { eachUnknownKey: true }), undefined, what);
    return r.data;
  }
  const out: Partial<Record<keyof Limits, number>> = {};
  for (const part of t.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z]+)\s*=\s*(?:(off)|(\d+(?:\.\d+)?)\s*([A-Za-z]*))$/.exec(part);
    const key = m?.[1] as keyof Limits | undefined;
    if (!m || !key || !LIMIT_NAMES.includes(key)) {
      throw new ValidationError([{ path: m?.[1] ?? part, message: `expected name=number with a name among ${LIMIT_NAMES.join(", ")}` }], undefined, what);
    }
    if (m[2]) {
      if (!key.endsWith("Rate")) throw new ValidationError([{ path: key, message: "only a rate (keyRate, projectRate) may be off" }], undefined, what);
      out[key] = Infinity;
      continue;
    }
    const unit = m[4]!.toLowerCase();
    const scale = key.endsWith("Bytes") ? BYTE_UNITS[unit] : unit === "" ? 1 : undefined;
    if (scale === undefined) throw new ValidationError([{ path: key, message: `unknown unit "${m[4]}"${key.endsWith("Bytes") ? " (use K, M or G)" : ""}` }], undefined, what);
    out[key] = Number(m[3]) * scale;
  }
  const r = LimitsSchema.partial().safeParse(out);
  if (!r.success) throw new ValidationError(issuesFromZod(r.error, { eachUnknownKey: true }), undefined, what);
  return r.data;
}

// ------------------------------------------------------------- ceilings ---

/** `value` of request field `field`, refused (400 naming the field and the ceiling) when over `ceiling`. */
export function withinCeiling(value: number, ceiling: number, field: string, name: keyof Limits): number {
  if (value > ceiling) {
    const message = `must be at most ${ceiling} (the server's ceiling ${name})`;
    throw new ApiError("validation_failed", `invalid query or body: ${field}: ${message}`, { issues: [{ path: field, message }] });
  }
  return value;
}

/** Work found over a ceiling before it starts: a 400 `over_ceiling` naming the ceiling and how to get under it. */
export function overCeiling(name: keyof Limits, ceiling: number, what: string, fix: string): ApiError {
  return new ApiError("over_ceiling", `${what}, more than the server's ceiling ${name} (${ceiling}); ${fix}`, {
    issues: [{ path: name, message: `over the server's ceiling of ${ceiling}` }],
  });
}

// ---------------------------------------------------------- rate limits ---

/** One token bucket: `rate` units per second up to `burst` (a rate of Infinity: no limit). */
export interface Bucket {
  id: string;
  rate: number;
  burst: number;
}

export type Taken = { ok: true } | { ok: false; retryAfterMs: number; bucket: string };

/**
 * Token buckets shared by the requests of a server. The in-process one (`MemoryRateLimiter`) is exact for one
 * server; replicas each keep their own unless given one implementation backed by a shared store.
 */
export interface RateLimiter {
  /** Takes `cost` from every bucket, or from none; then says how long until all of them could pay it. */
  take(buckets: readonly Bucket[], cost: number): Promise<Taken>;
  /** Charges work found afterwards; a bucket may go into debt, at most one burst deep. */
  debit(buckets: readonly Bucket[], cost: number): Promise<void>;
}

interface State {
  tokens: number;
  at: number;
}

/** Token buckets in this process's memory. `now` is the clock (milliseconds), for tests. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #state = new Map<string, State>();
  readonly #now: () => number;
  readonly #maxBuckets: number;

  constructor(opts: { now?: () => number; maxBuckets?: number } = {}) {
    this.#now = opts.now ?? (() => performance.timeOrigin + performance.now());
    this.#maxBuckets = opts.maxBuckets ?? 100_000;
  }

  #refill(b: Bucket, now: number): State {
    let s = this.#state.get(b.id);
    if (!s) {
      s = { tokens: b.burst, at: now };
      if (this.#state.size >= this.#maxBuckets) this.#evict(now);
      this.#state.set(b.id, s);
    } else {
      s.tokens = Math.min(b.burst, s.tokens + (Math.max(0, now - s.at) / 1000) * b.rate);
      s.at = now;
    }
    return s;
  }

  /** Forget buckets that have been idle long enough to be full again (they would start full anyway). */
  #evict(now: number): void {
    for (const [id, s] of this.#state) if (now - s.at > 3_600_000) this.#state.delete(id);
    if (this.#state.size >= this.#maxBuckets) this.#state.delete(this.#state.keys().next().value!);
  }

  take(buckets: readonly Bucket[], cost: number): Promise<Taken> {
    const now = this.#now();
    const live = buckets.filter((b) => Number.isFinite(b.rate));
    let wait = 0;
    let worst = "";
    const states = live.map((b) => {
      const s = this.#refill(b, now);
      // A request that costs more than a whole burst needs a full bucket (else it could never pass); the unit
      // that every request costs was taken just before its work is charged, so a full bucket is burst - 1.
      const need = Math.min(cost, Math.max(1, b.burst - 1));
      if (s.tokens < need) {
        const ms = ((need - s.tokens) / b.rate) * 1000;
        if (ms > wait) {
          wait = ms;
          worst = b.id;
        }
      }
      return { b, s, need };
    });
    if (wait > 0) return Promise.resolve({ ok: false, retryAfterMs: wait, bucket: worst });
    for (const { s, need } of states) s.tokens -= need;
    return Promise.resolve({ ok: true });
  }

  debit(buckets: readonly Bucket[], cost: number): Promise<void> {
    const now = this.#now();
    for (const b of buckets) {
      if (!Number.isFinite(b.rate)) continue;
      const s = this.#refill(b, now);
      s.tokens = Math.max(-b.burst, s.tokens - cost);
    }
    return Promise.resolve();
  }
}

/** The buckets a request of this key draws from: its own and its project's. */
export function bucketsOf(limits: Limits, key: { id: string; project: string }): Bucket[] {
  return [
    { id: `key\u0000${key.id}`, rate: limits.keyRate, burst: limits.keyBurst },
    { id: `project\u0000${key.project}`, rate: limits.projectRate, burst: limits.projectBurst },
  ];
}

/** Takes `cost` units for `key`, or refuses with a 429 whose Retry-After says when to come back. */
export async function spend(limiter: RateLimiter, limits: Limits, key: { id: string; name: string; project: string }, cost: number, what: string): Promise<void> {
  if (!(cost > 0)) return;
  const r = await limiter.take(bucketsOf(limits, key), cost);
  if (r.ok) return;
  const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
  const mine = r.bucket.startsWith("key\u0000");
  const [rateName, burstName] = mine ? ["keyRate", "keyBurst"] : ["projectRate", "projectBurst"];
  const who = mine ? `key "${key.name}"` : `project "${key.project}"`;
  throw new ApiError(
    "rate_limited",
    `${who} is over its rate limit: ${what} costs ${round(cost)} units of work and the bucket refills ` +
      `${mine ? limits.keyRate : limits.projectRate} units a second up to ${mine ? limits.keyBurst : limits.projectBurst} ` +
      `(the server's ${rateName} and ${burstName}); retry after ${seconds} s`,
    { headers: { "Retry-After": String(seconds) } },
  );
}

const round = (x: number) => Math.round(x * 100) / 100;
