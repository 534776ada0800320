import { describe, expect, it } from "vitest";
import { linearSynthetic } from "../synthetic.js";
import { hashedNgramFeaturizer } from "../features/hashed.js";
import { flagNoisyPairs } from "./robust.js";
import { trainRewardModel } from "./train.js";

describe("noise-robust training", () => {
  const flipRate = 0.2;
  const syn = linearSynthetic({ n: 800, seed: 21, flipRate });
  const nFlipped = syn.flipped.filter(Boolean).length;

  for (const method of ["crossfit", "peers"] as const) {
    it(`${method}: injected label flips are flagged far more often than chance`, async () => {
      const fz = hashedNgramFeaturizer();
      const chosen = syn.pairs.map((p) => fz.featurizeOne({ prompt: p.prompt, response: p.chosen.text }));
      const rejected = syn.pairs.map((p) => fz.featurizeOne({ prompt: p.prompt, response: p.rejected.text }));
      const r = flagNoisyPairs(
        { chosen, rejected, y: new Float64Array(syn.pairs.length).fill(1), records: syn.pairs },
        { method, rate: flipRate, rounds: 3, l2: 0.3, seed: 1 },
      );
      expect(r.flagged.length).toBeCloseTo(syn.pairs.length * flipRate, -1);
      const hits = r.flagged.filter((i) => syn.flipped[i]).length;
      const precision = hits / r.flagged.length;
      const recall = hits / nFlipped;
      // Chance: a random flag hits a flipped pair with probability ≈ flipRate.
      expect(precision).toBeGreaterThan(2.5 * flipRate);
      expect(recall).toBeGreaterThan(0.5);
      // Dropped pairs get weight 0, the rest 1; flipped pairs have higher review losses on average.
      expect(r.flagged.every((i) => r.weights[i] === 0)).toBe(true);
      expect(r.weights.filter((w) => w === 1).length).toBe(syn.pairs.length - r.flagged.length);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const lossFlipped = mean([...r.losses].filter((_, i) => syn.flipped[i]));
      const lossClean = mean([...r.losses].filter((_, i) => !syn.flipped[i]));
      expect(lossFlipped).toBeGreaterThan(lossClean);
    });
  }

  it("down-weighting keeps every pair with a weight in [0, 1], lowest for the most contradicted", () => {
    const fz = hashedNgramFeaturizer();
    const chosen = syn.pairs.map((p) => fz.featurizeOne({ prompt: p.prompt, response: p.chosen.text }));
    const rejected = syn.pairs.map((p) => fz.featurizeOne({ prompt: p.prompt, response: p.rejected.text }));
    const r = flagNoisyPairs(
      { chosen, rejected, y: new Float64Array(syn.pairs.length).fill(1), records: syn.pairs },
      { method: "crossfit", rate: flipRate, mode: "downweight", l2: 0.3 },
    );
    for (const w of r.weights) {
      expect(w).toBeGreaterThanOrEqual(0);
      expect(w).toBeLessThanOrEqual(1);
    }
    expect(r.weights[r.flagged[0]!]!).toBeLessThan(0.5);
  });

  it("training with flagged pairs dropped is at least as accurate on clean held-out pairs", async () => {
    const clean = linearSynthetic({ n: 400, seed: 22 }).pairs.map((p) => ({ ...p, id: `c${p.id}`, itemId: `c${p.itemId}` }));
    const plain = await trainRewardModel(syn.pairs, { testFraction: 0, l2: 0.3, seed: 1 });
    const robust = await trainRewardModel(syn.pairs, { testFraction: 0, l2: 0.3, seed: 1, robust: { method: "peers", rate: flipRate } });
    expect(robust.flagged.length).toBe(Math.round(flipRate * syn.pairs.length));
    expect(robust.model.meta.training?.robust).toEqual({ method: "peers", flagged: robust.flagged.length, mode: "drop" });
    const { evaluateRewardModel } = await import("./train.js");
    const a = await evaluateRewardModel(plain.model, clean);
    const b = await evaluateRewardModel(robust.model, clean);
    expect(b.accuracy).toBeGreaterThanOrEqual(a.accuracy - 0.01);
  });
});
