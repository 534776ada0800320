/**
 * Segment reward models (Fine-Grained RLHF, Wu et al. 2023): one detector per error type scores every segment
 * of an output, and the detectors' verdicts combine into a dense reward, one number per segment:
 *
 *     sign (the paper's):  r_seg = Σ_type w_type · (−1 if the type's detector flags the segment, else +1)
 *     prob (calibrated):   r_seg = Σ_type w_type · (1 − 2·P(type's error | segment))
 *
 * (1 − 2p is the expected value of the ±1 reward.) The output's reward is the sum or the mean of its segments'
 * rewards (`aggregate`); training chooses both, and the weights, on its own split (see `trainSegmentModel`).
 */
import { z } from "zod";
import { RlxfError } from "../../errors.js";
import type { HashedNgramSpec } from "../features/featurizer.js";
import { hashedSpec } from "../features/hashed.js";
import type { LinearHead } from "../reward/linear.js";
import { headScorer } from "../reward/linear.js";
import { sigmoid } from "../reward/logistic.js";
import { type SegmentFeatureSpec, type SegmentInput, SegmentFeaturizer } from "./features.js";
import { SEGMENT_LEVELS, type TextSegment } from "./segment.js";
import { base64Of, float64FromBase64, int32FromBase64 } from "../features/base64.js";

export const COMBINE_MODES = ["sign", "prob"] as const;
export type CombineMode = (typeof COMBINE_MODES)[number];
export const AGGREGATES = ["sum", "mean"] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** Detection quality of one error type on one split (the error class is the positive one). */
export interface DetectionMetrics {
  segments: number;
  positives: number;
  flagged: number;
  precision: number;
  recall: number;
  /** F1 of the error class. */
  f1: number;
  /** Mean of the F1 of the error class and of the clean class. */
  macroF1: number;
  accuracy: number;
  /** F1 of flagging every segment: the trivial baseline. */
  alwaysFlagF1: number;
}

/** One error type's detector. */
export interface SegmentTypeHead {
  /** The type's name: one span label, or a group's name (e.g. "factuality"). */
  name: string;
  /** Span labels this type detects. */
  labels: string[];
  head: LinearHead;
  /** A segment is flagged when P(error) ≥ threshold (chosen on cross-fitted training predictions to maximise F1). */
  threshold: number;
  /** w_type in the combination. */
  weight: number;
  l2: number;
  metrics?: { train?: DetectionMetrics; test?: DetectionMetrics };
}

/** One segment's rewards. */
export interface SegmentReward {
  start: number;
  end: number;
  text: string;
  /** Reward from each type: w·(±1) (sign) or w·(1 − 2p) (prob). */
  rewards: Record<string, number>;
  /** P(error) of each type. */
  probs: Record<string, number>;
  /** Types whose detector flags the segment. */
  flagged: string[];
  /** Σ of `rewards` (plus the model's constant per segment, if any). */
  reward: number;
}

/** An output's dense reward. */
export interface SegmentScore {
  /** Sum or mean (`aggregate`) of the segments' rewards, divided by the temperature. */
  reward: number;
  segments: SegmentReward[];
}

export class SegmentRewardModel {
  readonly featurizer: SegmentFeaturizer;
  readonly types: SegmentTypeHead[];
  combine: CombineMode;
  aggregate: Aggregate;
  /** The output's reward is divided by this (a calibration of pairwise margins; 1 = none). */
  temperature: number;
  /** A constant added to every segment's reward (fitted with sums: a reward or a penalty per segment). */
  bias: number;

  constructor(spec: SegmentFeatureSpec, types: SegmentTypeHead[], opts: { combine?: CombineMode; aggregate?: Aggregate; temperature?: number; bias?: number } = {}) {
    if (types.length === 0) throw new RlxfError("no_data", "a segment reward model needs at least one error type");
    this.featurizer = new SegmentFeaturizer(spec);
    this.types = types;
    this.combine = opts.combine ?? "sign";
    this.aggregate = opts.aggregate ?? "sum";
    this.temperature = opts.temperature ?? 1;
    this.bias = opts.bias ?? 0;
  }

  /** P(error) of every type for each segment of the output (or of the segments given). */
  probabilities(input: SegmentInput, segments?: readonly TextSegment[]): { segments: TextSegment[]; probs: Float64Array[] } {
    const f = this.featurizer.featurize(input, segments);
    const dim = this.featurizer.dim;
    const probs = this.types.map((t) => {
      const score = headScorer(t.head, dim);
      return Float64Array.from(f.vectors, (x) => sigmoid(score(x)));
    });
    return { segments: f.segments, probs };
  }

  /** Per-segment rewards from probabilities, under a combination mode and weights (the model's by default). */
  rewardsFrom(segments: readonly TextSegment[], probs: readonly Float64Array[], opts: { combine?: CombineMode; weights?: readonly number[]; bias?: number } = {}): SegmentReward[] {
    const combine = opts.combine ?? this.combine;
    const bias = opts.bias ?? (opts.weights ? 0 : this.bias);
    return segments.map((s, i) => {
      const rewards: Record<string, number> = {};
      const p: Record<string, number> = {};
      const flagged: string[] = [];
      let total = bias;
      this.types.forEach((t, k) => {
        const pk = probs[k]![i]!;
        const w = opts.weights?.[k] ?? t.weight;
        const flag = pk >= t.threshold;
        if (flag) flagged.push(t.name);
        const r = combine === "sign" ? w * (flag ? -1 : 1) : w * (1 - 2 * pk);
        rewards[t.name] = r;
        p[t.name] = pk;
        total += r;
      });
      return { start: s.start, end: s.end, text: s.text, rewards, probs: p, flagged, reward: total };
    });
  }

  /** Sum or mean of segment rewards (an output with no segments gets 0). */
  aggregateOf(segments: readonly SegmentReward[], aggregate: Aggregate = this.aggregate): number {
    if (segments.length === 0) return 0;
    const s = segments.reduce((a, x) => a + x.reward, 0);
    return aggregate === "sum" ? s : s / segments.length;
  }

  score(input: SegmentInput): SegmentScore {
    const { segments, probs } = this.probabilities(input);
    const rewards = this.rewardsFrom(segments, probs);
    return { reward: this.aggregateOf(rewards) / this.temperature, segments: rewards };
  }

  toJSON(): SegmentModelBody {
    return {
      featurizer: this.featurizer.spec,
      combine: this.combine,
      aggregate: this.aggregate,
      temperature: this.temperature,
      bias: this.bias,
      types: this.types.map((t) => ({
        name: t.name,
        labels: t.labels,
        threshold: t.threshold,
        weight: t.weight,
        l2: t.l2,
        head: { index: base64Of(t.head.index), weight: base64Of(t.head.weight) },
        ...(t.metrics ? { metrics: t.metrics } : {}),
      })),
    };
  }

  static fromJSON(raw: unknown): SegmentRewardModel {
    const r = SegmentModelSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new RlxfError("invalid_artifact", `not a segment reward model: segments.${issue.path.join(".")}: ${issue.message}`);
    }
    const b = r.data;
    const types = b.types.map((t) => {
      const index = int32FromBase64(t.head.index);
      const weight = float64FromBase64(t.head.weight);
      if (index.length !== weight.length) throw new RlxfError("invalid_artifact", `segment type "${t.name}": head index and weight lengths differ`);
      const out: SegmentTypeHead = { name: t.name, labels: t.labels, head: { index, weight }, threshold: t.threshold, weight: t.weight, l2: t.l2 };
      if (t.metrics) out.metrics = t.metrics as SegmentTypeHead["metrics"];
      return out;
    });
    const { type: _t, ...hashed } = b.featurizer.hashed;
    const spec: SegmentFeatureSpec = { ...b.featurizer, hashed: hashedSpec(hashed as Partial<Omit<HashedNgramSpec, "type">>) };
    return new SegmentRewardModel(spec, types, { combine: b.combine, aggregate: b.aggregate, temperature: b.temperature, bias: b.bias });
  }
}

/** The model as JSON (heads as base64: little-endian int32 indices, float64 weights). */
export interface SegmentModelBody {
  featurizer: SegmentFeatureSpec;
  combine: CombineMode;
  aggregate: Aggregate;
  temperature: number;
  bias: number;
  types: Array<{
    name: string;
    labels: string[];
    threshold: number;
    weight: number;
    l2: number;
    head: { index: string; weight: string };
    metrics?: SegmentTypeHead["metrics"];
  }>;
}

const HashedSpec = z
  .object({ type: z.literal("hashed-ngrams"), bits: z.number().int().min(4).max(28) })
  .passthrough();
const SegmentModelSchema = z.object({
  featurizer: z.object({
    type: z.literal("segment-features"),
    hashed: HashedSpec,
    level: z.enum(SEGMENT_LEVELS),
    minWords: z.number().int().min(1).max(100),
  }),
  combine: z.enum(COMBINE_MODES),
  aggregate: z.enum(AGGREGATES),
  temperature: z.number().positive(),
  bias: z.number().finite().default(0),
  types: z
    .array(
      z.object({
        name: z.string().min(1),
        labels: z.array(z.string().min(1)).min(1),
        threshold: z.number().min(0).max(1),
        weight: z.number().min(0),
        l2: z.number().positive(),
        head: z.object({ index: z.string(), weight: z.string() }),
        metrics: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .min(1),
});
