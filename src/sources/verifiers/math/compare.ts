/**
 * Deciding whether two parsed answers are the same mathematical object.
 *
 * - Numbers: equal within a relative tolerance; integers exactly; a decimal with at least two
 *   places written against an exact value (`0.33` for `1/3`) is equal when the exact value
 *   rounds to it; `precision` (decimal places) rounds both sides.
 * - Expressions: mathjs evaluates both at the same seeded points for every free variable
 *   (an identity that holds at several random points holds as an identity of the expressions,
 *   with overwhelming probability); mathjs `simplify` of the difference is the fallback when
 *   evaluation is impossible.
 * - Relations: `x \ge 5` and `5 <= x` and `-x <= -5` are the same; equations are the same up
 *   to a non-zero factor, inequalities up to a positive one; `x = 11` and `x = 5+6` compare
 *   their right sides; a chain `x = 5+5+1 = 11` stands for its last side.
 * - Intervals and tuples: brackets and order matter. Sets (`\{1,2\}`, bare lists `1, 2`) and
 *   unions: order does not. An inequality on one variable equals the interval it describes.
 * - Matrices: element by element, a matrix expression (`A + B`) evaluated first.
 */
import { gamma, isComplex, isMatrix, lgamma, parse as mathParse, simplify, type MathNode } from "mathjs";
import type { AnswerFlags } from "./normalize.js";
import type { Literal, MathValue, ParsedAnswer, RelOp } from "./parse.js";

export interface CompareOptions {
  /** Relative tolerance for numbers (default 1e-9). */
  relTol?: number;
  /** Decimal places both sides are rounded to before comparing numbers, when given. */
  precision?: number;
}

interface Ctx {
  relTol: number;
  precision?: number;
}

const CONSTANTS = new Set(["pi", "e", "i", "Infinity", "NaN"]);
const SAMPLES = 8;

/** A small seeded generator (mulberry32): the same points every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function freeSymbols(node: MathNode, into = new Set<string>()): Set<string> {
  node.traverse((n, path, parent) => {
    if ((n as { isSymbolNode?: boolean }).isSymbolNode && !(parent && (parent as { isFunctionNode?: boolean }).isFunctionNode && path === "fn")) {
      const name = (n as unknown as { name: string }).name;
      if (!CONSTANTS.has(name)) into.add(name);
    }
  });
  return into;
}

type Num = { re: number; im: number };
type Evaluated = Num | Evaluated[];

function toEvaluated(v: unknown): Evaluated | undefined {
  if (typeof v === "number") return { re: v, im: 0 };
  if (typeof v === "boolean") return undefined;
  if (isComplex(v)) return { re: (v as { re: number }).re, im: (v as { im: number }).im };
  if (isMatrix(v)) return toEvaluated((v as { toArray(): unknown[] }).toArray());
  if (Array.isArray(v)) {
    const out: Evaluated[] = [];
    for (const x of v) {
      const e = toEvaluated(x);
      if (e === undefined) return undefined;
      out.push(e);
    }
    return out;
  }
  if (v && typeof v === "object" && "toNumber" in v && typeof (v as { toNumber: unknown }).toNumber === "function") {
    const n = (v as { toNumber(): number }).toNumber();
    return typeof n === "number" ? { re: n, im: 0 } : undefined;
  }
  return undefined;
}

/** Binomial coefficients without mathjs's O(k) loop on huge arguments. */
function binom(n: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(k)) return gamma(n + 1) / (gamma(k + 1) * gamma(n - k + 1));
  if (k < 0 || n < 0 || k > n) return 0;
  const m = Math.min(k, n - k);
  if (m > 2000) return Math.round(Math.exp(lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)));
  let r = 1;
  for (let i = 1; i <= m; i++) r = (r * (n - m + i)) / i;
  return Math.round(r);
}
const FUNCTIONS_IN_SCOPE = { binom };

const compiled = new WeakMap<MathNode, { evaluate(scope?: object): unknown }>();
function evaluate(node: MathNode, scope: Record<string, number>): Evaluated | undefined {
  let c = compiled.get(node);
  if (!c) {
    c = node.compile();
    compiled.set(node, c);
  }
  try {
    return toEvaluated(c.evaluate({ ...FUNCTIONS_IN_SCOPE, ...scope }));
  } catch {
    return undefined;
  }
}

function roundTo(x: number, places: number): number {
  const f = 10 ** places;
  return Math.round(x * f) / f;
}

/** Two real numbers as answers: tolerance, exact integers, rounding of written decimals. */
function numbersClose(g: number, p: number, ctx: Ctx, gl?: Literal, pl?: Literal): boolean {
  if (Number.isNaN(g) || Number.isNaN(p)) return false;
  if (!Number.isFinite(g) || !Number.isFinite(p)) return g === p;
  if (gl?.integer !== undefined && pl?.integer !== undefined) return gl.integer === pl.integer;
  if (ctx.precision !== undefined && roundTo(g, ctx.precision) === roundTo(p, ctx.precision)) return true;
  const scale = Math.max(Math.abs(g), Math.abs(p));
  if (Math.abs(g - p) <= ctx.relTol * scale || Math.abs(g - p) < 1e-12) return true;
  // A decimal written to d >= 2 places against an exact value: equal when that value rounds to it.
  const rounded = (lit: Literal | undefined, other: Literal | undefined) =>
    lit !== undefined && other === undefined && lit.decimals >= 2 && Math.abs(g - p) <= 0.5 * 10 ** -lit.decimals * (1 + 1e-9);
  return rounded(pl, gl) || rounded(gl, pl);
}

function evaluatedClose(a: Evaluated, b: Evaluated, cmp: (x: number, y: number) => boolean): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => evaluatedClose(x, b[i]!, cmp));
  }
  if (Math.abs(a.im) < 1e-12 && Math.abs(b.im) < 1e-12) return cmp(a.re, b.re);
  return cmp(a.re, b.re) && cmp(a.im, b.im);
}

const finite = (e: Evaluated): boolean => (Array.isArray(e) ? e.every(finite) : Number.isFinite(e.re) && Number.isFinite(e.im));

/** Points for the free variables: mixed signs, away from 0 and from small integers. */
function samplePoints(symbols: string[], seed = 20240601): Array<Record<string, number>> {
  const r = rng(seed);
  const points: Array<Record<string, number>> = [];
  for (let k = 0; k < SAMPLES; k++) {
    const scope: Record<string, number> = {};
    for (const s of symbols) {
      const mag = 0.35 + 2.3 * r();
      scope[s] = k % 2 === 0 ? mag : k % 4 === 1 ? -mag : mag + 0.5;
    }
    points.push(scope);
  }
  return points;
}

function exprEqual(g: Extract<MathValue, { kind: "expr" }>, p: Extract<MathValue, { kind: "expr" }>, ctx: Ctx): boolean {
  if (g.literal && p.literal) return numbersClose(g.literal.value, p.literal.value, ctx, g.literal, p.literal);
  const symbols = [...freeSymbols(g.node, freeSymbols(p.node))].sort();
  if (symbols.length === 0) {
    const a = evaluate(g.node, {});
    const b = evaluate(p.node, {});
    if (a !== undefined && b !== undefined) return evaluatedClose(a, b, (x, y) => numbersClose(x, y, ctx, g.literal, p.literal));
    return symbolicEqual(g.node, p.node);
  }
  let compared = 0;
  for (const scope of samplePoints(symbols)) {
    const a = evaluate(g.node, scope);
    const b = evaluate(p.node, scope);
    if (a === undefined && b === undefined) continue;
    if (a === undefined || b === undefined) return false;
    const fa = finite(a);
    const fb = finite(b);
    if (!fa && !fb) continue;
    if (fa !== fb) return false;
    if (!evaluatedClose(a, b, (x, y) => Math.abs(x - y) <= 1e-8 * Math.max(1, Math.abs(x), Math.abs(y)))) return false;
    compared++;
  }
  return compared >= 3 || symbolicEqual(g.node, p.node);
}

function symbolicEqual(a: MathNode, b: MathNode): boolean {
  // simplify is slow on big expressions; those are decided by evaluation alone.
  if (a.toString().length + b.toString().length > 400) return false;
  try {
    const d = simplify(`(${a.toString()}) - (${b.toString()})`);
    return d.toString() === "0";
  } catch {
    return false;
  }
}

const isExpr = (v: MathValue): v is Extract<MathValue, { kind: "expr" }> => v.kind === "expr";
const isBareSymbol = (v: MathValue | undefined): boolean => v !== undefined && v.kind === "expr" && (v.node as { isSymbolNode?: boolean }).isSymbolNode === true && !CONSTANTS.has((v.node as unknown as { name: string }).name);
const hasFreeSymbols = (v: MathValue): boolean => v.kind === "expr" && freeSymbols(v.node).size > 0;

/** What an equality stands for when compared with something that is not a relation. */
function equalityResult(r: Extract<MathValue, { kind: "relation" }>): MathValue | undefined {
  if (!r.ops.every((o) => o === "=")) return undefined;
  if (r.sides.length === 2 && isBareSymbol(r.sides[1]) && !isBareSymbol(r.sides[0])) return r.sides[0];
  return r.sides[r.sides.length - 1];
}

const INF = (sign: 1 | -1): MathValue => ({ kind: "expr", src: sign > 0 ? "Infinity" : "-Infinity", node: mathParse(sign > 0 ? "Infinity" : "-Infinity") });

/** `x > 3` as `(3, ∞)`, `-2 \le x \le 7` as `[-2, 7]`; undefined when not of that shape. */
function relationInterval(r: Extract<MathValue, { kind: "relation" }>): MathValue | undefined {
  const lower = (op: RelOp) => op === "<" || op === "<=";
  const upper = (op: RelOp) => op === ">" || op === ">=";
  const strict = (op: RelOp) => op === "<" || op === ">";
  const constant = (v: MathValue) => v.kind === "expr" && !hasFreeSymbols(v);
  if (r.sides.length === 3 && isBareSymbol(r.sides[1])) {
    const [a, , b] = r.sides as [MathValue, MathValue, MathValue];
    const [o1, o2] = r.ops as [RelOp, RelOp];
    if (!constant(a) || !constant(b)) return undefined;
    if (lower(o1) && lower(o2)) return { kind: "bracketed", open: strict(o1) ? "(" : "[", close: strict(o2) ? ")" : "]", elems: [a, b] };
    if (upper(o1) && upper(o2)) return { kind: "bracketed", open: strict(o2) ? "(" : "[", close: strict(o1) ? ")" : "]", elems: [b, a] };
    return undefined;
  }
  if (r.sides.length !== 2) return undefined;
  let [l, rr] = r.sides as [MathValue, MathValue];
  let op = r.ops[0]!;
  if (isBareSymbol(rr) && !isBareSymbol(l)) {
    [l, rr] = [rr, l];
    op = ({ "<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!=" } as const)[op];
  }
  if (!isBareSymbol(l) || !constant(rr)) return undefined;
  if (op === ">" || op === ">=") return { kind: "bracketed", open: op === ">" ? "(" : "[", close: ")", elems: [rr, INF(1)] };
  if (op === "<" || op === "<=") return { kind: "bracketed", open: "(", close: op === "<" ? ")" : "]", elems: [INF(-1), rr] };
  return undefined;
}

/** `L op R` as `E op' 0` with op' one of >, >=, =, !=. */
function normalForm(r: Extract<MathValue, { kind: "relation" }>): { op: RelOp; node: MathNode } | undefined {
  if (r.sides.length !== 2) return undefined;
  const [l, rr] = r.sides as [MathValue, MathValue];
  if (!isExpr(l) || !isExpr(rr)) return undefined;
  const op = r.ops[0]!;
  const flip = op === "<" || op === "<=";
  const node = mathParse(flip ? `(${rr.src}) - (${l.src})` : `(${l.src}) - (${rr.src})`);
  return { op: op === "<" ? ">" : op === "<=" ? ">=" : op, node };
}

/** Two relations with the same solution set, up to a constant factor (positive for inequalities). */
function relationsEqual(g: Extract<MathValue, { kind: "relation" }>, p: Extract<MathValue, { kind: "relation" }>, ctx: Ctx): boolean {
  const allEq = (r: typeof g) => r.ops.every((o) => o === "=");
  if (allEq(g) && allEq(p)) {
    const gs = isBareSymbol(g.sides[0]) || g.sides.length > 2;
    const ps = isBareSymbol(p.sides[0]) || p.sides.length > 2;
    if (gs && ps) return valuesEqual(g.sides[g.sides.length - 1]!, p.sides[p.sides.length - 1]!, ctx);
  }
  const gi = relationInterval(g);
  const pi = relationInterval(p);
  if (gi && pi) return valuesEqual(gi, pi, ctx);
  const a = normalForm(g);
  const b = normalForm(p);
  if (!a || !b || a.op !== b.op) return false;
  const symbols = [...freeSymbols(a.node, freeSymbols(b.node))].sort();
  let ratio: number | undefined;
  let compared = 0;
  for (const scope of samplePoints(symbols)) {
    const x = evaluate(a.node, scope);
    const y = evaluate(b.node, scope);
    if (!x || !y || Array.isArray(x) || Array.isArray(y) || x.im !== 0 || y.im !== 0) continue;
    if (Math.abs(x.re) < 1e-12 && Math.abs(y.re) < 1e-12) continue;
    if (Math.abs(y.re) < 1e-12 || Math.abs(x.re) < 1e-12) return false;
    const q = x.re / y.re;
    if (ratio === undefined) ratio = q;
    else if (Math.abs(q - ratio) > 1e-8 * Math.max(1, Math.abs(ratio))) return false;
    compared++;
  }
  if (ratio === undefined || compared < (symbols.length ? 3 : 1)) return false;
  return a.op === "=" || a.op === "!=" ? true : ratio > 0;
}

function unorderedEqual(a: MathValue[], b: MathValue[], ctx: Ctx): boolean {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  for (const x of a) {
    const j = b.findIndex((y, k) => !used[k] && valuesEqual(x, y, ctx));
    if (j < 0) return false;
    used[j] = true;
  }
  return true;
}

function matrixVsExpr(m: Extract<MathValue, { kind: "matrix" }>, e: Extract<MathValue, { kind: "expr" }>, ctx: Ctx, matrixIsGold: boolean): boolean {
  if (hasFreeSymbols(e)) return false;
  const v = evaluate(e.node, {});
  if (!v || !Array.isArray(v) || v.length !== m.rows.length) return false;
  return m.rows.every((row, i) => {
    const vr = v[i]!;
    const cells: Evaluated[] = Array.isArray(vr) ? vr : [vr];
    if (cells.length !== row.length) return false;
    return row.every((cell, j) => {
      if (cell.kind !== "expr" || hasFreeSymbols(cell)) return false;
      const c = evaluate(cell.node, {});
      const x = cells[j]!;
      if (!c || Array.isArray(c) || Array.isArray(x)) return false;
      return matrixIsGold
        ? numbersClose(c.re, x.re, ctx, cell.literal, undefined) && Math.abs(c.im - x.im) < 1e-9
        : numbersClose(x.re, c.re, ctx, undefined, cell.literal) && Math.abs(c.im - x.im) < 1e-9;
    });
  });
}

/** Structural equality of two parsed answers (gold first). */
export function valuesEqual(g: MathValue, p: MathValue, ctx: Ctx): boolean {
  if (g.kind === "relation" && p.kind === "relation") return relationsEqual(g, p, ctx);
  if (g.kind === "relation") {
    const r = equalityResult(g);
    if (r) return valuesEqual(r, p, ctx);
    const iv = relationInterval(g);
    return iv !== undefined && p.kind !== "expr" && valuesEqual(iv, p, ctx);
  }
  if (p.kind === "relation") {
    const r = equalityResult(p);
    if (r) return valuesEqual(g, r, ctx);
    const iv = relationInterval(p);
    return iv !== undefined && g.kind !== "expr" && valuesEqual(g, iv, ctx);
  }
  if (g.kind === "text" || p.kind === "text") {
    if (g.kind === "text" && p.kind === "text") return g.text === p.text;
    // A multiple-choice letter: `\text{(A)}` and `(A)` or `A`.
    const choice = (v: MathValue) => (v.kind === "text" ? /^\(?([a-e])\)?$/i.exec(v.text)?.[1]?.toUpperCase() : isBareSymbol(v) ? (v as { src: string }).src : undefined);
    const c = choice(g);
    return c !== undefined && /^[A-E]$/.test(c) && c === choice(p);
  }
  if (g.kind === "expr" && p.kind === "expr") return exprEqual(g, p, ctx);
  if (g.kind === "matrix" && p.kind === "expr") return matrixVsExpr(g, p, ctx, true);
  if (g.kind === "expr" && p.kind === "matrix") return matrixVsExpr(p, g, ctx, false);
  if (g.kind === "matrix" && p.kind === "matrix") {
    return g.rows.length === p.rows.length && g.rows.every((row, i) => row.length === p.rows[i]!.length && row.every((c, j) => valuesEqual(c, p.rows[i]![j]!, ctx)));
  }
  if (g.kind === "bracketed" && p.kind === "bracketed") {
    return g.open === p.open && g.close === p.close && g.elems.length === p.elems.length && g.elems.every((x, i) => valuesEqual(x, p.elems[i]!, ctx));
  }
  if (g.kind === "set" && p.kind === "set") return unorderedEqual(g.elems, p.elems, ctx);
  if (g.kind === "union" && p.kind === "union") return unorderedEqual(g.parts, p.parts, ctx);
  return false;
}

/** Scales an expression answer (percent as a fraction, degrees as radians). */
function scaled(v: MathValue, factor: string): MathValue | undefined {
  if (v.kind !== "expr") return undefined;
  const src = `(${v.src}) * ${factor}`;
  return { kind: "expr", src, node: mathParse(src) };
}

/** Two parsed answers, allowing `28\%` = 0.28 and `90^\circ` = π/2 when only one side carries the sign. */
export function answersEqual(g: ParsedAnswer, p: ParsedAnswer, opts: CompareOptions = {}): boolean {
  const ctx: Ctx = { relTol: opts.relTol ?? 1e-9 };
  if (opts.precision !== undefined) ctx.precision = opts.precision;
  if (valuesEqual(g.value, p.value, ctx)) return true;
  const alt = (flag: keyof AnswerFlags, factor: string): boolean => {
    const gf = !!g.flags[flag];
    const pf = !!p.flags[flag];
    if (gf === pf) return false;
    const gs = gf ? scaled(g.value, factor) : g.value;
    const ps = pf ? scaled(p.value, factor) : p.value;
    return gs !== undefined && ps !== undefined && valuesEqual(gs, ps, ctx);
  };
  return alt("percent", "0.01") || alt("degrees", "pi / 180");
}
