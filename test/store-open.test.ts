/**
 * Processes opening one new SQLite store at the same moment (a server and a worker started together, two CLI
 * commands): the first to take the write lock migrates it in one transaction; the others wait for it, find
 * the migrations done, and open it as it is.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { rlxfBinary } from "./support/cli.js";

describe("a new SQLite store opened by several processes at once", () => {
  const dir = mkdtempSync(join(tmpdir(), "rlxf-open-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is migrated once, and every process opens it", async () => {
    const db = join(dir, "shared.db");
    const runs = await Promise.all(Array.from({ length: 4 }, (_, i) => rlxfBinary(["keys", "create", "--db", db, "--create-store", "--role", "read", "--name", `k${i}`, "--json"])));
    for (const r of runs) {
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    const raw = new BetterSqlite3(db, { readonly: true });
    try {
      const names = (raw.prepare("select name from kysely_migration order by name").all() as { name: string }[]).map((r) => r.name);
      expect(names.length).toBeGreaterThan(10);
      expect(new Set(names).size).toBe(names.length);
      expect((raw.prepare("select name from api_keys order by name").all() as { name: string }[]).map((r) => r.name)).toEqual(["k0", "k1", "k2", "k3"]);
    } finally {
      raw.close();
    }
  });
});
