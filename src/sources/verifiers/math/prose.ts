/**
 * Mathematics in running text. Answers often come as prose with no box and no answer phrase
 * (`it is 4`, `so x = 5`, `She has 12 apples left.`), and prose must never be read as a product
 * of variables (`it is 4` is not i·t·i·s·4). This module tells the two apart in one pass:
 *
 * - A word (two letters or more that are not a function or constant name: `is`, `so`, `apples`)
 *   ends an expression. A single letter is a variable only where an operator or a number binds it
 *   (`x = 5`, `2x+1`, `a^2+b^2`): a letter alone between words (`so x is 5`) is no answer.
 * - An expression is a run of numbers, variables, operators, brackets and LaTeX commands. A space
 *   joins two of its parts only next to an operator or inside brackets (`3.2 × 10^5`, `(1, 2)`); a
 *   mixed number (`1 1/2`) and `x` between two numbers (`3 x 4`) are the exceptions.
 * - A unit word right after a number belongs to it (`5 cm`), `percent` is `%`; markdown emphasis
 *   (`**12**`), currency signs, ordinals (`3rd`), list markers (`2.` opening a line) and bullets
 *   are not values.
 * - An expression after a negation (`not 5`, `rather than 5`, `isn't 5`) is no answer; one that
 *   restates the one before it (`1/6, or about 16.7%`, `4π, which is about 12.57`) comes after it;
 *   expressions joined only by `and`, `or` (or by commas, three or more, or between equations)
 *   are one list (`the roots are 2 and 3`, `x = 2 or x = -3`).
 *
 * Number words (`twelve`, `one hundred and five`, `three quarters`) are read when they are the
 * whole answer, never mined from prose ("no one came" holds no 1).
 */
import { unitOf } from "./units.js";

/** A span of the text that is not prose (math regions, boxes). */
export interface Blocked {
  start: number;
  end: number;
}

export interface ProseExpr {
  start: number;
  end: number;
  /** The expression as read: emphasis, currency signs and list markers dropped, `3 x 4` as `3 * 4`. */
  text: string;
  /** A unit word right after it, canonical (`cm`, `km/h`). */
  unit?: string;
  /** Only a number (`12`, `-3.5`, `1,000`, `25%`). */
  number: boolean;
}

/** Short English words that are never variables in running text, unless an operator binds them (`ax + by`). */
const STOPWORDS = new Set(["am", "an", "as", "at", "be", "by", "do", "go", "he", "hi", "if", "is", "it", "me", "my", "of", "oh", "ok", "on", "so", "to", "up", "us", "we"]);

/** Words that name functions and constants, not prose. */
const FUNCTION_WORDS = new Set([
  "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "ln", "log", "exp", "sqrt", "abs", "gcd", "lcm",
]);
const CONSTANT_WORDS = new Set(["pi", "inf", "infty", "infinity"]);

/** Words that, in `isProse`, are mathematics and not prose. */
const MATH_WORDS = new Set([
  ...FUNCTION_WORDS, ...CONSTANT_WORDS, "sec", "infty", "and", "mod", "max", "min", "deg", "rad", "pct",
]);

const BINARY_CHARS = /[+\-*/^=<>≤≥≠≈×÷·−_\\]/;

/**
 * Prose rather than an expression: a word of three letters or more that is not a command
 * (`\frac`), a command's argument (`\begin{pmatrix}`) or a function name; a contraction (`it's`);
 * or a short function word (`is`, `so`, `it`) that no operator binds (`it is 4`, `so x = 5`, but
 * not `ax + by = c`). Number words alone (`twelve`) are a number, not prose.
 */
export function isProse(s: string): boolean {
  const t = s.slice(0, 2000);
  if (numberPhrase(t) !== undefined) return false;
  for (const m of t.matchAll(/(?<![\\a-zA-Z])(?<!\\[a-zA-Z]+\{\s*)[A-Za-z]{3,}/g)) if (!MATH_WORDS.has(m[0].toLowerCase())) return true;
  if (/[A-Za-z]['’][a-z]/.test(t)) return true;
  // A word stands between spaces (or the ends, or punctuation): `cosh(at)` and `e^{2it}` hold none.
  for (const m of t.matchAll(/(?<=^|[\s"'“])[A-Za-z]{2}(?=$|[\s.,;:!?"'”])/g)) {
    if (!STOPWORDS.has(m[0].toLowerCase())) continue;
    const before = t.slice(Math.max(0, m.index - 12), m.index).trimEnd().slice(-1);
    const after = t.slice(m.index + 2, m.index + 14).trimStart().slice(0, 1);
    if (!BINARY_CHARS.test(before) && !BINARY_CHARS.test(after)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- number words ---

const SMALL: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
};
const TENS: Record<string, number> = { twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90 };
const SCALES: Record<string, bigint> = { thousand: 1000n, million: 1_000_000n, billion: 1_000_000_000n };
const DENOMINATORS: Record<string, number> = {
  half: 2, halves: 2, third: 3, thirds: 3, quarter: 4, quarters: 4, fourth: 4, fourths: 4, fifth: 5, fifths: 5, sixth: 6, sixths: 6,
  seventh: 7, sevenths: 7, eighth: 8, eighths: 8, ninth: 9, ninths: 9, tenth: 10, tenths: 10,
};

/** An integer in words (`one hundred and five`, `twenty-one`), or undefined. */
function wordsInteger(words: string[]): bigint | undefined {
  if (words.length === 0) return undefined;
  let total = 0n;
  let current = 0n;
  let any = false;
  for (const w of words) {
    if (w === "and" && any) continue;
    if (SMALL[w] !== undefined) current += BigInt(SMALL[w]!);
    else if (TENS[w] !== undefined) current += BigInt(TENS[w]!);
    else if (w === "hundred") current = (current === 0n ? 1n : current) * 100n;
    else if (SCALES[w] !== undefined) {
      total += (current === 0n ? 1n : current) * SCALES[w]!;
      current = 0n;
    } else return undefined;
    any = true;
  }
  return total + current;
}

/**
 * A number written in words, as digits (`twelve` → `12`, `minus three` → `-3`, `three quarters`
 * → `3/4`, `two and a half` → `5/2`), or undefined when the text is anything else.
 */
export function numberPhrase(raw: string): string | undefined {
  if (raw.length > 120) return undefined;
  const s = raw
    .replace(/\\(?:text|textbf|textrm|mathrm|mbox)\s*\{([^{}]*)\}/g, "$1")
    .replace(/[*_$]/g, " ")
    .trim()
    .replace(/[.!;,]+$/, "")
    .toLowerCase();
  if (!/^[a-z][a-z\s-]*$/.test(s)) return undefined;
  let words = s.split(/[\s-]+/).filter((w) => w !== "");
  let sign = "";
  if (words[0] === "minus" || words[0] === "negative") {
    sign = "-";
    words = words.slice(1);
  }
  if (words.length === 0 || words.length > 12) return undefined;
  const last = words[words.length - 1]!;
  const den = DENOMINATORS[last];
  if (den !== undefined) {
    // `two and a half`, `a quarter`, `three quarters`
    const andA = words.length >= 4 && words[words.length - 3] === "and" && words[words.length - 2] === "a";
    if (andA) {
      const whole = wordsInteger(words.slice(0, -3));
      return whole === undefined ? undefined : `${sign}${whole * BigInt(den) + 1n}/${den}`;
    }
    const head = words.slice(0, -1);
    const num = head.length === 1 && head[0] === "a" ? 1n : wordsInteger(head);
    if (num === undefined || num === 0n) return undefined;
    return `${sign}${num}/${den}`;
  }
  const n = wordsInteger(words);
  return n === undefined ? undefined : `${sign}${n}`;
}

/** A number in words at the start of a text (`twelve apples` → `12`), or undefined. */
export function leadingNumberPhrase(s: string): string | undefined {
  const m = /^(?:[\s*_]*)((?:minus |negative )?[a-z]+(?:[\s-]+[a-z]+){0,8})/i.exec(s.slice(0, 120));
  if (!m) return undefined;
  const words = m[1]!.split(/([\s-]+)/);
  // Longest prefix of words that reads as a number.
  for (let k = words.length; k > 0; k -= 2) {
    const n = numberPhrase(words.slice(0, k).join(""));
    if (n !== undefined) return n;
  }
  return undefined;
}

const NUMBER_WORD = String.raw`(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|halves|half|thirds?|quarters?|fourths?|fifths?|sixths?|sevenths?|eighths?|ninths?|tenths?)`;
const NUMBER_WORDS_RE = new RegExp(String.raw`\b(?:(?:minus|negative)\s+)?(?:a\s+)?${NUMBER_WORD}(?:(?:\s+and\s+a|\s+and|\s+a)?[\s-]+${NUMBER_WORD})*\b`, "gi");

/**
 * Numbers written in words in prose, in order (`The result is negative seven.`): the last resort
 * when a text has no number in digits. `one` alone is left out: it is mostly a pronoun
 * (`no one`, `the one we want`).
 */
export function numberWordsIn(text: string, keep = 20): Array<{ start: number; end: number; value: string }> {
  const out: Array<{ start: number; end: number; value: string }> = [];
  NUMBER_WORDS_RE.lastIndex = 0;
  for (let m = NUMBER_WORDS_RE.exec(text); m; m = NUMBER_WORDS_RE.exec(text)) {
    if (/^(?:an?\s+)?one$/i.test(m[0])) continue;
    const value = numberPhrase(m[0]);
    if (value === undefined) continue;
    out.push({ start: m.index, end: m.index + m[0].length, value });
    if (out.length > keep * 2) out.splice(0, out.length - keep);
  }
  return out.slice(-keep);
}

// ------------------------------------------------------------------ scanning ---

type Kind = "num" | "var" | "fn" | "const" | "bin" | "pre" | "post" | "open" | "close" | "cmd" | "sep";

interface Piece {
  kind: Kind;
  text: string;
  /** Whitespace before it. */
  gap: boolean;
  start: number;
  end: number;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isLetter = (c: string | undefined) => c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));
const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\u00a0" || c === "\u2009" || c === "\u202f";
/** A character a value ends with (for telling `**` emphasis from a power, `*` emphasis from a product). */
const isOperandChar = (c: string | undefined) => isDigit(c) || isLetter(c) || c === ")" || c === "]" || c === "}";

const BINARY_OPS: Record<string, string> = {
  "+": "+", "-": "-", "−": "-", "*": "*", "/": "/", "^": "^", "=": "=", "<": "<", ">": ">", "≤": "≤", "≥": "≥", "≠": "≠",
  "≈": "≈", "×": "×", "÷": "÷", "·": "·", "⋅": "·", "±": "±", "∓": "∓", "∪": "∪", "∩": "∩", "∈": "∈", "→": "→",
};
const POSTFIX: Record<string, string> = { "%": "%", "°": "°", "²": "²", "³": "³", "'": "'", "″": "″", "′": "′" };
const CONSTANTS: Record<string, string> = { "π": "π", "∞": "∞", "½": "½", "¼": "¼", "¾": "¾" };
const TEXT_COMMANDS = /^\\(?:text|textbf|textrm|textit|mathrm|mbox|operatorname)\s*\{[^{}\n]{0,80}\}/;
/** LaTeX commands that are spacing: a space, not a break. */
const SPACING_COMMANDS = new Set(["quad", "qquad", "left", "right", "big", "Big", "displaystyle"]);

/** The text right before `pos` negates what follows (`not 5`, `isn't $5$`, `rather than 5`). */
export function negatedBefore(text: string, pos: number): boolean {
  const before = text.slice(Math.max(0, pos - 60), pos);
  return /(?:\bnot|\bnever|\bnor|n['’]t|\brather than|\binstead of|\bother than|\bexcept(?: for)?|\bexcluding|\bno longer)\s*(?:(?:be|equal to|equals?|exactly|just|quite|even|the|a|an|simply|merely|necessarily|actually|really|so|to|at all)\s+)*[\s$*_(\\]*$/i.test(before);
}

const APPROX = String.raw`(?:about|approximately|approx\.?|roughly|around|nearly|almost|close to|≈|~|\\approx)`;
const RESTATE = new RegExp(String.raw`^\s*,?\s*(?:(?:or|i\.?\s?e\.?,?|that is,?|which is|which equals|which gives|or equivalently|in other words,?)\s*)?\(?\s*${APPROX}\s*$`, "i");

/**
 * The text between two answers makes the second an approximation of the first (`, or about`,
 * `, which is approximately`, `(≈`): the exact value is the answer. (An exact restatement,
 * `10, which is 1,000.99`, is read as written: the later one counts.)
 */
export function restatement(between: string): boolean {
  return between.length <= 40 && !between.includes("\n") && RESTATE.test(between);
}

/** The text between two answers joins them into one (`and`, `or`, commas): how, or undefined. */
export function joinedBy(between: string): "and" | "or" | "comma" | undefined {
  if (between.length > 16 || between.includes("\n")) return undefined;
  const m = /^\s*(,)?\s*(and|or|&)?\s*$/i.exec(between.replace(/\\(?:quad|qquad|,|;|\s)|\*\*|~/g, " "));
  if (!m) return undefined;
  if (m[2]) return m[1] && /^or$/i.test(m[2]) ? undefined : /^or$/i.test(m[2]) ? "or" : "and";
  return m[1] ? "comma" : undefined;
}

/** Binary search: the index of the first span (sorted by start, not overlapping) that ends after `at`. */
function firstEndingAfter(blocked: Blocked[], at: number): number {
  let lo = 0;
  let hi = blocked.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (blocked[mid]!.end <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The expressions in prose between `from` and `to`, in order, outside the blocked spans (math
 * regions and boxes, sorted by start). One pass over the text; only the last `keep` are kept.
 */
export function proseExpressions(text: string, from: number, to: number, blocked: Blocked[], keep = 200): ProseExpr[] {
  const out: ProseExpr[] = [];
  let pieces: Piece[] = [];
  let depth = 0;
  let overflow = false;
  let gap = false;
  let unit: string | undefined;
  // The first blocked span that ends after `from`.
  let b = firstEndingAfter(blocked, from);

  const flush = () => {
    if (pieces.length && !overflow) {
      const e = finish(pieces, unit);
      if (e) {
        out.push(e);
        if (out.length > keep * 2) out.splice(0, out.length - keep);
      }
    }
    pieces = [];
    depth = 0;
    overflow = false;
    unit = undefined;
    gap = false;
  };
  const last = () => pieces[pieces.length - 1];
  /** Adds a piece, starting a new expression when a space stands between two parts nothing binds. */
  const add = (kind: Kind, t: string, start: number, end: number) => {
    const prev = last();
    if (prev && gap && depth === 0) {
      const binds =
        kind === "bin" || kind === "post" || kind === "close" || prev.kind === "bin" || prev.kind === "pre" || prev.kind === "fn" || prev.kind === "open" || prev.kind === "cmd" ||
        (kind === "num" && prev.kind === "num" && isMixed(text, pieces, end)) ||
        // 2 sqrt(3), 2 \sqrt{3}, 3 π: a number times a function or a constant.
        ((kind === "fn" || kind === "cmd" || kind === "const") && (prev.kind === "num" || prev.kind === "close"));
      if (!binds || unit !== undefined) flush();
    } else if (prev && unit !== undefined) flush();
    if (pieces.length >= 2000) overflow = true;
    if (!overflow) pieces.push({ kind, text: t, gap: gap && pieces.length > 0, start, end });
    if (kind === "open") depth++;
    else if (kind === "close" && depth > 0) depth--;
    gap = false;
  };

  let i = from;
  while (i < to) {
    if (b < blocked.length && blocked[b]!.start <= i) {
      flush();
      i = Math.max(i + 1, blocked[b]!.end);
      b++;
      continue;
    }
    const c = text[i]!;
    if (isSpace(c)) {
      gap = true;
      i++;
      continue;
    }
    if (c === "\n" || c === "\r") {
      flush();
      i++;
      continue;
    }
    // Numbers: 12, 1,234.5, .5, 3.2e5; ordinals (3rd) are words.
    if (isDigit(c) || (c === "." && isDigit(text[i + 1]) && !isDigit(text[i - 1]))) {
      let j = i;
      while (j < to && isDigit(text[j])) j++;
      if (j - i <= 3 && text[i] !== "0") {
        while (text[j] === "," && isDigit(text[j + 1]) && isDigit(text[j + 2]) && isDigit(text[j + 3]) && !isDigit(text[j + 4]) && j + 4 <= to) j += 4;
      }
      if (text[j] === "." && isDigit(text[j + 1])) {
        j++;
        while (j < to && isDigit(text[j])) j++;
      }
      const sci = text[j] === "e" || text[j] === "E" ? /^[eE][-+]?\d{1,6}/.exec(text.slice(j, j + 9)) : null;
      if (sci && !isLetter(text[j + sci[0].length]) && !isDigit(text[j + sci[0].length])) j += sci[0].length;
      const ord = isLetter(text[j]) ? /^(?:st|nd|rd|th)(?![A-Za-z])/i.exec(text.slice(j, j + 3)) : null;
      if (ord) {
        flush();
        i = j + ord[0].length;
        continue;
      }
      // A list marker: `2.` or `2)` opening a line.
      if (!pieces.length && (text[j] === "." || text[j] === ")") && /^[.)][ \t]/.test(text.slice(j, j + 2)) && /(?:^|\n)[ \t#>*]*$/.test(text.slice(Math.max(0, i - 12), i))) {
        i = j + 1;
        continue;
      }
      // `72 000`: a space between groups of three digits (one space, as printed) is a thousands separator.
      let digits = text.slice(i, j);
      if (/^\d{1,3}$/.test(digits) && text[i] !== "0") {
        while (isSpace(text[j]) && isDigit(text[j + 1]) && /^[ \u00a0\u2009\u202f]\d{3}(?![\d.,]\d|\s?\/)/.test(text.slice(j, j + 7)) && !isDigit(text[j + 4]) && j + 4 <= to) {
          digits += text.slice(j + 1, j + 4);
          j += 4;
        }
      }
      add("num", digits, i, j);
      i = j;
      continue;
    }
    if (isLetter(c)) {
      let j = i;
      while (j < to && isLetter(text[j])) j++;
      const w = text.slice(i, j);
      const lower = w.toLowerCase();
      if ((text[j] === "'" || text[j] === "’") && isLetter(text[j + 1])) {
        // A contraction (it's, don't): a word.
        let k = j + 1;
        while (k < to && isLetter(text[k])) k++;
        flush();
        i = k;
        continue;
      }
      let prev = last();
      if (prev && prev.kind === "bin" && prev.text === "-" && !gap && w.length >= 2 && !FUNCTION_WORDS.has(lower) && !CONSTANT_WORDS.has(lower)) {
        // A hyphenated word (`5-year`, `x-axis`): the hyphen is no minus.
        pieces.pop();
        flush();
        i = j;
        continue;
      }
      const glued = !gap && prev !== undefined;
      const connective = /^(?:or|and)(?=[A-Z]|$)/.exec(w);
      if (glued && prev && connective && (prev.kind === "num" || prev.kind === "close" || prev.kind === "var")) {
        // `W(x)=1orW(x)=-1`, `2and3`: a connective that lost its spaces.
        flush();
        i += connective[0].length;
        continue;
      }
      if (lower === "x" && prev?.kind === "num" && /^[ \t]*\d/.test(text.slice(j, j + 4))) {
        // 3 x 4: times.
        add("bin", "*", i, j);
        i = j;
        continue;
      }
      if (prev && (prev.kind === "num" || (prev.kind === "post" && prev.text === "%")) && unit === undefined) {
        if (lower === "percent" && prev.kind === "num") {
          add("post", "%", i, j);
          i = j;
          continue;
        }
        // A unit after a number: `5 cm`, `12 km/h`, `3kg`, `5 m/s` (one letter alone is a variable).
        const m = /^[A-Za-z]+(?:[ \t]*\/[ \t]*[A-Za-z]+)?/.exec(text.slice(i, Math.min(to, i + 40)))!;
        const compound = m[0].length > w.length ? unitOf(m[0]) : undefined;
        const u = compound ?? (w.length >= 2 && !/^(?:in|au|pc|ly|at|per|am|pm)$/i.test(w) ? unitOf(w) : undefined);
        if (u !== undefined) {
          unit = u;
          i = compound !== undefined ? i + m[0].length : j;
          gap = false;
          continue;
        }
      }
      if (w.length === 1 && glued && prev?.kind === "num" && /[.,]/.test(prev.text) && unit === undefined) {
        // A decimal glued to a unit letter is a measurement (`1.5m`, `1,000.99m²`), not a product.
        const sup = /^(?:\^?[23]|[²³])/.exec(text.slice(j, j + 2));
        const u = unitOf(w + (sup ? `^${sup[0].replace(/\^/, "").replace("²", "2").replace("³", "3")}` : ""));
        if (u !== undefined) {
          unit = u;
          i = j + (sup ? sup[0].length : 0);
          continue;
        }
      }
      if (w.length === 1) {
        add("var", w, i, j);
        i = j;
        continue;
      }
      if ((lower === "minus" || lower === "negative" || lower === "plus" || lower === "times") && /^[ \t]+\d/.test(text.slice(j, j + 3))) {
        // Operations in words between numbers (`10 minus 3`, `3 times 4`), a sign before one (`negative 3`).
        const binary = prev !== undefined && (prev.kind === "num" || prev.kind === "close" || prev.kind === "const");
        if (binary || lower === "minus" || lower === "negative") {
          if (!binary) flush();
          add("bin", lower === "plus" ? "+" : lower === "times" ? "*" : "-", i, j);
          i = j;
          continue;
        }
      }
      if (FUNCTION_WORDS.has(lower)) {
        add("fn", lower, i, j);
        i = j;
        continue;
      }
      if (CONSTANT_WORDS.has(lower)) {
        add("const", lower, i, j);
        i = j;
        continue;
      }
      prev = last();
      if (glued && prev && w.length <= 3 && (prev.kind === "num" || prev.kind === "var" || prev.kind === "bin" || prev.kind === "open" || prev.kind === "cmd")) {
        // Letters bound to a number or an operator: `2xy`, `(ab)`.
        add("var", w, i, j);
        i = j;
        continue;
      }
      flush();
      i = j;
      continue;
    }
    if (c === "\\") {
      const n = text[i + 1];
      if (n === "$" || n === "," || n === ";" || n === "!" || n === ":" || n === " ") {
        if (n !== "$") gap = true;
        i += 2;
        continue;
      }
      if (n === "%") {
        add("post", "\\%", i, i + 2);
        i += 2;
        continue;
      }
      if (n === "{" || n === "}") {
        add(n === "{" ? "open" : "close", "\\" + n, i, i + 2);
        i += 2;
        continue;
      }
      if (isLetter(n)) {
        const tc = TEXT_COMMANDS.exec(text.slice(i, i + 110));
        if (tc && pieces.length) {
          add("post", tc[0], i, i + tc[0].length);
          i += tc[0].length;
          continue;
        }
        let j = i + 1;
        while (j < to && isLetter(text[j])) j++;
        const name = text.slice(i + 1, j);
        if (SPACING_COMMANDS.has(name)) gap = true;
        else add("cmd", text.slice(i, j), i, j);
        i = j;
        continue;
      }
      flush();
      i += 2;
      continue;
    }
    // Markdown emphasis: `**12**`, `*12*`, `__12__`; `2**3` is a power, `3 * 4` and `3*4` a product.
    if (c === "*" || c === "_") {
      let j = i;
      while (j < to && text[j] === c && j - i < 3) j++;
      const before = text[i - 1];
      const after = text[j];
      const between = isOperandChar(before) && isOperandChar(after);
      if (c === "*" && j - i === 2 && between) add("bin", "^", i, j);
      else if (c === "*" && j - i === 1 && (between || (isSpace(before) && isSpace(after)))) add("bin", "*", i, j);
      else if (c === "_" && j - i === 1 && between) add("bin", "_", i, j);
      // otherwise emphasis: nothing
      i = j;
      continue;
    }
    // GSM8K calculator notes: <<48/2=24>>.
    if (c === "<" && text[i + 1] === "<") {
      const close = text.slice(i + 2, i + 120).indexOf(">>");
      if (close >= 0) {
        i = i + 2 + close + 2;
        gap = true;
        continue;
      }
    }
    if (c === "-" || c === "–" || c === "—") {
      // A bullet opening a line, or a dash between words, is punctuation; a minus binds.
      const lineStart = /(?:^|\n)[ \t>]*$/.test(text.slice(Math.max(0, i - 8), i));
      if (lineStart && isSpace(text[i + 1])) {
        i++;
        continue;
      }
      if (c !== "-" && !(isDigit(text[i + 1]) && (gap || !pieces.length))) {
        flush();
        i++;
        continue;
      }
      add("bin", "-", i, i + 1);
      i++;
      continue;
    }
    if (BINARY_OPS[c] !== undefined) {
      add("bin", BINARY_OPS[c]!, i, i + 1);
      i++;
      continue;
    }
    if (c === "√") {
      add("pre", "√", i, i + 1);
      i++;
      continue;
    }
    if (POSTFIX[c] !== undefined) {
      if ((c === "'" || c === "’") && !pieces.length) {
        flush();
        i++;
        continue;
      }
      add("post", POSTFIX[c]!, i, i + 1);
      i++;
      continue;
    }
    if (CONSTANTS[c] !== undefined) {
      add("const", CONSTANTS[c]!, i, i + 1);
      i++;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") {
      add("open", c, i, i + 1);
      i++;
      continue;
    }
    if (c === ")" || c === "]" || c === "}") {
      if (depth > 0) add("close", c, i, i + 1);
      else flush();
      i++;
      continue;
    }
    if (c === "|") {
      add("var", "|", i, i + 1);
      i++;
      continue;
    }
    if ((c === "," || c === ";") && pieces.length && (depth > 0 || (c === "," && !gap && isDigit(text[i - 1]) && isDigit(text[i + 1])))) {
      // Inside brackets (`(1, 2)`), or between digits (`2,5`: a decimal comma or a list).
      add("sep", c, i, i + 1);
      i++;
      continue;
    }
    if (c === ":" && !gap && isDigit(text[i - 1]) && isDigit(text[i + 1])) {
      add("bin", ":", i, i + 1);
      i++;
      continue;
    }
    if (c === "!" && pieces.length && !gap && isOperandChar(text[i - 1]) && /^[ \t]*[=+\-*/)<>,]/.test(text.slice(i + 1, i + 6))) {
      // 5! = 120: a factorial; "It is 12!" ends a sentence.
      add("post", "!", i, i + 1);
      i++;
      continue;
    }
    if (c === "~" && isDigit(text[i + 1])) {
      add("bin", "≈", i, i + 1);
      i++;
      continue;
    }
    if (c === "$" || c === "€" || c === "£" || c === "¥") {
      // A currency sign before a number (the math regions are already blocked).
      if (c !== "$") add("pre", c, i, i + 1);
      i++;
      continue;
    }
    flush();
    i++;
  }
  flush();
  return out.length > keep ? out.slice(-keep) : out;
}

/** `1 1/2`: an integer, then an integer followed by `/` and an integer. */
function isMixed(text: string, pieces: Piece[], end: number): boolean {
  const prev = pieces[pieces.length - 1]!;
  const before = pieces[pieces.length - 2];
  if (text[end] !== "/" || !/^\d+$/.test(prev.text) || (before && (before.text === "/" || before.text === "^"))) return false;
  return /^\/\d+(?![\d./])/.test(text.slice(end, end + 12));
}

const OPERATOR_COMMANDS = /^\\(?:cdot|times|div|le|leq|ge|geq|ne|neq|approx|pm|mp|to|in|cup|cap|quad|qquad)$/;
const dangling = (p: Piece) => p.kind === "bin" || p.kind === "pre" || p.kind === "sep" || p.kind === "open" || (p.kind === "cmd" && OPERATOR_COMMANDS.test(p.text));
const leading = (p: Piece) => (p.kind === "bin" && p.text !== "-" && p.text !== "+" && p.text !== "±" && p.text !== "≈") || p.kind === "sep" || p.kind === "post" || p.kind === "close";

/** An expression from its pieces: brackets balanced, dangling operators dropped; undefined when it holds no value. */
function finish(pieces: Piece[], unit: string | undefined): ProseExpr | undefined {
  if (pieces.length === 1) {
    // The usual case: one number.
    const p = pieces[0]!;
    if (p.kind !== "num") return undefined;
    const e: ProseExpr = { start: p.start, end: p.end, text: p.text, number: true };
    if (unit !== undefined) e.unit = unit;
    return e;
  }
  // Unmatched brackets are not part of it.
  let all = pieces;
  if (pieces.some((p) => p.kind === "open" || p.kind === "close")) {
    const keep = new Array<boolean>(pieces.length).fill(true);
    const stack: number[] = [];
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k]!;
      if (p.kind === "open") stack.push(k);
      else if (p.kind === "close") {
        if (stack.length) stack.pop();
        else keep[k] = false;
      }
    }
    for (const k of stack) keep[k] = false;
    all = pieces.filter((_, k) => keep[k]);
  }
  let lo = 0;
  let hi = all.length;
  while (hi > lo && dangling(all[hi - 1]!)) hi--;
  while (lo < hi && leading(all[lo]!)) lo++;
  if (lo >= hi) return undefined;
  let hasValue = false;
  let hasOp = false;
  let hasVar = false;
  let number = true;
  let s = "";
  for (let k = lo; k < hi; k++) {
    const p = all[k]!;
    if (p.kind === "num" || p.kind === "const" || (p.kind === "cmd" && !OPERATOR_COMMANDS.test(p.text))) hasValue = true;
    else if (p.kind === "bin") hasOp = true;
    else if (p.kind === "var" || p.kind === "fn") hasVar = true;
    if (!(p.kind === "num" || p.kind === "sep" || (p.kind === "post" && p.text === "%") || (p.kind === "bin" && p.text === "-" && k === lo))) number = false;
    s += (k > lo && p.gap ? " " : "") + p.text;
  }
  if (!hasValue && !(hasOp && hasVar && hi - lo >= 3)) return undefined;
  const e: ProseExpr = { start: all[lo]!.start, end: all[hi - 1]!.end, text: s, number };
  if (unit !== undefined) e.unit = unit;
  return e;
}
