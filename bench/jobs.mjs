// `npm run bench:jobs`: judge throughput of a job spread over `rlxf worker` processes, with one worker and
// with two, against a local OpenAI-compatible server (its own process) that answers in 50 ms and serves at
// most SERVER_SLOTS requests at once: its ceiling is SERVER_SLOTS / 50 ms. Each worker keeps
// TASKS x IN_FLIGHT requests in flight (half the ceiling), so one worker can reach half of it and two the
// whole of it. Prints pairs per second, the ratio to the ceiling (goal >= 0.8 with two workers) and the
// speed-up from the second worker (ideal 2). Throughput counts from the job's first start to its end
// (the database's clock), after the workers are up.
//
// PostgreSQL: RLXF_BENCH_DATABASE_URL, else a throwaway database on RLXF_TEST_DATABASE_URL's server;
// without either, a SQLite file (workers on one machine share it).
// Knobs: BENCH_PAIRS (default 3000), BENCH_LATENCY_MS (50), BENCH_SLOTS (16), BENCH_ROUNDS (2).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { openJobs } from "../dist/jobs/index.js";
import { openStore } from "../dist/store/index.js";

const PAIRS = Number(process.env.BENCH_PAIRS ?? 3000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const SLOTS = Number(process.env.BENCH_SLOTS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const TASKS = 2;
const IN_FLIGHT = SLOTS / (2 * TASKS);
const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

// ------------------------------------------------------------ the store ---
let url = process.env.RLXF_BENCH_DATABASE_URL;
let dropDb;
const dir = mkdtempSync(join(tmpdir(), "rlxf-bench-jobs-"));
if (!url && process.env.RLXF_TEST_DATABASE_URL) {
  const name = `rlxf_bench_${Date.now().toString(36)}`;
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
const target = url ? { url } : { path: join(dir, "bench.db") };
const store = await openStore(target);
const dbArg = url ?? target.path;

// ------------------------------------------------ the model server (a child) ---
const serverCode = `
import { startFakeModelServer } from ${JSON.stringify(new URL("../dist/providers/testing/index.js", import.meta.url).href)};
const slots = ${SLOTS}, latency = ${LATENCY_MS};
let busy = 0; const waiting = [];
const acquire = () => busy < slots ? (busy++, Promise.resolve()) : new Promise((r) => waiting.push(r));
const release = () => { const next = waiting.shift(); if (next) next(); else busy--; };
const server = await startFakeModelServer({ respond: async (r) => {
  await acquire();
  try { await new Promise((res) => setTimeout(res, latency)); } finally { release(); }
  return r.prompt.indexOf("longer") > r.prompt.indexOf("## Answer of M") ? "M" : "m";
} });
process.stdout.write(JSON.stringify({ baseUrl: server.baseUrl }) + "\\n");
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
`;
const modelServer = spawn(process.execPath, ["--input-type=module", "-e", serverCode], { stdio: ["ignore", "pipe", "inherit"] });
const { baseUrl } = JSON.parse(await new Promise((resolve) => createInterface({ input: modelServer.stdout }).once("line", resolve)));

// -------------------------------------------------------------- workers ---
function startWorker() {
  const proc = spawn(process.execPath, [CLI, "worker", "--db", dbArg, "--kinds", "judge", "--concurrency", String(TASKS)], { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  proc.stderr.on("data", (d) => (text += d));
  return new Promise((resolve, reject) => {
    proc.stdout.on("data", (d) => {
      text += d;
      if (/rlxf worker \S+ running/.test(text)) resolve(proc);
    });
    proc.once("exit", (code) => reject(new Error(`worker exited (${code}): ${text}`)));
  });
}
const stop = async (procs) => {
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r() : (p.once("exit", r), p.kill("SIGTERM"))))));
};

const rows = (round, n) =>
  Array.from({ length: n }, (_, i) => ({
    instruction: `Round ${round} question ${i}: explain the difference between a list and a tuple.`,
    output_1: `A short answer ${i}.`,
    output_2: `A longer answer ${i} that goes into the detail of mutability and hashing.`,
  }));

const jobs = openJobs(store, { run: false, log: () => {} });
async function measure(workers, round) {
  const procs = await Promise.all(Array.from({ length: workers }, () => startWorker()));
  try {
    const job = await jobs.submit({
      kind: "judge",
      project: `bench-${workers}-${round}`,
      origin: "cli",
      input: { judge: "pairwise", rows: rows(`${workers}-${round}`, PAIRS), order: "fixed", chunkSize: 100, concurrency: IN_FLIGHT, model: { baseUrl, model: "bench", concurrency: IN_FLIGHT, cache: false, timeoutMs: 60_000 } },
    });
    for (;;) {
      const j = await store.jobs.get(job.id);
      if (["succeeded", "failed", "cancelled"].includes(j.state)) {
        if (j.state !== "succeeded" || j.progress.done !== PAIRS) throw new Error(`the job ended ${j.state}: ${JSON.stringify(j.progress)} ${j.error ?? ""}`);
        const seconds = (Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 1000;
        return PAIRS / seconds;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await stop(procs);
  }
}

const ceiling = SLOTS / (LATENCY_MS / 1000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  console.log(`judge jobs: ${PAIRS} pairs per job over ${url ? "PostgreSQL (pg-boss)" : "SQLite"}; server ${LATENCY_MS} ms, ${SLOTS} at once: ceiling ${ceiling.toFixed(0)} pairs/s`);
  console.log(`each worker: ${TASKS} tasks x ${IN_FLIGHT} requests in flight (${((TASKS * IN_FLIGHT) / SLOTS).toFixed(2)} of the server's slots); ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}`);
  const one = [];
  const two = [];
  for (let r = 0; r < ROUNDS; r++) {
    one.push(await measure(1, r));
    two.push(await measure(2, r));
    console.log(`  round ${r + 1}: 1 worker ${one[r].toFixed(0)} pairs/s, 2 workers ${two[r].toFixed(0)} pairs/s`);
  }
  const o = median(one);
  const t = median(two);
  console.log("");
  console.log(`workers  pairs/s  ratio to ceiling`);
  console.log(`1        ${o.toFixed(0).padStart(7)}  ${(o / ceiling).toFixed(2)}`);
  console.log(`2        ${t.toFixed(0).padStart(7)}  ${(t / ceiling).toFixed(2)}   (goal >= 0.80)`);
  console.log(`speed-up from the second worker: ${(t / o).toFixed(2)}x (ideal ${Math.min(2, ceiling / o).toFixed(2)}x)`);
} finally {
  await jobs.close();
  await store.close();
  modelServer.kill("SIGTERM");
  await dropDb?.();
  rmSync(dir, { recursive: true, force: true });
}
