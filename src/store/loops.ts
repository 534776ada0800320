/**
 * Records of test-time loops and of the memory of feedback (src/loops):
 *
 * - **loop runs** (table `loop_runs`): one row per run of a loop (refine, retry, reflexion, best-of-n,
 *   multi-turn) with its configuration and, once finished, its summary;
 * - **loop steps** (table `loop_steps`): the run's trace in order, one row per step (an attempt, a candidate,
 *   a reflection), pointing at the generation and feedback records the step stored;
 * - **memory entries** (table `memory_entries`): principles distilled from feedback (each with a scope saying
 *   when it applies and when it does not, and provenance to its feedback) and past corrections, retrievable
 *   for new inputs; an entry is retired, never edited.
 */
import { type ColumnType, type Kysely, type Migration, sql } from "kysely";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { DEFAULT_PROJECT, Id } from "../feedback/schema.js";
import { badKeyString, canonicalJson, chunks, isoOf } from "./codec.js";
import type { Database, Engine } from "./tables.js";

type BigIntColumn = ColumnType<number | string, number, number>;
type NullableBigInt = ColumnType<number | string | null, number | null | undefined, number | null>;

export interface LoopRunsTable {
  project: string;
  id: string;
  loop: string;
  status: string;
  body: string;
  created_at: BigIntColumn;
  finished_at: NullableBigInt;
}

export interface LoopStepsTable {
  project: string;
  run_id: string;
  seq: number;
  task_id: string;
  turn: number;
  generation_id: string | null;
  body: string;
  created_at: BigIntColumn;
}

export interface MemoryEntriesTable {
  project: string;
  id: string;
  kind: string;
  status: string;
  text: string;
  body: string;
  created_at: BigIntColumn;
  retired_at: NullableBigInt;
}

export const loopsMigration = (engine: Engine): Migration => ({
  async up(db: Kysely<any>) {
    // PostgreSQL: byte-order ("C") collation, so ids sort as on SQLite.
    const text = engine === "postgres" ? sql`text collate "C"` : sql`text`;
    await db.schema
      .createTable("loop_runs")
      .addColumn("project", text, (c) => c.notNull())
      .addColumn("id", text, (c) => c.notNull())
      .addColumn("loop", text, (c) => c.notNull())
      .addColumn("status", text, (c) => c.notNull())
      .addColumn("body", sql`text`, (c) => c.notNull())
      .addColumn("created_at", sql`bigint`, (c) => c.notNull())
      .addColumn("finished_at", sql`bigint`)
      .addPrimaryKeyConstraint("loop_runs_pk", ["project", "id"])
      .execute();
    await db.schema.createIndex("loop_runs_created").on("loop_runs").columns(["project", "created_at"]).execute();

    await db.schema
      .createTable("loop_steps")
      .addColumn("project", text, (c) => c.notNull())
      .addColumn("run_id", text, (c) => c.notNull())
      .addColumn("seq", sql`integer`, (c) => c.notNull())
      .addColumn("task_id", text, (c) => c.notNull())
      .addColumn("turn", sql`integer`, (c) => c.notNull())
      .addColumn("generation_id", text)
      .addColumn("body", sql`text`, (c) => c.notNull())
      .addColumn("created_at", sql`bigint`, (c) => c.notNull())
      .addPrimaryKeyConstraint("loop_steps_pk", ["project", "run_id", "seq"])
      .addForeignKeyConstraint("loop_steps_run_fk", ["project", "run_id"], "loop_runs", ["project", "id"])
      .execute();

    await db.schema
      .createTable("memory_entries")
      .addColumn("project", text, (c) => c.notNull())
      .addColumn("id", text, (c) => c.notNull())
      .addColumn("kind", text, (c) => c.notNull())
      .addColumn("status", text, (c) => c.notNull())
      .addColumn("text", sql`text`, (c) => c.notNull())
      .addColumn("body", sql`text`, (c) => c.notNull())
      .addColumn("created_at", sql`bigint`, (c) => c.notNull())
      .addColumn("retired_at", sql`bigint`)
      .addPrimaryKeyConstraint("memory_entries_pk", ["project", "id"])
      .execute();
    await db.schema.createIndex("memory_entries_kind").on("memory_entries").columns(["project", "kind", "status"]).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable("memory_entries").execute();
    await db.schema.dropTable("loop_steps").execute();
    await db.schema.dropTable("loop_runs").execute();
  },
});

type InTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

function checkId(path: string, value: unknown, what: string): asserts value is string {
  const r = Id.safeParse(value);
  const bad = r.success ? badKeyString(value as string) : r.error.issues[0]?.message;
  if (bad) throw new ValidationError([{ path, message: bad }], undefined, what);
}

function jsonText(path: string, value: unknown, what: string): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch (e) {
    throw new ValidationError([{ path, message: `must be JSON-serialisable: ${(e as Error).message}` }], undefined, what);
  }
  if (s === undefined) throw new ValidationError([{ path, message: "is required" }], undefined, what);
  return s;
}

// ------------------------------------------------------------- loop runs ---

export const LOOP_RUN_STATUSES = ["running", "done", "failed"] as const;
export type LoopRunStatus = (typeof LOOP_RUN_STATUSES)[number];

export interface LoopRun {
  project: string;
  id: string;
  /** Which loop: refine, retry, reflexion, best-of-n, multi-turn... */
  loop: string;
  status: LoopRunStatus;
  /** How the run was set up (policy, feedback source, budget...). */
  config: Record<string, unknown>;
  /** Set when the run finishes. */
  summary?: Record<string, unknown>;
  createdAt: string;
  finishedAt?: string;
}

export interface LoopStep {
  runId: string;
  /** Order of the step within the run (0, 1, ...). */
  seq: number;
  taskId: string;
  /** The attempt (or candidate) number within the task, from 0. */
  turn: number;
  /** The generation the step produced, when it produced one. */
  generationId?: string;
  /** The step's record: its role, feedback ids, correctness, tokens, cost... */
  data: Record<string, unknown>;
  createdAt: string;
}

export interface LoopStepInput {
  seq: number;
  taskId: string;
  turn: number;
  generationId?: string;
  data: Record<string, unknown>;
}

export interface LoopRunStore {
  /** Record a new run (status "running"); a run id already used in the project is a ConflictError. */
  create(input: { project?: string; id: string; loop: string; config: Record<string, unknown> }): Promise<LoopRun>;
  /** Mark a run done or failed, with its summary. */
  finish(project: string, id: string, status: Exclude<LoopRunStatus, "running">, summary: Record<string, unknown>): Promise<void>;
  get(project: string, id: string): Promise<LoopRun | undefined>;
  /** Runs of a project, newest first. */
  list(filter?: { project?: string; loop?: string; limit?: number }): Promise<LoopRun[]>;
  /** Append steps to a run (each `seq` once: a repeated seq is a ConflictError). */
  addSteps(project: string, runId: string, steps: readonly LoopStepInput[]): Promise<void>;
  /** A run's steps in `seq` order. */
  steps(project: string, runId: string): Promise<LoopStep[]>;
}

type RunRow = { project: string; id: string; loop: string; status: string; body: string; created_at: number | string; finished_at: number | string | null };

function runFromRow(r: RunRow): LoopRun {
  const body = JSON.parse(r.body) as { config: Record<string, unknown>; summary?: Record<string, unknown> };
  return {
    project: r.project,
    id: r.id,
    loop: r.loop,
    status: r.status as LoopRunStatus,
    config: body.config,
    ...(body.summary !== undefined ? { summary: body.summary } : {}),
    createdAt: isoOf(r.created_at),
    ...(r.finished_at !== null && r.finished_at !== undefined ? { finishedAt: isoOf(r.finished_at) } : {}),
  };
}

const isUniqueViolation = (e: unknown) => /unique|duplicate|primary key/i.test(String((e as Error)?.message));

export function loopRunStore(db: () => Kysely<Database>, inTransaction: InTransaction): LoopRunStore {
  return {
    async create(input) {
      const project = input.project ?? DEFAULT_PROJECT;
      checkId("project", project, "loop run");
      checkId("id", input.id, "loop run");
      checkId("loop", input.loop, "loop run");
      const row = {
        project,
        id: input.id,
        loop: input.loop,
        status: "running",
        body: jsonText("config", { config: input.config }, "loop run"),
        created_at: Date.now(),
        finished_at: null,
      };
      try {
        await inTransaction((d) => d.insertInto("loop_runs").values(row).execute());
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`loop run "${input.id}" already exists in project "${project}": pick another --run-id`);
        throw e;
      }
      return runFromRow(row);
    },
    async finish(project, id, status, summary) {
      if (status !== "done" && status !== "failed") throw new ValidationError([{ path: "status", message: 'must be "done" or "failed"' }], undefined, "loop run");
      const text = jsonText("summary", summary, "loop run");
      await inTransaction(async (d) => {
        const r = await d.selectFrom("loop_runs").select("body").where("project", "=", project).where("id", "=", id).executeTakeFirst();
        if (!r) throw new NotFoundError(`no loop run "${id}" in project "${project}"`);
        const body = JSON.parse(r.body) as Record<string, unknown>;
        body.summary = JSON.parse(text);
        await d
          .updateTable("loop_runs")
          .set({ status, body: JSON.stringify(body), finished_at: Date.now() })
          .where("project", "=", project)
          .where("id", "=", id)
          .execute();
      });
    },
    async get(project, id) {
      const r = await db().selectFrom("loop_runs").selectAll().where("project", "=", project).where("id", "=", id).executeTakeFirst();
      return r ? runFromRow(r) : undefined;
    },
    async list(filter = {}) {
      let q = db()
        .selectFrom("loop_runs")
        .selectAll()
        .where("project", "=", filter.project ?? DEFAULT_PROJECT);
      if (filter.loop !== undefined) q = q.where("loop", "=", filter.loop);
      q = q.orderBy("created_at", "desc").orderBy("id", "desc");
      if (filter.limit !== undefined) q = q.limit(filter.limit);
      return (await q.execute()).map(runFromRow);
    },
    async addSteps(project, runId, steps) {
      if (steps.length === 0) return;
      const rows = steps.map((s, i) => {
        if (!Number.isInteger(s.seq) || s.seq < 0) throw new ValidationError([{ path: `${i}.seq`, message: "must be a non-negative integer" }], undefined, "loop step");
        if (!Number.isInteger(s.turn) || s.turn < 0) throw new ValidationError([{ path: `${i}.turn`, message: "must be a non-negative integer" }], undefined, "loop step");
        checkId(`${i}.taskId`, s.taskId, "loop step");
        if (s.generationId !== undefined) checkId(`${i}.generationId`, s.generationId, "loop step");
        return {
          project,
          run_id: runId,
          seq: s.seq,
          task_id: s.taskId,
          turn: s.turn,
          generation_id: s.generationId ?? null,
          body: jsonText(`${i}.data`, s.data, "loop step"),
          created_at: Date.now(),
        };
      });
      try {
        await inTransaction(async (d) => {
          const run = await d.selectFrom("loop_runs").select("id").where("project", "=", project).where("id", "=", runId).executeTakeFirst();
          if (!run) throw new NotFoundError(`no loop run "${runId}" in project "${project}"`);
          for (const chunk of chunks(rows, 200)) await d.insertInto("loop_steps").values(chunk).execute();
        });
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConflictError(`loop run "${runId}" already has a step with one of these seq numbers`);
        throw e;
      }
    },
    async steps(project, runId) {
      const rows = await db()
        .selectFrom("loop_steps")
        .selectAll()
        .where("project", "=", project)
        .where("run_id", "=", runId)
        .orderBy("seq")
        .execute();
      return rows.map((r) => ({
        runId: r.run_id,
        seq: Number(r.seq),
        taskId: r.task_id,
        turn: Number(r.turn),
        ...(r.generation_id !== null ? { generationId: r.generation_id } : {}),
        data: JSON.parse(r.body) as Record<string, unknown>,
        createdAt: isoOf(r.created_at),
      }));
    },
  };
}

// --------------------------------------------------------- memory entries ---

export const MEMORY_KINDS = ["principle", "correction"] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];
export const MEMORY_STATUSES = ["active", "retired"] as const;
export type MemoryStatus = (typeof MEMORY_STATUSES)[number];

/** When an entry applies (C3PO: feedback is scoped, so it does not spill over onto inputs it was not about). */
export interface MemoryScope {
  /** When it applies, in words. */
  when: string;
  /** When it does not apply, in words. */
  whenNot?: string;
  /** Inputs it applies to (e.g. the prompt whose feedback it came from). */
  examples: string[];
  /** Inputs it must not be applied to. */
  counterExamples?: string[];
}

/** Where an entry came from. */
export interface MemoryProvenance {
  feedbackIds: string[];
  generationIds: string[];
  itemIds: string[];
}

export interface MemoryEntryInput {
  /** Default "default". */
  project?: string;
  id: string;
  kind: MemoryKind;
  /** The principle, or for a correction the corrected output. */
  text: string;
  scope: MemoryScope;
  provenance: MemoryProvenance;
  metadata?: Record<string, unknown>;
}

export interface MemoryEntry extends Required<Omit<MemoryEntryInput, "metadata">> {
  metadata?: Record<string, unknown>;
  status: MemoryStatus;
  createdAt: string;
  retiredAt?: string;
}

export interface MemoryStore {
  /** Store entries (all or nothing); an id stored with the same body is `existing`, with another body a ConflictError. */
  put(entries: readonly MemoryEntryInput[]): Promise<{ inserted: number; existing: number }>;
  get(project: string, id: string): Promise<MemoryEntry | undefined>;
  /** Entries sorted by id, filtered by kind and status (default: every status). */
  list(filter?: { project?: string; kind?: MemoryKind; status?: MemoryStatus }): Promise<MemoryEntry[]>;
  /** Retire an entry (it is no longer retrieved); false when it was already retired. NotFoundError when there is none. */
  retire(project: string, id: string): Promise<boolean>;
}

type MemoryRow = { project: string; id: string; kind: string; status: string; text: string; body: string; created_at: number | string; retired_at: number | string | null };

function entryFromRow(r: MemoryRow): MemoryEntry {
  const body = JSON.parse(r.body) as { scope: MemoryScope; provenance: MemoryProvenance; metadata?: Record<string, unknown> };
  return {
    project: r.project,
    id: r.id,
    kind: r.kind as MemoryKind,
    status: r.status as MemoryStatus,
    text: r.text,
    scope: body.scope,
    provenance: body.provenance,
    ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
    createdAt: isoOf(r.created_at),
    ...(r.retired_at !== null && r.retired_at !== undefined ? { retiredAt: isoOf(r.retired_at) } : {}),
  };
}

function checkEntry(e: MemoryEntryInput, i: number): void {
  const issues: { path: string; message: string }[] = [];
  const add = (path: string, message: string) => issues.push({ path: `${i}.${path}`, message });
  if (!(MEMORY_KINDS as readonly string[]).includes(e.kind)) add("kind", `must be one of ${MEMORY_KINDS.join(", ")}`);
  if (typeof e.text !== "string" || !e.text.trim()) add("text", "must be a non-empty string");
  if (!e.scope || typeof e.scope.when !== "string") add("scope.when", "must be a string");
  if (!e.scope || !Array.isArray(e.scope.examples) || e.scope.examples.some((x) => typeof x !== "string")) add("scope.examples", "must be an array of strings");
  if (e.scope?.counterExamples !== undefined && (!Array.isArray(e.scope.counterExamples) || e.scope.counterExamples.some((x) => typeof x !== "string"))) {
    add("scope.counterExamples", "must be an array of strings");
  }
  for (const k of ["feedbackIds", "generationIds", "itemIds"] as const) {
    const v = e.provenance?.[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) add(`provenance.${k}`, "must be an array of ids");
  }
  if (issues.length) throw new ValidationError(issues, undefined, "memory entry");
}

export function memoryStore(db: () => Kysely<Database>, inTransaction: InTransaction): MemoryStore {
  return {
    async put(entries) {
      const rows = entries.map((e, i) => {
        const project = e.project ?? DEFAULT_PROJECT;
        checkId(`${i}.project`, project, "memory entry");
        checkId(`${i}.id`, e.id, "memory entry");
        checkEntry(e, i);
        const body = { scope: e.scope, provenance: e.provenance, ...(e.metadata !== undefined ? { metadata: e.metadata } : {}) };
        return { project, id: e.id, kind: e.kind, status: "active", text: e.text, body: jsonText(`${i}`, body, "memory entry"), created_at: Date.now(), retired_at: null };
      });
      let inserted = 0;
      let existing = 0;
      await inTransaction(async (d) => {
        const seen = new Map<string, string>();
        for (const r of rows) {
          const key = `${r.project}\u0000${r.id}`;
          const same = canonicalJson({ kind: r.kind, text: r.text, body: JSON.parse(r.body) });
          const before = seen.get(key);
          if (before !== undefined) {
            if (before !== same) throw new ConflictError(`memory entry "${r.id}" appears twice in the batch with different bodies`);
            existing++;
            continue;
          }
          seen.set(key, same);
          const old = await d.selectFrom("memory_entries").select(["kind", "text", "body"]).where("project", "=", r.project).where("id", "=", r.id).executeTakeFirst();
          if (old) {
            if (canonicalJson({ kind: old.kind, text: old.text, body: JSON.parse(old.body) }) !== same) {
              throw new ConflictError(`memory entry "${r.id}" is already stored in project "${r.project}" with a different body`);
            }
            existing++;
            continue;
          }
          await d.insertInto("memory_entries").values(r).execute();
          inserted++;
        }
      });
      return { inserted, existing };
    },
    async get(project, id) {
      const r = await db().selectFrom("memory_entries").selectAll().where("project", "=", project).where("id", "=", id).executeTakeFirst();
      return r ? entryFromRow(r) : undefined;
    },
    async list(filter = {}) {
      let q = db()
        .selectFrom("memory_entries")
        .selectAll()
        .where("project", "=", filter.project ?? DEFAULT_PROJECT);
      if (filter.kind !== undefined) q = q.where("kind", "=", filter.kind);
      if (filter.status !== undefined) q = q.where("status", "=", filter.status);
      return (await q.orderBy("id").execute()).map(entryFromRow);
    },
    async retire(project, id) {
      return inTransaction(async (d) => {
        const r = await d.selectFrom("memory_entries").select("status").where("project", "=", project).where("id", "=", id).executeTakeFirst();
        if (!r) throw new NotFoundError(`no memory entry "${id}" in project "${project}" (rlxf memory list shows them)`);
        if (r.status === "retired") return false;
        await d.updateTable("memory_entries").set({ status: "retired", retired_at: Date.now() }).where("project", "=", project).where("id", "=", id).execute();
        return true;
      });
    },
  };
}
