/**
 * Parsing a cleaned answer (LaTeX or a plain expression) into a structured value: numbers and
 * expressions (handed to mathjs, the CAS), relations, intervals, sets, tuples, unions and
 * matrices. The LaTeX is translated into mathjs syntax here; mathjs does the algebra.
 */
import { parse as mathParse, type MathNode } from "mathjs";
import { cleanAnswer, type AnswerFlags } from "./normalize.js";

export type RelOp = "=" | "<" | ">" | "<=" | ">=" | "!=";

export type MathValue =
  /** A number or expression; `literal` when it is written as one number. */
  | { kind: "expr"; src: string; node: MathNode; literal?: Literal }
  /** A word (`\text{...}` as the whole answer), or something that did not parse. */
  | { kind: "text"; text: string }
  /** `a = b`, `x \ge 5`, chains `a = b = c`. */
  | { kind: "relation"; ops: RelOp[]; sides: MathValue[] }
  /** `(a, b)`, `[a, b)`...: a tuple or an interval; brackets matter, order matters. */
  | { kind: "bracketed"; open: "(" | "["; close: ")" | "]"; elems: MathValue[] }
  /** `\{a, b\}` or a bare list `a, b`: order does not matter. */
  | { kind: "set"; elems: MathValue[] }
  /** `A \cup B`. */
  | { kind: "union"; parts: MathValue[] }
  /** A matrix or vector written as one (`\begin{pmatrix}...`). */
  | { kind: "matrix"; rows: MathValue[][] };

export interface Literal {
  value: number;
  /** Digits after the decimal point as written. */
  decimals: number;
  /** Exact value for integers. */
  integer?: bigint;
}

export interface ParsedAnswer {
  value: MathValue;
  flags: AnswerFlags;
  /** The cleaned text that was parsed. */
  clean: string;
}

/** Thrown inside the parser; callers see `undefined`. */
class NotMath extends Error {}

type Tok =
  | { t: "num"; v: string }
  | { t: "id"; v: string }
  | { t: "cmd"; v: string }
  | { t: "op"; v: string }
  | { t: "begin"; v: string }
  | { t: "end"; v: string };

const FUNCTIONS: Record<string, string> = {
  sin: "sin", cos: "cos", tan: "tan", cot: "cot", sec: "sec", csc: "csc",
  arcsin: "asin", arccos: "acos", arctan: "atan", sinh: "sinh", cosh: "cosh", tanh: "tanh",
  ln: "log", log: "log", exp: "exp", sqrt: "sqrt", abs: "abs", det: "det",
};
const INVERSE: Record<string, string> = { sin: "asin", cos: "acos", tan: "atan", cot: "acot", sec: "asec", csc: "acsc" };
const GREEK = new Set([
  "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
  "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
  "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega",
]);
/** Words a plain expression may contain. */
const WORDS = new Set([...Object.keys(FUNCTIONS), "pi", "inf", "infty", "infinity", "and", "or", "nthroot"]);
const OP_COMMANDS: Record<string, string> = {
  le: "<=", ge: ">=", ne: "!=", approx: "~=", in: "in", cup: "cup", cdot: "*", times: "*", ast: "*", div: "/",
  to: "->", implies: "->", Rightarrow: "->",
};
const MATRIX_ENVS = new Set(["pmatrix", "bmatrix", "matrix", "Bmatrix", "smallmatrix", "array"]);
const OPENERS = new Set(["(", "[", "{", "{{"]);
const CLOSERS = new Set([")", "]", "}", "}}"]);

function tokenize(s: string, plain: boolean): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(s[i + 1] ?? ""))) {
      // Scientific notation (1e3, 2.5E-4) only in plain expressions: in LaTeX `2e` is 2 times e.
      const m = (plain ? /^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+(?![a-zA-Z]))?/ : /^(?:\d+(?:\.\d+)?|\.\d+)/).exec(s.slice(i))!;
      toks.push({ t: "num", v: m[0].startsWith(".") ? "0" + m[0] : m[0] });
      i += m[0].length;
      continue;
    }
    if (/[a-zA-Z]/.test(c)) {
      const m = /^[a-zA-Z]+/.exec(s.slice(i))!;
      const w = m[0];
      i += w.length;
      const lower = w.toLowerCase();
      if (WORDS.has(lower) && (w.length > 1)) {
        if (lower === "and" || lower === "or") toks.push({ t: "op", v: "," });
        else if (lower === "inf" || lower === "infty" || lower === "infinity") toks.push({ t: "cmd", v: "infty" });
        else if (lower === "nthroot") toks.push({ t: "cmd", v: "nthroot" });
        else toks.push({ t: "cmd", v: lower });
      } else if (w.length === 1 || !plain) {
        for (const ch of w) toks.push({ t: "id", v: ch });
      } else throw new NotMath(`word ${w}`);
      continue;
    }
    if (c === "\\") {
      const next = s[i + 1] ?? "";
      if (next === "\\") {
        toks.push({ t: "op", v: "\\\\" });
        i += 2;
        continue;
      }
      if (next === "{" || next === "}") {
        toks.push({ t: "op", v: next === "{" ? "{{" : "}}" });
        i += 2;
        continue;
      }
      const m = /^[a-zA-Z]+/.exec(s.slice(i + 1));
      if (!m) {
        // `\|`, `\#`...: nothing we understand.
        throw new NotMath(`command ${next}`);
      }
      const name = m[0];
      i += 1 + name.length;
      if (name === "begin" || name === "end") {
        const env = /^\s*\{([a-zA-Z*]+)\}/.exec(s.slice(i));
        if (!env) throw new NotMath(`\\${name} without an environment`);
        i += env[0].length;
        toks.push({ t: name, v: env[1]! });
        continue;
      }
      if (OP_COMMANDS[name]) toks.push({ t: "op", v: OP_COMMANDS[name]! });
      else toks.push({ t: "cmd", v: name });
      continue;
    }
    const two = s.slice(i, i + 2);
    if (two === "<=" || two === ">=" || two === "!=" || two === "=<" || two === "=>" || two === "==" || two === "**") {
      toks.push({ t: "op", v: two === "=<" ? "<=" : two === "=>" ? ">=" : two === "==" ? "=" : two === "**" ? "^" : two });
      i += 2;
      continue;
    }
    if ("+-*/^_()[]{},=<>!|&'".includes(c)) {
      toks.push({ t: "op", v: c });
      i++;
      continue;
    }
    throw new NotMath(`character ${c}`);
  }
  return toks;
}

const isOp = (t: Tok | undefined, v: string) => t !== undefined && t.t === "op" && t.v === v;
const opens = (t: Tok | undefined) => t !== undefined && ((t.t === "op" && OPENERS.has(t.v)) || t.t === "begin");
const closes = (t: Tok | undefined) => t !== undefined && ((t.t === "op" && CLOSERS.has(t.v)) || t.t === "end");

/** The index of the token closing the opener at `i` (any closer type: intervals mix them). */
function matchClose(toks: Tok[], i: number, hi = toks.length): number {
  let depth = 0;
  for (let j = i; j < hi; j++) {
    if (opens(toks[j])) depth++;
    else if (closes(toks[j])) {
      depth--;
      if (depth === 0) return j;
      if (depth < 0) return -1;
    }
  }
  return -1;
}

function splitTop(toks: Tok[], isSep: (t: Tok) => boolean): { parts: Tok[][]; seps: Tok[] } {
  const parts: Tok[][] = [[]];
  const seps: Tok[] = [];
  let depth = 0;
  for (const t of toks) {
    if (opens(t)) depth++;
    else if (closes(t)) depth--;
    if (depth === 0 && isSep(t)) {
      seps.push(t);
      parts.push([]);
    } else parts[parts.length - 1]!.push(t);
  }
  return { parts, seps };
}

const REL_OPS = new Set(["=", "<", ">", "<=", ">=", "!=", "in"]);

/** Writes a token range as a mathjs expression string with explicit operators. */
class ExprWriter {
  private pos: number;
  constructor(
    private readonly toks: Tok[],
    lo: number,
    private readonly hi: number,
  ) {
    this.pos = lo;
  }

  static write(toks: Tok[], lo = 0, hi = toks.length): string {
    const w = new ExprWriter(toks, lo, hi);
    const s = w.expr();
    if (w.pos !== hi) throw new NotMath("trailing tokens");
    return s;
  }

  private peek(): Tok | undefined {
    return this.pos < this.hi ? this.toks[this.pos] : undefined;
  }

  private startsOperand(t: Tok | undefined): boolean {
    if (!t) return false;
    if (t.t === "num" || t.t === "id" || t.t === "cmd" || t.t === "begin") return true;
    return t.t === "op" && (t.v === "(" || t.v === "[" || t.v === "{" || t.v === "|");
  }

  expr(): string {
    const parts: string[] = [];
    let expectOperand = true;
    for (let t = this.peek(); t !== undefined; t = this.peek()) {
      if (t.t === "op" && (t.v === "+" || t.v === "-")) {
        parts.push(t.v);
        expectOperand = true;
        this.pos++;
      } else if (t.t === "op" && (t.v === "*" || t.v === "/")) {
        if (expectOperand) throw new NotMath("operator without operand");
        parts.push(t.v);
        expectOperand = true;
        this.pos++;
      } else if (this.startsOperand(t)) {
        if (t.t === "op" && t.v === "|" && !expectOperand) break; // closing bar of |...|
        const a = this.atom();
        if (!expectOperand) parts.push("*");
        parts.push(a);
        expectOperand = false;
      } else break;
    }
    if (expectOperand) throw new NotMath("missing operand");
    return parts.join(" ");
  }

  /** A group `{...}` or one token, as LaTeX takes an argument; numbers give one digit. */
  private arg(): string {
    const t = this.peek();
    if (!t) throw new NotMath("missing argument");
    if (isOp(t, "{")) return this.group("{");
    if (t.t === "num") {
      this.pos++;
      if (t.v.length > 1 && /^\d/.test(t.v)) {
        // \frac94: the argument is one character; the rest stays for the next one.
        this.pos--;
        (this.toks as Tok[])[this.pos] = { t: "num", v: t.v.slice(1) };
        return t.v[0]!;
      }
      return t.v;
    }
    if (t.t === "id") {
      this.pos++;
      return t.v;
    }
    return this.atomBase();
  }

  /** The content of a bracket group at the cursor as a parenthesised expression. */
  private group(open: string): string {
    const close = matchClose(this.toks, this.pos, this.hi);
    if (close < 0) throw new NotMath(`unclosed ${open}`);
    const inner = ExprWriter.write(this.toks, this.pos + 1, close);
    this.pos = close + 1;
    return `(${inner})`;
  }

  private atom(): string {
    let base = this.atomBase();
    for (;;) {
      const t = this.peek();
      if (isOp(t, "^")) {
        this.pos++;
        const n = this.peek();
        let e: string;
        if (n?.t === "num") {
          this.pos++;
          e = n.v;
        } else if (isOp(n, "-") || isOp(n, "+")) {
          this.pos++;
          e = n!.v + this.arg();
        } else e = this.arg();
        base = `(${base})^(${e})`;
      } else if (isOp(t, "!")) {
        this.pos++;
        base = `(${base})!`;
      } else return base;
    }
  }

  private atomBase(): string {
    const t = this.peek();
    if (!t) throw new NotMath("missing operand");
    if (t.t === "num") {
      this.pos++;
      return t.v;
    }
    if (t.t === "id") {
      this.pos++;
      let name = t.v;
      if (isOp(this.peek(), "_")) {
        this.pos++;
        const sub = this.peek();
        if (isOp(sub, "{")) {
          const close = matchClose(this.toks, this.pos, this.hi);
          if (close < 0) throw new NotMath("unclosed subscript");
          const text = this.toks.slice(this.pos + 1, close).map((x) => x.v).join("");
          this.pos = close + 1;
          name += "_" + text.replace(/[^a-zA-Z0-9]/g, "");
        } else if (sub && (sub.t === "num" || sub.t === "id")) {
          this.pos++;
          name += "_" + sub.v[0];
        } else throw new NotMath("bad subscript");
      }
      return name;
    }
    if (t.t === "begin") return this.matrix();
    if (t.t === "op") {
      if (t.v === "(" || t.v === "[" || t.v === "{") {
        const close = matchClose(this.toks, this.pos, this.hi);
        if (close < 0) throw new NotMath("unclosed bracket");
        const closer = this.toks[close]!;
        const want = t.v === "{" ? "}" : t.v === "(" ? ")" : "]";
        if (closer.t !== "op" || closer.v !== want) throw new NotMath("mismatched brackets in an expression");
        return this.group(t.v);
      }
      if (t.v === "|") {
        this.pos++;
        const inner = this.expr();
        if (!isOp(this.peek(), "|")) throw new NotMath("unclosed |");
        this.pos++;
        return `abs(${inner})`;
      }
      throw new NotMath(`unexpected ${t.v}`);
    }
    if (t.t === "cmd") {
      this.pos++;
      const name = t.v;
      if (name === "frac") {
        const a = this.arg();
        const b = this.arg();
        return `((${a}) / (${b}))`;
      }
      if (name === "sqrt" || name === "nthroot") {
        if (isOp(this.peek(), "[")) {
          const close = matchClose(this.toks, this.pos, this.hi);
          if (close < 0) throw new NotMath("unclosed root index");
          const n = ExprWriter.write(this.toks, this.pos + 1, close);
          this.pos = close + 1;
          return `nthRoot(${this.arg()}, ${n})`;
        }
        if (isOp(this.peek(), "(")) return `sqrt${this.group("(")}`;
        return `sqrt(${this.arg()})`;
      }
      if (name === "binom") {
        const a = this.arg();
        const b = this.arg();
        return `binom(${a}, ${b})`;
      }
      if (name === "pi") return "pi";
      if (name === "infty") return "Infinity";
      if (GREEK.has(name)) return name;
      if (FUNCTIONS[name]) return this.apply(name);
      throw new NotMath(`unknown command \\${name}`);
    }
    throw new NotMath("unexpected token");
  }

  /** A function command and its argument: `\sin x`, `\sin^2(x)`, `\log_2 8`, `\sin^{-1} x`. */
  private apply(name: string): string {
    let fn = FUNCTIONS[name]!;
    let power: string | undefined;
    let base: string | undefined;
    for (;;) {
      if (isOp(this.peek(), "^")) {
        this.pos++;
        const n = this.peek();
        if (isOp(n, "-") || isOp(n, "+")) {
          this.pos++;
          power = n!.v + this.arg();
        } else power = this.arg();
        if ((power === "-1" || power === "(-1)" || power === "(- 1)") && INVERSE[name]) {
          fn = INVERSE[name]!;
          power = undefined;
        }
      } else if (isOp(this.peek(), "_") && name === "log") {
        this.pos++;
        base = this.arg();
      } else break;
    }
    let x: string;
    const n = this.peek();
    if (isOp(n, "(") || isOp(n, "{")) x = this.group(n!.v);
    else {
      // The argument is the following term: atoms up to an operator or another function.
      const atoms: string[] = [];
      for (let t = this.peek(); t && this.startsOperand(t) && !(t.t === "cmd" && FUNCTIONS[t.v]) && !isOp(t, "|"); t = this.peek()) atoms.push(this.atom());
      if (atoms.length === 0) throw new NotMath(`\\${name} without an argument`);
      x = `(${atoms.join(" * ")})`;
    }
    const call = base !== undefined ? `log(${x}, ${base})` : `${fn}(${x})`;
    return power !== undefined ? `(${call})^(${power})` : call;
  }

  private matrix(): string {
    const rows = matrixCells(this.toks, this.pos, this.hi);
    this.pos = rows.end + 1;
    return `[${rows.cells.map((r) => `[${r.map(([lo, hi]) => ExprWriter.write(this.toks, lo, hi)).join(", ")}]`).join(", ")}]`;
  }
}

/** Cell token ranges of a matrix environment starting at `begin`. */
function matrixCells(toks: Tok[], begin: number, hi: number): { cells: Array<Array<[number, number]>>; end: number } {
  const env = toks[begin]!;
  if (env.t !== "begin" || !MATRIX_ENVS.has(env.v)) throw new NotMath(`environment ${env.v}`);
  const end = matchClose(toks, begin, hi);
  if (end < 0) throw new NotMath("unclosed environment");
  let lo = begin + 1;
  if (env.v === "array" && isOp(toks[lo], "{")) lo = matchClose(toks, lo, end) + 1; // column spec
  const rows: Array<Array<[number, number]>> = [];
  let row: Array<[number, number]> = [];
  let start = lo;
  let depth = 0;
  for (let j = lo; j <= end; j++) {
    const t = toks[j]!;
    if (j < end && opens(t)) depth++;
    else if (j < end && closes(t)) depth--;
    const sepCell = j < end && depth === 0 && isOp(t, "&");
    const sepRow = j === end || (depth === 0 && isOp(t, "\\\\"));
    if (sepCell || sepRow) {
      row.push([start, j]);
      start = j + 1;
      if (sepRow) {
        rows.push(row);
        row = [];
      }
    }
  }
  // Drop empty trailing rows (`\\` before `\end`).
  while (rows.length > 0 && rows[rows.length - 1]!.every(([a, b]) => a === b)) rows.pop();
  if (rows.length === 0) throw new NotMath("empty matrix");
  const width = rows[0]!.length;
  if (rows.some((r) => r.length !== width || r.some(([a, b]) => a === b))) throw new NotMath("ragged matrix");
  return { cells: rows, end };
}

function literalOf(toks: Tok[]): Literal | undefined {
  let sign = "";
  let k = 0;
  if (isOp(toks[0], "-") || isOp(toks[0], "+")) {
    sign = toks[0]!.t === "op" && toks[0]!.v === "-" ? "-" : "";
    k = 1;
  }
  const t = toks[k];
  if (toks.length !== k + 1 || t?.t !== "num") return undefined;
  if (/[eE]/.test(t.v)) return undefined;
  const dot = t.v.indexOf(".");
  const decimals = dot < 0 ? 0 : t.v.length - dot - 1;
  const lit: Literal = { value: Number(sign + t.v), decimals };
  if (dot < 0) lit.integer = BigInt(sign + t.v);
  return lit;
}

function exprValue(toks: Tok[]): MathValue {
  const src = ExprWriter.write([...toks]);
  let node: MathNode;
  try {
    node = mathParse(src);
  } catch (e) {
    throw new NotMath(`mathjs: ${(e as Error).message}`);
  }
  const literal = literalOf(toks);
  return literal ? { kind: "expr", src, node, literal } : { kind: "expr", src, node };
}

/**
 * Removes brackets around the whole range when they only group (no commas inside), and
 * `[ ]` or `( )` around a single matrix (`\left[\begin{array}...\end{array}\right]`).
 */
function unwrap(toks: Tok[]): Tok[] {
  let cur = toks;
  while (cur.length >= 2 && (isOp(cur[0], "(") || isOp(cur[0], "{") || isOp(cur[0], "[")) && matchClose(cur, 0) === cur.length - 1) {
    const close = cur[cur.length - 1]!;
    const want = isOp(cur[0], "(") ? ")" : isOp(cur[0], "[") ? "]" : "}";
    if (!(close.t === "op" && close.v === want)) break;
    if (want === "]" && !(cur[1]?.t === "begin" && matchClose(cur, 1) === cur.length - 2)) break;
    const inner = cur.slice(1, -1);
    if (splitTop(inner, (t) => isOp(t, ",")).parts.length > 1) break;
    cur = inner;
  }
  return cur;
}

function parseItem(toks: Tok[]): MathValue {
  toks = unwrap(toks);
  if (toks.length === 0) throw new NotMath("empty");
  const first = toks[0]!;
  const lastIdx = toks.length - 1;
  if (isOp(first, "{{") && matchClose(toks, 0) === lastIdx) {
    const inner = toks.slice(1, -1);
    if (inner.length === 0) return { kind: "set", elems: [] };
    return { kind: "set", elems: splitTop(inner, (t) => isOp(t, ",")).parts.map(parseValueToks) };
  }
  if ((isOp(first, "(") || isOp(first, "[")) && matchClose(toks, 0) === lastIdx) {
    const last = toks[lastIdx]!;
    const inner = toks.slice(1, -1);
    const { parts } = splitTop(inner, (t) => isOp(t, ","));
    if (parts.length > 1 && last.t === "op" && (last.v === ")" || last.v === "]")) {
      return { kind: "bracketed", open: first.t === "op" && first.v === "[" ? "[" : "(", close: last.v as ")" | "]", elems: parts.map(parseValueToks) };
    }
  }
  if (first.t === "begin" && MATRIX_ENVS.has(first.v) && matchClose(toks, 0) === lastIdx) {
    const { cells } = matrixCells(toks, 0, toks.length);
    return { kind: "matrix", rows: cells.map((r) => r.map(([lo, hi]) => parseValueToks(toks.slice(lo, hi)))) };
  }
  return exprValue(toks);
}

function parseValueToks(toks: Tok[]): MathValue {
  toks = unwrap(toks);
  if (toks.length === 0) throw new NotMath("empty");
  // x \approx 11 means 11; 1/3 \approx 0.33 means 1/3.
  const approx = splitTop(toks, (t) => isOp(t, "~="));
  if (approx.parts.length > 1) {
    const head = approx.parts[0]!;
    if (head.length === 1 && head[0]!.t === "id") return parseValueToks(approx.parts[1]!);
    return parseValueToks(head);
  }
  const commas = splitTop(toks, (t) => isOp(t, ","));
  if (commas.parts.length > 1) {
    const elems = commas.parts.filter((p) => p.length > 0).map(parseValueToks);
    return { kind: "set", elems };
  }
  const rel = splitTop(toks, (t) => t.t === "op" && REL_OPS.has(t.v));
  if (rel.parts.length > 1) {
    const lastIn = rel.seps.map((s) => s.v).lastIndexOf("in");
    if (lastIn >= 0) return parseValueToks(rel.parts[lastIn + 1]!);
    return { kind: "relation", ops: rel.seps.map((s) => s.v as RelOp), sides: rel.parts.map(parseValueToks) };
  }
  if (toks.some((t) => isOp(t, "->"))) throw new NotMath("arrow");
  const cup = splitTop(toks, (t) => isOp(t, "cup"));
  if (cup.parts.length > 1) return { kind: "union", parts: cup.parts.map(parseItem) };
  return parseItem(toks);
}

/**
 * Parses an answer. `plain`: the text is a plain expression, not LaTeX, so words other than
 * function names make it not math. Returns undefined when the text is not something we read.
 */
export function parseAnswer(raw: string, opts: { plain?: boolean } = {}): ParsedAnswer | undefined {
  const { text, flags } = cleanAnswer(raw);
  if (flags.text) return { value: { kind: "text", text: text.replace(/\s+/g, " ").toLowerCase() }, flags, clean: text };
  if (text === "") return undefined;
  try {
    return { value: parseValueToks(tokenize(text, opts.plain ?? false)), flags, clean: text };
  } catch (e) {
    if (e instanceof NotMath) return undefined;
    throw e;
  }
}
