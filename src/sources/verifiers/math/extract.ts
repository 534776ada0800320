/**
 * Finding the final answer in a free-form solution, the way a careful grader reads it.
 *
 * The text a reader sees is read (see `prepareText`): what follows the last `</think>`, without
 * HTML and LaTeX comments. Then, in order (the spirit of Math-Verify's priorities: a box or a
 * `final answer` phrase, then an `answer` phrase, then the last expression):
 *
 * 1. a short text with no math delimiters that is not prose and parses as a whole (`-10/9`,
 *    `x <= 2`, `2\sqrt{3}`, `1 1/2`, `twelve`) is its own answer;
 * 2. the last of: a group of `\boxed{}` answers (several boxes separated only by `and`, commas
 *    or spacing are one answer: `\boxed{-2} and \boxed{1}` is the set {-2, 1}), and
 *    `final answer` phrases (the Minerva format) or `#### X` (GSM8K); whichever comes later wins;
 * 3. the last `the answer is X` / `Answer: X` / `Answer - X` (a negated one, `the answer is not
 *    5`, is no answer): the math right after it, the rest of its sentence when that is not prose,
 *    else the first expression in that sentence (`The answer is 12 apples.`: 12);
 * 4. an answer given first: a first line that is only a value (`42`, `**3/4**`, `$\frac{1}{2}$`),
 *    followed by its reasoning with no second thoughts (`wait`, `actually`);
 * 5. the last expression: math regions (`$$X$$`, `\[X\]`, `\(X\)`, `$X$`) and expressions in
 *    prose (see prose.ts: `x = 5`, `3/4`, `2\sqrt{3}`, `3.2 × 10^5`, `25%`, `1,000`, never a
 *    run of words such as `it is`), the latest sentence first and in a sentence the latest,
 *    except that a restatement (`1/6, or about 16.7%`) comes after what it restates, and
 *    expressions joined only by `and`/`or` are one list; a negated one (`It is 6, not 5`) is none;
 * 6. with no number in digits at all, the last number in words (`The result is negative seven.`);
 * 7. for a multiple-choice gold, the closing lines (`Therefore, the correct statement is (B).`).
 *
 * A candidate that does not read as an answer is passed over for the next one. Every scan is
 * linear in the text and the number of candidates tried is capped.
 */
import { LimitReached } from "./limits.js";
import type { ParsedAnswer } from "./parse.js";
import { parseAnswer } from "./parse.js";
import { type Blocked, isProse, joinedBy, leadingNumberPhrase, negatedBefore, numberWordsIn, proseExpressions, restatement } from "./prose.js";
import { findBoxes, mathRegions, prepareText, type Region } from "./text.js";

export { isProse } from "./prose.js";

export { lastBoxed } from "./text.js";

export type ExtractionMethod = "whole" | "final-answer" | "boxed" | "answer-phrase" | "leading" | "math" | "expression" | "number" | "line";

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
  /** A unit word that followed it in prose (`5 cm`). */
  unit?: string;
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

/** `A: 5` opening a line: the answer of a question-and-answer format. */
const ANSWER_LABEL = /(?:^|\n)[ \t]*A:[ \t]/;

const MAX_PER_TIER = 24;
const MAX_TAIL = 60;

const hasDelimiters = (s: string) => s.includes("$") || s.includes("\\(") || s.includes("\\[") || /\\(?:boxed|fbox)/.test(s);
/** Plain text: no LaTeX commands, and words like sqrt or pi that only plain text spells out. */
export const looksPlain = (s: string) => !s.includes("\\") && /\b(?:sqrt|sin|cos|tan|ln|log|exp|abs|pi|inf|infinity|oo)\b|\*\*|\d[eE][-+]?\d/.test(s);

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

/** Groups of prose expressions and math regions read as one answer (`2 and 3`, `x = 2 or x = -3`, `1, 2, 3`). */
interface Item {
  start: number;
  end: number;
  cand: Candidate;
}

/**
 * Runs of items that are one list: neighbours joined only by `and`/`or`, or by commas when
 * there are three or more of them or they are all equations. Returns each run of two or more.
 */
function lists(text: string, items: Item[]): Array<{ members: Item[] }> {
  const out: Array<{ members: Item[] }> = [];
  let run: Item[] = [];
  let words = false;
  const close = () => {
    if (run.length >= 2 && (words || run.length >= 3 || run.every((m) => m.cand.answer.includes("=")))) out.push({ members: run });
    run = [];
    words = false;
  };
  for (const it of items) {
    const prev = run[run.length - 1];
    const how = prev ? joinedBy(text.slice(prev.end, it.start)) : undefined;
    if (prev && how) {
      run.push(it);
      words ||= how !== "comma";
    } else {
      close();
      run = [it];
    }
  }
  close();
  return out;
}

/** A list's candidate: its members' answers as one comma-separated answer, at the last member. */
function listCandidate(members: Item[], method: ExtractionMethod): Candidate {
  const parts = members.map((m) => m.cand.answer.trim());
  return { answer: parts.join(", "), method, plain: members.every((m) => m.cand.plain), pos: members[members.length - 1]!.cand.pos, parts };
}

/** Expression candidates for the prose between `from` and `to`: in text order, negated ones left out. */
function proseItems(text: string, from: number, to: number, blocked: Blocked[], keep?: number): Item[] {
  return proseExpressions(text, from, to, blocked, keep)
    .filter((e) => !negatedBefore(text, e.start))
    .map((e) => {
      const cand: Candidate = { answer: e.text, method: e.number ? "number" : "expression", plain: looksPlain(e.text), pos: e.end };
      if (e.unit !== undefined) cand.unit = e.unit;
      return { start: e.start, end: e.end, cand };
    });
}

/**
 * What follows an answer phrase: leading math, the sentence as an answer (when it is not
 * prose), the number in words it starts with, or its first expression (or list).
 */
function answersAfter(text: string, end: number, opts: Required<ExtractOptions>, method: ExtractionMethod, blocked: Blocked[]): Candidate[] {
  const raw = text.slice(end, end + 800);
  // `Answer - 3/4`: a dash between spaces is punctuation (`Answer -3/4` is negative).
  let s = raw.replace(/^[ \t]+[-–—][ \t]+/, " ");
  s = s.replace(/^[\s*_]*(?:\(s\))?[\s*_]*(?:is|are|was|will be|would be|should be|=|:|of)?[\s*_]*:?[\s*_]*/i, "");
  s = s.replace(/^(?:the final answer is|the answer is)\s*:?\s*/i, "");
  // "The answer is not 5": 5 is no answer, here or as a stray number (see negatedBefore).
  if (/^(?:not\b|n't\b|never\b|no longer\b|incorrect\b|wrong\b)/i.test(s)) return [];
  const at = end + raw.length - s.length;
  const out: Candidate[] = [];
  if (opts.latex) {
    if (/^\\(?:boxed|fbox)/.test(s)) return []; // the box is a candidate of its own
    const m = LEADING_MATH.exec(s);
    if (m) return [{ answer: (m[1] ?? m[2] ?? m[3] ?? m[4] ?? "").trim(), method, plain: false, pos: end }];
    if (/^(?:\$|\\\(|\\\[)/.test(s)) return []; // malformed math: nothing to read
  }
  if (!opts.expr) return out;
  const stop = s.search(/\n|\.(?=\s|$)|\bI hope\b/);
  const sentence = (stop < 0 ? s : s.slice(0, stop)).replace(/\*\*/g, "").trim();
  if (sentence === "") return out;
  if (!hasDelimiters(sentence)) {
    const prose = isProse(sentence);
    out.push({ answer: sentence, method, plain: !sentence.includes("\\") && looksPlain(sentence), pos: end, ...(prose ? { prose } : {}) });
    const words = leadingNumberPhrase(sentence);
    if (words !== undefined && prose) out.push({ answer: words, method, plain: true, pos: end });
  }
  const items = proseItems(text, at, at + (stop < 0 ? s.length : stop), blocked, 16);
  if (items.length) {
    const first = lists(text, items)[0];
    if (first && first.members[0] === items[0]) out.push({ ...listCandidate(first.members, method), pos: end });
    if (items[0]!.cand.answer !== sentence) out.push({ ...items[0]!.cand, method, pos: end });
  }
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

/** Second thoughts after an answer given first: the reasoning changed it. */
const SECOND_THOUGHTS = /\b(?:wait|actually|correction|mistake|oops|sorry|re-?check|re-?calculat\w*|instead|however|but)\b/i;
/** What opens the reasoning after an answer given first on the same line (`12. Because ...`). */
const EXPLANATION = /^[\s*_#>]*(?:explanation|reasoning|reason|because|since|this is because|here'?s why|here is why|why|justification|work(?:ing)?|solution|steps?\b|to see (?:this|why)|proof)\b/i;

/**
 * An answer given first: the first line (or first sentence, when the reasoning opens with
 * `Because`, `Explanation:`...) is only a value: a number, a fraction, a percentage, a math
 * region, a choice letter. Undefined when the rest has second thoughts.
 */
function leadingAnswer(t: string, regions: Region[]): Candidate | undefined {
  const nl = t.indexOf("\n");
  if (nl < 0 && !/[.!:]\s/.test(t.slice(0, 80))) return undefined;
  let lineEnd = nl < 0 ? t.length : nl;
  let rest = t.slice(lineEnd);
  const sentence = /^[^\n]{1,80}?[.!:](?=\s)/.exec(t);
  if (sentence && sentence[0].length < lineEnd && EXPLANATION.test(t.slice(sentence[0].length, sentence[0].length + 40))) {
    lineEnd = sentence[0].length;
    rest = t.slice(lineEnd);
  }
  if (lineEnd > 80 || rest.trim() === "" || SECOND_THOUGHTS.test(rest.slice(0, 20_000))) return undefined;
  const line = t
    .slice(0, lineEnd)
    .replace(/^[\s#>]*/, "")
    .replace(/[.!:]$/, "")
    .replace(/\*\*|__/g, "")
    .trim();
  if (line === "") return undefined;
  const region = regions[0];
  if (region && region.start <= t.indexOf(line) + 2 && region.end >= lineEnd - 2 && /^(?:\$|\\\(|\\\[)/.test(line)) {
    if (/[=<>]|\\(?:le|ge|leq|geq|neq|ne|approx)\b|\\text/.test(region.content)) return undefined;
    return { answer: region.content, method: "leading", plain: false, pos: 0 };
  }
  if (hasDelimiters(line)) return undefined;
  // A number (with its sign, separators, decimals, a fraction, percent, scientific notation), or a choice letter.
  if (/^\(?[A-J]\)?$/.test(line) || /^[-−+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:\s?\d+\/\d+|\/\d+)?(?:e[-+]?\d+|\s?[×x*]\s?10\^[-+]?\d+)?\s?%?$/.test(line) && /\d/.test(line)) {
    return { answer: line, method: "leading", plain: true, pos: 0 };
  }
  return undefined;
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
    const key = `${c.plain}\u0000${c.prose ?? false}\u0000${c.answer}\u0000${c.unit ?? ""}`;
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
  if (!hasDelimiters(t) && t.length <= 200 && !/\banswer\b/i.test(t) && !ANSWER_LABEL.test(t)) {
    const plain = !t.includes("\\");
    const prose = isProse(t);
    if ((plain ? opts.expr : opts.latex) && attempt({ answer: t, method: "whole", plain: plain && looksPlain(t), pos: 0, ...(prose ? { prose } : {}) })) return result;
  }

  const regions = mathRegions(t);
  const boxes = findBoxes(t);
  // Prose is what lies outside math regions and boxes.
  const blocked: Blocked[] = [...regions.valid, ...regions.malformed, ...boxes].sort((a, b) => a.start - b.start);
  // 2. Boxes and final-answer phrases, last first.
  const tier1: Candidate[] = [];
  if (opts.latex) tier1.push(...groups(t, boxes, "boxed", regions.valid));
  // `####` closes a GSM8K-style solution.
  for (const end of phraseEnds(t, /\bfinal\s+answers?\b|####/gi, MAX_PER_TIER)) tier1.push(...answersAfter(t, end, opts, "final-answer", blocked));
  tier1.sort((a, b) => b.pos - a.pos);
  for (const c of tier1) if (attempt(c)) return result;

  // 3. Answer phrases, last first.
  const re = find.phrases ?? /\banswers?\b|(?:^|\n)[ \t]*A:(?=[ \t])/gi;
  const tier2: Candidate[] = [];
  for (const end of phraseEnds(t, re, MAX_PER_TIER, (i) => /final\s+$/i.test(t.slice(Math.max(0, i - 8), i)))) tier2.push(...answersAfter(t, end, opts, "answer-phrase", blocked));
  tier2.sort((a, b) => b.pos - a.pos);
  for (const c of tier2) if (attempt(c)) return result;

  // 4. An answer given first, then its reasoning.
  const lead = leadingAnswer(t, regions.valid);
  if (lead && (lead.plain ? opts.expr : opts.latex) && attempt(lead)) return result;

  // 5. The last expressions: math regions and expressions in prose.
  const items: Item[] = [];
  if (opts.latex) {
    for (const r of regions.valid.slice(-MAX_TAIL)) {
      if (negatedBefore(t, r.start)) continue;
      items.push({ start: r.start, end: r.end, cand: { answer: r.content, method: "math", plain: false, pos: r.end } });
    }
  }
  if (opts.expr) items.push(...proseItems(t, 0, t.length, blocked, MAX_TAIL));
  items.sort((a, b) => a.start - b.start);
  // Sentences end at a line break, at `.`, `!` or `?` before a space, and after displayed math.
  const stops: number[] = [];
  for (const m of t.matchAll(/\n|[.!?](?=\s|$)/g)) stops.push(m.index);
  for (const r of regions.valid) if (r.display) stops.push(r.end - 1);
  stops.sort((a, b) => a - b);
  const sentenceOf = (pos: number) => {
    let lo = 0;
    let hi = stops.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (stops[mid]! < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Order: latest sentence first; in a sentence, latest first, but a restatement after what it
  // restates, and a list before its last member.
  const ranked: Array<{ cand: Candidate; sentence: number; rank: number; sub: number }> = [];
  let chainEnd = items.length - 1;
  for (let k = items.length - 1; k >= 0; k--) {
    const it = items[k]!;
    const sentence = sentenceOf(it.start);
    // The chain of restatements this item opens runs to chainEnd.
    const restates = k > 0 && sentenceOf(items[k - 1]!.start) === sentence && restatement(t.slice(items[k - 1]!.end, it.start));
    ranked.push({ cand: it.cand, sentence, rank: items[chainEnd]!.start, sub: k });
    if (!restates) chainEnd = k - 1;
  }
  for (const l of lists(t, items)) {
    const lastMember = l.members[l.members.length - 1]!;
    const mixed = new Set(l.members.map((m) => m.cand.method === "math")).size > 1;
    if (mixed || sentenceOf(l.members[0]!.start) !== sentenceOf(lastMember.start)) continue;
    const method: ExtractionMethod = lastMember.cand.method === "math" ? "math" : "expression";
    ranked.push({ cand: listCandidate(l.members, method), sentence: sentenceOf(lastMember.start), rank: lastMember.start, sub: -1 });
  }
  if (find.gold && opts.latex) {
    // A gold's neighbouring regions joined by a few words are one answer too (`$y_1 = 2$ and $y_2 = 3$`).
    const last = regions.valid.slice(-MAX_TAIL);
    for (const g of groups(t, last, "math", [])) if (g.parts) ranked.push({ cand: g, sentence: sentenceOf(g.pos), rank: g.pos, sub: -2 });
  }
  ranked.sort((a, b) => b.sentence - a.sentence || b.rank - a.rank || a.sub - b.sub);
  for (const r of ranked.slice(0, MAX_TAIL)) if (attempt(r.cand)) return result;

  // 6. No number in digits at all: a number in words (`The result is negative seven.`), the last first.
  if (opts.expr && ranked.length === 0) {
    for (const w of numberWordsIn(t).reverse()) {
      if (blocked.some((b) => b.start <= w.start && w.end <= b.end) || negatedBefore(t, w.start)) continue;
      if (attempt({ answer: w.value, method: "number", plain: true, pos: w.end })) return result;
    }
  }

  // 7. The closing lines.
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

/** A unit read from the prose next to a value (`5 cm`) joins the value's own flags. */
export function withUnit(p: ParsedAnswer, unit: string | undefined): ParsedAnswer {
  if (unit === undefined || unit === "unit" || p.value.kind !== "expr" || p.value.flags?.unit !== undefined) return p;
  if (unit === "deg") return { ...p, value: { ...p.value, flags: { ...p.value.flags, degrees: true } }, flags: { ...p.flags, degrees: true } };
  return { ...p, value: { ...p.value, flags: { ...p.value.flags, unit } }, flags: { ...p.flags, unit } };
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
