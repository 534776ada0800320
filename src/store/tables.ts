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
}

export interface FeedbackTargetsTable {
  project: string;
  feedback_id: string;
  position: number;
  generation_id: string;
}

export interface Database {
  items: ItemsTable;
  generations: GenerationsTable;
  feedback: FeedbackTable;
  feedback_targets: FeedbackTargetsTable;
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

  const migrations: Record<string, Migration> = { "0001_initial": initial };
  return { getMigrations: async () => migrations };
}
