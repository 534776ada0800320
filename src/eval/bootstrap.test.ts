import { describe, expect, it } from "vitest";
import { bootstrapMean } from "./bootstrap.js";
import { createRng } from "./random.js";

describe("bootstrapMean", () => {
  it("covers the mean, is reproducible, and widens when units come in correlated clusters", () => {
    const rng = createRng(4);
    // 100 clusters of 6 units that share their cluster's value: effectively 100 draws, not 600.
    const values: number[] = [];
    const clusters: number[] = [];
    for (let c = 0; c < 100; c++) {
      const v = rng.bernoulli(0.6) ? 1 : 0;
      for (let k = 0; k < 6; k++) {
        values.push(v);
        clusters.push(c);
      }
    }
    const flat = bootstrapMean(values, { seed: 1 });
    const byCluster = bootstrapMean(values, { clusters, seed: 1 });
    expect(byCluster.mean).toBe(flat.mean);
    expect(byCluster.lo).toBeLessThan(byCluster.mean);
    expect(byCluster.hi).toBeGreaterThan(byCluster.mean);
    expect(byCluster.hi - byCluster.lo).toBeGreaterThan(1.8 * (flat.hi - flat.lo));
    expect(bootstrapMean(values, { clusters, seed: 1 })).toEqual(byCluster);
    expect(byCluster).toMatchObject({ units: 600, clusters: 100, level: 0.95, resamples: 2000 });
  });

  it("rejects bad settings and gives NaN for no data", () => {
    expect(() => bootstrapMean([1, 2], { clusters: [1] })).toThrow(/clusters has 1 keys for 2 values/);
    expect(() => bootstrapMean([1], { level: 1 })).toThrow(/level/);
    expect(bootstrapMean([]).lo).toBeNaN();
  });
});
