/**
 * Finding the final answer in a free-form solution. In order of priority:
 *
 * 1. `final answer is X` / `Final Answer: X` (the Minerva format): the model said which it is;
 * 2. the last `\boxed{X}` (or `\fbox{X}`);
 * 3. `the answer is X`, `Answer: X`, `Answer $X$`;
 * 4. the last LaTeX math that parses: `$$X$$`, `\[X\]` (may span lines), `$X$`, `\(X\)`
 *    (one line: inline math does not cross a line break);
 * 5. the last number in the text (thousands separators read), outside malformed math.
 *
 * A short text with no math delimiters that parses as a whole (`-10/9`, `1,22`, `x <= 2`) is
 * its own answer, before all of these.
 */
import { closingBrace, repairEscapes } from "./normalize.js";
import { parseAnswer } from "./parse.js";

export type ExtractionMethod = "whole" | "final-answer" | "boxed" | "answer-phrase" | "math" | "number";

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

const NUMBER_RE = /-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|-?\d+(?:\.\d+)?|-?\.\d+/g;

/** Math regions: display math may span lines; inline math may not. */
const MATH_RE = /(?<!\\)\$\$([\s\S]+?)(?<!\\)\$\$|(?<!\\)\\\[([\s\S]+?)(?<!\\)\\\]|(?<!\\)\\\(([^\n]+?)(?<!\\)\\\)|(?<![\\\d$])\$((?:\\\$|[^\n$])+?)(?<!\\)\$/g;

/** Regions that look like math but are not well-formed (`\(` ... newline ... `\)`): not mined for numbers. */
const MALFORMED_RE = /(?<!\\)\\\([\s\S]*?(?<!\\)\\\)|(?<!\\)\\\[[\s\S]*?(?<!\\)\\\]|(?<!\\)\$\$[\s\S]*?(?<!\\)\$\$/g;

const hasDelimiters = (s: string) => /\$|\\\(|\\\[|\\boxed|\\fbox/.test(s);
const looksLatex = (s: string) => s.includes("\\");

/** `$...$` content that has no words in it: meant as math, so not mined for numbers when it does not parse. */
const mathLike = (content: string) => !/(?<![\\a-zA-Z])[a-zA-Z]{2,}/.test(content);

function lastNumber(text: string): string | undefined {
  const cleaned = text
    .replace(MALFORMED_RE, " ")
    .replace(MATH_RE, (m, ...groups: unknown[]) => {
      const content = String(groups[3] ?? "");
      return groups[3] !== undefined && mathLike(content) && !parses(content, false) ? " " : m;
    });
  const all = cleaned.match(NUMBER_RE);
  return all ? all[all.length - 1] : undefined;
}

/** The content of the last `\boxed{...}` or `\fbox{...}`. */
export function lastBoxed(text: string): string | undefined {
  const re = /\\(?:boxed|fbox)\s*\{/g;
  let found: string | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const open = m.index + m[0].length - 1;
    const close = closingBrace(text, open);
    if (close > open) found = text.slice(open + 1, close);
  }
  if (found === undefined) {
    const bare = [...text.matchAll(/\\boxed\s+([^\s$]+)/g)];
    if (bare.length) found = bare[bare.length - 1]![1];
  }
  return found;
}

/** All math regions in order, with their content. */
function mathRegions(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(MATH_RE)) out.push((m[1] ?? m[2] ?? m[3] ?? m[4] ?? "").trim());
  return out.filter((s) => s.length > 0);
}

/** If `s` starts with a math region or a box, its content. */
function leadingMath(s: string): string | undefined {
  const t = s.trimStart();
  if (/^\\(?:boxed|fbox)\s*\{/.test(t)) return lastBoxed(t.slice(0, closingBrace(t, t.indexOf("{")) + 1));
  const m = /^(?:\$\$([\s\S]+?)(?<!\\)\$\$|\\\[([\s\S]+?)(?<!\\)\\\]|\\\(([^\n]+?)(?<!\\)\\\)|\$((?:\\\$|[^\n$])+?)(?<!\\)\$)/.exec(t);
  if (m) return (m[1] ?? m[2] ?? m[3] ?? m[4] ?? "").trim();
  return undefined;
}

const parses = (s: string, plain: boolean) => parseAnswer(s, { plain }) !== undefined;

/** What follows an answer phrase: leading math, or the sentence read as a plain answer, or its last number. */
function answerAfter(rest: string, opts: Required<ExtractOptions>): { answer: string; plain: boolean } | undefined {
  const s = rest.replace(/^\s*(?:the final answer is|is|:|=)\s*:?\s*/i, "");
  if (opts.latex) {
    const lead = leadingMath(s);
    if (lead !== undefined) return { answer: lead, plain: false };
    if (/^\s*(?:\$|\\\(|\\\[)/.test(s)) return undefined; // a malformed math region: nothing to read
  }
  if (!opts.expr) return undefined;
  const sentence = s.split(/\n|\.(?=\s|$)|\bI hope\b/)[0]!.trim();
  if (sentence === "") return undefined;
  if (!hasDelimiters(sentence) && parses(sentence, !looksLatex(sentence))) return { answer: sentence, plain: !looksLatex(sentence) };
  const n = lastNumber(sentence);
  return n !== undefined ? { answer: n, plain: true } : undefined;
}

function lastMatchEnd(text: string, re: RegExp): number | undefined {
  let end: number | undefined;
  for (const m of text.matchAll(re)) end = m.index! + m[0].length;
  return end;
}

/** The final answer of a free-form solution, or undefined when there is none. */
export function extractAnswer(text: string, options: ExtractOptions = {}): ExtractedAnswer | undefined {
  const opts: Required<ExtractOptions> = { latex: options.latex ?? true, expr: options.expr ?? true };
  const t = repairEscapes(text).trim();
  if (t === "") return undefined;

  if (!hasDelimiters(t) && t.length <= 200 && !/\banswer\b/i.test(t)) {
    const plain = !looksLatex(t);
    if ((plain ? opts.expr : opts.latex) && parses(t, plain)) return { answer: t, method: "whole", plain };
  }

  const fa = lastMatchEnd(t, /final answer\s*(?:is\b)?\s*:?/gi);
  if (fa !== undefined) {
    const a = answerAfter(t.slice(fa), opts);
    if (a) return { ...a, method: "final-answer" };
  }

  if (opts.latex) {
    const boxed = lastBoxed(t);
    if (boxed !== undefined && boxed.trim() !== "") return { answer: boxed.trim(), method: "boxed", plain: false };
  }

  const ap = lastMatchEnd(t, /\banswer\b\s*(?:is\b)?\s*:?/gi);
  if (ap !== undefined) {
    const a = answerAfter(t.slice(ap), opts);
    if (a) return { ...a, method: "answer-phrase" };
  }

  if (opts.latex) {
    const regions = mathRegions(t);
    for (let i = regions.length - 1; i >= 0; i--) {
      if (parses(regions[i]!, false)) return { answer: regions[i]!, method: "math", plain: false };
    }
  }

  if (opts.expr) {
    const n = lastNumber(t);
    if (n !== undefined) return { answer: n, method: "number", plain: true };
  }
  return undefined;
}
