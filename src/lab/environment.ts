/**
 * The lab's environment, after AlpacaFarm (Dubois et al. 2023, "AlpacaFarm: A Simulation Framework for Methods
 * that Learn from Human Feedback"): real AlpacaEval instructions whose candidate outputs are the outputs of every
 * model in the annotation files plus the reference output, each with its real AlpacaEval judgement against the
 * reference as the gold truth. A policy chooses among an instruction's candidates, so everything a method does to
 * the policy can be measured exactly against real judgements.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { RlxfError, ValidationError } from "../errors.js";
import { codePointLength, preferenceToProbability } from "../eval/index.js";
import { alpacaEvalModelName, chooseInstructionDifficulty, estimateInstructionDifficulty } from "../eval/index.js";
import { fnv1a } from "../eval/index.js";
import type { AlpacaEvalAnnotation } from "../eval/index.js";
import { readRawRecords } from "../io/index.js";
import type { HashedNgramSpec, SyncFeaturizer } from "../learn/index.js";
import { FeatureCache } from "../learn/index.js";
import { hashedNgramFeaturizer } from "../learn/index.js";
import { wordCount } from "../learn/index.js";
import { itemUnit } from "../learn/index.js";

/** The name the reference output's candidate carries. */
export const REFERENCE_MODEL = "reference";

/** One candidate output of one instruction. */
export interface LabCandidate {
  /** The model that wrote it ({@link REFERENCE_MODEL} for the reference output). */
  model: string;
  text: string;
  /** Length in characters (Unicode code points, as AlpacaEval counts). */
  length: number;
  /** Length in words (at least 1): the "token count" of length-normalised objectives. */
  words: number;
  /** Gold: the real AlpacaEval probability that this output beats the reference (the reference itself: 0.5). */
  gold: number;
}

export interface LabInstruction {
  /** Position in the environment. */
  index: number;
  text: string;
  candidates: LabCandidate[];
  /** Index of the reference output among `candidates`. */
  reference: number;
}

/** Where the candidates' feature vectors sit: one CSR block over all candidates of all instructions. */
export interface CandidateFeatures {
  /** Policy feature dimension (hashed features + the lab's length features). */
  dim: number;
  /** Candidate c of instruction i is row `start[i] + c`. */
  start: Int32Array;
  /** Row r's entries are `index/value[rowPtr[r] .. rowPtr[r + 1])`. */
  rowPtr: Int32Array;
  index: Int32Array;
  value: Float64Array;
}

export interface LabEnvironment {
  instructions: LabInstruction[];
  /** Models with outputs in the environment (the reference excluded), sorted. */
  models: string[];
  /** The model whose output is the reference (`generator_1` of the files). */
  referenceModel: string;
  train: number[];
  test: number[];
  features: CandidateFeatures;
  /** The hashed n-gram featurizer of the candidates (and of reward models trained in the lab). */
  featurizer: SyncFeaturizer;
  /** Its vectors of every candidate, so reward models never featurize twice. */
  cache: FeatureCache;
  /**
   * AlpacaEval's per-instruction difficulty γ: rlxf's shipped estimate for AlpacaEval's instructions, else fitted
   * on all the environment's annotations.
   */
  difficulty: Float64Array;
  /**
   * Models whose output is one string for every instruction (AlpacaEval's NullModel, built to game the judge), and
   * those of them left out (all, unless `includeConstant` or named in `models`).
   */
  constant: { models: string[]; leftOut: string[] };
  seed: number;
}

export interface EnvironmentOptions {
  /** Seed of the train/test split (default 0). */
  seed?: number;
  /** Share of instructions held out for measurement (default 0.2). */
  testFraction?: number;
  /** Keep only the first N instructions (in file order); default all. */
  maxInstructions?: number;
  /** Keep only these models' outputs (default all). */
  models?: readonly string[];
  /** Leave out these models' outputs. */
  excludeModels?: readonly string[];
  /**
   * Hashed featurizer settings (default: the reward models' defaults with a 2^16-bucket space, which keeps the
   * policy's dense updates cheap; the lab's proxy reward models use the same features).
   */
  features?: Partial<Omit<HashedNgramSpec, "type">>;
  /** Fit AlpacaEval's instruction difficulty for the length-controlled win rate (default true). */
  difficulty?: boolean;
  /**
   * Keep the candidates of models whose output is one string for every instruction (default false: they are left
   * out). Such an output (AlpacaEval's NullModel) games the judge; a policy that learns from the judge learns to
   * always give it, which says nothing about a method but that the judge can be hacked.
   */
  includeConstant?: boolean;
}

/** log2 of the hashed feature space of the lab's policies (and proxies) by default. */
export const LAB_HASH_BITS = 16;

/** Extra dense features after the hashed ones: length in thousands of characters and its square. */
export const LAB_LENGTH_FEATURES = ["kchars", "kchars_squared"] as const;

/** Rows of AlpacaEval annotation files (directories are expanded to their .json/.json.gz/.jsonl files). */
export async function readLabAnnotations(paths: readonly string[]): Promise<AlpacaEvalAnnotation[]> {
  if (paths.length === 0) throw new RlxfError("no_data", "name AlpacaEval annotation files or a directory of them");
  const files: string[] = [];
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch {
      throw new RlxfError("not_found", `cannot read ${p}: no such file or directory`);
    }
    if (s.isDirectory()) {
      const names = (await readdir(p)).filter((n) => /\.(json|jsonl)(\.gz)?$/i.test(n)).sort();
      if (names.length === 0) throw new RlxfError("no_data", `${p} holds no .json, .jsonl or .json.gz files`);
      files.push(...names.map((n) => join(p, n)));
    } else files.push(p);
  }
  const rows: AlpacaEvalAnnotation[] = [];
  for (const file of files) {
    const fileRows: AlpacaEvalAnnotation[] = [];
    for await (const r of readRawRecords(file)) {
      const v = r.value as Record<string, unknown>;
      for (const key of ["instruction", "output_1", "output_2", "generator_1", "generator_2"] as const) {
        if (typeof v?.[key] !== "string") throw new ValidationError([{ path: key, message: "required string" }], r.label, "AlpacaEval annotation");
      }
      fileRows.push(v as unknown as AlpacaEvalAnnotation);
    }
    // AlpacaEval names a model by its results file, not by generator_2 (NullModel's rows say "example").
    const name = alpacaEvalModelName(file, new Set(fileRows.map((r) => r.generator_2)));
    for (const r of fileRows) rows.push(name ? { ...r, generator_2: name } : r);
  }
  return rows;
}

/**
 * Build the environment from annotation rows that share one reference model (`generator_1`). Candidates of an
 * instruction: every model's output with a valid preference, then the reference output. Rows are deduplicated by
 * (instruction, model), the first kept.
 */
export async function buildLabEnvironment(rows: readonly AlpacaEvalAnnotation[], opts: EnvironmentOptions = {}): Promise<LabEnvironment> {
  const seed = opts.seed ?? 0;
  const testFraction = opts.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1)) throw new ValidationError([{ path: "testFraction", message: `must lie in (0, 1), got ${testFraction}` }]);
  const refs = new Set(rows.map((r) => r.generator_1));
  if (refs.size > 1) {
    throw new RlxfError("invalid_input", `the annotations compare against ${refs.size} references (${[...refs].slice(0, 3).join(", ")}): give files of one reference`);
  }
  const keep = opts.models ? new Set(opts.models) : undefined;
  const drop = new Set(opts.excludeModels ?? []);
  const constantModels = constantOutputModels(rows).filter((m) => (!keep || keep.has(m)) && !drop.has(m));
  const leftOut = opts.includeConstant ? [] : constantModels.filter((m) => !keep?.has(m));
  for (const m of leftOut) drop.add(m);
  const byInstruction = new Map<string, { reference: string; outputs: Map<string, { text: string; gold: number }> }>();
  for (const r of rows) {
    if ((keep && !keep.has(r.generator_2)) || drop.has(r.generator_2)) continue;
    const gold = preferenceToProbability(r.preference);
    if (Number.isNaN(gold)) continue;
    let entry = byInstruction.get(r.instruction);
    if (!entry) {
      if (opts.maxInstructions !== undefined && byInstruction.size >= opts.maxInstructions) continue;
      byInstruction.set(r.instruction, (entry = { reference: r.output_1, outputs: new Map() }));
    }
    if (!entry.outputs.has(r.generator_2)) entry.outputs.set(r.generator_2, { text: r.output_2, gold });
  }
  const seen = new Set(rows.map((r) => r.generator_2));
  for (const [path, names] of [["models", keep], ["excludeModels", opts.excludeModels]] as const) {
    const missing = [...(names ?? [])].filter((m) => !seen.has(m));
    if (missing.length) throw new ValidationError([{ path, message: `no outputs of ${missing.join(", ")} in the files` }]);
  }
  const instructions: LabInstruction[] = [];
  const models = new Set<string>();
  for (const [text, e] of byInstruction) {
    if (e.outputs.size === 0) continue;
    const candidates: LabCandidate[] = [];
    for (const [model, o] of [...e.outputs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      models.add(model);
      candidates.push({ model, text: o.text, length: codePointLength(o.text), words: Math.max(1, wordCount(o.text)), gold: o.gold });
    }
    candidates.push({ model: REFERENCE_MODEL, text: e.reference, length: codePointLength(e.reference), words: Math.max(1, wordCount(e.reference)), gold: 0.5 });
    instructions.push({ index: instructions.length, text, candidates, reference: candidates.length - 1 });
  }
  if (instructions.length < 2) {
    const hint = leftOut.length ? ` (left out as constant outputs: ${leftOut.join(", ")}; includeConstant keeps them)` : "";
    throw new RlxfError("no_data", `the annotations give ${instructions.length} usable instruction(s); the lab needs at least 2${hint}`);
  }

  // Seeded split by instruction; both sides non-empty.
  const train: number[] = [];
  const test: number[] = [];
  for (const ins of instructions) (itemUnit("lab", ins.text, seed) < testFraction ? test : train).push(ins.index);
  if (test.length === 0) test.push(train.pop()!);
  if (train.length === 0) train.push(test.pop()!);

  const featurizer = hashedNgramFeaturizer({ bits: LAB_HASH_BITS, ...(opts.features ?? {}) });
  const cache = new FeatureCache();
  const features = await featurizeCandidates(instructions, featurizer, cache);
  const difficulty = new Float64Array(instructions.length);
  if (opts.difficulty ?? true) {
    const annotations: AlpacaEvalAnnotation[] = [];
    for (const ins of instructions) {
      const ref = ins.candidates[ins.reference]!;
      for (const c of ins.candidates) {
        if (c.model === REFERENCE_MODEL) continue;
        annotations.push({ instruction: ins.text, output_1: ref.text, generator_1: "reference", output_2: c.text, generator_2: c.model, preference: 1 + c.gold });
      }
    }
    const keys = { instructionKey: (a: AlpacaEvalAnnotation) => a.instruction, modelOf: (a: AlpacaEvalAnnotation) => a.generator_2 };
    const choice = chooseInstructionDifficulty(annotations, "auto", keys);
    const byText = choice.use === "shipped" ? choice.difficulty : estimateInstructionDifficulty(annotations).difficulty;
    const values = [...byText.values()];
    const fallback = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
    for (const ins of instructions) difficulty[ins.index] = byText.get(ins.text) ?? fallback;
  }
  return {
    instructions,
    models: [...models].sort(),
    referenceModel: [...refs][0]!,
    train,
    test,
    features,
    featurizer,
    cache,
    difficulty,
    constant: { models: constantModels, leftOut },
    seed,
  };
}

/** Models whose output is the same string for every instruction they answer (two or more). */
export function constantOutputModels(rows: readonly AlpacaEvalAnnotation[]): string[] {
  const outputs = new Map<string, { text: string; instructions: Set<string>; constant: boolean }>();
  for (const r of rows) {
    const o = outputs.get(r.generator_2);
    if (!o) outputs.set(r.generator_2, { text: r.output_2, instructions: new Set([r.instruction]), constant: true });
    else {
      o.instructions.add(r.instruction);
      if (o.text !== r.output_2) o.constant = false;
    }
  }
  return [...outputs].filter(([, o]) => o.constant && o.instructions.size >= 2).map(([m]) => m).sort();
}

/** Read annotation files and build the environment. */
export async function loadLabEnvironment(paths: readonly string[], opts: EnvironmentOptions = {}): Promise<LabEnvironment> {
  return buildLabEnvironment(await readLabAnnotations(paths), opts);
}

async function featurizeCandidates(instructions: readonly LabInstruction[], featurizer: SyncFeaturizer, cache: FeatureCache): Promise<CandidateFeatures> {
  const base = featurizer.dim;
  const dim = base + LAB_LENGTH_FEATURES.length;
  const nRows = instructions.reduce((s, i) => s + i.candidates.length, 0);
  const start = new Int32Array(instructions.length + 1);
  const rowPtr = new Int32Array(nRows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  let r = 0;
  for (const ins of instructions) {
    start[ins.index] = r;
    // Through the shared cache, so reward models trained in the lab reuse these vectors.
    const vecs = await cache.vectors(featurizer, ins.candidates.map((c) => ({ prompt: ins.text, response: c.text })));
    ins.candidates.forEach((c, k) => {
      const v = vecs[k]!;
      for (let t = 0; t < v.index.length; t++) {
        idx.push(v.index[t]!);
        val.push(v.value[t]!);
      }
      const kc = c.length / 1000;
      idx.push(base, base + 1);
      val.push(kc, kc * kc);
      rowPtr[++r] = idx.length;
    });
  }
  start[instructions.length] = r;
  return { dim, start, rowPtr, index: Int32Array.from(idx), value: Float64Array.from(val) };
}

/** A deterministic 32-bit hash of a string (FNV-1a), to derive per-method seeds from names. */
export function hashSeed(seed: number, name: string): number {
  return fnv1a(name, seed);
}
