/**
 * Segment reward models on a synthetic QA world: per-type detection on held-out items beats flagging everything,
 * the dense reward ranks answers with fewer errors higher, and the model survives its artifact unchanged.
 */
import { describe, expect, it } from "vitest";
import { RlxfError } from "../../errors.js";
import { RewardModel } from "../reward/model.js";
import { trainRewardModel } from "../reward/train.js";
import { linearSynthetic } from "../synthetic.js";
import { segmentRewardRow, segmentStepwiseRow } from "./export.js";
import { SegmentRewardModel } from "./model.js";
import { segmentRewardModel } from "./reward.js";
import { syntheticQa } from "./testing/index.js";
import { bestThreshold, detectionMetrics, fitTypeWeights, segmentLabels, trainSegmentModel } from "./train.js";

const world = syntheticQa({ n: 80, seed: 3 });

describe("segmentLabels and detection metrics", () => {
  it("marks a segment when a span of the type overlaps it by a non-space character", () => {
    const text = "One two. Three four. Five six.";
    const segs = [
      { start: 0, end: 8, text: "One two." },
      { start: 9, end: 20, text: "Three four." },
      { start: 21, end: 30, text: "Five six." },
    ];
    const spans = [
      { start: 8, end: 9, label: "X" }, // only the space between two segments
      { start: 15, end: 25, label: "X" },
      { start: 0, end: 3, label: "Y" },
    ];
    expect(segmentLabels(text, segs, spans, new Set(["X"]))).toEqual([false, true, true]);
    expect(segmentLabels(text, segs, spans, new Set(["Y"]))).toEqual([true, false, false]);
    const m = detectionMetrics([true, true, false, false], [true, false, true, false]);
    expect(m).toMatchObject({ positives: 2, flagged: 2, precision: 0.5, recall: 0.5, f1: 0.5, accuracy: 0.5 });
    expect(m.alwaysFlagF1).toBeCloseTo((2 * 2) / (2 + 4), 12);
  });

  it("picks the F1-maximising threshold", () => {
    const t = bestThreshold([0.9, 0.8, 0.3, 0.2, 0.1], [true, true, false, true, false]);
    // Cutting after 0.8 gives F1 0.8; after 0.2, 6/7 — the best.
    expect(t).toBeGreaterThan(0.1);
    expect(t).toBeLessThan(0.2);
  });

  it("fits non-negative type weights, dropping one that hurts", () => {
    // Type 0 predicts the label; type 1 anti-predicts it.
    const d: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 200; i++) {
      const a = (i % 5) - 2;
      d.push([a, -a + ((i * 7) % 3) - 1]);
      y.push(a > 0 ? 1 : a < 0 ? 0 : 0.5);
    }
    const w = fitTypeWeights(d, Float64Array.from(y))!;
    expect(w.weights[0]).toBeGreaterThan(0);
    expect(w.weights[1]).toBe(0);
  });
});

describe("trainSegmentModel", () => {
  it("detects each error type on held-out items better than flagging everything, and prefers answers with fewer errors", async () => {
    const r = await trainSegmentModel(world.examples, { pairs: world.pairs, testFraction: 0.3, seed: 2, l2: [1], folds: 3 });
    expect(r.test.length).toBeGreaterThan(0);
    const testItems = new Set(r.test.map((e) => e.itemId));
    expect(r.train.some((e) => testItems.has(e.itemId))).toBe(false);
    expect(r.model.types.map((t) => t.name).sort()).toEqual(["Irrelevant", "Redundant", "Unverifiable"]);
    for (const t of r.model.types) {
      const d = r.detection[t.name]!.test!;
      expect(d.positives).toBeGreaterThan(0);
      expect(d.f1, t.name).toBeGreaterThan(d.alwaysFlagF1 + 0.2);
    }
    expect(r.combinations.length).toBeGreaterThan(1);
    expect(r.pairs?.test?.accuracy).toBeGreaterThan(0.8);
    // Every segment gets a reward per type, and its offsets land on its text.
    const a = world.answers.find((x) => testItems.has(x.itemId) && x.errors > 0)!;
    const s = r.model.score(a);
    expect(s.segments.length).toBeGreaterThan(1);
    for (const seg of s.segments) {
      expect(a.response.slice(seg.start, seg.end)).toBe(seg.text);
      expect(Object.keys(seg.rewards).sort()).toEqual(["Irrelevant", "Redundant", "Unverifiable"]);
      expect(seg.reward).toBeCloseTo(Object.values(seg.rewards).reduce((x, y) => x + y, r.model.bias), 12);
    }
  });

  it("follows the paper's ±1 rule with given weights, sums, and groups of labels", async () => {
    const r = await trainSegmentModel(world.examples, {
      testFraction: 0.3,
      seed: 2,
      l2: [1],
      combine: "sign",
      aggregate: "sum",
      groups: { relevance: ["Irrelevant", "Redundant"], factuality: ["Unverifiable"] },
      weights: { relevance: 0.3, factuality: 0.5 },
      pairs: world.pairs,
    });
    expect(r.model.types.map((t) => [t.name, t.weight])).toEqual([
      ["relevance", 0.3],
      ["factuality", 0.5],
    ]);
    const a = world.answers[0]!;
    const { segments, probs } = r.model.probabilities(a);
    const rewards = r.model.rewardsFrom(segments, probs);
    rewards.forEach((seg, i) => {
      const rel = probs[0]![i]! >= r.model.types[0]!.threshold ? -0.3 : 0.3;
      const fact = probs[1]![i]! >= r.model.types[1]!.threshold ? -0.5 : 0.5;
      expect(seg.rewards).toEqual({ relevance: rel, factuality: fact });
      expect(seg.flagged).toEqual([...(rel < 0 ? ["relevance"] : []), ...(fact < 0 ? ["factuality"] : [])]);
    });
    expect(r.model.score(a).reward).toBeCloseTo(rewards.reduce((x, s) => x + s.reward, 0) / r.model.temperature, 12);
  });

  it("leaves out types with too few positives and says why when none is left", async () => {
    const r = await trainSegmentModel(world.examples, { testFraction: 0, l2: [1], minPositives: 10, groups: { rare: ["Nope"], Redundant: ["Redundant"] } });
    expect(r.dropped).toEqual([{ name: "rare", positives: 0 }]);
    await expect(trainSegmentModel(world.examples, { testFraction: 0, groups: { rare: ["Nope"] } })).rejects.toThrow(/no error type has 10 positive/);
    await expect(trainSegmentModel([], {})).rejects.toThrow(RlxfError);
  });
});

describe("segment models as reward models", () => {
  it("round-trips through the reward model artifact and scores with per-segment rewards", async () => {
    const r = await trainSegmentModel(world.examples, { pairs: world.pairs, testFraction: 0.3, seed: 2, l2: [1] });
    const rm = segmentRewardModel(r, { name: "qa-dense", seed: 2, testFraction: 0.3 });
    expect(rm.type).toBe("segments");
    expect(rm.scalar).toBe(true);
    const artifact = JSON.parse(JSON.stringify(rm.toArtifact()));
    const again = RewardModel.fromArtifact(artifact);
    const inputs = world.answers.slice(0, 8);
    const [a, b] = [await rm.score(inputs), await again.score(inputs)];
    expect(b).toEqual(a);
    expect(a[0]!.segments!.length).toBeGreaterThan(0);
    expect(again.meta.training?.spans).toEqual({ trainOutputs: r.train.length, testOutputs: r.test.length });
    const [cmp] = await again.compare([{ prompt: inputs[0]!.prompt, first: inputs[0]!.response, second: inputs[1]!.response, passages: inputs[0]!.passages }]);
    expect(cmp!.margin).toBeCloseTo(a[0]!.reward - a[1]!.reward, 12);
    // A damaged body names the field.
    const bad = { ...artifact, segments: { ...artifact.segments, types: [{ ...artifact.segments.types[0], threshold: 2 }] } };
    expect(() => RewardModel.fromArtifact(bad)).toThrow(/segments\.types\.0\.threshold/);
    expect(() => SegmentRewardModel.fromJSON({})).toThrow(/not a segment reward model/);
  });

  it("is not trained from pairs", async () => {
    await expect(trainRewardModel(linearSynthetic({ n: 40, seed: 1 }).pairs, { type: "segments" })).rejects.toThrow(/span feedback/);
  });

  it("writes segment rows with offsets and TRL stepwise rows", async () => {
    const r = await trainSegmentModel(world.examples, { testFraction: 0, l2: [1] });
    const a = world.answers.find((x) => x.errors > 0)!;
    const s = r.model.score(a);
    const row = segmentRewardRow({ generationId: "g1" }, s);
    expect(row).toMatchObject({ generationId: "g1", reward: s.reward });
    expect((row.segments as Array<{ start: number; end: number; text: string }>).map((x) => a.response.slice(x.start, x.end))).toEqual(s.segments.map((x) => x.text));
    const step = segmentStepwiseRow(a.prompt, s.segments);
    expect(step).toEqual({ prompt: a.prompt, completions: s.segments.map((x) => x.text), labels: s.segments.map((x) => Object.values(x.probs).every((p) => p < 0.5)) });
    expect((step.labels as boolean[]).includes(false)).toBe(true);
    expect((step.labels as boolean[]).includes(true)).toBe(true);
    expect(segmentStepwiseRow(a.prompt, s.segments, { cut: 1.01 }).labels).toEqual(s.segments.map(() => true));
  });
});

describe("long outputs", () => {
  it("are scored whole, 3,000 sentences, repetition looked for within a window", async () => {
    const r = await trainSegmentModel(world.examples, { testFraction: 0, l2: [1] });
    const a = world.answers[0]!;
    const long = Array.from({ length: 3000 }, (_, i) => `Sentence number ${i} says ${i % 7 === 0 ? "the same thing again" : `fact ${i}`}.`).join(" ");
    const s = r.model.score({ prompt: a.prompt, response: long, passages: a.passages });
    expect(s.segments).toHaveLength(3000);
    expect(s.segments.at(-1)!.end).toBe(long.length);
  });
});
