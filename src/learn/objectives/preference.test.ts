import { describe, expect, it } from "vitest";
import { ValidationError } from "../../errors.js";
import { createRng } from "../../eval/index.js";
import { checkGradient, dpoLoss, ipoLoss, lipoLambdaLoss, orpoLoss, simpoLoss, type PairBatch, type PairLoss } from "./index.js";

/** Asserts the analytic gradient matches central finite differences within a mixed abs/rel tolerance. */
function expectGradient(f: (x: number[]) => number, analytic: ArrayLike<number>, x: ArrayLike<number>): void {
  const { numeric } = checkGradient(f, analytic, x);
  for (let i = 0; i < numeric.length; i++) {
    const tol = 1e-7 + 1e-5 * Math.abs(numeric[i]!);
    if (!(Math.abs(analytic[i]! - numeric[i]!) <= tol)) {
      throw new Error(`gradient ${i}: analytic ${analytic[i]} vs numeric ${numeric[i]} at x=${JSON.stringify(Array.from(x))}`);
    }
  }
}

/** Checks dChosen/dRejected of a pair loss against finite differences over (chosen, rejected). */
function checkPairGradient(loss: (b: PairBatch) => PairLoss, b: PairBatch): void {
  const n = b.chosen.length;
  const out = loss(b);
  expect(Number.isFinite(out.loss)).toBe(true);
  const f = (x: number[]) => loss({ ...b, chosen: x.slice(0, n), rejected: x.slice(n) }).loss;
  expectGradient(f, [...out.dChosen, ...out.dRejected], [...Array.from(b.chosen), ...Array.from(b.rejected)]);
}

function randomBatch(seed: number, n: number, scale: number): Required<PairBatch> {
  const rng = createRng(seed);
  const draw = () => Array.from({ length: n }, () => -Math.abs(rng.normal() * scale) - 0.1);
  return {
    chosen: draw(),
    rejected: draw(),
    refChosen: draw(),
    refRejected: draw(),
    chosenLength: Array.from({ length: n }, () => 1 + rng.int(40)),
    rejectedLength: Array.from({ length: n }, () => 1 + rng.int(40)),
  };
}

/** Pairs whose log-ratio margins are about +-1e3 (both signs), to exercise the saturated regions. */
function extremeBatch(): Required<PairBatch> {
  return {
    chosen: [-1, -1200, -3, -1000.5],
    rejected: [-1001, -2, -2.5, -1],
    refChosen: [-2, -1, -1, -2],
    refRejected: [-1, -2, -1000, -1],
    chosenLength: [1, 1, 1, 1],
    rejectedLength: [1, 1, 1, 1],
  };
}

const log2 = Math.log(2);

describe("dpoLoss", () => {
  it("is log 2 with gradient -beta/2 per pair when the two log-ratios are equal", () => {
    const out = dpoLoss({ chosen: [-5, -7], rejected: [-6, -9], refChosen: [-4, -3], refRejected: [-5, -5] }, { beta: 0.3 });
    expect(out.loss).toBeCloseTo(log2, 12);
    for (const d of out.dChosen) expect(d).toBeCloseTo(-0.3 / 2 / 2, 12);
    for (const d of out.dRejected) expect(d).toBeCloseTo(0.3 / 2 / 2, 12);
    expect(out.margin).toEqual([0, 0]);
  });

  it("equals -log sigma(beta * D) and reports beta * D as the margin", () => {
    const out = dpoLoss({ chosen: [-3], rejected: [-8], refChosen: [-4], refRejected: [-6] }, { beta: 0.5 });
    const z = 0.5 * (-3 + 4 - (-8 + 6));
    expect(out.margin[0]).toBeCloseTo(z, 12);
    expect(out.loss).toBeCloseTo(-Math.log(1 / (1 + Math.exp(-z))), 12);
  });

  it("matches finite differences at random points and at margins near +-1e3", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const b = randomBatch(seed, 5, 20);
      checkPairGradient((x) => dpoLoss(x, { beta: 0.1 + (seed % 5) * 0.4 }), b);
      checkPairGradient((x) => dpoLoss(x, { beta: 0.2, labelSmoothing: 0.1 }), b);
    }
    checkPairGradient((x) => dpoLoss(x, { beta: 1 }), extremeBatch());
    checkPairGradient((x) => dpoLoss(x, { beta: 1, labelSmoothing: 0.25 }), extremeBatch());
    const big = dpoLoss(extremeBatch(), { beta: 1 });
    expect(Number.isFinite(big.loss)).toBe(true);
    // Pair 0 has margin +1001 (no gradient left); pair 1 has margin -1199, where the gradient saturates at -beta / n.
    expect(big.margin[0]).toBeCloseTo(1001, 9);
    expect(big.dChosen[0]).toBeCloseTo(0, 12);
    expect(big.margin[1]).toBeCloseTo(-1199, 9);
    expect(big.dChosen[1]).toBeCloseTo(-1 / 4, 12);
    expect(big.loss).toBeGreaterThan(1199 / 4);
  });
});

describe("conservative DPO (labelSmoothing)", () => {
  it("with smoothing 0 equals DPO exactly", () => {
    const b = randomBatch(7, 6, 5);
    expect(dpoLoss(b, { beta: 0.4, labelSmoothing: 0 })).toEqual(dpoLoss(b, { beta: 0.4 }));
  });

  it("stops pushing at margin log((1-eps)/eps) instead of growing it forever", () => {
    const eps = 0.1;
    const beta = 0.5;
    const target = Math.log((1 - eps) / eps) / beta; // D where the smoothed loss is minimal
    const at = dpoLoss({ chosen: [target], rejected: [0], refChosen: [0], refRejected: [0] }, { beta, labelSmoothing: eps });
    expect(at.dChosen[0]).toBeCloseTo(0, 12);
    const past = dpoLoss({ chosen: [target + 1], rejected: [0], refChosen: [0], refRejected: [0] }, { beta, labelSmoothing: eps });
    expect(past.dChosen[0]).toBeGreaterThan(0); // gradient descent now lowers the chosen log-prob
    const plain = dpoLoss({ chosen: [target + 1], rejected: [0], refChosen: [0], refRejected: [0] }, { beta });
    expect(plain.dChosen[0]).toBeLessThan(0);
  });

  it("is still log 2 at equal margins", () => {
    const out = dpoLoss({ chosen: [-2], rejected: [-3], refChosen: [-2], refRejected: [-3] }, { beta: 1, labelSmoothing: 0.3 });
    expect(out.loss).toBeCloseTo(log2, 12);
  });
});

describe("ipoLoss", () => {
  it("is zero with zero gradient at D = 1/(2 beta), margin beta * D = 1/2, and 1/(4 beta^2) at D = 0", () => {
    const beta = 0.25;
    const at = ipoLoss({ chosen: [1 / (2 * beta) - 4], rejected: [-3], refChosen: [-4], refRejected: [-3] }, { beta });
    expect(at.loss).toBeCloseTo(0, 12);
    expect(at.dChosen[0]).toBeCloseTo(0, 12);
    expect(at.margin[0]).toBeCloseTo(0.5, 12);
    const zero = ipoLoss({ chosen: [-4], rejected: [-3], refChosen: [-4], refRejected: [-3] }, { beta });
    expect(zero.loss).toBeCloseTo(1 / (4 * beta * beta), 12);
    // Past the target the gradient pushes D back down (IPO does not grow margins without bound).
    const past = ipoLoss({ chosen: [10], rejected: [-3], refChosen: [-4], refRejected: [-3] }, { beta });
    expect(past.dChosen[0]).toBeGreaterThan(0);
  });

  it("normalises per token when asked (TRL's convention) and then needs lengths", () => {
    const b = { chosen: [-10], rejected: [-30], refChosen: [-12], refRejected: [-20], chosenLength: [4], rejectedLength: [5] };
    const out = ipoLoss(b, { beta: 0.5, lengthNormalize: true });
    const d = (-10 + 12) / 4 - (-30 + 20) / 5;
    expect(out.loss).toBeCloseTo((d - 1) ** 2, 12);
    expect(() => ipoLoss({ ...b, rejectedLength: undefined }, { beta: 0.5, lengthNormalize: true })).toThrow(/rejectedLength/);
  });

  it("matches finite differences, sequence-level and per-token, including extreme margins", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const b = randomBatch(100 + seed, 4, 30);
      checkPairGradient((x) => ipoLoss(x, { beta: 0.1 * seed }), b);
      checkPairGradient((x) => ipoLoss(x, { beta: 0.3, lengthNormalize: true }), b);
    }
    checkPairGradient((x) => ipoLoss(x, { beta: 0.1 }), extremeBatch());
  });
});

describe("simpoLoss", () => {
  it("with lengths 1 and gamma 0 is the logistic loss on beta * (chosen - rejected), i.e. DPO without a reference", () => {
    const b = randomBatch(3, 5, 4);
    const ones = { chosenLength: [1, 1, 1, 1, 1], rejectedLength: [1, 1, 1, 1, 1] };
    const simpo = simpoLoss({ chosen: b.chosen, rejected: b.rejected, ...ones }, { beta: 0.7, gamma: 0 });
    const dpo = dpoLoss({ chosen: b.chosen, rejected: b.rejected, refChosen: [0, 0, 0, 0, 0], refRejected: [0, 0, 0, 0, 0] }, { beta: 0.7 });
    expect(simpo.loss).toBeCloseTo(dpo.loss, 12);
    simpo.dChosen.forEach((d, i) => expect(d).toBeCloseTo(dpo.dChosen[i]!, 12));
    simpo.margin.forEach((m, i) => expect(m).toBeCloseTo(dpo.margin[i]!, 12));
  });

  it("uses per-token log-probs and subtracts the target margin gamma", () => {
    const out = simpoLoss({ chosen: [-12], rejected: [-40], chosenLength: [6], rejectedLength: [10] }, { beta: 2, gamma: 1.5 });
    const z = 2 * (-12 / 6 - -40 / 10) - 1.5;
    expect(out.loss).toBeCloseTo(Math.log1p(Math.exp(-z)), 12);
    expect(out.margin[0]).toBeCloseTo(z + 1.5, 12);
  });

  it("ignores reference log-probs", () => {
    const b = randomBatch(9, 3, 5);
    const a = simpoLoss(b, { beta: 1, gamma: 0.5 });
    const c = simpoLoss({ ...b, refChosen: [0, 0, 0], refRejected: [9, 9, 9] }, { beta: 1, gamma: 0.5 });
    expect(a).toEqual(c);
  });

  it("matches finite differences, with and without smoothing, including extreme margins", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const b = randomBatch(200 + seed, 5, 40);
      checkPairGradient((x) => simpoLoss(x, { beta: 2, gamma: 0.5 * (seed % 3) }), b);
      checkPairGradient((x) => simpoLoss(x, { beta: 2.5, gamma: 1, labelSmoothing: 0.2 }), b);
    }
    checkPairGradient((x) => simpoLoss(x, { beta: 1, gamma: 0.3 }), extremeBatch());
  });
});

describe("orpoLoss", () => {
  const naive = (c: number, r: number, lc: number, lr: number, lambda: number) => {
    const pw = Math.exp(c / lc);
    const pl = Math.exp(r / lr);
    const lor = Math.log(pw / (1 - pw)) - Math.log(pl / (1 - pl));
    return { loss: -c / lc - lambda * Math.log(1 / (1 + Math.exp(-lor))), lor };
  };

  it("equals the per-token NLL of the chosen plus lambda * -log sigma(log odds ratio)", () => {
    const out = orpoLoss({ chosen: [-3, -20], rejected: [-9, -12], chosenLength: [5, 8], rejectedLength: [6, 4] }, { lambda: 0.1 });
    const a = naive(-3, -9, 5, 6, 0.1);
    const b = naive(-20, -12, 8, 4, 0.1);
    expect(out.loss).toBeCloseTo((a.loss + b.loss) / 2, 12);
    expect(out.margin[0]).toBeCloseTo(a.lor, 12);
    expect(out.margin[1]).toBeCloseTo(b.lor, 12);
  });

  it("with lambda 0 is the per-token NLL of the chosen, leaving the rejected alone", () => {
    const out = orpoLoss({ chosen: [-3], rejected: [-9], chosenLength: [5], rejectedLength: [6] }, { lambda: 0 });
    expect(out.loss).toBeCloseTo(3 / 5, 12);
    expect(out.dChosen[0]).toBeCloseTo(-1 / 5, 12);
    expect(out.dRejected[0]).toBe(0);
  });

  it("matches finite differences, including log odds ratios near +-1e3 and per-token log-probs near 0", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const b = randomBatch(300 + seed, 5, 10);
      checkPairGradient((x) => orpoLoss(x, { lambda: 0.05 * seed }), b);
    }
    const extreme = {
      chosen: [-0.01, -1000, -0.5, -2000],
      rejected: [-1000, -0.02, -0.5, -1],
      chosenLength: [1, 1, 3, 2],
      rejectedLength: [1, 1, 1, 5],
    };
    const out = orpoLoss(extreme, { lambda: 1 });
    expect(Number.isFinite(out.loss)).toBe(true);
    expect(Math.abs(out.margin[0]!)).toBeGreaterThan(990);
    checkPairGradient((x) => orpoLoss(x, { lambda: 1 }), extreme);
  });

  it("rejects a per-token log-prob of 0 (odds would be infinite), naming the field", () => {
    expect(() => orpoLoss({ chosen: [0], rejected: [-1], chosenLength: [1], rejectedLength: [1] }, { lambda: 0.1 })).toThrow(/chosen\.0/);
  });
});

describe("lipoLambdaLoss", () => {
  it("on a two-item list is DPO weighted by |G1 - G2| * (1 - 1/log2 3)", () => {
    const group = { logp: [-3, -5], refLogp: [-4, -4], labels: [1, 0] };
    const out = lipoLambdaLoss([group], { beta: 0.5 });
    const dpo = dpoLoss({ chosen: [-3], rejected: [-5], refChosen: [-4], refRejected: [-4] }, { beta: 0.5 });
    const w = (2 ** 1 - 1 - 0) * (1 - 1 / Math.log2(3));
    expect(out.loss).toBeCloseTo(w * dpo.loss, 12);
    expect(out.dLogp[0]![0]).toBeCloseTo(w * dpo.dChosen[0]!, 12);
    expect(out.dLogp[0]![1]).toBeCloseTo(w * dpo.dRejected[0]!, 12);
  });

  it("sums the lambda-weighted pairs of a list exactly as the formula says", () => {
    const beta = 0.8;
    const logp = [-2, -1, -4];
    const labels = [2, 0, 1];
    const s = logp.map((v) => beta * v);
    // Ranks by score: item 1 (s=-0.8) first, item 0 second, item 2 third.
    const inv = [1 / Math.log2(3), 1, 1 / Math.log2(4)];
    const G = labels.map((l) => 2 ** l - 1);
    let expected = 0;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        if (labels[i]! > labels[j]!) {
          const w = Math.abs(G[i]! - G[j]!) * Math.abs(inv[i]! - inv[j]!);
          expected += w * Math.log1p(Math.exp(-(s[i]! - s[j]!)));
        }
      }
    }
    expect(lipoLambdaLoss([{ logp, labels }], { beta }).loss).toBeCloseTo(expected, 12);
    // Ranking by labels instead gives other weights (ranks 0,2,1) and so another value.
    const byLabels = lipoLambdaLoss([{ logp, labels }], { beta, rankBy: "labels" }).loss;
    expect(Math.abs(byLabels - expected)).toBeGreaterThan(1e-3);
  });

  it("gives no loss or gradient to a list whose labels are all equal, and averages over lists", () => {
    const tied = { logp: [-1, -2, -3], labels: [1, 1, 1] };
    const real = { logp: [-3, -5], refLogp: [-4, -4], labels: [1, 0] };
    const both = lipoLambdaLoss([tied, real], { beta: 0.5 });
    const one = lipoLambdaLoss([real], { beta: 0.5 });
    expect(both.loss).toBeCloseTo(one.loss / 2, 12);
    expect(both.dLogp[0]).toEqual([0, 0, 0]);
    expect(both.dLogp[1]![0]).toBeCloseTo(one.dLogp[0]![0]! / 2, 12);
  });

  it("matches finite differences on random lists (ties in labels included) and extreme scores", () => {
    const rng = createRng(42);
    for (let t = 0; t < 20; t++) {
      const groups = Array.from({ length: 1 + rng.int(3) }, () => {
        const k = 2 + rng.int(5);
        return {
          logp: Array.from({ length: k }, () => -Math.abs(rng.normal() * 10)),
          refLogp: Array.from({ length: k }, () => -Math.abs(rng.normal() * 10)),
          labels: Array.from({ length: k }, () => rng.int(4)),
        };
      });
      for (const rankBy of ["scores", "labels"] as const) {
        const out = lipoLambdaLoss(groups, { beta: 0.5, rankBy });
        const sizes = groups.map((g) => g.logp.length);
        const f = (x: number[]) => {
          let at = 0;
          const gs = groups.map((g, k) => ({ ...g, logp: x.slice(at, (at += sizes[k]!)) }));
          return lipoLambdaLoss(gs, { beta: 0.5, rankBy }).loss;
        };
        expectGradient(f, out.dLogp.flat(), groups.flatMap((g) => g.logp));
      }
    }
    const extreme = [{ logp: [-1, -1500, -700, -3], labels: [0, 3, 1, 2] }];
    const out = lipoLambdaLoss(extreme, { beta: 1 });
    expect(Number.isFinite(out.loss)).toBe(true);
    expectGradient((x) => lipoLambdaLoss([{ ...extreme[0]!, logp: x }], { beta: 1 }).loss, out.dLogp[0]!, extreme[0]!.logp);
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

  it("names mismatched, missing and non-finite fields", () => {
    expect(fieldOf(() => dpoLoss({ chosen: [-1, -2], rejected: [-1], refChosen: [0, 0], refRejected: [0, 0] }, { beta: 1 }))).toEqual(["rejected"]);
    expect(fieldOf(() => dpoLoss({ chosen: [-1], rejected: [-1], refRejected: [0] }, { beta: 1 }))).toEqual(["refChosen"]);
    expect(fieldOf(() => dpoLoss({ chosen: [-1, Number.NaN], rejected: [-1, -2], refChosen: [0, 0], refRejected: [0, Infinity] }, { beta: 1 }))).toEqual([
      "chosen.1",
      "refRejected.1",
    ]);
    expect(fieldOf(() => dpoLoss({ chosen: [], rejected: [], refChosen: [], refRejected: [] }, { beta: 1 }))).toEqual(["chosen"]);
    expect(fieldOf(() => simpoLoss({ chosen: [-1], rejected: [-1] }, { beta: 1, gamma: 0 }))).toEqual(["chosenLength", "rejectedLength"]);
    expect(fieldOf(() => orpoLoss({ chosen: [-1], rejected: [-1], chosenLength: [0], rejectedLength: [2] }, { lambda: 1 }))).toEqual(["chosenLength.0"]);
    expect(fieldOf(() => lipoLambdaLoss([{ logp: [-1, -2], labels: [1] }], { beta: 1 }))).toEqual(["groups.0.labels"]);
    expect(fieldOf(() => lipoLambdaLoss([], { beta: 1 }))).toEqual(["groups"]);
  });

  it("names bad options", () => {
    const b = { chosen: [-1], rejected: [-2], refChosen: [0], refRejected: [0] };
    expect(fieldOf(() => dpoLoss(b, { beta: 0 }))).toEqual(["beta"]);
    expect(fieldOf(() => dpoLoss(b, { beta: 1, labelSmoothing: 0.5 }))).toEqual(["labelSmoothing"]);
    expect(fieldOf(() => ipoLoss(b, { beta: Number.NaN }))).toEqual(["beta"]);
    expect(fieldOf(() => orpoLoss({ ...b, chosenLength: [1], rejectedLength: [1] }, { lambda: -1 }))).toEqual(["lambda"]);
  });
});
