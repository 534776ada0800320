import { describe, expect, it } from "vitest";
import { ValidationError } from "../../errors.js";
import { createRng } from "../../eval/index.js";
import {
  checkGradient,
  grpoAdvantages,
  klPenalty,
  policyGradientLoss,
  ppoClipLoss,
  reinforceAdvantages,
  reinforcePlusPlusAdvantages,
  remaxAdvantages,
  rlooAdvantages,
  type KlEstimator,
} from "./index.js";

function expectGradient(f: (x: number[]) => number, analytic: ArrayLike<number>, x: ArrayLike<number>): void {
  const { numeric } = checkGradient(f, analytic, x);
  for (let i = 0; i < numeric.length; i++) {
    const tol = 1e-7 + 1e-5 * Math.abs(numeric[i]!);
    if (!(Math.abs(analytic[i]! - numeric[i]!) <= tol)) {
      throw new Error(`gradient ${i}: analytic ${analytic[i]} vs numeric ${numeric[i]} at x=${JSON.stringify(Array.from(x))}`);
    }
  }
}

const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;
const popStd = (v: ArrayLike<number>) => {
  const m = mean(v);
  return Math.sqrt(Array.from(v).reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
};

describe("klPenalty", () => {
  // Two close discrete distributions: the policy p and the reference q.
  const p = [0.3, 0.25, 0.2, 0.15, 0.1];
  const q = [0.22, 0.26, 0.22, 0.18, 0.12];
  const trueKl = p.reduce((a, pi, i) => a + pi * Math.log(pi / q[i]!), 0);
  const estimate = (est: KlEstimator, y: number) => klPenalty({ logp: [Math.log(p[y]!)], refLogp: [Math.log(q[y]!)] }, est).value;

  it("k1 and k3 are exactly unbiased under p; k2's bias is small for close distributions", () => {
    const expectation = (est: KlEstimator) => p.reduce((a, pi, y) => a + pi * estimate(est, y), 0);
    expect(expectation("k1")).toBeCloseTo(trueKl, 14);
    expect(expectation("k3")).toBeCloseTo(trueKl, 14);
    const k2 = expectation("k2");
    expect(k2).not.toBeCloseTo(trueKl, 6); // biased...
    expect(Math.abs(k2 - trueKl)).toBeLessThan(0.1 * trueKl); // ...but only slightly
  });

  it("sample means approach the true KL (k1, k3 within 4 standard errors; k2 within its bias)", () => {
    const rng = createRng(2020);
    const n = 50_000;
    const logp = new Float64Array(n);
    const refLogp = new Float64Array(n);
    const cdf = p.map((_, i) => p.slice(0, i + 1).reduce((a, b) => a + b, 0));
    for (let s = 0; s < n; s++) {
      const u = rng.next();
      const y = Math.min(cdf.findIndex((c) => u < c), p.length - 1);
      logp[s] = Math.log(p[y]!);
      refLogp[s] = Math.log(q[y]!);
    }
    for (const est of ["k1", "k3"] as const) {
      const out = klPenalty({ logp, refLogp }, est);
      const se = popStd(out.perSample) / Math.sqrt(n);
      expect(Math.abs(out.value - trueKl)).toBeLessThan(4 * se);
    }
    // k3 has lower variance than k1 here (Schulman's point).
    expect(popStd(klPenalty({ logp, refLogp }, "k3").perSample)).toBeLessThan(popStd(klPenalty({ logp, refLogp }, "k1").perSample));
    const k2 = klPenalty({ logp, refLogp }, "k2");
    expect(Math.abs(k2.value - trueKl)).toBeLessThan(0.1 * trueKl);
  });

  it("k3 is never negative, even at log-ratios of +-700 and near 0, where k1 is", () => {
    const rng = createRng(5);
    const logp = [...Array.from({ length: 200 }, () => rng.normal() * 30), 1e-12, -1e-12, 700, -700, 0];
    const refLogp = logp.map((_, i) => (i % 2 === 0 ? 0 : rng.normal()));
    const k3 = klPenalty({ logp, refLogp }, "k3");
    for (const v of k3.perSample) expect(v).toBeGreaterThanOrEqual(0);
    expect(Math.min(...klPenalty({ logp, refLogp }, "k1").perSample)).toBeLessThan(0);
    // Near d = 0, k3 = d^2/2 - d^3/6 + ... to full relative precision (no cancellation).
    const tiny = klPenalty({ logp: [1e-6], refLogp: [0] }, "k3").value;
    expect(Math.abs(tiny - (0.5e-12 - 1e-18 / 6)) / 0.5e-12).toBeLessThan(1e-9);
  });

  it("gradients match finite differences for every estimator, and a clamp zeroes them beyond it", () => {
    const rng = createRng(11);
    const logp = Array.from({ length: 8 }, () => rng.normal() * 3);
    const refLogp = Array.from({ length: 8 }, () => rng.normal() * 3);
    for (const est of ["k1", "k2", "k3"] as const) {
      const out = klPenalty({ logp, refLogp }, est);
      expectGradient((x) => klPenalty({ logp: x, refLogp }, est).value, out.dLogp, logp);
    }
    const clamped = klPenalty({ logp: [30, -30, 1], refLogp: [0, 0, 0] }, "k3", { clampLogRatio: 20 });
    expect(clamped.dLogp[0]).toBe(0);
    expect(clamped.dLogp[1]).toBe(0);
    expect(clamped.dLogp[2]).toBeCloseTo(-Math.expm1(-1) / 3, 14);
    expect(clamped.perSample[1]).toBeCloseTo(Math.expm1(20) - 20, 6);
  });
});

describe("advantage estimators", () => {
  const rewards = [1, 0, 0.5, 2, -1, 3, 3, 0.25];

  it("REINFORCE subtracts the previous baseline and moves it towards the batch mean", () => {
    const out = reinforceAdvantages(rewards, { baseline: 0.5, momentum: 0.8 });
    expect(out.advantages).toEqual(rewards.map((r) => r - 0.5));
    expect(out.baseline).toBeCloseTo(0.8 * 0.5 + 0.2 * mean(rewards), 14);
    // Default momentum 0.9; repeated batches converge on the mean reward.
    let b = 0;
    for (let t = 0; t < 300; t++) b = reinforceAdvantages(rewards, { baseline: b }).baseline;
    expect(b).toBeCloseTo(mean(rewards), 9);
    expect(reinforceAdvantages([], { baseline: 2 })).toEqual({ advantages: [], baseline: 2 });
  });

  it("RLOO equals the leave-one-out definition and sums to zero per group", () => {
    for (const g of [2, 4, 8]) {
      const adv = rlooAdvantages(rewards, { groupSize: g });
      for (let i = 0; i < rewards.length; i++) {
        const start = Math.floor(i / g) * g;
        const others = rewards.slice(start, start + g).filter((_, j) => start + j !== i);
        expect(adv[i]).toBeCloseTo(rewards[i]! - mean(others), 12);
      }
      for (let s = 0; s < rewards.length; s += g) expect(adv.slice(s, s + g).reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    }
  });

  it("GRPO standardises per group with the unbiased std; Dr. GRPO only centres", () => {
    const adv = grpoAdvantages([1, 0, 0, 1], { groupSize: 4, eps: 0 });
    const s3 = Math.sqrt(3) / 2; // (1 - 0.5) / sqrt(1/3)
    expect(adv[0]).toBeCloseTo(s3, 12);
    expect(adv[1]).toBeCloseTo(-s3, 12);
    const withStd = grpoAdvantages(rewards, { groupSize: 4 });
    for (let s = 0; s < 8; s += 4) {
      const grp = withStd.slice(s, s + 4);
      expect(mean(grp)).toBeCloseTo(0, 12);
      expect(popStd(grp) * Math.sqrt(4 / 3)).toBeCloseTo(1, 5); // unit sample std, up to eps
    }
    const noStd = grpoAdvantages(rewards, { groupSize: 4, scaleByStd: false });
    for (let i = 0; i < 8; i++) expect(noStd[i]).toBeCloseTo(rewards[i]! - mean(rewards.slice(i < 4 ? 0 : 4, i < 4 ? 4 : 8)), 12);
    // A group with one reward for every sample has no signal, std or not.
    expect(grpoAdvantages([2, 2, 2, 1, 0, 1], { groupSize: 3, eps: 0 }).slice(0, 3)).toEqual([0, 0, 0]);
  });

  it("REINFORCE++ advantages have batch mean 0 and std 1; the baseline variant removes group means first", () => {
    const adv = reinforcePlusPlusAdvantages(rewards);
    expect(mean(adv)).toBeCloseTo(0, 12);
    expect(popStd(adv)).toBeCloseTo(1, 12);
    // Order is preserved: the advantage is an increasing affine map of the reward.
    const sorted = [...rewards.keys()].sort((a, b) => rewards[a]! - rewards[b]!);
    for (let k = 1; k < sorted.length; k++) expect(adv[sorted[k]!]!).toBeGreaterThanOrEqual(adv[sorted[k - 1]!]!);
    const base = reinforcePlusPlusAdvantages(rewards, { groupSize: 4 });
    expect(popStd(base)).toBeCloseTo(1, 12);
    const centred = rewards.map((r, i) => r - mean(rewards.slice(i < 4 ? 0 : 4, i < 4 ? 4 : 8)));
    const scale = popStd(centred);
    base.forEach((a, i) => expect(a).toBeCloseTo((centred[i]! - mean(centred)) / scale, 12));
    expect(reinforcePlusPlusAdvantages([3, 3, 3])).toEqual([0, 0, 0]);
  });

  it("ReMax subtracts the greedy response's reward of the same prompt", () => {
    expect(remaxAdvantages([1, 0, 0.5, 2, -1, 3], { groupSize: 3, greedyRewards: [0.5, 1] })).toEqual([0.5, -0.5, 0, 1, -2, 2]);
  });
});

describe("policyGradientLoss", () => {
  it("is -mean(A * logp) with gradient -A / n", () => {
    const out = policyGradientLoss({ logp: [-1, -2, -3], advantages: [1, -2, 0.5] });
    expect(out.loss).toBeCloseTo(-(-1 - -4 * 1 + -1.5) / 3, 12);
    expectGradient((x) => policyGradientLoss({ logp: x, advantages: [1, -2, 0.5] }).loss, out.dLogp, [-1, -2, -3]);
  });

  it("with RLOO advantages its expected gradient is the true policy gradient of a softmax policy", () => {
    // pi = softmax(theta) over 4 actions with fixed rewards; the score-function estimator with a leave-one-out
    // baseline, averaged over every ordered pair of draws (k = 2), equals -d E_pi[r] / d theta exactly.
    const theta = [0.2, -0.5, 1, 0];
    const r = [1, 3, -1, 2];
    const z = theta.map(Math.exp);
    const pi = z.map((v) => v / z.reduce((a, b) => a + b, 0));
    const er = pi.reduce((a, p, i) => a + p * r[i]!, 0);
    const trueGrad = pi.map((p, i) => -p * (r[i]! - er)); // gradient of the loss -E[r]
    const est = [0, 0, 0, 0];
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        const adv = rlooAdvantages([r[a]!, r[b]!], { groupSize: 2 });
        const out = policyGradientLoss({ logp: [Math.log(pi[a]!), Math.log(pi[b]!)], advantages: adv });
        // chain rule: d logp(y)/d theta_j = 1[y=j] - pi_j
        for (let j = 0; j < 4; j++) {
          const g = out.dLogp[0]! * ((a === j ? 1 : 0) - pi[j]!) + out.dLogp[1]! * ((b === j ? 1 : 0) - pi[j]!);
          est[j]! += pi[a]! * pi[b]! * g;
        }
      }
    }
    est.forEach((g, j) => expect(g).toBeCloseTo(trueGrad[j]!, 12));
  });
});

describe("ppoClipLoss", () => {
  it("is the plain importance-weighted surrogate inside the clip range", () => {
    const x = { logp: [-1, -2], oldLogp: [-1.1, -1.95], advantages: [2, -1] };
    const out = ppoClipLoss(x);
    const rho = [Math.exp(0.1), Math.exp(-0.05)];
    expect(out.ratio[0]).toBeCloseTo(rho[0]!, 14);
    expect(out.loss).toBeCloseTo((-2 * rho[0]! + rho[1]!) / 2, 12);
    expect(out.dLogp[0]).toBeCloseTo((-2 * rho[0]!) / 2, 12);
    expect(out.clipFraction).toBe(0);
    // On-policy (ratio 1) the gradient equals the REINFORCE gradient.
    const on = ppoClipLoss({ logp: [-1, -2], oldLogp: [-1, -2], advantages: [2, -1] });
    expect(on.dLogp).toEqual(policyGradientLoss({ logp: [-1, -2], advantages: [2, -1] }).dLogp);
  });

  it("has zero gradient outside the clip range only on the side where the clip applies, and counts those", () => {
    const up = Math.log(1.5); // ratio 1.5 > 1.2
    const down = Math.log(0.5); // ratio 0.5 < 0.8
    const out = ppoClipLoss({
      logp: [up, down, down, up, 0],
      oldLogp: [0, 0, 0, 0, 0],
      advantages: [1, 1, -1, -1, 0],
    });
    expect(out.dLogp[0]).toBe(0); // A > 0, ratio above 1 + eps: clipped
    expect(out.dLogp[1]).toBeCloseTo(-0.5 / 5, 14); // A > 0, ratio below 1 - eps: not clipped
    expect(out.dLogp[2]).toBe(0); // A < 0, ratio below 1 - eps: clipped
    expect(out.dLogp[3]).toBeCloseTo(1.5 / 5, 14); // A < 0, ratio above 1 + eps: not clipped
    expect(out.clipFraction).toBeCloseTo(2 / 5, 14);
    expect(out.loss).toBeCloseTo((-1.2 - 0.5 + 0.8 + 1.5 + 0) / 5, 12);
  });

  it("honours an asymmetric clipHigh and a dual clip", () => {
    const x = { logp: [Math.log(1.25), Math.log(5)], oldLogp: [0, 0], advantages: [1, -1] };
    expect(ppoClipLoss(x, { clip: 0.2 }).dLogp[0]).toBe(0);
    expect(ppoClipLoss(x, { clip: 0.2, clipHigh: 0.28 }).dLogp[0]).toBeCloseTo(-1.25 / 2, 14);
    const dual = ppoClipLoss(x, { dualClip: 3 });
    expect(dual.dLogp[1]).toBe(0);
    expect(dual.dualClipFraction).toBe(0.5);
    expect(dual.loss).toBeCloseTo((-1.2 + 3) / 2, 12);
    expect(ppoClipLoss(x).loss).toBeCloseTo((-1.2 + 5) / 2, 12);
  });

  it("matches finite differences at random points and stays finite at log-ratios of +-1e3 where the clip binds", () => {
    const rng = createRng(17);
    for (let t = 0; t < 20; t++) {
      const n = 6;
      const oldLogp = Array.from({ length: n }, () => -Math.abs(rng.normal() * 5));
      const logp = oldLogp.map((o) => o + rng.normal() * 0.4);
      const advantages = Array.from({ length: n }, () => rng.normal());
      const o = { clip: 0.2, clipHigh: 0.28, dualClip: 3 };
      const out = ppoClipLoss({ logp, oldLogp, advantages }, o);
      expectGradient((x) => ppoClipLoss({ logp: x, oldLogp, advantages }, o).loss, out.dLogp, logp);
    }
    const extreme = ppoClipLoss({ logp: [1000, -1000, -1000, 1000], oldLogp: [0, 0, 0, 0], advantages: [1, -1, 1, 0] });
    expect(extreme.loss).toBeCloseTo((-1.2 + 0.8 + 0 + 0) / 4, 12);
    expect(extreme.dLogp.map(Math.abs)).toEqual([0, 0, 0, 0]);
    expect(extreme.clipFraction).toBe(0.5);
  });
});

describe("validation", () => {
  const fieldOf = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      return (e as ValidationError).issues.map((i) => i.path);
    }
    throw new Error("expected a ValidationError");
  };

  it("names the field that is wrong", () => {
    expect(fieldOf(() => rlooAdvantages([1, 2, 3], { groupSize: 2 }))).toEqual(["groupSize"]);
    expect(fieldOf(() => rlooAdvantages([1, 2], { groupSize: 1 }))).toEqual(["groupSize"]);
    expect(fieldOf(() => grpoAdvantages([1, Number.NaN], { groupSize: 2 }))).toEqual(["rewards.1"]);
    expect(fieldOf(() => remaxAdvantages([1, 2, 3, 4], { groupSize: 2, greedyRewards: [1] }))).toEqual(["greedyRewards"]);
    expect(fieldOf(() => klPenalty({ logp: [1, 2], refLogp: [1] }, "k3"))).toEqual(["refLogp"]);
    expect(fieldOf(() => klPenalty({ logp: [1], refLogp: [1] }, "k4" as KlEstimator))).toEqual(["estimator"]);
    expect(fieldOf(() => ppoClipLoss({ logp: [0], oldLogp: [0, 1], advantages: [1] }))).toEqual(["oldLogp"]);
    expect(fieldOf(() => ppoClipLoss({ logp: [0], oldLogp: [0], advantages: [1] }, { clip: 1.5 }))).toEqual(["clip"]);
    expect(fieldOf(() => policyGradientLoss({ logp: [0, 1], advantages: [Infinity, 1] }))).toEqual(["advantages.0"]);
    expect(fieldOf(() => reinforceAdvantages([1], { baseline: Number.NaN }))).toEqual(["baseline"]);
    expect(fieldOf(() => reinforcePlusPlusAdvantages([1, 2, 3], { groupSize: 2 }))).toEqual(["groupSize"]);
  });
});

describe("checkGradient", () => {
  it("catches a wrong gradient", () => {
    const f = (x: number[]) => x[0]! ** 3 + Math.sin(x[1]!);
    const x = [1.3, -0.4];
    expect(checkGradient(f, [3 * 1.3 ** 2, Math.cos(-0.4)], x).maxRelError).toBeLessThan(1e-7);
    expect(checkGradient(f, [3 * 1.3 ** 2, -Math.cos(-0.4)], x).maxRelError).toBeGreaterThan(1);
  });
});
