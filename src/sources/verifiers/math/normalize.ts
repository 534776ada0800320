/**
 * Text clean-up of an extracted math answer before it is parsed: LaTeX spacing and sizing
 * commands, `\dfrac`/`\tfrac`, `\left( \right)`, units, degrees, percent, dollars,
 * thousands separators and decimal commas, numbers in a base (`204_5`), and the damage that
 * JSON escaping does to LaTeX (`"\frac"` written in JSON becomes a form feed and `rac`).
 */

/** What the clean-up removed but the comparison may need to know. */
export interface AnswerFlags {
  /** The answer carried a percent sign (`28\%`, `28 %`, `28 pct`). */
  percent?: boolean;
  /** The answer carried a degree sign (`90^\circ`). */
  degrees?: boolean;
  /** The whole answer was `\text{...}`: a word, compared as a word. */
  text?: boolean;
}

export interface CleanAnswer {
  /** The cleaned answer, ready for the tokenizer. */
  text: string;
  flags: AnswerFlags;
}

/** LaTeX commands that a doubled backslash (`\\frac`) usually means, from escaping twice. */
const KNOWN_COMMANDS = new Set([
  "frac", "dfrac", "tfrac", "cfrac", "sqrt", "left", "right", "le", "leq", "ge", "geq", "ne", "neq", "lt", "gt",
  "cdot", "times", "div", "pi", "infty", "in", "cup", "cap", "text", "mbox", "mathrm", "mathbf", "boxed", "pm",
  "sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "begin", "end", "circ", "approx", "leqslant",
  "geqslant", "binom", "dbinom", "tbinom", "theta", "alpha", "beta", "gamma", "lambda", "mu", "sigma", "phi",
  "omega", "emptyset", "varnothing", "lbrace", "rbrace", "langle", "rangle", "operatorname", "textbf", "textrm",
  "tau", "vec", "bar", "hat", "ratio", "frak", "fbox", "bmatrix", "rho", "nu", "vee", "wedge",
]);

/** Control characters that JSON escapes produce from a LaTeX command's backslash and first letter. */
const JSON_ESCAPES: Record<string, string> = { "\t": "t", "\f": "f", "\b": "b", "\r": "r", "\v": "v" };

const UNIT_WORDS = [
  "square units", "sq units", "square feet", "square inches", "square meters", "square centimeters", "units", "unit",
  "dollars", "dollar", "cents", "cent", "degrees", "degree", "inches", "inch", "feet", "foot", "meters", "meter",
  "centimeters", "centimeter", "kilometers", "kilometer", "miles", "mile", "hours", "hour", "minutes", "minute",
  "seconds", "second", "days", "day", "years", "year", "cm", "mm", "km", "ft", "mph", "sq",
];
const UNIT_RE = new RegExp(`(?<=[\\d}\\s])\\s*(?:${UNIT_WORDS.join("|")})(?:\\s*\\^\\s*\\{?[23]\\}?|[²³])?\\s*$`, "i");

/** Repairs JSON-escape damage and doubled backslashes before known commands. */
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

/** Finds the index of the `}` closing the `{` at `open`, or -1. */
export function closingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Replaces every `\cmd{...}` by `fn(content)`, innermost-safe (balanced braces). */
function replaceCommandArg(s: string, names: string[], fn: (content: string, before: string, after: string) => string): string {
  const re = new RegExp(`\\\\(?:${names.join("|")})\\s*\\{`, "g");
  let out = s;
  for (let guard = 0; guard < 100; guard++) {
    re.lastIndex = 0;
    const m = re.exec(out);
    if (!m) break;
    const open = m.index + m[0].length - 1;
    const close = closingBrace(out, open);
    if (close < 0) break;
    const content = out.slice(open + 1, close);
    const before = out.slice(0, m.index);
    const after = out.slice(close + 1);
    out = before + fn(content, before, after) + after;
  }
  return out;
}

function toDecimal(digits: string, base: number): number | undefined {
  if (base < 2 || base > 36) return undefined;
  let v = 0;
  for (const ch of digits.toLowerCase()) {
    const d = parseInt(ch, 36);
    if (Number.isNaN(d) || d >= base) return undefined;
    v = v * base + d;
  }
  return v;
}

/**
 * Cleans an extracted answer. The result still is LaTeX-ish text (commands such as `\frac`
 * stay), with everything that carries no mathematical content removed.
 */
export function cleanAnswer(raw: string): CleanAnswer {
  const flags: AnswerFlags = {};
  let s = repairEscapes(raw);

  // Unicode symbols to their LaTeX names.
  s = s
    .replace(/≤|⩽/g, "\\le ")
    .replace(/≥|⩾/g, "\\ge ")
    .replace(/≠/g, "\\ne ")
    .replace(/≈/g, "\\approx ")
    .replace(/×/g, "\\times ")
    .replace(/·|⋅/g, "\\cdot ")
    .replace(/÷/g, "\\div ")
    .replace(/[−–]/g, "-")
    .replace(/π/g, "\\pi ")
    .replace(/∞/g, "\\infty ")
    .replace(/∪/g, "\\cup ")
    .replace(/∈/g, "\\in ")
    .replace(/√/g, "\\sqrt ")
    .replace(/€|£|¥/g, "");

  // Sizing, spacing and style commands carry nothing.
  s = s
    .replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)\s*(?:\\\{|\\\}|\\[|.]|[()[\]|.])/g, (m) => {
      const d = m.replace(/^\\[a-zA-Z]+\s*/, "");
      return d === "." ? "" : d;
    })
    .replace(/,\s*\\!\s*(?=\d{3})/g, ",")
    .replace(/\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)\b/g, "")
    .replace(/\\(?:quad|qquad)\b/g, " ")
    .replace(/(?<!\\)\\[!,;:> ]/g, " ")
    .replace(/~/g, " ")
    .replace(/\\(?:dfrac|tfrac|cfrac)/g, "\\frac")
    .replace(/\\(?:dbinom|tbinom)/g, "\\binom")
    .replace(/\\(?:leqslant|leq|le)(?![a-zA-Z])/g, "\\le ")
    .replace(/\\(?:geqslant|geq|ge)(?![a-zA-Z])/g, "\\ge ")
    .replace(/\\(?:neq|ne)(?![a-zA-Z])/g, "\\ne ")
    .replace(/\\lt(?![a-zA-Z])/g, "<")
    .replace(/\\gt(?![a-zA-Z])/g, ">")
    .replace(/\\lbrace(?![a-zA-Z])/g, "\\{")
    .replace(/\\rbrace(?![a-zA-Z])/g, "\\}")
    .replace(/\\langle(?![a-zA-Z])/g, "(")
    .replace(/\\rangle(?![a-zA-Z])/g, ")")
    .replace(/\\(?:varnothing|emptyset)(?![a-zA-Z])/g, "\\{\\}")
    .replace(/\\(?:infinity|infin)(?![a-zA-Z])/g, "\\infty");

  // Degrees.
  const beforeDeg = s;
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree(?![a-zA-Z])/g, "");
  if (s !== beforeDeg) flags.degrees = true;

  // Percent.
  const beforePct = s;
  s = s.replace(/\\%|%|\bpct\b|\bpercent\b/gi, "");
  if (s !== beforePct) flags.percent = true;

  // Dollars (currency); math delimiters are gone by now.
  s = s.replace(/\\\$|\$/g, "");

  s = s.trim();
  // A whole answer in \text{}: a word.
  const whole = /^\\(?:text|textbf|textrm|mbox|mathrm)\s*\{([^{}]*)\}$/.exec(s);
  if (whole) {
    flags.text = true;
    return { text: whole[1]!.trim(), flags };
  }
  // \text{ and } / \text{or} join answers; other \text{} are units or words: dropped.
  s = replaceCommandArg(s, ["text", "textbf", "textrm", "mbox", "textit"], (content) => {
    const c = content.trim().toLowerCase();
    if (c === "and" || c === "or" || c === ",") return ",";
    return " ";
  });
  // Drop a leftover exponent of a dropped unit (`15 \mbox{ cm}^2`).
  s = s.replace(/(\d)\s+\^\s*(?:\{\s*[23]\s*\}|[23])\s*$/, "$1");
  // Names: \mathrm{x}, \mathbf{v}, \operatorname{f} and accents are just their content.
  s = replaceCommandArg(s, ["mathrm", "mathbf", "mathit", "mathsf", "mathcal", "mathbb", "boldsymbol", "vec", "overline", "bar", "hat", "tilde", "overrightarrow"], (c) => c);
  s = replaceCommandArg(s, ["operatorname"], (c) => "\\" + c.trim());

  // Trailing unit words after a number (`10 cm`, `5 dollars`, `3 square units`).
  s = s.replace(UNIT_RE, "");
  // Trailing and leading punctuation.
  s = s.replace(/[\s.,;:?]+$/g, "").replace(/^[\s:]+/, "").trim();
  s = s.replace(/^=\s*/, "");

  // Thousands written `10{,}000`.
  s = s.replace(/(\d)\{,\}(\d)/g, "$1$2");
  // Numbers in a base: 204_5, 1112112_{3}.
  s = s.replace(/\b(\d[0-9a-fA-F]*)_\{?(\d{1,2})\}?(?![\d}])/g, (m, digits: string, base: string) => {
    const v = toDecimal(digits, Number(base));
    return v === undefined ? m : String(v);
  });
  // A whole answer that is one number with thousands separators, or with a decimal comma.
  // (`1, 2` with a space is a list, not a number.)
  const t = s.trim();
  if (/^[-+]?\s*\d{1,3}(,\d{3})+(\.\d+)?$/.test(t)) s = t.replace(/[,\s]/g, "");
  else if (/^[-+]?\d{1,3}( \d{3})+(\.\d+)?$/.test(t)) s = t.replace(/\s/g, "");
  else if (/^[-+]?\s*\d+,\d+$/.test(t)) s = t.replace(/\s/g, "").replace(",", ".");
  // Mixed numbers: 2\frac{1}{2} is two and a half.
  s = s.replace(/(^|[^\d.])(\d+)\s*\\frac\s*\{(\d+)\}\s*\{(\d+)\}/g, "$1($2+\\frac{$3}{$4})");
  return { text: s.trim(), flags };
}
