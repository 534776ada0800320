/**
 * The store contract against PostgreSQL. Needs RLXF_TEST_DATABASE_URL, an
 * admin-capable URL (its role may CREATE DATABASE): `source .ci/postgres.sh`
 * starts a local server and sets it. Each run creates its own throwaway
 * database (dropped afterwards), and each test its own schema in it.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { postgresForFile } from "../../test/support/postgres.js";
import { ConflictError } from "../errors.js";
import { openStore } from "./index.js";
import { accessContract } from "./access.contract.js";
import { judgingContract } from "./judging.contract.js";
import { modelsContract } from "./models.contract.js";
import { loopsContract } from "./loops.contract.js";
import { configsContract } from "./configs.contract.js";
import type { FeedbackInput, GenerationInput, ItemInput } from "../feedback/index.js";
import { gen, item, pairwise, storeContract } from "./store.contract.js";
import { queuesStoreContract } from "./queues.contract.js";
import { snapshotContract } from "./snapshot.contract.js";

const pgFile = postgresForFile("store.postgres.test");
const adminUrl = pgFile.available;
const freshSchemaUrl = pgFile.fresh;

storeContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });
modelsContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });
loopsContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });
configsContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });
accessContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });
judgingContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });
queuesStoreContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl });
snapshotContract("postgres", async () => openStore({ url: await freshSchemaUrl() }), { skip: !adminUrl, maxSnapshots: 4 });

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

  it("keeps the server's synchronous_commit (on: durable) by default; durability normal turns it off for its connections", async () => {
    const url = await freshSchemaUrl();
    const full = await openStore({ url });
    expect(full.durability).toBe("full");
    await full.write({ items: [item("d1")] });
    await full.close();
    const normal = await openStore({ url, durability: "normal" });
    expect(normal.durability).toBe("normal");
    await normal.write({ items: [item("d2")] });
    expect((await normal.counts()).items).toBe(2);
    await normal.close();
  });

  it("a large write after small ones on the same connection checks its foreign keys by key, not by walking the table", async () => {
    // The connection's foreign-key plans are first made while the tables hold a few rows, when any index (or a
    // scan) costs the same; the large write must not reuse them, or each of its rows walks the growing parent.
    const url = await freshSchemaUrl();
    const schema = new URL(url).searchParams.get("application_name")!;
    /** n items, each with 11 generations and 10 pairwise feedback on them. */
    const batch = (prefix: string, n: number) => {
      const out = { items: [] as ItemInput[], generations: [] as GenerationInput[], feedback: [] as FeedbackInput[] };
      for (let i = 0; i < n; i++) {
        const iid = `${prefix}${i}`;
        out.items.push(item(iid));
        for (let k = 0; k <= 10; k++) out.generations.push(gen(`${iid}/${k}`, iid, `model-${k}`));
        for (let k = 1; k <= 10; k++) out.feedback.push(pairwise(`${iid}#${k}`, [`${iid}/0`, `${iid}/${k}`]));
      }
      return out;
    };
    // A reused schema's counters go on from earlier tests: what this test adds is measured.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const stats = async () => {
        await c.query("select pg_stat_clear_snapshot()");
        const q = await c.query<{ relname: string; read: string; inserted: string }>(
          "select relname, seq_tup_read + coalesce(idx_tup_fetch, 0) as read, n_tup_ins as inserted from pg_stat_user_tables where schemaname = $1 and relname in ('items', 'generations', 'feedback')",
          [schema],
        );
        return new Map(q.rows.map((row) => [row.relname, { read: Number(row.read), inserted: Number(row.inserted) }]));
      };
      const before = await stats();
      const s = await openStore({ url, poolSize: 1 });
      await s.write(batch("small-", 2));
      const r = await s.write(batch("big-", 300));
      expect(r.feedback.inserted).toBe(3000);
      await s.close();
      // The closed connection's counters reach the statistics views as its backend exits.
      const added = (now: Awaited<ReturnType<typeof stats>>, table: string) => ({ read: now.get(table)!.read - (before.get(table)?.read ?? 0), inserted: now.get(table)!.inserted - (before.get(table)?.inserted ?? 0) });
      let now = await stats();
      for (let i = 0; i < 100 && added(now, "feedback").inserted < 3020; i++) {
        await new Promise((res) => setTimeout(res, 50));
        now = await stats();
      }
      expect(added(now, "feedback").inserted).toBe(3020);
      // By key: about one read per row that refers to the table (12,000 rows in all). Walking the table: each of
      // the 6,000 targets reads up to 3,000 feedback.
      for (const table of ["items", "generations", "feedback"]) expect(added(now, table).read, `${table}: ${JSON.stringify(added(now, table))}`).toBeLessThan(40_000);
    } finally {
      await c.end();
    }
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
