import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { RlxfError } from "../errors.js";
import { openStore, readSnapshot, resolveTarget } from "./index.js";
import { accessContract } from "./access.contract.js";
import { judgingContract } from "./judging.contract.js";
import { modelsContract } from "./models.contract.js";
import { loopsContract } from "./loops.contract.js";
import { configsContract } from "./configs.contract.js";
import { item, storeContract } from "./store.contract.js";
import { queuesStoreContract } from "./queues.contract.js";
import { snapshotContract } from "./snapshot.contract.js";

storeContract("sqlite", () => openStore({ path: ":memory:" }));
modelsContract("sqlite", () => openStore({ path: ":memory:" }));
loopsContract("sqlite", () => openStore({ path: ":memory:" }));
configsContract("sqlite", () => openStore({ path: ":memory:" }));
accessContract("sqlite", () => openStore({ path: ":memory:" }));
judgingContract("sqlite", () => openStore({ path: ":memory:" }));
queuesStoreContract("sqlite", () => openStore({ path: ":memory:" }));

// Snapshots of a file use their own connection beside the writer's (WAL).
const snapshotDir = mkdtempSync(join(tmpdir(), "rlxf-snapshot-"));
afterAll(() => rmSync(snapshotDir, { recursive: true, force: true }));
let snapshotFiles = 0;
snapshotContract("sqlite file", () => openStore({ path: join(snapshotDir, `s${snapshotFiles++}.db`) }), { maxSnapshots: 8 });

describe("sqlite specifics", () => {
  const dir = mkdtempSync(join(tmpdir(), "rlxf-store-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("creates the directory, persists across opens, and migrates only once", async () => {
    const path = join(dir, "nested", "deeper", "rlxf.db");
    const a = await openStore({ path });
    expect(a.engine).toBe("sqlite");
    await a.write({ items: [item("i1")] });
    await a.close();
    const b = await openStore({ path });
    expect((await b.getItem("default", "i1"))?.id).toBe("i1");
    expect((await b.write({ items: [item("i1")] })).items.outcomes).toEqual(["existing"]);
    await b.close();
  });

  it("runs a new file's migrations as one transaction: a failing one leaves nothing half made", async () => {
    const path = join(dir, "half.db");
    // A table in the way of a later migration (0008 creates `jobs`) makes the first open fail part-way.
    const raw = new BetterSqlite3(path);
    raw.exec("create table jobs (x integer)");
    raw.close();
    await expect(openStore({ path })).rejects.toMatchObject({ code: "migration_failed" });
    const names = () => {
      const db = new BetterSqlite3(path, { readonly: true });
      try {
        return (db.prepare("select name from sqlite_master where type = 'table' order by name").all() as { name: string }[]).map((r) => r.name);
      } finally {
        db.close();
      }
    };
    // Not the tables of the six migrations before it, nor Kysely's own: the whole first open was rolled back.
    expect(names()).toEqual(["jobs"]);
    const fix = new BetterSqlite3(path);
    fix.exec("drop table jobs");
    fix.close();
    const store = await openStore({ path });
    await store.write({ items: [item("after")] });
    await store.close();
    expect(names()).toEqual(expect.arrayContaining(["items", "feedback", "jobs", "kysely_migration", "rules"]));
  });

  it("syncs every commit (synchronous=FULL) unless durability normal is asked for, read back from SQLite", async () => {
    const path = join(dir, "durability.db");
    const full = await openStore({ path });
    expect(full.durability).toBe("full");
    await full.close();
    const normal = await openStore({ path, durability: "normal" });
    expect(normal.durability).toBe("normal");
    await normal.close();
    const memory = await openStore({ path: ":memory:" });
    expect(memory.durability).toBe("full");
    await memory.close();
    await expect(openStore({ path, durability: "eventual" as never })).rejects.toThrow(/durability: must be one of full, normal/);
  });

  it(":memory: snapshots hold the only connection: writes from elsewhere wait for it; from inside, an error (never a hang)", async () => {
    const store = await openStore({ path: ":memory:" });
    await store.write({ items: [item("m1")] });
    let wrote = false;
    const inside = await readSnapshot(async () => {
      const first = (await store.counts()).items;
      const outside = store.write({ items: [item("m2")] }).then(
        () => (wrote = true),
        (e: unknown) => e,
      );
      const own = await store.write({ items: [item("m3")] }).catch((e: unknown) => e);
      const keys = await store.keys.list().catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 50));
      return { first, again: (await store.counts()).items, wroteMeanwhile: wrote, own, keys, outside };
    });
    // The write started inside the scope is part of it, so it is refused like any other from inside.
    expect(inside.first).toBe(1);
    expect(inside.again).toBe(1);
    expect(inside.wroteMeanwhile).toBe(false);
    expect((inside.own as RlxfError).code).toBe("snapshot_read_only");
    expect((inside.keys as RlxfError).code).toBe("snapshot_read_only");
    expect(await inside.outside).toMatchObject({ code: "snapshot_read_only" });
    // A write from outside any snapshot waits for it and then goes through.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let opened!: () => void;
    const ready = new Promise<void>((r) => (opened = r));
    const held = readSnapshot(async () => {
      await store.counts();
      opened();
      await gate;
    });
    await ready;
    let done = false;
    const later = store.write({ items: [item("m4")] }).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    release();
    await held;
    await later;
    expect((await store.counts()).items).toBe(2);
    await store.close();
  });

  it("two handles on one file see each other's writes (WAL)", async () => {
    const path = join(dir, "shared.db");
    const a = await openStore({ path });
    const b = await openStore({ path });
    await Promise.all([a.write({ items: [item("a1")] }), b.write({ items: [item("b1")] })]);
    expect((await a.counts()).items).toBe(2);
    expect((await b.listItems()).records.map((r) => r.id)).toEqual(expect.arrayContaining(["a1", "b1"]));
    await a.close();
    await b.close();
  });

  it("resolves the target from options, then environment, then the default", () => {
    expect(resolveTarget({}, {})).toEqual({ engine: "sqlite", path: "./.rlxf/rlxf.db" });
    expect(resolveTarget({}, { RLXF_DB: "/x/y.db" })).toEqual({ engine: "sqlite", path: "/x/y.db" });
    expect(resolveTarget({}, { RLXF_DATABASE_URL: "postgres://u@h/db", RLXF_DB: "/x/y.db" })).toEqual({
      engine: "postgres",
      url: "postgres://u@h/db",
    });
    expect(resolveTarget({ path: "a.db" }, { RLXF_DATABASE_URL: "postgres://u@h/db" })).toEqual({ engine: "sqlite", path: "a.db" });
    expect(resolveTarget({ url: "postgresql://u@h/db" }, {})).toEqual({ engine: "postgres", url: "postgresql://u@h/db" });
    expect(resolveTarget({ url: "sqlite:/tmp/z.db" }, {})).toEqual({ engine: "sqlite", path: "/tmp/z.db" });
    expect(() => resolveTarget({ url: "mysql://u:secret@h/db" }, {})).toThrow(RlxfError);
    expect(() => resolveTarget({ url: "mysql://u:secret@h/db" }, {})).not.toThrow(/secret/);
  });

  it("reports an unreachable PostgreSQL clearly, without the password", async () => {
    const e = await openStore({ url: "postgres://u:hunter2@127.0.0.1:1/none" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RlxfError);
    expect((e as RlxfError).code).toBe("store_unavailable");
    expect((e as Error).message).not.toContain("hunter2");
  });
});
