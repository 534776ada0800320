/**
 * Parsing one extracted answer into a structured value (see ast.ts): numbers and expressions,
 * relations, intervals, sets, tuples, unions, matrices, multiple-choice letters and words.
 *
 * Linear and bounded: brackets are matched once with a stack (deeper than `maxDepth` is a
 * failure with a reason, never a stack overflow), the expression parser's recursion is counted,
 * and an answer longer than `maxAnswerChars` is not parsed.
 */
import type { AnswerFlags, MathValue, Node, NumLit, RelOp } from "./ast.js";
import { lex, NotMath, numLit, type Tok } from "./lexer.js";
import { LimitReached, MATH_LIMITS, type MathLimits } from "./limits.js";
import { Meter, ratInt, ratMul, ratPowInt } from "./numbers.js";
import { numberPhrase } from "./prose.js";
import { repairEscapes } from "./text.js";
import { classifyWords, GENERIC_UNITS, unitOf } from "./units.js";

export type { AnswerFlags, MathValue, Node, NumLit, RelOp } from "./ast.js";
export { NotMath } from "./lexer.js";

export interface ParsedAnswer {
  value: MathValue;
  /** Flags of the whole answer (each expression also carries its own). */
  flags: AnswerFlags;
  /** The answer as read, in a normalised form (for explanations). */
  clean: string;
  /** Another reading of an ambiguous answer (`1,5`: one and a half, or the list 1, 5). */
  alternatives?: Array<{ value: MathValue; reading: string }>;
}

export interface ParseOptions {
  /** A plain expression rather than LaTeX (words are words; `1e3` is scientific notation). */
  plain?: boolean;
  limits?: MathLimits;
  meter?: Meter;
}

const REL: Record<string, RelOp | "in" | "~="> = { "=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!=", in: "in", "~=": "~=" };
const OPENERS = new Set(["(", "[", "{", "\\{"]);
const CLOSERS = new Set([")", "]", "}", "\\}"]);
const MATRIX_ENVS = new Set(["pmatrix", "bmatrix", "matrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix", "array"]);

const isOp = (t: Tok | undefined, v: string): boolean => t !== undefined && t.t === "op" && t.v === v;
const opv = (t: Tok): string => (t.t === "op" ? t.v : "");
const opens = (t: Tok) => (t.t === "op" && OPENERS.has(t.v)) || t.t === "begin";
const closes = (t: Tok) => (t.t === "op" && CLOSERS.has(t.v)) || t.t === "end";

// --------------------------------------------------------- classification ---

/** Words, percent and degree signs and units become marks (annotations) or separators; meaningful words make the answer words. */
function classify(toks: Tok[]): { toks: Tok[]; meaningful?: string } {
  const out: Tok[] = [];
  const valueish = (t: Tok | undefined) =>
    t !== undefined && (t.t === "num" || t.t === "id" || t.t === "const" || t.t === "end" || (t.t === "op" && [")", "]", "}", "\\}", "!", "'", "%"].includes(t.v)));
  const lastReal = () => {
    for (let k = out.length - 1; k >= 0; k--) if (out[k]!.t !== "mark") return out[k];
    return undefined;
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.t === "word") {
      // A run of words reads as one phrase.
      let j = i;
      let text = "";
      let marked = false;
      while (j < toks.length && toks[j]!.t === "word") {
        const w = toks[j] as Extract<Tok, { t: "word" }>;
        text += (text ? " " : "") + w.v;
        marked ||= w.marked;
        j++;
      }
      const after = valueish(lastReal());
      const next = toks[j];
      // \text{e}, \text{C}: one letter is a name, not words (after a number it may be a unit: 5 \text{ m}).
      if (j === i + 1 && /^\s*[A-Za-z]\s*$/.test(text) && !(after && classifyWords(text, true, true).kind === "unit")) {
        out.push({ t: "id", v: text.trim(), sp: t.sp });
        continue;
      }
      // A name before `=` (`\text{Area} = 25`).
      if (!after && isOp(next, "=") && /^[A-Za-z ]{1,30}$/.test(text.trim()) && !out.some((o) => o.t !== "mark")) {
        out.push({ t: "id", v: text.trim().replace(/\s+/g, "_"), sp: t.sp });
        i = j - 1;
        continue;
      }
      const kind = classifyWords(text, marked, after);
      if (kind.kind === "meaningful") return { toks: out, meaningful: kind.text };
      if (kind.kind === "connective") out.push({ t: "op", v: ",", sp: true });
      else if (kind.kind === "unit") {
        let unit = kind.unit;
        // A power of the unit (`\text{cm}^2`, `\mathrm{~s}^{-1}`): of its last factor.
        if (isOp(toks[j], "^") && (toks[j + 1]?.t === "num" || isOp(toks[j + 1], "{"))) {
          const from = j + 1;
          j += 2;
          if (isOp(toks[j - 1], "{")) while (j < toks.length && !isOp(toks[j - 1], "}")) j++;
          const inner = j - from <= 5 ? toks.slice(from, j).filter((x) => !isOp(x, "{") && !isOp(x, "}")) : [];
          const [p0, p1] = inner;
          const power = inner.length === 1 && p0?.t === "num" ? p0.lit.digits : inner.length === 2 && isOp(p0, "-") && p1?.t === "num" ? `-${p1.lit.digits}` : undefined;
          if (power !== undefined && /^-?\d$/.test(power) && power !== "1") unit = unitOf(`${text}^${power}`) ?? unit;
        }
        out.push({ t: "mark", v: `unit:${unit}`, sp: true });
      } else if (kind.kind === "label") out.push({ t: "mark", v: `label:${kind.text}`, sp: true });
      i = j - 1;
      continue;
    }
    const degEnd =
      t.t === "op" && t.v === "deg"
        ? i
        : isOp(t, "^") && isOp(toks[i + 1], "deg")
          ? i + 1
          : isOp(t, "^") && isOp(toks[i + 1], "{") && isOp(toks[i + 2], "deg") && isOp(toks[i + 3], "}")
            ? i + 3
            : -1;
    if (degEnd >= 0) {
      i = degEnd;
      const d = out[out.length - 1];
      const ms = d?.t === "num" ? minutesSeconds(toks, i + 1) : undefined;
      if (ms) {
        // 63°45'30'' is 63 + 45/60 + 30/3600 degrees.
        out.push({ t: "op", v: "+", sp: false }, ms.m, { t: "op", v: "/", sp: false }, sixty(1));
        if (ms.s) out.push({ t: "op", v: "+", sp: false }, ms.s, { t: "op", v: "/", sp: false }, sixty(2));
        out.splice(out.length - (ms.s ? 8 : 4) - 1, 0, { t: "op", v: "(", sp: d!.sp });
        out.push({ t: "mark", v: "degrees", sp: t.sp }, { t: "op", v: ")", sp: false });
        i = ms.next - 1;
        continue;
      }
      out.push({ t: "mark", v: "degrees", sp: t.sp });
      continue;
    }
    if (t.t === "op" && t.v === "%") {
      // Trailing percent (end, or before a separator, relation or closing bracket) annotates the value.
      const n = toks[i + 1];
      if (n === undefined || (n.t === "op" && [",", ";", "=", "<", ">", "<=", ">=", ")", "]", "}", "\\}", "cup"].includes(n.v)) || n.t === "mark" || n.t === "word") {
        out.push({ t: "mark", v: "percent", sp: t.sp });
        continue;
      }
    }
    out.push(t);
  }
  return { toks: out };
}

/** `'` (or `^{\prime}`) and `''` after a number: how many primes, and where the tokens after them start. */
function primesAt(toks: Tok[], j: number): { n: number; next: number } | undefined {
  let k = j;
  const braced = isOp(toks[k], "^") && isOp(toks[k + 1], "{");
  if (isOp(toks[k], "^")) k += braced ? 2 : 1;
  let n = 0;
  while (n < 3 && (isOp(toks[k], "'") || isOp(toks[k], "''"))) n += opv(toks[k++]!).length;
  if (n === 0 || n > 2) return undefined;
  if (braced) {
    if (!isOp(toks[k], "}")) return undefined;
    k++;
  }
  return { n, next: k };
}

/** Minutes (and seconds) of arc after a number of degrees: `45'` or `45' 30''`. */
function minutesSeconds(toks: Tok[], j: number): { m: Tok; s?: Tok; next: number } | undefined {
  const m = toks[j];
  const pm = m?.t === "num" ? primesAt(toks, j + 1) : undefined;
  if (!pm || pm.n !== 1) return undefined;
  const s = toks[pm.next];
  const ps = s?.t === "num" ? primesAt(toks, pm.next + 1) : undefined;
  if (ps && ps.n === 2) return { m: m!, s: s!, next: ps.next };
  return { m: m!, next: pm.next };
}

const sixty = (power: 1 | 2): Tok => {
  const v = power === 1 ? 60n : 3600n;
  return { t: "num", lit: { digits: String(v), decimals: 0, exp10: 0, q: ratInt(v) }, sp: false };
};

// ------------------------------------------------------------------ parser ---

class Parser {
  readonly match: Int32Array;
  /** Whether the answer has an implication arrow at all (most have none: no split looks for one). */
  readonly implies: boolean;
  constructor(
    readonly toks: Tok[],
    readonly limits: MathLimits,
    readonly meter: Meter,
    readonly plain: boolean,
  ) {
    this.match = new Int32Array(toks.length).fill(-1);
    this.implies = toks.some((t) => isOp(t, "=>>"));
    const stack: number[] = [];
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i]!;
      if (opens(t)) {
        stack.push(i);
        if (stack.length > limits.maxDepth) throw new LimitReached("maxDepth", `the answer is nested deeper than ${limits.maxDepth} levels`);
      } else if (closes(t)) {
        const o = stack.pop();
        if (o === undefined) throw new NotMath("unbalanced brackets");
        this.match[o] = i;
        this.match[i] = o;
      }
    }
    if (stack.length) throw new NotMath("unbalanced brackets");
  }

  /** Splits [lo, hi) at top-level tokens for which `sep` holds. */
  split(lo: number, hi: number, sep: (t: Tok) => boolean): { parts: Array<[number, number]>; seps: Tok[] } {
    const parts: Array<[number, number]> = [];
    const seps: Tok[] = [];
    let start = lo;
    for (let i = lo; i < hi; i++) {
      const t = this.toks[i]!;
      if (opens(t)) {
        i = this.match[i]!;
        continue;
      }
      if (sep(t)) {
        parts.push([start, i]);
        seps.push(t);
        start = i + 1;
      }
    }
    parts.push([start, hi]);
    return { parts, seps };
  }

  /** Narrows [lo, hi) past marks at both ends. */
  trim(lo: number, hi: number): [number, number] {
    while (lo < hi && this.toks[lo]!.t === "mark") lo++;
    while (hi > lo && this.toks[hi - 1]!.t === "mark") hi--;
    return [lo, hi];
  }

  flagsOf(lo: number, hi: number): AnswerFlags | undefined {
    let f: AnswerFlags | undefined;
    for (let i = lo; i < hi; i++) {
      const t = this.toks[i]!;
      if (t.t !== "mark") continue;
      f ??= {};
      if (t.v === "percent") f.percent = true;
      else if (t.v === "degrees") f.degrees = true;
      else if (t.v.startsWith("unit:")) {
        const u = t.v.slice(5);
        if (u === "deg") f.degrees = true;
        else if (!GENERIC_UNITS.has(u)) f.unit = u;
      } else if (t.v.startsWith("label:")) f.label = t.v.slice(6);
    }
    return f;
  }

  value(lo: number, hi: number, depth = 0): MathValue {
    if (depth > this.limits.maxDepth) throw new LimitReached("maxDepth", `the answer is nested deeper than ${this.limits.maxDepth} levels`);
    const [a, b] = this.trim(lo, hi);
    if (a >= b) throw new NotMath("empty");
    // `x^2 = 4 \implies x = 2`: what the steps conclude is the answer. A statement of logic
    // (`p \implies q`, no relation in its conclusion) is no chain of steps and is not read.
    const implied = this.implies ? this.split(a, b, (t) => isOp(t, "=>>")) : undefined;
    if (implied && implied.parts.length > 1) {
      const [x, y] = implied.parts[implied.parts.length - 1]!;
      if (!this.hasTopRelation(x, y)) throw new NotMath("an implication whose conclusion is no relation");
      return this.value(x, y, depth + 1);
    }
    // Grouping braces or parentheses around everything, with no top-level comma inside.
    const first = this.toks[a]!;
    if ((isOp(first, "{") || isOp(first, "(")) && this.match[a] === b - 1) {
      const close = this.toks[b - 1]!;
      const inner = this.split(a + 1, b - 1, (t) => isOp(t, ",") || isOp(t, ";"));
      if (isOp(first, "{") && isOp(close, "}")) {
        // Plain braces only group in LaTeX: `{1,3}` shows as the list 1,3.
        if (inner.parts.length > 1) return this.setOf(inner.parts, true, depth);
        return this.value(a + 1, b - 1, depth + 1);
      }
      if (isOp(close, ")") && inner.parts.length === 1 && !this.hasTopRelation(a + 1, b - 1)) return this.value(a + 1, b - 1, depth + 1);
    }
    const commas = this.split(a, b, (t) => isOp(t, ",") || isOp(t, ";"));
    if (commas.parts.length > 1) return this.setOf(commas.parts, true, depth);
    const rel = this.split(a, b, (t) => t.t === "op" && REL[t.v] !== undefined);
    if (rel.parts.length > 1) {
      const ops = rel.seps.map((t) => REL[(t as { v: string }).v]!);
      const lastIn = ops.lastIndexOf("in");
      if (lastIn >= 0) {
        const [lo2, hi2] = rel.parts[lastIn + 1]!;
        return this.value(lo2, hi2, depth + 1);
      }
      let parts = rel.parts.map(([x, y]) => this.trim(x, y));
      let relOps = ops as RelOp[];
      const approx = ops.indexOf("~=");
      if (approx >= 0) {
        // What comes before the first \approx is the answer (`x = 1/3 \approx 0.33` is x = 1/3),
        // unless that is a bare name (`x \approx 11` is 11).
        if (approx === 0) {
          const [h0, h1] = parts[0]!;
          // `\approx 3.14` (nothing before it) is 3.14 too.
          const bare = h1 <= h0 || (h1 - h0 === 1 && this.toks[h0]!.t === "id");
          const [lo2, hi2] = bare ? rel.parts[1]! : rel.parts[0]!;
          return this.value(lo2, hi2, depth + 1);
        }
        parts = parts.slice(0, approx + 1);
        relOps = relOps.slice(0, approx);
      }
      // `= 10 \ln 2`: a leading empty side.
      let raw = rel.parts.slice(0, parts.length);
      if (parts[0]![0] >= parts[0]![1]) {
        parts = parts.slice(1);
        raw = raw.slice(1);
        relOps = relOps.slice(1);
      }
      if (parts.length < 2) return this.value(raw[0]![0], raw[0]![1], depth + 1);
      if (parts.some(([x, y]) => x >= y)) throw new NotMath("a relation with an empty side");
      // Each side keeps the marks next to it (units, percent).
      return expandRelation({ kind: "relation", ops: relOps, sides: raw.map(([x, y]) => this.item(x, y, depth + 1)) }, this.limits);
    }
    const odd = this.split(a, b, (t) => t.t === "op" && (t.v === "->" || t.v === "cap" || t.v === "setminus" || t.v === "&" || t.v === "\\\\"));
    if (odd.seps.length) throw new NotMath(`${describeTok(odd.seps[0]!)} outside a matrix`);
    const cup = this.split(a, b, (t) => isOp(t, "cup"));
    if (cup.parts.length > 1) return { kind: "union", parts: cup.parts.map(([x, y]) => this.item(x, y, depth + 1)) };
    return this.item(lo, hi, depth);
  }

  hasTopRelation(lo: number, hi: number): boolean {
    return this.split(lo, hi, (t) => t.t === "op" && REL[t.v] !== undefined).parts.length > 1;
  }

  setOf(parts: Array<[number, number]>, bare: boolean, depth: number): MathValue {
    // Empty parts (`1,,2`) are dropped; each element keeps the marks next to it.
    const nonEmpty = parts.filter(([x, y]) => {
      const [p, q] = this.trim(x, y);
      return p < q;
    });
    if (nonEmpty.length > this.limits.maxElements) throw new LimitReached("maxElements", `more than ${this.limits.maxElements} elements`);
    const elems: MathValue[] = [];
    for (const [x, y] of nonEmpty) {
      const v = this.value(x, y, depth + 1);
      // A ± inside an element gives several elements.
      if (v.kind === "set" && v.bare && v.elems.length > 1 && !this.split(x, y, (t) => isOp(t, ",") || isOp(t, ";")).seps.length) elems.push(...v.elems);
      else elems.push(v);
    }
    return bare ? { kind: "set", elems, bare: true } : { kind: "set", elems };
  }

  item(lo: number, hi: number, depth: number): MathValue {
    if (depth > this.limits.maxDepth) throw new LimitReached("maxDepth", `the answer is nested deeper than ${this.limits.maxDepth} levels`);
    const [a, b] = this.trim(lo, hi);
    if (a >= b) throw new NotMath("empty");
    const first = this.toks[a]!;
    const last = this.toks[b - 1]!;
    const spans = this.match[a] === b - 1;
    if (spans && (isOp(first, "\\{") || isOp(first, "{")) && (isOp(last, "\\}") || isOp(last, "}"))) {
      if (b - a === 2) return { kind: "set", elems: [] };
      const inner = this.split(a + 1, b - 1, (t) => isOp(t, ",") || isOp(t, ";"));
      if (isOp(first, "\\{")) return this.setOf(inner.parts, false, depth);
      if (inner.parts.length > 1) return this.setOf(inner.parts, true, depth);
      return this.value(a + 1, b - 1, depth + 1);
    }
    if (spans && (isOp(first, "(") || isOp(first, "[")) && (isOp(last, ")") || isOp(last, "]"))) {
      const inner = this.split(a + 1, b - 1, (t) => isOp(t, ",") || isOp(t, ";"));
      if (inner.parts.length > 1) {
        if (inner.parts.length > this.limits.maxElements) throw new LimitReached("maxElements", `more than ${this.limits.maxElements} elements`);
        const elems = inner.parts.map(([x, y]) => this.value(x, y, depth + 1));
        return { kind: "bracketed", open: isOp(first, "[") ? "[" : "(", close: isOp(last, "]") ? "]" : ")", elems };
      }
      if (this.hasTopRelation(a + 1, b - 1)) return this.value(a + 1, b - 1, depth + 1);
      // Brackets around one matrix: `\left[\begin{array}...\end{array}\right]`.
      const [x, y] = this.trim(a + 1, b - 1);
      const m = this.toks[x];
      if (m?.t === "begin" && MATRIX_ENVS.has(m.v) && this.match[x] === y - 1) return this.matrix(x, y, depth + 1);
    }
    if (spans && first.t === "begin" && MATRIX_ENVS.has(first.v)) return this.matrix(a, b, depth);
    if (b - a === 1 && first.t === "const" && first.v === "empty") return { kind: "set", elems: [] };
    if (b - a === 1 && first.t === "const" && first.v === "reals") return { kind: "bracketed", open: "(", close: ")", elems: [infValue(-1), infValue(1)] };
    return this.expr(lo, hi);
  }

  matrix(a: number, b: number, depth: number): MathValue {
    const rows: Array<Array<[number, number]>> = [];
    let row: Array<[number, number]> = [];
    let start = a + 1;
    const end = b - 1;
    for (let j = a + 1; j <= end; j++) {
      const t = this.toks[j]!;
      if (j < end && opens(t)) {
        j = this.match[j]!;
        continue;
      }
      const cell = j < end && isOp(t, "&");
      const rowEnd = j === end || isOp(t, "\\\\");
      if (cell || rowEnd) {
        row.push(this.trim(start, j));
        start = j + 1;
        if (rowEnd) {
          rows.push(row);
          row = [];
        }
      }
    }
    while (rows.length > 0 && rows[rows.length - 1]!.every(([x, y]) => x >= y)) rows.pop();
    if (rows.length === 0) throw new NotMath("empty matrix");
    const width = rows[0]!.length;
    if (rows.some((r) => r.length !== width || r.some(([x, y]) => x >= y))) throw new NotMath("ragged matrix");
    if (rows.length * width > this.limits.maxElements) throw new LimitReached("maxElements", `more than ${this.limits.maxElements} elements`);
    return { kind: "matrix", rows: rows.map((r) => r.map(([x, y]) => this.value(x, y, depth + 1))) };
  }

  expr(lo: number, hi: number): MathValue {
    const flags = this.flagsOf(lo, hi);
    const [a, b] = this.trim(lo, hi);
    const p = new ExprParser(this, a, b);
    const node = p.parseExpr();
    if (p.pos < b) throw new NotMath(`unexpected ${describeTok(this.toks[p.pos]!)}`);
    if (hasMatrix(node, 0)) return matrixValue(reduceMatrix(node, this.limits), flags);
    const nodes = expandPm(node);
    const make = (n: Node): MathValue => {
      const v: Extract<MathValue, { kind: "expr" }> = { kind: "expr", node: n, src: render(n) };
      const lit = literalOf(n, this.meter);
      if (lit) {
        v.lit = lit.lit;
        if (lit.neg) v.negLit = true;
      }
      if (flags) v.flags = flags;
      return v;
    };
    if (nodes.length === 1) return make(nodes[0]!);
    return { kind: "set", elems: nodes.map(make), bare: true };
  }
}

function describeTok(t: Tok): string {
  return t.t === "num" ? t.lit.digits : String(t.v);
}

const infValue = (sign: 1 | -1): MathValue => {
  const node: Node = sign > 0 ? { k: "const", name: "inf" } : { k: "neg", x: { k: "const", name: "inf" } };
  return { kind: "expr", node, src: sign > 0 ? "∞" : "-∞" };
};

/** Relations whose sides hold ± become several relations (`x = \pm 2`: x = 2, x = -2). */
function expandRelation(r: Extract<MathValue, { kind: "relation" }>, limits: MathLimits): MathValue {
  const idx = r.sides.findIndex((s) => s.kind === "set" && s.bare);
  if (idx < 0) return r;
  const side = r.sides[idx] as Extract<MathValue, { kind: "set" }>;
  if (side.elems.length > limits.maxElements) throw new LimitReached("maxElements", `more than ${limits.maxElements} elements`);
  return { kind: "set", bare: true, elems: side.elems.map((e) => expandRelation({ ...r, sides: r.sides.map((s, i) => (i === idx ? e : s)) }, limits)) };
}

// ----------------------------------------------------- expression parser ---

class ExprParser {
  pos: number;
  depth = 0;
  absDepth = 0;
  constructor(
    private readonly p: Parser,
    lo: number,
    private readonly hi: number,
  ) {
    this.pos = lo;
    this.skip();
  }

  private get toks() {
    return this.p.toks;
  }
  private skip(): void {
    while (this.pos < this.hi && this.toks[this.pos]!.t === "mark") this.pos++;
  }
  private peek(): Tok | undefined {
    return this.pos < this.hi ? this.toks[this.pos] : undefined;
  }
  private advance(): Tok {
    const t = this.toks[this.pos++]!;
    this.skip();
    return t;
  }
  private enter(): void {
    if (++this.depth > this.p.limits.maxDepth) throw new LimitReached("maxDepth", `the answer is nested deeper than ${this.p.limits.maxDepth} levels`);
  }

  /** A sub-parser over a bracket group's content (the group starts at the cursor). */
  private group(): Node {
    const open = this.pos;
    const close = this.p.match[open]!;
    if (close < 0 || close >= this.hi) throw new NotMath("unclosed bracket");
    const o = this.toks[open] as { v: string };
    const c = this.toks[close] as { v: string };
    const want = o.v === "(" ? ")" : o.v === "[" ? "]" : o.v === "{" ? "}" : undefined;
    if (want === undefined || c.v !== want) throw new NotMath("mismatched brackets in an expression");
    const inner = new ExprParser(this.p, open + 1, close);
    inner.depth = this.depth;
    this.enter();
    const node = inner.parseExpr();
    if (inner.pos < close) throw new NotMath(`unexpected ${describeTok(this.toks[inner.pos]!)}`);
    this.depth--;
    this.pos = close + 1;
    this.skip();
    return node;
  }

  private startsOperand(t: Tok | undefined): boolean {
    if (!t) return false;
    if (t.t === "num" || t.t === "id" || t.t === "const" || t.t === "fn" || t.t === "begin") return true;
    if (t.t === "op") return t.v === "(" || t.v === "[" || t.v === "{" || (t.v === "|" && this.absDepth === 0);
    return false;
  }

  parseExpr(): Node {
    let terms: Node[] = [this.parseTerm()];
    for (let t = this.peek(); t; t = this.peek()) {
      if (isOp(t, "+") || isOp(t, "-")) {
        this.advance();
        const x = this.parseTerm();
        terms.push(opv(t) === "-" ? { k: "neg", x } : x);
      } else if (isOp(t, "pm") || isOp(t, "mp")) {
        const minusFirst = opv(t) === "mp";
        this.advance();
        const b = this.parseTerm();
        terms = [{ k: "pm", a: terms.length === 1 ? terms[0]! : { k: "add", terms }, b, minusFirst }];
      } else break;
    }
    return terms.length === 1 ? terms[0]! : { k: "add", terms };
  }

  private parseTerm(): Node {
    const factors: Node[] = [this.parseUnary()];
    for (let t = this.peek(); t; t = this.peek()) {
      if (isOp(t, "*") || isOp(t, "/") || isOp(t, ":")) {
        this.advance();
        const rhs = this.parseUnary();
        if (opv(t) === "*") factors.push(rhs);
        else {
          const num: Node = factors.length === 1 ? factors[0]! : { k: "mul", factors: [...factors] };
          factors.length = 0;
          factors.push({ k: "div", a: num, b: rhs });
        }
      } else if (this.startsOperand(t)) {
        // `4 5` is not twenty: two numbers side by side are no product (`2\frac{1}{2}`, `1 1/2` are read apart).
        if (t.t === "num" && this.toks[this.pos - 1]?.t === "num") throw new NotMath("two numbers side by side");
        factors.push(this.parsePostfix());
      } else break;
    }
    return factors.length === 1 ? factors[0]! : { k: "mul", factors };
  }

  private parseUnary(): Node {
    this.enter();
    try {
      const t = this.peek();
      if (isOp(t, "-")) {
        this.advance();
        return { k: "neg", x: this.parseUnary() };
      }
      if (isOp(t, "+")) {
        this.advance();
        return this.parseUnary();
      }
      if (isOp(t, "pm") || isOp(t, "mp")) {
        this.advance();
        return { k: "pm", b: this.parseUnary(), minusFirst: (t as { v: string }).v === "mp" };
      }
      return this.parsePostfix();
    } finally {
      this.depth--;
    }
  }

  private parsePostfix(): Node {
    let base = this.parsePrimary();
    for (let t = this.peek(); t; t = this.peek()) {
      if (isOp(t, "^")) {
        this.advance();
        const e = this.parsePowArg();
        // sin^{-1}-style inverse handled in functions; here a plain power.
        base = { k: "pow", a: base, b: e };
      } else if (isOp(t, "!")) {
        this.advance();
        base = { k: "fn", name: "fact", args: [base] };
      } else if (isOp(t, "'") || isOp(t, "''")) {
        const mark = opv(t);
        this.advance();
        if (base.k !== "sym") throw new NotMath("a prime on an expression");
        base = { k: "sym", name: base.name + mark };
      } else if (isOp(t, "%")) {
        this.advance();
        base = { k: "div", a: base, b: numNode("100", this.p.meter) };
      } else break;
    }
    return base;
  }

  private parsePowArg(): Node {
    this.enter();
    try {
      const t = this.peek();
      if (!t) throw new NotMath("a power without an exponent");
      if (isOp(t, "{") || isOp(t, "(")) return this.group();
      if (t.t === "num") {
        this.advance();
        return { k: "num", lit: t.lit };
      }
      if (t.t === "id") {
        this.advance();
        return this.symbol(t.v);
      }
      if (isOp(t, "-")) {
        this.advance();
        return { k: "neg", x: this.parsePowArg() };
      }
      if (isOp(t, "+")) {
        this.advance();
        return this.parsePowArg();
      }
      return this.parsePrimary();
    } finally {
      this.depth--;
    }
  }

  /** A LaTeX argument: a braced group, or one token (one digit of a number: `\frac94`). */
  private parseArg(): Node {
    this.enter();
    try {
      const t = this.peek();
      if (!t) throw new NotMath("a missing argument");
      if (isOp(t, "{") || isOp(t, "(")) return this.group();
      if (t.t === "num") {
        if (t.lit.decimals === 0 && t.lit.exp10 === 0 && t.lit.digits.length > 1) {
          // \frac94: the argument is one digit; the rest stays for the next argument.
          this.toks[this.pos] = { t: "num", lit: numLit(t.lit.digits.slice(1), "", 0, this.p.meter), sp: false };
          return numNode(t.lit.digits[0]!, this.p.meter);
        }
        this.advance();
        return { k: "num", lit: t.lit };
      }
      if (t.t === "id") {
        this.advance();
        return this.symbol(t.v);
      }
      return this.parsePrimary();
    } finally {
      this.depth--;
    }
  }

  private symbol(name: string): Node {
    if (name === "e") return { k: "const", name: "e" };
    if (name === "i") return { k: "const", name: "i" };
    if (name === "pi") return { k: "const", name: "pi" };
    return { k: "sym", name };
  }

  /** A subscript's text (`_1`, `_{12}`, `_{n-1}`), canonical. */
  private subscript(): string {
    this.advance(); // _
    const t = this.peek();
    if (!t) throw new NotMath("an empty subscript");
    if (isOp(t, "{")) {
      const close = this.p.match[this.pos]!;
      let text = "";
      for (let k = this.pos + 1; k < close; k++) {
        const x = this.toks[k]!;
        text += x.t === "num" ? x.lit.digits : "v" in x ? x.v : "";
      }
      this.pos = close + 1;
      this.skip();
      return text;
    }
    this.advance();
    return t.t === "num" ? t.lit.digits : "v" in t ? t.v : "";
  }

  private parsePrimary(): Node {
    const t = this.peek();
    if (!t) throw new NotMath("a missing operand");
    switch (t.t) {
      case "num": {
        const at = this.pos;
        this.advance();
        const node: Node = { k: "num", lit: t.lit };
        const mixed = this.mixedNumber(t.lit, at);
        if (mixed) return { k: "add", terms: [node, mixed] };
        // A mixed number: 2\frac{1}{2} is two and a half.
        const n = this.peek();
        if (n?.t === "fn" && n.v === "frac" && t.lit.decimals === 0 && t.lit.exp10 === 0) {
          const save = this.pos;
          const ints = this.mixedFraction();
          if (ints) return { k: "add", terms: [node, ints] };
          this.pos = save;
        }
        return node;
      }
      case "id": {
        this.advance();
        let name = t.v;
        if (isOp(this.peek(), "_")) name += "_" + this.subscript();
        if (name.length === 1 || name.includes("_") || /^[a-zA-Z]+$/.test(name)) {
          // f(x), I(0): a one-letter name applied to simple arguments, right after the name.
          const n = this.peek();
          if (isOp(n, "(") && !n!.sp && /^[a-zA-Z](?:_\w+)?$/.test(name)) {
            const close = this.p.match[this.pos]!;
            const inner = this.p.split(this.pos + 1, close, (x) => isOp(x, ","));
            const simple = inner.parts.every(([x, y]) => y - x === 1 && (this.toks[x]!.t === "id" || this.toks[x]!.t === "num"));
            if (simple && close > this.pos + 1) {
              const args = inner.parts.map(([x]) => {
                const a = this.toks[x]!;
                return a.t === "num" ? ({ k: "num", lit: a.lit } as Node) : this.symbol((a as { v: string }).v);
              });
              this.pos = close + 1;
              this.skip();
              return { k: "apply", f: name, args };
            }
          }
        }
        return this.symbol(name);
      }
      case "const": {
        this.advance();
        if (t.v === "pi") return { k: "const", name: "pi" };
        if (t.v === "inf") return { k: "const", name: "inf" };
        if (t.v === "dots") return { k: "opaque", text: "…" };
        throw new NotMath(t.v === "empty" ? "an empty set inside an expression" : "a number set inside an expression");
      }
      case "fn":
        this.advance();
        return this.parseFn(t.v);
      case "begin": {
        if (!MATRIX_ENVS.has(t.v)) throw new NotMath(`environment ${t.v}`);
        const end = this.p.match[this.pos]!;
        const m = this.p.matrix(this.pos, end + 1, this.depth + 1);
        this.pos = end + 1;
        this.skip();
        if (m.kind !== "matrix") throw new NotMath("a bad matrix");
        return { k: "matrix", rows: m.rows.map((r) => r.map((c) => (c.kind === "expr" ? c.node : (() => { throw new NotMath("a matrix entry that is not an expression"); })()))) };
      }
      case "op": {
        if (t.v === "(" || t.v === "[" || t.v === "{") {
          const g = this.group();
          // {u}_1: a styled name with a subscript.
          if (isOp(this.peek(), "_") && g.k === "sym") return { k: "sym", name: g.name + "_" + this.subscript() };
          return g;
        }
        if (t.v === "|" && this.absDepth === 0) {
          this.advance();
          this.absDepth++;
          this.enter();
          const inner = this.parseExpr();
          this.depth--;
          this.absDepth--;
          if (!isOp(this.peek(), "|")) throw new NotMath("an unclosed |");
          this.advance();
          return { k: "fn", name: "abs", args: [inner] };
        }
        throw new NotMath(`unexpected ${t.v}`);
      }
      default:
        throw new NotMath(`unexpected ${describeTok(t)}`);
    }
  }

  /**
   * `1 1/2` (one and a half): an integer, a space, then a fraction of integers that nothing else
   * follows. The fraction is returned and the cursor moved past it; otherwise undefined.
   */
  private mixedNumber(whole: NumLit, at: number): Node | undefined {
    const isInt = (l: NumLit) => l.decimals === 0 && l.exp10 === 0;
    const [a, slash, b, after] = [this.toks[this.pos], this.toks[this.pos + 1], this.toks[this.pos + 2], this.pos + 3 < this.hi ? this.toks[this.pos + 3] : undefined];
    if (!isInt(whole) || a?.t !== "num" || !a.sp || !isInt(a.lit) || !isOp(slash, "/") || b?.t !== "num" || !isInt(b.lit)) return undefined;
    if (this.pos + 2 >= this.hi || (after && (this.startsOperand(after) || isOp(after, "^") || isOp(after, "!") || isOp(after, "/") || isOp(after, "*")))) return undefined;
    const before = this.toks[at - 1];
    if (before && (isOp(before, "/") || isOp(before, "^") || isOp(before, "*") || isOp(before, ":"))) return undefined;
    this.pos += 3;
    this.skip();
    return { k: "div", a: { k: "num", lit: a.lit }, b: { k: "num", lit: b.lit } };
  }

  /** `\frac{1}{2}` with integer arguments right after an integer, or undefined. */
  private mixedFraction(): Node | undefined {
    this.advance(); // \frac
    const nums: NumLit[] = [];
    for (let k = 0; k < 2; k++) {
      const t = this.peek();
      if (isOp(t, "{")) {
        const close = this.p.match[this.pos]!;
        const inner = this.toks[this.pos + 1];
        if (close !== this.pos + 2 || inner?.t !== "num" || inner.lit.decimals !== 0) return undefined;
        nums.push(inner.lit);
        this.pos = close + 1;
        this.skip();
      } else return undefined;
    }
    return { k: "div", a: { k: "num", lit: nums[0]! }, b: { k: "num", lit: nums[1]! } };
  }

  private parseFn(name: string): Node {
    switch (name) {
      case "frac": {
        const a = this.parseArg();
        const b = this.parseArg();
        return { k: "div", a, b };
      }
      case "binom": {
        const a = this.parseArg();
        const b = this.parseArg();
        return { k: "fn", name: "binom", args: [a, b] };
      }
      case "sqrt": {
        if (isOp(this.peek(), "[")) {
          const close = this.p.match[this.pos]!;
          if (close < 0) throw new NotMath("an unclosed root index");
          const inner = new ExprParser(this.p, this.pos + 1, close);
          inner.depth = this.depth;
          const n = inner.parseExpr();
          if (inner.pos < close) throw new NotMath("a bad root index");
          this.pos = close + 1;
          this.skip();
          return { k: "fn", name: "root", args: [this.parseArg(), n] };
        }
        return { k: "fn", name: "sqrt", args: [this.parseArg()] };
      }
      case "gcd":
      case "lcm":
      case "max":
      case "min": {
        if (!isOp(this.peek(), "(")) throw new NotMath(`${name} without arguments`);
        const close = this.p.match[this.pos]!;
        const parts = this.p.split(this.pos + 1, close, (x) => isOp(x, ","));
        const args = parts.parts.map(([x, y]) => {
          const sub = new ExprParser(this.p, x, y);
          sub.depth = this.depth + 1;
          const n = sub.parseExpr();
          if (sub.pos < y) throw new NotMath(`bad arguments of ${name}`);
          return n;
        });
        this.pos = close + 1;
        this.skip();
        return { k: "fn", name, args };
      }
      case "sum":
      case "prod":
        return this.parseSeries(name);
      case "int":
      case "iint":
      case "iiint":
      case "oint":
      case "lim":
      case "limsup":
      case "liminf":
      case "det":
        throw new NotMath(`\\${name}`);
      default:
        return this.applyFunction(name);
    }
  }

  /** `\sum_{k=1}^{n} body`: the body is the following product of factors. */
  private parseSeries(op: "sum" | "prod"): Node {
    if (!isOp(this.peek(), "_")) throw new NotMath(`\\${op} without bounds`);
    this.advance();
    let v: string | undefined;
    let lo: Node | undefined;
    if (isOp(this.peek(), "{")) {
      const close = this.p.match[this.pos]!;
      const first = this.toks[this.pos + 1];
      if (first?.t === "id" && isOp(this.toks[this.pos + 2], "=")) {
        v = first.v;
        const sub = new ExprParser(this.p, this.pos + 3, close);
        sub.depth = this.depth + 1;
        lo = sub.parseExpr();
        if (sub.pos < close) throw new NotMath("a bad lower bound");
      }
      this.pos = close + 1;
      this.skip();
    }
    if (v === undefined || lo === undefined) throw new NotMath(`\\${op} without a variable`);
    if (!isOp(this.peek(), "^")) throw new NotMath(`\\${op} without an upper bound`);
    this.advance();
    const hi = this.parsePowArg();
    const factors: Node[] = [];
    for (let t = this.peek(); t && this.startsOperand(t); t = this.peek()) factors.push(this.parsePostfix());
    if (factors.length === 0) throw new NotMath(`\\${op} without a body`);
    const body = factors.length === 1 ? factors[0]! : { k: "mul" as const, factors };
    return { k: "series", op, v, lo, hi, body };
  }

  /** `\sin x`, `\sin^2(x)`, `\log_2 8`, `\sin^{-1} x`, `\ln|x|`. */
  private applyFunction(name: string): Node {
    const INVERSE: Record<string, string> = { sin: "arcsin", cos: "arccos", tan: "arctan", cot: "arccot", sec: "arcsec", csc: "arccsc", sinh: "arcsinh", cosh: "arccosh", tanh: "arctanh" };
    let fn = name === "lg" ? "log10" : name;
    let power: Node | undefined;
    let base: Node | undefined;
    for (;;) {
      if (isOp(this.peek(), "^")) {
        this.advance();
        const p = this.parsePowArg();
        const isMinusOne = p.k === "neg" && p.x.k === "num" && p.x.lit.digits === "1";
        if (isMinusOne && INVERSE[fn]) fn = INVERSE[fn]!;
        else power = p;
      } else if (isOp(this.peek(), "_") && (fn === "log" || fn === "ln")) {
        this.advance();
        base = this.parseArg();
      } else break;
    }
    let x: Node;
    const n = this.peek();
    if (isOp(n, "(") || isOp(n, "{") || isOp(n, "[")) {
      x = this.group();
    } else if (isOp(n, "|") && this.absDepth === 0) {
      x = this.parsePrimary();
    } else {
      const atoms: Node[] = [];
      // `\sin \frac{\pi}{6}`, `\ln \sqrt{x}`: a fraction or root right after the name is its argument;
      // another function ends the argument (`\sin x \cos x`).
      const t0 = this.peek();
      if (t0?.t === "fn" && (t0.v === "frac" || t0.v === "sqrt")) atoms.push(this.parsePostfix());
      for (let t = this.peek(); t && this.startsOperand(t) && t.t !== "fn"; t = this.peek()) atoms.push(this.parsePostfix());
      if (atoms.length === 0) throw new NotMath(`\\${name} without an argument`);
      x = atoms.length === 1 ? atoms[0]! : { k: "mul", factors: atoms };
    }
    const call: Node = base !== undefined ? { k: "fn", name: "log", args: [x, base] } : { k: "fn", name: fn === "ln" ? "log" : fn, args: [x] };
    return power !== undefined ? { k: "pow", a: call, b: power } : call;
  }
}

function hasMatrix(n: Node, depth: number): boolean {
  if (depth > 400) return false;
  switch (n.k) {
    case "matrix":
      return true;
    case "add":
      return n.terms.some((t) => hasMatrix(t, depth + 1));
    case "mul":
      return n.factors.some((t) => hasMatrix(t, depth + 1));
    case "neg":
      return hasMatrix(n.x, depth + 1);
    case "div":
    case "pow":
      return hasMatrix(n.a, depth + 1) || hasMatrix(n.b, depth + 1);
    case "fn":
      return n.args.some((t) => hasMatrix(t, depth + 1));
    default:
      return false;
  }
}

type Reduced = { rows: Node[][] } | { scalar: Node };

/** A matrix expression (`A + B`, `2A`, `AB`, `A^2`) as one matrix of entry expressions. */
function reduceMatrix(n: Node, limits: MathLimits, depth = 0): Reduced {
  if (depth > limits.maxDepth) throw new LimitReached("maxDepth", `the answer is nested deeper than ${limits.maxDepth} levels`);
  const r = (x: Node) => reduceMatrix(x, limits, depth + 1);
  const shape = (m: Node[][]) => `${m.length}x${m[0]!.length}`;
  const map = (m: Node[][], f: (x: Node) => Node) => m.map((row) => row.map(f));
  const matmul = (a: Node[][], b: Node[][]): Node[][] => {
    if (a[0]!.length !== b.length) throw new NotMath("matrices that cannot be multiplied");
    if (a.length * b[0]!.length * b.length > limits.maxElements * 8) throw new LimitReached("maxElements", "a matrix product too large");
    return a.map((row) => b[0]!.map((_, j) => ({ k: "add", terms: row.map((x, k) => ({ k: "mul", factors: [x, b[k]![j]!] }) as Node) }) as Node));
  };
  switch (n.k) {
    case "matrix":
      return { rows: n.rows };
    case "add": {
      const parts = n.terms.map(r);
      const ms = parts.filter((p): p is { rows: Node[][] } => "rows" in p);
      if (ms.length === 0) return { scalar: n };
      if (ms.length !== parts.length || ms.some((m) => shape(m.rows) !== shape(ms[0]!.rows))) throw new NotMath("a sum of a matrix and something else");
      return { rows: ms[0]!.rows.map((row, i) => row.map((_, j) => ({ k: "add", terms: ms.map((m) => m.rows[i]![j]!) }) as Node)) };
    }
    case "neg": {
      const x = r(n.x);
      return "rows" in x ? { rows: map(x.rows, (e) => ({ k: "neg", x: e })) } : { scalar: n };
    }
    case "mul": {
      let acc: Reduced | undefined;
      for (const f of n.factors.map(r)) {
        if (!acc) acc = f;
        else if ("scalar" in acc && "scalar" in f) acc = { scalar: { k: "mul", factors: [acc.scalar, f.scalar] } };
        else if ("scalar" in acc && "rows" in f) {
          const s = acc.scalar;
          acc = { rows: map(f.rows, (e) => ({ k: "mul", factors: [s, e] })) };
        } else if ("rows" in acc && "scalar" in f) {
          const s = f.scalar;
          acc = { rows: map(acc.rows, (e) => ({ k: "mul", factors: [e, s] })) };
        } else acc = { rows: matmul((acc as { rows: Node[][] }).rows, (f as { rows: Node[][] }).rows) };
      }
      return acc!;
    }
    case "div": {
      const a = r(n.a);
      const b = r(n.b);
      if ("rows" in b) throw new NotMath("division by a matrix");
      return "rows" in a ? { rows: map(a.rows, (e) => ({ k: "div", a: e, b: b.scalar })) } : { scalar: n };
    }
    case "pow": {
      const a = r(n.a);
      if ("scalar" in a) return { scalar: n };
      const e = n.b;
      const k = e.k === "num" && e.lit.decimals === 0 && e.lit.exp10 === 0 ? Number(e.lit.digits) : NaN;
      if (!(k >= 1 && k <= 8) || a.rows.length !== a.rows[0]!.length) throw new NotMath("a matrix power");
      let m = a.rows;
      for (let i = 1; i < k; i++) m = matmul(m, a.rows);
      return { rows: m };
    }
    default:
      if (hasMatrix(n, 0)) throw new NotMath("a function of a matrix");
      return { scalar: n };
  }
}

function matrixValue(red: Reduced, flags: AnswerFlags | undefined): MathValue {
  if (!("rows" in red)) throw new NotMath("not a matrix");
  return {
    kind: "matrix",
    rows: red.rows.map((row) =>
      row.map((node) => {
        const v: Extract<MathValue, { kind: "expr" }> = { kind: "expr", node, src: render(node) };
        if (flags) v.flags = flags;
        return v;
      }),
    ),
  };
}

function numNode(digits: string, m: Meter): Node {
  return { k: "num", lit: numLit(digits, "", 0, m) };
}

// ------------------------------------------------------------- utilities ---

/** `a ± b` as its two (or more) readings; at most 16. */
export function expandPm(node: Node): Node[] {
  if (!hasPm(node, 0)) return [node];
  const out = expand(node, 0);
  if (out.length > 16) throw new LimitReached("maxElements", "more than four ± signs");
  return out;
}

function hasPm(n: Node, depth: number): boolean {
  if (depth > 400) return false;
  switch (n.k) {
    case "pm":
      return true;
    case "add":
      return n.terms.some((t) => hasPm(t, depth + 1));
    case "mul":
      return n.factors.some((t) => hasPm(t, depth + 1));
    case "neg":
      return hasPm(n.x, depth + 1);
    case "div":
    case "pow":
      return hasPm(n.a, depth + 1) || hasPm(n.b, depth + 1);
    case "fn":
      return n.args.some((t) => hasPm(t, depth + 1));
    default:
      return false;
  }
}

function product<T>(lists: T[][]): T[][] {
  let acc: T[][] = [[]];
  for (const l of lists) {
    const next: T[][] = [];
    for (const a of acc) for (const x of l) next.push([...a, x]);
    acc = next;
    if (acc.length > 64) throw new LimitReached("maxElements", "more than four ± signs");
  }
  return acc;
}

function expand(n: Node, depth: number): Node[] {
  if (depth > 400) throw new LimitReached("maxDepth", "an expression with ± nested too deep");
  const expand1 = (x: Node) => expand(x, depth + 1);
  switch (n.k) {
    case "pm": {
      const bs = expand1(n.b);
      const as = n.a ? expand1(n.a) : [undefined];
      const out: Node[] = [];
      for (const a of as) {
        for (const b of bs) {
          const plus: Node = a ? { k: "add", terms: [a, b] } : b;
          const minus: Node = a ? { k: "add", terms: [a, { k: "neg", x: b }] } : { k: "neg", x: b };
          out.push(...(n.minusFirst ? [minus, plus] : [plus, minus]));
        }
      }
      return out;
    }
    case "add":
      return product(n.terms.map(expand1)).map((terms) => ({ k: "add", terms }));
    case "mul":
      return product(n.factors.map(expand1)).map((factors) => ({ k: "mul", factors }));
    case "neg":
      return expand1(n.x).map((x) => ({ k: "neg", x }));
    case "div":
      return product([expand1(n.a), expand1(n.b)]).map(([a, b]) => ({ k: "div", a: a!, b: b! }));
    case "pow":
      return product([expand1(n.a), expand1(n.b)]).map(([a, b]) => ({ k: "pow", a: a!, b: b! }));
    case "fn":
      return product(n.args.map(expand1)).map((args) => ({ k: "fn", name: n.name, args }));
    default:
      return [n];
  }
}

/** A single number as written (`-1.5`, `1.07 \times 10^{16}`, `3e8`), with its value. */
export function literalOf(n: Node, m: Meter): { lit: NumLit; neg: boolean } | undefined {
  let neg = false;
  if (n.k === "neg") {
    neg = true;
    n = n.x;
  }
  if (n.k === "num") return { lit: n.lit, neg };
  // mantissa × 10^k
  if (n.k === "mul" && n.factors.length === 2) {
    const [a, p] = n.factors as [Node, Node];
    if (a.k === "num" && p.k === "pow" && p.a.k === "num" && p.a.lit.digits === "10") {
      let e = p.b;
      let sign = 1;
      if (e.k === "neg") {
        sign = -1;
        e = e.x;
      }
      if (e.k === "num" && e.lit.decimals === 0 && e.lit.exp10 === 0 && e.lit.digits.length <= 6) {
        const k = sign * Number(e.lit.digits);
        const lit: NumLit = { digits: a.lit.digits, decimals: a.lit.decimals, exp10: a.lit.exp10 + k };
        if (a.lit.q) {
          const scale = ratPowInt(ratInt(10n), BigInt(k), m);
          const q = scale && ratMul(a.lit.q, scale, m);
          if (q) lit.q = q;
        }
        return { lit, neg };
      }
    }
  }
  return undefined;
}

/** A plain rendering of a node, for explanations and structural comparison. */
export function render(n: Node, depth = 0): string {
  if (depth > 300) return "…";
  const r = (x: Node) => render(x, depth + 1);
  const wrap = (x: Node) => (x.k === "add" || x.k === "neg" || x.k === "div" || x.k === "mul" || x.k === "pm" ? `(${r(x)})` : r(x));
  switch (n.k) {
    case "num":
      return n.lit.exp10 ? `${n.lit.digits}e${n.lit.exp10}` : n.lit.digits;
    case "sym":
      return n.name;
    case "const":
      return n.name === "inf" ? "∞" : n.name === "pi" ? "π" : n.name;
    case "add":
      return n.terms.map((t, i) => (i > 0 && t.k === "neg" ? ` - ${wrap(t.x)}` : i > 0 ? ` + ${r(t)}` : r(t))).join("");
    case "mul":
      return n.factors.map(wrap).join("·");
    case "neg":
      return `-${wrap(n.x)}`;
    case "div":
      return `${wrap(n.a)}/${wrap(n.b)}`;
    case "pow":
      return `${wrap(n.a)}^${wrap(n.b)}`;
    case "fn":
      return n.name === "fact" ? `${wrap(n.args[0]!)}!` : `${n.name}(${n.args.map(r).join(", ")})`;
    case "apply":
      return `${n.f}(${n.args.map(r).join(", ")})`;
    case "series":
      return `${n.op}(${n.v}=${r(n.lo)}..${r(n.hi)}, ${r(n.body)})`;
    case "pm":
      return `${n.a ? r(n.a) + " " : ""}${n.minusFirst ? "∓" : "±"} ${wrap(n.b)}`;
    case "matrix":
      return `[${n.rows.map((row) => row.map(r).join(", ")).join("; ")}]`;
    case "opaque":
      return n.text;
  }
}

/** Renders tokens back to text (the clean form of an answer). */
function renderToks(toks: Tok[]): string {
  let out = "";
  for (const t of toks) {
    if (t.t === "mark") continue;
    const text =
      t.t === "num"
        ? t.lit.digits + (t.lit.exp10 ? `e${t.lit.exp10}` : "")
        : t.t === "fn" || (t.t === "id" && t.v.length > 1 && !t.v.includes("_"))
          ? `\\${t.v}`
          : t.t === "const"
            ? { pi: "\\pi", inf: "\\infty", reals: "\\mathbb{R}", empty: "\\emptyset", dots: "\\dots" }[t.v]
            : t.t === "op"
              ? ({ "<=": "\\le ", ">=": "\\ge ", "!=": "\\ne ", pm: "\\pm ", mp: "\\mp ", cup: "\\cup ", "~=": "\\approx ", in: "\\in " } as Record<string, string>)[t.v] ?? t.v
              : t.t === "begin" || t.t === "end"
                ? `\\${t.t}{${t.v}}`
                : t.v;
    out += (t.sp && out !== "" ? " " : "") + text;
  }
  return out.trim();
}

// ---------------------------------------------------------------- entries ---

/** Whole-answer forms read before tokenizing: `1 000` (spaces as thousands), `1,5` (decimal comma or a list). */
const SPACED_THOUSANDS = /^[-+]?\d{1,3}(?: \d{3})+(?:\.\d+)?$/;
const ONE_COMMA = /^([-+]?\d+),(\d+)$/;
const THOUSANDS = /^[-+]?[1-9]\d{0,2}(?:,\d{3})+$/;

/** Strips what surrounds an answer but is not part of it: trailing punctuation, `$`, spaces. */
export function trimAnswer(raw: string): string {
  let s = raw.trim();
  for (let k = 0; k < 4; k++) {
    const before = s;
    s = s.replace(/^\$+|\$+$/g, "").trim();
    s = s.replace(/(?:\\[,;!: ]|\\quad|\\qquad|~)+$/, "").trim();
    s = s.replace(/[.,;:?]+$/, "").replace(/(?<![\d)}!])!+$/, "").trim();
    s = s.replace(/^[=:]\s*(?=[^=])/, "").trim();
    if (s === before) break;
  }
  return s;
}

function textValue(raw: string): MathValue {
  const t = raw
    .replace(/\\(?:text|textbf|textrm|textit|mbox|mathrm|mathbf|emph|textnormal)\s*\{([^{}]*)\}/g, "$1")
    .replace(/\\[,;!: ]|~/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();
  return { kind: "text", text: t };
}

/**
 * Parses an answer. `plain`: the text is a plain expression, not LaTeX. Returns undefined when
 * the text is not something we read; throws `LimitReached` when it is over a limit.
 */
export function parseAnswer(raw: string, opts: ParseOptions = {}): ParsedAnswer | undefined {
  const limits = opts.limits ?? MATH_LIMITS;
  const meter = opts.meter ?? new Meter(limits);
  if (raw.length > limits.maxInputChars) throw new LimitReached("maxAnswerChars", `the answer is ${raw.length} characters long (at most ${limits.maxAnswerChars} are read)`);
  const trimmed = trimAnswer(repairEscapes(raw));
  if (trimmed === "") return undefined;
  if (trimmed.length > limits.maxAnswerChars) throw new LimitReached("maxAnswerChars", `the answer is ${trimmed.length} characters long (at most ${limits.maxAnswerChars} are read)`);
  // A number in words (`twelve`, `three quarters`) is that number.
  const words = /^[\\A-Za-z]/.test(trimmed) ? numberPhrase(trimmed) : undefined;
  let text = words ?? (SPACED_THOUSANDS.test(trimmed) ? trimmed.replace(/ /g, "") : trimmed);
  try {
    const lexed = lex(text, opts.plain ?? false, meter);
    const { toks, meaningful } = classify(lexed);
    if (meaningful !== undefined) {
      const value = textValue(text);
      return { value, flags: { text: true }, clean: (value as { text: string }).text };
    }
    if (toks.length === 0 || toks.every((t) => t.t === "mark")) return undefined;
    const p = new Parser(toks, limits, meter, opts.plain ?? false);
    const value = p.value(0, toks.length);
    const flags = p.flagsOf(0, toks.length) ?? {};
    const parsed: ParsedAnswer = { value, flags, clean: renderToks(toks) };
    const oc = ONE_COMMA.exec(text);
    if (oc && !THOUSANDS.test(text)) {
      // `1,5`: a decimal comma, or the list 1, 5; both readings are kept.
      text = `${oc[1]}.${oc[2]}`;
      const dec = parseAnswer(text, { ...opts, meter });
      if (dec) {
        parsed.alternatives = [{ value: parsed.value, reading: "a list" }];
        parsed.value = dec.value;
        parsed.clean = dec.clean;
        return { ...parsed, alternatives: [{ value, reading: `the list ${oc[1]}, ${oc[2]}` }] };
      }
    }
    return parsed;
  } catch (e) {
    if (e instanceof NotMath) return undefined;
    throw e;
  }
}

/** Why an answer does not parse (for explanations), or undefined when it does. */
export function whyNotMath(raw: string, opts: ParseOptions = {}): string | undefined {
  const limits = opts.limits ?? MATH_LIMITS;
  const meter = opts.meter ?? new Meter(limits);
  try {
    const toks = classify(lex(trimAnswer(repairEscapes(raw)), opts.plain ?? false, meter)).toks;
    const p = new Parser(toks, limits, meter, opts.plain ?? false);
    p.value(0, toks.length);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The clean form of an answer and what the clean-up learnt (percent, degrees, words). */
export function cleanTokens(raw: string, plain = false): { text: string; flags: AnswerFlags } {
  const meter = new Meter(MATH_LIMITS);
  let s = trimAnswer(repairEscapes(raw));
  if (SPACED_THOUSANDS.test(s)) s = s.replace(/ /g, "");
  const oc = ONE_COMMA.exec(s);
  if (oc && !THOUSANDS.test(s)) s = `${oc[1]}.${oc[2]}`;
  try {
    const { toks, meaningful } = classify(lex(s, plain, meter));
    if (meaningful !== undefined) {
      const v = textValue(s) as { text: string };
      return { text: v.text, flags: { text: true } };
    }
    const flags: AnswerFlags = {};
    for (const t of toks) {
      if (t.t !== "mark") continue;
      if (t.v === "percent") flags.percent = true;
      else if (t.v === "degrees" || t.v === "unit:deg") flags.degrees = true;
    }
    return { text: renderToks(toks), flags };
  } catch {
    return { text: s, flags: {} };
  }
}
