/**
 * The math answer verifier: extract the final answer of a free-form solution, read it, and
 * decide whether it is the gold answer, saying why (see extract.ts, lexer.ts, parse.ts,
 * evaluate.ts, compare.ts, choice.ts). Every check is bounded (limits.ts): over a limit the
 * result is a failure with a reason, never a throw, and never a long computation.
 */
import { RlxfError } from "../../../errors.js";
import type { VerificationResult, Verifier, VerifyInput } from "../types.js";
import { type Choice, choiceIn, choiceInLine, choiceLetter, normalizeChoices, normText } from "./choice.js";
import { answersCompared, type CompareOptions, describe, makeCtx, type Verdict } from "./compare.js";
import { type Candidate, type ExtractedAnswer, type ExtractionMethod, type ExtractOptions, findAnswer, looksPlain, withUnit } from "./extract.js";
import { LimitReached, MATH_LIMITS, type MathLimits } from "./limits.js";
import { Meter } from "./numbers.js";
import { type ParsedAnswer, parseAnswer, trimAnswer, whyNotMath } from "./parse.js";

export { extractAnswer, lastBoxed, type ExtractedAnswer, type ExtractionMethod, type ExtractOptions } from "./extract.js";
export { cleanAnswer, type AnswerFlags, type CleanAnswer } from "./normalize.js";
export { parseAnswer, type MathValue, type ParsedAnswer, type RelOp } from "./parse.js";
export { answersEqual, type CompareOptions } from "./compare.js";
export { MATH_LIMITS, type MathLimits } from "./limits.js";

export type MatchType = "latex" | "expr";

export interface MathEquivalenceOptions extends CompareOptions {
  /** How the gold answer is read: `latex`, `expr` (plain expressions and numbers) or both (default). */
  goldMatch?: MatchType[];
  /** How the prediction is read (default both). */
  predMatch?: MatchType[];
  /**
   * The choices of a multiple-choice question (`["(A) x", ...]`, `{label: [...], text: [...]}`
   * or `{A: "x"}`): with a letter as the gold, a prediction that gives the text of exactly one
   * choice names that choice.
   */
  choices?: unknown;
  /**
   * With a letter as the gold, also accept a prediction that gives the text of exactly one
   * choice instead of a letter (default false: a question that asks for a letter wants a letter).
   */
  choiceText?: boolean;
  /** Tighter (or looser) ceilings than `MATH_LIMITS`. */
  limits?: Partial<MathLimits>;
}

/** How one side (gold or prediction) was read. */
export interface SideExplanation {
  /** The answer taken from the text. */
  extracted?: string;
  /** Where it was found. */
  method?: ExtractionMethod;
  /** How it was read: `number 7/2`, `set of 2: ...`, `words "converges"`, `choice C`. */
  read?: string;
  /** What was ignored in the text (a reasoning trace, comments). */
  notes?: string[];
  /** Candidates passed over before the answer was found (last first). */
  passedOver?: string[];
}

/** Why two answers were judged equal or not: the same data the CLI's `--explain` prints. */
export interface MathExplanation {
  verdict: "equivalent" | "not equivalent" | "failed";
  /** The rule that decided (`identical`, `exact`, `rounded-decimal`, `numeric`, `sample-points`, `equation`, `set`, `choice`, `text`, `limit`...). */
  rule: string;
  /** The decision in one sentence. */
  reason: string;
  gold: SideExplanation;
  prediction: SideExplanation;
}

export interface MathEquivalence {
  equivalent: boolean;
  gold?: ExtractedAnswer;
  pred?: ExtractedAnswer;
  /** Why, in words: `identical`, `equal: ...`, `different: ...`, `no answer found in the prediction`... */
  reason: string;
  explanation: MathExplanation;
}

const extractOpts = (types: MatchType[] | undefined): ExtractOptions => ({ latex: types?.includes("latex") ?? true, expr: types?.includes("expr") ?? true });
const squash = (s: string) => s.replace(/\s+/g, "");
const hasDelimiters = (s: string) => s.includes("$") || s.includes("\\(") || s.includes("\\[") || /\\(?:boxed|fbox)/.test(s);

type GoldRead = { kind: "choice"; letter: string; answer: ExtractedAnswer } | { kind: "value"; parsed: ParsedAnswer; answer: ExtractedAnswer };
type Side = SideExplanation;

function finish(equivalent: boolean, rule: string, reason: string, gold: Side, prediction: Side, g?: ExtractedAnswer, p?: ExtractedAnswer, failed = false): MathEquivalence {
  const r: MathEquivalence = {
    equivalent,
    reason,
    explanation: { verdict: failed ? "failed" : equivalent ? "equivalent" : "not equivalent", rule, reason, gold, prediction },
  };
  if (g) r.gold = g;
  if (p) r.pred = p;
  return r;
}

const words = (s: string) => s.trim().split(/\s+/).length;
/** Explanations stay small enough to store with every verdict. */
const clip = (s: string) => (s.length > 2000 ? s.slice(0, 1999) + "…" : s);

/**
 * Parses a candidate answer. Words are an answer when boxed, or when the gold is words too and
 * they are short; a sentence of prose is only ever words. A candidate written exactly as the
 * gold is the gold, even when neither reads as math.
 */
function parseCandidate(c: Candidate, limits: MathLimits, meter: Meter, gold?: { text: string; parsed: ParsedAnswer }): ParsedAnswer | undefined {
  if (gold && squash(c.answer) === squash(gold.text)) return gold.parsed;
  const read = parseAnswer(c.answer, { plain: c.plain, limits, meter });
  const parsed = read && withUnit(read, c.unit);
  const goldIsText = gold === undefined || gold.parsed.value.kind === "text";
  if (!parsed) return undefined;
  if (parsed.value.kind !== "text") return c.prose ? undefined : parsed;
  if (c.method === "boxed") return parsed;
  if (goldIsText && words(c.answer) <= 6) return parsed;
  return undefined;
}

function readGold(gold: string, opts: MathEquivalenceOptions, choices: Choice[] | undefined, limits: MathLimits, meter: Meter, side: Side): GoldRead | undefined {
  const trimmed = trimAnswer(gold);
  const letter = choiceLetter(trimmed, choices?.map((c) => c.label).join("") || undefined);
  if (letter) return { kind: "choice", letter, answer: { answer: trimmed, method: "whole", plain: !trimmed.includes("\\") } };
  if (choices) {
    const hits = choices.filter((c) => normText(c.text) === normText(trimmed) && normText(trimmed) !== "");
    if (hits.length === 1) return { kind: "choice", letter: hits[0]!.label, answer: { answer: trimmed, method: "whole", plain: true } };
  }
  const eo = extractOpts(opts.goldMatch);
  if (!hasDelimiters(trimmed) && !/\banswer\b/i.test(trimmed)) {
    // A bare gold answer is the answer as a whole, even when it is not math.
    const plain = !trimmed.includes("\\") && looksPlain(trimmed);
    if (!(plain ? eo.expr : eo.latex) && !(eo.expr && !trimmed.includes("\\"))) return undefined;
    const answer: ExtractedAnswer = { answer: trimmed, method: "whole", plain };
    const parsed = parseAnswer(trimmed, { plain, limits, meter });
    if (parsed) return { kind: "value", parsed, answer };
    if (trimmed === "") return undefined;
    side.notes = [`not read as math (${whyNotMath(trimmed, { plain, limits }) ?? "unknown"}): compared as words`];
    return { kind: "value", parsed: { value: { kind: "text", text: trimmed.toLowerCase() }, flags: { text: true }, clean: trimmed }, answer };
  }
  const r = findAnswer(gold, (c) => parseCandidate(c, limits, meter), eo, { gold: true });
  if (r.notes.length) side.notes = r.notes;
  if (!r.found) return undefined;
  const { answer, method, plain } = r.found.candidate;
  const g = choiceLetter(answer);
  if (g) return { kind: "choice", letter: g, answer: { answer, method, plain } };
  return { kind: "value", parsed: r.found.result, answer: { answer, method, plain } };
}

function equivalence(gold: string, pred: string, opts: MathEquivalenceOptions, limits: MathLimits): MathEquivalence {
  const gs: Side = {};
  const ps: Side = {};
  if (gold.length > limits.maxInputChars) return finish(false, "limit", `the gold answer is ${gold.length} characters long; at most ${limits.maxInputChars} are read`, gs, ps, undefined, undefined, true);
  if (pred.length > limits.maxInputChars) return finish(false, "limit", `the prediction is ${pred.length} characters long; at most ${limits.maxInputChars} are read`, gs, ps, undefined, undefined, true);
  const meter = new Meter(limits);
  const ctx = makeCtx(opts, limits, meter);
  const choices = normalizeChoices(opts.choices);

  const g = readGold(gold, opts, choices, limits, meter, gs);
  if (!g) return finish(false, "no answer", "no answer found in the gold", gs, ps, undefined, undefined, true);
  gs.extracted = clip(g.answer.answer);
  gs.method = g.answer.method;
  gs.read = g.kind === "choice" ? `choice ${g.letter}` : describe(g.parsed.value);

  if (g.kind === "choice") {
    const letters = choices?.map((c) => c.label).join("") || undefined;
    const r = findAnswer(
      pred,
      (c) => {
        if (c.method === "line") {
          const l = choiceInLine(c.answer, letters);
          return l ? { letter: l } : undefined;
        }
        const read = choiceIn(c.answer, choices, opts.choiceText === true);
        // The last box is the final answer: when it names no choice, the prediction chose none.
        if (!read.letter && !read.conflict && c.method === "boxed") return { none: `the boxed answer ${JSON.stringify(c.answer.slice(0, 40))} is not a choice` };
        return read.letter || read.conflict ? read : undefined;
      },
      extractOpts(opts.predMatch),
      { phrases: /\b(?:answers?|options?|choices?)\b/gi, lines: true },
    );
    if (r.notes.length) ps.notes = r.notes;
    if (r.passedOver.length) ps.passedOver = r.passedOver.slice(0, 8);
    if (!r.found) return finish(false, "no answer", r.failure ?? "no answer found in the prediction", gs, ps, g.answer, undefined, true);
    const c = r.found.candidate;
    const p: ExtractedAnswer = { answer: c.answer, method: c.method, plain: c.plain };
    ps.extracted = clip(c.answer);
    ps.method = c.method;
    if ("none" in r.found.result) {
      ps.read = r.found.result.none;
      return finish(false, "choice", `different: ${r.found.result.none}`, gs, ps, g.answer, p);
    }
    if (r.found.result.conflict) {
      ps.read = `no choice: ${r.found.result.conflict}`;
      return finish(false, "choice", `different: the prediction names no single choice (${r.found.result.conflict})`, gs, ps, g.answer, p);
    }
    const letter = r.found.result.letter!;
    ps.read = `choice ${letter}`;
    const eq = letter === g.letter;
    return finish(eq, "choice", eq ? `equal: both choose ${letter}` : `different: choice ${g.letter} vs ${letter}`, gs, ps, g.answer, p);
  }

  const goldRef = { text: g.answer.answer, parsed: g.parsed };
  const r = findAnswer(pred, (c) => parseCandidate(c, limits, meter, goldRef), extractOpts(opts.predMatch));
  if (r.notes.length) ps.notes = r.notes;
  if (r.passedOver.length) ps.passedOver = r.passedOver.slice(0, 8);
  if (!r.found) return finish(false, "no answer", r.failure ?? "no answer found in the prediction", gs, ps, g.answer, undefined, true);
  const c = r.found.candidate;
  const p: ExtractedAnswer = { answer: c.answer, method: c.method, plain: c.plain };
  ps.extracted = clip(c.answer);
  ps.method = c.method;
  const pp = r.found.result;
  ps.read = describe(pp.value);
  if (squash(g.answer.answer) === squash(c.answer)) return finish(true, "identical", "identical", gs, ps, g.answer, p);
  const v: Verdict = answersCompared(g.parsed, pp, ctx);
  return finish(v.equal, v.rule, `${v.equal ? "equal" : "different"}: ${v.note}`, gs, ps, g.answer, p);
}

/** Whether a free-form prediction gives the gold answer, and why. Never throws: a failure is a result. */
export function mathEquivalent(gold: string, pred: string, opts: MathEquivalenceOptions = {}): MathEquivalence {
  const limits: MathLimits = opts.limits ? { ...MATH_LIMITS, ...opts.limits } : MATH_LIMITS;
  try {
    return equivalence(gold, pred, opts, limits);
  } catch (e) {
    if (e instanceof LimitReached) return finish(false, "limit", `not compared: ${e.message}`, {}, {}, undefined, undefined, true);
    // A bug must not take a batch or a server down with it: it is this check's failure.
    return finish(false, "error", `not compared: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, {}, {}, undefined, undefined, true);
  }
}

/** The explanation as lines of text (what `rlxf verify math --explain` prints). */
export function formatExplanation(e: MathExplanation): string {
  const side = (name: string, s: SideExplanation) => {
    const lines = [`${name}: ${s.extracted !== undefined ? JSON.stringify(s.extracted.length > 200 ? s.extracted.slice(0, 199) + "…" : s.extracted) : "(none)"}${s.method ? `  [${s.method}]` : ""}`];
    if (s.read) lines.push(`  read as ${s.read}`);
    for (const n of s.notes ?? []) lines.push(`  note: ${n}`);
    if (s.passedOver?.length) lines.push(`  passed over: ${s.passedOver.join("; ")}`);
    return lines;
  };
  return [`${e.verdict} (rule: ${e.rule})`, `  ${e.reason}`, ...side("gold", e.gold), ...side("prediction", e.prediction)].join("\n") + "\n";
}

export interface MathVerifierOptions extends MathEquivalenceOptions {
  name?: string;
  /** The gold answer, when every input is checked against the same one (else `reference`). */
  gold?: string;
}

/** The gold answer (and choices) a reference carries: a string or number, or `{answer | gold, choices?}`. */
function goldOf(reference: unknown): { gold: string; choices?: unknown } | undefined {
  if (typeof reference === "string" || typeof reference === "number") return { gold: String(reference) };
  if (reference && typeof reference === "object") {
    const o = reference as { answer?: unknown; gold?: unknown; choices?: unknown };
    const a = o.answer ?? o.gold;
    if (typeof a === "string" || typeof a === "number") return o.choices !== undefined ? { gold: String(a), choices: o.choices } : { gold: String(a) };
  }
  return undefined;
}

/**
 * A verifier: `reference` (or the configured `gold`) is the gold answer, a string or
 * `{answer, choices?}`; score 1 or 0. `details` carries the structured explanation.
 */
export function mathVerifier(opts: MathVerifierOptions = {}): Verifier {
  const { name = "math", gold: fixedGold, ...compare } = opts;
  return {
    name,
    type: "math",
    async verify(input: VerifyInput): Promise<VerificationResult> {
      const ref = goldOf(input.reference ?? fixedGold);
      if (!ref) throw new RlxfError("no_reference", `verifier "${name}": the gold answer (reference) must be a string, a number or {answer, choices?}`);
      const o = ref.choices !== undefined ? { ...compare, choices: ref.choices } : compare;
      const r = mathEquivalent(ref.gold, typeof input.completion === "string" ? input.completion : String(input.completion ?? ""), o);
      const details: VerificationResult["details"] = { reason: r.reason, rule: r.explanation.rule, explanation: r.explanation };
      if (r.pred) details.extracted = r.pred.answer;
      if (r.pred) details.method = r.pred.method;
      if (r.gold) details.gold = r.gold.answer;
      if (r.explanation.verdict === "failed") details.error = r.reason;
      return { passed: r.equivalent, score: r.equivalent ? 1 : 0, details };
    },
  };
}

