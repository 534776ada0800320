import { describe, expect, it } from "vitest";
import { createRng } from "../../eval/index.js";
import { hashedNgramFeaturizer } from "../features/hashed.js";
import { linearSynthetic, rockPaperScissors } from "../synthetic.js";
import { sigmoid } from "./logistic.js";
import { fitTemperature, pairMetrics } from "./metrics.js";
import { type RewardModel } from "./model.js";
import { crossValidateRewardModel, evaluateRewardModel, pairMargins, trainRewardModel } from "./train.js";

describe("Bradley-Terry reward model", () => {
  it("learns a hidden linear reward from pairs and ranks held-out responses by it", async () => {
    const syn = linearSynthetic({ n: 600, seed: 1 });
    const { model, metrics, train, test } = await trainRewardModel(syn.pairs, { seed: 3, l2: 0.3 });
    expect(model.type).toBe("bradley-terry");
    expect(train.length + test.length).toBe(600);
    expect(test.length).toBeGreaterThan(80);
    expect(metrics.test!.accuracy).toBeGreaterThan(0.9);
    // Accuracy rises with the predicted margin.
    const bm = metrics.test!.byMargin;
    expect(bm[bm.length - 1]!.accuracy).toBeGreaterThanOrEqual(bm[0]!.accuracy);
    // Rewards of fresh texts follow the hidden reward.
    const texts = ["good0 good2 good4 the", "bad1 bad3 bad5 the", "good0 bad1 the of"];
    const scores = await model.score(texts.map((response) => ({ prompt: "question 1", response })));
    const order = (xs: number[]) => [...xs.keys()].sort((a, b) => xs[a]! - xs[b]!);
    expect(order(scores.map((s) => s.reward))).toEqual(order(texts.map(syn.reward)));
    // compare() agrees with the rewards.
    const [p] = await model.compare([{ prompt: "question 1", first: texts[0]!, second: texts[1]! }]);
    expect(p!.margin).toBeCloseTo(scores[0]!.reward - scores[1]!.reward, 10);
    expect(p!.pFirst).toBeCloseTo(sigmoid(p!.margin), 12);
    expect(model.meta.training).toMatchObject({ trainPairs: train.length, testPairs: test.length });
  });

  it("is deterministic for a seed and uses the same split for the same seed", async () => {
    const syn = linearSynthetic({ n: 200, seed: 2 });
    const a = await trainRewardModel(syn.pairs, { seed: 5 });
    const b = await trainRewardModel(syn.pairs, { seed: 5 });
    expect(b.test.map((p) => p.id)).toEqual(a.test.map((p) => p.id));
    expect(JSON.stringify({ ...b.model.toArtifact(), createdAt: 0, training: 0 })).toBe(
      JSON.stringify({ ...a.model.toArtifact(), createdAt: 0, training: 0 }),
    );
  });

  it("a margin from preference strength widens the fitted gap of strong preferences", async () => {
    const syn = linearSynthetic({ n: 300, seed: 4 });
    const pairs = syn.pairs.map((p, i) => ({ ...p, strength: i % 2 ? 1 : 0 }));
    const plain = await trainRewardModel(pairs, { testFraction: 0, calibrate: false });
    const withMargin = await trainRewardModel(pairs, { testFraction: 0, calibrate: false, margin: 2 });
    const strong = pairs.filter((p) => p.strength === 1);
    const gap = async (m: RewardModel) => {
      const z = await pairMargins(m, strong);
      return z.reduce((s, x) => s + x, 0) / z.length;
    };
    expect(await gap(withMargin.model)).toBeGreaterThan((await gap(plain.model)) + 0.5);
    expect(withMargin.model.meta.training?.options.margin).toBe(2);
  });

  it("soft labels (judge probabilities) are fitted as probabilities", async () => {
    const syn = linearSynthetic({ n: 300, seed: 6 });
    const soft = syn.pairs.map((p) => ({ ...p, pChosen: 0.7 }));
    const hard = await trainRewardModel(syn.pairs, { testFraction: 0, calibrate: false, l2: 0.01 });
    const s = await trainRewardModel(soft, { testFraction: 0, calibrate: false, l2: 0.01 });
    const mean = (z: Float64Array) => z.reduce((a, b) => a + b, 0) / z.length;
    const zs = mean(await pairMargins(s.model, soft));
    // Soft targets of 0.7 pull the fitted probability towards 0.7, well below what hard labels give.
    expect(sigmoid(zs)).toBeGreaterThan(0.6);
    expect(sigmoid(zs)).toBeLessThan(0.85);
    expect(mean(await pairMargins(hard.model, syn.pairs))).toBeGreaterThan(zs);
  });

  it("L-BFGS and Newton-CG train the same model", async () => {
    const syn = linearSynthetic({ n: 200, seed: 7 });
    const a = await trainRewardModel(syn.pairs, { solver: "newton-cg", testFraction: 0, calibrate: false, tol: 1e-9 });
    const b = await trainRewardModel(syn.pairs, { solver: "lbfgs", testFraction: 0, calibrate: false, tol: 1e-9 });
    const za = await pairMargins(a.model, syn.pairs);
    const zb = await pairMargins(b.model, syn.pairs);
    za.forEach((z, i) => expect(z).toBeCloseTo(zb[i]!, 4));
  });

  it("cross-validates by item beside the length baselines", async () => {
    const syn = linearSynthetic({ n: 300, seed: 8 });
    const cv = await crossValidateRewardModel(syn.pairs, { folds: 4, seed: 1 });
    expect(cv.perFold).toHaveLength(4);
    expect(cv.metrics.pairs).toBe(300);
    expect(cv.metrics.accuracy).toBeGreaterThan(0.85);
    expect(cv.baselines.shorter + cv.baselines.longer).toBeCloseTo(1, 12);
  });
});

describe("calibration and metrics", () => {
  it("temperature scaling recovers the temperature of over-confident logits", () => {
    const rng = createRng(1);
    const truth = Array.from({ length: 4000 }, () => rng.normal() * 2);
    const y = truth.map((t) => (rng.next() < sigmoid(t) ? 1 : 0));
    const overconfident = truth.map((t) => 3 * t);
    expect(fitTemperature(overconfident, y)).toBeGreaterThan(2.6);
    expect(fitTemperature(overconfident, y)).toBeLessThan(3.4);
    expect(fitTemperature([0, 0], [1, 0])).toBe(1);
  });

  it("accuracy, log-loss, Brier, ECE and buckets", () => {
    const m = pairMetrics([2, -1, 0.5, 0, 3], [1, 1, 1, 1, 0.5], { buckets: 2, strength: [1, 0.2, undefined, 0.6, undefined] });
    expect(m.pairs).toBe(5);
    // Decided pairs: 2 (right), -1 (wrong), 0.5 (right), 0 (half) → 2.5 / 4.
    expect(m.accuracy).toBeCloseTo(2.5 / 4, 12);
    const ll = [2, -1, 0.5, 0].map((z) => Math.log1p(Math.exp(-z)));
    ll.push(0.5 * Math.log1p(Math.exp(-3)) + 0.5 * Math.log1p(Math.exp(3)));
    expect(m.logLoss).toBeCloseTo(ll.reduce((a, b) => a + b) / 5, 12);
    expect(m.byMargin.map((b) => b.pairs)).toEqual([2, 2]);
    expect(m.byMargin[0]!.accuracy).toBeCloseTo(0.75, 12); // |z| 0 (half), 0.5 (right)
    expect(m.byMargin[1]!.accuracy).toBeCloseTo(0.5, 12); // |z| 1 (wrong), 2 (right)
    expect(m.byStrength!.map((b) => b.pairs)).toEqual([1, 1, 1]);
    // A perfectly calibrated predictor has a small ECE.
    const rng = createRng(2);
    const z = Array.from({ length: 20000 }, () => rng.normal() * 1.5);
    const y = z.map((t) => (rng.next() < sigmoid(t) ? 1 : 0));
    expect(pairMetrics(z, y).ece).toBeLessThan(0.02);
    expect(pairMetrics(z.map((t) => 4 * t), y).ece).toBeGreaterThan(0.1);
  });

  it("training calibrates: a temperature fitted on cross-fitted margins improves held-out calibration", async () => {
    const syn = linearSynthetic({ n: 1000, seed: 9, flipRate: 0.1 });
    const cal = await trainRewardModel(syn.pairs, { seed: 1, l2: 3 });
    const raw = await trainRewardModel(syn.pairs, { seed: 1, l2: 3, calibrate: false });
    // Strong L2 shrinks the margins (under-confident): the temperature sharpens them.
    expect(cal.model.temperature).toBeLessThan(0.8);
    expect(raw.model.temperature).toBe(1);
    expect(cal.metrics.test!.logLoss).toBeLessThan(raw.metrics.test!.logLoss);
    expect(cal.metrics.test!.ece).toBeLessThan(raw.metrics.test!.ece);
    expect(cal.metrics.test!.accuracy).toBe(raw.metrics.test!.accuracy);
  });
});

describe("ensemble", () => {
  it("gives a mean, a spread and an uncertainty-penalised reward per response", async () => {
    const syn = linearSynthetic({ n: 600, seed: 10 });
    const { model, metrics } = await trainRewardModel(syn.pairs, { type: "ensemble", members: 4, penalty: 2, seed: 1, l2: 0.3 });
    expect(model.type).toBe("ensemble");
    const p = model.params as Extract<typeof model.params, { type: "ensemble" }>;
    expect(p.members).toHaveLength(4);
    // Members hash with different seeds (feature diversity) and fit different bootstraps.
    expect(new Set(p.members.map((m) => (m.featurizer.spec as { seed: number }).seed)).size).toBe(4);
    const scores = await model.score([
      { prompt: "q", response: "good0 good2 the" },
      { prompt: "q", response: "unseen words entirely here" },
    ]);
    for (const s of scores) {
      expect(s.std).toBeGreaterThanOrEqual(0);
      expect(s.penalized).toBeCloseTo(s.mean! - 2 * s.std!, 12);
      expect(s.reward).toBe(s.penalized);
    }
    expect(scores[0]!.std).toBeGreaterThan(0);
    expect(metrics.test!.accuracy).toBeGreaterThan(0.85);
    const [c] = await model.compare([{ prompt: "q", first: "good0 good2", second: "bad1 bad3" }]);
    expect(c!.margin).toBeGreaterThan(0);
    expect(c!.std).toBeGreaterThan(0);
  });
});

describe("general preference model", () => {
  it("represents rock-paper-scissors, where every Bradley-Terry model is at chance", async () => {
    const train = rockPaperScissors({ n: 240, seed: 1 }).pairs;
    const test = rockPaperScissors({ n: 120, seed: 2 }).pairs.map((p) => ({ ...p, id: `t${p.id}`, itemId: `t${p.itemId}` }));
    const featurizer = hashedNgramFeaturizer({ bits: 12 });
    const bt = await trainRewardModel(train, { featurizer, testFraction: 0, seed: 1 });
    const gpm = await trainRewardModel(train, { type: "gpm", featurizer, dims: 2, testFraction: 0, seed: 1 });
    const btTest = await evaluateRewardModel(bt.model, test);
    const gpmTest = await evaluateRewardModel(gpm.model, test);
    // Bradley-Terry: the best it can do is a constant reward, P = 0.5, chance accuracy and log-loss log 2.
    expect(btTest.accuracy).toBeGreaterThan(0.35);
    expect(btTest.accuracy).toBeLessThan(0.65);
    expect(btTest.logLoss).toBeGreaterThan(Math.log(2) - 0.02);
    // The GPM gets the cycle.
    expect(gpmTest.accuracy).toBeGreaterThan(0.95);
    expect(gpmTest.logLoss).toBeLessThan(0.3);
    // Skew-symmetry: P(a ≻ b) + P(b ≻ a) = 1, and the cycle is visible in direct comparisons.
    const [pr, rp, sp, ps, rs] = await gpm.model.compare([
      { prompt: "Pick a move.", first: "I play paper the", second: "I play rock the" },
      { prompt: "Pick a move.", first: "I play rock the", second: "I play paper the" },
      { prompt: "Pick a move.", first: "I play scissors of", second: "I play paper of" },
      { prompt: "Pick a move.", first: "I play paper of", second: "I play scissors of" },
      { prompt: "Pick a move.", first: "I play rock a", second: "I play scissors a" },
    ]);
    expect(pr!.pFirst + rp!.pFirst).toBeCloseTo(1, 12);
    expect(sp!.pFirst + ps!.pFirst).toBeCloseTo(1, 12);
    for (const x of [pr!, sp!, rs!]) expect(x.pFirst).toBeGreaterThan(0.8);
    // A GPM has no scalar reward, but ranks a set by mean win probability.
    await expect(gpm.model.score([{ prompt: "x", response: "y" }])).rejects.toThrow(/no per-response reward/);
    const ranks = await gpm.model.rank("Pick a move.", ["I play rock", "I play paper", "I play scissors"]);
    ranks.forEach((r) => expect(r).toBeGreaterThan(0.2));
  });

  it("can also fit transitive preferences (one block reproduces Bradley-Terry)", async () => {
    const syn = linearSynthetic({ n: 600, seed: 11 });
    const { metrics } = await trainRewardModel(syn.pairs, { type: "gpm", dims: 2, seed: 2 });
    expect(metrics.test!.accuracy).toBeGreaterThan(0.85);
  });
});
