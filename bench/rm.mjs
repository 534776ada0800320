// npm run bench:rm — the hashed Bradley-Terry reward model on Anthropic HH-RLHF (harmless-base test, 2,312
// pairs), 5-fold cross-validated by item: rlxf's sparse L2 logistic fit (Newton-CG, and L-BFGS for comparison)
// beside scikit-learn's LogisticRegression on the very same hashed feature matrix, in the same run.
//
// Both sides fit the same problem: rows x_i = φ(chosen) − φ(rejected), each multiplied by a seeded random sign
// s_i with label y_i = [s_i > 0] (scikit-learn needs two classes), no intercept, L2 with C = 1/λ. Timed: the
// fits only (rlxf's time includes building its compact sparse matrix from the rows); featurization is shared
// and reported apart. One untimed warm-up fit on each side first. Setup: Debian's python3-sklearn is installed
// with apt-get when /usr/bin/python3 cannot import sklearn (pip cannot reach PyPI here).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needData } from "./data.mjs";

const HH = needData("hh-rlhf", "harmless-base-test.jsonl.gz");
// rlxf loads after the data check: without the data, the run stops at once, naming what is missing.
const { createRng } = await import("../dist/eval/index.js");
const { memorySource, readImportFile } = await import("../dist/io/index.js");
const { collectPairs, csrFromRows, fitLogistic, foldsByItem, hashedNgramFeaturizer, sparseSub } = await import("../dist/learn/index.js");
const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3";
const L2 = Number(process.env.BENCH_L2 ?? 1);
const FOLDS = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function ensureSklearn() {
  const probe = () => spawnSync(PYTHON, ["-c", "import sklearn, scipy, numpy; print(sklearn.__version__)"], { encoding: "utf8" });
  let r = probe();
  if (r.status === 0) return r.stdout.trim();
  console.error(`[setup] ${PYTHON} cannot import sklearn; installing Debian's python3-sklearn with apt-get ...`);
  const sudo = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
  const apt = (args) => spawnSync(sudo[0] ?? "apt-get", [...sudo.slice(1), ...(sudo.length ? ["apt-get"] : []), ...args], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (apt(["install", "-y", "-q", "python3-sklearn"]).status !== 0) {
    apt(["update", "-q"]);
    apt(["install", "-y", "-q", "python3-sklearn"]);
  }
  r = probe();
  if (r.status !== 0) throw new Error(`scikit-learn is not available to ${PYTHON} (apt-get install python3-sklearn failed): ${r.stderr}`);
  return r.stdout.trim();
}

const PY = String.raw`
import json, sys, time, warnings
import numpy as np, scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
d = sys.argv[1]; meta = json.load(open(d + "/meta.json"))
ip = np.fromfile(d + "/indptr.bin", dtype=np.int32); ix = np.fromfile(d + "/indices.bin", dtype=np.int32)
va = np.fromfile(d + "/data.bin", dtype=np.float64); y = np.fromfile(d + "/y.bin", dtype=np.int32)
folds = np.fromfile(d + "/folds.bin", dtype=np.int32)
X = sp.csr_matrix((va, ix, ip), shape=(meta["n"], meta["dim"]))
out = {}
for solver in meta["solvers"]:
    def fit(k):
        tr = folds != k
        m = LogisticRegression(C=meta["C"], fit_intercept=False, solver=solver, max_iter=1000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(X[tr], y[tr])
        return m
    fit(0)  # warm-up
    walls = []; cpus = []
    for r in range(meta["rounds"]):
        wall = 0.0; cpu = 0.0; correct = 0; iters = []
        for k in range(meta["folds"]):
            t0 = time.perf_counter(); c0 = time.process_time(); m = fit(k)
            cpu += time.process_time() - c0; wall += time.perf_counter() - t0
            te = folds == k
            correct += int((m.predict(X[te]) == y[te]).sum()); iters.append(int(np.max(m.n_iter_)))
        walls.append(wall); cpus.append(cpu)
    out[solver] = {"seconds": sorted(walls)[len(walls) // 2], "cpu": sorted(cpus)[len(cpus) // 2], "accuracy": correct / meta["n"], "iterations": iters}
print(json.dumps(out))
`;

const sklearnVersion = ensureSklearn();
const t0 = performance.now();
const pairs = await collectPairs(memorySource(await readImportFile(HH)));
const tRead = performance.now();
const featurizer = hashedNgramFeaturizer();
const rows = pairs.map((p) =>
  sparseSub(featurizer.featurizeOne({ prompt: p.prompt, response: p.chosen.text }), featurizer.featurizeOne({ prompt: p.prompt, response: p.rejected.text })),
);
const tFeat = performance.now();
const rng = createRng(12345);
const sign = pairs.map(() => (rng.next() < 0.5 ? 1 : -1));
const signed = rows.map((r, i) => (sign[i] > 0 ? r : { index: r.index, value: r.value.map((v) => -v) }));
const y = Int32Array.from(sign, (s) => (s > 0 ? 1 : 0));
const folds = foldsByItem(pairs, FOLDS, 0);

// Write the matrix (original hashed columns) for scikit-learn.
const tmp = mkdtempSync(join(tmpdir(), "rlxf-bench-rm-"));
try {
  const nnz = signed.reduce((s, r) => s + r.index.length, 0);
  const indptr = new Int32Array(signed.length + 1);
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  let m = 0;
  signed.forEach((r, i) => {
    indices.set(r.index, m);
    data.set(r.value, m);
    m += r.index.length;
    indptr[i + 1] = m;
  });
  const bin = (name, a) => writeFileSync(join(tmp, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  bin("indptr.bin", indptr);
  bin("indices.bin", indices);
  bin("data.bin", data);
  bin("y.bin", y);
  bin("folds.bin", folds);
  const solvers = (process.env.BENCH_SKLEARN_SOLVERS ?? "lbfgs,liblinear,newton-cg").split(",");
  writeFileSync(join(tmp, "meta.json"), JSON.stringify({ n: signed.length, dim: featurizer.dim, C: 1 / L2, folds: FOLDS, solvers, rounds: ROUNDS }));

  // rlxf: same rows, same folds, same objective.
  const rlxf = {};
  for (const solver of ["newton-cg", "lbfgs"]) {
    const fitFold = (k) => {
      const train = [];
      for (let i = 0; i < signed.length; i++) if (folds[i] !== k) train.push(i);
      const X = csrFromRows(train.map((i) => signed[i]));
      const fit = fitLogistic({ X, y: Float64Array.from(train, (i) => y[i]), l2: L2 }, { solver, tol: 1e-6 });
      return { X, fit };
    };
    fitFold(0); // warm-up
    const walls = [];
    const cpus = [];
    let correct = 0;
    let iterations = [];
    for (let round = 0; round < ROUNDS; round++) {
      let wall = 0;
      let cpu = 0;
      correct = 0;
      iterations = [];
      for (let k = 0; k < FOLDS; k++) {
        const s = performance.now();
        const c = process.cpuUsage();
        const { X, fit } = fitFold(k);
        const dc = process.cpuUsage(c);
        cpu += (dc.user + dc.system) / 1e6;
        wall += (performance.now() - s) / 1000;
        iterations.push(fit.iterations);
        const w = new Map();
        X.columns.forEach((col, j) => w.set(col, fit.coef[j]));
        for (let i = 0; i < signed.length; i++) {
          if (folds[i] !== k) continue;
          const r = signed[i];
          let z = 0;
          for (let q = 0; q < r.index.length; q++) z += r.value[q] * (w.get(r.index[q]) ?? 0);
          correct += (z > 0 ? 1 : 0) === y[i] ? 1 : 0;
        }
      }
      walls.push(wall);
      cpus.push(cpu);
    }
    const seconds = median(walls);
    rlxf[solver] = { seconds, cpu: median(cpus), accuracy: correct / signed.length, iterations };
  }

  const py = execFileSync(PYTHON, ["-c", PY, tmp], { encoding: "utf8", maxBuffer: 1 << 26 });
  const sk = JSON.parse(py.trim().split("\n").pop());

  const fmt = (x, d = 4) => x.toFixed(d);
  console.log(`HH-RLHF harmless-base test: ${pairs.length} pairs, ${FOLDS}-fold CV by item; hashed n-grams (2^${featurizer.spec.bits} buckets + 4 dense), L2 λ = ${L2} (C = ${1 / L2})`);
  console.log(`read ${fmt((tRead - t0) / 1000, 2)} s, featurize ${fmt((tFeat - tRead) / 1000, 2)} s (shared); scikit-learn ${sklearnVersion}, Node ${process.version}`);
  console.log("");
  console.log(`fit time of the 5 folds: median of ${ROUNDS} rounds, wall clock and CPU (process) time`);
  console.log("method                                    accuracy   wall s    CPU s   iterations/fold");
  const line = (name, r) =>
    console.log(`${name.padEnd(42)}${fmt(r.accuracy).padStart(8)}   ${fmt(r.seconds, 3).padStart(6)}   ${fmt(r.cpu, 3).padStart(6)}   ${r.iterations.join(" ")}`);
  line("rlxf Bradley-Terry (newton-cg)", rlxf["newton-cg"]);
  line("rlxf Bradley-Terry (lbfgs)", rlxf.lbfgs);
  for (const s of solvers) line(`sklearn LogisticRegression (${s})${s === "lbfgs" ? " *" : ""}`, sk[s]);
  const ours = rlxf["newton-cg"];
  const ref = sk.lbfgs ?? sk[solvers[0]];
  console.log("");
  console.log(`* scikit-learn's default solver. accuracy difference ${fmt(ours.accuracy - ref.accuracy)} (goal within ±0.01);`);
  console.log(`  time ratio sklearn / rlxf = ${fmt(ref.seconds / ours.seconds, 2)}x wall, ${fmt(ref.cpu / ours.cpu, 2)}x CPU (goal >= 1)`);
  for (const s of solvers) if (s !== "lbfgs" && sk[s]) console.log(`  vs sklearn ${s}: ${fmt(sk[s].seconds / ours.seconds, 2)}x wall, ${fmt(sk[s].cpu / ours.cpu, 2)}x CPU`);
  console.log(`  rlxf newton-cg vs rlxf lbfgs: ${fmt(rlxf.lbfgs.seconds / ours.seconds, 2)}x wall`);
  const ok = Math.abs(ours.accuracy - ref.accuracy) <= 0.01 && ours.seconds <= ref.seconds;
  console.log(ok ? "GOAL MET" : "GOAL NOT MET");
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
