import { describe, expect, it } from "vitest";
import { cohenKappa, fleissKappa, krippendorffAlpha, matchSpans, ratingsToCounts, wordSimilarity } from "./agreement.js";

describe("cohenKappa", () => {
  it("matches the textbook 2x2 example (kappa = 0.4)", () => {
    // 50 items, two raters, Yes/No (Wikipedia "Cohen's kappa", worked example):
    //              B yes  B no
    //   A yes        20     5
    //   A no         10    15
    // p_o = (20 + 15) / 50 = 0.70
    // A says yes 25/50 = 0.5, B says yes 30/50 = 0.6
    // p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.50
    // kappa = (0.70 - 0.50) / (1 - 0.50) = 0.40
    const a: string[] = [];
    const b: string[] = [];
    const add = (x: string, y: string, n: number) => {
      for (let i = 0; i < n; i++) {
        a.push(x);
        b.push(y);
      }
    };
    add("yes", "yes", 20);
    add("yes", "no", 5);
    add("no", "yes", 10);
    add("no", "no", 15);
    expect(cohenKappa(a, b)).toBeCloseTo(0.4, 12);
  });

  it("is 1 for perfect agreement, skips missing pairs, NaN when undefined", () => {
    expect(cohenKappa([1, 2, 3, 1], [1, 2, 3, 1])).toBe(1);
    // the missing pair is ignored, leaving perfect agreement
    expect(cohenKappa([1, 2, null, 1], [1, 2, 3, 1])).toBe(1);
    expect(Number.isNaN(cohenKappa(["a", "a"], ["a", "a"]))).toBe(true);
    // labels of different types are distinct categories
    expect(cohenKappa([1, 2], ["1", "2"])).toBeLessThan(1);
  });

  it("is negative for systematic disagreement", () => {
    // p_o = 0, p_e = 0.5 -> kappa = -1
    expect(cohenKappa([0, 1, 0, 1], [1, 0, 1, 0])).toBeCloseTo(-1, 12);
  });
});

describe("fleissKappa", () => {
  it("matches Fleiss (1971) / Wikipedia worked example (kappa = 0.210)", () => {
    // 10 subjects, 14 raters, 5 categories. Hand computation:
    // category totals 20, 28, 39, 21, 32 of 140 -> p = .143 .200 .279 .150 .229, P_e = sum p^2 = 0.2128
    // per-subject P_i = (sum n_ij^2 - 14) / (14*13): 1.000 .253 .308 .440 .330 .462 .242 .176 .286 .286
    // P_bar = 0.3780 ; kappa = (0.3780 - 0.2128) / (1 - 0.2128) = 0.2099
    const counts = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    const k = fleissKappa(counts);
    expect(k).toBeCloseTo(0.2099, 3);
    expect(k.toFixed(3)).toBe("0.210");
  });

  it("equals 1 for unanimous items and accepts rating lists", () => {
    const { counts } = ratingsToCounts([
      ["a", "a", "a"],
      ["b", "b", "b"],
      ["c", "c", "c"],
    ]);
    expect(fleissKappa(counts)).toBe(1);
    expect(() => fleissKappa([[1, 1], [2, 1]])).toThrow();
  });
});

describe("krippendorffAlpha", () => {
  // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units,
  // missing values, values 1..5. Published: nominal alpha = 0.743, interval alpha = 0.849.
  // Hand check. Unit 12 has a single value and is dropped; n = sum of m_u = 40 pairable values.
  // Coincidences (each ordered pair within a unit weighs 1/(m_u - 1)):
  //   diagonal o11 = 3 (u1) + 2 (u8) + 2 (u11) = 7, o22 = 2 (u2) + 4 (u5) + 4 (u9) = 10, o33 = 4 + 4 = 8,
  //   o44 = 4, o55 = 3 (u10): sum 32.
  //   off-diagonal: o12 = 1/3 (u6) + 1 (u8) = 4/3, o23 = 1 (u2) + 1/3 (u6) = 4/3, o13 = o14 = o24 = o34 = 1/3 (u6).
  //   marginals n_c = 9, 13, 10, 5, 3; sum n_c^2 = 384.
  // Nominal: alpha = 1 - (n-1) * (n - sum o_cc) / (n^2 - sum n_c^2) = 1 - 39*8/1216 = 1 - 312/1216 = 0.7434.
  // Interval: sum o_ck (c-k)^2 = 2 * (4/3 + 4/3 + 9/3 + 4/3 + 4/3 + 1/3) = 52/3;
  //   sum n_c n_k (c-k)^2 = 2 * (117+360+405+432+130+260+351+50+120+15) = 4480;
  //   alpha = 1 - 39 * (52/3) / 4480 = 1 - 676/4480 = 0.8491.
  const data = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
    [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
  ];

  it("nominal = 0.743", () => {
    expect(krippendorffAlpha(data, "nominal")).toBeCloseTo(1 - 312 / 1216, 12);
    expect(krippendorffAlpha(data, "nominal").toFixed(3)).toBe("0.743");
  });

  it("interval = 0.849", () => {
    expect(krippendorffAlpha(data, "interval")).toBeCloseTo(1 - 676 / 4480, 12);
    expect(krippendorffAlpha(data, "interval").toFixed(3)).toBe("0.849");
  });

  it("is 1 for perfect agreement and NaN without variation", () => {
    expect(krippendorffAlpha([[1, 2, 3], [1, 2, 3]], "interval")).toBe(1);
    expect(Number.isNaN(krippendorffAlpha([[1, 1], [1, 1]]))).toBe(true);
    expect(() => krippendorffAlpha([["a"], ["b"]], "interval")).toThrow();
  });
});

describe("span agreement (pairwise F1 of labelled spans)", () => {
  const s = (start: number, end: number, label = "error") => ({ start, end, label });
  it("matches spans one to one on the same label and any overlap", () => {
    // a: [0,5) error, [10,20) error, [30,40) style; b: [3,8) error (overlaps a's first), [12,14) style (label differs), [50,60) error.
    expect(matchSpans([s(0, 5), s(10, 20), s(30, 40, "style")], [s(3, 8), s(12, 14, "style"), s(50, 60)])).toEqual({ matched: 1, total: 6 });
    // Identical spans match fully; touching ends do not overlap (end is exclusive).
    expect(matchSpans([s(0, 5), s(5, 9)], [s(0, 5), s(5, 9)])).toEqual({ matched: 2, total: 4 });
    expect(matchSpans([s(0, 5)], [s(5, 9)])).toEqual({ matched: 0, total: 2 });
    // One long span against two short ones: only one of them is matched (one to one).
    expect(matchSpans([s(0, 20)], [s(0, 4), s(10, 18)])).toEqual({ matched: 1, total: 3 });
    // The long one takes the partner it overlaps most, leaving the other for the next span.
    expect(matchSpans([s(0, 20), s(2, 3)], [s(2, 4), s(5, 18)])).toEqual({ matched: 2, total: 4 });
    expect(matchSpans([], [])).toEqual({ matched: 0, total: 0 });
  });
});

describe("word similarity of edits", () => {
  it("is 2 * LCS / words, by hand", () => {
    expect(wordSimilarity("The capital is Canberra.", "The capital is Canberra.")).toBe(1);
    // LCS of [the, capital, is, Canberra.] and [the, capital, city, is, Canberra.] = 4: 8 / 9.
    expect(wordSimilarity("the capital is Canberra.", "the capital city is  Canberra.")).toBeCloseTo(8 / 9, 12);
    // No word in common.
    expect(wordSimilarity("a b", "c d e")).toBe(0);
    // Order matters: LCS of [a, b, c] and [c, b, a] is 1: 2 / 6.
    expect(wordSimilarity("a b c", "c b a")).toBeCloseTo(1 / 3, 12);
    expect(wordSimilarity("", "  ")).toBe(1);
    expect(wordSimilarity("", "x")).toBe(0);
  });
});
