/**
 * Finding the final answer in a free-form solution, the way a careful grader reads it.
 *
 * The text a reader sees is read (see `prepareText`): what follows the last `</think>`, without
 * HTML and LaTeX comments. Then, in order:
 *
 * 1. a short text with no math delimiters that parses as a whole (`-10/9`, `x <= 2`) is its own answer;
 * 2. the last of: a group of `\boxed{}` answers (several boxes separated only by `and`, commas
 *    or spacing are one answer: `\boxed{-2} and \boxed{1}` is the set {-2, 1}), and
 *    `final answer` phrases (the Minerva format) or `#### X` (GSM8K); whichever comes later wins;
 * 3. the last `the answer is X` / `Answer: X` (a negated one, `the answer is not 5`, is no answer);
 * 4. the last math region or number (`$$X$$`, `\[X\]`, `\(X\)`, `$X$`, `42`): the latest sentence
 *    first, and in a sentence its math before its prose numbers;
 * 5. for a multiple-choice gold, the closing lines (`Therefore, the correct statement is (B).`).
 *
 * A candidate that does not read as an answer is passed over for the next one. Every scan is
 * linear in the text and the number of candidates tried is capped.
 */
import { LimitReached } from "./limits.js";
import { parseAnswer } from "./parse.js";
import { findBoxes, mathRegions, numbersIn, prepareText, type Region } from "./text.js";

export { lastBoxed } from "./text.js";

export type ExtractionMethod = "whole" | "final-answer" | "boxed" | "answer-phrase" | "math" | "number" | "line";

export interface ExtractedAnswer {
  answer: string;
  method: ExtractionMethod;
  /** Read as a plain expression rather than as LaTeX. */
  plain: boolean;
}

export interface ExtractOptions {
  /** Look at LaTeX (boxed, math environments). Default true. */
  latex?: boolean;
  /** Look at plain expressions and numbers. Default true. */
  expr?: boolean;
}

/** A candidate answer and where it was found. */
export interface Candidate extends ExtractedAnswer {
  /** Position in the prepared text (later is preferred). */
  pos: number;
  /** The boxes of a group, when it is one. */
  parts?: string[];
  /** A sentence of prose after an answer phrase (words, not math). */
  prose?: boolean;
}

export interface Extraction<T> {
  found?: { candidate: Candidate; result: T };
  /** What preparing the text removed. */
  notes: string[];
  /** Candidates passed over, last first, with why. */
  passedOver: string[];
  /** Why there is no answer at all, when there is a reason beyond "none found". */
  failure?: string;
}

const MAX_PER_TIER = 24;
const MAX_TAIL = 60;

const hasDelimiters = (s: string) => s.includes("$") || s.includes("\\(") || s.includes("\\[") || /\\(?:boxed|fbox)/.test(s);
/** Plain text: no LaTeX commands, and words like sqrt or pi that only plain text spells out. */
export const looksPlain = (s: string) => !s.includes("\\") && /\b(?:sqrt|sin|cos|tan|ln|log|exp|abs|pi|inf|infinity|oo)\b|\*\*|\d[eE][-+]?\d/.test(s);

const MATH_WORDS = new Set(["sin", "cos", "tan", "sec", "csc", "cot", "log", "exp", "sqrt", "abs", "inf", "infty", "infinity", "and", "mod", "gcd", "lcm", "max", "min", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "deg", "rad", "pct"]);

/** Prose: a word of three letters or more that is not a command (`\frac`), a command's argument (`\begin{pmatrix}`) or a function name. */
export function isProse(s: string): boolean {
  for (const m of s.slice(0, 2000).matchAll(/(?<![\\a-zA-Z])(?<!\\[a-zA-Z]+\{\s*)[A-Za-z]{3,}/g)) if (!MATH_WORDS.has(m[0].toLowerCase())) return true;
  return false;
}

const LABEL = /([A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?'*)\s*=\s*$/;

/**
 * Between two answers: only joining words, commas and spacing (they are one answer), possibly
 * ending in a label for the next one (`and \( y_2 = `).
 */
function joins(between: string): { ok: boolean; label?: string } {
  if (between.length > 80) return { ok: false };
  let rest = between
    .replace(/\\(?:text|textbf|textrm|mathrm|mbox)\s*\{([^{}]*)\}/g, " $1 ")
    .replace(/\\(?:quad|qquad|,|;|:|!| )|\\\\|\\\(|\\\)|\\\[|\\\]|\$|~|&|\*\*/g, " ")
    .trim();
  let label: string | undefined;
  const m = LABEL.exec(rest);
  if (m) {
    label = m[1]!;
    rest = rest.slice(0, m.index);
  }
  const ok = (x: boolean) => (x ? (label ? { ok: true, label } : { ok: true }) : { ok: false });
  if (rest.replace(/[\s,;]+/g, "") === "") return ok(true);
  // A few words around a joining word: `papers and`, `for part (a) and`.
  const tokens = rest.split(/[\s,;]+/).filter((w) => w !== "");
  const connectives = tokens.filter((w) => /^(?:and|or)$/i.test(w)).length + (/[,;]/.test(rest) ? 1 : 0);
  const others = tokens.filter((w) => !/^(?:and|or)$/i.test(w));
  return ok(connectives > 0 && others.length <= 3 && others.every((w) => /^\(?[A-Za-z]+\)?[.:]?$/.test(w)));
}

interface Span {
  start: number;
  end: number;
  content: string;
}

/**
 * Groups of answers (boxes, or math regions) that read as one, in text order: neighbours
 * separated only by joining words, or (`sameRegion`) boxes in one display. With labels on every
 * member (`y_1 = \boxed{...}` and `y_2 = \boxed{...}`) the labels are kept.
 */
function groups(text: string, spans: Span[], method: ExtractionMethod, regions: Region[]): Candidate[] {
  const regionOf = (b: Span) => regions.find((r) => r.start <= b.start && b.end <= r.end);
  const out: Candidate[] = [];
  let i = spans.length - 1;
  while (i >= 0 && out.length < MAX_PER_TIER) {
    const group: Span[] = [spans[i]!];
    const labels: Array<string | undefined> = [undefined];
    let j = i - 1;
    while (j >= 0 && group.length < 64) {
      const prev = spans[j]!;
      const between = text.slice(prev.end, group[0]!.start);
      const jn = joins(between);
      const region = regionOf(prev);
      const sameRegion = method === "boxed" && region !== undefined && region === regionOf(group[0]!) && between.length <= 60;
      if (!jn.ok && !sameRegion) break;
      labels[0] = jn.label;
      group.unshift(prev);
      labels.unshift(undefined);
      j--;
    }
    if (group.length > 1) {
      const lead = LABEL.exec(text.slice(Math.max(0, group[0]!.start - 30), group[0]!.start).replace(/(?:\$|\\\(|\\\[|\s)+$/, ""));
      labels[0] = lead?.[1];
    }
    const labelled = group.length > 1 && labels.every((l) => l !== undefined);
    const parts = [...new Set(group.map((b, k) => (labelled ? `${labels[k]} = ${b.content.trim()}` : b.content.trim())).filter((c) => c !== ""))];
    if (parts.length) out.push({ answer: parts.join(", "), method, plain: false, pos: group[group.length - 1]!.start, ...(parts.length > 1 ? { parts } : {}) });
    i = j;
  }
  return out.reverse();
}

/** Positions just after each match of a phrase (the last `max`). */
function phraseEnds(text: string, re: RegExp, max: number, skip?: (index: number) => boolean): number[] {
  const ends: number[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (skip?.(m.index)) continue;
    ends.push(m.index + m[0].length);
    if (ends.length > max * 4) ends.splice(0, ends.length - max);
  }
  return ends.slice(-max);
}

const LEADING_MATH = /^(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([^\n]+?)\\\)|\$((?:\\\$|[^\n$])+?)\$)/;

/** What follows an answer phrase: leading math, the sentence as an answer, or its first number. */
function answersAfter(text: string, end: number, opts: Required<ExtractOptions>, method: ExtractionMethod, negated?: Span[]): Candidate[] {
  const raw = text.slice(end, end + 800);
  let s = raw.replace(/^[\s*_]*(?:\(s\))?[\s*_]*(?:is|are|was|will be|would be|should be|=|:|of)?[\s*_]*:?[\s*_]*/i, "");
  s = s.replace(/^(?:the final answer is|the answer is)\s*:?\s*/i, "");
  if (/^(?:not\b|n't\b|never\b|no longer\b|incorrect\b|wrong\b)/i.test(s)) {
    // "The answer is not 5": 5 is no answer, here or as a stray number.
    const stop = s.search(/\n|\.(?=\s|$)/);
    negated?.push({ start: end, end: end + (raw.length - s.length) + (stop < 0 ? s.length : stop), content: "" });
    return [];
  }
  const out: Candidate[] = [];
  if (opts.latex) {
    if (/^\\(?:boxed|fbox)/.test(s)) return []; // the box is a candidate of its own
    const m = LEADING_MATH.exec(s);
    if (m) return [{ answer: (m[1] ?? m[2] ?? m[3] ?? m[4] ?? "").trim(), method, plain: false, pos: end }];
    if (/^(?:\$|\\\(|\\\[)/.test(s)) return []; // malformed math: nothing to read
  }
  if (!opts.expr) return out;
  const sentence = s.split(/\n|\.(?=\s|$)|\bI hope\b/)[0]!.replace(/\*\*/g, "").trim();
  if (sentence === "") return out;
  if (!hasDelimiters(sentence)) {
    const prose = isProse(sentence);
    out.push({ answer: sentence, method, plain: !sentence.includes("\\") && looksPlain(sentence), pos: end, ...(prose ? { prose } : {}) });
  }
  const first = numbersIn(sentence)[0];
  if (first && first.text !== sentence) out.push({ answer: first.text, method, plain: true, pos: end });
  return out;
}

/**
 * Finds the final answer: tries candidates in order and returns the first that `accept` reads
 * (accept returns undefined to pass one over, or throws `LimitReached`).
 */
export interface FindOptions {
  /** Answer phrases to look for (default `answer`/`answers`). */
  phrases?: RegExp;
  /** A gold answer: neighbouring math regions joined by `and` or commas are one answer. */
  gold?: boolean;
  /** Last resort: the closing lines themselves (a multiple-choice answer in a sentence). */
  lines?: boolean;
}

export function findAnswer<T>(raw: string, accept: (c: Candidate) => T | undefined, options: ExtractOptions = {}, find: FindOptions = {}): Extraction<T> {
  const opts: Required<ExtractOptions> = { latex: options.latex ?? true, expr: options.expr ?? true };
  const prepared = prepareText(raw);
  const result: Extraction<T> = { notes: prepared.notes, passedOver: [] };
  if (prepared.unclosedThinking) {
    result.failure = prepared.notes[0]!;
    return result;
  }
  const t = prepared.text;
  if (t === "") return result;
  const tried = new Set<string>();
  const attempt = (c: Candidate): boolean => {
    const key = `${c.plain}\u0000${c.answer}`;
    if (tried.has(key)) return false;
    tried.add(key);
    try {
      const r = accept(c);
      if (r !== undefined) {
        result.found = { candidate: c, result: r };
        return true;
      }
      result.passedOver.push(`${c.method}: ${c.answer.slice(0, 60)}`);
    } catch (e) {
      if (!(e instanceof LimitReached)) throw e;
      result.passedOver.push(`${c.method}: ${e.message}`);
    }
    return false;
  };

  // 1. The whole text.
  if (!hasDelimiters(t) && t.length <= 200 && !/\banswer\b/i.test(t)) {
    const plain = !t.includes("\\");
    const prose = isProse(t);
    if ((plain ? opts.expr : opts.latex) && attempt({ answer: t, method: "whole", plain: plain && looksPlain(t), pos: 0, ...(prose ? { prose } : {}) })) return result;
  }

  const regions = mathRegions(t);
  const boxes = findBoxes(t);
  const negated: Span[] = [];
  // 2. Boxes and final-answer phrases, last first.
  const tier1: Candidate[] = [];
  if (opts.latex) tier1.push(...groups(t, boxes, "boxed", regions.valid));
  // `####` closes a GSM8K-style solution.
  for (const end of phraseEnds(t, /\bfinal\s+answers?\b|####/gi, MAX_PER_TIER)) tier1.push(...answersAfter(t, end, opts, "final-answer", negated));
  tier1.sort((a, b) => b.pos - a.pos);
  for (const c of tier1) if (attempt(c)) return result;

  // 3. Answer phrases, last first.
  const re = find.phrases ?? /\banswers?\b/gi;
  const tier2: Candidate[] = [];
  for (const end of phraseEnds(t, re, MAX_PER_TIER, (i) => /final\s+$/i.test(t.slice(Math.max(0, i - 8), i)))) tier2.push(...answersAfter(t, end, opts, "answer-phrase", negated));
  tier2.sort((a, b) => b.pos - a.pos);
  for (const c of tier2) if (attempt(c)) return result;

  // 4. The last math regions and numbers.
  const tail: Candidate[] = [];
  if (opts.latex) {
    const last = regions.valid.slice(-MAX_TAIL);
    if (find.gold) tail.push(...groups(t, last, "math", []).map((c) => ({ ...c, pos: c.pos + 1 })));
    else for (const r of last) tail.push({ answer: r.content, method: "math", plain: false, pos: r.end });
  }
  if (opts.expr) {
    // Numbers inside math, boxes or a negated answer are not prose numbers.
    const blocked: Span[] = [...regions.valid, ...regions.malformed, ...boxes, ...negated].sort((a, b) => a.start - b.start);
    const nums = numbersIn(t);
    let k = 0;
    // Blocked spans may overlap: keep the furthest end seen so far.
    let reach = -1;
    const prose = nums.filter((n) => {
      while (k < blocked.length && blocked[k]!.start <= n.start) reach = Math.max(reach, blocked[k++]!.end);
      return n.start >= reach;
    });
    for (const n of prose.slice(-MAX_TAIL)) tail.push({ answer: n.text, method: "number", plain: true, pos: n.end });
  }
  // Latest sentence first; within a sentence, its math before its prose numbers ("$\frac{1}{6}$, or about 16.7%").
  const newlines: number[] = [];
  for (const m of t.matchAll(/\n|[.!?](?=\s|$)/g)) newlines.push(m.index!);
  // A displayed formula ends its sentence too.
  for (const r of regions.valid) if (r.display) newlines.push(r.end - 1);
  newlines.sort((a, b) => a - b);
  const lineOf = (pos: number) => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newlines[mid]! < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const key = (c: Candidate) => lineOf(c.pos - 1) * 2 + (c.method === "math" ? 1 : 0);
  tail.sort((a, b) => key(b) - key(a) || b.pos - a.pos);
  for (const c of tail.slice(0, MAX_TAIL)) if (attempt(c)) return result;

  // 5. The closing lines.
  if (find.lines) {
    let end = t.length;
    for (let k = 0; k < 5 && end > 0; k++) {
      const start = t.lastIndexOf("\n", end - 1) + 1;
      const line = t.slice(start, end).trim();
      end = start - 1;
      if (line === "") {
        k--;
        continue;
      }
      if (attempt({ answer: line.slice(0, 600), method: "line", plain: true, pos: start })) return result;
    }
  }
  return result;
}

/** Whether a candidate reads as an answer: it parses as math, or it is a few words (boxed, or short and not prose). */
export function readsAsAnswer(c: Candidate): boolean {
  try {
    const p = parseAnswer(c.answer, { plain: c.plain });
    if (!p) return false;
    if (p.value.kind !== "text") return !c.prose;
    return c.method === "boxed" || (!c.prose && c.answer.trim().split(/\s+/).length <= 4);
  } catch (e) {
    if (e instanceof LimitReached) return false;
    throw e;
  }
}

/** The final answer of a free-form solution, or undefined when there is none. */
export function extractAnswer(text: string, options: ExtractOptions = {}): ExtractedAnswer | undefined {
  const r = findAnswer(text, (c) => (readsAsAnswer(c) ? true : undefined), options);
  if (!r.found) return undefined;
  const { answer, method, plain } = r.found.candidate;
  return { answer, method, plain };
}
