import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import type { AlpacaEvalAnnotation } from "./alpaca-eval.js";
import { bradleyTerryLeaderboard } from "./from-feedback.js";
import { instructionHash, shippedInstructionDifficulty } from "./instruction-difficulty.js";
import {
  alpacaEvalBoard,
  alpacaEvalBoardFromPairs,
  alpacaEvalModelName,
  defaultBaseline,
  orientToBaseline,
  resolveBaseline,
} from "./leaderboard.js";
import { createRng } from "./random.js";
import { sigmoid } from "./stats.js";

const pair = (g1: string, g2: string, preference: number | null, instruction = "q"): AlpacaEvalAnnotation => ({
  instruction,
  output_1: `${g1} says`,
  generator_1: g1,
  output_2: `${g2} says something`,
  generator_2: g2,
  preference,
});

/** Two models against a baseline on made-up instructions: the judge likes quality, length and easy instructions. */
function comparisons(seed: number, models: Array<{ name: string; quality: number; words: number }>, nInstr = 120): AlpacaEvalAnnotation[] {
  const rng = createRng(seed);
  const ease = Array.from({ length: nInstr }, () => rng.normal());
  const rows: AlpacaEvalAnnotation[] = [];
  for (const m of models) {
    for (let x = 0; x < nInstr; x++) {
      const baseLen = 20 + rng.int(60);
      const len = Math.max(1, Math.round(m.words * (0.5 + rng.next())));
      const p = sigmoid(m.quality + ease[x]! + 0.02 * (len - baseLen));
      rows.push({ instruction: `made-up question ${x}`, output_1: "b ".repeat(baseLen), generator_1: "base", output_2: "m ".repeat(len), generator_2: m.name, preference: 1 + Math.min(1, Math.max(0, p + 0.1 * (rng.next() - 0.5))) });
    }
  }
  return rows;
}

describe("the baseline of a set of comparisons", () => {
  it("is the policy every other is compared against, whichever position it was stored in", () => {
    const rows = [...Array.from({ length: 10 }, () => pair("A", "B", 1.2)), ...Array.from({ length: 10 }, () => pair("C", "B", 1.7))];
    expect(defaultBaseline(rows)).toBe("B");
    expect(resolveBaseline(rows)).toBe("B");
    // a tie (one model against its reference) goes to the one in the first position, not to name order
    expect(defaultBaseline([pair("zeta-ref", "alpha", 1.1), pair("zeta-ref", "alpha", 1.9)])).toBe("zeta-ref");
    expect(defaultBaseline([pair("x", "x", 1.5)])).toBeUndefined();
    expect(defaultBaseline([])).toBeUndefined();
  });

  it("faces every comparison towards it, mirroring preferences; draws and missing ones stay", () => {
    const rows = [pair("A", "B", 1.2), pair("B", "C", 1.25), pair("A", "C", 2), pair("B", "A", 0), pair("D", "B", null), pair("B", "B", 1.5)];
    const out = orientToBaseline(rows, "B");
    expect(out.map((r) => [r.generator_1, r.generator_2, r.preference])).toEqual([
      ["B", "A", 1.8],
      ["B", "C", 1.25],
      ["B", "A", 0],
      ["B", "D", null],
    ]);
    expect(out[0]!.output_1).toBe("B says something");
    expect(out[0]!.output_2).toBe("A says");
  });

  it("must take part in some comparison when named", () => {
    expect(() => resolveBaseline([pair("A", "B", 1.2)], "Z")).toThrow(ValidationError);
    try {
      resolveBaseline([pair("A", "B", 1.2)], "Z");
    } catch (e) {
      expect((e as ValidationError).issues[0]).toMatchObject({ path: "baseline", message: expect.stringContaining("A, B") });
    }
  });
});

describe("the model a file of annotations is about", () => {
  it("is the file's name, or its results directory for annotations.json; several generators keep their own", () => {
    const one = new Set(["example"]);
    expect(alpacaEvalModelName("/data/annotations/NullModel.json.gz", one)).toBe("NullModel");
    expect(alpacaEvalModelName("x/alpaca-7b.jsonl", one)).toBe("alpaca-7b");
    expect(alpacaEvalModelName("results/claude-2.1/weighted_alpaca_eval_gpt4_turbo/annotations.json", one)).toBe("claude-2.1");
    expect(alpacaEvalModelName("annotations.json", one)).toBeUndefined();
    expect(alpacaEvalModelName("/data/all.json", new Set(["a", "b"]))).toBeUndefined();
  });
});

describe("the length-controlled column", () => {
  const models = [
    { name: "good", quality: 0.5, words: 40 },
    { name: "verbose", quality: -1, words: 120 },
  ];

  it("estimates instruction difficulty from the annotations when they are not AlpacaEval's, and says it is from few models", () => {
    const board = alpacaEvalBoard(comparisons(1, models));
    expect(board.difficulty).toMatchObject({ kind: "estimated", models: 2, instructions: 120, covered: 120 });
    expect(board.warnings.some((w) => /estimated from only 2 models/.test(w))).toBe(true);
    for (const r of board.rows) {
      expect(r.length_controlled_winrate).not.toBe(50);
      expect(r.lc_standard_error!).toBeGreaterThan(0);
    }
    expect(() => alpacaEvalBoard(comparisons(1, models), { difficulty: "shipped" })).toThrow(/knows 0 of the 120 instructions/);
    expect(() => alpacaEvalBoard(comparisons(1, models), { difficulty: "bogus" as never })).toThrow(ValidationError);
  });

  it("uses the shipped difficulty for AlpacaEval's instructions, with mean difficulty for the few it does not know", () => {
    // The shipped table knows instructions by hash; give made-up instructions its values to check the lookup path.
    const { difficulty } = shippedInstructionDifficulty();
    expect(difficulty.size).toBe(805);
    expect(instructionHash("  What is 2+2?\r\n")).toBe(instructionHash("What is 2+2?"));
    expect(instructionHash("What is 2+2?")).toMatch(/^[0-9a-f]{16}$/);
  });

  it("never reports a silent zero standard error: constant predictions fall back to the intercept's error", () => {
    const rows = comparisons(2, [models[0]!]);
    const flat = new Map(rows.map((r) => [r.instruction, 0.3]));
    const board = alpacaEvalBoard(rows, { instructionDifficulty: flat });
    expect(board.difficulty).toMatchObject({ kind: "given", covered: 120 });
    const r = board.rows[0]!;
    expect(r.lc_standard_error!).toBeGreaterThan(0.5);
    // about the soft labels' own standard error
    expect(r.lc_standard_error! / r.standard_error).toBeGreaterThan(0.5);
    expect(r.lc_standard_error! / r.standard_error).toBeLessThan(2);
    expect(board.warnings.some((w) => w.includes("good: the LC's predictions do not vary by instruction"))).toBe(true);
  });

  it("refuses, naming the field, comparisons it cannot use", () => {
    const empty = comparisons(3, models).map((r) => ({ ...r, output_2: "" }));
    expect(() => alpacaEvalBoard(empty)).toThrow(ValidationError);
    try {
      alpacaEvalBoard(empty);
    } catch (e) {
      expect((e as ValidationError).issues[0]!.path).toBe("output_2");
    }
    const missing = comparisons(3, models).map((r) => ({ ...r, preference: null }));
    expect(() => alpacaEvalBoard(missing)).toThrow(/preference/);
    // without the LC column, the win rates need no outputs
    expect(alpacaEvalBoard(empty, { lengthControlled: false }).rows).toHaveLength(2);
  });

  it("from pairs stored in either order: the baseline, the same LC as the oriented annotations", () => {
    const rows = comparisons(4, models);
    const mixed = rows.map((r, i) => (i % 3 === 0 ? { ...r, output_1: r.output_2, generator_1: r.generator_2, output_2: r.output_1, generator_2: r.generator_1, preference: 3 - (r.preference as number) } : r));
    const fromPairs = alpacaEvalBoardFromPairs(mixed);
    expect(fromPairs.baseline).toBe("base");
    const direct = alpacaEvalBoard(rows);
    fromPairs.rows.forEach((r, i) => {
      expect(r.model).toBe(direct.rows[i]!.model);
      expect(r.win_rate).toBeCloseTo(direct.rows[i]!.win_rate, 9);
      expect(r.length_controlled_winrate!).toBeCloseTo(direct.rows[i]!.length_controlled_winrate!, 6);
    });
    expect(alpacaEvalBoardFromPairs([])).toEqual({ rows: [], warnings: [] });
  });

  it("reports progress: the joint fit's folds and refit, then each model", () => {
    const seen: Array<[number, number, string]> = [];
    alpacaEvalBoard(comparisons(5, models), { onProgress: (d, t, n) => seen.push([d, t, n]) });
    expect(seen.map((s) => s[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(seen.every((s) => s[1] === 8)).toBe(true);
    expect(seen.slice(6).map((s) => s[2]).sort()).toEqual(["good", "verbose"]);
  });
});

describe("Bradley-Terry leaderboard options", () => {
  it("refuses zero bootstrap rounds with a ValidationError naming the field", () => {
    expect(() => bradleyTerryLeaderboard([], new Map(), { rounds: 0 })).toThrow(ValidationError);
    try {
      bradleyTerryLeaderboard([], new Map(), { rounds: 0 });
    } catch (e) {
      expect((e as ValidationError).issues[0]!.path).toBe("rounds");
    }
  });
});
