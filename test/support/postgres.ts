/**
 * Throwaway PostgreSQL databases for tests. `RLXF_TEST_DATABASE_URL` names a
 * server whose role may CREATE DATABASE (`source .ci/postgres.sh` starts one).
 * Without it, PostgreSQL tests are skipped with a warning, or fail when
 * `RLXF_REQUIRE_POSTGRES=1` (as in CI).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";

export const adminUrl = process.env.RLXF_TEST_DATABASE_URL || undefined;
export const postgresRequired = process.env.RLXF_REQUIRE_POSTGRES === "1";

export function warnIfNoPostgres(suite: string): void {
  if (!adminUrl) console.warn(`[${suite}] RLXF_TEST_DATABASE_URL is not set: SKIPPING its PostgreSQL tests`);
}

/**
 * Drop a database and every connection to it. PostgreSQL 15 refuses `with (force)` while an autovacuum worker is
 * in that database ("must be a member of the role whose process is being terminated"); the worker is done within
 * moments, so the drop is tried again.
 */
async function dropDatabase(admin: (sql: string) => Promise<void>, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin(`drop database if exists ${name} with (force)`);
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== "42501" || attempt >= 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Create an empty database; returns its URL and a function that drops it. */
export async function createTestDatabase(prefix = "rlxf_test"): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!adminUrl) throw new Error("RLXF_TEST_DATABASE_URL is not set");
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`create database ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => dropDatabase(admin, name) };
}

/**
 * Empties `schema` and its pg-boss schema (`<schema>_pgboss`) back to how migrations left them: Kysely's
 * migration tables and pg-boss's version and queues (with their job partitions) stay. Every table that holds
 * anything is truncated in one statement (new empty files, statistics reset as for a new table). Emptying by
 * DELETE instead leaves dead pages that autovacuum then analyzes as an empty table, and those statistics make
 * the planner check each foreign key of a later bulk insert by scanning: 16,000 rows took 80-110 s instead of 3.
 * (rlxf's migrations make tables and insert no rows: a migration that seeded rows would have to keep its
 * tables out of here.) A reused schema's tables are also left alone by autovacuum: the earlier tests' rows would
 * have it analyze a table while a test's large write is under way, and statistics saying a table that holds the
 * write's uncommitted rows is empty can make PostgreSQL replan that write's foreign-key checks to walk the table.
 */
function resetSql(schema: string): string {
  return `do $reset$
declare r record; used text;
begin
  select string_agg(format('%I.%I', n.nspname, c.relname), ', ') into used
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r' and pg_relation_size(c.oid) > 0
    and ((n.nspname = '${schema}' and c.relname not in ('kysely_migration', 'kysely_migration_lock'))
      or (n.nspname = '${schema}_pgboss' and c.relname not in ('version', 'queue')));
  if used is not null then execute 'truncate ' || used || ' cascade'; end if;
  for r in select n.nspname as s, c.relname as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'r' and n.nspname in ('${schema}', '${schema}_pgboss')
      and not coalesce('autovacuum_enabled=false' = any(c.reloptions), false)
  loop
    execute format('alter table %I.%I set (autovacuum_enabled = false)', r.s, r.t);
  end loop;
  for r in select n.nspname as s, c.relname as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'S' and n.nspname in ('${schema}', '${schema}_pgboss')
  loop
    execute format('alter sequence %I.%I restart', r.s, r.t);
  end loop;
end $reset$`;
}

/**
 * PostgreSQL for this test file: a throwaway database made in beforeAll and dropped in afterAll, and
 * `fresh()` giving a URL to an empty schema in it, where a store migrates on open.
 *
 * Migrating a new schema is the slow part (a hundred DDL statements, several hundred ms on a busy
 * machine), so a schema handed out inside a test goes back to this file's pool when the test has finished
 * (after its afterEach hooks) and a later `fresh()` reuses it, emptied (resetSql): still migrated, its
 * pg-boss queues still there. A schema that anything is still connected to (each URL names its schema as
 * application_name) is never reused, nor is one handed out outside a test (beforeAll): those stay as they are.
 * Without RLXF_TEST_DATABASE_URL it warns (and fails when RLXF_REQUIRE_POSTGRES=1).
 */
export function postgresForFile(label: string): { available: boolean; fresh: () => Promise<string> } {
  if (!adminUrl) {
    console.warn(`[${label}] RLXF_TEST_DATABASE_URL is not set: SKIPPING the PostgreSQL tests (source .ci/postgres.sh to run them)`);
    describe.runIf(process.env.RLXF_REQUIRE_POSTGRES === "1")("postgres required", () => {
      it("has RLXF_TEST_DATABASE_URL", () => {
        expect.fail("RLXF_REQUIRE_POSTGRES=1 but RLXF_TEST_DATABASE_URL is not set (source .ci/postgres.sh)");
      });
    });
    return { available: false, fresh: () => Promise.reject(new Error("no PostgreSQL")) };
  }
  const dbName = `rlxf_srv_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  let dbUrl = "";
  let seq = 0;
  /** Schemas whose test has finished, to be emptied and reused. */
  const returned: string[] = [];
  let conn: pg.Client | undefined;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  beforeAll(async () => {
    await admin(`create database ${dbName}`);
    const u = new URL(adminUrl);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
    conn = new pg.Client({ connectionString: dbUrl, application_name: "rlxf-test-schemas" });
    conn.on("error", () => {});
    await conn.connect();
  });
  afterAll(async () => {
    await conn?.end().catch(() => {});
    await dropDatabase(admin, dbName);
  });
  /** Connections to `schema`: those of a store just closed take a moment to leave pg_stat_activity. */
  const connected = async (schema: string): Promise<number> => {
    const sql = "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1";
    for (let i = 0; ; i++) {
      const n = (await conn!.query(sql, [schema])).rows[0].n as number;
      if (n === 0 || i >= 50) return n;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const reusable = async (): Promise<string | undefined> => {
    while (returned.length) {
      const schema = returned.shift()!;
      if ((await connected(schema)) > 0) continue;
      await conn!.query(resetSql(schema));
      return schema;
    }
    return undefined;
  };
  return {
    available: true,
    async fresh() {
      let schema = await reusable();
      if (!schema) {
        schema = `s${++seq}_${randomBytes(3).toString("hex")}`;
        await conn!.query(`create schema ${schema}`);
      }
      const handed = schema;
      try {
        onTestFinished(() => {
          returned.push(handed);
        });
      } catch {
        // Outside a test (beforeAll): the schema is this suite's for good.
      }
      const u = new URL(dbUrl);
      u.searchParams.set("options", `-c search_path=${schema}`);
      u.searchParams.set("application_name", schema);
      return u.toString();
    },
  };
}
