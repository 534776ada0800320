// npm run bench:import — the 20 AlpacaEval annotation files (16,099 annotations) into SQLite:
// rlxf (read + validate + referential checks + idempotent transactional write) beside the
// baseline of inserting the same rows straight into a table with better-sqlite3, in the same run.
import Database from "better-sqlite3";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needData } from "./data.mjs";

const dir = needData("alpaca_eval", "annotations");
// rlxf loads after the data check: without the data, the run stops at once, naming what is missing.
const { mergeBatches, readImportFile } = await import("../dist/io/index.js");
const { openStore } = await import("../dist/store/index.js");
const files = readdirSync(dir).filter((f) => f.endsWith(".json.gz")).sort().map((f) => join(dir, f));
const tmp = mkdtempSync(join(tmpdir(), "rlxf-bench-"));
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function rlxfImport(path) {
  const t0 = performance.now();
  const batch = mergeBatches(await Promise.all(files.map((f) => readImportFile(f))));
  const t1 = performance.now();
  const store = await openStore({ path });
  const report = await store.write(batch);
  await store.close();
  const t2 = performance.now();
  return { read: (t1 - t0) / 1000, write: (t2 - t1) / 1000, total: (t2 - t0) / 1000, report, batch };
}

function rawInsert(path, batch) {
  const t0 = performance.now();
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`create table items (id text primary key, body text);
           create table generations (id text primary key, item_id text, policy text, body text);
           create table feedback (id text primary key, kind text, body text)`);
  const ins = {
    items: db.prepare("insert into items values (?, ?)"),
    generations: db.prepare("insert into generations values (?, ?, ?, ?)"),
    feedback: db.prepare("insert into feedback values (?, ?, ?)"),
  };
  db.transaction(() => {
    for (const r of batch.items) ins.items.run(r.id, JSON.stringify(r));
    for (const r of batch.generations) ins.generations.run(r.id, r.itemId, r.policy, JSON.stringify(r));
    for (const r of batch.feedback) ins.feedback.run(r.id, r.kind, JSON.stringify(r));
  })();
  db.close();
  return (performance.now() - t0) / 1000;
}

const rl = [];
const raw = [];
let report;
for (let i = 0; i < rounds; i++) {
  const r = await rlxfImport(join(tmp, `rlxf-${i}.db`));
  rl.push(r);
  report = r.report;
  raw.push(rawInsert(join(tmp, `raw-${i}.db`), r.batch));
}
rmSync(tmp, { recursive: true, force: true });
const read = median(rl.map((r) => r.read));
const write = median(rl.map((r) => r.write));
const total = median(rl.map((r) => r.total));
const base = median(raw);
console.log(`files: ${files.length}; records: ${report.items.inserted} items, ${report.generations.inserted} generations, ${report.feedback.inserted} feedback (median of ${rounds} runs)`);
console.log(`rlxf import:  ${total.toFixed(2)} s total = ${read.toFixed(2)} s read+validate + ${write.toFixed(2)} s store write (${Math.round(report.feedback.inserted / total)} annotations/s)`);
console.log(`baseline raw better-sqlite3 insert of the same rows: ${base.toFixed(2)} s`);
console.log(`ratio store write / raw insert: ${(write / base).toFixed(2)}x; whole import / raw insert: ${(total / base).toFixed(2)}x`);
