/**
 * Review of annotation queues, kept beside the queue tables:
 *
 * - **supersessions** (table `feedback_supersessions`): feedback that a later record replaces — an
 *   annotator's revision of their own submitted answer, or an admin's adjudicated label. Feedback is never
 *   edited or deleted; readers that want the latest answers leave out superseded records
 *   (`FeedbackFilter.latest`);
 * - **adjudications** (table `queue_adjudications`): per task, the adjudicated answers an admin recorded,
 *   the feedback they made and the submission that made them (a retry stores nothing twice);
 * - the claims of migration 0006 gain the answers as submitted (`answers`, for editing them later) and a
 *   revision counter (`revision`: 0 for the first submission).
 */
import { type ColumnType, type Kysely, type Migration, sql } from "kysely";
import type { Engine } from "./tables.js";

type BigIntColumn = ColumnType<number | string, number, number>;
type IntColumn = ColumnType<number | string, number, number>;

export interface FeedbackSupersessionsTable {
  project: string;
  /** The record replaced. */
  feedback_id: string;
  /** The record that replaces it. */
  by_id: string;
  /** "revision" or "adjudication". */
  reason: string;
  created_at: BigIntColumn;
}

export interface QueueAdjudicationsTable {
  project: string;
  queue_id: string;
  task_id: string;
  adjudicator: string;
  submission_id: string;
  feedback_ids: string;
  answers: string;
  revision: IntColumn;
  updated_at: BigIntColumn;
}

export interface ReviewTables {
  feedback_supersessions: FeedbackSupersessionsTable;
  queue_adjudications: QueueAdjudicationsTable;
}

export const SUPERSESSION_REASONS = ["revision", "adjudication"] as const;
export type SupersessionReason = (typeof SUPERSESSION_REASONS)[number];

export interface Supersession {
  /** The record replaced. */
  feedbackId: string;
  /** The record that replaces it. */
  byId: string;
  reason: SupersessionReason;
}

export interface Adjudication {
  queueId: string;
  taskId: string;
  adjudicator: string;
  submissionId: string;
  feedbackIds: string[];
  /** The answers as the adjudicator gave them (by question id, in the task's order of generations). */
  answers: Record<string, unknown>;
  /** 1 for the first adjudication of the task, then 2, 3... */
  revision: number;
  updatedAt: string;
}

/** Migration "0010_queue_review". */
export function queueReviewMigration(engine: Engine): Migration {
  const text = engine === "postgres" ? sql`text collate "C"` : sql`text`;
  const bigint = sql`bigint`;
  const int = sql`integer`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("feedback_supersessions")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("feedback_id", text, (c) => c.notNull())
        .addColumn("by_id", text, (c) => c.notNull())
        .addColumn("reason", text, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("feedback_supersessions_pk", ["project", "feedback_id", "by_id"])
        .addForeignKeyConstraint("feedback_supersessions_feedback_fk", ["project", "feedback_id"], "feedback", ["project", "id"])
        .addForeignKeyConstraint("feedback_supersessions_by_fk", ["project", "by_id"], "feedback", ["project", "id"])
        .execute();
      await db.schema.createIndex("feedback_supersessions_by").on("feedback_supersessions").columns(["project", "by_id"]).execute();

      await db.schema
        .createTable("queue_adjudications")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("queue_id", text, (c) => c.notNull())
        .addColumn("task_id", text, (c) => c.notNull())
        .addColumn("adjudicator", text, (c) => c.notNull())
        .addColumn("submission_id", text, (c) => c.notNull())
        .addColumn("feedback_ids", sql`text`, (c) => c.notNull())
        .addColumn("answers", sql`text`, (c) => c.notNull())
        .addColumn("revision", int, (c) => c.notNull())
        .addColumn("updated_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("queue_adjudications_pk", ["project", "queue_id", "task_id"])
        .addForeignKeyConstraint("queue_adjudications_task_fk", ["project", "queue_id", "task_id"], "queue_tasks", ["project", "queue_id", "id"])
        .execute();

      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      await db.schema.alterTable("queue_claims").addColumn("answers", sql`text`).execute();
      await db.schema.alterTable("queue_claims").addColumn("revision", int, (c) => c.notNull().defaultTo(0)).execute();
      // An annotator's submitted tasks, newest first (review of their own work).
      await db.schema.createIndex("queue_claims_updated").on("queue_claims").columns(["project", "queue_id", "annotator", "status", "updated_at"]).execute();
      // Search: feedback of one kind on an item (the item's feedback filters of Browse).
      await db.schema.createIndex("feedback_item_kind").on("feedback").columns(["project", "item_id", "kind"]).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex("feedback_item_kind").execute();
      await db.schema.dropIndex("queue_claims_updated").execute();
      await db.schema.alterTable("queue_claims").dropColumn("revision").execute();
      await db.schema.alterTable("queue_claims").dropColumn("answers").execute();
      await db.schema.dropTable("queue_adjudications").execute();
      await db.schema.dropTable("feedback_supersessions").execute();
    },
  };
}
