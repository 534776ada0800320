/**
 * The hashed n-gram featurizer: no model, no vocabulary, no I/O. Word n-grams of the response are hashed
 * (signed, seeded) into 2^bits buckets; a few dense features (length, prompt overlap) sit after the buckets.
 */
import { RlxfError } from "../../errors.js";
import type { Prompt } from "../../feedback/schema.js";
import { fnv1a } from "../../eval/index.js";
import type { FeatureInput, HashedNgramSpec, SyncFeaturizer } from "./featurizer.js";
import { type SparseVector, sparseFrom } from "./sparse.js";
import { tokenize, wordCount } from "./tokenize.js";

export const DEFAULT_HASHED_SPEC: HashedNgramSpec = {
  type: "hashed-ngrams",
  bits: 18,
  ngrams: [1, 2],
  charNgrams: [],
  prefixTokens: 0,
  seed: 0,
  lowercase: true,
  tf: "log",
  normalize: true,
  lengthFeatures: true,
  promptFeatures: true,
};

/** Names of the dense features, in index order after the hash buckets. */
export const DENSE_FEATURES = ["log_words", "log_chars", "overlap_response", "overlap_prompt"] as const;

/** The full spec with defaults filled in; throws on values out of range. */
export function hashedSpec(partial: Partial<Omit<HashedNgramSpec, "type">> = {}): HashedNgramSpec {
  const spec: HashedNgramSpec = { ...DEFAULT_HASHED_SPEC, ...partial, type: "hashed-ngrams" };
  if (!Number.isInteger(spec.bits) || spec.bits < 4 || spec.bits > 28) {
    throw new RlxfError("invalid_config", `hashed-ngrams: bits must be an integer from 4 to 28, got ${spec.bits}`);
  }
  if (spec.ngrams.length === 0 || spec.ngrams.some((n) => !Number.isInteger(n) || n < 1 || n > 5)) {
    throw new RlxfError("invalid_config", `hashed-ngrams: ngrams must be integers from 1 to 5, got [${spec.ngrams.join(", ")}]`);
  }
  if (spec.charNgrams.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) {
    throw new RlxfError("invalid_config", `hashed-ngrams: charNgrams must be integers from 1 to 8, got [${spec.charNgrams.join(", ")}]`);
  }
  if (!["log", "count", "binary"].includes(spec.tf)) throw new RlxfError("invalid_config", `hashed-ngrams: tf must be log, count or binary`);
  if (!Number.isInteger(spec.prefixTokens) || spec.prefixTokens < 0) {
    throw new RlxfError("invalid_config", `hashed-ngrams: prefixTokens must be a non-negative integer`);
  }
  if (!Number.isInteger(spec.seed)) throw new RlxfError("invalid_config", `hashed-ngrams: seed must be an integer`);
  return spec;
}

/** murmur3's finaliser: a good 32-bit mix. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const combine = (a: number, b: number) => fmix((Math.imul(a, 0x9e3779b1) + b + 0x7f4a7c15) >>> 0);

/** Namespace salts: response n-grams of order n, and n-grams shared with the prompt. */
const NS_RESPONSE = 0x1b873593;
const NS_SHARED = 0x5bd1e995;
const NS_CHAR = 0x27d4eb2f;
const NS_PREFIX = 0x165667b1;

/** The last user turn of a prompt (the whole prompt when it is a string). */
function lastUserTurn(prompt: Prompt): string {
  if (typeof prompt === "string") return prompt;
  for (let i = prompt.length - 1; i >= 0; i--) if (prompt[i]!.role === "user") return prompt[i]!.content;
  return prompt[prompt.length - 1]!.content;
}

/**
 * A hashed n-gram featurizer. `dim` is 2^bits plus the dense features. Deterministic: the same spec gives the
 * same vector for the same text on every platform.
 */
export function hashedNgramFeaturizer(partial: Partial<Omit<HashedNgramSpec, "type">> = {}): SyncFeaturizer {
  const spec = hashedSpec(partial);
  const buckets = 2 ** spec.bits;
  const mask = buckets - 1;
  const nDense = (spec.lengthFeatures ? 2 : 0) + (spec.promptFeatures ? 2 : 0);
  const dim = buckets + nDense;
  const maxN = Math.max(...spec.ngrams);
  const orders = new Set(spec.ngrams);
  const promptCache = new Map<string, { tokens: Set<number>; grams: Set<number> }>();

  // Token hashes of one text, and the hashes of its n-grams of each order.
  const gramHashes = (text: string): { tokens: number[]; grams: number[][] } => {
    const toks = tokenize(text, spec.lowercase).map((t) => fnv1a(t, spec.seed));
    const grams: number[][] = [];
    for (let n = 1; n <= maxN; n++) {
      const g: number[] = [];
      if (orders.has(n)) {
        for (let i = 0; i + n <= toks.length; i++) {
          let h = combine(n, toks[i]!);
          for (let k = 1; k < n; k++) h = combine(h, toks[i + k]!);
          g.push(h);
        }
      }
      grams.push(g);
    }
    return { tokens: toks, grams };
  };

  const promptInfo = (prompt: Prompt) => {
    const turn = lastUserTurn(prompt);
    let info = promptCache.get(turn);
    if (!info) {
      const { tokens, grams } = gramHashes(turn);
      info = { tokens: new Set(tokens), grams: new Set(grams.flat()) };
      if (promptCache.size > 10_000) promptCache.clear();
      promptCache.set(turn, info);
    }
    return info;
  };

  const featurizeOne = (input: FeatureInput): SparseVector => {
    const { tokens, grams } = gramHashes(input.response);
    const counts = new Map<number, number>(); // signed bucket -> count; key = bucket * 2 + (negative ? 1 : 0)
    const add = (h: number, ns: number) => {
      const g = fmix((h ^ ns) >>> 0);
      const key = (g & mask) * 2 + (g >>> 31);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    };
    let shared: Set<number> | undefined;
    if (spec.promptFeatures) shared = promptInfo(input.prompt).grams;
    for (const g of grams) {
      for (let i = 0; i < g.length; i++) {
        const h = g[i]!;
        add(h, NS_RESPONSE);
        if (shared?.has(h)) add(h, NS_SHARED);
      }
    }
    if (spec.prefixTokens > 0) {
      grams.forEach((g, n) => {
        // n-grams of order n+1 that lie entirely within the first prefixTokens tokens
        for (let i = 0; i + n < spec.prefixTokens && i < g.length; i++) add(g[i]!, NS_PREFIX);
      });
    }
    if (spec.charNgrams.length > 0) {
      const text = spec.lowercase ? input.response.toLowerCase() : input.response;
      for (const word of text.split(/\s+/)) {
        if (word === "") continue;
        const w = ` ${word} `;
        for (const n of spec.charNgrams) {
          for (let i = 0; i + n <= w.length; i++) add(fnv1a(w.slice(i, i + n), spec.seed + n), NS_CHAR);
        }
      }
    }
    const idx: number[] = [];
    const val: number[] = [];
    for (const [key, c] of counts) {
      const v = spec.tf === "log" ? Math.log1p(c) : spec.tf === "binary" ? 1 : c;
      idx.push(key >>> 1);
      val.push(key & 1 ? -v : v);
    }
    const vec = sparseFrom(idx, val);
    if (spec.normalize) {
      let s = 0;
      for (let k = 0; k < vec.value.length; k++) s += vec.value[k]! * vec.value[k]!;
      if (s > 0) {
        const inv = 1 / Math.sqrt(s);
        for (let k = 0; k < vec.value.length; k++) vec.value[k]! *= inv;
      }
    }
    if (nDense === 0) return vec;
    const dIdx: number[] = [];
    const dVal: number[] = [];
    let j = buckets;
    if (spec.lengthFeatures) {
      dIdx.push(j++, j++);
      dVal.push(Math.log1p(wordCount(input.response)) / 4, Math.log1p(input.response.length) / 6);
    }
    if (spec.promptFeatures) {
      const pt = promptInfo(input.prompt).tokens;
      const rt = new Set(tokens);
      let inPrompt = 0;
      for (const t of rt) if (pt.has(t)) inPrompt++;
      dIdx.push(j, j + 1);
      dVal.push(rt.size ? inPrompt / rt.size : 0, pt.size ? inPrompt / pt.size : 0);
    }
    const dense = sparseFrom(dIdx, dVal);
    const index = new Int32Array(vec.index.length + dense.index.length);
    const value = new Float64Array(index.length);
    index.set(vec.index);
    index.set(dense.index, vec.index.length);
    value.set(vec.value);
    value.set(dense.value, vec.value.length);
    return { index, value };
  };

  return {
    spec,
    dim,
    featurizeOne,
    async featurize(inputs) {
      return inputs.map(featurizeOne);
    },
    describe(index: number) {
      if (index >= buckets) {
        const names = [...(spec.lengthFeatures ? DENSE_FEATURES.slice(0, 2) : []), ...(spec.promptFeatures ? DENSE_FEATURES.slice(2) : [])];
        return names[index - buckets] ?? `dense:${index - buckets}`;
      }
      return `bucket:${index}`;
    },
  };
}
