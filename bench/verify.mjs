// npm run bench:verify — verifiers' throughput:
//  1. math: verifications per second over the 63 shared Math-Verify cases (extraction,
//     normalisation, parsing, equivalence), with their agreement;
//  2. code: HumanEval's 164 canonical solutions run with their tests in the sandbox
//     (bubblewrap + prlimit + harness) beside spawning the bare interpreter on the same
//     programs in the same run, at the same concurrency: runs per second and the sandbox's
//     overhead ratio.
// BENCH_SECONDS (math, default 3), BENCH_CONCURRENCY (code, default 2), BENCH_ROUNDS (code, default 1).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadHumanEval, mapLimit, mathEquivalent, runHumanEval, sandboxInfo } from "../dist/sources/verifiers/index.js";

const data = resolve(import.meta.dirname, "..", "..", "shared", "data");
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, d = 1) => x.toFixed(d);

console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

// 1. math
const cases = readFileSync(join(data, "math-verify", "cases.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
const verifyCase = (c) => mathEquivalent(c.gold, c.pred, { goldMatch: c.match_types, predMatch: c.match_types, ...(c.precision !== undefined ? { precision: c.precision } : {}) });
let agree = 0;
for (const c of cases) if (verifyCase(c).equivalent === c.expected) agree++; // also warms up
let n = 0;
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  for (const c of cases) verifyCase(c);
  n += cases.length;
}
const mathSecs = (performance.now() - t0) / 1000;
console.log(`\nmath: ${n} verifications in ${fmt(mathSecs, 2)} s = ${fmt(n / mathSecs, 0)} verifications/s (${fmt((1000 * mathSecs) / n, 3)} ms each); agreement ${agree}/${cases.length}`);
// Hostile 1 MB predictions: every check is bounded and linear, however the input nests.
const MB = 1_000_000;
const hostile = { parentheses: "(".repeat(MB), "math openers": "\\(".repeat(MB / 2), "nested fractions": "\\frac{".repeat(MB / 6), "nested roots": "\\sqrt{".repeat(MB / 6), digits: "7".repeat(MB), "answer phrases": "the answer is ".repeat(MB / 14) };
const hostileMs = Object.entries(hostile).map(([name, text]) => [name, (() => { const t = performance.now(); mathEquivalent("5", text); return performance.now() - t; })()]);
console.log(`math, hostile 1 MB predictions (ms each): ${hostileMs.map(([name, ms]) => `${name} ${fmt(ms, 0)}`).join(", ")}`);

// 2. code
const info = sandboxInfo();
const python = info.python;
const tasks = await loadHumanEval(join(data, "human-eval", "HumanEval.jsonl.gz"));
const programs = tasks.map((t) => `${t.prompt}${t.canonical_solution}\n\n${t.test}\n\ncheck(${t.entry_point})\n`);
const tmp = mkdtempSync(join(tmpdir(), "rlxf-bench-verify-"));
programs.forEach((p, i) => writeFileSync(join(tmp, `p${i}.py`), p));

function bare(i) {
  return new Promise((resolveRun) => {
    const started = performance.now();
    const child = spawn(python, [join(tmp, `p${i}.py`)], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.resume();
    child.stderr.resume();
    child.on("close", (code) => resolveRun({ ok: code === 0, ms: performance.now() - started }));
  });
}

async function timeBare() {
  const t = performance.now();
  const rs = await mapLimit(programs.map((_, i) => i), concurrency, bare);
  return { secs: (performance.now() - t) / 1000, ok: rs.filter((r) => r.ok).length, median: median(rs.map((r) => r.ms)) };
}
async function timeSandbox() {
  const t = performance.now();
  const report = await runHumanEval(tasks, { concurrency });
  return { secs: (performance.now() - t) / 1000, ok: report.passed, median: median(report.results.map((r) => r.wallMs)) };
}

const rows = [];
for (let r = 0; r < rounds; r++) {
  // Alternate the order so that neither side always runs on a warmer machine.
  const first = r % 2 === 0 ? await timeBare() : await timeSandbox();
  const second = r % 2 === 0 ? await timeSandbox() : await timeBare();
  rows.push(r % 2 === 0 ? { bare: first, sandbox: second } : { bare: second, sandbox: first });
}
rmSync(tmp, { recursive: true, force: true });
const bareSecs = median(rows.map((x) => x.bare.secs));
const sandSecs = median(rows.map((x) => x.sandbox.secs));
const last = rows[rows.length - 1];
console.log(`\ncode: HumanEval, ${programs.length} canonical solutions with their tests, concurrency ${concurrency}, ${rounds} round(s), ${python}`);
console.log(`  bare interpreter: ${fmt(programs.length / bareSecs)} runs/s (${fmt(bareSecs, 2)} s; median run ${fmt(last.bare.median, 0)} ms; ${last.bare.ok}/${programs.length} exit 0)`);
console.log(`  sandboxed:        ${fmt(programs.length / sandSecs)} runs/s (${fmt(sandSecs, 2)} s; median run ${fmt(last.sandbox.median, 0)} ms; ${last.sandbox.ok}/${programs.length} passed)`);
console.log(`  sandbox overhead: ${fmt(sandSecs / bareSecs, 2)}x the bare interpreter's time`);
