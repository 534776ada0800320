// npm run bench:verify — verifiers' throughput:
//  1. math: verifications per second over the 63 shared Math-Verify cases (extraction,
//     normalisation, parsing, equivalence), with their agreement;
//  2. code: HumanEval's 164 canonical solutions run with their tests in the sandbox
//     (bubblewrap + seccomp + a control group + prlimit, tests verified apart from the program)
//     beside spawning the bare interpreter on the same programs in the same run, at the same
//     concurrency: runs per second and the sandbox's overhead ratio, once with the test suites
//     planned in the run (the first time a dataset is seen) and once with the plans cached (every
//     later sample of the same problems, as in RL training), Python forked from the fork server (the
//     default) and, for comparison, a fresh interpreter in a fresh sandbox per run (RLXF_SANDBOX_FORK=0);
//     and where the time goes: an empty program bare and sandboxed both ways, and the planning.
// BENCH_SECONDS (math, default 3), BENCH_CONCURRENCY (code, default 2), BENCH_ROUNDS (code, default 1).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { needData } from "./data.mjs";

const mathCases = needData("math-verify", "cases.jsonl");
const humanEvalFile = needData("human-eval", "HumanEval.jsonl.gz");
// rlxf loads after the data check: without the data, the run stops at once, naming what is missing.
const { forkServerStats, humanEvalSpec, loadHumanEval, mapLimit, mathEquivalent, planPython, runHumanEval, runSandboxed, sandboxInfo } = await import("../dist/sources/verifiers/index.js");
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, d = 1) => x.toFixed(d);

console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);

// 1. math
const cases = readFileSync(mathCases, "utf8").trim().split("\n").map((l) => JSON.parse(l));
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
const tasks = await loadHumanEval(humanEvalFile);
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
/** With fork = false, every run starts a fresh interpreter in a fresh sandbox. */
async function timeSandbox(fork = true) {
  if (!fork) process.env.RLXF_SANDBOX_FORK = "0";
  try {
    const t = performance.now();
    const report = await runHumanEval(tasks, { concurrency });
    return { secs: (performance.now() - t) / 1000, ok: report.passed, median: median(report.results.map((r) => r.wallMs)), separated: report.results.filter((r) => r.result.isolation === "separated").length, forked: report.results.filter((r) => r.result.sandbox.start === "forked").length };
  } finally {
    delete process.env.RLXF_SANDBOX_FORK;
  }
}

// Where the time goes: a program that does nothing, bare and in the sandbox (one at a time).
async function emptyRuns(n = 20) {
  const empty = join(tmp, "empty.py");
  writeFileSync(empty, "pass\n");
  const bareMs = [];
  const sandMs = [];
  const freshMs = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await new Promise((r) => spawn(python, [empty], { stdio: "ignore" }).on("close", r));
    bareMs.push(performance.now() - t);
    t = performance.now();
    await runSandboxed({ language: "python", inputs: { "p.py": "pass\n" }, args: ["/input/p.py"] });
    sandMs.push(performance.now() - t);
    process.env.RLXF_SANDBOX_FORK = "0";
    t = performance.now();
    await runSandboxed({ language: "python", inputs: { "p.py": "pass\n" }, args: ["/input/p.py"] });
    freshMs.push(performance.now() - t);
    delete process.env.RLXF_SANDBOX_FORK;
  }
  return { bare: median(bareMs), sandbox: median(sandMs), fresh: median(freshMs) };
}

// The test suites are planned the first time they are seen: measure that alone, then the runs with plans cached.
const suites = tasks.map((t) => ({ tests: humanEvalSpec(t, "").tests.map((x) => x.code), entry: t.entry_point, support: t.prompt }));
const rows = [];
let planSecs;
for (let r = 0; r < rounds; r++) {
  const bare1 = await timeBare();
  let cold;
  if (r === 0) {
    const t = performance.now();
    for (let i = 0; i < suites.length; i += 256) await planPython(suites.slice(i, i + 256));
    planSecs = (performance.now() - t) / 1000;
    cold = await timeSandbox();
    cold.secs += planSecs;
  }
  const warm = await timeSandbox();
  const fresh = await timeSandbox(false);
  const bare2 = await timeBare();
  rows.push({ bare: { ...bare2, secs: (bare1.secs + bare2.secs) / 2 }, sandbox: warm, fresh, cold });
}
const empty = await emptyRuns();
rmSync(tmp, { recursive: true, force: true });
const bareSecs = median(rows.map((x) => x.bare.secs));
const sandSecs = median(rows.map((x) => x.sandbox.secs));
const freshSecs = median(rows.map((x) => x.fresh.secs));
const cold = rows[0].cold;
const last = rows[rows.length - 1];
console.log(`\ncode: HumanEval, ${programs.length} canonical solutions with their tests, concurrency ${concurrency}, ${rounds} round(s), ${python}; sandbox: ${info.mode}, memory by ${info.memory}, seccomp`);
console.log(`  bare interpreter:          ${fmt(programs.length / bareSecs)} runs/s (${fmt(bareSecs, 2)} s; median run ${fmt(last.bare.median, 0)} ms; ${last.bare.ok}/${programs.length} exit 0)`);
console.log(`  sandboxed, plans cached:   ${fmt(programs.length / sandSecs)} runs/s (${fmt(sandSecs, 2)} s; median run ${fmt(last.sandbox.median, 0)} ms; ${last.sandbox.ok}/${programs.length} passed, ${last.sandbox.separated} verified separated, ${last.sandbox.forked} forked from ${forkServerStats().started} fork servers)`);
console.log(`  fresh sandbox per run:     ${fmt(programs.length / freshSecs)} runs/s (${fmt(freshSecs, 2)} s; median run ${fmt(last.fresh.median, 0)} ms; ${last.fresh.ok}/${programs.length} passed; RLXF_SANDBOX_FORK=0: a new interpreter in a new bubblewrap sandbox each run)`);
console.log(`  sandboxed, first sight:    ${fmt(programs.length / cold.secs)} runs/s (${fmt(cold.secs, 2)} s, of which planning the ${suites.length} test suites ${fmt(planSecs, 2)} s)`);
console.log(`  sandbox overhead:          ${fmt(sandSecs / bareSecs, 2)}x the bare interpreter's time with plans cached; ${fmt(cold.secs / bareSecs, 2)}x the first time; ${fmt(freshSecs / bareSecs, 2)}x with a fresh sandbox per run`);
console.log(`  where the time goes:       an empty program takes ${fmt(empty.bare, 1)} ms bare, ${fmt(empty.sandbox, 1)} ms forked in the sandbox, ${fmt(empty.fresh, 1)} ms in a fresh sandbox (bubblewrap, seccomp, control group, limits), one at a time`);
