/**
 * Segment models as reward models: what `trainSegmentModel` learns, wrapped so that it is stored, listed, scored
 * and served like every other reward model (`rlxf rm`, `/v1/reward` with `{"type": "reward-model"}`).
 */
import { RewardModel, type ModelMetadata } from "../reward/model.js";
import type { SegmentTrainOptions, SegmentTrainResult } from "./train.js";

/** The trained segment model as a {@link RewardModel} of type "segments", with its training record and pair metrics. */
export function segmentRewardModel(
  result: SegmentTrainResult,
  opts: Pick<SegmentTrainOptions, "name" | "project" | "seed" | "testFraction"> & { query?: Record<string, unknown>; options?: Record<string, unknown> } = {},
): RewardModel {
  const m = result.model;
  const trainPairs = result.pairs?.train?.pairs ?? 0;
  const testPairs = result.pairs?.test?.pairs ?? 0;
  const meta: ModelMetadata = {
    name: opts.name ?? "segment-model",
    project: opts.project ?? result.train[0]?.project ?? "default",
    createdAt: new Date().toISOString(),
    seed: opts.seed ?? 0,
    training: {
      query: opts.query ?? {},
      trainPairs,
      testPairs,
      options: {
        type: "segments",
        level: m.featurizer.spec.level,
        testFraction: opts.testFraction ?? 0.2,
        combine: m.combine,
        aggregate: m.aggregate,
        types: Object.fromEntries(m.types.map((t) => [t.name, t.labels])),
        ...(result.dropped.length ? { dropped: result.dropped } : {}),
        ...opts.options,
      },
      spans: { trainOutputs: result.train.length, testOutputs: result.test.length },
      durationMs: result.durationMs,
    },
  };
  if (result.pairs?.train || result.pairs?.test) {
    meta.metrics = { ...(result.pairs.train ? { train: result.pairs.train } : {}), ...(result.pairs.test ? { test: result.pairs.test } : {}) };
  }
  return new RewardModel({ type: "segments", segments: m }, meta);
}
