// `npm run bench:responsive`: latency of cheap requests to `rlxf serve` (the embedded SQLite default, so jobs
// run in the server's own worker threads) alone, and while each heavy request runs: a 2,000-round bootstrap
// leaderboard (a job), a large export (a job, and the streamed GET /v1/export), and a reward request whose
// spec brings a catastrophic regular expression (a compute thread, stopped at the server's time limit).
// Cheap requests: GET /v1/health (no store) and GET /v1/me (a key lookup), sent one after another for
// BENCH_SECONDS (default 6) per scenario. Prints p50 and p99 in ms and p99 under load / p99 alone
// (goal <= 3).
// Knobs: BENCH_ITEMS (default 3000 items, 6 policies, 5 pairwise records each), BENCH_SECONDS.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore } from "../dist/store/index.js";

const ITEMS = Number(process.env.BENCH_ITEMS ?? 3000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const POLICIES = ["p0", "p1", "p2", "p3", "p4", "p5"];
const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "rlxf-bench-resp-"));
const db = join(dir, "rlxf.db");

const store = await openStore({ path: db });
const { secret } = await store.keys.create({ project: "p", role: "admin", name: "bench" });
for (let start = 0; start < ITEMS; start += 1000) {
  const items = Array.from({ length: Math.min(1000, ITEMS - start) }, (_, k) => ({ id: `i${start + k}`, project: "p", prompt: `question ${start + k} ${"lorem ipsum ".repeat(20)}` }));
  const generations = items.flatMap((it) => POLICIES.map((p) => ({ id: `${it.id}-${p}`, project: "p", itemId: it.id, policy: p, output: `${p} answers ${it.id} ${"words ".repeat(40)}` })));
  const feedback = items.flatMap((it, i) => [0, 1, 2, 3, 4].map((k) => ({ id: `f${it.id}-${k}`, project: "p", kind: "pairwise", targets: [`${it.id}-${POLICIES[k]}`, `${it.id}-${POLICIES[k + 1]}`], source: { type: "judge", id: "j" }, value: { choice: (i + k) % 3 ? "second" : "first" } })));
  await store.write({ items, generations, feedback });
}
await store.close();

const server = spawn(process.execPath, [CLI, "serve", "--db", db, "--port", "0", "--no-demo", "--compute-timeout", "10"], { stdio: ["ignore", "pipe", "pipe"] });
const url = await new Promise((resolve, reject) => {
  let out = "";
  server.stdout.on("data", (d) => {
    out += d;
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]);
  });
  server.once("exit", (c) => reject(new Error(`serve exited ${c}`)));
});
const auth = { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" };
const call = (path, init = {}) => fetch(url + path, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });

async function sample(path, seconds) {
  const out = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    const r = await fetch(url + path, { headers: auth });
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    out.push(performance.now() - t0);
  }
  return out;
}
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

async function waitJob(id) {
  for (;;) {
    const j = (await (await call(`/v1/jobs/${id}`)).json()).job;
    if (["succeeded", "failed", "cancelled"].includes(j.state)) return j;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const scenarios = [
  ["alone", async () => {}],
  [
    "bootstrap 2,000 rounds (job)",
    async () => {
      const r = await call("/v1/leaderboard?bootstrap=2000");
      const b = await r.json();
      return { stop: () => call(`/v1/jobs/${b.job.id}/cancel`, { method: "POST" }), job: b.job.id };
    },
  ],
  [
    "export job (rlxf, every record)",
    async () => {
      const b = await (await call("/v1/jobs", { method: "POST", body: JSON.stringify({ kind: "export", input: { format: "rlxf" } }) })).json();
      return { stop: () => call(`/v1/jobs/${b.job.id}/cancel`, { method: "POST" }), job: b.job.id };
    },
  ],
  [
    "export streamed (GET /v1/export)",
    async () => {
      const ctl = new AbortController();
      const loop = (async () => {
        while (!ctl.signal.aborted) {
          const r = await fetch(`${url}/v1/export?format=rlxf`, { headers: auth, signal: ctl.signal }).catch(() => undefined);
          await r?.arrayBuffer().catch(() => {});
        }
      })();
      return { stop: async () => (ctl.abort(), await loop.catch(() => {})) };
    },
  ],
  [
    "catastrophic regex reward",
    async () => {
      const ctl = new AbortController();
      const body = JSON.stringify({ spec: { type: "regex", pattern: "^(a+)+$" }, samples: [{ completion: `${"a".repeat(34)}!` }] });
      const loop = (async () => {
        while (!ctl.signal.aborted) await (await fetch(`${url}/v1/reward`, { method: "POST", headers: auth, body, signal: ctl.signal }).catch(() => undefined))?.arrayBuffer().catch(() => {});
      })();
      return { stop: async () => (ctl.abort(), await loop.catch(() => {})) };
    },
  ],
];

try {
  console.log(`rlxf serve on SQLite: ${ITEMS} items, ${ITEMS * POLICIES.length} generations, ${ITEMS * 5} pairwise records; ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}`);
  console.log(`cheap requests one after another for ${SECONDS} s per scenario\n`);
  console.log("scenario                              path          n    p50 ms   p99 ms   p99 / alone");
  const alone = {};
  for (const [name, start] of scenarios) {
    const heavy = await start();
    await new Promise((r) => setTimeout(r, 300));
    for (const path of ["/v1/health", "/v1/me"]) {
      const xs = await sample(path, SECONDS / 2);
      const p99 = q(xs, 0.99);
      if (name === "alone") alone[path] = p99;
      console.log(`${name.padEnd(36)}  ${path.padEnd(12)} ${String(xs.length).padStart(4)}  ${q(xs, 0.5).toFixed(1).padStart(7)}  ${p99.toFixed(1).padStart(7)}   ${name === "alone" ? "" : (p99 / alone[path]).toFixed(2)}`);
    }
    if (heavy?.job) {
      const j = (await (await call(`/v1/jobs/${heavy.job}`)).json()).job;
      console.log(`${"".padEnd(38)}(the job was ${j.state}, ${j.progress.done}${j.progress.total ? `/${j.progress.total}` : ""} done)`);
    }
    await heavy?.stop?.();
    if (heavy?.job) await waitJob(heavy.job);
  }
  console.log("\ngoal: p99 under load <= 3x p99 alone");
} finally {
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
}
