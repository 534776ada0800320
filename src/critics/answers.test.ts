/** Verdicts read from critiques, option letters, and answers compared as math or as text. */
import { describe, expect, it } from "vitest";
import { answerKindOf, choiceAnswer, choiceVerifier, lastBoxed, mathAnswerVerifier, squashAnswer } from "./answers.js";
import { readVerdict } from "./verdict.js";

describe("readVerdict", () => {
  it("reads JSON verdicts", () => {
    expect(readVerdict('{"summary": "ok", "verdict": "pass"}')).toBe("pass");
    expect(readVerdict('```json\n{"verdict": "FAIL", "weaknesses": []}\n```')).toBe("fail");
    expect(readVerdict('{"correct": false}')).toBe("fail");
    expect(readVerdict('{"is_correct": true}')).toBe("pass");
  });

  it("reads the last explicit statement of a free-text critique", () => {
    expect(readVerdict("Step 2 is wrong.\n## Conclusion\nThe solution is Incorrect.\nThe first error step number: 2")).toBe("fail");
    expect(readVerdict("All steps verified. The solution is Correct.")).toBe("pass");
    expect(readVerdict("Judgement: \\boxed{False}")).toBe("fail");
    expect(readVerdict("\\boxed{\\text{True}}")).toBe("pass");
    expect(readVerdict("Verdict: **pass**")).toBe("pass");
    expect(readVerdict("The answer is not correct.")).toBe("fail");
    // Both stated: only the last counts.
    expect(readVerdict("Verdict: pass. On reflection the solution is incorrect.")).toBe("fail");
    expect(readVerdict("The solution is incorrect... no wait. Final verdict: correct")).toBe("pass");
  });

  it("gives nothing when no verdict is stated", () => {
    expect(readVerdict("Step 1 adds the numbers. Step 2 multiplies.")).toBeUndefined();
    expect(readVerdict('{"summary": "fine"}')).toBeUndefined();
    expect(readVerdict("")).toBeUndefined();
  });
});

describe("answers", () => {
  it("tells choice tasks from math ones", () => {
    expect(answerKindOf("arc-challenge", "C")).toBe("choice");
    expect(answerKindOf("mmlu_stem", "D")).toBe("choice");
    expect(answerKindOf("gpqa", "A")).toBe("choice");
    expect(answerKindOf("math", "\\frac{7}{2}")).toBe("math");
    expect(answerKindOf("olympiadbench", "E", "Find the point E.")).toBe("math");
    expect(answerKindOf("my-quiz", "B", "Which? (A) red (B) blue")).toBe("choice");
  });

  it("reads option letters", () => {
    expect(choiceAnswer("So the answer is \\boxed{C}.")).toBe("C");
    expect(choiceAnswer("\\boxed{(B)}")).toBe("B");
    expect(choiceAnswer("\\boxed{\\text{D}}")).toBe("D");
    expect(choiceAnswer("Therefore, the answer is (A).")).toBe("A");
    expect(choiceAnswer("Answer: B")).toBe("B");
    expect(choiceAnswer("C")).toBe("C");
    expect(choiceAnswer("The answer is a mystery.")).toBeUndefined();
    expect(choiceAnswer("(A) uracil (B) thymine")).toBeUndefined();
  });

  it("checks option letters against the gold", async () => {
    const v = choiceVerifier();
    expect((await v.verify({ completion: "\\boxed{C}", reference: "C" })).passed).toBe(true);
    expect((await v.verify({ completion: "\\boxed{D}", reference: "C" })).passed).toBe(false);
    expect((await v.verify({ completion: "no idea", reference: "C" })).details.error).toMatch(/no option letter/);
    await expect(v.verify({ completion: "C", reference: "42" })).rejects.toThrow(/option letter/);
  });

  it("accepts equal math and equal answer text", async () => {
    const v = mathAnswerVerifier();
    expect((await v.verify({ completion: "\\boxed{\\frac{1}{2}}", reference: "0.5" })).passed).toBe(true);
    expect((await v.verify({ completion: "The series \\boxed{converges absolutely}.", reference: "convergesabsolutely" })).passed).toBe(true);
    expect((await v.verify({ completion: "converges", reference: "converges" })).passed).toBe(true);
    expect((await v.verify({ completion: "\\boxed{diverges}", reference: "converges" })).passed).toBe(false);
    expect((await v.verify({ completion: "\\boxed{3}", reference: "4" })).passed).toBe(false);
    expect(squashAnswer("\\text{No solution} $")).toBe("nosolution");
    expect(lastBoxed("\\boxed{1} then \\boxed{\\frac{a}{b}}")).toBe("\\frac{a}{b}");
    expect(lastBoxed("\\boxed{\\{1,2\\}}")).toBe("\\{1,2\\}");
  });
});
