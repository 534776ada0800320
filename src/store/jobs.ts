/**
 * Durable jobs (tables `jobs`, `job_tasks`, `job_inputs`, `job_units`, `job_errors`, `job_files`) and
 * shared rate limits (table `rate_limits`): what the API shows about background work, and what makes its
 * results exactly-once.
 *
 * - A **job** has a kind, a project, its input, a state (queued, running, succeeded, failed, cancelled),
 *   progress (units done of total, and how many failed), a result, and the error of every failed attempt.
 * - A job is split into **tasks** (`job_tasks`): one for work that cannot be split, or one per chunk of
 *   units (`job_inputs` holds each chunk's inputs), so several workers share one job. A task is run by one
 *   worker at a time, which proves it is alive by a heartbeat; a task whose worker went silent is handed
 *   to another (`reap`). The queue engine (pg-boss on PostgreSQL; this table itself on SQLite) delivers
 *   tasks; the hooks below let it enqueue, complete or fail its own rows in the same transaction.
 * - A **unit** (`job_units`: one pair to judge, one sample to verify) is committed with the records it
 *   produced in one transaction, and only if no other attempt committed it first: a worker that dies after
 *   judging but before committing leaves nothing behind, and one that is presumed dead but finishes anyway
 *   writes nothing twice. Record ids are content hashes, so a repeated write is a no-op besides.
 * - **Files** of jobs (exports) are kept in the database in parts, so any server replica can serve them.
 * - **Rate limits** are token buckets in one row each, taken atomically on the database's clock, so
 *   requests- and tokens-per-minute limits hold across every worker of a deployment, and a provider's
 *   `Retry-After` pauses all of them.
 */
import { CompiledQuery, type Kysely, type Migration, sql } from "kysely";
import { ConflictError, RlxfError, ValidationError } from "../errors.js";
import { DEFAULT_PROJECT } from "../feedback/schema.js";
import { chunks, isoOf, num } from "./codec.js";
import { judgementFailureStore } from "./judging.js";
import type { Database, Engine } from "./tables.js";
import type { WriteBatch } from "./types.js";
import { RecordConflictError, writeBatch } from "./write.js";

type BigIntColumn = import("kysely").ColumnType<number | string, number, number>;
type NullableBigInt = import("kysely").ColumnType<number | string | null, number | null | undefined, number | null>;

export interface JobsTable {
  id: string;
  project: string;
  kind: string;
  state: string;
  input: string;
  units_total: NullableBigInt;
  units_done: BigIntColumn;
  units_failed: BigIntColumn;
  tasks_total: BigIntColumn;
  tasks_done: BigIntColumn;
  tasks_failed: BigIntColumn;
  max_attempts: number;
  note: string | null;
  result: string | null;
  error: string | null;
  cancel_requested: number;
  retries: number;
  created_by: string | null;
  created_at: BigIntColumn;
  started_at: NullableBigInt;
  finished_at: NullableBigInt;
  updated_at: BigIntColumn;
}

export interface JobTasksTable {
  job_id: string;
  seq: number;
  project: string;
  kind: string;
  /** `whole` (the job in one piece), `plan` (lists the units, then adds their tasks) or `units` (a chunk). */
  phase: string;
  state: string;
  attempts: number;
  run_after: BigIntColumn;
  worker: string | null;
  heartbeat_at: NullableBigInt;
  engine_id: string | null;
  error: string | null;
  created_at: BigIntColumn;
  updated_at: BigIntColumn;
}

export interface JobInputsTable {
  job_id: string;
  seq: number;
  first_unit: BigIntColumn;
  body: string;
}

export interface JobUnitsTable {
  job_id: string;
  unit: BigIntColumn;
  seq: number;
  failed: number;
  outcome: string | null;
  record_id: string | null;
  error: string | null;
  at: BigIntColumn;
}

export interface JobErrorsTable {
  job_id: string;
  seq: number;
  attempt: number;
  worker: string | null;
  error: string;
  at: BigIntColumn;
}

export interface JobFilesTable {
  job_id: string;
  part: number;
  data: Buffer;
}

export interface RateLimitsTable {
  key: string;
  tokens: number;
  updated_at: BigIntColumn;
  paused_until: BigIntColumn;
}

export const jobsMigration = (engine: Engine): Migration => ({
  async up(db: Kysely<any>) {
    const text = engine === "postgres" ? sql`text collate "C"` : sql`text`;
    const big = sql`bigint`;
    const double = engine === "postgres" ? sql`double precision` : sql`real`;
    const blob = engine === "postgres" ? sql`bytea` : sql`blob`;
    await db.schema
      .createTable("jobs")
      .addColumn("id", text, (c) => c.notNull().primaryKey())
      .addColumn("project", text, (c) => c.notNull())
      .addColumn("kind", text, (c) => c.notNull())
      .addColumn("state", text, (c) => c.notNull())
      .addColumn("input", sql`text`, (c) => c.notNull())
      .addColumn("units_total", big)
      .addColumn("units_done", big, (c) => c.notNull().defaultTo(0))
      .addColumn("units_failed", big, (c) => c.notNull().defaultTo(0))
      .addColumn("tasks_total", big, (c) => c.notNull().defaultTo(0))
      .addColumn("tasks_done", big, (c) => c.notNull().defaultTo(0))
      .addColumn("tasks_failed", big, (c) => c.notNull().defaultTo(0))
      .addColumn("max_attempts", sql`integer`, (c) => c.notNull())
      .addColumn("note", sql`text`)
      .addColumn("result", sql`text`)
      .addColumn("error", sql`text`)
      .addColumn("cancel_requested", sql`integer`, (c) => c.notNull().defaultTo(0))
      .addColumn("retries", sql`integer`, (c) => c.notNull().defaultTo(0))
      .addColumn("created_by", text)
      .addColumn("created_at", big, (c) => c.notNull())
      .addColumn("started_at", big)
      .addColumn("finished_at", big)
      .addColumn("updated_at", big, (c) => c.notNull())
      .execute();
    await db.schema.createIndex("jobs_project_created").on("jobs").columns(["project", "created_at", "id"]).execute();
    await db.schema.createIndex("jobs_project_state").on("jobs").columns(["project", "state"]).execute();

    await db.schema
      .createTable("job_tasks")
      .addColumn("job_id", text, (c) => c.notNull())
      .addColumn("seq", sql`integer`, (c) => c.notNull())
      .addColumn("project", text, (c) => c.notNull())
      .addColumn("kind", text, (c) => c.notNull())
      .addColumn("phase", text, (c) => c.notNull())
      .addColumn("state", text, (c) => c.notNull())
      .addColumn("attempts", sql`integer`, (c) => c.notNull().defaultTo(0))
      .addColumn("run_after", big, (c) => c.notNull())
      .addColumn("worker", text)
      .addColumn("heartbeat_at", big)
      .addColumn("engine_id", text)
      .addColumn("error", sql`text`)
      .addColumn("created_at", big, (c) => c.notNull())
      .addColumn("updated_at", big, (c) => c.notNull())
      .addPrimaryKeyConstraint("job_tasks_pk", ["job_id", "seq"])
      .addForeignKeyConstraint("job_tasks_job_fk", ["job_id"], "jobs", ["id"], (c) => c.onDelete("cascade"))
      .execute();
    await db.schema.createIndex("job_tasks_ready").on("job_tasks").columns(["state", "run_after"]).execute();
    await db.schema.createIndex("job_tasks_project_state").on("job_tasks").columns(["project", "state"]).execute();

    await db.schema
      .createTable("job_inputs")
      .addColumn("job_id", text, (c) => c.notNull())
      .addColumn("seq", sql`integer`, (c) => c.notNull())
      .addColumn("first_unit", big, (c) => c.notNull())
      .addColumn("body", sql`text`, (c) => c.notNull())
      .addPrimaryKeyConstraint("job_inputs_pk", ["job_id", "seq"])
      .addForeignKeyConstraint("job_inputs_job_fk", ["job_id"], "jobs", ["id"], (c) => c.onDelete("cascade"))
      .execute();

    await db.schema
      .createTable("job_units")
      .addColumn("job_id", text, (c) => c.notNull())
      .addColumn("unit", big, (c) => c.notNull())
      .addColumn("seq", sql`integer`, (c) => c.notNull())
      .addColumn("failed", sql`integer`, (c) => c.notNull())
      .addColumn("outcome", text)
      .addColumn("record_id", text)
      .addColumn("error", sql`text`)
      .addColumn("at", big, (c) => c.notNull())
      .addPrimaryKeyConstraint("job_units_pk", ["job_id", "unit"])
      .addForeignKeyConstraint("job_units_job_fk", ["job_id"], "jobs", ["id"], (c) => c.onDelete("cascade"))
      .execute();
    await db.schema.createIndex("job_units_failed").on("job_units").columns(["job_id", "failed"]).execute();

    await db.schema
      .createTable("job_errors")
      .addColumn("job_id", text, (c) => c.notNull())
      .addColumn("seq", sql`integer`, (c) => c.notNull())
      .addColumn("attempt", sql`integer`, (c) => c.notNull())
      .addColumn("worker", text)
      .addColumn("error", sql`text`, (c) => c.notNull())
      .addColumn("at", big, (c) => c.notNull())
      .addPrimaryKeyConstraint("job_errors_pk", ["job_id", "seq", "attempt"])
      .addForeignKeyConstraint("job_errors_job_fk", ["job_id"], "jobs", ["id"], (c) => c.onDelete("cascade"))
      .execute();

    await db.schema
      .createTable("job_files")
      .addColumn("job_id", text, (c) => c.notNull())
      .addColumn("part", sql`integer`, (c) => c.notNull())
      .addColumn("data", blob, (c) => c.notNull())
      .addPrimaryKeyConstraint("job_files_pk", ["job_id", "part"])
      .addForeignKeyConstraint("job_files_job_fk", ["job_id"], "jobs", ["id"], (c) => c.onDelete("cascade"))
      .execute();

    await db.schema
      .createTable("rate_limits")
      .addColumn("key", text, (c) => c.notNull().primaryKey())
      .addColumn("tokens", double, (c) => c.notNull())
      .addColumn("updated_at", big, (c) => c.notNull())
      .addColumn("paused_until", big, (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<any>) {
    for (const t of ["rate_limits", "job_files", "job_errors", "job_units", "job_inputs", "job_tasks", "jobs"]) await db.schema.dropTable(t).execute();
  },
});

// ------------------------------------------------------------------ types ---

export const JOB_STATES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];
const FINAL: readonly string[] = ["succeeded", "failed", "cancelled"];
export const isFinalState = (s: string): boolean => FINAL.includes(s);

export type TaskPhase = "whole" | "plan" | "units";

export interface JobProgress {
  /** Units finished (succeeded or failed), or whatever the kind counts (rows exported). */
  done: number;
  /** Units in all, once known. */
  total: number | null;
  /** Units that failed for good (kept, with their errors; `retry` runs them again). */
  failed: number;
  /** What the job is doing now, for people. */
  note?: string;
}

export interface JobRecord {
  id: string;
  project: string;
  kind: string;
  state: JobState;
  input: unknown;
  progress: JobProgress;
  tasks: { total: number; done: number; failed: number };
  /** Attempts made so far, over every task. */
  attempts: number;
  /** Attempts a task gets before it fails for good. */
  maxAttempts: number;
  result?: unknown;
  error?: string;
  cancelRequested: boolean;
  /** How many times the job was retried (a retry asks models again rather than reading their cached answers). */
  retries: number;
  createdBy?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
}

/** One failed attempt of one task. */
export interface JobAttemptError {
  task: number;
  attempt: number;
  error: string;
  worker?: string;
  at: string;
}

/** A unit that failed for good. */
export interface JobUnitFailure {
  unit: number;
  error: string;
  recordId?: string;
}

export interface TaskRow {
  jobId: string;
  seq: number;
  project: string;
  kind: string;
  phase: TaskPhase;
  state: string;
  attempts: number;
  worker?: string;
  engineId?: string;
  runAfter: number;
}

/** SQL on the open transaction, in the shape pg-boss takes as its `db` option. */
export interface TxSql {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** Called inside the transaction that changes task rows, so the queue engine's own rows change with them. */
export type EngineHook = (tx: TxSql, tasks: TaskRow[]) => Promise<void>;

export interface CreateJobInput {
  id: string;
  project?: string;
  kind: string;
  input: unknown;
  createdBy?: string;
  maxAttempts: number;
  /** The job as one task (`whole`), a task that lists the units first (`plan`), or `chunks` of units. */
  phase: TaskPhase;
  /** Units in chunks, one task each (phase `units`). */
  chunks?: unknown[][];
  /** Earliest start (epoch ms); default now. */
  runAfter?: number;
}

export interface UnitCommit {
  unit: number;
  seq: number;
  failed: boolean;
  outcome?: string;
  recordId?: string;
  error?: string;
  /** The records this unit produced (written only if the unit is committed now). */
  records?: { items?: unknown[]; generations?: unknown[]; feedback?: unknown[]; failures?: unknown[] };
}

export type StartOutcome = { status: "started"; attempt: number; task: TaskRow } | { status: "cancelled" | "gone" | "busy" };

export interface FinishInput {
  worker: string;
  attempt: number;
  outcome: "succeeded" | "failed" | "retry" | "cancelled";
  error?: string;
  result?: unknown;
  /** With `retry`: the earliest next start (epoch ms). */
  runAfter?: number;
  /** A whole task's last progress (heartbeats may not have carried it). */
  progress?: { done: number; total?: number | null; note?: string };
}

export interface ReapedTask extends TaskRow {
  /** Whether the task gets another attempt (else it failed for good). */
  retry: boolean;
}

export interface JobFilter {
  project?: string;
  state?: JobState;
  kind?: string;
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface JobStore {
  /** A job and its first tasks; `enqueue` runs in the same transaction (the engine's rows commit with the job's). */
  create(input: CreateJobInput, enqueue?: EngineHook): Promise<JobRecord>;
  get(id: string, project?: string): Promise<JobRecord | undefined>;
  /** Newest first. */
  list(filter?: JobFilter): Promise<{ jobs: JobRecord[]; nextCursor?: string }>;
  task(jobId: string, seq: number): Promise<TaskRow | undefined>;
  tasks(jobId: string): Promise<TaskRow[]>;
  /** The units of a chunk task: its first unit's number and their inputs. */
  chunk(jobId: string, seq: number): Promise<{ firstUnit: number; units: unknown[] } | undefined>;
  /** Units of a job already committed, among `first .. first + count - 1`. */
  committedUnits(jobId: string, first: number, count: number): Promise<Set<number>>;
  /**
   * Commit units with their records in one transaction, only those no attempt committed before;
   * returns the units committed now (a unit committed by another attempt is left as it is).
   */
  commitUnits(jobId: string, units: readonly UnitCommit[]): Promise<number[]>;
  /** A plan task adds the chunk tasks of the units it listed. */
  addChunks(jobId: string, chunks: unknown[][], enqueue?: EngineHook): Promise<TaskRow[]>;
  /**
   * Start an attempt of a task on `worker`: refused when the job was cancelled, when the task is no longer
   * waiting, or (`busy`) when the project already runs `projectCap` tasks.
   */
  startTask(jobId: string, seq: number, opts: { worker: string; engineId?: string; projectCap?: number; leaseMs?: number }): Promise<StartOutcome>;
  /** Heartbeat of running tasks (with progress of whole tasks); returns the jobs among them asked to stop. */
  heartbeat(worker: string, running: readonly { jobId: string; seq: number; progress?: { done: number; total?: number | null; note?: string } }[]): Promise<Set<string>>;
  /** End an attempt; the job finishes with its last task. `hook` (engine rows) runs in the same transaction. */
  finishTask(jobId: string, seq: number, f: FinishInput, hook?: EngineHook): Promise<"ok" | "stale">;
  /** Local engine: claim up to `n` waiting tasks of `kinds` whose time has come. */
  claimLocal(opts: { worker: string; kinds: readonly string[]; n: number; projectCap?: number; leaseMs?: number }): Promise<TaskRow[]>;
  /** Hand back tasks whose worker has been silent for `leaseMs`: another attempt, or failure when none is left. */
  reap(leaseMs: number, hook?: EngineHook): Promise<ReapedTask[]>;
  /** Stop a job: waiting tasks are cancelled now, running ones at their next heartbeat. */
  cancel(id: string, project: string | undefined, hook?: EngineHook): Promise<JobRecord | undefined>;
  /** Run again what failed or was cancelled: failed units, failed or cancelled tasks. */
  retry(id: string, project: string | undefined, hook?: EngineHook): Promise<JobRecord | undefined>;
  attemptErrors(jobId: string, limit?: number): Promise<JobAttemptError[]>;
  unitFailures(jobId: string, limit?: number): Promise<JobUnitFailure[]>;
  /** Committed units by outcome. */
  outcomes(jobId: string): Promise<Record<string, number>>;
  /** Record ids (feedback or failures) the job's units produced, in unit order. */
  unitRecords(jobId: string, opts?: { after?: number; limit?: number }): Promise<{ unit: number; recordId?: string; failed: boolean; outcome?: string }[]>;
  /** Files: parts written in order (part 0, 1, ...), read back in order. */
  putFilePart(jobId: string, part: number, data: Uint8Array): Promise<void>;
  clearFile(jobId: string): Promise<void>;
  fileParts(jobId: string): AsyncIterable<Buffer>;
  fileSize(jobId: string): Promise<number>;
  /** Delete finished jobs (with their tasks, units, errors and files) finished before `before` (epoch ms). */
  prune(before: number): Promise<number>;
  /** Milliseconds on the database's clock (the one heartbeats and rate limits use). */
  now(): Promise<number>;
  /** The open store's transaction as raw SQL (for engines that bring their own statements). */
  withSql<T>(fn: (tx: TxSql) => Promise<T>): Promise<T>;
}

export interface RateLimitStore {
  /**
   * Take `n` units from bucket `key` (refilled at `perMinute`, holding at most `burst`) if it has them and
   * is not paused: returns 0, or how long to wait (ms) before trying again.
   */
  take(key: string, n: number, perMinute: number, burst: number): Promise<number>;
  /** Give back or take more (`delta` > 0 takes), e.g. when the real token count of a request is known. */
  adjust(key: string, delta: number, perMinute: number, burst: number): Promise<void>;
  /** Nobody takes from `key` for `ms` (a provider's Retry-After). */
  pause(key: string, ms: number): Promise<void>;
  /** Remaining pause of `key` in ms (0 when none). */
  pausedFor(key: string): Promise<number>;
}

// ------------------------------------------------------------- rows, SQL ---

type InTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

const MAX_LIST = 500;
/** Largest result kept in a job row (bigger results belong in records or a file). */
export const MAX_RESULT_BYTES = 8 * 1024 * 1024;
/** Errors are cut to this many characters. */
const MAX_ERROR_CHARS = 4000;

const cut = (s: string) => (s.length > MAX_ERROR_CHARS ? `${s.slice(0, MAX_ERROR_CHARS)}…` : s);

/** A unit committed by an earlier attempt: the caller drops it and commits the rest. */
class UnitsTaken extends Error {}

type JobRow = {
  id: string;
  project: string;
  kind: string;
  state: string;
  input: string;
  units_total: number | string | null;
  units_done: number | string;
  units_failed: number | string;
  tasks_total: number | string;
  tasks_done: number | string;
  tasks_failed: number | string;
  max_attempts: number;
  note: string | null;
  result: string | null;
  error: string | null;
  cancel_requested: number;
  retries: number;
  created_by: string | null;
  created_at: number | string;
  started_at: number | string | null;
  finished_at: number | string | null;
  updated_at: number | string;
};

function jobOf(r: JobRow, attempts: number): JobRecord {
  return {
    id: r.id,
    project: r.project,
    kind: r.kind,
    state: r.state as JobState,
    input: JSON.parse(r.input) as unknown,
    progress: {
      done: num(r.units_done),
      total: r.units_total === null ? null : num(r.units_total),
      failed: num(r.units_failed),
      ...(r.note !== null ? { note: r.note } : {}),
    },
    tasks: { total: num(r.tasks_total), done: num(r.tasks_done), failed: num(r.tasks_failed) },
    attempts,
    maxAttempts: r.max_attempts,
    ...(r.result !== null ? { result: JSON.parse(r.result) as unknown } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
    cancelRequested: r.cancel_requested === 1,
    retries: Number(r.retries ?? 0),
    ...(r.created_by !== null ? { createdBy: r.created_by } : {}),
    createdAt: isoOf(r.created_at),
    ...(r.started_at !== null ? { startedAt: isoOf(r.started_at) } : {}),
    ...(r.finished_at !== null ? { finishedAt: isoOf(r.finished_at) } : {}),
    updatedAt: isoOf(r.updated_at),
  };
}

type TaskDbRow = {
  job_id: string;
  seq: number;
  project: string;
  kind: string;
  phase: string;
  state: string;
  attempts: number;
  run_after: number | string;
  worker: string | null;
  engine_id: string | null;
};

function taskOf(r: TaskDbRow): TaskRow {
  return {
    jobId: r.job_id,
    seq: Number(r.seq),
    project: r.project,
    kind: r.kind,
    phase: r.phase as TaskPhase,
    state: r.state,
    attempts: Number(r.attempts),
    runAfter: num(r.run_after),
    ...(r.worker !== null ? { worker: r.worker } : {}),
    ...(r.engine_id !== null ? { engineId: r.engine_id } : {}),
  };
}

const TASK_COLUMNS = ["job_id", "seq", "project", "kind", "phase", "state", "attempts", "run_after", "worker", "engine_id"] as const;

function txSql(tx: Kysely<Database>): TxSql {
  return {
    async executeSql(text, values = []) {
      const r = await tx.executeQuery(CompiledQuery.raw(text, values as unknown[]));
      return { rows: r.rows as any[] };
    },
  };
}

function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
}

function decodeCursor(c: string): [number, string] {
  try {
    const v = JSON.parse(Buffer.from(c, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && typeof v[0] === "number" && typeof v[1] === "string") return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new ValidationError([{ path: "cursor", message: "is not a cursor this server gave out" }], undefined, "filter");
}

function jsonOf(value: unknown, path: string): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch (e) {
    throw new ValidationError([{ path, message: `must be JSON-serialisable: ${(e as Error).message}` }], undefined, "job");
  }
  if (s === undefined) throw new ValidationError([{ path, message: "is required" }], undefined, "job");
  return s;
}

// ----------------------------------------------------------- the store ---

export function jobStore(engine: Engine, db: () => Kysely<Database>, inTransaction: InTransaction): JobStore {
  const now = async (d: Kysely<Database>): Promise<number> => {
    if (engine === "sqlite") return Date.now();
    const r = await sql<{ t: string | number }>`select (extract(epoch from clock_timestamp()) * 1000)::bigint as t`.execute(d);
    return num(r.rows[0]!.t);
  };

  const attemptsOf = async (d: Kysely<Database>, ids: string[]): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const chunk of chunks(ids, 500)) {
      const rows = await d
        .selectFrom("job_tasks")
        .select((eb) => ["job_id", eb.fn.sum<number | string>("attempts").as("n")])
        .where("job_id", "in", chunk)
        .groupBy("job_id")
        .execute();
      for (const r of rows) out.set(r.job_id, num(r.n ?? 0));
    }
    return out;
  };

  const getJob = async (d: Kysely<Database>, id: string, project?: string): Promise<JobRecord | undefined> => {
    let q = d.selectFrom("jobs").selectAll().where("id", "=", id);
    if (project !== undefined) q = q.where("project", "=", project);
    const r = (await q.executeTakeFirst()) as JobRow | undefined;
    if (!r) return undefined;
    return jobOf(r, (await attemptsOf(d, [id])).get(id) ?? 0);
  };

  const insertTasks = async (d: Kysely<Database>, rows: TaskRow[], t: number) => {
    for (const chunk of chunks(rows, 200)) {
      await d
        .insertInto("job_tasks")
        .values(
          chunk.map((r) => ({
            job_id: r.jobId,
            seq: r.seq,
            project: r.project,
            kind: r.kind,
            phase: r.phase,
            state: "queued",
            attempts: 0,
            run_after: r.runAfter,
            worker: null,
            heartbeat_at: null,
            engine_id: null,
            error: null,
            created_at: t,
            updated_at: t,
          })),
        )
        .execute();
    }
  };

  const insertChunks = async (d: Kysely<Database>, jobId: string, firstSeq: number, firstUnit: number, units: unknown[][]) => {
    let unit = firstUnit;
    const rows = units.map((c, i) => {
      const row = { job_id: jobId, seq: firstSeq + i, first_unit: unit, body: jsonOf(c, `chunks.${i}`) };
      unit += c.length;
      return row;
    });
    for (const chunk of chunks(rows, 100)) await d.insertInto("job_inputs").values(chunk).execute();
    return unit;
  };

  /** Finish the job when no task is left to run: succeeded, failed (a task failed for good) or cancelled. */
  const maybeFinish = async (d: Kysely<Database>, jobId: string, t: number) => {
    const open = await d
      .selectFrom("job_tasks")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .where("job_id", "=", jobId)
      .where("state", "in", ["queued", "running"])
      .executeTakeFirstOrThrow();
    if (num(open.n) > 0) return;
    const job = (await d.selectFrom("jobs").selectAll().where("id", "=", jobId).executeTakeFirst()) as JobRow | undefined;
    if (!job || isFinalState(job.state)) return;
    const state: JobState = job.cancel_requested === 1 ? "cancelled" : num(job.tasks_failed) > 0 ? "failed" : "succeeded";
    let error: string | null = job.error;
    if (state === "failed" && error === null) {
      const last = await d.selectFrom("job_tasks").select(["seq", "error"]).where("job_id", "=", jobId).where("state", "=", "failed").orderBy("seq").executeTakeFirst();
      error = last?.error ?? "a task failed";
    }
    let result: string | null = job.result;
    if (result === null && num(job.tasks_total) > 0) {
      const units = await d.selectFrom("job_units").select((eb) => eb.fn.countAll<number | string>().as("n")).where("job_id", "=", jobId).executeTakeFirstOrThrow();
      if (num(units.n) > 0) result = JSON.stringify({ outcomes: await outcomesOf(d, jobId) });
    }
    await d
      .updateTable("jobs")
      .set({ state, error: state === "succeeded" ? null : error, result, finished_at: t, updated_at: t, ...(state === "succeeded" ? { note: null } : {}) })
      .where("id", "=", jobId)
      .execute();
  };

  const outcomesOf = async (d: Kysely<Database>, jobId: string): Promise<Record<string, number>> => {
    const rows = await d
      .selectFrom("job_units")
      .select((eb) => ["outcome", "failed", eb.fn.countAll<number | string>().as("n")])
      .where("job_id", "=", jobId)
      .groupBy(["outcome", "failed"])
      .execute();
    const out: Record<string, number> = {};
    for (const r of rows) {
      const k = r.outcome ?? (r.failed ? "failed" : "done");
      out[k] = (out[k] ?? 0) + num(r.n);
    }
    return out;
  };

  const recordError = async (d: Kysely<Database>, jobId: string, seq: number, attempt: number, worker: string | null, error: string, t: number) => {
    await d
      .insertInto("job_errors")
      .values({ job_id: jobId, seq, attempt, worker, error: cut(error), at: t })
      .onConflict((oc) => oc.columns(["job_id", "seq", "attempt"]).doUpdateSet({ error: cut(error), at: t, worker }))
      .execute();
  };

  /** Serialise starts of one project's tasks (PostgreSQL; SQLite writers are serial anyway). */
  const lockProject = async (d: Kysely<Database>, project: string) => {
    if (engine === "postgres") await sql`select pg_advisory_xact_lock(hashtext(${`rlxf-jobs:${project}`}))`.execute(d);
  };

  const runningCount = async (d: Kysely<Database>, project: string, t: number, leaseMs: number) => {
    const r = await d
      .selectFrom("job_tasks")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .where("project", "=", project)
      .where("state", "=", "running")
      .where("heartbeat_at", ">", t - leaseMs)
      .executeTakeFirstOrThrow();
    return num(r.n);
  };

  const begin = async (d: Kysely<Database>, task: TaskRow, worker: string, engineId: string | undefined, t: number) => {
    await d
      .updateTable("job_tasks")
      .set({ state: "running", attempts: task.attempts + 1, worker, heartbeat_at: t, updated_at: t, ...(engineId !== undefined ? { engine_id: engineId } : {}) })
      .where("job_id", "=", task.jobId)
      .where("seq", "=", task.seq)
      .execute();
    await d.updateTable("jobs").set({ state: "running", started_at: t, updated_at: t }).where("id", "=", task.jobId).where("state", "=", "queued").execute();
    return { ...task, state: "running", attempts: task.attempts + 1, worker, ...(engineId !== undefined ? { engineId } : {}) };
  };

  const store: JobStore = {
    async create(input, enqueue) {
      const project = input.project ?? DEFAULT_PROJECT;
      const inputJson = jsonOf(input.input, "input");
      if (!Number.isInteger(input.maxAttempts) || input.maxAttempts < 1 || input.maxAttempts > 100) {
        throw new ValidationError([{ path: "maxAttempts", message: "must be an integer from 1 to 100" }], undefined, "job");
      }
      const units = input.phase === "units" ? (input.chunks ?? []) : [];
      if (input.phase === "units" && units.some((c) => !Array.isArray(c) || c.length === 0)) {
        throw new ValidationError([{ path: "chunks", message: "every chunk needs at least one unit" }], undefined, "job");
      }
      return inTransaction(async (d) => {
        const t = await now(d);
        const tasks: TaskRow[] =
          input.phase === "units"
            ? units.map((_, i) => ({ jobId: input.id, seq: i, project, kind: input.kind, phase: "units" as const, state: "queued", attempts: 0, runAfter: input.runAfter ?? t }))
            : [{ jobId: input.id, seq: 0, project, kind: input.kind, phase: input.phase, state: "queued", attempts: 0, runAfter: input.runAfter ?? t }];
        const total = input.phase === "units" ? units.reduce((n, c) => n + c.length, 0) : null;
        await d
          .insertInto("jobs")
          .values({
            id: input.id,
            project,
            kind: input.kind,
            state: tasks.length === 0 ? "succeeded" : "queued",
            input: inputJson,
            units_total: total,
            units_done: 0,
            units_failed: 0,
            tasks_total: tasks.length,
            tasks_done: 0,
            tasks_failed: 0,
            max_attempts: input.maxAttempts,
            note: null,
            result: null,
            error: null,
            cancel_requested: 0,
            retries: 0,
            created_by: input.createdBy ?? null,
            created_at: t,
            started_at: null,
            finished_at: tasks.length === 0 ? t : null,
            updated_at: t,
          })
          .execute();
        if (units.length) await insertChunks(d, input.id, 0, 0, units);
        await insertTasks(d, tasks, t);
        if (enqueue && tasks.length) await enqueue(txSql(d), tasks);
        return (await getJob(d, input.id))!;
      });
    },

    get: (id, project) => getJob(db(), id, project),

    async list(filter = {}) {
      const limit = filter.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) {
        throw new ValidationError([{ path: "limit", message: `must be an integer from 1 to ${MAX_LIST}` }], undefined, "filter");
      }
      let q = db().selectFrom("jobs").selectAll().where("project", "=", filter.project ?? DEFAULT_PROJECT);
      if (filter.state !== undefined) q = q.where("state", "=", filter.state);
      if (filter.kind !== undefined) q = q.where("kind", "=", filter.kind);
      if (filter.cursor !== undefined) {
        const [c, id] = decodeCursor(filter.cursor);
        q = q.where((eb) => eb.or([eb("created_at", "<", c), eb.and([eb("created_at", "=", c), eb("id", "<", id)])]));
      }
      const rows = (await q.orderBy("created_at", "desc").orderBy("id", "desc").limit(limit + 1).execute()) as JobRow[];
      const page = rows.slice(0, limit);
      const attempts = await attemptsOf(db(), page.map((r) => r.id));
      const last = page[page.length - 1];
      return {
        jobs: page.map((r) => jobOf(r, attempts.get(r.id) ?? 0)),
        ...(rows.length > limit && last ? { nextCursor: encodeCursor(num(last.created_at), last.id) } : {}),
      };
    },

    async task(jobId, seq) {
      const r = await db().selectFrom("job_tasks").select(TASK_COLUMNS).where("job_id", "=", jobId).where("seq", "=", seq).executeTakeFirst();
      return r ? taskOf(r) : undefined;
    },

    async tasks(jobId) {
      const rows = await db().selectFrom("job_tasks").select(TASK_COLUMNS).where("job_id", "=", jobId).orderBy("seq").execute();
      return rows.map(taskOf);
    },

    async chunk(jobId, seq) {
      const r = await db().selectFrom("job_inputs").select(["first_unit", "body"]).where("job_id", "=", jobId).where("seq", "=", seq).executeTakeFirst();
      return r ? { firstUnit: num(r.first_unit), units: JSON.parse(r.body) as unknown[] } : undefined;
    },

    async committedUnits(jobId, first, count) {
      const rows = await db()
        .selectFrom("job_units")
        .select("unit")
        .where("job_id", "=", jobId)
        .where("unit", ">=", first)
        .where("unit", "<", first + count)
        .execute();
      return new Set(rows.map((r) => num(r.unit)));
    },

    async commitUnits(jobId, units) {
      let pending = [...units];
      const committed: number[] = [];
      for (let round = 0; pending.length > 0; round++) {
        if (round > 10) throw new RlxfError("store_write_failed", `job ${jobId}: could not commit units after ${round} tries`);
        const claim = async (d: Kysely<Database>, t: number) => {
          const r = await d
            .insertInto("job_units")
            .values(
              pending.map((u) => ({
                job_id: jobId,
                unit: u.unit,
                seq: u.seq,
                failed: u.failed ? 1 : 0,
                outcome: u.outcome ?? null,
                record_id: u.recordId ?? null,
                error: u.error !== undefined ? cut(u.error) : null,
                at: t,
              })),
            )
            .onConflict((oc) => oc.columns(["job_id", "unit"]).doNothing())
            .executeTakeFirst();
          if (Number(r.numInsertedOrUpdatedRows ?? 0) !== pending.length) throw new UnitsTaken();
          const failed = pending.filter((u) => u.failed).length;
          await d
            .updateTable("jobs")
            .set({ units_done: sql`units_done + ${pending.length}`, units_failed: sql`units_failed + ${failed}`, updated_at: t } as never)
            .where("id", "=", jobId)
            .execute();
        };
        const items = pending.flatMap((u) => u.records?.items ?? []);
        const generations = pending.flatMap((u) => u.records?.generations ?? []);
        const feedback = pending.flatMap((u) => u.records?.feedback ?? []);
        const failures = pending.flatMap((u) => u.records?.failures ?? []);
        let dropItems = new Set<string>();
        try {
          for (let conflicts = 0; ; conflicts++) {
            const batch: WriteBatch = {
              items: items.filter((i) => !dropItems.has(keyOf(i))),
              generations,
              feedback,
            };
            try {
              if (batch.items!.length + generations.length + feedback.length === 0) {
                await inTransaction(async (d) => {
                  const t = await now(d);
                  await claim(d, t);
                  if (failures.length) await judgementFailureStore(() => d, (fn) => fn(d)).write(failures);
                });
              } else {
                await writeBatch(
                  {
                    engine,
                    inTransaction: (fn) =>
                      inTransaction(async (d) => {
                        const t = await now(d);
                        await claim(d, t);
                        const out = await fn(d);
                        if (failures.length) await judgementFailureStore(() => d, (f) => f(d)).write(failures);
                        return out;
                      }),
                  },
                  batch,
                );
              }
              break;
            } catch (e) {
              // An item already stored with another body (say, with its dataset): keep the stored one.
              if (!(e instanceof RecordConflictError) || e.kind !== "item" || conflicts > items.length) throw e;
              dropItems = new Set([...dropItems, `${e.project}\u0000${e.id}`]);
            }
          }
          committed.push(...pending.map((u) => u.unit));
          pending = [];
        } catch (e) {
          if (!(e instanceof UnitsTaken)) throw e;
          const taken = await store.committedUnits(jobId, Math.min(...pending.map((u) => u.unit)), Math.max(...pending.map((u) => u.unit)) - Math.min(...pending.map((u) => u.unit)) + 1);
          pending = pending.filter((u) => !taken.has(u.unit));
        }
      }
      return committed;
    },

    async addChunks(jobId, units, enqueue) {
      if (units.length === 0) return [];
      return inTransaction(async (d) => {
        const t = await now(d);
        const job = (await d.selectFrom("jobs").selectAll().where("id", "=", jobId).executeTakeFirst()) as JobRow | undefined;
        if (!job) throw new RlxfError("not_found", `job ${jobId} not found`);
        const last = await d.selectFrom("job_inputs").select(["seq", "first_unit", "body"]).where("job_id", "=", jobId).orderBy("seq", "desc").limit(1).executeTakeFirst();
        const maxSeq = await d.selectFrom("job_tasks").select((eb) => eb.fn.max("seq").as("s")).where("job_id", "=", jobId).executeTakeFirstOrThrow();
        const firstSeq = Number(maxSeq.s ?? -1) + 1;
        const firstUnit = last ? num(last.first_unit) + (JSON.parse(last.body) as unknown[]).length : 0;
        const end = await insertChunks(d, jobId, firstSeq, firstUnit, units);
        const tasks: TaskRow[] = units.map((_, i) => ({ jobId, seq: firstSeq + i, project: job.project, kind: job.kind, phase: "units", state: "queued", attempts: 0, runAfter: t }));
        await insertTasks(d, tasks, t);
        await d
          .updateTable("jobs")
          .set({ tasks_total: sql`tasks_total + ${tasks.length}`, units_total: end, updated_at: t } as never)
          .where("id", "=", jobId)
          .execute();
        if (enqueue) await enqueue(txSql(d), tasks);
        return tasks;
      });
    },

    async startTask(jobId, seq, opts) {
      return inTransaction(async (d) => {
        const t = await now(d);
        const job = await d.selectFrom("jobs").select(["state", "cancel_requested", "project"]).where("id", "=", jobId).executeTakeFirst();
        const row = await d.selectFrom("job_tasks").select(TASK_COLUMNS).where("job_id", "=", jobId).where("seq", "=", seq).executeTakeFirst();
        if (!job || !row) return { status: "gone" } as const;
        const task = taskOf(row);
        if (job.cancel_requested === 1 || isFinalState(job.state)) {
          if (task.state === "queued" || task.state === "running") {
            await d.updateTable("job_tasks").set({ state: "cancelled", updated_at: t }).where("job_id", "=", jobId).where("seq", "=", seq).execute();
            await maybeFinish(d, jobId, t);
          }
          return { status: "cancelled" } as const;
        }
        if (task.state !== "queued") return { status: "gone" } as const;
        // A delivery the engine made before the task was handed on again (a newer one stands for it now).
        if (opts.engineId !== undefined && task.engineId !== undefined && task.engineId !== opts.engineId) return { status: "gone" } as const;
        if (opts.projectCap !== undefined) {
          await lockProject(d, task.project);
          if ((await runningCount(d, task.project, t, opts.leaseMs ?? 30_000)) >= opts.projectCap) return { status: "busy" } as const;
        }
        const started = await begin(d, task, opts.worker, opts.engineId, t);
        return { status: "started", attempt: started.attempts, task: started } as const;
      });
    },

    async heartbeat(worker, running) {
      if (running.length === 0) return new Set();
      return inTransaction(async (d) => {
        const t = await now(d);
        const byJob = new Map<string, number[]>();
        for (const r of running) byJob.set(r.jobId, [...(byJob.get(r.jobId) ?? []), r.seq]);
        for (const [jobId, seqs] of byJob) {
          await d.updateTable("job_tasks").set({ heartbeat_at: t }).where("job_id", "=", jobId).where("seq", "in", seqs).where("worker", "=", worker).where("state", "=", "running").execute();
        }
        for (const r of running) {
          if (!r.progress) continue;
          await d
            .updateTable("jobs")
            .set({ units_done: r.progress.done, ...(r.progress.total !== undefined ? { units_total: r.progress.total } : {}), note: r.progress.note ?? null, updated_at: t })
            .where("id", "=", r.jobId)
            .where("state", "=", "running")
            .execute();
        }
        const stop = await d.selectFrom("jobs").select("id").where("id", "in", [...byJob.keys()]).where((eb) => eb.or([eb("cancel_requested", "=", 1), eb("state", "in", ["cancelled", "failed", "succeeded"])])).execute();
        return new Set(stop.map((r) => r.id));
      });
    },

    async finishTask(jobId, seq, f, hook) {
      return inTransaction(async (d) => {
        const t = await now(d);
        const row = await d.selectFrom("job_tasks").select(TASK_COLUMNS).where("job_id", "=", jobId).where("seq", "=", seq).executeTakeFirst();
        if (!row) return "stale";
        const task = taskOf(row);
        // Someone else owns this task now (it was handed on when this worker went silent).
        if (task.state !== "running" || task.worker !== f.worker || task.attempts !== f.attempt) return "stale";
        if (f.error !== undefined) await recordError(d, jobId, seq, f.attempt, f.worker, f.error, t);
        if (f.outcome === "retry") {
          await d
            .updateTable("job_tasks")
            .set({ state: "queued", worker: null, heartbeat_at: null, run_after: f.runAfter ?? t, error: f.error !== undefined ? cut(f.error) : null, updated_at: t })
            .where("job_id", "=", jobId)
            .where("seq", "=", seq)
            .execute();
          if (hook) await hook(txSql(d), [{ ...task, state: "queued", runAfter: f.runAfter ?? t }]);
          return "ok";
        }
        await d
          .updateTable("job_tasks")
          .set({ state: f.outcome, worker: null, heartbeat_at: null, error: f.error !== undefined ? cut(f.error) : null, updated_at: t })
          .where("job_id", "=", jobId)
          .where("seq", "=", seq)
          .execute();
        const set: Record<string, unknown> = { updated_at: t };
        if (f.progress && task.phase === "whole") {
          set.units_done = f.progress.done;
          if (f.progress.total !== undefined) set.units_total = f.progress.total;
          set.note = f.progress.note ?? null;
        }
        if (f.outcome === "succeeded") set.tasks_done = sql`tasks_done + 1`;
        if (f.outcome === "failed") set.tasks_failed = sql`tasks_failed + 1`;
        if (f.result !== undefined) {
          const json = jsonOf(f.result, "result");
          if (json.length > MAX_RESULT_BYTES) throw new RlxfError("payload_too_large", `the result of job ${jobId} is ${json.length} bytes; at most ${MAX_RESULT_BYTES} are kept`);
          set.result = json;
        }
        await d.updateTable("jobs").set(set as never).where("id", "=", jobId).execute();
        if (hook) await hook(txSql(d), [{ ...task, state: f.outcome }]);
        await maybeFinish(d, jobId, t);
        return "ok";
      });
    },

    async claimLocal(opts) {
      if (opts.n <= 0 || opts.kinds.length === 0) return [];
      return inTransaction(async (d) => {
        const t = await now(d);
        const rows = await d
          .selectFrom("job_tasks")
          .select(TASK_COLUMNS)
          .where("state", "=", "queued")
          .where("run_after", "<=", t)
          .where("kind", "in", [...opts.kinds])
          .orderBy("run_after")
          .orderBy("created_at")
          .orderBy("seq")
          .limit(Math.max(opts.n * 4, 16))
          .execute();
        const out: TaskRow[] = [];
        const running = new Map<string, number>();
        for (const r of rows) {
          if (out.length >= opts.n) break;
          const task = taskOf(r);
          const job = await d.selectFrom("jobs").select(["cancel_requested", "state"]).where("id", "=", task.jobId).executeTakeFirst();
          if (!job || job.cancel_requested === 1 || isFinalState(job.state)) {
            await d.updateTable("job_tasks").set({ state: "cancelled", updated_at: t }).where("job_id", "=", task.jobId).where("seq", "=", task.seq).execute();
            await maybeFinish(d, task.jobId, t);
            continue;
          }
          if (opts.projectCap !== undefined) {
            if (!running.has(task.project)) running.set(task.project, await runningCount(d, task.project, t, opts.leaseMs ?? 30_000));
            if (running.get(task.project)! >= opts.projectCap) continue;
            running.set(task.project, running.get(task.project)! + 1);
          }
          out.push(await begin(d, task, opts.worker, undefined, t));
        }
        return out;
      });
    },

    async reap(leaseMs, hook) {
      return inTransaction(async (d) => {
        const t = await now(d);
        let q = d
          .selectFrom("job_tasks")
          .innerJoin("jobs", "jobs.id", "job_tasks.job_id")
          .select(["job_tasks.job_id", "job_tasks.seq", "job_tasks.project", "job_tasks.kind", "job_tasks.phase", "job_tasks.state", "job_tasks.attempts", "job_tasks.run_after", "job_tasks.worker", "job_tasks.engine_id", "jobs.max_attempts", "jobs.cancel_requested"])
          .where("job_tasks.state", "=", "running")
          .where("job_tasks.heartbeat_at", "<", t - leaseMs)
          .limit(100);
        if (engine === "postgres") q = q.forUpdate().skipLocked();
        const rows = await q.execute();
        const out: ReapedTask[] = [];
        for (const r of rows) {
          const task = taskOf(r as TaskDbRow);
          const error = `the worker running this task (${task.worker ?? "?"}) stopped sending heartbeats for ${Math.round(leaseMs / 1000)} s`;
          await recordError(d, task.jobId, task.seq, task.attempts, task.worker ?? null, error, t);
          const cancelled = r.cancel_requested === 1;
          const retry = !cancelled && task.attempts < r.max_attempts;
          const state = cancelled ? "cancelled" : retry ? "queued" : "failed";
          // The task did nothing wrong (its worker went away): it runs again at once.
          const runAfter = t;
          await d
            .updateTable("job_tasks")
            .set({ state, worker: null, heartbeat_at: null, error, run_after: runAfter, updated_at: t })
            .where("job_id", "=", task.jobId)
            .where("seq", "=", task.seq)
            .execute();
          if (state === "failed") await d.updateTable("jobs").set({ tasks_failed: sql`tasks_failed + 1`, updated_at: t } as never).where("id", "=", task.jobId).execute();
          out.push({ ...task, state, retry, runAfter });
        }
        if (hook && out.length) await hook(txSql(d), out);
        for (const jobId of new Set(out.filter((o) => !o.retry).map((o) => o.jobId))) await maybeFinish(d, jobId, t);
        return out;
      });
    },

    async cancel(id, project, hook) {
      return inTransaction(async (d) => {
        const t = await now(d);
        let q = d.selectFrom("jobs").select(["id", "state"]).where("id", "=", id);
        if (project !== undefined) q = q.where("project", "=", project);
        const job = await q.executeTakeFirst();
        if (!job) return undefined;
        if (!isFinalState(job.state)) {
          await d.updateTable("jobs").set({ cancel_requested: 1, note: "cancelling", updated_at: t }).where("id", "=", id).execute();
          const waiting = await d.selectFrom("job_tasks").select(TASK_COLUMNS).where("job_id", "=", id).where("state", "=", "queued").execute();
          await d.updateTable("job_tasks").set({ state: "cancelled", updated_at: t }).where("job_id", "=", id).where("state", "=", "queued").execute();
          if (hook && waiting.length) await hook(txSql(d), waiting.map((w) => ({ ...taskOf(w), state: "cancelled" })));
          await maybeFinish(d, id, t);
        }
        return getJob(d, id);
      });
    },

    async retry(id, project, hook) {
      return inTransaction(async (d) => {
        const t = await now(d);
        let q = d.selectFrom("jobs").selectAll().where("id", "=", id);
        if (project !== undefined) q = q.where("project", "=", project);
        const job = (await q.executeTakeFirst()) as JobRow | undefined;
        if (!job) return undefined;
        if (!isFinalState(job.state)) throw new ConflictError(`job ${id} is ${job.state}; only a finished job can be retried (cancel it first)`);
        // Failed units go back to their tasks; their failure records stay as a history.
        const failedUnits = await d.selectFrom("job_units").select(["seq"]).where("job_id", "=", id).where("failed", "=", 1).execute();
        const seqs = new Set(failedUnits.map((u) => Number(u.seq)));
        if (failedUnits.length) await d.deleteFrom("job_units").where("job_id", "=", id).where("failed", "=", 1).execute();
        const again = await d
          .selectFrom("job_tasks")
          .select(TASK_COLUMNS)
          .where("job_id", "=", id)
          .where((eb) => eb.or([eb("state", "in", ["failed", "cancelled", "queued", "running"]), ...(seqs.size ? [eb("seq", "in", [...seqs])] : [])]))
          .execute();
        if (again.length === 0) throw new ConflictError(`job ${id} has nothing that failed or was cancelled to run again`);
        const tasks = again.map((r) => ({ ...taskOf(r), state: "queued", attempts: 0, runAfter: t }));
        for (const task of tasks) {
          await d
            .updateTable("job_tasks")
            .set({ state: "queued", attempts: 0, worker: null, heartbeat_at: null, run_after: t, error: null, updated_at: t })
            .where("job_id", "=", id)
            .where("seq", "=", task.seq)
            .execute();
        }
        const wasDone = again.filter((r) => r.state === "succeeded").length;
        const wasFailed = again.filter((r) => r.state === "failed").length;
        await d
          .updateTable("jobs")
          .set({
            state: "queued",
            cancel_requested: 0,
            retries: sql`retries + 1`,
            error: null,
            note: null,
            finished_at: null,
            updated_at: t,
            units_done: sql`units_done - ${failedUnits.length}`,
            units_failed: sql`units_failed - ${failedUnits.length}`,
            tasks_done: sql`tasks_done - ${wasDone}`,
            tasks_failed: sql`tasks_failed - ${wasFailed}`,
            // A kind's own result is made again; a summary of units is recomputed at the end.
            result: null,
          } as never)
          .where("id", "=", id)
          .execute();
        if (hook) await hook(txSql(d), tasks);
        return getJob(d, id);
      });
    },

    async attemptErrors(jobId, limit = 100) {
      const rows = await db().selectFrom("job_errors").selectAll().where("job_id", "=", jobId).orderBy("at", "desc").limit(limit).execute();
      return rows.map((r) => ({ task: Number(r.seq), attempt: Number(r.attempt), error: r.error, ...(r.worker !== null ? { worker: r.worker } : {}), at: isoOf(r.at) }));
    },

    async unitFailures(jobId, limit = 100) {
      const rows = await db().selectFrom("job_units").select(["unit", "error", "record_id"]).where("job_id", "=", jobId).where("failed", "=", 1).orderBy("unit").limit(limit).execute();
      return rows.map((r) => ({ unit: num(r.unit), error: r.error ?? "failed", ...(r.record_id !== null ? { recordId: r.record_id } : {}) }));
    },

    outcomes: (jobId) => outcomesOf(db(), jobId),

    async unitRecords(jobId, opts = {}) {
      let q = db().selectFrom("job_units").select(["unit", "record_id", "failed", "outcome"]).where("job_id", "=", jobId);
      if (opts.after !== undefined) q = q.where("unit", ">", opts.after);
      const rows = await q.orderBy("unit").limit(opts.limit ?? 1000).execute();
      return rows.map((r) => ({ unit: num(r.unit), failed: r.failed === 1, ...(r.record_id !== null ? { recordId: r.record_id } : {}), ...(r.outcome !== null ? { outcome: r.outcome } : {}) }));
    },

    async putFilePart(jobId, part, data) {
      await inTransaction(async (d) => {
        await d.deleteFrom("job_files").where("job_id", "=", jobId).where("part", "=", part).execute();
        await d.insertInto("job_files").values({ job_id: jobId, part, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) }).execute();
      });
    },

    async clearFile(jobId) {
      await inTransaction((d) => d.deleteFrom("job_files").where("job_id", "=", jobId).execute());
    },

    async *fileParts(jobId) {
      for (let part = 0; ; part++) {
        const r = await db().selectFrom("job_files").select("data").where("job_id", "=", jobId).where("part", "=", part).executeTakeFirst();
        if (!r) return;
        yield Buffer.isBuffer(r.data) ? r.data : Buffer.from(r.data as Uint8Array);
      }
    },

    async fileSize(jobId) {
      const len = engine === "postgres" ? sql<number>`coalesce(sum(octet_length(data)), 0)` : sql<number>`coalesce(sum(length(data)), 0)`;
      const r = await db().selectFrom("job_files").select(len.as("n")).where("job_id", "=", jobId).executeTakeFirstOrThrow();
      return num(r.n as number | string);
    },

    async prune(before) {
      return inTransaction(async (d) => {
        const old = await d.selectFrom("jobs").select("id").where("state", "in", ["succeeded", "failed", "cancelled"]).where("finished_at", "<", before).limit(1000).execute();
        const ids = old.map((r) => r.id);
        if (ids.length === 0) return 0;
        for (const t of ["job_files", "job_errors", "job_units", "job_inputs", "job_tasks"] as const) await d.deleteFrom(t).where("job_id", "in", ids).execute();
        await d.deleteFrom("jobs").where("id", "in", ids).execute();
        return ids.length;
      });
    },

    now: () => now(db()),

    withSql: (fn) => inTransaction((d) => fn(txSql(d))),
  };
  return store;
}

const keyOf = (i: unknown) => {
  const o = i as { project?: string; id?: string };
  return `${o.project ?? DEFAULT_PROJECT}\u0000${o.id ?? ""}`;
};

/** Wait before the next attempt of a task: 2 s, 4 s, 8 s ... at most 5 min, with jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const d = Math.min(300_000, 2000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + (random() * d) / 2);
}

// ------------------------------------------------------------ rate limits ---

export function rateLimitStore(engine: Engine, db: () => Kysely<Database>, inTransaction: InTransaction): RateLimitStore {
  const clock = (_d: Kysely<Database>) =>
    engine === "postgres" ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint` : sql<number>`${Date.now()}`;
  /** A number parameter as a double (PostgreSQL would otherwise take the type of the column beside it). */
  const f = (x: number) => (engine === "postgres" ? sql`${x}::double precision` : sql`${x}`);
  const least = (a: unknown, b: unknown) => (engine === "postgres" ? sql`least(${a}, ${b})` : sql`min(${a}, ${b})`);
  const ensure = async (d: Kysely<Database>, key: string, burst: number) => {
    await d
      .insertInto("rate_limits")
      .values({ key, tokens: f(burst) as never, updated_at: engine === "postgres" ? (sql`(extract(epoch from clock_timestamp()) * 1000)::bigint` as never) : Date.now(), paused_until: 0 })
      .onConflict((oc) => oc.column("key").doNothing())
      .execute();
  };
  return {
    async take(key, n, perMinute, burst) {
      const rate = perMinute / 60_000;
      const d = db();
      for (let first = true; ; first = false) {
        const now = clock(d);
        // Refill by elapsed time (at most the burst), then take n if they are there and nobody paused the bucket.
        const level = least(f(burst), sql`tokens + (${now} - updated_at) * ${f(rate)}`);
        const r = await d
          .updateTable("rate_limits")
          .set({ tokens: sql`${level} - ${f(n)}`, updated_at: now } as never)
          .where("key", "=", key)
          .where(sql<boolean>`${level} >= ${f(Math.min(n, burst) - 1e-9)}`)
          .where("paused_until", "<=", now as never)
          .returning("tokens")
          .execute();
        if (r.length > 0) return 0;
        const s = await d
          .selectFrom("rate_limits")
          .select([sql<number>`${level}`.as("level"), "paused_until", sql<number>`${now}`.as("now")])
          .where("key", "=", key)
          .executeTakeFirst();
        if (!s) {
          if (!first) throw new RlxfError("store_inconsistent", `rate limit bucket "${key}" vanished`);
          await ensure(d, key, burst);
          continue;
        }
        const t = num(s.now as never);
        const paused = num(s.paused_until) - t;
        if (paused > 0) return paused;
        const missing = Math.min(n, burst) - Number(s.level);
        return Math.max(1, Math.ceil(missing / rate));
      }
    },
    async adjust(key, delta, perMinute, burst) {
      if (delta === 0) return;
      const rate = perMinute / 60_000;
      const d = db();
      const now = clock(d);
      await d
        .updateTable("rate_limits")
        .set({ tokens: sql`${least(f(burst), sql`tokens + (${now} - updated_at) * ${f(rate)}`)} - ${f(delta)}`, updated_at: now } as never)
        .where("key", "=", key)
        .execute();
    },
    async pause(key, ms) {
      await inTransaction(async (d) => {
        await ensure(d, key, 1);
        const until = engine === "postgres" ? sql`(extract(epoch from clock_timestamp()) * 1000)::bigint + ${Math.ceil(ms)}` : sql`${Date.now() + Math.ceil(ms)}`;
        await d
          .updateTable("rate_limits")
          .set({ paused_until: sql`case when paused_until > ${until} then paused_until else ${until} end` } as never)
          .where("key", "=", key)
          .execute();
      });
    },
    async pausedFor(key) {
      const d = db();
      const r = await d.selectFrom("rate_limits").select(["paused_until", clock(d).as("now")]).where("key", "=", key).executeTakeFirst();
      if (!r) return 0;
      return Math.max(0, num(r.paused_until) - num(r.now as never));
    },
  };
}
