/**
 * Annotation queues and background export jobs, kept beside the records:
 *
 * - **queues** (table `queues`): a named selection of tasks with its definition (questions, instructions...)
 *   kept as JSON, how many distinct annotators each task needs, and how long a task stays locked;
 * - **tasks** (table `queue_tasks`): one item and the generations shown for it (one, a pair, or a list),
 *   in a fixed position;
 * - **claims** (table `queue_claims`): one annotator's state on one task: a lock with its expiry, the
 *   order the generations were shown in (recorded once, kept across reloads), a draft, and once submitted
 *   the submission id and the feedback ids it produced (so a retried submission is answered, not repeated);
 * - **export jobs** (table `export_jobs`): an export running (or run) in the background and its file.
 *
 * A task is handed to an annotator when they have not submitted or skipped it and fewer than
 * `annotatorsPerItem` other annotators have submitted it or hold a live lock on it (Argilla's overlap,
 * Langfuse's annotation queues). An expired lock counts for nothing.
 */
import { type ColumnType, type Kysely, type Migration, sql } from "kysely";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { type Feedback, Id } from "../feedback/schema.js";
import { badKeyString, chunks, feedbackFromRow, isoOf, num } from "./codec.js";
import type { Database, Engine } from "./tables.js";
import type { WriteBatch, WriteReport } from "./types.js";
import { writeBatch } from "./write.js";

// ---------------------------------------------------------------- tables ---

type BigIntColumn = ColumnType<number | string, number, number>;
type IntColumn = ColumnType<number | string, number, number>;

export interface QueuesTable {
  project: string;
  id: string;
  name: string;
  annotators_per_item: IntColumn;
  lock_seconds: IntColumn;
  body: string;
  created_at: BigIntColumn;
}

export interface QueueTasksTable {
  project: string;
  queue_id: string;
  id: string;
  position: IntColumn;
  item_id: string;
  generation_ids: string;
  /** Submissions so far. */
  submitted: ColumnType<number | string, number | undefined, number>;
  /** 1 while the task needs more submissions, else 0 (indexed: taking a task skips finished ones at once). */
  open: ColumnType<number | string, number | undefined, number>;
}

export interface QueueClaimsTable {
  project: string;
  queue_id: string;
  task_id: string;
  annotator: string;
  status: string;
  locked_until: BigIntColumn;
  shown_order: string;
  draft: string | null;
  submission_id: string | null;
  feedback_ids: string | null;
  updated_at: BigIntColumn;
}

export interface ExportJobsTable {
  project: string;
  id: string;
  format: string;
  status: string;
  rows: IntColumn;
  error: string | null;
  file: string | null;
  body: string;
  created_at: BigIntColumn;
  /** Last sign of life of the job that runs it (its heartbeat). */
  updated_at: BigIntColumn;
  finished_at: import("kysely").ColumnType<number | string | null, number | null | undefined, number | null>;
}

/** The tables of this module, merged into the store's `Database`. */
export interface QueueTables {
  queues: QueuesTable;
  queue_tasks: QueueTasksTable;
  queue_claims: QueueClaimsTable;
  export_jobs: ExportJobsTable;
}

/** Migration "0006_queues". */
export function queuesMigration(engine: Engine): Migration {
  const text = engine === "postgres" ? sql`text collate "C"` : sql`text`;
  const bigint = sql`bigint`;
  const int = sql`integer`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("queues")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("id", text, (c) => c.notNull())
        .addColumn("name", text, (c) => c.notNull())
        .addColumn("annotators_per_item", int, (c) => c.notNull())
        .addColumn("lock_seconds", int, (c) => c.notNull())
        .addColumn("body", sql`text`, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("queues_pk", ["project", "id"])
        .execute();

      await db.schema
        .createTable("queue_tasks")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("queue_id", text, (c) => c.notNull())
        .addColumn("id", text, (c) => c.notNull())
        .addColumn("position", int, (c) => c.notNull())
        .addColumn("item_id", text, (c) => c.notNull())
        .addColumn("generation_ids", sql`text`, (c) => c.notNull())
        .addColumn("submitted", int, (c) => c.notNull().defaultTo(0))
        .addColumn("open", int, (c) => c.notNull().defaultTo(1))
        .addPrimaryKeyConstraint("queue_tasks_pk", ["project", "queue_id", "id"])
        .addForeignKeyConstraint("queue_tasks_queue_fk", ["project", "queue_id"], "queues", ["project", "id"])
        .addForeignKeyConstraint("queue_tasks_item_fk", ["project", "item_id"], "items", ["project", "id"])
        .execute();
      await db.schema.createIndex("queue_tasks_position").on("queue_tasks").columns(["project", "queue_id", "position"]).execute();
      await db.schema.createIndex("queue_tasks_open").on("queue_tasks").columns(["project", "queue_id", "open", "position"]).execute();

      await db.schema
        .createTable("queue_claims")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("queue_id", text, (c) => c.notNull())
        .addColumn("task_id", text, (c) => c.notNull())
        .addColumn("annotator", text, (c) => c.notNull())
        .addColumn("status", text, (c) => c.notNull())
        .addColumn("locked_until", bigint, (c) => c.notNull())
        .addColumn("shown_order", sql`text`, (c) => c.notNull())
        .addColumn("draft", sql`text`)
        .addColumn("submission_id", text)
        .addColumn("feedback_ids", sql`text`)
        .addColumn("updated_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("queue_claims_pk", ["project", "queue_id", "task_id", "annotator"])
        .addForeignKeyConstraint("queue_claims_task_fk", ["project", "queue_id", "task_id"], "queue_tasks", ["project", "queue_id", "id"])
        .execute();
      await db.schema.createIndex("queue_claims_annotator").on("queue_claims").columns(["project", "queue_id", "annotator", "status"]).execute();

      await db.schema
        .createTable("export_jobs")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("id", text, (c) => c.notNull())
        .addColumn("format", text, (c) => c.notNull())
        .addColumn("status", text, (c) => c.notNull())
        .addColumn("rows", int, (c) => c.notNull())
        .addColumn("error", sql`text`)
        .addColumn("file", sql`text`)
        .addColumn("body", sql`text`, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addColumn("updated_at", bigint, (c) => c.notNull())
        .addColumn("finished_at", bigint)
        .addPrimaryKeyConstraint("export_jobs_pk", ["project", "id"])
        .execute();
      await db.schema.createIndex("export_jobs_created").on("export_jobs").columns(["project", "created_at"]).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("export_jobs").execute();
      await db.schema.dropTable("queue_claims").execute();
      await db.schema.dropTable("queue_tasks").execute();
      await db.schema.dropTable("queues").execute();
    },
  };
}

// ----------------------------------------------------------------- types ---

export interface QueueInput {
  project: string;
  id: string;
  name: string;
  /** Distinct annotators each task needs (>= 1). */
  annotatorsPerItem: number;
  /** How long `next` locks a task to its annotator (>= 1). */
  lockSeconds: number;
  /** Everything else the queue says (questions, instructions, selection...), kept as JSON. */
  definition: Record<string, unknown>;
}

export interface QueueRecord extends QueueInput {
  createdAt: string;
}

export interface TaskInput {
  itemId: string;
  /** Generations the task shows, in the order feedback targets them (1 for a single output, 2 for a pair...). */
  generationIds: string[];
}

export interface QueueTask extends TaskInput {
  queueId: string;
  /** "t1", "t2", ... in queue order. */
  id: string;
  position: number;
}

export const CLAIM_STATUSES = ["locked", "submitted", "skipped"] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

export interface Claim {
  queueId: string;
  taskId: string;
  annotator: string;
  status: ClaimStatus;
  /** Epoch ms; a `locked` claim past this time no longer holds the task. */
  lockedUntil: number;
  /** `shownOrder[k]` is the index (in `generationIds`) of the generation shown k-th. */
  shownOrder: number[];
  draft?: unknown;
  submissionId?: string;
  feedbackIds?: string[];
  updatedAt: string;
}

export interface QueueProgress {
  /** Tasks in the queue. */
  tasks: number;
  /** Tasks with all the submissions they need. */
  done: number;
  /** Submissions the queue needs in all (tasks × annotatorsPerItem). */
  needed: number;
  /** Submissions made (at most `annotatorsPerItem` per task count toward `needed`). */
  submitted: number;
  skipped: number;
  /** Live locks (tasks being worked on now). */
  inProgress: number;
}

export interface ExportJob {
  project: string;
  id: string;
  format: string;
  status: "running" | "done" | "failed";
  rows: number;
  error?: string;
  /** Where the file is (server side). */
  file?: string;
  /** What was asked for (filters...). */
  request: Record<string, unknown>;
  createdAt: string;
  /** Last heartbeat of the job (or its end). */
  updatedAt: string;
  finishedAt?: string;
}

export interface SubmitInput {
  submissionId: string;
  /** Records the answers make (feedback, and generations such as corrections), written in the same transaction. */
  records: WriteBatch;
  feedbackIds: string[];
  now: number;
}

export type SubmitResult =
  | { status: "stored"; feedbackIds: string[]; report: WriteReport }
  | { status: "replayed"; feedbackIds: string[] };

export interface QueueStore {
  /** Create a queue with its tasks (positions and ids t1, t2, ... in the given order); ConflictError when the id exists. */
  create(queue: QueueInput, tasks: TaskInput[]): Promise<QueueRecord>;
  get(project: string, id: string): Promise<QueueRecord | undefined>;
  /** Queues of a project, newest first. */
  list(project: string): Promise<QueueRecord[]>;
  progress(project: string, queueId: string, now: number): Promise<QueueProgress>;
  /** One annotator's own counts in a queue: submitted, skipped, and whether they hold a live lock. */
  annotatorProgress(project: string, queueId: string, annotator: string, now: number): Promise<{ submitted: number; skipped: number; holding: number }>;
  /** Tasks in position order (all, or `offset`/`limit` of them). */
  tasks(project: string, queueId: string, opts?: { offset?: number; limit?: number }): Promise<QueueTask[]>;
  task(project: string, queueId: string, taskId: string): Promise<QueueTask | undefined>;
  claim(project: string, queueId: string, taskId: string, annotator: string): Promise<Claim | undefined>;
  /** Every claim of a queue (of one status when given; of the tasks in `taskIds` when given). */
  claims(project: string, queueId: string, status?: ClaimStatus, opts?: { taskIds?: readonly string[] }): Promise<Claim[]>;
  /**
   * The task `annotator` should work on, locked to them until now + lockSeconds: the one they hold already
   * (its lock renewed), else the first that still needs them. `shuffle(n)` gives the shown order of a task
   * they claim for the first time. Undefined when nothing is left for them.
   */
  next(project: string, queueId: string, annotator: string, opts: { now: number; shuffle: (n: number) => number[] }): Promise<{ task: QueueTask; claim: Claim } | undefined>;
  /** Keep a draft on a claim the annotator holds (not yet submitted or skipped); false when they hold none. */
  saveDraft(project: string, queueId: string, taskId: string, annotator: string, draft: unknown, now: number): Promise<boolean>;
  /** Skip a task: it is never offered to this annotator again. False when they never claimed it or submitted it. */
  skip(project: string, queueId: string, taskId: string, annotator: string, now: number): Promise<boolean>;
  /**
   * Free a task's live locks (one annotator's, or every one) so that others can take it; the claims keep their
   * draft and shown order for when their annotator comes back. Returns how many locks were freed.
   */
  release(project: string, queueId: string, taskId: string, now: number, annotator?: string): Promise<number>;
  /**
   * Delete a queue with its tasks and claims (drafts too), in one transaction; undefined when there is no such
   * queue. The feedback and generations submitted through it are kept.
   */
  remove(project: string, queueId: string): Promise<{ tasks: number; claims: number } | undefined>;
  /**
   * Write the submission's records and mark the claim submitted, in one transaction. The same submissionId
   * again is answered with the stored feedback ids (nothing written). NotFoundError when the annotator holds
   * no claim on the task; ConflictError when it was submitted under another submissionId, skipped, or its
   * lock expired while the task got all the annotators it needs.
   */
  submit(project: string, queueId: string, taskId: string, annotator: string, input: SubmitInput): Promise<SubmitResult>;
  /** Feedback records by id (missing ones left out), in the order asked. */
  feedbackByIds(project: string, ids: string[]): Promise<Feedback[]>;
  /** Feedback with any of `generationIds` among its targets, from the given source types. */
  feedbackOnGenerations(project: string, generationIds: string[], sourceTypes: string[]): Promise<Feedback[]>;

  createExport(job: { project: string; id: string; format: string; request: Record<string, unknown>; now: number }): Promise<ExportJob>;
  /** A running job's progress (records so far) and heartbeat. */
  progressExport(project: string, id: string, rows: number, now: number): Promise<void>;
  finishExport(project: string, id: string, outcome: { status: "done" | "failed"; rows: number; error?: string; file?: string; now: number }): Promise<void>;
  getExport(project: string, id: string): Promise<ExportJob | undefined>;
}

// ------------------------------------------------------------------ impl ---

type InTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

function checkId(path: string, value: unknown, what: string): asserts value is string {
  const r = Id.safeParse(value);
  const bad = r.success ? badKeyString(value as string) : r.error.issues[0]?.message;
  if (bad) throw new ValidationError([{ path, message: bad }], undefined, what);
}

function checkPositiveInt(path: string, v: number, what: string): void {
  if (!Number.isInteger(v) || v < 1) throw new ValidationError([{ path, message: "must be a positive integer" }], undefined, what);
}

type QueueRow = { project: string; id: string; name: string; annotators_per_item: number | string; lock_seconds: number | string; body: string; created_at: number | string };
type TaskRow = { project: string; queue_id: string; id: string; position: number | string; item_id: string; generation_ids: string };
type ClaimRow = {
  queue_id: string;
  task_id: string;
  annotator: string;
  status: string;
  locked_until: number | string;
  shown_order: string;
  draft: string | null;
  submission_id: string | null;
  feedback_ids: string | null;
  updated_at: number | string;
};
type ExportRow = {
  project: string;
  id: string;
  format: string;
  status: string;
  rows: number | string;
  error: string | null;
  file: string | null;
  body: string;
  created_at: number | string;
  updated_at: number | string;
  finished_at: number | string | null;
};

const queueOf = (r: QueueRow): QueueRecord => ({
  project: r.project,
  id: r.id,
  name: r.name,
  annotatorsPerItem: num(r.annotators_per_item),
  lockSeconds: num(r.lock_seconds),
  definition: JSON.parse(r.body) as Record<string, unknown>,
  createdAt: isoOf(r.created_at),
});

const taskOf = (r: TaskRow): QueueTask => ({
  queueId: r.queue_id,
  id: r.id,
  position: num(r.position),
  itemId: r.item_id,
  generationIds: JSON.parse(r.generation_ids) as string[],
});

const claimOf = (r: ClaimRow): Claim => ({
  queueId: r.queue_id,
  taskId: r.task_id,
  annotator: r.annotator,
  status: r.status as ClaimStatus,
  lockedUntil: num(r.locked_until),
  shownOrder: JSON.parse(r.shown_order) as number[],
  ...(r.draft !== null ? { draft: JSON.parse(r.draft) as unknown } : {}),
  ...(r.submission_id !== null ? { submissionId: r.submission_id } : {}),
  ...(r.feedback_ids !== null ? { feedbackIds: JSON.parse(r.feedback_ids) as string[] } : {}),
  updatedAt: isoOf(r.updated_at),
});

const exportOf = (r: ExportRow): ExportJob => ({
  project: r.project,
  id: r.id,
  format: r.format,
  status: r.status as ExportJob["status"],
  rows: num(r.rows),
  ...(r.error !== null ? { error: r.error } : {}),
  ...(r.file !== null ? { file: r.file } : {}),
  request: JSON.parse(r.body) as Record<string, unknown>,
  createdAt: isoOf(r.created_at),
  updatedAt: isoOf(r.updated_at),
  ...(r.finished_at !== null ? { finishedAt: isoOf(r.finished_at) } : {}),
});

const CLAIM_COLUMNS = ["queue_id", "task_id", "annotator", "status", "locked_until", "shown_order", "draft", "submission_id", "feedback_ids", "updated_at"] as const;
const TASK_COLUMNS = ["project", "queue_id", "id", "position", "item_id", "generation_ids"] as const;
const IN_CHUNK = 500;

/** Queues, tasks, claims and export jobs over `db` (reads) and `inTransaction` (writes). */
export function queueStore(engine: Engine, db: () => Kysely<Database>, inTransaction: InTransaction): QueueStore {
  /** PostgreSQL: serialise work on one queue (SQLite transactions are serialised already). */
  const lockQueue = async (d: Kysely<Database>, project: string, queueId: string) => {
    let q = d.selectFrom("queues").select(["project", "id", "name", "annotators_per_item", "lock_seconds", "body", "created_at"]).where("project", "=", project).where("id", "=", queueId);
    if (engine === "postgres") q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw new NotFoundError(`queue "${queueId}" not found`);
    return queueOf(row);
  };

  const claimRow = (d: Kysely<Database>, project: string, queueId: string, taskId: string, annotator: string) =>
    d
      .selectFrom("queue_claims")
      .select([...CLAIM_COLUMNS])
      .where("project", "=", project)
      .where("queue_id", "=", queueId)
      .where("task_id", "=", taskId)
      .where("annotator", "=", annotator)
      .executeTakeFirst();

  const taskRow = (d: Kysely<Database>, project: string, queueId: string, taskId: string) =>
    d.selectFrom("queue_tasks").select([...TASK_COLUMNS]).where("project", "=", project).where("queue_id", "=", queueId).where("id", "=", taskId).executeTakeFirst();

  return {
    async create(queue, tasks) {
      checkId("project", queue.project, "queue");
      checkId("id", queue.id, "queue");
      if (typeof queue.name !== "string" || queue.name.trim() === "") throw new ValidationError([{ path: "name", message: "must be a non-empty string" }], undefined, "queue");
      checkPositiveInt("annotatorsPerItem", queue.annotatorsPerItem, "queue");
      checkPositiveInt("lockSeconds", queue.lockSeconds, "queue");
      if (tasks.length === 0) throw new ValidationError([{ path: "tasks", message: "a queue needs at least one task" }], undefined, "queue");
      tasks.forEach((t, i) => {
        checkId(`tasks.${i}.itemId`, t.itemId, "queue");
        if (!Array.isArray(t.generationIds) || t.generationIds.length === 0) {
          throw new ValidationError([{ path: `tasks.${i}.generationIds`, message: "must list at least one generation" }], undefined, "queue");
        }
      });
      const createdAt = Date.now();
      const body = JSON.stringify(queue.definition ?? {});
      return inTransaction(async (d) => {
        const exists = await d.selectFrom("queues").select("id").where("project", "=", queue.project).where("id", "=", queue.id).executeTakeFirst();
        if (exists) throw new ConflictError(`queue "${queue.id}" already exists in project "${queue.project}"; choose another id`);
        // Every generation must be stored, in the task's item.
        const wanted = [...new Set(tasks.flatMap((t) => t.generationIds))];
        const itemOf = new Map<string, string>();
        for (const chunk of chunks(wanted, IN_CHUNK)) {
          const rows = await d.selectFrom("generations").select(["id", "item_id"]).where("project", "=", queue.project).where("id", "in", chunk).execute();
          for (const r of rows) itemOf.set(r.id, r.item_id);
        }
        tasks.forEach((t, i) => {
          t.generationIds.forEach((g, j) => {
            const it = itemOf.get(g);
            if (it === undefined) throw new ValidationError([{ path: `tasks.${i}.generationIds.${j}`, message: `generation "${g}" does not exist in project "${queue.project}"` }], undefined, "queue");
            if (it !== t.itemId) throw new ValidationError([{ path: `tasks.${i}.generationIds.${j}`, message: `generation "${g}" answers item "${it}", not "${t.itemId}"` }], undefined, "queue");
          });
        });
        await d
          .insertInto("queues")
          .values({ project: queue.project, id: queue.id, name: queue.name, annotators_per_item: queue.annotatorsPerItem, lock_seconds: queue.lockSeconds, body, created_at: createdAt })
          .execute();
        const rows = tasks.map((t, i) => ({
          project: queue.project,
          queue_id: queue.id,
          id: `t${i + 1}`,
          position: i + 1,
          item_id: t.itemId,
          generation_ids: JSON.stringify(t.generationIds),
        }));
        for (const chunk of chunks(rows, 200)) await d.insertInto("queue_tasks").values(chunk).execute();
        return { ...queue, definition: JSON.parse(body) as Record<string, unknown>, createdAt: isoOf(createdAt) };
      });
    },

    async get(project, id) {
      const r = await db()
        .selectFrom("queues")
        .select(["project", "id", "name", "annotators_per_item", "lock_seconds", "body", "created_at"])
        .where("project", "=", project)
        .where("id", "=", id)
        .executeTakeFirst();
      return r && queueOf(r);
    },

    async list(project) {
      const rows = await db()
        .selectFrom("queues")
        .select(["project", "id", "name", "annotators_per_item", "lock_seconds", "body", "created_at"])
        .where("project", "=", project)
        .orderBy("created_at", "desc")
        .orderBy("id")
        .execute();
      return rows.map(queueOf);
    },

    async progress(project, queueId, now) {
      const d = db();
      const q = await d.selectFrom("queues").select("annotators_per_item").where("project", "=", project).where("id", "=", queueId).executeTakeFirst();
      if (!q) throw new NotFoundError(`queue "${queueId}" not found`);
      const per = num(q.annotators_per_item);
      const tasks = await d
        .selectFrom("queue_tasks")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("project", "=", project)
        .where("queue_id", "=", queueId)
        .executeTakeFirstOrThrow();
      const perTask = await d
        .selectFrom("queue_claims")
        .select((eb) => ["task_id", eb.fn.countAll<number | string>().as("n")])
        .where("project", "=", project)
        .where("queue_id", "=", queueId)
        .where("status", "=", "submitted")
        .groupBy("task_id")
        .execute();
      const byStatus = await d
        .selectFrom("queue_claims")
        .select((eb) => ["status", eb.fn.countAll<number | string>().as("n")])
        .where("project", "=", project)
        .where("queue_id", "=", queueId)
        .where((eb) => eb.or([eb("status", "!=", "locked"), eb("locked_until", ">", now)]))
        .groupBy("status")
        .execute();
      const count = (s: string) => num(byStatus.find((r) => r.status === s)?.n ?? 0);
      const nTasks = num(tasks.n);
      return {
        tasks: nTasks,
        done: perTask.filter((r) => num(r.n) >= per).length,
        needed: nTasks * per,
        submitted: perTask.reduce((s, r) => s + Math.min(per, num(r.n)), 0),
        skipped: count("skipped"),
        inProgress: count("locked"),
      };
    },

    async annotatorProgress(project, queueId, annotator, now) {
      const rows = await db()
        .selectFrom("queue_claims")
        .select((eb) => ["status", eb.fn.countAll<number | string>().as("n")])
        .where("project", "=", project)
        .where("queue_id", "=", queueId)
        .where("annotator", "=", annotator)
        .where((eb) => eb.or([eb("status", "!=", "locked"), eb("locked_until", ">", now)]))
        .groupBy("status")
        .execute();
      const count = (s: string) => num(rows.find((r) => r.status === s)?.n ?? 0);
      return { submitted: count("submitted"), skipped: count("skipped"), holding: count("locked") };
    },

    async tasks(project, queueId, opts = {}) {
      let q = db().selectFrom("queue_tasks").select([...TASK_COLUMNS]).where("project", "=", project).where("queue_id", "=", queueId).orderBy("position");
      if (opts.limit !== undefined) q = q.limit(opts.limit);
      if (opts.offset !== undefined) q = q.offset(opts.offset);
      return (await q.execute()).map(taskOf);
    },

    async task(project, queueId, taskId) {
      const r = await taskRow(db(), project, queueId, taskId);
      return r && taskOf(r);
    },

    async claim(project, queueId, taskId, annotator) {
      const r = await claimRow(db(), project, queueId, taskId, annotator);
      return r && claimOf(r);
    },

    async claims(project, queueId, status, opts = {}) {
      if (opts.taskIds && opts.taskIds.length === 0) return [];
      let q = db().selectFrom("queue_claims").select([...CLAIM_COLUMNS]).where("project", "=", project).where("queue_id", "=", queueId);
      if (status !== undefined) q = q.where("status", "=", status);
      if (opts.taskIds) q = q.where("task_id", "in", [...opts.taskIds]);
      return (await q.orderBy("task_id").orderBy("annotator").execute()).map(claimOf);
    },

    async next(project, queueId, annotator, { now, shuffle }) {
      checkId("annotator", annotator, "claim");
      return inTransaction(async (d) => {
        const queue = await lockQueue(d, project, queueId);
        const until = now + queue.lockSeconds * 1000;
        // A task they hold already comes back, its lock renewed.
        const held = await d
          .selectFrom("queue_claims")
          .select([...CLAIM_COLUMNS])
          .where("project", "=", project)
          .where("queue_id", "=", queueId)
          .where("annotator", "=", annotator)
          .where("status", "=", "locked")
          .where("locked_until", ">", now)
          .orderBy("updated_at")
          .orderBy("task_id")
          .executeTakeFirst();
        if (held) {
          await d
            .updateTable("queue_claims")
            .set({ locked_until: until, updated_at: now })
            .where("project", "=", project)
            .where("queue_id", "=", queueId)
            .where("task_id", "=", held.task_id)
            .where("annotator", "=", annotator)
            .execute();
          const task = taskOf((await taskRow(d, project, queueId, held.task_id))!);
          return { task, claim: claimOf({ ...held, locked_until: until, updated_at: now }) };
        }
        const row = await d
          .selectFrom("queue_tasks as t")
          .select(["t.project", "t.queue_id", "t.id", "t.position", "t.item_id", "t.generation_ids"])
          .where("t.project", "=", project)
          .where("t.queue_id", "=", queueId)
          .where("t.open", "=", 1)
          .where((eb) =>
            eb.and([
              eb.not(
                eb.exists(
                  eb
                    .selectFrom("queue_claims as mine")
                    .select("mine.task_id")
                    .whereRef("mine.project", "=", "t.project")
                    .whereRef("mine.queue_id", "=", "t.queue_id")
                    .whereRef("mine.task_id", "=", "t.id")
                    .where("mine.annotator", "=", annotator)
                    .where("mine.status", "in", ["submitted", "skipped"]),
                ),
              ),
              eb(
                eb
                  .selectFrom("queue_claims as c")
                  .select((e) => e.fn.countAll().as("n"))
                  .whereRef("c.project", "=", "t.project")
                  .whereRef("c.queue_id", "=", "t.queue_id")
                  .whereRef("c.task_id", "=", "t.id")
                  .where("c.annotator", "!=", annotator)
                  .where((e) => e.or([e("c.status", "=", "submitted"), e.and([e("c.status", "=", "locked"), e("c.locked_until", ">", now)])])),
                "<",
                queue.annotatorsPerItem,
              ),
            ]),
          )
          .orderBy("t.position")
          .limit(1)
          .executeTakeFirst();
        if (!row) return undefined;
        const task = taskOf(row);
        const previous = await claimRow(d, project, queueId, task.id, annotator);
        if (previous) {
          // Their own expired lock: take it again, keeping the order they saw and their draft.
          await d
            .updateTable("queue_claims")
            .set({ status: "locked", locked_until: until, updated_at: now })
            .where("project", "=", project)
            .where("queue_id", "=", queueId)
            .where("task_id", "=", task.id)
            .where("annotator", "=", annotator)
            .execute();
          return { task, claim: claimOf({ ...previous, status: "locked", locked_until: until, updated_at: now }) };
        }
        const order = shuffle(task.generationIds.length);
        const sorted = [...order].sort((a, b) => a - b);
        if (sorted.some((v, i) => v !== i)) throw new ValidationError([{ path: "shownOrder", message: `must be a permutation of 0..${task.generationIds.length - 1}` }], undefined, "claim");
        const fresh: ClaimRow & { project: string } = {
          project,
          queue_id: queueId,
          task_id: task.id,
          annotator,
          status: "locked",
          locked_until: until,
          shown_order: JSON.stringify(order),
          draft: null,
          submission_id: null,
          feedback_ids: null,
          updated_at: now,
        };
        await d.insertInto("queue_claims").values({ ...fresh, locked_until: until, updated_at: now }).execute();
        return { task, claim: claimOf(fresh) };
      });
    },

    async saveDraft(project, queueId, taskId, annotator, draft, now) {
      const json = JSON.stringify(draft ?? null);
      return inTransaction(async (d) => {
        const r = await d
          .updateTable("queue_claims")
          .set({ draft: json, updated_at: now })
          .where("project", "=", project)
          .where("queue_id", "=", queueId)
          .where("task_id", "=", taskId)
          .where("annotator", "=", annotator)
          .where("status", "=", "locked")
          .executeTakeFirst();
        return Number(r.numUpdatedRows) > 0;
      });
    },

    async release(project, queueId, taskId, now, annotator) {
      return inTransaction(async (d) => {
        await lockQueue(d, project, queueId);
        let q = d
          .updateTable("queue_claims")
          .set({ locked_until: now, updated_at: now })
          .where("project", "=", project)
          .where("queue_id", "=", queueId)
          .where("task_id", "=", taskId)
          .where("status", "=", "locked")
          .where("locked_until", ">", now);
        if (annotator !== undefined) q = q.where("annotator", "=", annotator);
        return Number((await q.executeTakeFirst()).numUpdatedRows);
      });
    },

    async remove(project, queueId) {
      return inTransaction(async (d) => {
        try {
          await lockQueue(d, project, queueId);
        } catch (e) {
          if (e instanceof NotFoundError) return undefined;
          throw e;
        }
        const claims = await d.deleteFrom("queue_claims").where("project", "=", project).where("queue_id", "=", queueId).executeTakeFirst();
        const tasks = await d.deleteFrom("queue_tasks").where("project", "=", project).where("queue_id", "=", queueId).executeTakeFirst();
        await d.deleteFrom("queues").where("project", "=", project).where("id", "=", queueId).execute();
        return { tasks: Number(tasks.numDeletedRows), claims: Number(claims.numDeletedRows) };
      });
    },

    async skip(project, queueId, taskId, annotator, now) {
      return inTransaction(async (d) => {
        const r = await d
          .updateTable("queue_claims")
          .set({ status: "skipped", locked_until: now, updated_at: now })
          .where("project", "=", project)
          .where("queue_id", "=", queueId)
          .where("task_id", "=", taskId)
          .where("annotator", "=", annotator)
          .where("status", "in", ["locked", "skipped"])
          .executeTakeFirst();
        return Number(r.numUpdatedRows) > 0;
      });
    },

    async submit(project, queueId, taskId, annotator, input) {
      checkId("submissionId", input.submissionId, "submission");
      return inTransaction(async (d) => {
        const queue = await lockQueue(d, project, queueId);
        const row = await claimRow(d, project, queueId, taskId, annotator);
        if (!row) throw new NotFoundError(`task "${taskId}" of queue "${queueId}" is not held by "${annotator}" (call next first)`);
        const claim = claimOf(row);
        if (claim.status === "submitted") {
          if (claim.submissionId === input.submissionId) return { status: "replayed", feedbackIds: claim.feedbackIds ?? [] };
          throw new ConflictError(`task "${taskId}" was already submitted by "${annotator}" (submission "${claim.submissionId}")`);
        }
        if (claim.status === "skipped") throw new ConflictError(`task "${taskId}" was skipped by "${annotator}"; it can no longer be submitted`);
        if (claim.lockedUntil <= input.now) {
          const others = await d
            .selectFrom("queue_claims")
            .select((eb) => eb.fn.countAll<number | string>().as("n"))
            .where("project", "=", project)
            .where("queue_id", "=", queueId)
            .where("task_id", "=", taskId)
            .where("annotator", "!=", annotator)
            .where((e) => e.or([e("status", "=", "submitted"), e.and([e("status", "=", "locked"), e("locked_until", ">", input.now)])]))
            .executeTakeFirstOrThrow();
          if (num(others.n) >= queue.annotatorsPerItem) {
            throw new ConflictError(`the lock on task "${taskId}" expired and the task has all the annotators it needs; call next for another task`);
          }
        }
        const report = await writeBatch({ engine, inTransaction: (fn) => fn(d) }, input.records);
        await d
          .updateTable("queue_tasks")
          .set({
            submitted: sql<number>`submitted + 1`,
            open: sql<number>`case when submitted + 1 >= ${queue.annotatorsPerItem} then 0 else 1 end`,
          })
          .where("project", "=", project)
          .where("queue_id", "=", queueId)
          .where("id", "=", taskId)
          .execute();
        await d
          .updateTable("queue_claims")
          .set({
            status: "submitted",
            locked_until: input.now,
            submission_id: input.submissionId,
            feedback_ids: JSON.stringify(input.feedbackIds),
            updated_at: input.now,
          })
          .where("project", "=", project)
          .where("queue_id", "=", queueId)
          .where("task_id", "=", taskId)
          .where("annotator", "=", annotator)
          .execute();
        return { status: "stored", feedbackIds: input.feedbackIds, report };
      });
    },

    async feedbackByIds(project, ids) {
      const byId = new Map<string, Feedback>();
      for (const chunk of chunks([...new Set(ids)], IN_CHUNK)) {
        const rows = await db().selectFrom("feedback").select(["project", "id", "body", "created_at"]).where("project", "=", project).where("id", "in", chunk).execute();
        for (const r of rows) byId.set(r.id, feedbackFromRow(r));
      }
      return ids.flatMap((id) => {
        const f = byId.get(id);
        return f ? [f] : [];
      });
    },

    async feedbackOnGenerations(project, generationIds, sourceTypes) {
      if (generationIds.length === 0 || sourceTypes.length === 0) return [];
      const out = new Map<string, Feedback>();
      for (const chunk of chunks([...new Set(generationIds)], IN_CHUNK)) {
        const rows = await db()
          .selectFrom("feedback")
          .select(["project", "id", "body", "created_at"])
          .where("project", "=", project)
          .where("source_type", "in", sourceTypes)
          .where("id", "in", (eb) =>
            eb.selectFrom("feedback_targets").select("feedback_targets.feedback_id").where("feedback_targets.project", "=", project).where("feedback_targets.generation_id", "in", chunk),
          )
          .execute();
        for (const r of rows) out.set(r.id, feedbackFromRow(r));
      }
      return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },

    async createExport(job) {
      checkId("id", job.id, "export");
      const row = {
        project: job.project,
        id: job.id,
        format: job.format,
        status: "running",
        rows: 0,
        error: null,
        file: null,
        body: JSON.stringify(job.request),
        created_at: job.now,
        updated_at: job.now,
        finished_at: null,
      };
      await inTransaction(async (d) => {
        await d.insertInto("export_jobs").values(row).execute();
      });
      return exportOf(row);
    },

    async progressExport(project, id, rows, now) {
      await inTransaction(async (d) => {
        await d.updateTable("export_jobs").set({ rows, updated_at: now }).where("project", "=", project).where("id", "=", id).where("status", "=", "running").execute();
      });
    },

    async finishExport(project, id, o) {
      await inTransaction(async (d) => {
        await d
          .updateTable("export_jobs")
          .set({ status: o.status, rows: o.rows, error: o.error ?? null, file: o.file ?? null, updated_at: o.now, finished_at: o.now })
          .where("project", "=", project)
          .where("id", "=", id)
          .execute();
      });
    },

    async getExport(project, id) {
      const r = await db()
        .selectFrom("export_jobs")
        .select(["project", "id", "format", "status", "rows", "error", "file", "body", "created_at", "updated_at", "finished_at"])
        .where("project", "=", project)
        .where("id", "=", id)
        .executeTakeFirst();
      return r && exportOf(r);
    },
  };
}
