// npm run bench:reward — the reward service's requests per second over HTTP, beside the server's
// own ceiling: a minimal endpoint that returns a constant behind the same app, middleware and
// key check. The server runs in a worker thread (its own event loop); this thread is the load
// generator: BENCH_CONNECTIONS concurrent keep-alive clients (default 32) for BENCH_SECONDS
// per case (default 3), after a 1 s warm-up.
//
// Cases: constant (the ceiling); /v1/reward with the cheap `exact` verifier, one sample per
// request, every completion distinct (no cache hits) and repeated (all cache hits); and
// /v1/reward/openrlhf with 32 queries per request (math verifier), reported as samples/s too.
import { cpus, loadavg } from "node:os";
import { Worker, isMainThread, parentPort } from "node:worker_threads";

if (!isMainThread) {
  const { createApp, listen } = await import("../dist/server/index.js");
  const { openStore } = await import("../dist/store/index.js");
  const store = await openStore({ path: ":memory:" });
  const { secret } = await store.keys.create({ project: "bench", role: "read" });
  const app = createApp({ store });
  const constant = JSON.stringify({ rewards: [1], scores: [1], extra_logs: {} });
  app.post("/v1/bench/constant", async (c) => {
    await c.req.text();
    return c.body(constant, 200, { "Content-Type": "application/json" });
  });
  const running = await listen(app, { port: 0, host: "127.0.0.1" });
  parentPort.postMessage({ url: running.url, secret });
} else {
  const seconds = Number(process.env.BENCH_SECONDS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
  const worker = new Worker(new URL(import.meta.url));
  const { url, secret } = await new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${secret}` };

  async function run(path, makeBody, secs) {
    let n = 0;
    let failed = 0;
    let seq = 0;
    const lat = [];
    const end = performance.now() + secs * 1000;
    const client = async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const res = await fetch(url + path, { method: "POST", headers, body: makeBody(seq++) });
        const body = await res.text();
        if (res.status !== 200) {
          failed++;
          if (failed === 1) console.error(`${path}: ${res.status} ${body.slice(0, 200)}`);
        }
        lat.push(performance.now() - t);
        n++;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: connections }, client));
    const s = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    return { rps: n / s, n, failed, p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)] };
  }

  const batch = 32;
  const cases = [
    ["constant endpoint (ceiling)", "/v1/bench/constant", () => JSON.stringify({ query: ["q"], prompts: ["q"], labels: ["a"] }), 1],
    ["/v1/reward exact, 1 sample, uncached", "/v1/reward", (i) => JSON.stringify({ spec: "exact", samples: [{ completion: `answer ${i}`, reference: "answer 0" }] }), 1],
    ["/v1/reward exact, 1 sample, cached", "/v1/reward", () => JSON.stringify({ spec: "exact", samples: [{ completion: "answer", reference: "answer" }] }), 1],
    [
      `/v1/reward/openrlhf math, ${batch} queries, uncached`,
      "/v1/reward/openrlhf",
      (i) => JSON.stringify({ query: Array.from({ length: batch }, (_, j) => `Q${i}.${j} A: \\boxed{${(i * batch + j) % 97}}`), prompts: Array.from({ length: batch }, (_, j) => `Q${i}.${j} A:`), labels: Array.from({ length: batch }, () => "5") }),
      batch,
    ],
  ];

  console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  console.log(`${connections} keep-alive connections, ${seconds} s per case, server in a worker thread (SQLite in memory)\n`);
  // On a shared machine throughput drifts: the ceiling is measured before and after the other cases and averaged,
  // and every case is printed against that average.
  const results = [];
  for (const [label, path, body, per] of [...cases, ["constant endpoint (ceiling, again)", ...cases[0].slice(1)]]) {
    await run(path, body, 1); // warm-up
    results.push({ label, per, r: await run(path, body, seconds) });
  }
  const ceiling = (results[0].r.rps + results[results.length - 1].r.rps) / 2;
  for (const { label, per, r } of results) {
    const extra = per > 1 ? `, ${(r.rps * per).toFixed(0)} samples/s` : "";
    console.log(
      `${label.padEnd(48)} ${r.rps.toFixed(0).padStart(7)} req/s${extra} (p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms; ${(100 * r.rps / ceiling).toFixed(0)}% of the mean ceiling${r.failed ? `; ${r.failed} FAILED` : ""})`,
    );
  }
  await worker.terminate();
}
