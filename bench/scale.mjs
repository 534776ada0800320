// `npm run bench:scale`: rlxf on PostgreSQL with BENCH_RECORDS (default 1,000,000) synthetic pairwise feedback
// records, generated here: items with eight policies' outputs each and pairwise judgements drawn from a
// Bradley-Terry model of the policies. Measured at 100,000 records and at the full count:
//   - batched ingestion rate (Store.write in batches of 5,000 records, as POST /v1/feedback {"batch"} does);
//   - the leaderboard with outcomes counted in SQL (win shares and Bradley-Terry with 200 Poisson-bootstrap
//     rounds, what a `leaderboard` job runs), and, at 100,000, the same read row by row into Node to compare;
//   - GET /v1/export?format=trl-preference streamed from `rlxf serve`: rows per second, and the server's
//     peak resident memory during the export (sampled every 50 ms; it must stay flat as rows grow).
//
// PostgreSQL: RLXF_BENCH_DATABASE_URL (an empty database), else a throwaway database on
// RLXF_TEST_DATABASE_URL's server. Knobs: BENCH_RECORDS, BENCH_CHECKPOINT (default 100,000).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { bradleyTerryLeaderboard } from "../dist/eval/index.js";
import { aggregatedBradleyTerry, pairwiseCounts } from "../dist/jobs/kinds/leaderboard.js";
import { openStore } from "../dist/store/index.js";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const CHECKPOINT = Number(process.env.BENCH_CHECKPOINT ?? 100_000);
const PER_ITEM = 10;
const POLICIES = ["gpt-4o", "claude-3-5", "llama-3-70b", "qwen-2-72b", "mistral-large", "gemma-2-27b", "phi-3", "tiny-chat"];
const STRENGTH = [1.2, 1.0, 0.6, 0.5, 0.3, 0.0, -0.4, -1.0];
const BATCH = 5000;
const PROJECT = "scale";
const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

let url = process.env.RLXF_BENCH_DATABASE_URL;
let dropDb;
if (!url) {
  if (!process.env.RLXF_TEST_DATABASE_URL) throw new Error("bench:scale needs PostgreSQL: set RLXF_BENCH_DATABASE_URL (an empty database) or RLXF_TEST_DATABASE_URL");
  const name = `rlxf_scale_${Date.now().toString(36)}`;
  const admin = async (q) => {
    const c = new pg.Client({ connectionString: process.env.RLXF_TEST_DATABASE_URL });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await admin(`create database ${name}`);
  const u = new URL(process.env.RLXF_TEST_DATABASE_URL);
  u.pathname = `/${name}`;
  url = u.toString();
  dropDb = () => admin(`drop database if exists ${name} with (force)`);
}

// A small seeded generator, so every run makes the same data.
let seed = 12345;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const words = "the of and to in is that for it as with was on be by this are or from at an which have not has but".split(" ");
const text = (n) => Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(" ");

let itemNo = 0;
function batchOf(nFeedback) {
  const items = [];
  const generations = [];
  const feedback = [];
  for (let k = 0; k < nFeedback / PER_ITEM; k++) {
    const id = `item-${itemNo++}`;
    items.push({ id, project: PROJECT, prompt: `Question ${id}: ${text(25)}?`, dataset: "synthetic" });
    for (const p of POLICIES) generations.push({ id: `${id}/${p}`, project: PROJECT, itemId: id, policy: p, output: `${p}: ${text(40 + Math.floor(rand() * 80))}` });
    for (let f = 0; f < PER_ITEM; f++) {
      const a = Math.floor(rand() * POLICIES.length);
      let b = Math.floor(rand() * (POLICIES.length - 1));
      if (b >= a) b++;
      const pSecond = 1 / (1 + Math.exp(STRENGTH[a] - STRENGTH[b]));
      const choice = rand() < pSecond ? "second" : "first";
      feedback.push({ id: `${id}#${f}`, project: PROJECT, kind: "pairwise", targets: [`${id}/${POLICIES[a]}`, `${id}/${POLICIES[b]}`], source: { type: "judge", id: "synthetic-judge" }, value: { choice } });
    }
  }
  return { items, generations, feedback };
}

const store = await openStore({ url });
const results = {};
let ingested = 0;
let ingestSeconds = 0;
let rows = 0;

async function ingestTo(n) {
  while (ingested < n) {
    const b = batchOf(Math.min(BATCH, n - ingested));
    const t0 = performance.now();
    await store.write(b);
    ingestSeconds += (performance.now() - t0) / 1000;
    ingested += b.feedback.length;
    rows += b.items.length + b.generations.length + b.feedback.length;
    if (process.stderr.isTTY) process.stderr.write(`\ringested ${ingested.toLocaleString()} feedback records\x1b[K`);
  }
  if (process.stderr.isTTY) process.stderr.write("\n");
}

async function leaderboard(label, rowByRow) {
  const t0 = performance.now();
  const counts = await pairwiseCounts(store, PROJECT);
  const tCounts = (performance.now() - t0) / 1000;
  const board = aggregatedBradleyTerry(counts, { rounds: 200, seed: 0 });
  const tTotal = (performance.now() - t0) / 1000;
  const out = { countsSeconds: tCounts, totalSeconds: tTotal, cells: counts.length, top: board.slice(0, 3).map((r) => `${r.model} ${r.rating.toFixed(0)} [${r.lower.toFixed(0)}, ${r.upper.toFixed(0)}]`) };
  if (rowByRow) {
    const t1 = performance.now();
    const feedback = [];
    const gens = new Map();
    for await (const rf of store.iterateResolvedFeedback({ project: PROJECT, kind: "pairwise" })) {
      feedback.push(rf.feedback);
      for (const g of rf.targets) gens.set(g.id, { policy: g.policy, itemId: g.itemId });
    }
    const tRead = (performance.now() - t1) / 1000;
    bradleyTerryLeaderboard(feedback, gens, { rounds: 200, seed: 0 });
    out.rowByRow = { readSeconds: tRead, totalSeconds: (performance.now() - t1) / 1000 };
  }
  results[label] = { ...(results[label] ?? {}), leaderboard: out };
}

function rssKb(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function exportThroughServer(label) {
  const { secret } = await store.keys.create({ project: PROJECT, role: "read", name: `bench-${label}` });
  const server = spawn(process.execPath, [CLI, "serve", "--db", url, "--port", "0", "--no-demo", "--workers", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  const base = await new Promise((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.once("exit", (c) => reject(new Error(`serve exited ${c}`)));
  });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssKb(server.pid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(server.pid))), 50);
    const t0 = performance.now();
    const res = await fetch(`${base}/v1/export?format=trl-preference`, { headers: { Authorization: `Bearer ${secret}` } });
    let bytes = 0;
    let lines = 0;
    for await (const chunk of res.body) {
      bytes += chunk.length;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
    }
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    results[label] = { ...(results[label] ?? {}), export: { rows: lines, bytes, seconds, rowsPerSecond: lines / seconds, idleRssMb: idle / 1024, peakRssMb: peak / 1024 } };
  } finally {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
  }
}

const fmt = (n, d = 0) => Number(n).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
try {
  console.log(`bench:scale on PostgreSQL: ${fmt(RECORDS)} pairwise feedback records (${PER_ITEM} per item, ${POLICIES.length} policies); ${cpus().length} CPUs, ${fmt(totalmem() / 2 ** 30, 1)} GiB, load ${loadavg()[0].toFixed(1)}`);
  for (const [label, n] of [
    ["100k", Math.min(CHECKPOINT, RECORDS)],
    ["1M", RECORDS],
  ]) {
    if (label === "1M" && n === ingested) break;
    await ingestTo(n);
    results[label] = { records: ingested, rows, ingestRecordsPerSecond: ingested / ingestSeconds, ingestRowsPerSecond: rows / ingestSeconds };
    await leaderboard(label, label === "100k");
    await exportThroughServer(label);
    const r = results[label];
    console.log(`\nat ${fmt(ingested)} feedback records (${fmt(rows)} records with items and generations):`);
    console.log(`  ingestion (batches of ${BATCH} feedback + their items and generations): ${fmt(r.ingestRecordsPerSecond)} feedback/s, ${fmt(r.ingestRowsPerSecond)} records/s so far`);
    console.log(`  leaderboard, SQL counts: ${r.leaderboard.cells} outcome cells in ${r.leaderboard.countsSeconds.toFixed(2)} s; with Bradley-Terry and 200 bootstrap rounds ${r.leaderboard.totalSeconds.toFixed(2)} s`);
    console.log(`    top: ${r.leaderboard.top.join("; ")}`);
    if (r.leaderboard.rowByRow) console.log(`  leaderboard, every row read into Node: ${r.leaderboard.rowByRow.readSeconds.toFixed(2)} s reading, ${r.leaderboard.rowByRow.totalSeconds.toFixed(2)} s in all (${(r.leaderboard.rowByRow.totalSeconds / r.leaderboard.totalSeconds).toFixed(1)}x the SQL way)`);
    console.log(`  export (GET /v1/export?format=trl-preference): ${fmt(r.export.rows)} rows, ${fmt(r.export.bytes / 2 ** 20, 1)} MiB in ${r.export.seconds.toFixed(1)} s = ${fmt(r.export.rowsPerSecond)} rows/s; server memory ${fmt(r.export.idleRssMb)} MiB idle, peak ${fmt(r.export.peakRssMb)} MiB`);
  }
  if (results["1M"]?.export && results["100k"]?.export) {
    console.log(`\nserver peak memory during the export: ${fmt(results["100k"].export.peakRssMb)} MiB at 100k, ${fmt(results["1M"].export.peakRssMb)} MiB at 1M (ratio ${(results["1M"].export.peakRssMb / results["100k"].export.peakRssMb).toFixed(2)}; flat is 1)`);
  }
  const size = await store.jobs.withSql((tx) => tx.executeSql("select pg_database_size(current_database()) as b"));
  console.log(`database size: ${fmt(Number(size.rows[0].b) / 2 ** 30, 2)} GiB`);
  console.log(`\n${JSON.stringify(results)}`);
} finally {
  await store.close();
  await dropDb?.();
}
