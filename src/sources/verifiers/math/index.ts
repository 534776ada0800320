/**
 * The math answer verifier: extract the final answer of a free-form solution, normalise it,
 * and decide whether it is the gold answer (see extract.ts, normalize.ts, parse.ts, compare.ts).
 */
import { RlxfError } from "../../../errors.js";
import type { VerificationResult, Verifier, VerifyInput } from "../types.js";
import { answersEqual, type CompareOptions } from "./compare.js";
import { extractAnswer, type ExtractedAnswer } from "./extract.js";
import { cleanAnswer } from "./normalize.js";
import { parseAnswer, type ParsedAnswer } from "./parse.js";

export { extractAnswer, lastBoxed, type ExtractedAnswer, type ExtractionMethod, type ExtractOptions } from "./extract.js";
export { cleanAnswer, type AnswerFlags, type CleanAnswer } from "./normalize.js";
export { parseAnswer, type MathValue, type ParsedAnswer, type RelOp } from "./parse.js";
export { answersEqual, type CompareOptions } from "./compare.js";

export type MatchType = "latex" | "expr";

export interface MathEquivalenceOptions extends CompareOptions {
  /** How the gold answer is read: `latex`, `expr` (plain expressions and numbers) or both (default). */
  goldMatch?: MatchType[];
  /** How the prediction is read (default both). */
  predMatch?: MatchType[];
}

export interface MathEquivalence {
  equivalent: boolean;
  gold?: ExtractedAnswer;
  pred?: ExtractedAnswer;
  /** Why, in words: `identical`, `equal`, `different`, `no answer in the prediction`... */
  reason: string;
}

const extractOpts = (types: MatchType[] | undefined) => ({ latex: types?.includes("latex") ?? true, expr: types?.includes("expr") ?? true });

const squash = (s: string) => s.replace(/\s+/g, "");

/** Whether a free-form prediction gives the gold answer. */
export function mathEquivalent(gold: string, pred: string, opts: MathEquivalenceOptions = {}): MathEquivalence {
  const g = extractAnswer(gold, extractOpts(opts.goldMatch));
  if (!g) return { equivalent: false, reason: "no answer found in the gold" };
  const p = extractAnswer(pred, extractOpts(opts.predMatch));
  if (!p) return { equivalent: false, gold: g, reason: "no answer found in the prediction" };
  if (squash(g.answer) === squash(p.answer)) return { equivalent: true, gold: g, pred: p, reason: "identical" };
  const gp: ParsedAnswer | undefined = parseAnswer(g.answer, { plain: g.plain });
  const pp: ParsedAnswer | undefined = parseAnswer(p.answer, { plain: p.plain });
  if (!gp || !pp) {
    const same = squash(cleanAnswer(g.answer).text).toLowerCase() === squash(cleanAnswer(p.answer).text).toLowerCase();
    return { equivalent: same, gold: g, pred: p, reason: same ? "same text" : `not comparable as math (${!gp ? "gold" : "prediction"} does not parse)` };
  }
  let eq: boolean;
  try {
    eq = answersEqual(gp, pp, opts);
  } catch (e) {
    // mathjs may refuse an expression it parsed (a matrix of the wrong shape...): not equal.
    return { equivalent: false, gold: g, pred: p, reason: `not comparable as math (${(e as Error).message})` };
  }
  return { equivalent: eq, gold: g, pred: p, reason: eq ? "equal" : "different" };
}

export interface MathVerifierOptions extends MathEquivalenceOptions {
  name?: string;
  /** The gold answer, when every input is checked against the same one (else `reference`). */
  gold?: string;
}

/** A verifier: `reference` (or the configured `gold`) is the gold answer; score 1 or 0. */
export function mathVerifier(opts: MathVerifierOptions = {}): Verifier {
  const { name = "math", gold: fixedGold, ...compare } = opts;
  return {
    name,
    type: "math",
    async verify(input: VerifyInput): Promise<VerificationResult> {
      const gold = input.reference ?? fixedGold;
      if (typeof gold !== "string" && typeof gold !== "number") throw new RlxfError("no_reference", `verifier "${name}": the gold answer (reference) must be a string`);
      const r = mathEquivalent(String(gold), input.completion, compare);
      const details: VerificationResult["details"] = { reason: r.reason };
      if (r.pred) details.extracted = r.pred.answer;
      if (r.pred) details.method = r.pred.method;
      if (r.gold) details.gold = r.gold.answer;
      if (!r.pred) details.error = r.reason;
      return { passed: r.equivalent, score: r.equivalent ? 1 : 0, details };
    },
  };
}
