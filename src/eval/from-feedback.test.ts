import { describe, expect, it } from "vitest";
import { parseFeedback, type Feedback } from "../feedback/index.js";
import { createRng } from "./random.js";
import { bradleyTerryLeaderboard, noComparisonsReason, pairwiseToBradleyTerry, toPairwise } from "./from-feedback.js";

const judge = { type: "judge", id: "j" };

/** Three policies answer 60 items; a simulated judge prefers by true strength A > B > C. */
function synthetic(seed: number) {
  const strength: Record<string, number> = { A: 1.0, B: 0.0, C: -1.0 };
  const rng = createRng(seed);
  const generations = new Map<string, { policy: string; itemId: string }>();
  const feedback: Feedback[] = [];
  const pols = Object.keys(strength);
  for (let i = 0; i < 60; i++) {
    for (const p of pols) generations.set(`${i}/${p}`, { policy: p, itemId: `${i}` });
    for (let x = 0; x < pols.length; x++) {
      for (let y = x + 1; y < pols.length; y++) {
        const a = pols[x]!;
        const b = pols[y]!;
        const pB = 1 / (1 + Math.exp(strength[a]! - strength[b]!));
        const second = rng.next() < pB;
        feedback.push(parseFeedback({ id: `${i}:${a}${b}`, kind: "pairwise", targets: [`${i}/${a}`, `${i}/${b}`], source: judge, value: { choice: second ? "second" : "first" } }));
      }
    }
  }
  return { generations, feedback };
}

describe("Bradley-Terry from feedback", () => {
  it("ranks policies in their true order with intervals around the estimate", () => {
    const { generations, feedback } = synthetic(3);
    const rows = bradleyTerryLeaderboard(feedback, generations, { rounds: 100, seed: 1 });
    expect(rows.map((r) => r.model)).toEqual(["A", "B", "C"]);
    for (const r of rows) {
      expect(r.lower).toBeLessThanOrEqual(r.rating);
      expect(r.upper).toBeGreaterThanOrEqual(r.rating);
      expect(r.n_comparisons).toBe(120);
    }
    // seeded: the same seed gives the same intervals, another seed different ones
    expect(bradleyTerryLeaderboard(feedback, generations, { rounds: 100, seed: 1 })).toEqual(rows);
    expect(bradleyTerryLeaderboard(feedback, generations, { rounds: 100, seed: 2 })[0]!.lower).not.toBe(rows[0]!.lower);
  });

  it("uses rankings and ratings through their pairwise conversions", () => {
    const gens = new Map([
      ["g1", { policy: "A", itemId: "i" }],
      ["g2", { policy: "B", itemId: "i" }],
      ["g3", { policy: "C", itemId: "i" }],
    ]);
    const fs = [
      parseFeedback({ id: "r", kind: "ranking", targets: ["g1", "g2", "g3"], source: judge, value: { ranks: [1, 2, 3] } }),
      parseFeedback({ id: "s1", kind: "rating", targets: ["g1"], source: judge, value: { score: 9, scale: { min: 0, max: 10 } } }),
      parseFeedback({ id: "s3", kind: "rating", targets: ["g3"], source: judge, value: { score: 2, scale: { min: 0, max: 10 } } }),
      parseFeedback({ id: "c", kind: "critique", targets: ["g3"], source: judge, value: { text: "meh" } }),
    ];
    const pairs = toPairwise(fs, (g) => gens.get(g)?.itemId);
    expect(pairs).toHaveLength(4); // 3 from the ranking, 1 from the two ratings, none from the critique
    const bt = pairwiseToBradleyTerry(pairs, { playerOf: (g) => gens.get(g)?.policy });
    expect(bt.scores.get("A")!).toBeGreaterThan(bt.scores.get("B")!);
    expect(bt.scores.get("B")!).toBeGreaterThan(bt.scores.get("C")!);
  });
});

describe("why feedback ranks no policies", () => {
  const pair = (id: string, a: string, b: string) => parseFeedback({ id, kind: "pairwise", targets: [a, b], source: judge, value: { choice: "first" } });
  it("names unnamed policies as the cause (and how to name them), not a lack of feedback", () => {
    const generations = new Map([
      ["c", { policy: "unknown", itemId: "i" }],
      ["r", { policy: "unknown", itemId: "i" }],
    ]);
    const feedback = [pair("f1", "c", "r"), pair("f2", "r", "c")];
    expect(bradleyTerryLeaderboard(feedback, generations, { rounds: 5 })).toEqual([]);
    const why = noComparisonsReason(feedback, generations);
    expect(why).toMatch(/^all 2 comparison\(s\) are between generations whose policy is "unknown"/);
    expect(why).toContain("rlxf import --policy NAME");
    expect(why).not.toMatch(/no comparative feedback/);
  });

  it("names one shared policy, a lack of comparisons, and no feedback at all apart", () => {
    const same = new Map([
      ["a", { policy: "m", itemId: "i" }],
      ["b", { policy: "m", itemId: "i" }],
    ]);
    expect(noComparisonsReason([pair("f", "a", "b")], same)).toMatch(/between two outputs of the same policy \("m"\)/);
    const lone = parseFeedback({ id: "r", kind: "rating", targets: ["a"], source: judge, value: { score: 4, scale: { min: 1, max: 5 } } });
    expect(noComparisonsReason([lone], same)).toMatch(/none of the 1 feedback record\(s\) compares two generations/);
    expect(noComparisonsReason([], same)).toMatch(/no comparative feedback/);
  });
});
