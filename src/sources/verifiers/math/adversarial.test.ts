/**
 * Inputs built to freeze or crash the verifier: a megabyte of openers, nesting thousands deep,
 * endless digits, phrases and boxes. Every check must come back (well within the generous bound
 * asserted here: speed is measured in `npm run bench:verify`, not in tests) with a result and,
 * when it could not compare, a reason; nothing may throw or overflow the stack.
 */
import { describe, expect, it } from "vitest";
import { MATH_LIMITS, mathEquivalent, mathVerifier } from "./index.js";

const MB = 1_000_000;
const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);

const HOSTILE: Record<string, string> = {
  "parentheses": fill("("),
  "balanced parentheses": fill("(") + fill(")"),
  "inline math openers": fill("\\("),
  "display math openers": fill("\\["),
  "dollar signs": fill("$"),
  "dollar signs and spaces": fill("$ "),
  "nested fractions": fill("\\frac{"),
  "nested square roots": fill("\\sqrt{"),
  "braces": fill("{"),
  "box openers": fill("\\boxed{"),
  "many boxes": fill("\\boxed{1} "),
  "digits": fill("7"),
  "thousands groups": "1" + fill(",000"),
  "minus signs": fill("-") + "5",
  "answer phrases": fill("the answer is "),
  "final-answer phrases": fill("Final Answer: "),
  "HTML comment openers": fill("<!--"),
  "backslashes": fill("\\"),
  "spaces": "5" + " ".repeat(MB) + "x",
  "mixed openers": fill("\\frac{\\sqrt{(\\left[\\{$x$"),
  "3,000 nested fractions in a box": `\\boxed{${"\\frac{1}{".repeat(3000)}2${"}".repeat(3000)}}`,
  "5,000 nested roots in a box": `$\\boxed{${"\\sqrt{".repeat(5000)}2${"}".repeat(5000)}}$`,
  "a power tower": `\\boxed{${"2^".repeat(4000)}2}`,
  "many ± signs": `\\boxed{${"1\\pm ".repeat(2000)}1}`,
  "a long list": `\\boxed{${"1,".repeat(4000)}1}`,
  "a huge factorial": "\\boxed{100000!}",
  "a huge binomial": "\\boxed{\\binom{1000000000}{500000000}}",
  "a long series": "\\boxed{\\sum_{k=1}^{1000000000} k}",
  "a tower of tens": "\\boxed{10^{10^{10^{10}}}}",
  "a chain of powers with ±": `\\boxed{${"2^".repeat(4900)}2 \\pm 1}`,
  "a chain of divisions with ±": `\\boxed{${"1/".repeat(4900)}1 \\pm 2}`,
  "a chain of equalities": `\\boxed{${"1=".repeat(4900)}1}`,
  "a product of 9,000 letters": `\\boxed{${"x".repeat(9000)}}`,
  "degrees, minutes and seconds": fill("1^\\circ 2' 3'' "),
  "repeating-decimal bars": fill("0.\\overline{3"),
  "dot accents": fill("\\dot{"),
  "a long repeat": `\\boxed{0.\\overline{${"7".repeat(5000)}}}`,
  "a chain of implications": `\\boxed{${"x=1 \\implies ".repeat(900)}x=1}`,
  "implications around nothing": fill("\\implies "),
  "units times units": "5 " + fill("\\text{m} \\cdot "),
  "unit words in a box": `\\boxed{5 ${"\\mathrm{~kg}\\,".repeat(2000)}}`,
  "an angle list in a box": `\\boxed{${"1^\\circ 2' 3'', ".repeat(600)}1^\\circ}`,
};

describe("hostile inputs", () => {
  for (const [name, text] of Object.entries(HOSTILE)) {
    it(`${name}: a result with a reason, as prediction and as gold`, () => {
      for (const [gold, pred] of [["5", text], [text, "5"]] as const) {
        const t = performance.now();
        const r = mathEquivalent(gold, pred);
        const ms = performance.now() - t;
        expect(typeof r.equivalent).toBe("boolean");
        expect(r.reason.length).toBeGreaterThan(0);
        expect(["equivalent", "not equivalent", "failed"]).toContain(r.explanation.verdict);
        // Generous: a check takes milliseconds; this only catches runaway work.
        expect(ms).toBeLessThan(20_000);
      }
    });
  }

  it("deep nesting fails with a reason instead of overflowing the stack", () => {
    const deep = `\\boxed{${"\\frac{1}{".repeat(900)}2${"}".repeat(900)}}`;
    const r = mathEquivalent("1", deep);
    expect(r.equivalent).toBe(false);
    expect(r.explanation.prediction.passedOver?.join(" ")).toMatch(/nested deeper than 100 levels/);
    // Longer than an answer may be: passed over for its length.
    const long = mathEquivalent("1", `\\boxed{${"\\frac{1}{".repeat(3000)}2${"}".repeat(3000)}}`);
    expect(long.explanation.prediction.passedOver?.join(" ")).toMatch(/30001 characters long \(at most 10000 are read\)/);
    // 1/(1/(...(1/2))) forty deep is 2, and is computed.
    const shallow = `\\boxed{${"\\frac{1}{".repeat(40)}2${"}".repeat(40)}}`;
    expect(mathEquivalent("2", shallow).equivalent).toBe(true);
  });

  it("an input over the documented maximum is a failure that says so", async () => {
    const text = "1".repeat(MATH_LIMITS.maxInputChars + 1);
    const r = mathEquivalent("1", text);
    expect(r).toMatchObject({ equivalent: false, explanation: { verdict: "failed", rule: "limit" } });
    expect(r.reason).toContain(`at most ${MATH_LIMITS.maxInputChars}`);
    const v = await mathVerifier().verify({ completion: text, reference: "1" });
    expect(v).toMatchObject({ passed: false, score: 0, details: { error: r.reason } });
  });

  it("tighter limits can be asked for", () => {
    const r = mathEquivalent("1", "\\boxed{((((1))))}", { limits: { maxDepth: 3 } });
    expect(r.equivalent).toBe(false);
    expect(mathEquivalent("1", "\\boxed{((((1))))}").equivalent).toBe(true);
  });
});
