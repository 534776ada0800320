/**
 * Featurizers turn a (prompt, response) into a sparse feature vector. A featurizer is described by a
 * serialisable spec, kept in every trained model, so scoring later rebuilds exactly the same features.
 */
import type { Prompt } from "../../feedback/schema.js";
import type { SparseVector } from "./sparse.js";

/** One response to featurize, with the prompt it answers. */
export interface FeatureInput {
  prompt: Prompt;
  response: string;
  /** Passages the response should be grounded in (read by segment reward models; other featurizers ignore them). */
  passages?: ReadonlyArray<{ title?: string; sentences: readonly string[] }>;
}

/** Settings of the hashed n-gram featurizer (see `hashedNgramFeaturizer`). */
export interface HashedNgramSpec {
  type: "hashed-ngrams";
  /** log2 of the hash space (default 18: 262,144 buckets). */
  bits: number;
  /** Word n-gram orders to hash, e.g. [1, 2] (default). */
  ngrams: number[];
  /** Hash seed; two seeds give two different (independently colliding) feature spaces. */
  seed: number;
  /** Lower-case before tokenizing (default true). */
  lowercase: boolean;
  /** Term weighting: `log` = log(1 + count) (default), `count`, or `binary`. */
  tf: "log" | "count" | "binary";
  /** Scale the n-gram part to unit Euclidean length (default true). */
  normalize: boolean;
  /**
   * Also hash the n-grams among the response's first `prefixTokens` tokens in a namespace of their own
   * (0 = off): how an answer opens (a refusal, a question back, a direct answer) says much about it.
   */
  prefixTokens: number;
  /** Character n-gram orders hashed within word boundaries (like scikit-learn's `char_wb`), e.g. [3, 4, 5]; default none. */
  charNgrams: number[];
  /** Add dense length features (log words, log characters) (default true). */
  lengthFeatures: boolean;
  /**
   * Add prompt-response interaction features (default true): the share of the response's words found in the
   * prompt's last user turn and the share of that turn's words the response repeats, and n-grams the response
   * shares with the prompt hashed in their own namespace. A Bradley-Terry model compares two responses to one
   * prompt, so prompt-only features cancel; these are the features through which the prompt matters.
   */
  promptFeatures: boolean;
}

/** Settings of the embedding featurizer (see `embeddingFeaturizer`). */
export interface EmbeddingSpec {
  type: "embedding";
  /** Embedding model name, as the endpoint knows it. */
  model: string;
  /** Dimension of one embedding (learned from the first call when 0). */
  dim: number;
  /**
   * How prompt and response combine: `response` = e(response); `pair` (default) = [e(response),
   * e(prompt) ⊙ e(response)], so that a linear model can weigh response directions by the prompt.
   */
  combine: "response" | "pair";
}

export type FeaturizerSpec = HashedNgramSpec | EmbeddingSpec;

export interface Featurizer {
  readonly spec: FeaturizerSpec;
  /** Feature indices are in [0, dim). */
  readonly dim: number;
  /** Feature vectors of many inputs (embedding featurizers batch their requests). */
  featurize(inputs: readonly FeatureInput[]): Promise<SparseVector[]>;
  /** Human-readable name of a feature index, where it can tell. */
  describe?(index: number): string;
}

/** A featurizer that needs no I/O and can featurize one input synchronously. */
export interface SyncFeaturizer extends Featurizer {
  featurizeOne(input: FeatureInput): SparseVector;
}
