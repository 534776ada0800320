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
import type { Feedback } from "../feedback/schema.js";
import * as jobs from "./export-jobs.js";
import * as ops from "./queue-ops.js";
import type { QueueContext } from "./queue-ops.js";
import type { Database, Engine } from "./tables.js";
import type { WriteBatch, WriteReport } from "./types.js";

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
  /** Feedback records by id (missing ones left out), in the order asked; with `queueId`, only those submitted through that queue. */
  feedbackByIds(project: string, ids: string[], queueId?: string): Promise<Feedback[]>;
  /** Feedback with any of `generationIds` among its targets, from the given source types. */
  feedbackOnGenerations(project: string, generationIds: string[], sourceTypes: string[]): Promise<Feedback[]>;

  createExport(job: { project: string; id: string; format: string; request: Record<string, unknown>; now: number }): Promise<ExportJob>;
  /** A running job's progress (records so far) and heartbeat. */
  progressExport(project: string, id: string, rows: number, now: number): Promise<void>;
  finishExport(project: string, id: string, outcome: { status: "done" | "failed"; rows: number; error?: string; file?: string; now: number }): Promise<void>;
  getExport(project: string, id: string): Promise<ExportJob | undefined>;
}

// ------------------------------------------------------------------ impl ---

/** Queues, tasks, claims and export jobs over `db` (reads) and `inTransaction` (writes). */
export function queueStore(engine: Engine, db: () => Kysely<Database>, inTransaction: QueueContext["inTransaction"]): QueueStore {
  const c: QueueContext = { engine, db, inTransaction };
  return {
    create: (queue, tasks) => ops.create(c, queue, tasks),
    get: (project, id) => ops.get(c, project, id),
    list: (project) => ops.list(c, project),
    progress: (project, queueId, now) => ops.progress(c, project, queueId, now),
    annotatorProgress: (project, queueId, annotator, now) => ops.annotatorProgress(c, project, queueId, annotator, now),
    tasks: (project, queueId, opts) => ops.tasks(c, project, queueId, opts),
    task: (project, queueId, taskId) => ops.task(c, project, queueId, taskId),
    claim: (project, queueId, taskId, annotator) => ops.claim(c, project, queueId, taskId, annotator),
    claims: (project, queueId, status, opts) => ops.claims(c, project, queueId, status, opts),
    next: (project, queueId, annotator, opts) => ops.next(c, project, queueId, annotator, opts),
    saveDraft: (project, queueId, taskId, annotator, draft, now) => ops.saveDraft(c, project, queueId, taskId, annotator, draft, now),
    release: (project, queueId, taskId, now, annotator) => ops.release(c, project, queueId, taskId, now, annotator),
    remove: (project, queueId) => ops.remove(c, project, queueId),
    skip: (project, queueId, taskId, annotator, now) => ops.skip(c, project, queueId, taskId, annotator, now),
    submit: (project, queueId, taskId, annotator, input) => ops.submit(c, project, queueId, taskId, annotator, input),
    feedbackByIds: (project, ids, queueId) => ops.feedbackByIds(c, project, ids, queueId),
    feedbackOnGenerations: (project, generationIds, sourceTypes) => ops.feedbackOnGenerations(c, project, generationIds, sourceTypes),
    createExport: (job) => jobs.createExport(c, job),
    progressExport: (project, id, rows, now) => jobs.progressExport(c, project, id, rows, now),
    finishExport: (project, id, outcome) => jobs.finishExport(c, project, id, outcome),
    getExport: (project, id) => jobs.getExport(c, project, id),
  };
}
