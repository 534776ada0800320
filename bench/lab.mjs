// npm run bench:lab — what a full method comparison costs on the shared AlpacaEval annotations (20 models, 805
// instructions, 16,904 candidates), against a baseline measured in the same run: one featurization pass over all
// candidates (reading the files, then hashing every output once, which any method on this data must do).
//
// Timed, each once after an untimed warm-up of the featurizer: (1) the baseline pass; (2) building the lab
// environment (reading, featurizing, fitting AlpacaEval's instruction difficulty); (3) `runLab` with every method at
// the default settings on gold feedback (1000 labels), exact measurement and length-controlled win rates included.
// Prints each method's time and the ratio of the whole comparison to the baseline pass.
import { needData } from "./data.mjs";

const DIR = needData("alpaca_eval", "annotations");
// rlxf loads after the data check: without the data, the run stops at once, naming what is missing.
const { LAB_METHODS, loadLabEnvironment, readLabAnnotations, runLab } = await import("../dist/lab/index.js");
const { hashedNgramFeaturizer } = await import("../dist/learn/index.js");

async function featurizationPass() {
  const rows = await readLabAnnotations([DIR]);
  const fz = hashedNgramFeaturizer({ bits: 16 });
  const seen = new Set();
  let n = 0;
  for (const r of rows) {
    for (const text of [r.output_1, r.output_2]) {
      const key = `${r.instruction}\u0000${text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      fz.featurizeOne({ prompt: r.instruction, response: text });
      n++;
    }
  }
  return n;
}

const time = async (fn) => {
  const t = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t) / 1000 };
};

hashedNgramFeaturizer({ bits: 16 }).featurizeOne({ prompt: "warm", response: "up the featurizer" });
const base = await time(featurizationPass);
const env = await time(() => loadLabEnvironment([DIR], { seed: 0 }));
const run = await time(() => runLab(env.value, { methods: LAB_METHODS, feedback: "gold", labels: 1000, seed: 0 }));

console.log(`baseline: one featurization pass over ${base.value} distinct (instruction, output) pairs: ${base.seconds.toFixed(2)} s`);
console.log(`environment (read + featurize + instruction difficulty): ${env.seconds.toFixed(2)} s`);
for (const m of run.value.methods.slice(1)) console.log(`  ${m.method.padEnd(18)} ${m.seconds.toFixed(2)} s   win rate ${m.winRate.toFixed(2)}`);
console.log(`all ${LAB_METHODS.length} methods, measured exactly: ${run.seconds.toFixed(2)} s`);
console.log(`ratio (environment + comparison) / featurization pass: ${((env.seconds + run.seconds) / base.seconds).toFixed(1)}x`);
