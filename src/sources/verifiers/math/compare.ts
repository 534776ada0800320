/**
 * Deciding whether two parsed answers are the same mathematical object, and saying which rule
 * decided it.
 *
 * - Numbers: exact rationals first (`1000000008` is not `10^9+7`); a decimal written to at
 *   least two places against an exact value (`0.33` for `1/3`) is equal when the exact value
 *   rounds to it; irrational values compare within a relative tolerance in extended floating
 *   point (huge values by their logarithms, never as Infinity); `\infty` only equals itself.
 * - Expressions: evaluated at the same seeded points for every free variable, exactly where
 *   the values are rational (polynomial identities are then decided exactly), numerically
 *   otherwise; an identity that holds at every point holds with overwhelming probability.
 * - Relations: `x \ge 5`, `5 \le x` and `-x \le -5` are the same (equations up to a non-zero
 *   factor, inequalities up to a positive one). A gold equation whose left side is not a
 *   name (`2x+z=1`) needs an equation: the value `1` does not match it. A gold `x = 11` (or a
 *   chain of computations) stands for its last side. A prediction's equation chain stands for
 *   its last side unless it states something false (`2 = 1`, `x = 5 = 6`).
 * - Intervals and tuples: brackets and order matter; sets (`\{1,2\}`, bare lists) and unions:
 *   order does not. A gold inequality on one variable equals the interval it describes (not
 *   the other way round, so that echoing an inequality from the question earns nothing).
 * - Matrices: element by element. Choice letters: letter by letter. Words: as normalised text.
 * - Percent and degrees: `28\%` equals 0.28 and 28; `90^\circ` equals π/2 and 90. Units: two
 *   different units we know (`m`, `cm`) are different answers.
 */
import type { AnswerFlags, MathValue, Node, NumLit, RelOp } from "./ast.js";
import { type Env, evaluate, freeSymbols, fromRat, realOf, type Val, zeroish } from "./evaluate.js";
import { LimitReached, MATH_LIMITS, type MathLimits } from "./limits.js";
import { Meter, rat, ratAdd, ratCmp, ratDiv, ratEq, ratInt, ratMul, ratNeg, ratPowInt, ratSign, ratSub, ratToString, xClose, xIsZero, xLog2Abs, xSub, xToString } from "./numbers.js";
import type { ParsedAnswer } from "./parse.js";
import { render } from "./parse.js";

export interface CompareOptions {
  /** Relative tolerance for numbers that are not exact (default 1e-9). */
  relTol?: number;
  /** Decimal places both sides are rounded to before comparing, when one side is a written decimal. */
  precision?: number;
  /** Let a prediction's inequality match a gold interval too (by default only the other way). */
  allowSetRelation?: boolean;
}

export interface Verdict {
  equal: boolean;
  /** The rule that decided: `exact`, `rounded-decimal`, `numeric`, `sample-points`, `equation`, `set`... */
  rule: string;
  /** Why, in words. */
  note: string;
}

export interface Ctx {
  relTol: number;
  precision?: number;
  allowSetRelation: boolean;
  meter: Meter;
}

export function makeCtx(opts: CompareOptions = {}, limits: MathLimits = MATH_LIMITS, meter = new Meter(limits)): Ctx {
  const ctx: Ctx = { relTol: opts.relTol ?? 1e-9, allowSetRelation: opts.allowSetRelation ?? false, meter };
  if (opts.precision !== undefined) ctx.precision = opts.precision;
  return ctx;
}

const yes = (rule: string, note: string): Verdict => ({ equal: true, rule, note });
const no = (rule: string, note: string): Verdict => ({ equal: false, rule, note });

// ----------------------------------------------------------- descriptions ---

const short = (s: string, n = 80) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

/** How a value was read, in words. */
export function describe(v: MathValue): string {
  switch (v.kind) {
    case "expr": {
      const f = v.flags;
      const extra = [f?.percent ? "percent" : "", f?.degrees ? "degrees" : "", f?.unit ? `unit ${f.unit}` : "", f?.label ? `label "${f.label}"` : ""].filter(Boolean).join(", ");
      const what = v.lit ? (v.lit.decimals || v.lit.exp10 < 0 ? "decimal" : "number") : freeSymbols(v.node).size ? "expression" : "constant expression";
      return `${what} ${short(v.src)}${extra ? ` (${extra})` : ""}`;
    }
    case "text":
      return `words "${short(v.text)}"`;
    case "choice":
      return `choice ${v.letter}`;
    case "relation": {
      const kind = v.ops.every((o) => o === "=") ? (v.sides.length > 2 ? "chain of equalities" : "equation") : "inequality";
      return `${kind} ${short(v.sides.map(srcOf).join(` ${v.ops[0]} `))}`;
    }
    case "bracketed":
      return `${v.elems.length === 2 ? "interval or pair" : "tuple"} ${v.open}${short(v.elems.map(srcOf).join(", "))}${v.close}`;
    case "set":
      return `${v.bare ? "list" : "set"} of ${v.elems.length}: ${short(v.elems.map(srcOf).join(", "))}`;
    case "union":
      return `union of ${v.parts.length}`;
    case "matrix":
      return `${v.rows.length}×${v.rows[0]?.length ?? 0} matrix`;
  }
}

function srcOf(v: MathValue): string {
  switch (v.kind) {
    case "expr":
      return v.src;
    case "text":
      return v.text;
    case "choice":
      return v.letter;
    case "relation":
      return v.sides.map(srcOf).join(` ${v.ops[0]} `);
    case "bracketed":
      return `${v.open}${v.elems.map(srcOf).join(", ")}${v.close}`;
    case "set":
      return `{${v.elems.map(srcOf).join(", ")}}`;
    case "union":
      return v.parts.map(srcOf).join(" ∪ ");
    case "matrix":
      return `[${v.rows.map((r) => r.map(srcOf).join(", ")).join("; ")}]`;
  }
}

const valText = (v: Val): string => (v.inf ? (v.inf > 0 ? "∞" : "-∞") : v.q ? ratToString(v.q) : v.x ? xToString(v.x) : "?");

// --------------------------------------------------------------- numbers ---

type Lit = { lit: NumLit; neg: boolean };
const litOf = (v: Extract<MathValue, { kind: "expr" }>): Lit | undefined => (v.lit ? { lit: v.lit, neg: !!v.negLit } : undefined);
const litText = (l: Lit) => `${l.neg ? "-" : ""}${l.lit.digits}${l.lit.exp10 ? `e${l.lit.exp10}` : ""}`;

/** Is `other` within half a unit of the last written place of the decimal `l` (two places or more)? */
function roundsTo(l: Lit | undefined, lv: Val, other: Val, ctx: Ctx): boolean {
  if (!l || l.lit.decimals < 2) return false;
  const e = l.lit.exp10 - l.lit.decimals;
  if (lv.q && other.q) {
    const half = e >= 0 ? ratPowInt(ratInt(10n), BigInt(e), ctx.meter) : rat(1n, 10n ** BigInt(-e), ctx.meter);
    const d = ratSub(lv.q, other.q, ctx.meter);
    if (!half || !d) return false;
    const h = ratMul(half, { n: 1n, d: 2n }, ctx.meter);
    const ad = ratSign(d) < 0 ? ratNeg(d) : d;
    return h !== undefined && ratCmp(ad, h) <= 0;
  }
  if (!lv.x || !other.x || other.x.im !== 0) return false;
  const d = xSub(lv.x, other.x);
  if (!d) return false;
  if (xIsZero(d)) return true;
  return xLog2Abs(d) <= Math.log2(0.5) + e * Math.log2(10) + 1e-9;
}

function roundPlaces(v: Val, places: number, m: Meter): string | undefined {
  if (v.q) {
    const scale = 10n ** BigInt(places);
    const n = v.q.n * scale;
    const twice = (2n * n + (n >= 0n ? v.q.d : -v.q.d)) / (2n * v.q.d);
    return twice.toString();
  }
  const r = realOf(v);
  if (r === undefined || Math.abs(r) > 1e15) return undefined;
  m.charge(1);
  return String(Math.round(r * 10 ** places));
}

/** Two values of constant expressions. */
function numbersEqual(g: Val, p: Val, gl: Lit | undefined, pl: Lit | undefined, ctx: Ctx): Verdict {
  if (g.inf || p.inf) {
    if (g.inf && p.inf) return g.inf === p.inf ? yes("infinity", "both are the same infinity") : no("infinity", "infinities of opposite signs");
    return no("infinity", `${valText(g)} is not ${valText(p)}: a finite value is never infinite`);
  }
  const decimalSide = (l: Lit | undefined, v: Val) => (l !== undefined && (l.lit.decimals > 0 || l.lit.exp10 < 0)) || v.q === undefined;
  if (ctx.precision !== undefined && (decimalSide(gl, g) || decimalSide(pl, p))) {
    const a = roundPlaces(g, ctx.precision, ctx.meter);
    const b = roundPlaces(p, ctx.precision, ctx.meter);
    if (a !== undefined && a === b) return yes("precision", `equal when rounded to ${ctx.precision} decimal places`);
  }
  if (g.q && p.q) {
    if (ratEq(g.q, p.q)) return yes("exact", `both are exactly ${short(ratToString(g.q), 60)}`);
    if (!(gl && pl)) {
      if (pl && roundsTo(pl, p, g, ctx)) return yes("rounded-decimal", `${litText(pl)} is ${short(ratToString(g.q), 40)} rounded to the places written`);
      if (gl && roundsTo(gl, g, p, ctx)) return yes("rounded-decimal", `${litText(gl)} is ${short(ratToString(p.q), 40)} rounded to the places written`);
    }
    return no("exact", `${short(ratToString(g.q), 40)} ≠ ${short(ratToString(p.q), 40)} (exact)`);
  }
  if (!g.x || !p.x) return no("not computable", "a value could not be computed");
  if (!(gl && pl)) {
    if (pl && !gl && roundsTo(pl, p, g, ctx)) return yes("rounded-decimal", `${litText(pl)} is ${valText(g)} rounded to the places written`);
    if (gl && !pl && roundsTo(gl, g, p, ctx)) return yes("rounded-decimal", `${litText(gl)} is ${valText(p)} rounded to the places written`);
  }
  const gz = zeroish(g);
  const pz = zeroish(p);
  if (gz || pz) return gz && pz ? yes("numeric", "both are zero") : no("numeric", `${valText(g)} vs ${valText(p)}`);
  if (xClose(g.x, p.x, ctx.relTol)) return yes("numeric", `equal to a relative ${ctx.relTol} (${valText(g)})`);
  return no("numeric", `${valText(g)} ≠ ${valText(p)}`);
}

// ------------------------------------------------------------ expressions ---

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

const SAMPLES = 8;
const NO_VARIABLES: Env = new Map();
const pointCache = new Map<string, Env[]>();

/** Rational points with small denominators: mixed signs, away from 0 and from small integers. */
function samplePoints(symbols: string[]): Env[] {
  const key = symbols.join("\u0000");
  const hit = pointCache.get(key);
  if (hit) return hit;
  const r = rng(20240601);
  const m = new Meter(MATH_LIMITS);
  const points: Env[] = [];
  for (let k = 0; k < SAMPLES; k++) {
    const env = new Map<string, Val>();
    for (const s of symbols) {
      const d = 7 + Math.floor(r() * 25);
      const n = Math.round(d * (0.35 + 2.3 * r()));
      let q = rat(BigInt(n), BigInt(d), m)!;
      if (k % 4 === 1) q = ratNeg(q);
      else if (k % 4 === 3) q = ratAdd(q, { n: 1n, d: 2n }, m)!;
      env.set(s, fromRat(q)!);
    }
    points.push(env);
  }
  if (pointCache.size > 256) pointCache.clear();
  pointCache.set(key, points);
  return points;
}

const pointText = (env: Env) =>
  [...env.entries()]
    .slice(0, 3)
    .map(([k, v]) => `${k} = ${valText(v)}`)
    .join(", ");

/** Two values at one point: exactly when both are exact, else within the tolerance. */
function pointEqual(a: Val, b: Val, ctx: Ctx): boolean {
  if (a.inf || b.inf) return a.inf === b.inf;
  if (a.q && b.q) return ratEq(a.q, b.q);
  if (!a.x || !b.x) return false;
  const az = zeroish(a);
  const bz = zeroish(b);
  if (az || bz) return az && bz;
  return xClose(a.x, b.x, Math.max(ctx.relTol, 1e-8));
}

/** A canonical text of a node: commutative operands sorted, numbers by exact value. */
function canon(n: Node, depth = 0): string {
  if (depth > 300) return "…";
  const c = (x: Node) => canon(x, depth + 1);
  switch (n.k) {
    case "num":
      return n.lit.q ? ratToString(n.lit.q) : `${n.lit.digits}e${n.lit.exp10}`;
    case "add":
      return `(${n.terms.map(c).sort().join("+")})`;
    case "mul":
      return `(${n.factors.map(c).sort().join("*")})`;
    case "neg":
      return `-${c(n.x)}`;
    case "div":
      return `(${c(n.a)}/${c(n.b)})`;
    case "pow":
      return `(${c(n.a)}^${c(n.b)})`;
    case "fn":
      return `${n.name}(${n.args.map(c).join(",")})`;
    case "apply":
      return `${n.f}(${n.args.map(c).join(",")})`;
    case "series":
      return `${n.op}[${c(n.lo)},${c(n.hi)}](${canon(rename(n.body, n.v, "_k"), depth + 1)})`;
    default:
      return render(n);
  }
}

function rename(n: Node, from: string, to: string, depth = 0): Node {
  if (depth > 300) return n;
  const r = (x: Node) => rename(x, from, to, depth + 1);
  switch (n.k) {
    case "sym":
      return n.name === from ? { k: "sym", name: to } : n;
    case "add":
      return { k: "add", terms: n.terms.map(r) };
    case "mul":
      return { k: "mul", factors: n.factors.map(r) };
    case "neg":
      return { k: "neg", x: r(n.x) };
    case "div":
      return { k: "div", a: r(n.a), b: r(n.b) };
    case "pow":
      return { k: "pow", a: r(n.a), b: r(n.b) };
    case "fn":
      return { k: "fn", name: n.name, args: n.args.map(r) };
    case "apply":
      return { k: "apply", f: n.f, args: n.args.map(r) };
    default:
      return n;
  }
}

function structural(a: Node, b: Node): Verdict {
  return canon(a) === canon(b) ? yes("structure", "the same expression up to the order of terms") : no("not comparable", "the values could not be computed and the expressions differ");
}

/** Two expressions (no flags). */
function nodesEqual(g: Node, p: Node, gl: Lit | undefined, pl: Lit | undefined, ctx: Ctx): Verdict {
  const symbols = [...freeSymbols(g, freeSymbols(p))].sort();
  if (symbols.length === 0) {
    const gv = evaluate(g, NO_VARIABLES, ctx.meter);
    const pv = evaluate(p, NO_VARIABLES, ctx.meter);
    if (!gv || !pv) return structural(g, p);
    return numbersEqual(gv, pv, gl, pl, ctx);
  }
  if (symbols.length > 40) return structural(g, p);
  let compared = 0;
  let exact = 0;
  for (const env of samplePoints(symbols)) {
    const a = evaluate(g, env, ctx.meter);
    const b = evaluate(p, env, ctx.meter);
    if (!a && !b) continue;
    if (!a || !b) return no("sample-points", `defined on one side only at ${pointText(env)}`);
    if (!pointEqual(a, b, ctx)) return no("sample-points", `they differ at ${pointText(env)}: ${valText(a)} vs ${valText(b)}`);
    compared++;
    if (a.q && b.q) exact++;
  }
  if (compared >= 3) return yes("sample-points", `equal at ${compared} points for ${symbols.slice(0, 4).join(", ")}${exact ? ` (${exact} exactly)` : ""}`);
  return structural(g, p);
}

const intNode = (k: bigint): Node => ({ k: "num", lit: { digits: k.toString(), decimals: 0, exp10: 0, q: ratInt(k) } });
const percentOf = (n: Node): Node => ({ k: "div", a: n, b: intNode(100n) });
const degToRad = (n: Node): Node => ({ k: "div", a: { k: "mul", factors: [n, { k: "const", name: "pi" }] }, b: intNode(180n) });

function exprEqual(g: Extract<MathValue, { kind: "expr" }>, p: Extract<MathValue, { kind: "expr" }>, ctx: Ctx): Verdict {
  const gf: AnswerFlags = g.flags ?? {};
  const pf: AnswerFlags = p.flags ?? {};
  if (gf.unit && pf.unit && gf.unit !== pf.unit) return no("units", `different units: ${gf.unit} vs ${pf.unit}`);
  const direct = nodesEqual(g.node, p.node, litOf(g), litOf(p), ctx);
  if (direct.equal) return direct;
  if (!!gf.percent !== !!pf.percent) {
    const gs = gf.percent ? percentOf(g.node) : g.node;
    const ps = pf.percent ? percentOf(p.node) : p.node;
    const v = nodesEqual(gs, ps, undefined, undefined, ctx);
    if (v.equal) return yes("percent", `${gf.percent ? g.src : p.src}% read as a fraction of 100`);
  }
  if (!!gf.degrees !== !!pf.degrees) {
    const gs = gf.degrees ? degToRad(g.node) : g.node;
    const ps = pf.degrees ? degToRad(p.node) : p.node;
    const v = nodesEqual(gs, ps, undefined, undefined, ctx);
    if (v.equal) return yes("degrees", `${gf.degrees ? g.src : p.src} degrees read in radians`);
  }
  return direct;
}

// -------------------------------------------------------------- relations ---

type Rel = Extract<MathValue, { kind: "relation" }>;

/**
 * A name: a variable (`x`, `a_3`, `\text{Area}`), a function of simple arguments (`f(x)`), a
 * segment or a ratio or length of named quantities (`AB`, `|AB|`, `NO/BO`, `V_1 : V_2`), or a
 * tuple of names (`(p, q)`). An equation whose left side is a name gives that name a value.
 */
function nameOf(v: MathValue | undefined): string | undefined {
  if (!v) return undefined;
  if (v.kind === "bracketed") {
    const names = v.elems.map(nameOf);
    return names.every((n) => n !== undefined) ? `(${names.join(",")})` : undefined;
  }
  if (v.kind !== "expr") return undefined;
  return namedQuantity(v.node);
}

function namedQuantity(n: Node, depth = 0): string | undefined {
  if (depth > 50) return undefined;
  switch (n.k) {
    case "sym":
      return n.name;
    case "apply":
      return `${n.f}(${n.args.map((a) => render(a)).join(",")})`;
    case "mul":
      return n.factors.every((f) => f.k === "sym" && /^[A-Z](?:_\w+)?'*$/.test(f.name)) ? n.factors.map((f) => (f as { name: string }).name).join("") : undefined;
    case "div": {
      const a = namedQuantity(n.a, depth + 1);
      const b = namedQuantity(n.b, depth + 1);
      return a !== undefined && b !== undefined ? `${a}/${b}` : undefined;
    }
    case "fn": {
      const a = n.name === "abs" && n.args.length === 1 ? namedQuantity(n.args[0]!, depth + 1) : undefined;
      return a !== undefined ? `|${a}|` : undefined;
    }
    default:
      return undefined;
  }
}

const isConstant = (v: MathValue): boolean => v.kind === "expr" && freeSymbols(v.node).size === 0;
const allEq = (r: Rel) => r.ops.every((o) => o === "=");

/** What a gold relation stands for when the prediction is not a relation. */
function goldRelationValue(g: Rel, ctx: Ctx): { value: MathValue; why: string } | { equation: string } {
  const last = g.sides[g.sides.length - 1]!;
  if (!allEq(g)) return { equation: "the gold is an inequality" };
  if (nameOf(g.sides[0]) !== undefined) return { value: last, why: `the gold assigns ${nameOf(g.sides[0])}` };
  if (g.sides.every(isConstant)) return { value: last, why: "the gold is a chain of computations" };
  if (g.sides.length >= 2 && valuesEqual(g.sides[0]!, last, ctx).equal) return { value: last, why: "the gold is an identity; its last side is the answer" };
  return { equation: `the gold is the equation ${short(srcOf(g), 60)}; a value is not an equation` };
}

/**
 * A false statement among the constant sides of an equation chain (`2 = 1`, `x + 1 = 3 = 4`),
 * if any. A chain that starts with a name (`x = 5 + 5 + 1 = 11`) is a computation of that name
 * and stands for its last side, as a solution is read; sides in different units are not compared.
 */
function contradiction(r: Rel, ctx: Ctx): string | undefined {
  if (!allEq(r) || nameOf(r.sides[0]) !== undefined) return undefined;
  const unitOf = (v: MathValue) => (v.kind === "expr" ? (v.flags?.unit ?? "") : "");
  const constants = r.sides.filter(isConstant).filter((v, _, all) => unitOf(v) === unitOf(all[0]!));
  for (let i = 1; i < constants.length; i++) {
    const v = valuesEqual(constants[i - 1]!, constants[i]!, ctx);
    if (!v.equal) return `it states ${short(srcOf(constants[i - 1]!), 30)} = ${short(srcOf(constants[i]!), 30)}, which is false`;
  }
  return undefined;
}

const FLIP: Record<RelOp, RelOp> = { "<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!=" };
const INF = (sign: 1 | -1): MathValue => ({ kind: "expr", node: sign > 0 ? { k: "const", name: "inf" } : { k: "neg", x: { k: "const", name: "inf" } }, src: sign > 0 ? "∞" : "-∞" });

/** `x > 3` as `(3, ∞)`, `-2 \le x \le 7` as `[-2, 7]`; undefined when not of that shape. */
function relationInterval(r: Rel): MathValue | undefined {
  const lower = (op: RelOp) => op === "<" || op === "<=";
  const upper = (op: RelOp) => op === ">" || op === ">=";
  const strict = (op: RelOp) => op === "<" || op === ">";
  if (r.sides.length === 3 && nameOf(r.sides[1]) !== undefined) {
    const [a, , b] = r.sides as [MathValue, MathValue, MathValue];
    const [o1, o2] = r.ops as [RelOp, RelOp];
    if (!isConstant(a) || !isConstant(b)) return undefined;
    if (lower(o1) && lower(o2)) return { kind: "bracketed", open: strict(o1) ? "(" : "[", close: strict(o2) ? ")" : "]", elems: [a, b] };
    if (upper(o1) && upper(o2)) return { kind: "bracketed", open: strict(o2) ? "(" : "[", close: strict(o1) ? ")" : "]", elems: [b, a] };
    return undefined;
  }
  if (r.sides.length !== 2) return undefined;
  let [l, rr] = r.sides as [MathValue, MathValue];
  let op = r.ops[0]!;
  if (nameOf(rr) !== undefined && nameOf(l) === undefined) {
    [l, rr] = [rr, l];
    op = FLIP[op];
  }
  if (nameOf(l) === undefined || !isConstant(rr)) return undefined;
  if (op === ">" || op === ">=") return { kind: "bracketed", open: op === ">" ? "(" : "[", close: ")", elems: [rr, INF(1)] };
  if (op === "<" || op === "<=") return { kind: "bracketed", open: "(", close: op === "<" ? ")" : "]", elems: [INF(-1), rr] };
  return undefined;
}

/** `L op R` as `E op' 0` with op' one of >, >=, =, !=. */
function normalForm(r: Rel): { op: RelOp; node: Node } | undefined {
  if (r.sides.length !== 2) return undefined;
  const [l, rr] = r.sides as [MathValue, MathValue];
  if (l.kind !== "expr" || rr.kind !== "expr") return undefined;
  const op = r.ops[0]!;
  const flip = op === "<" || op === "<=";
  const [a, b] = flip ? [rr.node, l.node] : [l.node, rr.node];
  return { op: flip ? FLIP[op] : op, node: { k: "add", terms: [a, { k: "neg", x: b }] } };
}

/** Same solution set: the normal forms are proportional (by a positive factor for inequalities). */
function proportional(g: Rel, p: Rel, ctx: Ctx): Verdict {
  const a = normalForm(g);
  const b = normalForm(p);
  if (!a || !b) return no("relation", "relations of different shapes");
  if (a.op !== b.op) return no("relation", `different relations (${a.op} vs ${b.op})`);
  const symbols = [...freeSymbols(a.node, freeSymbols(b.node))].sort();
  if (symbols.length === 0) return no("relation", "relations without variables");
  let ratio: Val | undefined;
  let compared = 0;
  for (const env of samplePoints(symbols)) {
    const x = evaluate(a.node, env, ctx.meter);
    const y = evaluate(b.node, env, ctx.meter);
    if (!x || !y || x.inf || y.inf) continue;
    if (x.x && x.x.im !== 0) continue;
    const xz = zeroish(x);
    const yz = zeroish(y);
    if (xz && yz) continue;
    if (xz || yz) return no("relation", `different solution sets (at ${pointText(env)})`);
    const q: Val | undefined = x.q && y.q ? (() => {
      const r = ratDiv(x.q!, y.q!, ctx.meter);
      return r ? fromRat(r) : undefined;
    })() : x.x && y.x ? { x: { re: x.x.re / y.x.re, im: 0, e: x.x.e - y.x.e }, scale: 0 } : undefined;
    if (!q) continue;
    if (!ratio) ratio = q;
    else if (!pointEqual(ratio, q, ctx)) return no("relation", `different solution sets (at ${pointText(env)})`);
    compared++;
  }
  if (!ratio || compared < 2) return no("relation", "could not compare the relations");
  const sign = ratio.q ? ratSign(ratio.q) : Math.sign(ratio.x!.re);
  if ((a.op === ">" || a.op === ">=") && sign <= 0) return no("relation", "the inequalities point in opposite directions");
  return yes("relation", `the same relation up to a constant factor (${valText(ratio)})`);
}

/**
 * `f(x) = x^2` and `f(t) = t^2` define the same function: when both equations define the same
 * function of plain variables, the renaming of the prediction's variables to the gold's (none
 * of the gold's names may already be free in the prediction's definition).
 */
function definitionRenaming(g: Rel, p: Rel): Map<string, string> | undefined {
  const gl = g.sides[0];
  const pl = p.sides[0];
  if (gl?.kind !== "expr" || pl?.kind !== "expr" || gl.node.k !== "apply" || pl.node.k !== "apply") return undefined;
  const ga = gl.node.args;
  const pa = pl.node.args;
  if (gl.node.f !== pl.node.f || ga.length !== pa.length || !ga.every((a) => a.k === "sym") || !pa.every((a) => a.k === "sym")) return undefined;
  const map = new Map<string, string>();
  pa.forEach((a, i) => map.set((a as { name: string }).name, (ga[i] as { name: string }).name));
  if (new Set(map.keys()).size !== pa.length || new Set(map.values()).size !== ga.length) return undefined;
  const body = p.sides[p.sides.length - 1]!;
  if (body.kind !== "expr") return undefined;
  for (const s of freeSymbols(body.node)) if (!map.has(s) && [...map.values()].includes(s)) return undefined;
  return map;
}

function renameAll(n: Node, map: Map<string, string>, depth = 0): Node {
  if (depth > 300) return n;
  const r = (x: Node) => renameAll(x, map, depth + 1);
  switch (n.k) {
    case "sym":
      return map.has(n.name) ? { k: "sym", name: map.get(n.name)! } : n;
    case "add":
      return { k: "add", terms: n.terms.map(r) };
    case "mul":
      return { k: "mul", factors: n.factors.map(r) };
    case "neg":
      return { k: "neg", x: r(n.x) };
    case "div":
      return { k: "div", a: r(n.a), b: r(n.b) };
    case "pow":
      return { k: "pow", a: r(n.a), b: r(n.b) };
    case "fn":
      return { k: "fn", name: n.name, args: n.args.map(r) };
    case "apply":
      return { k: "apply", f: n.f, args: n.args.map(r) };
    default:
      return n;
  }
}

function relationsEqual(g: Rel, p: Rel, ctx: Ctx): Verdict {
  if (allEq(g) && allEq(p)) {
    const bad = contradiction(p, ctx);
    if (bad) return no("contradiction", `the prediction's equation is false: ${bad}`);
    const gn = nameOf(g.sides[0]);
    const pn = nameOf(p.sides[0]);
    if (gn !== undefined && pn !== undefined && gn === pn) {
      const v = valuesEqual(g.sides[g.sides.length - 1]!, p.sides[p.sides.length - 1]!, ctx);
      return { ...v, note: `both give ${gn}: ${v.note}` };
    }
    const renaming = gn !== undefined && pn !== undefined ? definitionRenaming(g, p) : undefined;
    if (renaming) {
      const body = p.sides[p.sides.length - 1] as Extract<MathValue, { kind: "expr" }>;
      const renamed: MathValue = { ...body, node: renameAll(body.node, renaming) };
      const v = valuesEqual(g.sides[g.sides.length - 1]!, renamed, ctx);
      return { ...v, note: `both define ${gn} (${pn} renamed): ${v.note}` };
    }
    if (g.sides.length > 2 || p.sides.length > 2) {
      const v = valuesEqual(g.sides[g.sides.length - 1]!, p.sides[p.sides.length - 1]!, ctx);
      return { ...v, note: `last sides of the chains: ${v.note}` };
    }
    if (g.sides.every(isConstant) && p.sides.every(isConstant)) return valuesEqual(g.sides[1]!, p.sides[1]!, ctx);
    return proportional(g, p, ctx);
  }
  const gi = relationInterval(g);
  const pi = relationInterval(p);
  if (gi && pi) {
    const v = valuesEqual(gi, pi, ctx);
    return { ...v, rule: v.equal ? "inequality" : v.rule, note: `as intervals ${srcOf(gi)} and ${srcOf(pi)}: ${v.note}` };
  }
  if (g.ops.length === 1 && p.ops.length === 1) return proportional(g, p, ctx);
  if (g.ops.length === p.ops.length && g.ops.every((o, i) => o === p.ops[i])) {
    for (let i = 0; i < g.sides.length; i++) {
      const v = valuesEqual(g.sides[i]!, p.sides[i]!, ctx);
      if (!v.equal) return v;
    }
    return yes("relation", "the same chain of relations");
  }
  return no("relation", "relations of different shapes");
}

// ---------------------------------------------------------------- values ---

function unordered(a: MathValue[], b: MathValue[], ctx: Ctx, what: string): Verdict {
  if (a.length !== b.length) return no(what, `${a.length} elements vs ${b.length}`);
  const used = new Array<boolean>(b.length).fill(false);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    // Same position first (the usual case), then any unused element.
    let j = !used[i] && valuesEqual(x, b[i]!, ctx).equal ? i : -1;
    if (j < 0) {
      for (let k = 0; k < b.length; k++) {
        if (used[k] || k === i) continue;
        ctx.meter.charge(1);
        if (valuesEqual(x, b[k]!, ctx).equal) {
          j = k;
          break;
        }
      }
    }
    if (j < 0) return no(what, `${short(srcOf(x), 40)} has no match`);
    used[j] = true;
  }
  return yes(what, `the same ${a.length} element${a.length === 1 ? "" : "s"} in any order`);
}

function ordered(a: MathValue[], b: MathValue[], ctx: Ctx, what: string): Verdict {
  if (a.length !== b.length) return no(what, `${a.length} elements vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const v = valuesEqual(a[i]!, b[i]!, ctx);
    if (!v.equal) return no(what, `element ${i + 1} differs: ${v.note}`);
  }
  return yes(what, `the same ${a.length} elements in order`);
}

/** Elements written twice count once. */
function dedupe(elems: MathValue[]): MathValue[] {
  const seen = new Set<string>();
  return elems.filter((e) => {
    const k = srcOf(e).replace(/\s+/g, "");
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A union of finite sets is a finite set (`\{1,3\} \cup \{2,4\}`). */
function asSet(u: Extract<MathValue, { kind: "union" }>): MathValue | undefined {
  if (!u.parts.every((p) => p.kind === "set")) return undefined;
  return { kind: "set", elems: u.parts.flatMap((p) => (p as Extract<MathValue, { kind: "set" }>).elems) };
}

/** Whether two parsed values are the same (gold first), and by which rule. */
export function valuesEqual(g: MathValue, p: MathValue, ctx: Ctx): Verdict {
  ctx.meter.charge(1);
  if (g.kind === "text" || p.kind === "text") {
    if (g.kind === "text" && p.kind === "text") {
      const n = (s: string) => s.replace(/[\s.,;:!?'"()\\{}$*]+/g, "");
      if (n(g.text) === n(p.text)) return yes("text", `the same words ("${short(g.text, 40)}")`);
      // A yes/no question: the verdict is the first word (`No. It is not closed under ...`).
      const verdict = (s: string) => /^\s*(yes|no)\b(?=\s*(?:[.,;:!]|$))/i.exec(s)?.[1]?.toLowerCase();
      const gv = verdict(g.text);
      if (gv && gv === verdict(p.text)) return yes("text", `the same verdict ("${gv}")`);
      return no("text", `"${short(g.text, 40)}" vs "${short(p.text, 40)}"`);
    }
    return no("text", g.kind === "text" ? `the gold is words ("${short(g.text, 40)}"), the prediction ${describe(p)}` : `the prediction is words ("${short((p as { text: string }).text, 40)}"), the gold ${describe(g)}`);
  }
  if (g.kind === "choice" || p.kind === "choice") {
    if (g.kind === "choice" && p.kind === "choice") return g.letter === p.letter ? yes("choice", `both choose ${g.letter}`) : no("choice", `choice ${g.letter} vs ${p.letter}`);
    return no("choice", "a choice letter against something else");
  }
  if (g.kind === "relation" && p.kind === "relation") return relationsEqual(g, p, ctx);
  if (g.kind === "relation") {
    const r = goldRelationValue(g, ctx);
    if ("equation" in r) {
      if (!allEq(g)) {
        const iv = relationInterval(g);
        if (iv && p.kind !== "expr") {
          const v = valuesEqual(iv, p, ctx);
          return { ...v, note: `the gold inequality as the interval ${srcOf(iv)}: ${v.note}` };
        }
      }
      return no("equation", r.equation);
    }
    const v = valuesEqual(r.value, p, ctx);
    return { ...v, note: `${r.why}: ${v.note}` };
  }
  if (p.kind === "relation") {
    const bad = contradiction(p, ctx);
    if (bad) return no("contradiction", `the prediction's equation is false: ${bad}`);
    if (!allEq(p)) {
      const iv = relationInterval(p);
      if (iv && ctx.allowSetRelation && g.kind !== "expr") return valuesEqual(g, iv, ctx);
      return no("relation", "the prediction is an inequality, the gold is not");
    }
    const v = valuesEqual(g, p.sides[p.sides.length - 1]!, ctx);
    return { ...v, note: `the prediction's last side: ${v.note}` };
  }
  if (g.kind === "union" && p.kind !== "union" && asSet(g)) return valuesEqual(asSet(g)!, p, ctx);
  if (p.kind === "union" && g.kind !== "union" && asSet(p)) return valuesEqual(g, asSet(p)!, ctx);
  if (g.kind === "set" && p.kind === "set") return unordered(dedupe(g.elems), dedupe(p.elems), ctx, "set");
  if (g.kind === "set" && g.elems.length === 1) return valuesEqual(g.elems[0]!, p, ctx);
  if (p.kind === "set" && p.elems.length === 1) return valuesEqual(g, p.elems[0]!, ctx);
  if (g.kind === "set" && g.bare && p.kind === "bracketed") return ordered(g.elems, p.elems, ctx, "tuple");
  if (p.kind === "set" && p.bare && g.kind === "bracketed") return ordered(g.elems, p.elems, ctx, "tuple");
  if (g.kind === "bracketed" && p.kind === "bracketed") {
    if (g.open !== p.open || g.close !== p.close) return no("brackets", `${g.open}…${g.close} vs ${p.open}…${p.close}`);
    return ordered(g.elems, p.elems, ctx, g.elems.length === 2 ? "interval" : "tuple");
  }
  if (g.kind === "union" && p.kind === "union") return unordered(g.parts, p.parts, ctx, "union");
  if (g.kind === "matrix" && p.kind === "matrix") {
    if (g.rows.length !== p.rows.length || g.rows[0]!.length !== p.rows[0]!.length) return no("matrix", "matrices of different shapes");
    for (let i = 0; i < g.rows.length; i++) {
      for (let j = 0; j < g.rows[i]!.length; j++) {
        const v = valuesEqual(g.rows[i]![j]!, p.rows[i]![j]!, ctx);
        if (!v.equal) return no("matrix", `entry (${i + 1}, ${j + 1}) differs: ${v.note}`);
      }
    }
    return yes("matrix", "equal entry by entry");
  }
  const vector = (v: MathValue): MathValue[] | undefined =>
    v.kind === "matrix" ? (v.rows.length === 1 ? v.rows[0] : v.rows.every((r) => r.length === 1) ? v.rows.map((r) => r[0]!) : undefined) : v.kind === "bracketed" && v.open === "(" ? v.elems : undefined;
  if ((g.kind === "matrix" || p.kind === "matrix") && vector(g) && vector(p)) return ordered(vector(g)!, vector(p)!, ctx, "vector");
  if (g.kind === "expr" && p.kind === "expr") return exprEqual(g, p, ctx);
  return no("kind", `${describe(g)} vs ${describe(p)}`);
}

/** Two parsed answers, trying every reading of an ambiguous one (`1,5`). */
export function answersCompared(g: ParsedAnswer, p: ParsedAnswer, ctx: Ctx): Verdict & { reading?: string } {
  const gs = [{ value: g.value, reading: "" }, ...(g.alternatives ?? [])];
  const ps = [{ value: p.value, reading: "" }, ...(p.alternatives ?? [])];
  let first: Verdict | undefined;
  for (const a of gs) {
    for (const b of ps) {
      const v = valuesEqual(a.value, b.value, ctx);
      if (v.equal) {
        const reading = [a.reading && `gold read as ${a.reading}`, b.reading && `prediction read as ${b.reading}`].filter(Boolean).join("; ");
        return reading ? { ...v, note: `${v.note} (${reading})`, reading } : v;
      }
      first ??= v;
    }
  }
  return first!;
}

/** Two parsed answers (gold first): equal or not. */
export function answersEqual(g: ParsedAnswer, p: ParsedAnswer, opts: CompareOptions = {}): boolean {
  try {
    return answersCompared(g, p, makeCtx(opts)).equal;
  } catch (e) {
    if (e instanceof LimitReached) return false;
    throw e;
  }
}

export { srcOf };
