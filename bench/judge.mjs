// `npm run bench:judge`: judge 2,000 pairs with the default pairwise judge against a
// local OpenAI-compatible server (its own process) answering with a fixed 50 ms latency,
// at concurrency 64; print pairs per second beside the ceiling (concurrency / latency)
// and their ratio (BENCH_ROUNDS rounds, default 3, each with an empty cache), then the
// time of a re-run answered entirely from the store's response cache.
// Everything goes through the path `rlxf judge pairwise` takes with a SQLite file: the
// store-backed response cache, a writer thread storing feedback and cache entries.
// Knobs: BENCH_PAIRS, BENCH_CONCURRENCY, BENCH_LATENCY_MS, BENCH_ROUNDS.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { MemoryResponseCache, StoreResponseCache, createModel } from "../dist/providers/index.js";
import { WorkerSink, pairRow, runPairwise } from "../dist/sources/index.js";
import { openStore } from "../dist/store/index.js";

const PAIRS = Number(process.env.BENCH_PAIRS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const words = "the of and to in is that for it as with was on be by this are or from at an which have not has but".split(" ");
const text = (seed, n) => Array.from({ length: n }, (_, i) => words[(seed * 7 + i * 13) % words.length]).join(" ");
const pairs = Array.from({ length: PAIRS }, (_, i) =>
  pairRow(
    {
      instruction: `Instruction ${i}: ${text(i, 30)}?`,
      output_1: `Answer A${i}. ${text(i + 1, 80 + (i % 50))}`,
      output_2: `Answer B${i}. ${text(i + 2, 60 + ((i * 7) % 90))}`,
      generator_1: "baseline",
      generator_2: "candidate",
    },
    `pair ${i + 1}`,
  ),
);

const child = spawn(process.execPath, [fileURLToPath(new URL("./fake-server.mjs", import.meta.url)), String(LATENCY_MS)], { stdio: ["ignore", "pipe", "inherit"] });
const { baseUrl } = JSON.parse(await new Promise((resolve) => createInterface({ input: child.stdout }).once("line", resolve)));

const dir = mkdtempSync(join(tmpdir(), "rlxf-bench-"));
const target = { path: join(dir, "bench.db") };
const store = await openStore(target);

// As `rlxf judge` does with a SQLite file: a writer thread stores feedback and cache entries,
// the main thread reads the cache and talks to the model.
async function once(label, rows = pairs, modelName = "bench-judge") {
  const sink = new WorkerSink(target);
  const model = createModel({ baseUrl, model: modelName, concurrency: CONCURRENCY, timeoutMs: 30_000 }, { cache: new StoreResponseCache(sink.cacheStore(store.responseCache), { project: "bench" }) });
  try {
    const report = await runPairwise(rows, "pairwise", { model, store, sink, concurrency: 2 * CONCURRENCY });
    return { label, report };
  } finally {
    await model.close();
    await sink.close();
  }
}

try {
  // Warm-up (JIT, connections) on other pairs and another model name, so nothing of it is cached for the measured runs.
  const warm = await once("warm-up", pairs.slice(0, 300).map((p) => ({ ...p, instruction: `warm-up ${p.instruction}` })), "warm-up");
  const ceiling = CONCURRENCY / (LATENCY_MS / 1000);
  console.log(`judge benchmark: ${PAIRS} pairs, concurrency ${CONCURRENCY}, server latency ${LATENCY_MS} ms (default pairwise judge, SQLite store); ceiling ${ceiling.toFixed(0)} pairs/s`);
  // Each round judges the 2,000 pairs with a model name of its own, so every round starts with an empty cache.
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const { report } = await once(`round ${r + 1}`, pairs, `bench-judge-${r + 1}`);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const cpu = process.cpuUsage(cpu0);
    const rate = PAIRS / report.seconds;
    rounds.push({ seconds: report.seconds, rate, ratio: rate / ceiling, report, elu, cpuMsPerPair: (cpu.user + cpu.system) / 1000 / PAIRS });
    console.log(
      `  round ${r + 1}: ${report.seconds.toFixed(2)} s, ${rate.toFixed(0)} pairs/s, ratio ${(rate / ceiling).toFixed(3)}` +
        `; event loop busy ${(100 * elu).toFixed(0)}%, ${((cpu.user + cpu.system) / 1000 / PAIRS).toFixed(2)} ms CPU per pair (all threads)` +
        ` (${report.model.requests} requests, latency p50 ${report.model.latency.p50Ms.toFixed(1)} ms p95 ${report.model.latency.p95Ms.toFixed(1)} ms, ${report.parsed} parsed, ${report.failed} failed, ${report.stored.feedback.inserted} stored)`,
    );
  }
  const cached = (await once("cached", pairs, "bench-judge-1")).report;
  // For comparison: the same judging with nothing written (in-memory cache, no store): the pipeline's own cost.
  const bare = createModel({ baseUrl, model: "bench-judge-bare", concurrency: CONCURRENCY, timeoutMs: 30_000 }, { cache: new MemoryResponseCache() });
  const noStore = await runPairwise(pairs, "pairwise", { model: bare, concurrency: 2 * CONCURRENCY });
  await bare.close();
  const noStoreRatio = PAIRS / noStore.seconds / ceiling;
  console.log(`  cached re-run of round 1: ${cached.seconds.toFixed(2)} s (${(PAIRS / cached.seconds).toFixed(0)} pairs/s), ${cached.model.requests} requests, ${cached.model.cacheHits} cache hits, ${cached.stored.feedback.existing} feedback already stored`);
  console.log(`  without the store (in-memory cache, nothing written): ${noStore.seconds.toFixed(2)} s, ${(PAIRS / noStore.seconds).toFixed(0)} pairs/s, ratio ${noStoreRatio.toFixed(3)}`);
  const byRatio = [...rounds].sort((a, b) => a.ratio - b.ratio);
  const median = byRatio[Math.floor(byRatio.length / 2)];
  const best = byRatio[byRatio.length - 1];
  console.log(`  median ratio ${median.ratio.toFixed(3)}, best ${best.ratio.toFixed(3)} (goal >= 0.8); load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} on ${cpus().length} CPUs`);
  console.log(
    JSON.stringify({
      pairs: PAIRS,
      concurrency: CONCURRENCY,
      latencyMs: LATENCY_MS,
      ceilingPairsPerSecond: ceiling,
      warmUpSeconds: Number(warm.report.seconds.toFixed(3)),
      rounds: rounds.map((r) => ({
        seconds: Number(r.seconds.toFixed(3)),
        pairsPerSecond: Number(r.rate.toFixed(1)),
        ratio: Number(r.ratio.toFixed(3)),
        eventLoopUtilization: Number(r.elu.toFixed(3)),
        cpuMsPerPair: Number(r.cpuMsPerPair.toFixed(3)),
      })),
      medianRatio: Number(median.ratio.toFixed(3)),
      bestRatio: Number(best.ratio.toFixed(3)),
      cachedSeconds: Number(cached.seconds.toFixed(3)),
      cachedRequests: cached.model.requests,
      noStoreRatio: Number(noStoreRatio.toFixed(3)),
      loadAverage: loadavg(),
      cpus: cpus().length,
    }),
  );
} finally {
  await store.close();
  child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
