import { describe, expect, it } from "vitest";
import { RlxfError } from "../../errors.js";
import { FeatureCache } from "./cache.js";
import { hashedNgramFeaturizer, hashedSpec } from "./hashed.js";
import { createFeaturizer } from "./index.js";
import { csrFromRows, csrMatVec, csrRow, csrSelectRows, csrTMatVec, sparseAxpby, sparseFrom, sparseNorm, sparseSub } from "./sparse.js";
import { tokenize, wordCount } from "./tokenize.js";

describe("sparse vectors and matrices", () => {
  it("sum duplicates, drop zeros, sort; add and subtract", () => {
    const v = sparseFrom([5, 1, 5, 3, 9], [1, 2, 3, 0, -1]);
    expect(Array.from(v.index)).toEqual([1, 5, 9]);
    expect(Array.from(v.value)).toEqual([2, 4, -1]);
    const w = sparseFrom([1, 2, 9], [2, 1, -1]);
    const d = sparseSub(v, w);
    expect(Array.from(d.index)).toEqual([2, 5]);
    expect(Array.from(d.value)).toEqual([-1, 4]);
    expect(Array.from(sparseAxpby(2, v, 1, w).value)).toEqual([6, 1, 8, -3]);
    expect(sparseNorm(w)).toBeCloseTo(Math.sqrt(6), 12);
  });

  it("CSR over compact columns: products, row selection and rows back", () => {
    const rows = [sparseFrom([100, 7], [1, 2]), sparseFrom([7, 3000], [3, -1]), sparseFrom([], [])];
    const X = csrFromRows(rows);
    expect(Array.from(X.columns)).toEqual([7, 100, 3000]);
    expect(X.nCols).toBe(3);
    expect(Array.from(csrMatVec(X, Float64Array.from([1, 10, 100])))).toEqual([2 + 10, 3 - 100, 0]);
    expect(Array.from(csrTMatVec(X, Float64Array.from([1, 2, 5])))).toEqual([2 + 6, 1, -2]);
    const sub = csrSelectRows(X, [1]);
    expect(Array.from(csrRow(sub, 0).index)).toEqual([7, 3000]);
    expect(Array.from(csrRow(X, 0).value)).toEqual([2, 1]);
  });
});

describe("hashed n-gram featurizer", () => {
  it("tokenizes words, apostrophes and punctuation", () => {
    expect(tokenize("Don't panic!  It's 42, OK?")).toEqual(["don't", "panic", "!", "it's", "42", ",", "ok", "?"]);
    expect(tokenize("Ça va", false)).toEqual(["Ça", "va"]);
    expect(wordCount("  two  words\n")).toBe(2);
  });

  it("is deterministic, seeded, unit-length over n-grams, with dense features after the buckets", () => {
    const f = hashedNgramFeaturizer({ bits: 12 });
    expect(f.dim).toBe(4096 + 4);
    const x = { prompt: "How do I bake bread?", response: "Mix flour and water, then bake the bread." };
    const a = f.featurizeOne(x);
    expect(f.featurizeOne(x)).toEqual(a);
    expect(hashedNgramFeaturizer({ bits: 12 }).featurizeOne(x)).toEqual(a);
    expect(hashedNgramFeaturizer({ bits: 12, seed: 1 }).featurizeOne(x)).not.toEqual(a);
    const buckets = { index: a.index.filter((j) => j < 4096), value: a.value.filter((_, k) => a.index[k]! < 4096) };
    expect(sparseNorm(buckets)).toBeCloseTo(1, 12);
    const dense = [...a.index].filter((j) => j >= 4096);
    expect(dense.length).toBeGreaterThanOrEqual(3);
    expect(f.describe!(4096)).toBe("log_words");
    expect(f.describe!(4098)).toBe("overlap_response");
    // "bread" and "bake" appear in the prompt: the overlap features are positive.
    const overlap = a.value[[...a.index].indexOf(4098)]!;
    expect(overlap).toBeGreaterThan(0);
    expect(overlap).toBeLessThan(1);
  });

  it("the prompt matters only through interaction features", () => {
    const f = hashedNgramFeaturizer({ bits: 12, promptFeatures: false, lengthFeatures: false });
    expect(f.dim).toBe(4096);
    const r = "same response";
    expect(f.featurizeOne({ prompt: "one", response: r })).toEqual(f.featurizeOne({ prompt: "two", response: r }));
    const g = hashedNgramFeaturizer({ bits: 12 });
    expect(g.featurizeOne({ prompt: "same", response: "same response" })).not.toEqual(g.featurizeOne({ prompt: "other", response: "same response" }));
    // Conversations: the last user turn is the prompt text used.
    const conv = [
      { role: "user", content: "first question" },
      { role: "assistant", content: "answer" },
      { role: "user", content: "same" },
    ];
    expect(g.featurizeOne({ prompt: conv, response: "same response" })).toEqual(g.featurizeOne({ prompt: "same", response: "same response" }));
  });

  it("character n-grams, prefix n-grams and term weighting options", () => {
    const x = { prompt: "p", response: "unbelievable results unbelievable" };
    const words = hashedNgramFeaturizer({ bits: 14, promptFeatures: false, lengthFeatures: false });
    const chars = hashedNgramFeaturizer({ bits: 14, promptFeatures: false, lengthFeatures: false, charNgrams: [3] });
    expect(chars.featurizeOne(x).index.length).toBeGreaterThan(words.featurizeOne(x).index.length + 5);
    const prefix = hashedNgramFeaturizer({ bits: 14, promptFeatures: false, lengthFeatures: false, prefixTokens: 2 });
    expect(prefix.featurizeOne(x).index.length).toBe(words.featurizeOne(x).index.length + 3); // 2 unigrams + 1 bigram
    const counts = hashedNgramFeaturizer({ bits: 14, promptFeatures: false, lengthFeatures: false, normalize: false, tf: "count", ngrams: [1] });
    expect([...counts.featurizeOne(x).value].map(Math.abs).sort()).toEqual([1, 2]);
  });

  it("rejects bad settings", () => {
    expect(() => hashedSpec({ bits: 40 })).toThrow(RlxfError);
    expect(() => hashedSpec({ ngrams: [] })).toThrow(/ngrams/);
    expect(() => hashedSpec({ charNgrams: [0] })).toThrow(/charNgrams/);
    expect(() => hashedSpec({ prefixTokens: -1 })).toThrow(/prefixTokens/);
    expect(() => createFeaturizer({ type: "embedding", model: "m", dim: 3, combine: "pair" })).toThrow(/embedder/);
    expect(createFeaturizer(hashedSpec({ bits: 10 })).dim).toBe(1028);
  });

  it("the feature cache featurizes each distinct input once", async () => {
    let calls = 0;
    const base = hashedNgramFeaturizer({ bits: 10 });
    const counting = { ...base, featurize: async (xs: readonly { prompt: string; response: string }[]) => ((calls += xs.length), base.featurize(xs)) };
    const cache = new FeatureCache();
    const prompt = [{ role: "user", content: "hi" }];
    const xs = [
      { prompt, response: "a" },
      { prompt, response: "b" },
      { prompt, response: "a" },
    ];
    const first = await cache.vectors(counting, xs);
    expect(calls).toBe(2);
    const again = await cache.vectors(counting, [{ prompt: [{ role: "user", content: "hi" }], response: "b" }, xs[0]!]);
    expect(calls).toBe(2);
    expect(again[0]).toBe(first[1]);
    expect(cache.size).toBe(2);
  });
});
