/**
 * The migration that gives feedback its queue (0009_feedback_queue) marks the records submitted before it from
 * the queues' own claims, never from a record's metadata, on both engines.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { postgresForFile } from "../../test/support/postgres.js";
import { openStore } from "./index.js";
import { type Database as Tables, type Engine, migrationProvider } from "./tables.js";

const pgs = postgresForFile("provenance.test");
const dir = mkdtempSync(join(tmpdir(), "rlxf-provenance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A store at the schema before the queue column, holding a queue's submitted record and a forged one. */
async function before(db: Kysely<any>, engine: Engine): Promise<void> {
  const all = await migrationProvider(engine).getMigrations();
  const older = Object.fromEntries(Object.entries(all).filter(([name]) => name < "0009"));
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => older } }).migrateToLatest();
  if (error) throw error;
  const t = 1_700_000_000_000;
  await db.insertInto("items").values({ project: "p", id: "i0", dataset: null, body: JSON.stringify({ prompt: "q" }), created_at: t, recorded_at: t }).execute();
  await db
    .insertInto("generations")
    .values(["a", "b"].map((pol) => ({ project: "p", id: `i0-${pol}`, item_id: "i0", policy: pol, body: JSON.stringify({ itemId: "i0", policy: pol, output: pol }), created_at: t, recorded_at: t })))
    .execute();
  const fb = (id: string) => ({
    project: "p",
    id,
    kind: "pairwise",
    item_id: "i0",
    source_type: "human",
    source_id: "alice",
    body: JSON.stringify({ kind: "pairwise", itemId: "i0", targets: ["i0-a", "i0-b"], source: { type: "human", id: "alice" }, value: { choice: "first" }, metadata: { queueId: "q" } }),
    created_at: t,
    recorded_at: t,
  });
  await db.insertInto("feedback").values([fb("queue:q:t1:alice:x"), fb("forged")]).execute();
  await db.insertInto("queues").values({ project: "p", id: "q", name: "Q", annotators_per_item: 1, lock_seconds: 60, body: "{}", created_at: t }).execute();
  await db.insertInto("queue_tasks").values({ project: "p", queue_id: "q", id: "t1", position: 1, item_id: "i0", generation_ids: JSON.stringify(["i0-a", "i0-b"]), submitted: 1, open: 0 }).execute();
  await db
    .insertInto("queue_claims")
    .values({ project: "p", queue_id: "q", task_id: "t1", annotator: "alice", status: "submitted", locked_until: t, shown_order: "[0,1]", draft: null, submission_id: "s1", feedback_ids: JSON.stringify(["queue:q:t1:alice:x"]), updated_at: t })
    .execute();
}

describe("feedback queue migration", () => {
  it("sqlite: marks what the claims say a queue stored, not what metadata claims", async () => {
    const path = join(dir, "old.db");
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: new Database(path) }) });
    await before(db, "sqlite");
    await db.destroy();
    const store = await openStore({ path });
    try {
      expect((await store.listFeedback({ project: "p", queueId: "q" })).records.map((f) => f.id)).toEqual(["queue:q:t1:alice:x"]);
      expect((await store.counts("p")).feedback).toBe(2);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!pgs.available)("postgres: marks what the claims say a queue stored, not what metadata claims", async () => {
    const url = await pgs.fresh();
    // The URL's options set the search path to a fresh schema.
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
    await before(db, "postgres");
    await db.destroy();
    const store = await openStore({ url });
    try {
      expect((await store.listFeedback({ project: "p", queueId: "q" })).records.map((f) => f.id)).toEqual(["queue:q:t1:alice:x"]);
    } finally {
      await store.close();
    }
  });
});
