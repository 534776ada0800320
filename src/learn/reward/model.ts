/**
 * Trained reward models: scoring, pairwise comparison, and the artifact (a JSON document) that carries one
 * between the store, files and processes.
 */
import { z } from "zod";
import { RlxfError } from "../../errors.js";
import type { Prompt } from "../../feedback/schema.js";
import { FeatureCache } from "../features/cache.js";
import type { Embedder } from "../features/embedding.js";
import type { FeatureInput, Featurizer, FeaturizerSpec } from "../features/featurizer.js";
import { createFeaturizer } from "../features/index.js";
import { type SegmentReward, SegmentRewardModel } from "../dense/model.js";
import { type GpmHead, gpmEmbedder, gpmScore } from "./gpm.js";
import { type LinearHead, headScorer } from "./linear.js";
import { sigmoid } from "./logistic.js";
import type { PairMetrics } from "./metrics.js";
import { base64Of, float64FromBase64, int32FromBase64 } from "../features/base64.js";

export const REWARD_MODEL_TYPES = ["bradley-terry", "ensemble", "gpm", "segments"] as const;
export type RewardModelType = (typeof REWARD_MODEL_TYPES)[number];

/** A response's reward. Ensembles add the members' mean, spread and the uncertainty-penalised reward. */
export interface RewardScore {
  /** The reward (logit scale, calibrated): σ(reward_a − reward_b) is P(a ≻ b). Ensembles: `penalized`. */
  reward: number;
  /** Ensemble: mean of the members' rewards. */
  mean?: number;
  /** Ensemble: standard deviation of the members' rewards (the uncertainty). */
  std?: number;
  /** Ensemble: mean − penalty × std. */
  penalized?: number;
  /** Segment models: the reward of each segment of the response, with its offsets (the reward is their sum or mean). */
  segments?: SegmentReward[];
}

/** The model's view of one pair. */
export interface PairPrediction {
  /** Logit of P(first ≻ second), after temperature. */
  margin: number;
  /** P(first ≻ second). */
  pFirst: number;
  /** Ensemble: spread of the members' margins. */
  std?: number;
}

export interface PairInput {
  prompt: Prompt;
  first: string;
  second: string;
  /** Grounding passages of the prompt (segment models read them). */
  passages?: FeatureInput["passages"];
}

export type ModelParams =
  | { type: "bradley-terry"; featurizer: Featurizer; head: LinearHead }
  | { type: "ensemble"; members: Array<{ featurizer: Featurizer; head: LinearHead }>; penalty: number }
  | { type: "gpm"; featurizer: Featurizer; head: GpmHead }
  /** Dense rewards: one detector per error type scores every segment (trained from spans: `trainSegmentModel`); it carries its own temperature. */
  | { type: "segments"; segments: SegmentRewardModel };

/** What was trained on, how, and how well it did: kept in the artifact and the store's summary. */
export interface TrainingRecord {
  /** The data query: which store/project/filters/derivations the pairs came from. */
  query: Record<string, unknown>;
  /** Pairs used for fitting and held out for testing. */
  trainPairs: number;
  testPairs: number;
  /** Options the model was trained with. */
  options: Record<string, unknown>;
  /** Noise-robust training: how many pairs were dropped or down-weighted. */
  robust?: { method: string; flagged: number; mode: string };
  /** Segment models: outputs with span feedback used for training and held out. */
  spans?: { trainOutputs: number; testOutputs: number };
  durationMs: number;
}

export interface ModelMetadata {
  name: string;
  project: string;
  /** Set once stored. */
  version?: number;
  createdAt: string;
  seed: number;
  training?: TrainingRecord;
  metrics?: { train?: PairMetrics; test?: PairMetrics; cv?: { folds: number; accuracy: number; logLoss: number; perFold: number[] } };
}

export class RewardModel {
  readonly params: ModelParams;
  /** Margins are divided by this (temperature scaling; 1 = uncalibrated). */
  temperature: number;
  meta: ModelMetadata;
  /** Reused feature vectors (training shares its cache with the model it returns). */
  readonly cache: FeatureCache;

  constructor(params: ModelParams, meta: ModelMetadata, temperature = 1, cache = new FeatureCache()) {
    this.params = params;
    this.meta = meta;
    this.temperature = temperature;
    this.cache = cache;
  }

  get type(): RewardModelType {
    return this.params.type;
  }

  /** Whether the model gives each response a scalar reward (Bradley-Terry, ensembles); a GPM compares pairs only. */
  get scalar(): boolean {
    return this.params.type !== "gpm";
  }

  /** Rewards of responses (scalar models). */
  async score(inputs: readonly FeatureInput[]): Promise<RewardScore[]> {
    const p = this.params;
    const T = this.temperature;
    if (p.type === "gpm") {
      throw new RlxfError("wrong_kind", "a general preference model has no per-response reward: compare pairs, or rank a set of responses");
    }
    if (p.type === "bradley-terry") {
      const xs = await this.cache.vectors(p.featurizer, inputs);
      const f = headScorer(p.head, p.featurizer.dim);
      return xs.map((x) => ({ reward: f(x) / T }));
    }
    if (p.type === "segments") {
      return inputs.map((x) => {
        const s = p.segments.score({ prompt: x.prompt, response: x.response, ...(x.passages ? { passages: x.passages } : {}) });
        return { reward: s.reward / T, segments: s.segments };
      });
    }
    const per = await this.#memberScores(inputs);
    return inputs.map((_, i) => {
      const r = per.map((m) => m[i]! / T);
      const mean = r.reduce((s, x) => s + x, 0) / r.length;
      const std = r.length > 1 ? Math.sqrt(r.reduce((s, x) => s + (x - mean) ** 2, 0) / (r.length - 1)) : 0;
      const penalized = mean - p.penalty * std;
      return { reward: penalized, mean, std, penalized };
    });
  }

  async #memberScores(inputs: readonly FeatureInput[]): Promise<Float64Array[]> {
    const p = this.params;
    if (p.type !== "ensemble") throw new RlxfError("internal_error", "not an ensemble");
    const out: Float64Array[] = [];
    for (const m of p.members) {
      const xs = await this.cache.vectors(m.featurizer, inputs);
      const f = headScorer(m.head, m.featurizer.dim);
      out.push(Float64Array.from(xs, f));
    }
    return out;
  }

  /** P(first ≻ second) for each pair (ensembles compare the members' mean rewards). */
  async compare(pairs: readonly PairInput[]): Promise<PairPrediction[]> {
    const p = this.params;
    const T = this.temperature;
    const firsts = pairs.map((x) => ({ prompt: x.prompt, response: x.first, ...(x.passages ? { passages: x.passages } : {}) }));
    const seconds = pairs.map((x) => ({ prompt: x.prompt, response: x.second, ...(x.passages ? { passages: x.passages } : {}) }));
    if (p.type === "gpm") {
      const emb = gpmEmbedder(p.head);
      const a = await this.cache.vectors(p.featurizer, firsts);
      const b = await this.cache.vectors(p.featurizer, seconds);
      return pairs.map((_, i) => {
        const margin = gpmScore(emb(a[i]!), emb(b[i]!)) / T;
        return { margin, pFirst: sigmoid(margin) };
      });
    }
    if (p.type === "bradley-terry" || p.type === "segments") {
      const [a, b] = [await this.score(firsts), await this.score(seconds)];
      return pairs.map((_, i) => {
        const margin = a[i]!.reward - b[i]!.reward;
        return { margin, pFirst: sigmoid(margin) };
      });
    }
    const sa = await this.#memberScores(firsts);
    const sb = await this.#memberScores(seconds);
    return pairs.map((_, i) => {
      const ms = sa.map((m, k) => (m[i]! - sb[k]![i]!) / T);
      const margin = ms.reduce((s, x) => s + x, 0) / ms.length;
      const std = ms.length > 1 ? Math.sqrt(ms.reduce((s, x) => s + (x - margin) ** 2, 0) / (ms.length - 1)) : 0;
      return { margin, pFirst: sigmoid(margin), std };
    });
  }

  /**
   * A score per response of one prompt, to rank them: the reward for scalar models; for a GPM, the mean
   * probability of beating each of the other responses.
   */
  async rank(prompt: Prompt, responses: readonly string[], passages?: FeatureInput["passages"]): Promise<number[]> {
    if (this.scalar) return (await this.score(responses.map((response) => ({ prompt, response, ...(passages ? { passages } : {}) })))).map((s) => s.reward);
    const p = this.params as Extract<ModelParams, { type: "gpm" }>;
    if (responses.length < 2) throw new RlxfError("invalid_input", "a general preference model ranks two or more responses");
    const emb = gpmEmbedder(p.head);
    const xs = await this.cache.vectors(p.featurizer, responses.map((response) => ({ prompt, response })));
    const vs = xs.map(emb);
    return vs.map((v, i) => {
      let s = 0;
      vs.forEach((u, j) => {
        if (j !== i) s += sigmoid(gpmScore(v, u) / this.temperature);
      });
      return s / (vs.length - 1);
    });
  }

  /** The model as a JSON-serialisable artifact. */
  toArtifact(): RewardModelArtifact {
    const p = this.params;
    const base: RewardModelArtifact = {
      format: ARTIFACT_FORMAT,
      formatVersion: 1 as const,
      type: p.type,
      name: this.meta.name,
      project: this.meta.project,
      ...(this.meta.version !== undefined ? { version: this.meta.version } : {}),
      createdAt: this.meta.createdAt,
      seed: this.meta.seed,
      temperature: this.temperature,
      ...(this.meta.training ? { training: this.meta.training } : {}),
      ...(this.meta.metrics ? { metrics: this.meta.metrics } : {}),
    };
    if (p.type === "bradley-terry") return { ...base, featurizer: p.featurizer.spec, head: encodeHead(p.head) };
    if (p.type === "ensemble") {
      return { ...base, penalty: p.penalty, members: p.members.map((m) => ({ featurizer: m.featurizer.spec, head: encodeHead(m.head) })) };
    }
    if (p.type === "segments") return { ...base, segments: p.segments.toJSON() as unknown as Record<string, unknown> };
    return {
      ...base,
      featurizer: p.featurizer.spec,
      gpm: { dims: p.head.dims, biasIndex: p.head.biasIndex, index: base64Of(p.head.index), weight: base64Of(p.head.weight) },
    };
  }

  /** Rebuild a model from its artifact (embedding featurizers need an `embedder`). */
  static fromArtifact(raw: unknown, deps: { embedder?: Embedder } = {}): RewardModel {
    const a = parseArtifact(raw);
    const meta: ModelMetadata = { name: a.name, project: a.project, createdAt: a.createdAt, seed: a.seed };
    if (a.version !== undefined) meta.version = a.version;
    if (a.training) meta.training = a.training as unknown as TrainingRecord;
    if (a.metrics) meta.metrics = a.metrics as unknown as ModelMetadata["metrics"];
    const fz = (spec: unknown) => createFeaturizer(spec as FeaturizerSpec, deps);
    let params: ModelParams;
    if (a.type === "bradley-terry") {
      if (!a.featurizer || !a.head) throw new RlxfError("invalid_artifact", "a bradley-terry artifact needs featurizer and head");
      params = { type: a.type, featurizer: fz(a.featurizer), head: decodeHead(a.head) };
    } else if (a.type === "ensemble") {
      if (!a.members || a.members.length === 0) throw new RlxfError("invalid_artifact", "an ensemble artifact needs members");
      params = {
        type: a.type,
        penalty: a.penalty ?? 1,
        members: a.members.map((m) => ({ featurizer: fz(m.featurizer), head: decodeHead(m.head) })),
      };
    } else if (a.type === "segments") {
      if (!a.segments) throw new RlxfError("invalid_artifact", "a segments artifact needs segments");
      params = { type: a.type, segments: SegmentRewardModel.fromJSON(a.segments) };
    } else {
      if (!a.featurizer || !a.gpm) throw new RlxfError("invalid_artifact", "a gpm artifact needs featurizer and gpm");
      const index = int32FromBase64(a.gpm.index);
      const weight = float64FromBase64(a.gpm.weight);
      if (weight.length !== index.length * a.gpm.dims) throw new RlxfError("invalid_artifact", "gpm weights do not match index × dims");
      params = { type: a.type, featurizer: fz(a.featurizer), head: { dims: a.gpm.dims, biasIndex: a.gpm.biasIndex, index, weight } };
    }
    return new RewardModel(params, meta, a.temperature);
  }
}

// -------------------------------------------------------------- artifact ---

export const ARTIFACT_FORMAT = "rlxf.reward-model";

/** A head as base64 strings: little-endian int32 indices and float64 weights. */
export interface EncodedHead {
  index: string;
  weight: string;
}

export interface RewardModelArtifact {
  format: typeof ARTIFACT_FORMAT;
  formatVersion: 1;
  type: RewardModelType;
  name: string;
  project: string;
  version?: number;
  createdAt: string;
  seed: number;
  temperature: number;
  featurizer?: FeaturizerSpec;
  head?: EncodedHead;
  members?: Array<{ featurizer: FeaturizerSpec; head: EncodedHead }>;
  penalty?: number;
  gpm?: { dims: number; biasIndex: number; index: string; weight: string };
  /** Segment models: the detectors and their combination (see `SegmentRewardModel.toJSON`). */
  segments?: Record<string, unknown>;
  training?: TrainingRecord;
  metrics?: ModelMetadata["metrics"];
}

const encodeHead = (h: LinearHead): EncodedHead => ({ index: base64Of(h.index), weight: base64Of(h.weight) });

function decodeHead(h: EncodedHead): LinearHead {
  const index = int32FromBase64(h.index);
  const weight = float64FromBase64(h.weight);
  if (index.length !== weight.length) throw new RlxfError("invalid_artifact", "head index and weight lengths differ");
  return { index, weight };
}

/** Check that `raw` is a reward model artifact (its shape, not its numbers); throws RlxfError "invalid_artifact". */
export function parseArtifact(raw: unknown): RewardModelArtifact {
  const r = ArtifactSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new RlxfError("invalid_artifact", `not an rlxf reward model artifact: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return r.data as unknown as RewardModelArtifact;
}

const Head = z.object({ index: z.string(), weight: z.string() });
const Spec = z.object({ type: z.enum(["hashed-ngrams", "embedding"]) }).passthrough();
const ArtifactSchema = z.object({
  format: z.literal(ARTIFACT_FORMAT),
  formatVersion: z.literal(1),
  type: z.enum(REWARD_MODEL_TYPES),
  name: z.string().min(1),
  project: z.string().min(1),
  version: z.number().int().positive().optional(),
  createdAt: z.string(),
  seed: z.number(),
  temperature: z.number().positive(),
  featurizer: Spec.optional(),
  head: Head.optional(),
  members: z.array(z.object({ featurizer: Spec, head: Head })).optional(),
  penalty: z.number().min(0).optional(),
  gpm: z.object({ dims: z.number().int().min(2), biasIndex: z.number().int().min(0), index: z.string(), weight: z.string() }).optional(),
  segments: z.record(z.string(), z.unknown()).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
});
