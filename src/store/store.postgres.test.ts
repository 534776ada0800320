/**
 * The store contract against PostgreSQL. Needs RLXF_TEST_DATABASE_URL, an
 * admin-capable URL (its role may CREATE DATABASE): `source .ci/postgres.sh`
 * starts a local server and sets it. Each run creates its own throwaway
 * database (dropped afterwards), and each test its own schema in it.
 */
import { describe, expect, it } from "vitest";
import { postgresForFile } from "../../test/support/postgres.js";
import { ConflictError } from "../errors.js";
import { openStore } from "./index.js";
import { accessContract } from "./access.contract.js";
import { judgingContract } from "./judging.contract.js";
import { modelsContract } from "./models.contract.js";
import { loopsContract } from "./loops.contract.js";
import { configsContract } from "./configs.contract.js";
import { item, storeContract } from "./store.contract.js";
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
