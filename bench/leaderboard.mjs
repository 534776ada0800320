// npm run bench:leaderboard — `rlxf leaderboard --format alpaca-eval` on the 20 shared AlpacaEval 2 annotation
// files, with the length-controlled win rate (the default), without it (--no-lc), and refitting the instruction
// difficulty from the files (--difficulty estimate, AlpacaEval's joint GLM), beside a pandas script computing the
// win-rate columns of the same files (bench/leaderboard_pandas.py, Debian's python3-pandas), in one run.
//
// Each is a whole process, start to exit, as a user runs it; the runs are interleaved (one of each per round) so
// that a busy machine weighs on all alike, and the medians over rounds are reported: CPU seconds (user + system of
// the process and its threads) and wall seconds, and their ratios to pandas. The win-rate columns of rlxf and
// pandas are checked to agree. Setup: python3-pandas is installed with apt-get when /usr/bin/python3 lacks pandas.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { needData } from "./data.mjs";

const root = resolve(import.meta.dirname, "..");
const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const dir = needData("alpaca_eval", "annotations");
const files = readdirSync(dir)
  .filter((f) => /\.json(\.gz)?$/.test(f))
  .sort()
  .map((f) => join(dir, f));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function ensurePandas() {
  const probe = () => spawnSync(PYTHON, ["-c", "import pandas; print(pandas.__version__)"], { encoding: "utf8" });
  let r = probe();
  if (r.status === 0) return r.stdout.trim();
  console.error(`[setup] ${PYTHON} cannot import pandas; installing Debian's python3-pandas with apt-get ...`);
  const sudo = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
  const apt = (args) => spawnSync(sudo[0] ?? "apt-get", [...sudo.slice(1), ...(sudo.length ? ["apt-get"] : []), ...args], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (apt(["install", "-y", "-q", "python3-pandas"]).status !== 0) {
    apt(["update", "-q"]);
    apt(["install", "-y", "-q", "python3-pandas"]);
  }
  r = probe();
  if (r.status !== 0) throw new Error(`pandas is not available to ${PYTHON} (apt-get install python3-pandas failed): ${r.stderr}`);
  return r.stdout.trim();
}

/** Run a command to completion; its CPU seconds come from bash's `times` (the children's user and system time). */
function measure(cmd, args) {
  const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const t0 = performance.now();
  const r = spawnSync("bash", ["-c", `${quoted} 2>/dev/null; s=$?; times >&2; exit $s`], {
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(" ")} ... failed (${r.status})`);
  // bash's `times`: the shell's own user and system time, then its children's ("0m1.234s 0m0.123s")
  const children = r.stderr.trimEnd().split("\n").pop();
  const secs = children
    .trim()
    .split(/\s+/)
    .map((t) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return Number(m[1]) * 60 + Number(m[2]);
    });
  return { cpu: secs[0] + secs[1], wall, stdout: r.stdout };
}

const pandasVersion = ensurePandas();
const rlxf = (extra) => ["node", [join(root, "dist", "cli", "main.js"), "leaderboard", "--format", "alpaca-eval", "--json", ...extra, ...files]];
const cases = {
  "rlxf, win rates + LC": rlxf([]),
  "rlxf --no-lc": rlxf(["--no-lc"]),
  "rlxf --difficulty estimate": rlxf(["--difficulty", "estimate"]),
  pandas: [PYTHON, [join(root, "bench", "leaderboard_pandas.py"), ...files]],
};
// BENCH_EXTRA="--threads 0;--threads 2" adds runs with other flags.
for (const extra of (process.env.BENCH_EXTRA ?? "").split(";").filter(Boolean)) cases[`rlxf ${extra}`] = rlxf(extra.trim().split(/\s+/));
console.log(`AlpacaEval leaderboard of ${files.length} files, ${ROUNDS} interleaved rounds; Node ${process.version}, pandas ${pandasVersion}`);

// Untimed warm-up of each (file cache, Python bytecode).
const outputs = {};
for (const [name, [cmd, args]] of Object.entries(cases)) outputs[name] = JSON.parse(measure(cmd, args).stdout);

// The win-rate columns agree.
const byModel = new Map(outputs.pandas.map((r) => [r.model, r]));
for (const name of ["rlxf, win rates + LC", "rlxf --no-lc"]) {
  for (const r of outputs[name]) {
    const p = byModel.get(r.model);
    if (!p) throw new Error(`${name}: model ${r.model} not in pandas' output`);
    for (const col of ["win_rate", "standard_error", "discrete_win_rate", "avg_length", "n_wins", "n_wins_base", "n_draws", "n_total"]) {
      if (Math.abs(r[col] - p[col]) > 1e-9 * Math.max(1, Math.abs(p[col]))) throw new Error(`${name}: ${r.model} ${col} ${r[col]} vs pandas ${p[col]}`);
    }
  }
}
console.log(`win-rate columns: rlxf and pandas agree on all ${byModel.size} models`);

const results = Object.fromEntries(Object.keys(cases).map((k) => [k, { cpu: [], wall: [] }]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, [cmd, args]] of Object.entries(cases)) {
    const m = measure(cmd, args);
    results[name].cpu.push(m.cpu);
    results[name].wall.push(m.wall);
  }
}
const base = { cpu: median(results.pandas.cpu), wall: median(results.pandas.wall) };
console.log("");
console.log(`${"".padEnd(28)}  ${"CPU s".padStart(6)}  ${"wall s".padStart(6)}  ${"CPU / pandas".padStart(12)}  ${"wall / pandas".padStart(13)}`);
for (const [name, r] of Object.entries(results)) {
  const cpu = median(r.cpu);
  const wall = median(r.wall);
  console.log(`${name.padEnd(28)}  ${cpu.toFixed(2).padStart(6)}  ${wall.toFixed(2).padStart(6)}  ${(cpu / base.cpu).toFixed(2).padStart(12)}  ${(wall / base.wall).toFixed(2).padStart(13)}`);
}
console.log(`\nmedians over ${ROUNDS} rounds; CPU = user + system seconds of the whole process (all threads)`);
