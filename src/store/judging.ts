/**
 * Records kept for AI feedback (src/providers, src/sources):
 *
 * - the **response cache** of model providers (table `provider_cache`): a
 *   response body under the hash of its full request, so re-running a judge
 *   costs nothing and gives the same answers;
 * - **judgement failures** (table `judgement_failures`): a judge or critic
 *   whose answer could not be parsed (after its retries), or whose model call
 *   failed, produced no feedback. Rather than drop it or invent a default
 *   label, the failure is kept with the raw text of every attempt, so that
 *   failure rates are reported and failed examples can be re-run or inspected.
 */
import type { Kysely } from "kysely";
import { z } from "zod";
import { ValidationError, issuesFromZod } from "../errors.js";
import { DEFAULT_PROJECT, FEEDBACK_KINDS, Id, Metadata, SourceType, Timestamp } from "../feedback/schema.js";
import { badKeyString, chunks, decodeCursor, encodeCursor, isoOf, num } from "./codec.js";
import type { Database } from "./tables.js";
import type { IterateOptions, Page, PageOptions } from "./types.js";

// ---------------------------------------------------------------- cache ---

export interface CachedResponse {
  /** Hash of the full request (see `cacheKey` in rlxf/providers). */
  key: string;
  /** The model the request named. */
  model: string;
  /** The response body, exactly as the server sent it. */
  body: string;
  /** When it was cached (ISO-8601); set by the store. */
  createdAt?: string;
}

export interface ResponseCacheStore {
  /** The cached responses among `keys` (absent keys are not in the map). */
  get(keys: readonly string[]): Promise<Map<string, CachedResponse>>;
  /** Cache responses; a key already cached keeps its first response. Returns how many were new. */
  put(entries: readonly CachedResponse[]): Promise<number>;
  /** Drop cached responses (of one model when given); returns how many. */
  clear(filter?: { model?: string }): Promise<number>;
  count(filter?: { model?: string }): Promise<number>;
}

// ------------------------------------------------------------- failures ---

export const FAILURE_REASONS = ["unparseable", "provider_error", "invalid"] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * A judgement that produced no feedback. `reason`: `unparseable` (no attempt's
 * answer could be parsed), `provider_error` (the model call failed for good),
 * `invalid` (the answer parsed but made no valid feedback).
 */
export const JudgementFailure = z.strictObject({
  id: Id,
  project: Id.default(DEFAULT_PROJECT),
  /** The source id the feedback would have had (the judge). */
  judge: Id,
  sourceType: SourceType,
  /** The feedback kind it would have produced. */
  kind: z.enum(FEEDBACK_KINDS),
  itemId: Id.optional(),
  /** The generations judged, in the order given. */
  targets: z.array(Id),
  reason: z.enum(FAILURE_REASONS),
  /** What went wrong, for a person. */
  error: z.string(),
  /** The raw model answer of every attempt, in order (empty when no answer came). */
  raw: z.array(z.string()),
  /** Model calls made. */
  attempts: z.number().int().min(0),
  metadata: Metadata.optional(),
  createdAt: Timestamp.optional(),
});
export type JudgementFailure = z.infer<typeof JudgementFailure>;
export type JudgementFailureInput = z.input<typeof JudgementFailure>;

export interface JudgementFailureFilter {
  /** Default "default". */
  project?: string;
  judge?: string;
  itemId?: string;
  reason?: FailureReason;
}

export interface JudgementFailureStore {
  /** Validate and store failures (idempotent by id: an id already stored is counted as existing). */
  write(failures: readonly unknown[]): Promise<{ inserted: number; existing: number }>;
  list(filter?: JudgementFailureFilter & PageOptions): Promise<Page<JudgementFailure>>;
  iterate(filter?: JudgementFailureFilter & IterateOptions): AsyncIterable<JudgementFailure>;
  /** Failures per judge. */
  countByJudge(project?: string): Promise<Map<string, number>>;
}

// ------------------------------------------------------------ implementation ---

type InTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

const IN_CHUNK = 500;
const MAX_LIMIT = 10_000;

export function responseCacheStore(db: () => Kysely<Database>, inTransaction: InTransaction): ResponseCacheStore {
  return {
    async get(keys) {
      const out = new Map<string, CachedResponse>();
      for (const chunk of chunks([...new Set(keys)], IN_CHUNK)) {
        const rows = await db().selectFrom("provider_cache").selectAll().where("key", "in", chunk).execute();
        for (const r of rows) out.set(r.key, { key: r.key, model: r.model, body: r.body, createdAt: isoOf(r.created_at) });
      }
      return out;
    },
    async put(entries) {
      if (entries.length === 0) return 0;
      const now = Date.now();
      const unique = new Map<string, CachedResponse>();
      for (const e of entries) {
        if (typeof e.key !== "string" || !e.key || typeof e.body !== "string" || typeof e.model !== "string") {
          throw new ValidationError([{ path: "key", message: "a cached response needs a key, a model and a body" }], undefined, "cached response");
        }
        const bad = badKeyString(e.body) ?? badKeyString(e.model);
        if (bad) throw new ValidationError([{ path: "body", message: bad }], undefined, "cached response");
        if (!unique.has(e.key)) unique.set(e.key, e);
      }
      return inTransaction(async (d) => {
        let inserted = 0;
        for (const chunk of chunks([...unique.values()], IN_CHUNK)) {
          const have = new Set(
            (await d.selectFrom("provider_cache").select("key").where("key", "in", chunk.map((e) => e.key)).execute()).map((r) => r.key),
          );
          const fresh = chunk.filter((e) => !have.has(e.key));
          if (fresh.length === 0) continue;
          await d
            .insertInto("provider_cache")
            .values(fresh.map((e) => ({ key: e.key, model: e.model, body: e.body, created_at: now })))
            .execute();
          inserted += fresh.length;
        }
        return inserted;
      });
    },
    async clear(filter = {}) {
      return inTransaction(async (d) => {
        let q = d.deleteFrom("provider_cache");
        if (filter.model !== undefined) q = q.where("model", "=", filter.model);
        const r = await q.executeTakeFirst();
        return Number(r.numDeletedRows);
      });
    },
    async count(filter = {}) {
      let q = db().selectFrom("provider_cache").select((eb) => eb.fn.countAll<number | string>().as("n"));
      if (filter.model !== undefined) q = q.where("model", "=", filter.model);
      return num((await q.executeTakeFirstOrThrow()).n);
    },
  };
}

type FailureRow = { project: string; id: string; body: string; created_at: number | string; recorded_at: number | string };

function failureFromRow(r: FailureRow): JudgementFailure {
  return { id: r.id, project: r.project, ...JSON.parse(r.body), createdAt: isoOf(r.created_at) } as JudgementFailure;
}

function parseFailure(input: unknown, index: number): JudgementFailure {
  const r = JudgementFailure.safeParse(input);
  if (!r.success) throw new ValidationError(issuesFromZod(r.error), `failures[${index}]`, "judgement failure");
  const f = r.data;
  const issues: { path: string; message: string }[] = [];
  for (const [path, v] of [["project", f.project], ["id", f.id], ["judge", f.judge], ["itemId", f.itemId]] as const) {
    const bad = v === undefined ? undefined : badKeyString(v);
    if (bad) issues.push({ path, message: bad });
  }
  if (issues.length) throw new ValidationError(issues, `failures[${index}]`, "judgement failure");
  return f;
}

function limitOf(limit: number | undefined, path: string, dflt: number): number {
  if (limit === undefined) return dflt;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ValidationError([{ path, message: `must be an integer from 1 to ${MAX_LIMIT}` }], undefined, "filter");
  }
  return limit;
}

export function judgementFailureStore(db: () => Kysely<Database>, inTransaction: InTransaction): JudgementFailureStore {
  const rows = (f: JudgementFailureFilter, limit: number, after?: { recordedAt: number; id: string }) => {
    let q = db()
      .selectFrom("judgement_failures")
      .select(["project", "id", "body", "created_at", "recorded_at"])
      .where("project", "=", f.project ?? DEFAULT_PROJECT);
    if (f.judge !== undefined) q = q.where("judge", "=", f.judge);
    if (f.itemId !== undefined) q = q.where("item_id", "=", f.itemId);
    if (f.reason !== undefined) q = q.where("reason", "=", f.reason);
    if (after) q = q.where((eb) => eb(eb.refTuple("recorded_at", "id"), ">", eb.tuple(after.recordedAt, after.id)));
    return q.orderBy("recorded_at").orderBy("id").limit(limit).execute() as Promise<FailureRow[]>;
  };
  return {
    async write(input) {
      const failures = input.map(parseFailure);
      const now = Date.now();
      const unique = new Map<string, JudgementFailure>();
      for (const f of failures) unique.set(`${f.project}\u0000${f.id}`, f);
      return inTransaction(async (d) => {
        let inserted = 0;
        for (const chunk of chunks([...unique.values()], IN_CHUNK)) {
          const byProject = new Map<string, JudgementFailure[]>();
          for (const f of chunk) byProject.set(f.project, [...(byProject.get(f.project) ?? []), f]);
          for (const [project, fs] of byProject) {
            const have = new Set(
              (
                await d
                  .selectFrom("judgement_failures")
                  .select("id")
                  .where("project", "=", project)
                  .where("id", "in", fs.map((f) => f.id))
                  .execute()
              ).map((r) => r.id),
            );
            const fresh = fs.filter((f) => !have.has(f.id));
            if (fresh.length === 0) continue;
            await d
              .insertInto("judgement_failures")
              .values(
                fresh.map((f) => {
                  const { id, project: p, createdAt, ...body } = f;
                  return {
                    project: p,
                    id,
                    judge: f.judge,
                    kind: f.kind,
                    item_id: f.itemId ?? null,
                    reason: f.reason,
                    body: JSON.stringify(body),
                    created_at: createdAt ? Date.parse(createdAt) : now,
                    recorded_at: now,
                  };
                }),
              )
              .execute();
            inserted += fresh.length;
          }
        }
        return { inserted, existing: failures.length - inserted };
      });
    },
    async list(filter = {}) {
      const limit = limitOf(filter.limit, "limit", 100);
      const after = filter.cursor !== undefined ? decodeCursor(filter.cursor) : undefined;
      const got = await rows(filter, limit + 1, after);
      const page = got.slice(0, limit);
      const out: Page<JudgementFailure> = { records: page.map(failureFromRow) };
      const last = page[page.length - 1];
      if (got.length > limit && last) out.nextCursor = encodeCursor({ recordedAt: num(last.recorded_at), id: last.id });
      return out;
    },
    async *iterate(filter = {}) {
      const size = limitOf(filter.pageSize, "pageSize", 500);
      let after: { recordedAt: number; id: string } | undefined;
      for (;;) {
        const got = await rows(filter, size, after);
        yield* got.map(failureFromRow);
        const last = got[got.length - 1];
        if (got.length < size || !last) return;
        after = { recordedAt: num(last.recorded_at), id: last.id };
      }
    },
    async countByJudge(project) {
      const got = await db()
        .selectFrom("judgement_failures")
        .select((eb) => ["judge", eb.fn.countAll<number | string>().as("n")])
        .where("project", "=", project ?? DEFAULT_PROJECT)
        .groupBy("judge")
        .execute();
      return new Map(got.map((r) => [r.judge, num(r.n)]));
    },
  };
}
