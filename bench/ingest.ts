/**
 * Ingestion benchmark (`npm run bench:ingest`): feedback records per second
 * through `POST /v1/feedback` of the real server (`rlxf serve`, a child
 * process, SQLite) in batches of 500 and one record at a time from 32
 * concurrent clients, beside inserting the same rows straight into the same
 * schema with better-sqlite3, in the same run. Two servers run side by side:
 * `--durability full` (the default: SQLite synchronous=FULL, every commit
 * synced) and `--durability normal` (synchronous=NORMAL), and the run prints
 * full / normal; the raw baseline uses synchronous=NORMAL.
 *
 * Knobs (env): BENCH_BATCHED (records, default 100000), BENCH_SINGLE (default
 * 10000), BENCH_CLIENTS (single-record clients, default 32), BENCH_BATCH_CLIENTS
 * (default 4), BENCH_ROUNDS (alternating batched/raw rounds, default 3).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { openStore } from "../src/store/index.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(ROOT, "dist", "cli", "main.js");
const BATCHED = Number(process.env.BENCH_BATCHED ?? 100_000);
const SINGLE = Number(process.env.BENCH_SINGLE ?? 10_000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
const BATCH_CLIENTS = Number(process.env.BENCH_BATCH_CLIENTS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 500;
const ITEMS = 1000;
const PROJECT = "bench";

interface Rec {
  id: string;
  kind: "rating";
  itemId: string;
  targets: [string];
  source: { type: "judge"; id: string };
  value: { score: number; scale: { min: number; max: number }; dimension: string };
  metadata: { run: number };
}

function record(prefix: string, i: number): Rec {
  const item = i % ITEMS;
  return {
    id: `${prefix}-${i}`,
    kind: "rating",
    itemId: `i${item}`,
    targets: [`i${item}-${i % 2 ? "a" : "b"}`],
    source: { type: "judge", id: "bench-judge" },
    value: { score: 1 + (i % 5), scale: { min: 1, max: 5 }, dimension: "helpfulness" },
    metadata: { run: i },
  };
}

async function seed(path: string): Promise<string> {
  const store = await openStore({ path });
  const items = Array.from({ length: ITEMS }, (_, i) => ({ id: `i${i}`, project: PROJECT, prompt: `prompt ${i}` }));
  const generations = items.flatMap((it) => ["a", "b"].map((p) => ({ id: `${it.id}-${p}`, project: PROJECT, itemId: it.id, policy: p, output: `output of ${p} for ${it.id}` })));
  await store.write({ items, generations });
  const { secret } = await store.keys.create({ project: PROJECT, role: "ingest" });
  await store.close();
  return secret;
}

async function startServer(db: string, durability: "full" | "normal"): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [CLI, "serve", "--port", "0", "--db", db, "--no-demo", "--durability", durability], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const url = await new Promise<string>((res, rej) => {
    proc.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) res(m[1] as string);
    });
    proc.once("exit", (code) => rej(new Error(`server exited (${code}) before listening`)));
  });
  return { url, proc };
}

async function post(url: string, key: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/v1/feedback`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
}

/** Run `total` jobs on `workers` concurrent loops; returns seconds and per-job latencies (ms). */
async function pool(total: number, workers: number, job: (i: number) => Promise<void>): Promise<{ seconds: number; latencies: number[] }> {
  let next = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = next++; i < total; i = next++) {
        const s = performance.now();
        await job(i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, latencies };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/** The same rows as the store writes them (body = record minus id/project/createdAt), straight into SQLite. */
function rawInserter(path: string): { insert(records: Rec[]): number; close(): void } {
  const db = new BetterSqlite3(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  const insFb = db.prepare(
    "insert into feedback (project, id, kind, item_id, source_type, source_id, body, created_at, recorded_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const insT = db.prepare("insert into feedback_targets (project, feedback_id, position, generation_id) values (?, ?, ?, ?)");
  const batch = db.transaction((rows: Rec[]) => {
    const now = Date.now();
    for (const r of rows) {
      const { id, ...rest } = r;
      insFb.run(PROJECT, id, r.kind, r.itemId, r.source.type, r.source.id, JSON.stringify(rest), now, now);
      r.targets.forEach((g, pos) => insT.run(PROJECT, id, pos, g));
    }
  });
  return {
    /** Records per second. */
    insert(records) {
      const t0 = performance.now();
      for (let i = 0; i < records.length; i += BATCH) batch(records.slice(i, i + BATCH));
      return records.length / ((performance.now() - t0) / 1000);
    },
    close: () => db.close(),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

type Durability = "full" | "normal";
const DURABILITIES: Durability[] = ["full", "normal"];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "rlxf-bench-"));
  const servers: { url: string; proc: ChildProcess }[] = [];
  try {
    const rawDb = join(dir, "raw.db");
    await seed(rawDb);
    const api = {} as Record<Durability, { url: string; key: string }>;
    for (const d of DURABILITIES) {
      const db = join(dir, `api-${d}.db`);
      const key = await seed(db);
      const server = await startServer(db, d);
      servers.push(server);
      api[d] = { url: server.url, key };
    }

    // Warm up (JIT, connections, SQLite cache).
    for (const d of DURABILITIES) {
      const { url, key } = api[d];
      for (let n = 0; n < 10; n++) await post(url, key, { batch: Array.from({ length: BATCH }, (_, i) => record("warm", n * BATCH + i)) });
      await Promise.all(Array.from({ length: CLIENTS }, (_, i) => post(url, key, record("warm1", i))));
    }

    // Batched API (full, normal) and raw inserts in alternating rounds, so that a change in the
    // machine's load during the run weighs on all; each reported rate is the median of its rounds.
    const raw = rawInserter(rawDb);
    const perRound = Math.ceil(BATCHED / BATCH / ROUNDS);
    const apiRates: Record<Durability, number[]> = { full: [], normal: [] };
    const batchLatencies: Record<Durability, number[]> = { full: [], normal: [] };
    const singleRates: Record<Durability, number[]> = { full: [], normal: [] };
    const singleLatencies: Record<Durability, number[]> = { full: [], normal: [] };
    const rawRates: number[] = [];
    const singlePerRound = Math.ceil(SINGLE / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const d of DURABILITIES) {
        const { url, key } = api[d];
        const b = await pool(perRound, BATCH_CLIENTS, (n) =>
          post(url, key, { batch: Array.from({ length: BATCH }, (_, k) => record(`batched${round}`, n * BATCH + k)) }),
        );
        apiRates[d].push((perRound * BATCH) / b.seconds);
        batchLatencies[d].push(...b.latencies);
        const s1 = await pool(singlePerRound, CLIENTS, (i) => post(url, key, record(`single${round}`, i)));
        singleRates[d].push(singlePerRound / s1.seconds);
        singleLatencies[d].push(...s1.latencies);
      }
      rawRates.push(raw.insert(Array.from({ length: perRound * BATCH }, (_, i) => record(`raw${round}`, i))));
    }
    raw.close();
    const rawRate = median(rawRates);

    const f = (x: number) => Math.round(x).toLocaleString("en-US");
    const total = ROUNDS * perRound * BATCH;
    console.log(`rlxf ingestion benchmark: SQLite, Node ${process.version}, ${total} batched records in ${ROUNDS} rounds and ${ROUNDS * singlePerRound} single records per durability`);
    console.log(`  raw better-sqlite3 inserts (synchronous=NORMAL), same rows, ${BATCH} per transaction: ${f(rawRate)} records/s  (rounds: ${rawRates.map(f).join(", ")})`);
    const rate: Record<Durability, { batched: number; single: number }> = { full: { batched: 0, single: 0 }, normal: { batched: 0, single: 0 } };
    for (const d of DURABILITIES) {
      const batched = median(apiRates[d]);
      const single = median(singleRates[d]);
      rate[d] = { batched, single };
      const ratio = batched / rawRate;
      console.log(`  --durability ${d}:`);
      console.log(`    POST /v1/feedback, batches of ${BATCH}, ${BATCH_CLIENTS} clients: ${f(batched)} records/s  (rounds: ${apiRates[d].map(f).join(", ")}; p50 ${pct(batchLatencies[d], 50).toFixed(1)} ms, p99 ${pct(batchLatencies[d], 99).toFixed(1)} ms per batch)`);
      console.log(`    batched / raw = ${ratio.toFixed(3)}  (goal >= 0.333: ${ratio >= 1 / 3 ? "met" : "NOT met"})`);
      console.log(`    POST /v1/feedback, one record per request, ${CLIENTS} clients: ${f(single)} records/s  (rounds: ${singleRates[d].map(f).join(", ")}; latency p50 ${pct(singleLatencies[d], 50).toFixed(2)} ms, p99 ${pct(singleLatencies[d], 99).toFixed(2)} ms)`);
      console.log(`    single / raw = ${(single / rawRate).toFixed(3)}`);
    }
    console.log(`  full / normal: batched ${(rate.full.batched / rate.normal.batched).toFixed(3)}, single ${(rate.full.single / rate.normal.single).toFixed(3)}  (the price of surviving power loss and OS crashes)`);
  } finally {
    for (const server of servers) {
      server.proc.kill("SIGTERM");
      await new Promise((r) => server.proc.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
