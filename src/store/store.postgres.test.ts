/**
 * The store contract against PostgreSQL. Needs RLXF_TEST_DATABASE_URL, an
 * admin-capable URL (its role may CREATE DATABASE): `source .ci/postgres.sh`
 * starts a local server and sets it. Each run creates its own throwaway
 * database (dropped afterwards), and each test its own schema in it.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "../errors.js";
import { openStore } from "./index.js";
import { accessContract } from "./access.contract.js";
import { judgingContract } from "./judging.contract.js";
import { modelsContract } from "./models.contract.js";
import { item, storeContract } from "./store.contract.js";

const adminUrl = process.env.RLXF_TEST_DATABASE_URL;
if (!adminUrl) {
  console.warn(
    "[store.postgres.test] RLXF_TEST_DATABASE_URL is not set: SKIPPING the PostgreSQL store tests (source .ci/postgres.sh to run them)",
  );
}

// Where PostgreSQL must be tested (RLXF_REQUIRE_POSTGRES=1), a missing URL is a failure, not a skip.
describe.runIf(!adminUrl && process.env.RLXF_REQUIRE_POSTGRES === "1")("postgres required", () => {
  it("has RLXF_TEST_DATABASE_URL", () => {
    expect.fail("RLXF_REQUIRE_POSTGRES=1 but RLXF_TEST_DATABASE_URL is not set (source .ci/postgres.sh)");
  });
});

const dbName = `rlxf_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
let dbUrl = "";
let schemaSeq = 0;

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh schema in the run's database; the store sees only it (search_path). */
async function freshSchemaUrl(): Promise<string> {
  const schema = `t${++schemaSeq}_${randomBytes(3).toString("hex")}`;
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
}

if (adminUrl) {
  beforeAll(async () => {
    await admin((c) => c.query(`create database ${dbName}`));
    dbUrl = withDatabase(adminUrl, dbName);
  });
  afterAll(async () => {
    await admin((c) => c.query(`drop database if exists ${dbName} with (force)`));
  });
}

storeContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });
modelsContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });
accessContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });
judgingContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });

describe.skipIf(!adminUrl)("postgres specifics", () => {
  it("migrates once per schema and reopens cleanly; int8 columns come back as numbers", async () => {
    const url = await freshSchemaUrl();
    const a = await openStore({ url });
    expect(a.engine).toBe("postgres");
    await a.write({ items: [item("i1", { createdAt: "2025-06-01T12:00:00.123Z" })] });
    await a.close();
    const b = await openStore({ url });
    expect((await b.getItem("default", "i1"))?.createdAt).toBe("2025-06-01T12:00:00.123Z");
    const c = await b.counts();
    expect(typeof c.items).toBe("number");
    expect(c.items).toBe(1);
    await b.close();
  });

  it("serialises concurrent writers of the same ids", async () => {
    const url = await freshSchemaUrl();
    const a = await openStore({ url });
    const b = await openStore({ url });
    await a.write({ items: [item("i0")] });
    for (let round = 0; round < 5; round++) {
      const batch = { items: Array.from({ length: 50 }, (_, i) => item(`r${round}-${i}`)) };
      const [ra, rb] = await Promise.all([a.write(batch), b.write(batch)]);
      // Whoever lost the race retried and found the winner's identical records.
      expect(ra.items.inserted + rb.items.inserted).toBe(50);
      expect(ra.items.existing + rb.items.existing).toBe(50);
    }
    // A racing writer with a different body gets a conflict, never a silent overwrite.
    const results = await Promise.allSettled([
      a.write({ items: [item("y", { prompt: "from a" })] }),
      b.write({ items: [item("y", { prompt: "from b" })] }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(ConflictError);
    expect((await a.counts()).items).toBe(252);
    await a.close();
    await b.close();
  });
});
