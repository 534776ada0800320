/**
 * Crash safety of the real server process: clients ingest feedback while the
 * server is killed with SIGKILL; after a restart every acknowledged record is
 * present exactly once, and replaying the unacknowledged requests (ids make
 * them idempotent) stores no duplicates. Runs on SQLite, and on PostgreSQL
 * when RLXF_TEST_DATABASE_URL is set.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { itemsAndGenerations, postgresForFile, rating } from "./helpers.js";
import { startServer } from "./process.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pg = postgresForFile("crash.test");

const ITEMS = 40;
/** Records acknowledged before the kill (or 8 s of ingesting, whichever comes first). */
const ACKED = 600;
const CLIENTS = 8;

async function post(url: string, key: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/v1/feedback`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, json: await res.json() };
}

async function allFeedbackIds(url: string, key: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const res = await fetch(`${url}/v1/feedback?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { headers: { Authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { records: { id: string }[]; nextCursor?: string };
    ids.push(...page.records.map((r) => r.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

async function crashAndRecover(db: string): Promise<void> {
  // Keys and the items/generations the feedback targets, written before the server starts.
  const store = await openStore(db.startsWith("postgres") ? { url: db } : { path: db });
  const ingest = (await store.keys.create({ project: "crash", role: "ingest" })).secret;
  const reader = (await store.keys.create({ project: "crash", role: "read" })).secret;
  const { items, generations } = itemsAndGenerations(ITEMS);
  await store.write({ items: items.map((i) => ({ ...i, project: "crash" })), generations: generations.map((g) => ({ ...g, project: "crash" })) });
  await store.close();

  const first = await startServer(["--db", db, "--no-demo"]);
  const acked = new Set<string>();
  const unacked: unknown[] = [];
  let stop = false;
  let reachedTarget: () => void = () => {};
  const target = new Promise<void>((r) => (reachedTarget = r));

  const client = async (c: number) => {
    for (let seq = 0; !stop; seq++) {
      // Alternate single records and batches of 50.
      const n = seq % 2 === 0 ? 1 : 50;
      const records = Array.from({ length: n }, (_, k) => rating(`c${c}-${seq}-${k}`, `i${(c * 7 + seq + k) % ITEMS}-${k % 2 ? "a" : "b"}`, 1 + ((seq + k) % 5)));
      const body = n === 1 ? records[0] : { batch: records };
      try {
        const r = await post(first.url, ingest, body);
        expect(r.status, JSON.stringify(r.json)).toBeLessThan(300);
        for (const x of r.json.results as { id: string }[]) acked.add(x.id);
        if (acked.size >= ACKED) reachedTarget();
      } catch (e) {
        if ((e as Error).name === "AssertionError") throw e;
        // Connection gone (the kill): this request may or may not have been stored.
        unacked.push(body);
        return;
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
  await Promise.race([target, new Promise((r) => setTimeout(r, 8000))]);
  expect(acked.size, "clients acknowledged too little before the kill").toBeGreaterThan(100);
  first.proc.kill("SIGKILL");
  const gone = await first.exited;
  expect(gone.signal).toBe("SIGKILL");
  stop = true;
  await Promise.all(clients);

  // Restart on the same database: every acknowledged record is there, exactly once.
  const second = await startServer(["--db", db, "--no-demo"]);
  try {
    const ids = await allFeedbackIds(second.url, reader);
    expect(new Set(ids).size).toBe(ids.length);
    const present = new Set(ids);
    const missing = [...acked].filter((id) => !present.has(id));
    expect(missing, "acknowledged but lost").toEqual([]);

    // Replay what was in flight at the kill: each record is inserted or already there; no duplicates.
    expect(unacked.length).toBeGreaterThan(0);
    const replayed = new Set<string>();
    for (const body of unacked) {
      const r = await post(second.url, ingest, body);
      expect(r.status, JSON.stringify(r.json)).toBeLessThan(300);
      for (const x of r.json.results as { id: string; status: string }[]) {
        replayed.add(x.id);
        if (acked.has(x.id)) expect(x.status).toBe("existing");
      }
    }
    const after = await allFeedbackIds(second.url, reader);
    expect(new Set(after).size).toBe(after.length);
    expect(after.length).toBe(new Set([...acked, ...replayed]).size);
  } finally {
    // A graceful stop: SIGTERM, exit code 0.
    second.proc.kill("SIGTERM");
    const end = await second.exited;
    expect(end.code, second.stderr()).toBe(0);
    expect(second.stderr()).toContain("stopped");
  }
}

describe("crash safety (kill -9 while ingesting)", () => {
  it("sqlite: acknowledged records survive exactly once; replays add no duplicates", async () => {
    await crashAndRecover(join(dir, "crash.db"));
  });

  it.skipIf(!pg.available)("postgres: acknowledged records survive exactly once; replays add no duplicates", async () => {
    await crashAndRecover(await pg.fresh());
  });
});
