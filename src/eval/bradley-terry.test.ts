import { describe, expect, it } from "vitest";
import {
  type PairwiseComparison,
  bradleyTerry,
  bradleyTerryBootstrap,
  bradleyTerryWinProbability,
  toElo,
} from "./bradley-terry.js";
import { createRng } from "./random.js";
import { sigmoid, spearman } from "./stats.js";

const TRUTH: Record<string, number> = { a: -1.2, b: -0.4, c: 0, d: 0.5, e: 1.1 };

function simulate(seed: number, nPerPair: number, tieRate = 0): PairwiseComparison[] {
  const rng = createRng(seed);
  const names = Object.keys(TRUTH);
  const out: PairwiseComparison[] = [];
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++)
      for (let k = 0; k < nPerPair; k++) {
        const [a, b] = k % 2 === 0 ? [names[i]!, names[j]!] : [names[j]!, names[i]!];
        if (rng.bernoulli(tieRate)) out.push({ a, b, pB: 0.5 });
        else out.push({ a, b, pB: rng.bernoulli(sigmoid(TRUTH[b]! - TRUTH[a]!)) ? 1 : 0 });
      }
  return out;
}

describe("bradleyTerry", () => {
  it("recovers known strengths (rank order and values)", () => {
    const fit = bradleyTerry(simulate(1, 400));
    expect(fit.converged).toBe(true);
    const names = Object.keys(TRUTH);
    const est = names.map((n) => fit.scores.get(n)!);
    expect(spearman(est, names.map((n) => TRUTH[n]!))).toBe(1);
    // truth is centred (sum = 0), as are the estimates
    expect(Math.abs(est.reduce((s, x) => s + x, 0))).toBeLessThan(1e-9);
    names.forEach((n) => expect(Math.abs(fit.scores.get(n)! - TRUTH[n]!)).toBeLessThan(0.12));
  });

  it("handles ties as half wins and soft outcomes", () => {
    // a and b tie every time -> equal strengths
    const ties = bradleyTerry([
      { a: "a", b: "b", pB: 0.5 },
      { a: "b", b: "a", pB: 0.5, weight: 3 },
    ]);
    expect(ties.scores.get("a")).toBeCloseTo(0, 8);
    expect(ties.scores.get("b")).toBeCloseTo(0, 8);
    // b wins 3/4 of the (soft) mass: MLE gives s_b - s_a = logit(0.75) (tiny prior aside)
    const soft = bradleyTerry([{ a: "a", b: "b", pB: 0.75, weight: 10 }]);
    expect(soft.scores.get("b")! - soft.scores.get("a")!).toBeCloseTo(Math.log(3), 3);
    expect(bradleyTerryWinProbability(soft, "a", "b")).toBeCloseTo(0.75, 3);
    // random ties do not bias the ranking
    const fit = bradleyTerry(simulate(2, 400, 0.3));
    const names = Object.keys(TRUTH);
    expect(spearman(names.map((n) => fit.scores.get(n)!), names.map((n) => TRUTH[n]!))).toBe(1);
  });

  it("keeps undefeated and disconnected players finite", () => {
    const fit = bradleyTerry([
      { a: "x", b: "champ", pB: 1 },
      { a: "y", b: "champ", pB: 1 },
      { a: "x", b: "y", pB: 0.5 },
      { a: "p", b: "q", pB: 1 }, // separate component
    ]);
    for (const v of fit.scores.values()) expect(Number.isFinite(v)).toBe(true);
    expect(fit.scores.get("champ")!).toBeGreaterThan(fit.scores.get("x")!);
    expect(fit.scores.get("q")!).toBeGreaterThan(fit.scores.get("p")!);
  });

  it("offers an Elo-like scale (1000 + 400/ln 10 * s)", () => {
    const cmp = simulate(3, 50);
    const log = bradleyTerry(cmp);
    const elo = bradleyTerry(cmp, { scale: "elo" });
    for (const n of log.players) {
      expect(elo.scores.get(n)).toBeCloseTo(1000 + (400 / Math.LN10) * log.scores.get(n)!, 9);
      expect(elo.scores.get(n)).toBeCloseTo(toElo(log.logStrength.get(n)!), 9);
    }
  });
});

describe("bradleyTerryBootstrap", () => {
  it("is deterministic for a seed and its intervals cover the truth", () => {
    // One fixed data set (a 95% interval can miss by chance; the next test checks the coverage rate).
    const cmp = simulate(6, 120);
    const a = bradleyTerryBootstrap(cmp, { rounds: 200, seed: 11, alpha: 0.05 });
    const b = bradleyTerryBootstrap(cmp, { rounds: 200, seed: 11, alpha: 0.05 });
    const c = bradleyTerryBootstrap(cmp, { rounds: 200, seed: 12, alpha: 0.05 });
    expect([...a.intervals.entries()]).toEqual([...b.intervals.entries()]);
    expect([...a.intervals.entries()]).not.toEqual([...c.intervals.entries()]);
    for (const [name, ci] of a.intervals) {
      expect(ci.lower).toBeLessThan(ci.estimate);
      expect(ci.upper).toBeGreaterThan(ci.estimate);
      expect(ci.lower).toBeLessThanOrEqual(TRUTH[name]!);
      expect(ci.upper).toBeGreaterThanOrEqual(TRUTH[name]!);
    }
    // narrower with a larger alpha
    const narrow = bradleyTerryBootstrap(cmp, { rounds: 200, seed: 11, alpha: 0.5 });
    for (const [name, ci] of narrow.intervals) {
      const wide = a.intervals.get(name)!;
      expect(ci.upper - ci.lower).toBeLessThan(wide.upper - wide.lower);
    }
  });

  it("covers the truth at roughly the nominal rate over repeated experiments", () => {
    let covered = 0;
    let total = 0;
    for (let rep = 0; rep < 20; rep++) {
      const res = bradleyTerryBootstrap(simulate(100 + rep, 40), { rounds: 100, seed: rep, alpha: 0.1 });
      for (const [name, ci] of res.intervals) {
        total++;
        if (ci.lower <= TRUTH[name]! && TRUTH[name]! <= ci.upper) covered++;
      }
    }
    // nominal 90%; allow Monte-Carlo slack
    expect(covered / total).toBeGreaterThan(0.8);
  });
});
