/**
 * Checking an answer against the gold one, per kind of task: multiple choice (ARC, GPQA, MMLU: the chosen letter)
 * or math (the math verifier's equivalence, or the same final answer text: RealCritic's grader also accepts
 * answers whose normalised strings are equal, which covers text answers such as "converges" or "no solution"
 * that have no mathematical value to compare).
 */
import { RlxfError } from "../errors.js";
import { createVerifier } from "../sources/verifiers/index.js";
import type { VerificationResult, Verifier, VerifyInput } from "../sources/verifiers/index.js";

export type AnswerKind = "math" | "choice";
export const ANSWER_KINDS = ["math", "choice"] as const;

/** Tasks whose answers are option letters. */
const CHOICE_TASKS = /^(arc([-_](challenge|easy))?|gpqa([-_].*)?|mmlu([-_].*)?|commonsense_?qa|openbook_?qa|aqua([-_]rat)?|sciq|race|medqa|medmcqa|mcq.*|.*multiple[-_ ]?choice.*)$/i;
const LETTER = /^\(?\s*([A-J])\s*\)?$/;

/** Whether a task's answers are option letters (known multiple-choice tasks, or a single-letter gold with lettered options). */
export function answerKindOf(task: string | undefined, gold: string, question?: string): AnswerKind {
  if (task && CHOICE_TASKS.test(task.trim())) return "choice";
  if (LETTER.test(gold.trim()) && question !== undefined && /(^|\s)\(?A[).:]\s/.test(question) && /(^|\s)\(?B[).:]\s/.test(question)) return "choice";
  return "math";
}

/** The content of the last `\boxed{...}` (or `\fbox{...}`) of a text, braces balanced; undefined when there is none. */
export function lastBoxed(text: string): string | undefined {
  const re = /\\(?:boxed|fbox)\s*\{/g;
  let found: string | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let depth = 0;
    for (let i = m.index + m[0].length - 1; i < text.length; i++) {
      const c = text[i];
      if (c === "\\") {
        i++;
        continue;
      }
      if (c === "{") depth++;
      else if (c === "}" && --depth === 0) {
        found = text.slice(m.index + m[0].length, i);
        break;
      }
    }
  }
  return found;
}

const stripText = (s: string) => s.replace(/\\(?:text|textbf|mathrm|mathbf)\s*\{([^{}]*)\}/g, "$1");

/** The option letter a text answers with: its last \boxed{}, else its last "answer is (X)" / "Answer: X", else the whole text when it is one letter. */
export function choiceAnswer(text: string): string | undefined {
  const boxed = lastBoxed(text);
  if (boxed !== undefined) {
    const m = /^\(?\s*([A-J])\s*\)?(?:[.:)]|\s|$)/.exec(stripText(boxed).trim());
    if (m) return m[1];
  }
  let last: string | undefined;
  for (const m of text.matchAll(/\b[Aa]nswer(?:\s+is)?\s*(?:[:：]|\bis\b)?\s*[*_]*\s*(?:option\s+)?\(?([A-J])\)?(?![A-Za-z0-9])/g)) last = m[1];
  if (last) return last;
  const whole = /^\s*[*_]*\(?\s*([A-J])\s*\)?[.*_]*\s*$/.exec(stripText(text));
  return whole?.[1];
}

/** A multiple-choice verifier: the letter the completion chooses against the gold letter (`reference`). */
export function choiceVerifier(opts: { name?: string } = {}): Verifier {
  const name = opts.name ?? "choice";
  return {
    name,
    type: "choice",
    async verify(input: VerifyInput): Promise<VerificationResult> {
      const gold = typeof input.reference === "string" ? LETTER.exec(input.reference.trim())?.[1] : undefined;
      if (!gold) throw new RlxfError("missing_reference", `verifier "${name}": the gold answer (reference) must be one option letter A-J, e.g. "C"`);
      const got = choiceAnswer(input.completion);
      if (got === undefined) return { passed: false, score: 0, details: { gold, error: "no option letter found in the answer" } };
      return { passed: got === gold, score: got === gold ? 1 : 0, details: { gold, extracted: got } };
    },
  };
}

/** The final answer of a text: the content of its last \boxed{}, else the text. */
export function finalAnswerText(text: string): string {
  return lastBoxed(text) ?? text;
}

/** An answer string compared as text: \text{} unwrapped, spacing, `$` and case dropped. */
export function squashAnswer(s: string): string {
  return stripText(s)
    .replace(/\\[,;:! ]/g, "")
    .replace(/[\s$]/g, "")
    .replace(/\.$/, "")
    .toLowerCase();
}

/**
 * A math verifier for RealCritic-style answers: the math verifier's equivalence, or the same final answer as
 * text (`squashAnswer` of the last \boxed{} or of the whole completion against the gold).
 */
export function mathAnswerVerifier(opts: { name?: string } = {}): Verifier {
  const name = opts.name ?? "math-answer";
  const math = createVerifier("math");
  return {
    name,
    type: "math-answer",
    async verify(input: VerifyInput): Promise<VerificationResult> {
      const gold = input.reference;
      if (typeof gold !== "string" && typeof gold !== "number") throw new RlxfError("missing_reference", `verifier "${name}": the gold answer (reference) must be a string`);
      const g = squashAnswer(String(gold));
      if (g !== "" && squashAnswer(finalAnswerText(input.completion)) === g) return { passed: true, score: 1, details: { reason: "same answer text" } };
      return math.verify({ completion: input.completion, reference: String(gold) });
    },
  };
}

/** The verifier that decides whether an answer of this kind is right. */
export function answerVerifier(kind: AnswerKind): Verifier {
  return kind === "choice" ? choiceVerifier() : mathAnswerVerifier();
}
