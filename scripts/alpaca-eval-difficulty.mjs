#!/usr/bin/env node
/**
 * Regenerates src/eval/alpaca-eval-difficulty.json, the per-instruction difficulty γ rlxf ships for AlpacaEval's
 * 805 instructions, from public AlpacaEval 2 annotation files (one model per file, all against the same
 * reference and annotator). Run after `npm run build`:
 *
 *     node scripts/alpaca-eval-difficulty.mjs [DIR_OR_FILES...] [--out FILE] [--subsets]
 *
 * DIR defaults to $RLXF_DATA/alpaca_eval/annotations, else ../shared/data/alpaca_eval/annotations beside the
 * checkout. How: AlpacaEval's joint GLM (notebooks/instruction_difficulty.ipynb in tatsu-lab/alpaca_eval),
 *
 *     logit P(model beats reference on x) = θ_len,m · tanh(Δ_x / σ_m) + θ_m + γ_x + θ_0
 *
 * a length slope and bias per model, one effect per instruction (the first instruction is the reference, γ = 0),
 * fitted by L1-penalised logistic regression on the soft preferences with C chosen by 5-fold GroupKFold
 * cross-validation: rlxf's estimateInstructionDifficulty, the very fit `rlxf leaderboard --difficulty estimate`
 * makes, on every file given (so scoring these files with the shipped table or refitting it agree). Keys are the first 16 hex digits of SHA-256 of the instruction (CRLF as LF, trimmed, NFC).
 *
 * --subsets also prints how well γ estimated from k random models reproduces, for each of those models, the LC
 * that the γ of all models gives (the evidence for MIN_MODELS_TO_ESTIMATE).
 */
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const dist = join(root, "dist");
if (!existsSync(join(dist, "eval", "index.js"))) {
  console.error("build first: npm run build");
  process.exit(1);
}
const { readRawRecords } = await import(join(dist, "io", "records.js"));
const { alpacaEvalModelName, estimateInstructionDifficulty, lengthControlledWinRate, instructionHash, createRng } = await import(join(dist, "eval", "index.js"));

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const subsets = args.includes("--subsets");
if (subsets) args.splice(args.indexOf("--subsets"), 1);
const out = flag("--out") ?? join(root, "src", "eval", "alpaca-eval-difficulty.json");
const dataDir = process.env.RLXF_DATA ?? resolve(root, "..", "shared", "data");
const inputs = args.length ? args : [join(dataDir, "alpaca_eval", "annotations")];
const files = inputs.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => /\.(json|jsonl)(\.gz)?$/i.test(f))
        .sort()
        .map((f) => join(p, f))
    : [p],
);

const rows = [];
for (const file of files) {
  const fileRows = [];
  for await (const r of readRawRecords(file)) fileRows.push(r.value);
  const name = alpacaEvalModelName(file, new Set(fileRows.map((r) => r.generator_2)));
  for (const r of fileRows) rows.push(name ? { ...r, generator_2: name } : r);
}
const models = [...new Set(rows.map((r) => r.generator_2))].sort();
const references = new Set(rows.map((r) => r.generator_1));
const annotators = new Set(rows.map((r) => r.annotator).filter(Boolean));
console.error(`${files.length} files: ${models.length} models, reference ${[...references].join(", ")}, annotator ${[...annotators].join(", ")}`);

const t0 = performance.now();
const est = estimateInstructionDifficulty(rows);
console.error(`joint fit: ${est.nRows} rows, C = ${est.C.toPrecision(6)}, ${((performance.now() - t0) / 1000).toFixed(2)} s`);

const difficulty = {};
const textOf = new Map(rows.map((r) => [r.instruction, r.instruction]));
for (const [text, g] of [...est.difficulty].sort((a, b) => (instructionHash(a[0]) < instructionHash(b[0]) ? -1 : 1))) {
  const h = instructionHash(textOf.get(text));
  if (h in difficulty) throw new Error(`two instructions share the hash ${h}`);
  difficulty[h] = Number(g.toFixed(6));
}
const table = {
  description:
    "Per-instruction difficulty of AlpacaEval's 805 instructions for the length-controlled win rate: rlxf's own estimate, " +
    "AlpacaEval's joint GLM (length slope and bias per model, one effect per instruction, L1 logistic regression on soft " +
    "preferences, C by 5-fold GroupKFold CV) fitted on public AlpacaEval 2 annotations; regenerate with scripts/alpaca-eval-difficulty.mjs",
  hash: "first 16 hex digits of SHA-256 of the instruction text (CRLF as LF, trimmed, Unicode NFC)",
  reference: [...references][0],
  annotator: [...annotators][0] ?? null,
  models,
  C: est.C,
  difficulty,
};
writeFileSync(out, JSON.stringify(table, null, 1) + "\n");
console.error(`wrote ${Object.keys(difficulty).length} instructions to ${out}`);

if (subsets) {
  const byModel = new Map();
  for (const r of rows) {
    if (!byModel.has(r.generator_2)) byModel.set(r.generator_2, []);
    byModel.get(r.generator_2).push(r);
  }
  const full = new Map(models.map((m) => [m, lengthControlledWinRate(byModel.get(m), { instructionDifficulty: est.difficulty }).length_controlled_winrate]));
  const rng = createRng(1);
  console.log("models  draws  median|dLC|  max|dLC|  (LC with γ from the k models vs γ from all)");
  for (const k of [1, 2, 3, 5, 8, 10, 12, 15].filter((k) => k < models.length)) {
    const diffs = [];
    const draws = k <= 3 ? 6 : 4;
    for (let d = 0; d < draws; d++) {
      const pick = [...models].sort(() => rng.next() - 0.5).slice(0, k);
      const sub = pick.flatMap((m) => byModel.get(m));
      const e = estimateInstructionDifficulty(sub);
      for (const m of pick) diffs.push(Math.abs(lengthControlledWinRate(byModel.get(m), { instructionDifficulty: e.difficulty }).length_controlled_winrate - full.get(m)));
    }
    diffs.sort((a, b) => a - b);
    console.log(`${String(k).padStart(6)}  ${String(draws).padStart(5)}  ${diffs[diffs.length >> 1].toFixed(2).padStart(11)}  ${diffs[diffs.length - 1].toFixed(2).padStart(8)}`);
  }
}
