import { describe, expect, it } from "vitest";
import { averageRanks, logspace, mean, median, pearson, quantile, sem, sigmoid, softplus, spearman, std } from "./stats.js";

describe("descriptive statistics", () => {
  it("mean / std / sem match pandas conventions (ddof = 1)", () => {
    const xs = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(mean(xs)).toBe(5);
    // sum of squared deviations = 32 -> var(ddof=1) = 32/7
    expect(std(xs)).toBeCloseTo(Math.sqrt(32 / 7), 14);
    expect(std(xs, 0)).toBeCloseTo(2, 14);
    expect(sem(xs)).toBeCloseTo(Math.sqrt(32 / 7) / Math.sqrt(8), 14);
    expect(Number.isNaN(mean([]))).toBe(true);
    expect(Number.isNaN(std([1]))).toBe(true);
  });

  it("quantile uses linear interpolation (numpy default)", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    // numpy.quantile([1, 2, 3, 4, 10], 0.9) = 4 + 0.6 * 6 = 7.6
    expect(quantile([1, 2, 3, 4, 10], 0.9)).toBeCloseTo(7.6, 12);
    expect(quantile([5], 0.3)).toBe(5);
  });

  it("sigmoid / softplus are stable", () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(800)).toBe(1);
    expect(softplus(800)).toBe(800);
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
    expect(logspace(-4, 4, 10)[0]).toBeCloseTo(1e-4, 18);
    expect(logspace(-4, 4, 10)[9]).toBeCloseTo(1e4, 8);
  });
});

describe("correlations", () => {
  it("average ranks for ties", () => {
    expect(Array.from(averageRanks([10, 20, 20, 30, 10]))).toEqual([1.5, 3.5, 3.5, 5, 1.5]);
  });

  it("pearson on a hand-computed example", () => {
    // x = 1..5, y = 2,4,5,4,5: mx = 3, my = 4; sxy = 6, sxx = 10, syy = 6 -> r = 6 / sqrt(60) = 0.7746
    expect(pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5])).toBeCloseTo(6 / Math.sqrt(60), 14);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 14);
    expect(Number.isNaN(pearson([1, 1, 1], [1, 2, 3]))).toBe(true);
  });

  it("spearman with ties equals pearson of average ranks", () => {
    // ranks x: 1,2,3,4,5 ; y = 2,4,5,4,5 -> ranks 1, 2.5, 4.5, 2.5, 4.5
    // mean ranks 3; sxy = (-2)(-2) + (-1)(-.5) + 0 + (1)(-.5) + 2(1.5) = 4 + .5 - .5 + 3 = 7
    // sxx = 10, syy = 4 + .25 + 2.25 + .25 + 2.25 = 9 -> rho = 7 / sqrt(90) = 0.7379 (scipy.stats.spearmanr)
    expect(spearman([1, 2, 3, 4, 5], [2, 4, 5, 4, 5])).toBeCloseTo(7 / Math.sqrt(90), 14);
    // monotone but non-linear -> 1
    expect(spearman([1, 2, 3, 4], [1, 10, 100, 1000])).toBeCloseTo(1, 14);
    // without ties rho = 1 - 6 sum d^2 / (n (n^2 - 1)):
    const x = [1, 2, 3, 4, 5];
    const y = [5, 6, 7, 8, 7.5];
    // ranks y: 1, 2, 3, 5, 4 -> d^2 = 0 + 0 + 0 + 1 + 1 = 2 -> rho = 1 - 12 / 120 = 0.9
    expect(spearman(x, y)).toBeCloseTo(0.9, 14);
  });
});
