/**
 * Throwaway PostgreSQL databases for tests. `RLXF_TEST_DATABASE_URL` names a
 * server whose role may CREATE DATABASE (`source .ci/postgres.sh` starts one).
 * Without it, PostgreSQL tests are skipped with a warning, or fail when
 * `RLXF_REQUIRE_POSTGRES=1` (as in CI).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

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
 * PostgreSQL for this test file: a throwaway database made in beforeAll and
 * dropped in afterAll, and `fresh()` giving a URL to a new empty schema in it.
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
  });
  afterAll(async () => {
    await dropDatabase(admin, dbName);
  });
  return {
    available: true,
    async fresh() {
      const schema = `s${++seq}_${randomBytes(3).toString("hex")}`;
      const c = new pg.Client({ connectionString: dbUrl });
      await c.connect();
      try {
        await c.query(`create schema ${schema}`);
      } finally {
        await c.end();
      }
      const u = new URL(dbUrl);
      u.searchParams.set("options", `-c search_path=${schema}`);
      return u.toString();
    },
  };
}
