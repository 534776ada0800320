/**
 * Dense rewards as rows for files: one line per output with its segments' rewards and offsets, or TRL's stepwise
 * rows (`{prompt, completions, labels}`, the PRMTrainer's format, built by the dataset builders' `trlStepwiseRow`)
 * with the segments as steps and a step labelled good when no error type finds an error there more likely than not.
 */
import type { Prompt } from "../../feedback/schema.js";
import { type Row, trlStepwiseRow } from "../datasets/formats.js";
import type { SegmentReward } from "./model.js";

export const SEGMENT_EXPORT_FORMATS = ["segments", "trl-stepwise"] as const;
export type SegmentExportFormat = (typeof SEGMENT_EXPORT_FORMATS)[number];

/** One output's line: what identifies it, its reward and `segments: [{start, end, text, rewards, reward, flagged}]`. */
export function segmentRewardRow(base: Record<string, unknown>, score: { reward: number; segments?: readonly SegmentReward[] }): Row {
  return {
    ...base,
    reward: score.reward,
    segments: (score.segments ?? []).map((s) => ({ start: s.start, end: s.end, text: s.text, rewards: s.rewards, reward: s.reward, flagged: s.flagged })),
  };
}

/**
 * TRL's stepwise row: the segments as completions, each labelled true when every error type finds an error less
 * likely than not there (P(error) < `cut`, default 0.5). The calibrated probabilities decide rather than `flagged`,
 * whose thresholds maximise each type's F1 and so favour recall: most segments of a common error type get flagged.
 */
export function segmentStepwiseRow(prompt: Prompt, segments: readonly SegmentReward[], opts: { itemId?: string; generationId?: string; cut?: number } = {}): Row {
  const cut = opts.cut ?? 0.5;
  return trlStepwiseRow({
    id: opts.generationId ?? "",
    project: "",
    itemId: opts.itemId ?? "",
    prompt,
    steps: segments.map((s) => s.text),
    labels: segments.map((s) => Object.values(s.probs).every((p) => p < cut)),
    feedbackId: "",
  });
}
