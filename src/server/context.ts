/**
 * What every handler shares: the Hono environment (the authenticated key),
 * the app's settings, role checks, and query/path parsing.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { Id } from "../feedback/schema.js";
import type { Jobs } from "../jobs/index.js";
import type { ChatModel } from "../providers/index.js";
import { type Action, PERMISSIONS, type Role } from "../roles.js";
import type { ApiKey, Store } from "../store/index.js";
import { badKeyString } from "../store/index.js";
import type { WriteCoalescer } from "./coalesce.js";
import type { ComputePool } from "./compute.js";
import { ApiError, forbidden, zodIssues } from "./errors.js";
import { type Limits, type RateLimiter, bucketsOf, spend } from "./limits.js";
import { REPEATABLE } from "../api/index.js";

export interface Env {
  Variables: { key: ApiKey };
}

export type Ctx = Context<Env>;

export interface Settings {
  store: Store;
  coalescer: WriteCoalescer;
  maxBodyBytes: number;
  maxBatch: number;
  /** Ceilings and rate limits (src/server/limits.ts): what one request may make the server do, and how fast. */
  limits: Limits;
  /** The token buckets of the rate limits. */
  rateLimiter: RateLimiter;
  log: (line: string) => void;
  /** Model access for judges in reward specs (made on first use). */
  judgeModel?: () => ChatModel;
  /** Background jobs: submitted here, run by this process or by workers. */
  jobs: Jobs;
  /** Threads for the CPU-heavy work a request waits for (reward scoring, leaderboard fits). */
  compute: ComputePool;
}

/**
 * The request's key, which must hold a role that may do `action` (src/roles.ts). The form with roles and a
 * description is for checks the table does not name.
 */
export function requireRole(c: Ctx, action: Action): ApiKey;
export function requireRole(c: Ctx, roles: readonly Role[], what: string): ApiKey;
export function requireRole(c: Ctx, actionOrRoles: Action | readonly Role[], what?: string): ApiKey {
  const { roles, what: doing } = typeof actionOrRoles === "string" ? PERMISSIONS[actionOrRoles] : { roles: actionOrRoles, what: what ?? "do this" };
  const key = c.get("key");
  if (!(roles as readonly Role[]).includes(key.role)) {
    throw forbidden(`a key with role "${key.role}" cannot ${doing} (needs ${roles.join(" or ")})`);
  }
  return key;
}

/** Query parameters validated by `schema` (strict: unknown parameters are refused). */
export function parseQuery<S extends z.ZodType>(c: Ctx, schema: S): z.output<S> {
  // URLSearchParams, not a plain-object parse: a parameter named `__proto__` must stay a parameter.
  const all = new Map<string, string[]>();
  for (const [k, v] of new URL(c.req.url).searchParams) {
    const vs = all.get(k);
    if (vs) vs.push(v);
    else all.set(k, [v]);
  }
  const obj: Record<string, string> = Object.create(null);
  const issues = [];
  for (const [k, vs] of all) {
    if (REPEATABLE.has(k)) obj[k] = vs.join(",");
    else if (vs.length > 1) issues.push({ path: k, message: "is given more than once" });
    else obj[k] = vs[0] ?? "";
  }
  const r = schema.safeParse(obj);
  if (!r.success) issues.push(...zodIssues(r.error));
  if (issues.length || !r.success) {
    throw new ApiError("validation_failed", `invalid query: ${issues.map((i) => `${i.path || "(query)"}: ${i.message}`).join("; ")}`, { issues });
  }
  return r.data;
}

/** A record id from the path; malformed ids are a 400, never a lookup. */
export function idParam(c: Ctx, name = "id"): string {
  const raw = c.req.param(name) ?? "";
  const r = Id.safeParse(raw);
  const bad = r.success ? badKeyString(raw) : r.error.issues[0]?.message;
  if (bad) throw new ApiError("invalid_id", `invalid id in the path: ${bad}`, { issues: [{ path: name, message: bad }] });
  return raw;
}

/** Takes `units` of work from the key's and its project's rate-limit buckets, or refuses with a 429 (Retry-After). */
export async function charge(c: Ctx, s: Settings, units: number, what: string): Promise<void> {
  await spend(s.rateLimiter, s.limits, c.get("key"), units, what);
}

/** Charges work found once done (rows written, tasks made); the buckets may go into debt. */
export function chargeAfter(key: ApiKey, s: Settings, units: number): void {
  if (units > 0) s.rateLimiter.debit(bucketsOf(s.limits, key), units).catch((e) => s.log(`rate limiter: ${(e as Error).message}`));
}
