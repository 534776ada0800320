/**
 * Throwaway PostgreSQL databases for tests. `RLXF_TEST_DATABASE_URL` names a
 * server whose role may CREATE DATABASE (`source .ci/postgres.sh` starts one).
 * Without it, PostgreSQL tests are skipped with a warning, or fail when
 * `RLXF_REQUIRE_POSTGRES=1` (as in CI).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export const adminUrl = process.env.RLXF_TEST_DATABASE_URL || undefined;
export const postgresRequired = process.env.RLXF_REQUIRE_POSTGRES === "1";

export function warnIfNoPostgres(suite: string): void {
  if (!adminUrl) console.warn(`[${suite}] RLXF_TEST_DATABASE_URL is not set: SKIPPING its PostgreSQL tests`);
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
  return { url: u.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}
