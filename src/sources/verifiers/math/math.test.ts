import { describe, expect, it } from "vitest";
import { cleanAnswer, extractAnswer, mathEquivalent, mathVerifier } from "./index.js";

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
    // A solved inequality matches the interval it describes only when the gold is the inequality
    // (an inequality echoed from the question must not pass for the interval asked for).
    ["(-\\infty, 3)", "x < 3", false],
    ["x < 3", "(-\\infty, 3)", true],
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

const eq = (gold: string, pred: string, opts: Parameters<typeof mathEquivalent>[2] = {}) => mathEquivalent(gold, pred, opts).equivalent;

describe("units, currency and percent", () => {
  it.each<[string, string, boolean]>([
    ["12", "She paid \\boxed{12 \\text{ dollars}}.", true],
    ["1200", "The price is \\boxed{\\$1,200}.", true],
    ["15", "\\boxed{€15}", true],
    ["7", "\\boxed{7 \\text{ apples}}", true],
    ["32000", "\\boxed{3.2 \\times 10^{4} \\mathrm{~m/s}}", true],
    ["5 \\text{ m}", "\\boxed{5 \\text{ cm}}", false],
    ["5 \\text{ m}", "\\boxed{5 \\text{ meters}}", true],
    ["25\\%", "\\boxed{0.25}", true],
    ["25\\%", "\\boxed{25}", true],
    ["0.25", "\\boxed{25}", false],
    ["\\frac{1}{8}", "\\boxed{12.5\\%}", true],
    // Compound units: factors with powers, joined by spaces, thin spaces or \cdot.
    ["4.2 \\times 10^{3}", "\\boxed{4.2 \\times 10^{3}\\,\\mathrm{kg\\,m^{-3}}}", true],
    ["4.2 \\times 10^{3}", "\\boxed{4.2 \\times 10^{3} \\mathrm{~kg} \\mathrm{~m}^{-3}}", true],
    ["0.75", "\\boxed{0.75\\ \\mathrm{N\\ m}}", true],
    ["0.75", "\\boxed{0.75 \\, \\text{N} \\cdot \\text{m}}", true],
    ["0.75 \\, \\mathrm{N\\,m}", "\\boxed{0.75 \\, \\text{N} \\cdot \\text{m}}", true],
    ["0.75 \\, \\mathrm{N\\,m}", "\\boxed{0.75 \\, \\text{N}}", false],
    ["0.75", "\\boxed{0.75 \\, \\mathrm{N\\,m} \\cdot 2}", false],
    // One unit however it is written; the power after a unit is part of it.
    ["40 \\text{ cm}^2", "\\boxed{40 \\text{ square centimeters}}", true],
    ["40 \\, \\mathrm{cm^2}", "\\boxed{40 \\text{ cm}^{2}}", true],
    ["40 \\text{ cm}^2", "\\boxed{40 \\text{ cm}^3}", false],
    ["1.5 \\text{ m/s}^2", "\\boxed{1.5 \\mathrm{~m} \\mathrm{~s}^{-2}}", true],
    ["1.5 \\text{ m/s}", "\\boxed{1.5 \\mathrm{~m} \\mathrm{~s}^{-2}}", false],
    ["8.3 \\, \\mathrm{J/mol/K}", "\\boxed{8.3 \\, \\mathrm{J\\,mol^{-1}\\,K^{-1}}}", true],
    ["60 \\text{ km/h}", "\\boxed{60 \\text{ km per hour}}", true],
    ["60 \\text{ km/h}", "\\boxed{60 \\text{ h/km}}", false],
  ])("%s vs %s -> %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });

  it("says when units decided", () => {
    const r = mathEquivalent("5 \\text{ m}", "\\boxed{5 \\text{ cm}}");
    expect(r.explanation).toMatchObject({ verdict: "not equivalent", rule: "units" });
    expect(r.reason).toContain("m vs cm");
  });
});

describe("angles in degrees, minutes and seconds", () => {
  it.each<[string, string, boolean]>([
    ["28.5^\\circ", "\\boxed{28^\\circ 30'}", true],
    ["28.5^\\circ", "28^\\circ 30' 0''", true],
    ["28^\\circ 30'", "28.5", true],
    ["28^\\circ 30'", "28^\\circ 31'", false],
    ["12^\\circ 15' 36''", "12.26^\\circ", true],
    ["12^\\circ 15' 36\"", "12^{\\circ} 15^{\\prime} 36^{\\prime\\prime}", true],
    ["12°15′36″", "12^\\circ 15' 36''", true],
    ["12^\\circ 15' 36''", "12^\\circ 15' 37''", false],
    ["-40.25^\\circ", "-40^\\circ 15'", true],
    ["\\frac{\\pi}{6}", "30^\\circ 0'", true],
    ["\\theta = 7^\\circ 6'", "7.1^\\circ", true],
    // A prime after a name is still a derivative, not minutes.
    ["f'(x)", "f'(x)", true],
  ])("%s vs %s → %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });
});

describe("repeating decimals", () => {
  it.each<[string, string, boolean]>([
    ["\\frac{2}{3}", "0.\\overline{6}", true],
    ["0.\\overline{6}", "\\frac{2}{3}", true],
    ["\\frac{5}{12}", "0.41\\overline{6}", true],
    ["\\frac{5}{12}", "0.41\\dot{6}", true],
    ["\\frac{1}{11}", "0.\\overline{09}", true],
    ["\\frac{1}{11}", "0.\\overline{9}", false],
    ["\\frac{7}{3}", "2.\\bar{3}", true],
    ["-\\frac{2}{9}", "-0.\\overline{2}", true],
    // A written rounding of a repeating decimal is a rounding like any other.
    ["0.\\overline{6}", "0.667", true],
    ["0.\\overline{6}", "0.6", false],
  ])("%s vs %s → %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });
});

describe("accents that name another quantity", () => {
  it.each<[string, string, boolean]>([
    // A dot is a time derivative, a bar a conjugate or a mean: not the letter itself.
    ["v_0 t + \\dot{v}_0 t^2/2", "v_0 t + v_0 t^2/2", false],
    ["v_0 t + \\dot{v}_0 t^2/2", "v_0 t + \\frac{1}{2}\\dot{v}_0 t^2", true],
    ["\\ddot{y}", "\\dot{y}", false],
    ["\\dot{\\theta}^2", "\\dot\\theta \\cdot \\dot{\\theta}", true],
    ["w \\bar{w}", "\\overline{w} w", true],
    ["\\bar{q}", "q", false],
    // Styling still names the same letter.
    ["\\vec{u} + 2", "u + 2", true],
    ["\\mathbf{b}", "b", true],
  ])("%s vs %s → %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });
});

describe("functions of a fraction or a root without parentheses", () => {
  it.each<[string, string, boolean]>([
    ["\\frac{\\sqrt{2}}{2}", "\\cos\\frac{\\pi}{4}", true],
    ["\\frac{\\sqrt{2}}{2}", "\\cos \\frac{\\pi}{3}", false],
    ["\\frac{\\pi}{3}", "\\arccos\\frac12", true],
    ["\\frac{1}{3}\\ln 5", "\\ln\\sqrt[3]{5}", true],
    ["-2", "\\log_3 \\frac{1}{9}", true],
    // Another function ends the argument.
    ["\\frac{1}{4}", "\\sin\\frac{\\pi}{6} \\cos\\frac{\\pi}{3}", true],
    ["\\frac{1}{4}", "\\sin\\frac{\\pi}{6} \\cos\\frac{\\pi}{6}", false],
  ])("%s vs %s → %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });
});

describe("implications", () => {
  it.each<[string, string, boolean]>([
    // What the steps conclude is the answer; a premise is not.
    ["7", "\\boxed{3y = 21 \\implies y = 7}", true],
    ["7", "$y^2 = 49 \\Rightarrow y = 7$", true],
    ["21", "\\boxed{3y = 21 \\implies y = 7}", false],
    ["\\pm 5", "\\boxed{t^2 = 25 \\Longrightarrow t = \\pm 5}", true],
    ["-1", "\\boxed{a + 1 = 0 ⇒ a = -1}", true],
    // A statement of logic is not a chain of steps: its conclusion alone is not the answer.
    ["q", "\\boxed{p \\implies q}", false],
    // An arrow that is no implication (a limit, a map) is read as before.
    ["0", "\\boxed{x \\to 0}", false],
  ])("%s vs %s → %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });
});

describe("decimal commas and thousands separators", () => {
  it.each<[string, string, boolean]>([
    ["3.75", "\\boxed{3,75}", true],
    ["1234", "\\boxed{1,234}", true],
    ["\\frac{1}{2}", "0,5", true],
    ["2, 5", "\\boxed{2,5}", true],
    ["125", "\\boxed{1,25}", false],
    ["1234567.5", "The total is 1,234,567.5 dollars.", true],
    ["2500", "\\boxed{2\\,500}", true],
    ["2500", "\\boxed{2{,}500}", true],
  ])("%s vs %s -> %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });
});

describe("± solution sets", () => {
  it.each<[string, string, boolean]>([
    ["x = \\pm 3", "\\boxed{x = 3 \\text{ or } x = -3}", true],
    ["\\pm 3", "\\boxed{-3, 3}", true],
    ["\\pm\\sqrt{2}", "\\boxed{\\sqrt{2}}", false],
    ["\\frac{1+\\sqrt{5}}{2}, \\frac{1-\\sqrt{5}}{2}", "\\boxed{\\frac{1 \\pm \\sqrt{5}}{2}}", true],
    ["\\frac{1+\\sqrt{5}}{2}, \\frac{1-\\sqrt{5}}{2}", "\\boxed{\\frac{1 \\pm \\sqrt{6}}{2}}", false],
  ])("%s vs %s -> %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });
});

describe("matrices", () => {
  it("compares entries by value: equivalent radicals are equal, different entries are not", () => {
    const gold = "\\begin{pmatrix} \\frac{\\sqrt{2}}{2} & \\sqrt{8} \\\\ 0 & 1 \\end{pmatrix}";
    expect(eq(gold, "\\boxed{\\begin{bmatrix} \\frac{1}{\\sqrt{2}} & 2\\sqrt{2} \\\\ 0 & 1 \\end{bmatrix}}")).toBe(true);
    expect(eq(gold, "\\boxed{\\begin{bmatrix} \\frac{1}{\\sqrt{2}} & 2\\sqrt{3} \\\\ 0 & 1 \\end{bmatrix}}")).toBe(false);
    expect(eq(gold, "\\boxed{\\begin{bmatrix} \\frac{1}{\\sqrt{2}} & 2\\sqrt{2} \\end{bmatrix}}")).toBe(false);
    // A matrix expression is computed entry by entry.
    expect(eq("\\begin{pmatrix} 2 & 2 \\\\ 4 & 6 \\end{pmatrix}", "$\\begin{pmatrix} 1 & 0 \\\\ 1 & 2 \\end{pmatrix} + \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}$")).toBe(true);
  });
});

describe("several boxes", () => {
  it("read as one answer when only joining words stand between them", () => {
    const pred = "Both work, so the roots are \\boxed{2} and \\boxed{-3}.";
    expect(eq("-3, 2", pred)).toBe(true);
    expect(eq("2", pred)).toBe(false); // two answers are not one
    expect(mathEquivalent("-3, 2", pred).pred?.answer).toBe("2, -3");
  });

  it("read as separate answers (the last counts) when prose stands between them", () => {
    const pred = "First we get \\boxed{1}. That is wrong, since the sum must be even; redoing the count gives \\boxed{4}.";
    expect(eq("4", pred)).toBe(true);
    expect(eq("1, 4", pred)).toBe(false);
  });
});

describe("multiple-choice letters", () => {
  it.each<[string, boolean]>([
    ["\\boxed{\\text{(C)}}", true],
    ["\\boxed{(C) 12 apples}", true],
    ["Looking at the options, C) twelve is right.\n\nAnswer: C", true],
    ["The correct option is C.", true],
    ["so the answer is **C**", true],
    ["\\boxed{B}", false],
    ["Therefore, the best choice is (B).", false],
  ])("gold (C) vs %j -> %s", (pred, expected) => {
    expect(eq("\\text{(C)}", pred)).toBe(expected);
  });

  it("does not read an article as a letter", () => {
    expect(mathEquivalent("A", "A device driver is assigned to the device.").explanation.verdict).toBe("failed");
  });

  it("takes the choice text only when asked to, and never a letter with another choice's text", () => {
    const choices = { label: ["A", "B", "C", "D"], text: ["uracil", "thymine", "guanine", "adenine"] };
    expect(eq("B", "The complement is \\boxed{thymine}.", { choices })).toBe(false);
    expect(eq("B", "The complement is \\boxed{thymine}.", { choices, choiceText: true })).toBe(true);
    const hedge = mathEquivalent("B", "\\boxed{(A) thymine}", { choices, choiceText: true });
    expect(hedge.equivalent).toBe(false);
    expect(hedge.reason).toContain("letter A with the text of choice B");
    // RealCritic-style choices: "(A) text".
    expect(eq("D", "\\boxed{D}", { choices: ["(A) I only", "(B) II only", "(C) III only", "(D) II and III"] })).toBe(true);
  });

  it("a final box that names no choice is no choice", () => {
    const r = mathEquivalent("D", "Option (D) is tempting. After all the frequency is \\boxed{1137}");
    expect(r.equivalent).toBe(false);
    expect(r.reason).toContain("not a choice");
  });
});

describe("reasoning traces and long solutions", () => {
  it("reads only what follows </think>", () => {
    const pred = "<think>Maybe the answer is \\boxed{5}? No, recount.</think>\nThe answer is \\boxed{7}.";
    expect(eq("7", pred)).toBe(true);
    expect(eq("5", pred)).toBe(false);
    expect(mathEquivalent("7", pred).explanation.prediction.notes).toContain("reasoning before </think> ignored");
  });

  it("a trace that never closes has no final answer", () => {
    const r = mathEquivalent("5", "<think>so it must be \\boxed{5}, let me check again");
    expect(r).toMatchObject({ equivalent: false, explanation: { verdict: "failed" } });
    expect(r.reason).toMatch(/never closes/);
  });

  it("finds the answer at the end of a long solution", () => {
    const steps = Array.from({ length: 300 }, (_, i) => `Step ${i + 1}: add ${i} to ${i * 3} to get ${i * 4}.`).join("\n");
    expect(eq("42", `${steps}\n\nSo the baker has 42 cookies left.\nI hope this helps!`)).toBe(true);
    expect(eq("42", `${steps}\n\nTherefore the final answer is $42$.`)).toBe(true);
  });
});

describe("equations", () => {
  it.each<[string, string, boolean]>([
    ["2x+z=1", "\\boxed{1}", false],
    ["2x+z=1", "\\boxed{z + 2x = 1}", true],
    ["2x+z=1", "\\boxed{4x + 2z = 2}", true],
    ["2x+z=1", "\\boxed{2x - z = 1}", false],
    ["y = 2x + 3", "\\boxed{2x + 3}", true],
    ["x = 11", "\\boxed{x = 5 + 5 + 1 = 11}", true],
    ["(p, q) = (3, 2)", "\\boxed{(3, 2)}", true],
    ["AB = 4", "\\boxed{4}", true],
  ])("%s vs %s -> %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });

  it("says why a value does not answer an equation", () => {
    expect(mathEquivalent("2x+z=1", "\\boxed{1}").explanation).toMatchObject({ rule: "equation", reason: expect.stringContaining("a value is not an equation") });
  });
});

describe("words that carry meaning", () => {
  it.each<[string, string, boolean]>([
    ["5", "\\boxed{\\text{not } 5}", false],
    ["5", "\\boxed{5 \\text{ or } 6}", false],
    ["5", "\\boxed{\\text{at least } 5}", false],
    ["5", "\\boxed{\\text{approximately } 5}", true],
    ["\\text{no solution}", "\\boxed{\\text{No solution}}", true],
    ["converges", "The series \\boxed{\\text{converges}}.", true],
  ])("%s vs %s -> %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });

  it("a negated answer phrase is no answer", () => {
    expect(eq("5", "The answer is not 5.")).toBe(false);
    expect(mathEquivalent("5", "The answer is not 5.").reason).toBe("no answer found in the prediction");
  });
});

describe("statements that are false", () => {
  it.each<[string, string]>([
    ["1", "\\boxed{2 = 1}"],
    ["8", "\\boxed{3 + 4 = 8}"],
    ["4", "\\boxed{x + 1 = 3 = 4}"],
  ])("gold %s vs %s is not equivalent", (gold, pred) => {
    const r = mathEquivalent(gold, pred);
    expect(r.equivalent).toBe(false);
    expect(r.explanation.rule).toBe("contradiction");
  });
});

describe("comments are not answers", () => {
  it.each<[string]>([["The answer is \\boxed{5}. <!-- \\boxed{7} -->"], ["The answer is \\boxed{5}.\n% \\boxed{7}"], ["$$ 5 % \\boxed{7}\n$$ so \\boxed{5}"], ["\\boxed{5}<!-- unclosed \\boxed{7}"]])("%j", (pred) => {
    expect(eq("5", pred)).toBe(true);
    expect(eq("7", pred)).toBe(false);
  });

  it("a percent sign after a number is not a comment", () => {
    expect(eq("50\\%", "About 50% of them, so \\boxed{50\\%}")).toBe(true);
    expect(eq("0.5", "It is 50 % of the total.")).toBe(true);
  });
});

describe("large numbers", () => {
  it.each<[string, string, boolean]>([
    ["10^{400}", "\\infty", false],
    ["\\infty", "\\infty", true],
    ["3^{1000}", "2^{1024}", false],
    ["2^{1024}", "4^{512}", true],
    ["10^{400}", "10^{400} + 1", false],
    ["1000000008", "10^9+7", false],
    ["1000000007", "10^9+7", true],
    ["2^{100000}", "4^{50000}", true],
    ["10^{-400}", "0", false],
    ["\\binom{100}{50}", "100891344545564193334812497256", true],
    ["100!", "\\frac{101!}{101}", true],
  ])("%s vs %s -> %s", (gold, pred, expected) => {
    expect(eq(gold, pred)).toBe(expected);
  });

  it("decimals near each other are different unless one is the other rounded", () => {
    expect(eq("2.88 \\times 10^{-19}", "2.89 \\times 10^{-19}")).toBe(false);
    expect(eq("1.07e16", "1.07 \\times 10^{16}")).toBe(true);
    expect(eq("\\frac{1}{360000}", "2.7778 \\times 10^{-6}")).toBe(true);
    expect(eq("\\frac{1}{360000}", "2.7 \\times 10^{-6}")).toBe(false);
  });
});

describe("explanations", () => {
  it("say what was extracted from each side, how it was read and which rule compared them", () => {
    const r = mathEquivalent("$\\frac{1}{2}$", "We halve it. The answer is $0.50$.");
    expect(r.explanation).toMatchObject({
      verdict: "equivalent",
      rule: "exact",
      gold: { extracted: "\\frac{1}{2}", read: "constant expression 1/2" },
      prediction: { extracted: "0.50", method: "answer-phrase", read: "decimal 0.50" },
    });
    expect(r.reason).toBe("equal: both are exactly 1/2");
  });

  it("a failure is a result with a reason, not an exception", () => {
    const long = mathEquivalent("1", "x".repeat(2_000_001));
    expect(long).toMatchObject({ equivalent: false, explanation: { verdict: "failed", rule: "limit" } });
    expect(long.reason).toMatch(/2000001 characters long/);
    const deep = mathEquivalent("1", `\\boxed{${"(".repeat(500)}1${")".repeat(500)}}`);
    expect(deep.equivalent).toBe(false);
    expect(deep.explanation.prediction.passedOver?.join(" ")).toMatch(/nested deeper than 100 levels/);
  });

  it("travel in the verifier's result details", async () => {
    const r = await mathVerifier().verify({ completion: "\\boxed{(B)}", reference: { answer: "B", choices: ["(A) 1", "(B) 2"] } });
    expect(r).toMatchObject({ passed: true, details: { rule: "choice", explanation: { verdict: "equivalent", prediction: { read: "choice B" } } } });
  });
});

describe("where the answer is", () => {
  it.each<[string, string, string]>([
    ["42", "She earns 6 * 7 = 42 dollars.\n#### 42\nThat was 3 steps.", "final-answer"],
    ["42", "**Answer:** 42", "answer-phrase"],
    ["5", "Answer: $x = 5$", "answer-phrase"],
    ["5", "So, the answer is 5 meters.", "answer-phrase"],
    ["\\frac{1}{6}", "The probability is $\\frac{1}{6}$, or about 16.7%.", "math"],
    ["12", "Here $d = \\frac{90}{n}$. Therefore, there are 12 sequences.", "number"],
    ["3", "We find $x = \\boxed{3}$.", "boxed"],
    ["\\frac{1}{2}", "The answer is 1/2.", "answer-phrase"],
    ["12", "Total cost: \\$12.00", "number"],
  ])("%s in %j (%s)", (gold, pred, method) => {
    const r = mathEquivalent(gold, pred);
    expect(r.equivalent, r.reason).toBe(true);
    expect(r.pred?.method).toBe(method);
  });

  it("a choice letter in a sentence after the answer phrase", () => {
    expect(eq("C", "The answer is C because of the reasons above.")).toBe(true);
  });
});

describe("as a named verifier", () => {
  it("takes the choice options from its spec and the choices from the reference", async () => {
    const { createVerifier } = await import("../registry.js");
    const reference = { answer: "B", choices: { label: ["A", "B"], text: ["uracil", "thymine"] } };
    expect((await createVerifier("math").verify({ completion: "\\boxed{thymine}", reference })).passed).toBe(false);
    expect((await createVerifier({ type: "math", choiceText: true }).verify({ completion: "\\boxed{thymine}", reference })).passed).toBe(true);
  });
});
