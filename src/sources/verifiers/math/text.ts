/**
 * Linear-time scanning of a whole solution text: escape repair, reasoning traces and comments
 * removed, balanced braces, `\boxed{}`, math regions and numbers. Everything here runs once over
 * texts of up to `maxInputChars`, so nothing may backtrack or rescan: 1 MB of `\(\(\(` or of
 * nested braces is one pass.
 */

/** LaTeX commands that a doubled backslash (`\\frac`) or a JSON escape (`\f` + `rac`) usually means. */
const KNOWN_COMMANDS = new Set([
  "frac", "dfrac", "tfrac", "cfrac", "sqrt", "left", "right", "le", "leq", "ge", "geq", "ne", "neq", "lt", "gt",
  "cdot", "times", "div", "pi", "infty", "in", "cup", "cap", "text", "mbox", "mathrm", "mathbf", "boxed", "pm",
  "sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "begin", "end", "circ", "approx", "leqslant",
  "geqslant", "binom", "dbinom", "tbinom", "theta", "alpha", "beta", "gamma", "lambda", "mu", "sigma", "phi",
  "omega", "emptyset", "varnothing", "lbrace", "rbrace", "langle", "rangle", "operatorname", "textbf", "textrm",
  "tau", "vec", "bar", "hat", "ratio", "frak", "fbox", "bmatrix", "rho", "nu", "vee", "wedge", "quad", "qquad",
]);

/** Control characters that JSON escapes produce from a LaTeX command's backslash and first letter. */
const JSON_ESCAPES: Record<string, string> = { "\t": "t", "\f": "f", "\b": "b", "\r": "r", "\v": "v" };

/** Repairs JSON-escape damage (`\f` + `rac`) and doubled backslashes before known commands (`\\frac`). */
export function repairEscapes(s: string): string {
  // Only where the repaired word is a LaTeX command: a tab before "The" stays a tab.
  let r = s.replace(/[\t\f\b\r\v]([a-zA-Z]+)/g, (m, rest: string) => {
    const name = JSON_ESCAPES[m[0]!]! + rest;
    return KNOWN_COMMANDS.has(name) ? "\\" + name : m;
  });
  // `\\frac` (escaped twice) means `\frac`; `\\` followed by anything else stays a row break.
  r = r.replace(/(?<!\\)\\\\([a-zA-Z]+)/g, (m, name: string) => (KNOWN_COMMANDS.has(name) ? "\\" + name : m));
  return r;
}

export interface Prepared {
  text: string;
  /** What was removed, for the explanation. */
  notes: string[];
  /** A reasoning trace that never closes: the text has no final answer. */
  unclosedThinking?: boolean;
}

/**
 * The part of a model's output that a reader sees as its answer: after the last `</think>`
 * (a trace that opens and never closes leaves nothing), without HTML comments (`<!-- -->`) and
 * LaTeX comments (`%` to the end of the line, where it is not a percent sign after a number).
 */
export function prepareText(raw: string): Prepared {
  const notes: string[] = [];
  let s = raw;
  const close = s.lastIndexOf("</think>");
  if (close >= 0) {
    s = s.slice(close + "</think>".length);
    notes.push("reasoning before </think> ignored");
  } else if (s.includes("<think>")) {
    return { text: "", notes: ["the reasoning trace (<think>) never closes: no final answer after it"], unclosedThinking: true };
  }
  const html = stripHtmlComments(s);
  if (html !== s) notes.push("HTML comments ignored");
  const tex = stripTexComments(html);
  if (tex !== html) notes.push("LaTeX comments (%) ignored");
  return { text: repairEscapes(tex).trim(), notes };
}

function stripHtmlComments(s: string): string {
  let i = s.indexOf("<!--");
  if (i < 0) return s;
  let out = "";
  let from = 0;
  while (i >= 0) {
    out += s.slice(from, i);
    const end = s.indexOf("-->", i + 4);
    if (end < 0) return out; // an unclosed comment hides the rest
    from = end + 3;
    i = s.indexOf("<!--", from);
  }
  return out + s.slice(from);
}

/**
 * `%` starts a comment in LaTeX unless escaped (`\%`). Models also write `50%` for a percent:
 * a `%` right after a digit (or a digit and a space, or a closing brace) is kept as a percent sign.
 */
function stripTexComments(s: string): string {
  if (!s.includes("%")) return s;
  let out = "";
  let from = 0;
  for (let i = s.indexOf("%"); i >= 0; i = s.indexOf("%", i + 1)) {
    if (i < from) continue;
    if (backslashes(s, i) % 2 === 1) continue; // \%
    const prev = s[i - 1] ?? "";
    const prev2 = s[i - 2] ?? "";
    if (/[\d}.)]/.test(prev) || (prev === " " && /\d/.test(prev2))) continue;
    const eol = s.indexOf("\n", i);
    out += s.slice(from, i);
    if (eol < 0) return out;
    from = eol; // keep the line break
    i = eol;
  }
  return out + s.slice(from);
}

/** How many backslashes immediately precede position i. */
export function backslashes(s: string, i: number): number {
  let n = 0;
  while (i - 1 - n >= 0 && s[i - 1 - n] === "\\") n++;
  return n;
}

/**
 * For each unescaped `{` the index of its matching `}` (or -1): one pass with a stack, so any
 * nesting depth costs the same.
 */
export function braceMatches(s: string): Int32Array {
  const match = new Int32Array(s.length).fill(-1);
  const stack: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      i++;
      continue;
    }
    if (c === 123 /* { */) stack.push(i);
    else if (c === 125 /* } */ && stack.length) match[stack.pop()!] = i;
  }
  return match;
}

export interface Box {
  /** Index of the backslash of `\boxed`. */
  start: number;
  /** Index just past the box. */
  end: number;
  content: string;
}

const BOX_RE = /\\(?:boxed|fbox)(?![a-zA-Z])/g;

/** Every `\boxed{...}` / `\fbox{...}` (and bare `\boxed X`), in order; nested boxes are inside their outer one. */
export function findBoxes(s: string, matches?: Int32Array): Box[] {
  const boxes: Box[] = [];
  let m: Int32Array | undefined = matches;
  let lastEnd = -1;
  BOX_RE.lastIndex = 0;
  for (let r = BOX_RE.exec(s); r; r = BOX_RE.exec(s)) {
    if (r.index < lastEnd) continue; // inside the previous box
    let i = r.index + r[0].length;
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
    if (s[i] === "{") {
      m ??= braceMatches(s);
      const close = m[i]!;
      if (close < 0) continue;
      boxes.push({ start: r.index, end: close + 1, content: s.slice(i + 1, close) });
      lastEnd = close + 1;
    } else if (i > r.index + r[0].length) {
      // `\boxed 5`: up to the next space or dollar.
      let j = i;
      while (j < s.length && !/[\s$]/.test(s[j]!)) j++;
      if (j > i) {
        boxes.push({ start: r.index, end: j, content: s.slice(i, j) });
        lastEnd = j;
      }
    }
  }
  return boxes;
}

/** The content of the last `\boxed{...}` or `\fbox{...}`, or undefined when there is none. */
export function lastBoxed(text: string): string | undefined {
  const boxes = findBoxes(text);
  return boxes.length ? boxes[boxes.length - 1]!.content : undefined;
}

export interface Region {
  start: number;
  end: number;
  /** Content without the delimiters. */
  content: string;
  display: boolean;
}

/** Sorted positions of a needle, unescaped (not preceded by a backslash). */
function positions(s: string, needle: string, escapable: boolean): number[] {
  const out: number[] = [];
  for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
    if (escapable && backslashes(s, i) % 2 === 1) continue;
    out.push(i);
  }
  return out;
}

/** First element of a sorted array greater than or equal to x (binary search), or -1. */
function nextAt(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length ? sorted[lo]! : -1;
}

/**
 * Math regions in order: `$$...$$` and `\[...\]` (may span lines), `\(...\)` and `$...$` (one
 * line). An opener without its closer is an ordinary character. Linear: every closer is found
 * by binary search in a precomputed list of positions.
 */
export function mathRegions(s: string): { valid: Region[]; malformed: Region[] } {
  const out: Region[] = [];
  const malformed: Region[] = [];
  if (!s.includes("$") && !s.includes("\\(") && !s.includes("\\[")) return { valid: out, malformed };
  const newlines = positions(s, "\n", false);
  const dollars = positions(s, "$", true);
  const closeParen = positions(s, "\\)", false);
  const closeBracket = positions(s, "\\]", false);
  const nextNewline = (i: number) => {
    const n = nextAt(newlines, i);
    return n < 0 ? s.length : n;
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === "\\" && (s[i + 1] === "(" || s[i + 1] === "[") && backslashes(s, i) % 2 === 0) {
      const display = s[i + 1] === "[";
      const close = nextAt(display ? closeBracket : closeParen, i + 2);
      if (close >= 0 && (display || close < nextNewline(i))) {
        out.push({ start: i, end: close + 2, content: s.slice(i + 2, close).trim(), display });
        i = close + 2;
        continue;
      }
      if (close >= 0) {
        // \( ... newline ... \): not math, and not prose to mine for numbers either.
        malformed.push({ start: i, end: close + 2, content: "", display });
        i = close + 2;
        continue;
      }
      i += 2;
      continue;
    }
    if (c === "$" && backslashes(s, i) % 2 === 0) {
      if (s[i + 1] === "$") {
        // $$ ... $$
        let close = nextAt(dollars, i + 2);
        while (close >= 0 && s[close + 1] !== "$") close = nextAt(dollars, close + 1);
        if (close >= 0) {
          out.push({ start: i, end: close + 2, content: s.slice(i + 2, close).trim(), display: true });
          i = close + 2;
          continue;
        }
        i += 2;
        continue;
      }
      const prev = s[i - 1] ?? "";
      const close = nextAt(dollars, i + 1);
      if (!/\d/.test(prev) && close > i + 1 && close < nextNewline(i) && s[close + 1] !== "$") {
        if (close - i > 2 || s[i + 1] !== " ") out.push({ start: i, end: close + 1, content: s.slice(i + 1, close).trim(), display: false });
        i = close + 1;
        continue;
      }
      i++;
      continue;
    }
    i++;
  }
  return { valid: out.filter((r) => r.content.length > 0), malformed };
}

export interface NumberHit {
  start: number;
  end: number;
  /** As written, separators removed (`1,234.5` gives `1234.5`). */
  text: string;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/**
 * Numbers in prose, in order: `-12`, `3.5`, `.5`, `1,234,567.89` (comma groups of three read as
 * thousands). One pass; each character is looked at a bounded number of times.
 */
export function numbersIn(s: string, from = 0, to = s.length): NumberHit[] {
  const out: NumberHit[] = [];
  let i = from;
  while (i < to) {
    const c = s[i];
    const startsNumber = isDigit(c) || (c === "." && isDigit(s[i + 1]) && !isDigit(s[i - 1]));
    if (!startsNumber || isDigit(s[i - 1]) || /[a-zA-Z_]/.test(s[i - 1] ?? "")) {
      i++;
      continue;
    }
    const start = s[i - 1] === "-" && !isDigit(s[i - 2]) ? i - 1 : i;
    let j = i;
    while (j < to && isDigit(s[j])) j++;
    let text = s.slice(i, j);
    let grouped = false;
    // Thousands groups: 1-3 digits, not led by 0, then ",ddd" groups each followed by a non-digit.
    if (j - i <= 3 && s[i] !== "0") {
      let k = j;
      let groupedText = text;
      while (s[k] === "," && isDigit(s[k + 1]) && isDigit(s[k + 2]) && isDigit(s[k + 3]) && !isDigit(s[k + 4]) && k + 4 <= to) {
        groupedText += s.slice(k + 1, k + 4);
        k += 4;
      }
      if (k > j) {
        text = groupedText;
        j = k;
        grouped = true;
      }
    }
    if (s[j] === "." && isDigit(s[j + 1])) {
      let k = j + 1;
      while (k < to && isDigit(s[k])) k++;
      text += s.slice(j, k);
      j = k;
    } else if (s[j] === "," && isDigit(s[j + 1]) && s[i - 1] !== "," && !grouped) {
      // A decimal comma (`2,74`): not three digits after it, and not a list (`1,2,3`).
      let k = j + 1;
      while (k < to && isDigit(s[k])) k++;
      if (k - j - 1 !== 3 && !(s[k] === "," && isDigit(s[k + 1]))) {
        text += "." + s.slice(j + 1, k);
        j = k;
      }
    } else if (s[j] === "/" && isDigit(s[j + 1]) && !text.includes(".")) {
      // A fraction in prose (`2/3`).
      let k = j + 1;
      while (k < to && isDigit(s[k])) k++;
      if (!isDigit(s[k]) && !(s[k] === "." && isDigit(s[k + 1]))) {
        text += s.slice(j, k);
        j = k;
      }
    }
    // A percent sign after it (`50%`, `50 %`) belongs to it.
    if (s[j] === "%" || (s[j] === " " && s[j + 1] === "%")) {
      j += s[j] === "%" ? 1 : 2;
      text += "%";
    }
    out.push({ start, end: j, text: (start < i ? "-" : "") + text });
    i = j;
  }
  return out;
}
