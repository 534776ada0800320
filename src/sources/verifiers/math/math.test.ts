import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cleanAnswer, extractAnswer, mathEquivalent, mathVerifier, type MatchType } from "./index.js";

const casesPath = resolve(import.meta.dirname, "..", "..", "..", "..", "..", "shared", "data", "math-verify", "cases.jsonl");

describe("math verifier on Math-Verify's cases", () => {
  it.skipIf(!existsSync(casesPath))("agrees with the expected verdict on at least 95% of the shared cases", () => {
    const lines = readFileSync(casesPath, "utf8").trim().split("\n");
    const misses: string[] = [];
    for (const line of lines) {
      const c = JSON.parse(line) as { gold: string; pred: string; expected: boolean; match_types: MatchType[]; precision?: number };
      const r = mathEquivalent(c.gold, c.pred, { goldMatch: c.match_types, predMatch: c.match_types, ...(c.precision !== undefined ? { precision: c.precision } : {}) });
      if (r.equivalent !== c.expected) misses.push(`${line.slice(0, 160)} -> ${r.equivalent} (${r.reason})`);
    }
    const agreement = (lines.length - misses.length) / lines.length;
    console.log(`math-verify cases: ${lines.length - misses.length}/${lines.length} agree (${(100 * agreement).toFixed(1)}%)`);
    expect(lines.length).toBe(63);
    expect(agreement, misses.join("\n")).toBeGreaterThanOrEqual(0.95);
  });
});

describe("answer extraction", () => {
  it.each([
    ["so the area is $\\boxed{\\frac{3}{4}}$ square units", "\\frac{3}{4}", "boxed"],
    ["We get $x=2$ and then $y = 5$.", "y = 5", "math"],
    ["The answer is 42.", "42", "answer-phrase"],
    ["Final Answer: The final answer is $7$. I hope it is correct.", "7", "final-answer"],
    ["there were 1,234 apples and 17 pears, so 17", "17", "number"],
    ["-\\frac{10}{9}", "-\\frac{10}{9}", "whole"],
    ["\\boxed{200} then \\boxed{255}. Final Answer: The final answer is $10,455$.", "10,455", "final-answer"],
  ])("%s -> %s (%s)", (text, answer, method) => {
    const r = extractAnswer(text);
    expect(r?.answer).toBe(answer);
    expect(r?.method).toBe(method);
  });

  it("does not read inline math across a line break, nor mine numbers from it", () => {
    expect(extractAnswer("Answer \\( 9 \\)")?.answer).toBe("9");
    expect(extractAnswer("Answer \\( \n 9 \n \\)")).toBeUndefined();
    expect(extractAnswer("Answer \\[ \n 9 \n \\]")?.answer).toBe("9");
  });

  it("respects the match types: no LaTeX, or no plain numbers", () => {
    expect(extractAnswer("for $x$ we count 5", { latex: false })).toMatchObject({ answer: "5", method: "number" });
    expect(extractAnswer("it is 5 apples", { expr: false })).toBeUndefined();
  });

  it("repairs JSON-escape damage and doubled backslashes", () => {
    expect(cleanAnswer("\\\\frac{1}{2}").text).toBe("\\frac{1}{2}");
    expect(cleanAnswer("\frac{1}{2}").text).toBe("\\frac{1}{2}");
    expect(cleanAnswer("\text{yes}").flags.text).toBe(true);
  });

  it("normalises numbers, units, percent and degrees", () => {
    expect(cleanAnswer("7,425,000").text).toBe("7425000");
    expect(cleanAnswer("1,22").text).toBe("1.22");
    expect(cleanAnswer("1, 22").text).toBe("1, 22");
    expect(cleanAnswer("15\\mbox{ cm}^2").text).toBe("15");
    expect(cleanAnswer("\\$16386.17").text).toBe("16386.17");
    expect(cleanAnswer("28\\%")).toEqual({ text: "28", flags: { percent: true } });
    expect(cleanAnswer("90^\\circ")).toEqual({ text: "90", flags: { degrees: true } });
    expect(cleanAnswer("204_5").text).toBe("54");
    expect(cleanAnswer("10 dollars").text).toBe("10");
  });
});

describe("equivalence", () => {
  it.each<[string, string, boolean]>([
    // numbers
    ["1/3", "0.33", true],
    ["1/3", "0.34", false],
    ["1/3", "0.3", false],
    ["0.25", "0.3", false],
    ["11111111101", "11111111100", false],
    ["1000001", "1000000", false],
    ["1000", "1000.0", true],
    ["\\pi", "3.14", true],
    ["\\pi", "3.1", false],
    ["0.1+0.2", "0.3", true],
    ["1e3", "1000", true],
    ["50\\%", "0.5", true],
    ["28\\%", "28", true],
    ["\\frac{\\pi}{2}", "90^\\circ", true],
    ["2\\frac{1}{2}", "2.5", true],
    ["\\$10.50", "10.5", true],
    // expressions
    ["x^2+2x+1", "(x+1)^2", true],
    ["x^2+2x+1", "(x-1)^2", false],
    ["\\sqrt{2}/2", "\\frac{1}{\\sqrt{2}}", true],
    ["3\\sqrt{2}", "\\sqrt{18}", true],
    ["\\dfrac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}", true],
    ["e^{i\\pi}", "-1", true],
    ["\\sin^2 x + \\cos^2 x", "1", true],
    ["\\log_2 8", "3", true],
    ["\\sqrt[3]{27}", "3", true],
    ["\\binom{5}{2}", "10", true],
    ["5!", "120", true],
    ["|x-1|", "|1-x|", true],
    ["2a", "a+a", true],
    ["x", "y", false],
    ["x+2n+1", "x+1", false],
    // relations
    ["x \\geq 5", "5 \\le x", true],
    ["x \\geq 5", "-x \\le -5", true],
    ["x > 5", "x >= 5", false],
    ["2x < 2", "x < 1", true],
    ["-2x < -2", "x < 1", false],
    ["y = 2x + 3", "y = 3 + 2x", true],
    ["y=2x+3", "2x - y + 3 = 0", true],
    ["y=2x+3", "y = 2x - 3", false],
    ["11", "x = 11", true],
    // intervals, sets, tuples
    ["(1,2)", "(2,1)", false],
    ["\\{1,2\\}", "\\{2,1\\}", true],
    ["1, 2", "2, 1", true],
    ["3 \\text{ and } 5", "5, 3", true],
    ["[1,2)", "[1,2]", false],
    ["[1,2)", "[1,2)", true],
    ["x \\geq 5", "[5, \\infty)", true],
    ["(-\\infty, 3)", "x < 3", true],
    ["(0,1) \\cup (2,3)", "(2,3) \\cup (0,1)", true],
    ["(0,1) \\cup (2,3)", "(0,1) \\cup [2,3)", false],
    ["\\emptyset", "\\{\\}", true],
    // matrices
    ["\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}", false],
    ["\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}", true],
    // words
    ["\\text{(A)}", "(A)", true],
    ["\\text{13}", "13", false],
    ["$5$", "I think it's 6", false],
  ])("%s vs %s -> %s", (gold, pred, expected) => {
    expect(mathEquivalent(gold, pred).equivalent).toBe(expected);
  });

  it("rounds both sides when a precision is given", () => {
    expect(mathEquivalent("3.14159", "3.1416").equivalent).toBe(false);
    expect(mathEquivalent("3.14159", "3.1416", { precision: 3 }).equivalent).toBe(true);
  });
});

describe("mathVerifier", () => {
  it("is a Verifier whose result is a verification value", async () => {
    const v = mathVerifier();
    expect(v.type).toBe("math");
    const ok = await v.verify({ completion: "Thus the answer is $\\boxed{\\frac{1}{2}}$.", reference: "0.5" });
    expect(ok).toMatchObject({ passed: true, score: 1, details: { extracted: "\\frac{1}{2}", method: "boxed" } });
    const bad = await v.verify({ completion: "I do not know.", reference: "0.5" });
    expect(bad).toMatchObject({ passed: false, score: 0, details: { error: "no answer found in the prediction" } });
    const fixed = mathVerifier({ gold: "2" });
    expect((await fixed.verify({ completion: "1+1 = 2" })).passed).toBe(true);
    await expect(mathVerifier().verify({ completion: "2" })).rejects.toThrow(/gold answer/);
  });
});
