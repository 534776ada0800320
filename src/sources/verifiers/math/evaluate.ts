/**
 * Evaluating an expression tree: exactly (BigInt rationals) wherever the value is rational and
 * small enough, in extended floating point otherwise; `\infty` as a symbolic infinity. A value
 * that cannot be computed (a free variable without a value, a domain error, an infinite series)
 * is `undefined`, never NaN or Infinity.
 */
import type { Node } from "./ast.js";
import {
  type Meter,
  type Rat,
  type XC,
  bitLength,
  R0,
  R1,
  ratAdd,
  ratCmp,
  ratDiv,
  ratEq,
  ratInt,
  ratIsInt,
  ratMul,
  ratNeg,
  ratPowInt,
  ratRoot,
  ratSign,
  rat,
  X0,
  xAbs,
  xAcos,
  xAdd,
  xAsin,
  xAtan,
  xCos,
  xCosh,
  xDiv,
  xExp,
  xFits,
  xFromRat,
  xGamma,
  xIsZero,
  xLog,
  xLog2Abs,
  xMul,
  xNeg,
  xnum,
  xPow,
  xPowInt,
  xRecip,
  xRoot,
  xSin,
  xSinh,
  xTan,
  xTanh,
  xToNumber,
} from "./numbers.js";

/** A value: exact (`q`), approximate (`x`), or a real infinity. `scale` is log2 of the largest magnitude met on the way (cancellation). */
export interface Val {
  q?: Rat;
  x?: XC;
  inf?: 1 | -1;
  scale: number;
}

export type Env = ReadonlyMap<string, Val>;

const mag = (x: XC) => (xIsZero(x) ? -Infinity : xLog2Abs(x));

export function fromRat(q: Rat): Val | undefined {
  const x = xFromRat(q);
  return x ? { q, x, scale: mag(x) } : undefined;
}
export const fromX = (x: XC | undefined, scale?: number): Val | undefined => (x ? { x, scale: Math.max(scale ?? -Infinity, mag(x)) } : undefined);

const PI = fromX(xnum(Math.PI))!;
const E = fromX(xnum(Math.E))!;
const I = fromX(xnum(0, 1))!;

/** The value, when it is a real number. */
export const realOf = (v: Val): number | undefined => (v.x && v.x.im === 0 && xFits(v.x) ? xToNumber(v.x) : undefined);
const isRealX = (v: Val) => v.x !== undefined && v.x.im === 0;
const signOf = (v: Val): number | undefined => (v.q ? ratSign(v.q) : v.inf ? v.inf : v.x && v.x.im === 0 ? Math.sign(v.x.re) : undefined);

/** True when the value is zero up to the rounding of the terms it was computed from. */
export function zeroish(v: Val): boolean {
  if (v.q) return v.q.n === 0n;
  if (!v.x) return false;
  if (xIsZero(v.x)) return true;
  return mag(v.x) < v.scale - 40;
}

function add(a: Val, b: Val, m: Meter): Val | undefined {
  if (a.inf || b.inf) {
    if (a.inf && b.inf) return a.inf === b.inf ? a : undefined;
    const f = a.inf ? b : a;
    if (f.x && f.x.im !== 0) return undefined;
    return a.inf ? a : b;
  }
  const scale = Math.max(a.scale, b.scale);
  if (a.q && b.q) {
    const q = ratAdd(a.q, b.q, m);
    if (q) {
      const v = fromRat(q);
      return v ? { ...v, scale: Math.max(v.scale, scale) } : undefined;
    }
  }
  return a.x && b.x ? fromX(xAdd(a.x, b.x), scale) : undefined;
}

function neg(a: Val): Val {
  const v: Val = { scale: a.scale };
  if (a.q) v.q = ratNeg(a.q);
  if (a.x) v.x = xNeg(a.x);
  if (a.inf) v.inf = -a.inf as 1 | -1;
  return v;
}

function mul(a: Val, b: Val, m: Meter): Val | undefined {
  if (a.inf || b.inf) {
    const sa = signOf(a);
    const sb = signOf(b);
    if (!sa || !sb) return undefined;
    return { inf: (sa * sb) as 1 | -1, scale: Infinity };
  }
  if (a.q && b.q) {
    const q = ratMul(a.q, b.q, m);
    if (q) return fromRat(q);
  }
  return a.x && b.x ? fromX(xMul(a.x, b.x), a.scale + b.scale) : undefined;
}

function div(a: Val, b: Val, m: Meter): Val | undefined {
  if (b.inf) return a.inf ? undefined : { q: R0, x: X0, scale: -Infinity };
  if (a.inf) {
    const sb = signOf(b);
    return sb ? { inf: (a.inf * sb) as 1 | -1, scale: Infinity } : undefined;
  }
  if (b.q ? b.q.n === 0n : !b.x || zeroish(b)) return undefined;
  if (a.q && b.q) {
    const q = ratDiv(a.q, b.q, m);
    if (q) return fromRat(q);
  }
  return a.x && b.x ? fromX(xDiv(a.x, b.x), a.scale - mag(b.x)) : undefined;
}

function pow(a: Val, b: Val, m: Meter): Val | undefined {
  if (b.inf) return undefined;
  if (a.inf) {
    const sb = signOf(b);
    if (!sb || !isRealX(b)) return undefined;
    if (sb < 0) return { q: R0, x: X0, scale: -Infinity };
    return a.inf > 0 ? a : undefined;
  }
  if (a.q && b.q) {
    if (ratIsInt(b.q)) {
      const q = ratPowInt(a.q, b.q.n, m);
      if (q) return fromRat(q);
    } else if (b.q.d <= 64n && ratSign(a.q) >= 0) {
      const p = ratPowInt(a.q, b.q.n, m);
      const r = p && ratRoot(p, Number(b.q.d));
      if (r) return fromRat(r);
    }
  }
  if (!a.x || !b.x) return undefined;
  if (a === E) return fromX(xExp(b.x));
  // A negative real to a power p/q with q odd: the real root, as in x^{2/3} = (∛x)^2.
  if (b.q && b.q.d > 1n && b.q.d <= 63n && b.q.d % 2n === 1n && a.x.im === 0 && a.x.re < 0 && bitLength(b.q.n) <= 31) {
    const p = xPowInt(a.x, Number(b.q.n));
    return p ? fromX(xRoot(p, xnum(Number(b.q.d))!)) : undefined;
  }
  if (b.q && ratIsInt(b.q) && bitLength(b.q.n) <= 31) return fromX(xPowInt(a.x, Number(b.q.n)));
  return fromX(xPow(a.x, b.x));
}

function fact(n: Val, m: Meter): Val | undefined {
  if (n.q && ratIsInt(n.q)) {
    if (n.q.n < 0n) return undefined;
    if (n.q.n <= 3000n) {
      const k = Number(n.q.n);
      m.charge(k);
      let r = 1n;
      for (let i = 2n; i <= n.q.n; i++) r *= i;
      const q = rat(r, 1n, m);
      if (q) return fromRat(q);
    }
  }
  const x = n.x && xAdd(n.x, xnum(1)!);
  return x ? fromX(xGamma(x)) : undefined;
}

function binom(n: Val, k: Val, m: Meter): Val | undefined {
  if (n.q && k.q && ratIsInt(n.q) && ratIsInt(k.q)) {
    const N = n.q.n;
    let K = k.q.n;
    if (K < 0n || N < 0n || K > N) return N >= 0n ? fromRat(R0) : undefined;
    if (N - K < K) K = N - K;
    if (K <= 3000n) {
      m.charge(Number(K));
      let r = 1n;
      for (let i = 1n; i <= K; i++) r = (r * (N - K + i)) / i;
      const q = rat(r, 1n, m);
      if (q) return fromRat(q);
    }
  }
  if (!n.x || !k.x) return undefined;
  const one = xnum(1)!;
  const gn = xGamma(xAdd(n.x, one)!);
  const gk = xGamma(xAdd(k.x, one)!);
  const gnk = xGamma(xAdd(xAdd(n.x, xNeg(k.x))!, one)!);
  const den = gk && gnk && xMul(gk, gnk);
  return gn && den ? fromX(xDiv(gn, den)) : undefined;
}

function intGcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b) [a, b] = [b, a % b];
  return a;
}

type XFn = (x: XC) => XC | undefined;
const compose =
  (...fs: XFn[]): XFn =>
  (x) => {
    let v: XC | undefined = x;
    for (const f of fs) v = v && f(v);
    return v;
  };
const xAsinh: XFn = (x) => {
  const s = xPow(xAdd(xMul(x, x)!, xnum(1)!)!, xnum(0.5)!);
  return s && xLog(xAdd(x, s)!);
};
const xAcosh: XFn = (x) => {
  const s = xPow(xAdd(xMul(x, x)!, xnum(-1)!)!, xnum(0.5)!);
  return s && xLog(xAdd(x, s)!);
};
const xAtanh: XFn = (x) => {
  const q = xDiv(xAdd(xnum(1)!, x)!, xAdd(xnum(1)!, xNeg(x))!);
  const l = q && xLog(q);
  return l && xMul(l, xnum(0.5)!);
};
const X_FUNCTIONS: Record<string, XFn> = {
  sin: xSin,
  cos: xCos,
  tan: xTan,
  sec: compose(xCos, xRecip),
  csc: compose(xSin, xRecip),
  cot: compose(xTan, xRecip),
  arcsin: xAsin,
  arccos: xAcos,
  arctan: xAtan,
  arcsec: compose(xRecip, xAcos),
  arccsc: compose(xRecip, xAsin),
  arccot: compose(xRecip, xAtan),
  sinh: xSinh,
  cosh: xCosh,
  tanh: xTanh,
  coth: compose(xTanh, xRecip),
  sech: compose(xCosh, xRecip),
  csch: compose(xSinh, xRecip),
  arcsinh: xAsinh,
  arccosh: xAcosh,
  arctanh: xAtanh,
  exp: xExp,
  log: xLog,
  gamma: xGamma,
};

/** The value of a node, or undefined when it cannot be computed. */
export function evaluate(n: Node, env: Env, m: Meter, depth = 0): Val | undefined {
  m.charge(1);
  if (depth > 1000) return undefined;
  const ev = (x: Node) => evaluate(x, env, m, depth + 1);
  switch (n.k) {
    case "num": {
      if (n.lit.q) return fromRat(n.lit.q);
      // Too large for exact arithmetic: mantissa × 10^exp in extended floating point.
      const mant = xnum(Number(n.lit.digits));
      const ten = xPowInt(xnum(10)!, n.lit.exp10);
      return mant && ten ? fromX(xMul(mant, ten)) : undefined;
    }
    case "sym":
      return env.get(n.name);
    case "const":
      return n.name === "pi" ? PI : n.name === "e" ? E : n.name === "i" ? I : { inf: 1, scale: Infinity };
    case "add": {
      let acc: Val | undefined = ev(n.terms[0]!);
      for (let i = 1; i < n.terms.length && acc; i++) {
        const t = ev(n.terms[i]!);
        acc = t && add(acc, t, m);
      }
      return acc;
    }
    case "mul": {
      let acc: Val | undefined = ev(n.factors[0]!);
      for (let i = 1; i < n.factors.length && acc; i++) {
        const t = ev(n.factors[i]!);
        acc = t && mul(acc, t, m);
      }
      return acc;
    }
    case "apply": {
      let acc = env.get(n.f);
      for (const a of n.args) {
        const t = acc && ev(a);
        acc = acc && t && mul(acc, t, m);
      }
      return acc;
    }
    case "neg": {
      const x = ev(n.x);
      return x && neg(x);
    }
    case "div": {
      const a = ev(n.a);
      const b = a && ev(n.b);
      return a && b && div(a, b, m);
    }
    case "pow": {
      const a = ev(n.a);
      const b = a && ev(n.b);
      return a && b && pow(a, b, m);
    }
    case "fn":
      return evalFn(n.name, n.args.map(ev), m);
    case "series": {
      const lo = ev(n.lo);
      const hi = ev(n.hi);
      if (!lo?.q || !hi?.q || !ratIsInt(lo.q) || !ratIsInt(hi.q)) return undefined;
      const count = hi.q.n - lo.q.n + 1n;
      if (count > BigInt(m.limits.maxSeriesTerms)) return undefined;
      let acc: Val | undefined = fromRat(n.op === "sum" ? R0 : R1);
      const local = new Map(env);
      for (let k = lo.q.n; k <= hi.q.n && acc; k++) {
        local.set(n.v, fromRat(ratInt(k))!);
        const t = evaluate(n.body, local, m, depth + 1);
        acc = t && (n.op === "sum" ? add(acc, t, m) : mul(acc, t, m));
      }
      return acc;
    }
    case "pm":
    case "opaque":
      return undefined;
  }
}

function evalFn(name: string, args: Array<Val | undefined>, m: Meter): Val | undefined {
  if (args.some((a) => a === undefined)) return undefined;
  const [a, b] = args as Val[];
  if (!a) return undefined;
  switch (name) {
    case "sqrt": {
      if (a.inf) return a.inf > 0 ? a : undefined;
      if (a.q && ratSign(a.q) >= 0) {
        const r = ratRoot(a.q, 2);
        if (r) return fromRat(r);
      }
      return a.x ? fromX(xPow(a.x, xnum(0.5)!)) : undefined;
    }
    case "root": {
      if (!b?.q || !ratIsInt(b.q)) return b?.x && a.x ? fromX(xRoot(a.x, b.x)) : undefined;
      if (a.q && b.q.n >= 1n && b.q.n <= 64n) {
        const r = ratRoot(a.q, Number(b.q.n));
        if (r) return fromRat(r);
      }
      return a.x && b.x ? fromX(xRoot(a.x, b.x)) : undefined;
    }
    case "abs":
      if (a.inf) return { inf: 1, scale: Infinity };
      if (a.q) return fromRat(ratSign(a.q) < 0 ? ratNeg(a.q) : a.q);
      return a.x ? fromX(xAbs(a.x)) : undefined;
    case "fact":
      return fact(a, m);
    case "binom":
      return b ? binom(a, b, m) : undefined;
    case "log": {
      if (a.inf) return a.inf > 0 ? a : undefined;
      if (!a.x || xIsZero(a.x)) return undefined;
      if (a.q && ratEq(a.q, R1)) return fromRat(R0);
      const l = xLog(a.x);
      if (!l) return undefined;
      if (!b) return fromX(l);
      if (!b.x) return undefined;
      const lb = xLog(b.x);
      return lb && !xIsZero(lb) ? fromX(xDiv(l, lb)) : undefined;
    }
    case "log10": {
      const l = a.x && !xIsZero(a.x) ? xLog(a.x) : undefined;
      return l ? fromX(xDiv(l, xnum(Math.LN10)!)) : undefined;
    }
    case "gcd":
    case "lcm": {
      const ints = args as Val[];
      if (!ints.every((v) => v.q && ratIsInt(v.q))) return undefined;
      let acc = ints[0]!.q!.n;
      for (const v of ints.slice(1)) {
        const x = v.q!.n;
        if (name === "gcd") acc = intGcd(acc, x);
        else {
          const g = intGcd(acc, x);
          acc = g === 0n ? 0n : (acc / g) * x;
          if (acc < 0n) acc = -acc;
        }
      }
      const q = rat(acc, 1n, m);
      return q && fromRat(q);
    }
    case "max":
    case "min": {
      const vs = args as Val[];
      let best = vs[0]!;
      for (const v of vs.slice(1)) {
        const c = v.q && best.q ? ratCmp(v.q, best.q) : realOf(v) !== undefined && realOf(best) !== undefined ? Math.sign(realOf(v)! - realOf(best)!) : NaN;
        if (Number.isNaN(c)) return undefined;
        if ((name === "max" && c > 0) || (name === "min" && c < 0)) best = v;
      }
      return best;
    }
    case "exp":
      if (a.inf) return a.inf > 0 ? a : fromRat(R0);
      if (a.q && a.q.n === 0n) return fromRat(R1);
      return a.x ? fromX(xExp(a.x)) : undefined;
    default: {
      const f = X_FUNCTIONS[name];
      if (!f || !a.x) return undefined;
      if (a.q && a.q.n === 0n && (name === "sin" || name === "tan" || name === "arcsin" || name === "arctan" || name === "sinh" || name === "tanh")) return fromRat(R0);
      if (a.q && a.q.n === 0n && (name === "cos" || name === "cosh")) return fromRat(R1);
      return fromX(f(a.x));
    }
  }
}

/** Free variables of a node (constants and bound series variables excluded). */
export function freeSymbols(n: Node, into = new Set<string>(), bound: ReadonlySet<string> = new Set(), depth = 0): Set<string> {
  if (depth > 1000) return into;
  const rec = (x: Node) => freeSymbols(x, into, bound, depth + 1);
  switch (n.k) {
    case "sym":
      if (!bound.has(n.name)) into.add(n.name);
      break;
    case "apply":
      if (!bound.has(n.f)) into.add(n.f);
      n.args.forEach(rec);
      break;
    case "add":
      n.terms.forEach(rec);
      break;
    case "mul":
      n.factors.forEach(rec);
      break;
    case "neg":
      rec(n.x);
      break;
    case "div":
    case "pow":
      rec(n.a);
      rec(n.b);
      break;
    case "fn":
      n.args.forEach(rec);
      break;
    case "series":
      rec(n.lo);
      rec(n.hi);
      freeSymbols(n.body, into, new Set([...bound, n.v]), depth + 1);
      break;
    case "pm":
      if (n.a) rec(n.a);
      rec(n.b);
      break;
    default:
      break;
  }
  return into;
}
