/**
 * Table shapes (for Kysely's typing) and the in-code migrations.
 *
 * Portable SQL: TEXT ids, epoch-millisecond times as BIGINT, JSON as TEXT.
 * Every table is keyed by (project, id), so two projects never collide.
 * Each record's body (everything except project, id and createdAt) is kept
 * as JSON text in `body`; the columns beside it are copies used for
 * filtering and referential integrity.
 */
import { type ColumnType, type Kysely, type Migration, type MigrationProvider, sql } from "kysely";
import { type ConfigsTable, configsMigration } from "./configs.js";
import { type LoopRunsTable, type LoopStepsTable, type MemoryEntriesTable, loopsMigration } from "./loops.js";
import { type ExportJobsTable, type QueueClaimsTable, type QueueTasksTable, type QueuesTable, queuesMigration } from "./queues.js";
import { type RuleEvaluationsTable, type RulesTable, rulesMigration } from "./rules.js";
import { type JobErrorsTable, type JobFilesTable, type JobInputsTable, type JobTasksTable, type JobUnitsTable, type JobsTable, type RateLimitsTable, jobsMigration } from "./jobs.js";
import { type FeedbackSupersessionsTable, type QueueAdjudicationsTable, queueReviewMigration } from "./queue-review.js";

export type Engine = "sqlite" | "postgres";

/** BIGINT: better-sqlite3 returns a number, pg returns int8 as a string. */
type BigIntColumn = ColumnType<number | string, number, number>;

export interface ItemsTable {
  project: string;
  id: string;
  dataset: string | null;
  body: string;
  created_at: BigIntColumn;
  recorded_at: BigIntColumn;
}

export interface GenerationsTable {
  project: string;
  id: string;
  item_id: string;
  policy: string;
  body: string;
  created_at: BigIntColumn;
  recorded_at: BigIntColumn;
}

export interface FeedbackTable {
  project: string;
  id: string;
  kind: string;
  item_id: string;
  source_type: string;
  source_id: string;
  body: string;
  created_at: BigIntColumn;
  recorded_at: BigIntColumn;
  /**
   * The annotation queue the record was submitted through, set by the store only when a queue submission
   * writes it (never from a record's own fields): what queue exports, statistics and distributions count.
   */
  queue_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface FeedbackTargetsTable {
  project: string;
  feedback_id: string;
  position: number;
  generation_id: string;
}

/** API keys: only a SHA-256 hash of each key is kept. */
export interface ApiKeysTable {
  id: string;
  project: string;
  role: string;
  name: string;
  hash: string;
  created_at: BigIntColumn;
  revoked_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

/** Items assigned to an annotator (the `name` of annotate keys). */
export interface AssignmentsTable {
  project: string;
  annotator: string;
  item_id: string;
  created_at: BigIntColumn;
}

/** Provider response cache (src/providers): a response body under the hash of its full request. */
export interface ProviderCacheTable {
  key: string;
  model: string;
  body: string;
  created_at: BigIntColumn;
}

/** Judgements that produced no feedback (src/sources), kept with their raw answers. */
export interface JudgementFailuresTable {
  project: string;
  id: string;
  judge: string;
  kind: string;
  item_id: string | null;
  reason: string;
  body: string;
  created_at: BigIntColumn;
  recorded_at: BigIntColumn;
}

export interface Database {
  items: ItemsTable;
  generations: GenerationsTable;
  feedback: FeedbackTable;
  feedback_targets: FeedbackTargetsTable;
  api_keys: ApiKeysTable;
  assignments: AssignmentsTable;
  provider_cache: ProviderCacheTable;
  judgement_failures: JudgementFailuresTable;
  models: ModelsTable;
  vector_cache: VectorCacheTable;
  configs: ConfigsTable;
  loop_runs: LoopRunsTable;
  loop_steps: LoopStepsTable;
  memory_entries: MemoryEntriesTable;
  queues: QueuesTable;
  queue_tasks: QueueTasksTable;
  queue_claims: QueueClaimsTable;
  export_jobs: ExportJobsTable;
  jobs: JobsTable;
  job_tasks: JobTasksTable;
  job_inputs: JobInputsTable;
  job_units: JobUnitsTable;
  job_errors: JobErrorsTable;
  job_files: JobFilesTable;
  rate_limits: RateLimitsTable;
  feedback_supersessions: FeedbackSupersessionsTable;
  queue_adjudications: QueueAdjudicationsTable;
  rules: RulesTable;
  rule_evaluations: RuleEvaluationsTable;
}

/** Versioned model artifacts (src/learn): the body is the artifact's JSON. */
export interface ModelsTable {
  project: string;
  name: string;
  version: ColumnType<number | string, number, number>;
  kind: string;
  summary: string;
  body: string;
  created_at: BigIntColumn;
}

/** Cached vectors (embeddings) by namespace and key; `vector` is base64 of little-endian float32. */
export interface VectorCacheTable {
  namespace: string;
  key: string;
  dim: number;
  vector: string;
  created_at: BigIntColumn;
}

/**
 * The migrations, oldest first. Names sort in apply order. Never edit one
 * that has shipped: add a new one.
 */
export function migrationProvider(engine: Engine): MigrationProvider {
  // PostgreSQL: byte-order ("C") collation so ordering by id matches SQLite's BINARY.
  const text = engine === "postgres" ? sql`text collate "C"` : sql`text`;
  const bigint = sql`bigint`;

  const initial: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("items")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("id", text, (c) => c.notNull())
        .addColumn("dataset", text)
        .addColumn("body", sql`text`, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addColumn("recorded_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("items_pk", ["project", "id"])
        .execute();
      await db.schema.createIndex("items_recorded").on("items").columns(["project", "recorded_at", "id"]).execute();
      await db.schema.createIndex("items_dataset").on("items").columns(["project", "dataset"]).execute();
      await db.schema.createIndex("items_created").on("items").columns(["project", "created_at"]).execute();

      await db.schema
        .createTable("generations")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("id", text, (c) => c.notNull())
        .addColumn("item_id", text, (c) => c.notNull())
        .addColumn("policy", text, (c) => c.notNull())
        .addColumn("body", sql`text`, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addColumn("recorded_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("generations_pk", ["project", "id"])
        .addForeignKeyConstraint("generations_item_fk", ["project", "item_id"], "items", ["project", "id"])
        .execute();
      await db.schema
        .createIndex("generations_recorded")
        .on("generations")
        .columns(["project", "recorded_at", "id"])
        .execute();
      await db.schema.createIndex("generations_item").on("generations").columns(["project", "item_id"]).execute();
      await db.schema.createIndex("generations_policy").on("generations").columns(["project", "policy"]).execute();
      await db.schema.createIndex("generations_created").on("generations").columns(["project", "created_at"]).execute();

      await db.schema
        .createTable("feedback")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("id", text, (c) => c.notNull())
        .addColumn("kind", text, (c) => c.notNull())
        .addColumn("item_id", text, (c) => c.notNull())
        .addColumn("source_type", text, (c) => c.notNull())
        .addColumn("source_id", text, (c) => c.notNull())
        .addColumn("body", sql`text`, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addColumn("recorded_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("feedback_pk", ["project", "id"])
        .addForeignKeyConstraint("feedback_item_fk", ["project", "item_id"], "items", ["project", "id"])
        .execute();
      await db.schema.createIndex("feedback_recorded").on("feedback").columns(["project", "recorded_at", "id"]).execute();
      await db.schema.createIndex("feedback_kind").on("feedback").columns(["project", "kind"]).execute();
      await db.schema
        .createIndex("feedback_source")
        .on("feedback")
        .columns(["project", "source_type", "source_id"])
        .execute();
      await db.schema.createIndex("feedback_source_id").on("feedback").columns(["project", "source_id"]).execute();
      await db.schema.createIndex("feedback_item").on("feedback").columns(["project", "item_id"]).execute();
      await db.schema.createIndex("feedback_created").on("feedback").columns(["project", "created_at"]).execute();

      await db.schema
        .createTable("feedback_targets")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("feedback_id", text, (c) => c.notNull())
        .addColumn("position", sql`integer`, (c) => c.notNull())
        .addColumn("generation_id", text, (c) => c.notNull())
        .addPrimaryKeyConstraint("feedback_targets_pk", ["project", "feedback_id", "position"])
        .addForeignKeyConstraint("feedback_targets_feedback_fk", ["project", "feedback_id"], "feedback", ["project", "id"])
        .addForeignKeyConstraint(
          "feedback_targets_generation_fk",
          ["project", "generation_id"],
          "generations",
          ["project", "id"],
        )
        .execute();
      await db.schema
        .createIndex("feedback_targets_generation")
        .on("feedback_targets")
        .columns(["project", "generation_id"])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("feedback_targets").execute();
      await db.schema.dropTable("feedback").execute();
      await db.schema.dropTable("generations").execute();
      await db.schema.dropTable("items").execute();
    },
  };

  const access: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("api_keys")
        .addColumn("id", text, (c) => c.notNull().primaryKey())
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("role", text, (c) => c.notNull())
        .addColumn("name", text, (c) => c.notNull())
        .addColumn("hash", text, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addColumn("revoked_at", bigint)
        .execute();
      await db.schema.createIndex("api_keys_project").on("api_keys").columns(["project", "created_at", "id"]).execute();

      await db.schema
        .createTable("assignments")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("annotator", text, (c) => c.notNull())
        .addColumn("item_id", text, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("assignments_pk", ["project", "annotator", "item_id"])
        .addForeignKeyConstraint("assignments_item_fk", ["project", "item_id"], "items", ["project", "id"])
        .execute();
      await db.schema.createIndex("assignments_item").on("assignments").columns(["project", "item_id"]).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("assignments").execute();
      await db.schema.dropTable("api_keys").execute();
    },
  };

  const providerCache: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("provider_cache")
        .addColumn("key", text, (c) => c.notNull().primaryKey())
        .addColumn("model", text, (c) => c.notNull())
        .addColumn("body", sql`text`, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .execute();
      await db.schema.createIndex("provider_cache_model").on("provider_cache").columns(["model"]).execute();

      await db.schema
        .createTable("judgement_failures")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("id", text, (c) => c.notNull())
        .addColumn("judge", text, (c) => c.notNull())
        .addColumn("kind", text, (c) => c.notNull())
        .addColumn("item_id", text)
        .addColumn("reason", text, (c) => c.notNull())
        .addColumn("body", sql`text`, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addColumn("recorded_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("judgement_failures_pk", ["project", "id"])
        .execute();
      await db.schema
        .createIndex("judgement_failures_recorded")
        .on("judgement_failures")
        .columns(["project", "recorded_at", "id"])
        .execute();
      await db.schema.createIndex("judgement_failures_judge").on("judgement_failures").columns(["project", "judge"]).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("judgement_failures").execute();
      await db.schema.dropTable("provider_cache").execute();
    },
  };

  const models: Migration = {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("models")
        .addColumn("project", text, (c) => c.notNull())
        .addColumn("name", text, (c) => c.notNull())
        .addColumn("version", sql`integer`, (c) => c.notNull())
        .addColumn("kind", text, (c) => c.notNull())
        .addColumn("summary", sql`text`, (c) => c.notNull())
        .addColumn("body", sql`text`, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("models_pk", ["project", "name", "version"])
        .execute();
      await db.schema.createIndex("models_kind").on("models").columns(["project", "kind"]).execute();

      await db.schema
        .createTable("vector_cache")
        .addColumn("namespace", text, (c) => c.notNull())
        .addColumn("key", text, (c) => c.notNull())
        .addColumn("dim", sql`integer`, (c) => c.notNull())
        .addColumn("vector", sql`text`, (c) => c.notNull())
        .addColumn("created_at", bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint("vector_cache_pk", ["namespace", "key"])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("vector_cache").execute();
      await db.schema.dropTable("models").execute();
    },
  };

  /**
   * Provenance of queue feedback: a column that only queue submissions set. Records submitted before it are
   * marked from the queues' own claims (the ids each submission stored), never from a record's metadata.
   */
  const feedbackQueue: Migration = {
    async up(db: Kysely<any>) {
      await db.schema.alterTable("feedback").addColumn("queue_id", text).execute();
      await db.schema.createIndex("feedback_queue").on("feedback").columns(["project", "queue_id"]).execute();
      const claims = await db
        .selectFrom("queue_claims")
        .select(["project", "queue_id", "feedback_ids"])
        .where("status", "=", "submitted")
        .where("feedback_ids", "is not", null)
        .execute();
      for (const c of claims as { project: string; queue_id: string; feedback_ids: string }[]) {
        let ids: unknown;
        try {
          ids = JSON.parse(c.feedback_ids);
        } catch {
          continue;
        }
        if (!Array.isArray(ids)) continue;
        const own = ids.filter((x): x is string => typeof x === "string");
        for (let i = 0; i < own.length; i += 500) {
          await db.updateTable("feedback").set({ queue_id: c.queue_id }).where("project", "=", c.project).where("id", "in", own.slice(i, i + 500)).execute();
        }
      }
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex("feedback_queue").execute();
      await db.schema.alterTable("feedback").dropColumn("queue_id").execute();
    },
  };

  const migrations: Record<string, Migration> = {
    "0001_initial": initial,
    "0002_access": access,
    "0003_provider_cache": providerCache,
    "0004_models": models,
    "0005_configs": configsMigration(engine),
    "0006_queues": queuesMigration(engine),
    "0007_loops": loopsMigration(engine),
    "0008_jobs": jobsMigration(engine),
    "0009_feedback_queue": feedbackQueue,
    "0010_queue_review": queueReviewMigration(engine),
    "0011_rules": rulesMigration(engine),
  };
  return { getMigrations: async () => migrations };
}
