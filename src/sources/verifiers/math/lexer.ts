/**
 * Tokens of one extracted answer (LaTeX or a plain expression). The clean-up that used to be
 * string rewriting happens here, in one pass: sizing and spacing commands vanish, `\dfrac` is
 * `\frac`, `\text{...}` becomes words (classified later: units, connectives, meaningful words),
 * `\mathrm{gb}` is the letters g b, thousands separators and numbers in a base are read, and
 * unknown commands that are a known one glued to letters (`\arctanx`, `\piG`) are split.
 */
import type { NumLit } from "./ast.js";
import { type Meter, rat } from "./numbers.js";
import { braceMatches } from "./text.js";
import { bareUnit, unitOf } from "./units.js";

/** The answer is not something we read as math (callers see `undefined` or a text answer). */
export class NotMath extends Error {}

export type Tok =
  | { t: "num"; lit: NumLit; sp: boolean }
  | { t: "id"; v: string; sp: boolean }
  /** Words: plain-text words, `\text{}` contents (`marked`), unit words after numbers. */
  | { t: "word"; v: string; sp: boolean; marked: boolean }
  | { t: "fn"; v: string; sp: boolean }
  | { t: "const"; v: "pi" | "inf" | "reals" | "empty" | "dots"; sp: boolean }
  | { t: "op"; v: string; sp: boolean }
  /** Something that annotates the value around it: `percent`, `degrees`, `unit:cm`, `label:apples`. */
  | { t: "mark"; v: string; sp: boolean }
  | { t: "begin"; v: string; sp: boolean }
  | { t: "end"; v: string; sp: boolean };

export const FUNCTIONS = new Set([
  "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "arcsec", "arccsc", "arccot", "sinh", "cosh",
  "tanh", "coth", "sech", "csch", "arcsinh", "arccosh", "arctanh", "ln", "log", "lg", "exp", "sqrt", "frac", "binom",
  "gcd", "lcm", "max", "min", "sum", "prod", "int", "iint", "iiint", "oint", "lim", "limsup", "liminf", "det", "abs",
]);
const ALIASES: Record<string, string> = { dfrac: "frac", tfrac: "frac", cfrac: "frac", dbinom: "binom", tbinom: "binom" };
const GREEK = new Set([
  "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa", "lambda", "mu",
  "nu", "xi", "omicron", "rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma",
  "Delta", "Theta", "Lambda", "Xi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell", "hbar", "aleph",
]);
const CONSTS: Record<string, "pi" | "inf" | "empty" | "dots"> = {
  pi: "pi", infty: "inf", infin: "inf", infinity: "inf", emptyset: "empty", varnothing: "empty", dots: "dots", ldots: "dots", cdots: "dots",
  vdots: "dots", ddots: "dots",
};
const OPS: Record<string, string> = {
  le: "<=", leq: "<=", leqslant: "<=", leqq: "<=", ge: ">=", geq: ">=", geqslant: ">=", geqq: ">=", ne: "!=", neq: "!=", lt: "<", gt: ">",
  cdot: "*", times: "*", ast: "*", star: "*", cdotp: "*", div: "/", pm: "pm", mp: "mp", approx: "~=", simeq: "~=", approxeq: "~=",
  sim: "~=", equiv: "=", in: "in", cup: "cup", cap: "cap", setminus: "setminus", to: "->", rightarrow: "->", Rightarrow: "=>>",
  implies: "=>>", longrightarrow: "->", Longrightarrow: "=>>", mapsto: "->", iff: "->", Leftrightarrow: "->", langle: "(", rangle: ")",
  lbrace: "\\{", rbrace: "\\}", lvert: "|", rvert: "|", vert: "|", colon: ":", prime: "'", circ: "deg", degree: "deg", land: ",",
  wedge: ",", lor: ",", vee: ",", notin: "notin", subset: "notin", subseteq: "notin", perp: "notin", parallel: "notin",
};
/** Commands that vanish (sizing, spacing, style). */
const SKIP = new Set([
  "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr", "middle",
  "displaystyle", "textstyle", "scriptstyle", "scriptscriptstyle", "limits", "nolimits", "quad", "qquad", "enspace", "thinspace",
  "medspace", "thickspace", "negthinspace", "negmedspace", "hfill", "nonumber", "notag", "strut", "relax", "nobreak",
  "allowbreak", "mathstrut", "ensuremath", "boxed", "fbox", "mathop", "mathord", "mathrel", "mathbin", "protect", "small",
  "large", "Large", "normalsize", "footnotesize", "scriptsize", "tiny", "huge", "Huge",
]);
/** Commands whose (first) braced argument is dropped. */
const SKIP_ARG = new Set(["hspace", "vspace", "phantom", "hphantom", "vphantom", "label", "tag", "color", "textcolor", "mathchoice"]);
/** Commands that only style their argument: the argument is read as it is. */
const WRAPPERS = new Set([
  "mathbf", "mathit", "mathsf", "mathtt", "mathcal", "mathscr", "mathfrak", "boldsymbol", "bm", "vec", "overrightarrow",
  "overline", "bar", "hat", "tilde", "widehat", "widetilde", "dot", "ddot", "underline", "mathnormal", "pmb",
]);
const TEXTS = new Set(["text", "textbf", "textrm", "textit", "textnormal", "textsf", "texttt", "mbox", "hbox", "emph", "textup", "textmd", "textsl"]);
const KNOWN = new Set([...FUNCTIONS, ...Object.keys(ALIASES), ...GREEK, ...Object.keys(CONSTS), ...Object.keys(OPS), ...SKIP, ...SKIP_ARG, ...WRAPPERS, ...TEXTS, "mathrm", "mathbb", "operatorname", "begin", "end", "euro", "pound", "yen"]);
/** Known commands by length, longest first, for splitting `\arctanx`. */
const KNOWN_BY_LENGTH = [...KNOWN].sort((a, b) => b.length - a.length);

/** Plain-text words that are functions or constants. */
const PLAIN_FUNCTIONS = new Set(["sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "ln", "log", "exp", "sqrt", "abs"]);
/** Words that, even in LaTeX, are words and not products of variables. */
const ANSWER_WORDS = new Set([
  "yes", "no", "odd", "even", "none", "true", "false", "both", "neither", "all", "never", "always", "real", "not", "and", "or",
]);

const UNICODE: Record<string, string> = {
  "≤": "\\le ", "⩽": "\\le ", "≥": "\\ge ", "⩾": "\\ge ", "≠": "\\ne ", "≈": "\\approx ", "×": "\\times ", "·": "\\cdot ", "⋅": "\\cdot ",
  "∙": "\\cdot ", "÷": "\\div ", "−": "-", "–": "-", "—": "-", "π": "\\pi ", "∞": "\\infty ", "∪": "\\cup ", "∩": "\\cap ", "∈": "\\in ",
  "√": "\\sqrt ", "±": "\\pm ", "∓": "\\mp ", "°": "^\\circ ", "²": "^2", "³": "^3", "∅": "\\emptyset ", "⟨": "\\langle ", "⟩": "\\rangle ",
  "′": "'", "″": "''", "∑": "\\sum ", "∏": "\\prod ", "∫": "\\int ", "→": "\\to ", "⇒": "\\Rightarrow ", "\u2009": " ", "\u00a0": " ",
  "\u202f": " ", "€": " \\euro ", "£": " \\pound ", "¥": " \\yen ", "α": "\\alpha ", "β": "\\beta ", "γ": "\\gamma ", "δ": "\\delta ",
  "ε": "\\epsilon ", "θ": "\\theta ", "λ": "\\lambda ", "μ": "\\mu ", "σ": "\\sigma ", "φ": "\\phi ", "ω": "\\omega ", "Δ": "\\Delta ",
  "Ω": "\\Omega ", "½": "(1/2)", "¼": "(1/4)", "¾": "(3/4)",
};
const UNICODE_RE = new RegExp(`[${Object.keys(UNICODE).join("")}]`, "g");

const TWO: Record<string, string> = { "<=": "<=", ">=": ">=", "!=": "!=", "=<": "<=", "=>": ">=", "==": "=", "**": "^", "''": "''", "->": "->", ":=": "=" };

/** A unit written in `\mathrm{}`: names with powers, joined by spaces, `/` or `\cdot` (`m/s^2`, `kg m^{2} s^{-2}`). */
const UNIT_FACTORS = /^[a-zA-Zμ]+(?:\^\{?-?\d\}?)?(?:\s*(?:\/|\s|\\cdot)\s*[a-zA-Zμ]+(?:\^\{?-?\d\}?)?){0,6}$/;
/** The repeated digits of a repeating decimal, after its decimal point or last fixed digit. */
const REPEATING = /^\\(?:overline|bar)\s*\{\s*(\d{1,100})\s*\}|^\\dot\s*\{\s*(\d)\s*\}|^\\dot\s*(\d)/;
/** Accents that make a letter another quantity (a time derivative, a mean or conjugate), with the mark its name gets. */
const ACCENTS: Record<string, string> = { dot: "\u0307", ddot: "\u0308", bar: "\u0304", overline: "\u0304" };
const isStar = (t: Tok | undefined) => t?.t === "op" && t.v === "*";
const isPrime = (t: Tok | undefined) => t?.t === "op" && t.v === "'";
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isLetter = (c: string | undefined) => c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));

/** Builds a number literal's exact value (undefined when too large). */
export function numLit(int: string, frac: string, exp10: number, m: Meter): NumLit {
  const digits = frac ? `${int}.${frac}` : int;
  const lit: NumLit = { digits, decimals: frac.length, exp10 };
  const e = exp10 - frac.length;
  if (Math.abs(e) <= 4000 && int.length + frac.length <= 20_000) {
    const mant = BigInt((int + frac).replace(/^0+(?=\d)/, "") || "0");
    const q = e >= 0 ? rat(mant * 10n ** BigInt(e), 1n, m) : rat(mant, 10n ** BigInt(-e), m);
    if (q) lit.q = q;
  }
  return lit;
}

/** A number written in a base (`204_5`, `1112112_{3}`) in base ten, or undefined. */
function inBase(digits: string, base: number): string | undefined {
  if (base < 2 || base > 36 || base === 10 || digits.length > 64) return undefined;
  let v = 0n;
  for (const ch of digits.toLowerCase()) {
    const d = parseInt(ch, 36);
    if (Number.isNaN(d) || d >= base) return undefined;
    v = v * BigInt(base) + BigInt(d);
  }
  return v.toString();
}

/**
 * Tokenizes an answer. `plain`: a plain expression, where words are function names, units
 * or words (never products of letters), and `1e3` is scientific notation.
 */
export function lex(input: string, plain: boolean, m: Meter): Tok[] {
  const s = input.replace(UNICODE_RE, (c) => UNICODE[c]!);
  let braces: Int32Array | undefined;
  const toks: Tok[] = [];
  let sp = false;
  let depth = 0;
  const push = (tok: Tok) => {
    toks.push(tok);
    sp = false;
  };
  /** Words in `\text{}` or `\mathrm{}`; a unit times a unit (`\text{J} \cdot \text{s}`) is one unit. */
  const pushWord = (v: string, spaced: boolean) => {
    const star = toks[toks.length - 1];
    const prev = toks[toks.length - 2];
    if (star?.t === "op" && star.v === "*" && prev?.t === "word" && prev.marked && unitOf(prev.v) !== undefined && unitOf(v) !== undefined) {
      toks.pop();
      prev.v = `${prev.v} ${v}`;
      sp = false;
      return;
    }
    push({ t: "word", v, sp: spaced, marked: true });
  };
  const prevValue = () => {
    for (let k = toks.length - 1; k >= 0; k--) {
      const p = toks[k]!;
      if (p.t === "mark") continue;
      return p.t === "num" || p.t === "id" || p.t === "const" || p.t === "end" || (p.t === "op" && [")", "]", "}", "\\}", "!", "'", "%", "deg"].includes(p.v));
    }
    return false;
  };
  /** The index after a braced group opening at i (skipping spaces), or -1. */
  const groupEnd = (i: number): number => {
    while (s[i] === " ") i++;
    if (s[i] !== "{") return -1;
    braces ??= braceMatches(s);
    const close = braces[i]!;
    return close < 0 ? -1 : close + 1;
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === " " || c === "\n" || c === "\t" || c === "\r" || c === "~") {
      sp = true;
      i++;
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(s[i + 1]))) {
      let j = i;
      while (isDigit(s[j])) j++;
      let int = s.slice(i, j) || "0";
      // Thousands separators: "," at the top level only (inside brackets a comma separates elements);
      // "{,}", "\,", "\!" and thin spaces anywhere.
      if (j - i >= 1 && j - i <= 3 && s[i] !== "0") {
        for (;;) {
          const marked = /^(?:,(?:\\[!,])+ ?|\{,\}|\\[,! ])/.exec(s.slice(j, j + 8));
          const sep = marked ? marked[0].length : s[j] === "," && depth === 0 ? 1 : 0;
          if (!sep || !isDigit(s[j + sep]) || !isDigit(s[j + sep + 1]) || !isDigit(s[j + sep + 2]) || isDigit(s[j + sep + 3])) break;
          int += s.slice(j + sep, j + sep + 3);
          j += sep + 3;
        }
      }
      let frac = "";
      if (s[j] === "." && isDigit(s[j + 1])) {
        let k = j + 1;
        while (isDigit(s[k])) k++;
        frac = s.slice(j + 1, k);
        j = k;
      } else if (s.startsWith("{.}", j) && isDigit(s[j + 3])) {
        let k = j + 3;
        while (isDigit(s[k])) k++;
        frac = s.slice(j + 3, k);
        j = k;
      }
      // A repeating decimal: 0.\overline{3} is 1/3, 0.1\overline{6} and 0.1\dot{6} are 1/6.
      const rep = (frac || s[j] === ".") && s[j + (frac ? 0 : 1)] === "\\" ? REPEATING.exec(s.slice(j + (frac ? 0 : 1), j + 120)) : null;
      if (rep) {
        const digits = rep[1] ?? rep[2] ?? rep[3]!;
        const all = BigInt(int + frac + digits);
        const head = BigInt(int + frac);
        const den = 10n ** BigInt(frac.length) * (10n ** BigInt(digits.length) - 1n);
        push({ t: "op", v: "(", sp });
        push({ t: "num", lit: numLit((all - head).toString(), "", 0, m), sp: false });
        push({ t: "op", v: "/", sp: false });
        push({ t: "num", lit: numLit(den.toString(), "", 0, m), sp: false });
        push({ t: "op", v: ")", sp: false });
        i = j + (frac ? 0 : 1) + rep[0].length;
        continue;
      }
      let exp10 = 0;
      const sci = /^[eE]([-+]?\d{1,6})/.exec(s.slice(j, j + 9));
      if (sci && !isLetter(s[j + sci[0].length]) && !isDigit(s[j + sci[0].length])) {
        exp10 = Number(sci[1]);
        j += sci[0].length;
      }
      // A number in a base: 204_5, 1112112_{3}.
      if (!frac && exp10 === 0 && s[j] === "_") {
        const b = /^_(?:\{(\d{1,2})\}|(\d))/.exec(s.slice(j, j + 6));
        const conv = b ? inBase(int, Number(b[1] ?? b[2])) : undefined;
        if (b && conv !== undefined) {
          int = conv;
          j += b[0].length;
        }
      }
      push({ t: "num", lit: numLit(int, frac, exp10, m), sp });
      i = j;
      continue;
    }
    if (isLetter(c)) {
      let j = i;
      while (isLetter(s[j])) j++;
      const w = s.slice(i, j);
      const lower = w.toLowerCase();
      const wasSp = sp || toks.length === 0;
      i = j;
      if ((lower === "and" || lower === "or") && wasSp) {
        push({ t: "op", v: ",", sp: true });
        continue;
      }
      if (lower === "pct" || lower === "percent") {
        push({ t: "mark", v: "percent", sp });
        continue;
      }
      if (plain) {
        if (PLAIN_FUNCTIONS.has(lower)) push({ t: "fn", v: lower, sp });
        else if (lower === "pi") push({ t: "const", v: "pi", sp });
        else if (lower === "inf" || lower === "infty" || lower === "infinity" || lower === "oo") push({ t: "const", v: "inf", sp });
        else if (w.length === 1) push({ t: "id", v: w, sp });
        else push({ t: "word", v: w, sp, marked: false });
        continue;
      }
      if (w.length >= 2 && bareUnit(w) !== undefined && prevValue()) {
        push({ t: "word", v: w, sp, marked: false });
        continue;
      }
      if ((ANSWER_WORDS.has(lower) && /^[A-Za-z][a-z]*$/.test(w)) || (w.length >= 5 && /[aeiou]/i.test(w) && /^[A-Z]?[a-z]+$/.test(w))) {
        push({ t: "word", v: w, sp, marked: false });
        continue;
      }
      for (const ch of w) {
        toks.push({ t: "id", v: ch, sp });
        sp = false;
      }
      continue;
    }
    if (c === "\\") {
      const next = s[i + 1];
      if (next === undefined) throw new NotMath("a lone backslash");
      if (next === "\\") {
        push({ t: "op", v: "\\\\", sp });
        i += 2;
        continue;
      }
      if (next === "{" || next === "}") {
        push({ t: "op", v: next === "{" ? "\\{" : "\\}", sp });
        depth += next === "{" ? 1 : -1;
        i += 2;
        continue;
      }
      if (",;:!> ".includes(next) || next === "\n") {
        sp = true;
        i += 2;
        continue;
      }
      if (next === "%") {
        push({ t: "op", v: "%", sp });
        i += 2;
        continue;
      }
      if (next === "$") {
        push({ t: "mark", v: "unit:usd", sp });
        i += 2;
        continue;
      }
      if (next === "|") {
        push({ t: "op", v: "|", sp });
        i += 2;
        continue;
      }
      if (!isLetter(next)) throw new NotMath(`command \\${next}`);
      let j = i + 1;
      while (isLetter(s[j])) j++;
      let name = s.slice(i + 1, j);
      let rest = "";
      if (!KNOWN.has(name)) {
        const prefix = KNOWN_BY_LENGTH.find((k) => k.length >= 2 && name.startsWith(k));
        if (!prefix) {
          // An unknown command names something (`\odot` in L_\odot): a symbol of its own.
          push({ t: "id", v: name, sp });
          i = j;
          continue;
        }
        rest = name.slice(prefix.length);
        name = prefix;
      }
      i = rest ? j : i + 1 + name.length;
      name = ALIASES[name] ?? name;
      if (name === "operatorname") {
        const end = groupEnd(i);
        if (end < 0) throw new NotMath("\\operatorname without a name");
        const inner = s.slice(s.indexOf("{", i) + 1, end - 1).replace(/\s+/g, "");
        if (FUNCTIONS.has(inner)) push({ t: "fn", v: inner, sp });
        else if (/^[a-zA-Z]+$/.test(inner)) push({ t: "id", v: inner, sp });
        else throw new NotMath(`\\operatorname{${inner}}`);
        i = end;
      } else if (SKIP.has(name)) {
        if (name !== "boxed" && name !== "fbox" && s[i] === ".") i++; // \left. is no delimiter
        sp = true;
      } else if (SKIP_ARG.has(name)) {
        const end = groupEnd(i);
        if (end > 0) i = end;
      } else if (TEXTS.has(name)) {
        const end = groupEnd(i);
        if (end < 0) throw new NotMath(`\\${name} without an argument`);
        const content = s.slice(s.indexOf("{", i) + 1, end - 1);
        pushWord(content, sp);
        i = end;
      } else if (name === "mathrm") {
        const end = groupEnd(i);
        if (end < 0) throw new NotMath("\\mathrm without an argument");
        const content = s.slice(s.indexOf("{", i) + 1, end - 1);
        const bare = content.replace(/~|\\[,;: !]/g, " ").trim();
        if (bare === "") {
          sp = true;
          i = end;
        } else if (UNIT_FACTORS.test(bare) && (/^\s*(?:~|\\[,;: ])/.test(content) || ((sp || bareUnit(bare) !== undefined) && unitOf(bare) !== undefined)) && (prevValue() || toks[toks.length - 1]?.t === "word" || (isStar(toks[toks.length - 1]) && toks[toks.length - 2]?.t === "word"))) {
          pushWord(bare, true);
          i = end;
        }
        // Otherwise the braces are read as a group: \mathrm{e} is e, \mathrm{gb} is g b.
      } else if (name === "mathbb") {
        const end = groupEnd(i);
        const inner = end > 0 ? s.slice(s.indexOf("{", i) + 1, end - 1).trim() : "";
        if (inner === "R") push({ t: "const", v: "reals", sp });
        else throw new NotMath(`\\mathbb{${inner}}`);
        i = end;
      } else if (WRAPPERS.has(name)) {
        // The argument that follows is read as a group, except a single letter under an accent
        // that changes what it names: \dot{x} (a derivative) and \bar{z} (a conjugate or mean) are not x and z.
        const accented = ACCENTS[name] !== undefined ? /^\s*(?:\{\s*(?:([a-zA-Z])|\\([a-zA-Z]+))\s*\}|([a-zA-Z])(?![a-zA-Z])|\\([a-zA-Z]+))/.exec(s.slice(i, i + 30)) : null;
        const greek = accented?.[2] ?? accented?.[4];
        const letter = accented && (accented[1] ?? accented[3] ?? (GREEK.has(greek!) ? greek : undefined));
        if (letter) {
          push({ t: "id", v: letter + ACCENTS[name]!, sp });
          i += accented[0].length;
        }
      } else if (name === "begin" || name === "end") {
        const env = /^\s*\{([a-zA-Z*]+)\}/.exec(s.slice(i, i + 40));
        if (!env) throw new NotMath(`\\${name} without an environment`);
        i += env[0].length;
        push({ t: name, v: env[1]!, sp });
        depth += name === "begin" ? 1 : -1;
        if (name === "begin" && env[1] === "array") {
          const end = groupEnd(i); // column spec
          if (end > 0) i = end;
        }
      } else if (name === "euro" || name === "pound" || name === "yen") {
        push({ t: "mark", v: `unit:${name === "euro" ? "eur" : name === "pound" ? "gbp" : "jpy"}`, sp });
      } else if (CONSTS[name]) push({ t: "const", v: CONSTS[name]!, sp });
      else if (OPS[name]) {
        const v = OPS[name]!;
        if (v === "notin") throw new NotMath(`\\${name}`);
        push({ t: "op", v, sp });
        if (v === "(") depth++;
        else if (v === ")") depth--;
      } else if (GREEK.has(name)) push({ t: "id", v: name, sp });
      else if (FUNCTIONS.has(name)) push({ t: "fn", v: name, sp });
      else throw new NotMath(`unknown command \\${name}`);
      for (const ch of rest) {
        toks.push({ t: "id", v: ch, sp: false });
        sp = false;
      }
      continue;
    }
    const two = s.slice(i, i + 2);
    if (TWO[two]) {
      push({ t: "op", v: TWO[two]!, sp });
      i += 2;
      continue;
    }
    if ("+-*/^_()[]{},;=<>!|:&'%".includes(c)) {
      if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") depth--;
      push({ t: "op", v: c, sp });
      i++;
      continue;
    }
    // Seconds of arc written with a double quote (`45'30"`).
    if (c === '"' && toks[toks.length - 1]?.t === "num" && isPrime(toks[toks.length - 2])) {
      push({ t: "op", v: "''", sp });
      i++;
      continue;
    }
    if (c === "$") {
      sp = true;
      i++;
      continue;
    }
    throw new NotMath(`character ${JSON.stringify(c)}`);
  }
  return toks;
}
