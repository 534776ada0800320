/**
 * The two number systems answers are computed in.
 *
 * - `Rat`: exact rationals over BigInt. Integers and fractions are compared exactly, so
 *   `1000000008` is not `10^9+7` and `3^{1000}` is not `2^{1024}`. Sizes are capped (see
 *   limits.ts): beyond the cap a value is only known approximately.
 * - `XC`: complex numbers in extended floating point, `(re + i im) * 2^e` with an unbounded
 *   exponent, so `10^{400}` or `3^{100000}` never overflow to Infinity (they compare by their
 *   logarithms). Infinity itself (`\infty`) is a separate symbolic value, not a float.
 */
import { LimitReached, type MathLimits } from "./limits.js";

// ------------------------------------------------------------------ meter ---

/** Work accounting for one comparison (units are roughly microseconds). */
export class Meter {
  work = 0;
  constructor(readonly limits: MathLimits) {}
  charge(units: number): void {
    this.work += units;
    if (this.work > this.limits.maxWork) throw new LimitReached("maxWork", `the comparison needs more than ${this.limits.maxWork} units of work`);
  }
}

// -------------------------------------------------------------- rationals ---

export interface Rat {
  n: bigint;
  /** Always positive; gcd(n, d) = 1. */
  d: bigint;
}

const SMALL = 1n << 52n;

/** Bit length of |x| (0 for 0). */
export function bitLength(x: bigint): number {
  if (x < 0n) x = -x;
  if (x < SMALL) return x === 0n ? 0 : Math.floor(Math.log2(Number(x))) + 1;
  return x.toString(16).length * 4;
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b) [a, b] = [b, a % b];
  return a;
}

export const ratInt = (n: bigint): Rat => ({ n, d: 1n });
export const R0 = ratInt(0n);
export const R1 = ratInt(1n);

/** Builds n/d reduced, or undefined when over the size caps (d = 0 is undefined too). */
export function rat(n: bigint, d: bigint, m: Meter): Rat | undefined {
  if (d === 0n) return undefined;
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  if (d === 1n) return checkInt({ n, d }, m);
  const bn = bitLength(n);
  const bd = bitLength(d);
  const bits = Math.max(bn, bd);
  if (bits > 64) m.charge((bits * bits) / 16_000);
  const g = gcd(n, d);
  if (g !== 1n) {
    n /= g;
    d /= g;
  }
  if (d === 1n) return checkInt({ n, d }, m);
  if (bitLength(n) > m.limits.maxFractionBits || bitLength(d) > m.limits.maxFractionBits) return undefined;
  return { n, d };
}

function checkInt(q: Rat, m: Meter): Rat | undefined {
  const b = bitLength(q.n);
  if (b > m.limits.maxExactBits) return undefined;
  if (b > 4096) m.charge((b / 4096) ** 2);
  return q;
}

export const ratAdd = (a: Rat, b: Rat, m: Meter) => (a.d === 1n && b.d === 1n ? checkInt({ n: a.n + b.n, d: 1n }, m) : rat(a.n * b.d + b.n * a.d, a.d * b.d, m));
export const ratSub = (a: Rat, b: Rat, m: Meter) => ratAdd(a, { n: -b.n, d: b.d }, m);
export const ratMul = (a: Rat, b: Rat, m: Meter) => (a.d === 1n && b.d === 1n ? checkInt({ n: a.n * b.n, d: 1n }, m) : rat(a.n * b.n, a.d * b.d, m));
export const ratDiv = (a: Rat, b: Rat, m: Meter) => (b.n === 0n ? undefined : rat(a.n * b.d, a.d * b.n, m));
export const ratNeg = (a: Rat): Rat => ({ n: -a.n, d: a.d });
export const ratEq = (a: Rat, b: Rat) => a.n === b.n && a.d === b.d;
export const ratIsInt = (a: Rat) => a.d === 1n;
export const ratSign = (a: Rat) => (a.n > 0n ? 1 : a.n < 0n ? -1 : 0);
export const ratCmp = (a: Rat, b: Rat): number => {
  const x = a.n * b.d - b.n * a.d;
  return x > 0n ? 1 : x < 0n ? -1 : 0;
};

/** a^k for an integer k, or undefined when the result would be over the caps. */
export function ratPowInt(a: Rat, k: bigint, m: Meter): Rat | undefined {
  if (k === 0n) return a.n === 0n ? undefined : R1;
  if (a.n === 0n) return k > 0n ? R0 : undefined;
  if (k < 0n) {
    const inv = ratDiv(R1, a, m);
    return inv ? ratPowInt(inv, -k, m) : undefined;
  }
  if (a.d === 1n && (a.n === 1n || a.n === -1n)) return ratInt(a.n === -1n && k % 2n === 1n ? -1n : 1n);
  const cap = a.d === 1n ? m.limits.maxExactBits : m.limits.maxFractionBits;
  const per = Math.max(bitLength(a.n), bitLength(a.d)) - 1;
  if (per * Number(k) > cap) return undefined;
  const bits = per * Number(k);
  if (bits > 4096) m.charge((bits / 4096) ** 2);
  return { n: a.n ** k, d: a.d ** k };
}

/** The exact k-th root of a non-negative integer, or undefined when it is not a perfect power. */
export function intRoot(x: bigint, k: number): bigint | undefined {
  if (x < 0n) return undefined;
  if (x < 2n) return x;
  const K = BigInt(k);
  // Newton from above, starting at a power of two over the root.
  let r = 1n << BigInt(Math.ceil(bitLength(x) / k) + 1);
  for (;;) {
    const next = ((K - 1n) * r + x / r ** (K - 1n)) / K;
    if (next >= r) break;
    r = next;
  }
  return r ** K === x ? r : undefined;
}

/** The exact k-th root of a rational (real root for odd k and negative a), or undefined. */
export function ratRoot(a: Rat, k: number): Rat | undefined {
  if (k < 1 || k > 64) return undefined;
  if (k === 1) return a;
  const neg = a.n < 0n;
  if (neg && k % 2 === 0) return undefined;
  const n = intRoot(neg ? -a.n : a.n, k);
  const d = intRoot(a.d, k);
  if (n === undefined || d === undefined) return undefined;
  return { n: neg ? -n : n, d };
}

/** A rational written in decimal notation (up to `places` digits, rounded half away from zero). */
export function ratToString(a: Rat): string {
  return a.d === 1n ? a.n.toString() : `${a.n}/${a.d}`;
}

// ------------------------------------------------------ extended floats ---

/** `(re + i im) * 2^e`, with max(|re|, |im|) in [1, 2), or exactly zero (re = im = e = 0). */
export interface XC {
  re: number;
  im: number;
  e: number;
}

export const X0: XC = Object.freeze({ re: 0, im: 0, e: 0 });
const LN2 = Math.LN2;
const MAX_EXP = 1e15;

function ldexp(x: number, k: number): number {
  // 2^k in steps that stay inside the double range.
  while (k > 1000) {
    x *= 2 ** 1000;
    k -= 1000;
  }
  while (k < -1000) {
    x *= 2 ** -1000;
    k += 1000;
  }
  return x * 2 ** k;
}

export function xnorm(re: number, im: number, e: number): XC | undefined {
  if (!Number.isFinite(re) || !Number.isFinite(im) || !Number.isFinite(e)) return undefined;
  const mag = Math.max(Math.abs(re), Math.abs(im));
  if (mag === 0) return X0;
  let k = Math.floor(Math.log2(mag));
  let r = ldexp(re, -k);
  let i = ldexp(im, -k);
  const mm = Math.max(Math.abs(r), Math.abs(i));
  if (mm >= 2) {
    r /= 2;
    i /= 2;
    k++;
  } else if (mm < 1) {
    r *= 2;
    i *= 2;
    k--;
  }
  const ne = e + k;
  if (Math.abs(ne) > MAX_EXP) return undefined;
  return { re: r, im: i, e: ne };
}

export const xnum = (x: number, im = 0) => xnorm(x, im, 0);
export const xIsZero = (a: XC) => a.re === 0 && a.im === 0;

export function xFromRat(q: Rat): XC | undefined {
  const bn = bitLength(q.n);
  const bd = bitLength(q.d);
  const sn = Math.max(0, bn - 62);
  const sd = Math.max(0, bd - 62);
  const n = Number(sn ? q.n >> BigInt(sn) : q.n);
  const d = Number(sd ? q.d >> BigInt(sd) : q.d);
  return xnorm(n / d, 0, sn - sd);
}

/** As a double (Infinity or 0 when out of range). */
export const xToNumber = (a: XC) => ldexp(a.re, a.e);
/** Whether a double holds it without overflow or loss to zero. */
export const xFits = (a: XC) => xIsZero(a) || (a.e < 1000 && a.e > -1000);

export function xAdd(a: XC, b: XC): XC | undefined {
  if (xIsZero(a)) return b;
  if (xIsZero(b)) return a;
  if (a.e < b.e) [a, b] = [b, a];
  const d = a.e - b.e;
  if (d > 1100) return a;
  return xnorm(a.re + ldexp(b.re, -d), a.im + ldexp(b.im, -d), a.e);
}
export const xNeg = (a: XC): XC => (xIsZero(a) ? a : { re: -a.re, im: -a.im, e: a.e });
export const xSub = (a: XC, b: XC) => xAdd(a, xNeg(b));
export const xMul = (a: XC, b: XC) => xnorm(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re, a.e + b.e);
export function xDiv(a: XC, b: XC): XC | undefined {
  if (xIsZero(b)) return undefined;
  const den = b.re * b.re + b.im * b.im;
  return xnorm((a.re * b.re + a.im * b.im) / den, (a.im * b.re - a.re * b.im) / den, a.e - b.e);
}
export const xIsReal = (a: XC) => a.im === 0;

/** |a| as a real XC. */
export const xAbs = (a: XC) => xnorm(Math.hypot(a.re, a.im), 0, a.e);

/** Natural logarithm, principal branch (small enough for a double). */
export function xLog(a: XC): XC | undefined {
  if (xIsZero(a)) return undefined;
  return xnum(Math.log(Math.hypot(a.re, a.im)) + a.e * LN2, Math.atan2(a.im, a.re));
}

/** e^a for any a whose real part fits a double. */
export function xExp(a: XC): XC | undefined {
  if (!xFits(a)) return undefined;
  const re = xToNumber(a);
  const im = ldexp(a.im, a.e);
  if (!Number.isFinite(re) || !Number.isFinite(im) || Math.abs(im) > 1e15) return undefined;
  const k = Math.floor(re / LN2);
  const frac = re - k * LN2;
  const mag = Math.exp(frac);
  return xnorm(mag * Math.cos(im), mag * Math.sin(im), k);
}

/** a^k for an integer k (exact up to rounding: repeated squaring). */
export function xPowInt(a: XC, k: number): XC | undefined {
  if (k === 0) return xIsZero(a) ? undefined : xnum(1);
  if (k < 0) {
    const inv = xDiv(xnum(1)!, a);
    return inv ? xPowInt(inv, -k) : undefined;
  }
  let result = xnum(1)!;
  let base: XC | undefined = a;
  while (k > 0 && base && result) {
    if (k % 2 === 1) result = xMul(result, base)!;
    k = Math.floor(k / 2);
    if (k > 0) base = xMul(base, base);
  }
  return base && result ? result : undefined;
}

/** a^b, principal branch. */
export function xPow(a: XC, b: XC): XC | undefined {
  if (xIsZero(a)) return xIsReal(b) && b.re > 0 ? X0 : undefined;
  const bi = xFits(b) && b.im === 0 ? xToNumber(b) : NaN;
  if (Number.isInteger(bi) && Math.abs(bi) <= 2 ** 31) return xPowInt(a, bi);
  const l = xLog(a);
  if (!l) return undefined;
  const w = xMul(l, b);
  return w ? xExp(w) : undefined;
}

/** The real k-th root of a real number (negative for odd k), else the principal root. */
export function xRoot(a: XC, k: XC): XC | undefined {
  const kk = xFits(k) && k.im === 0 ? xToNumber(k) : NaN;
  if (a.im === 0 && a.re < 0 && Number.isInteger(kk) && Math.abs(kk) % 2 === 1) {
    const r = xRoot(xNeg(a), k);
    return r ? xNeg(r) : undefined;
  }
  const inv = xDiv(xnum(1)!, k);
  return inv ? xPow(a, inv) : undefined;
}

/** A function of a small complex number, computed in doubles. */
function viaDouble(a: XC, f: (re: number, im: number) => [number, number] | undefined): XC | undefined {
  if (!xFits(a)) return undefined;
  const re = xToNumber(a);
  const im = ldexp(a.im, a.e);
  if (Math.abs(re) > 1e15 || Math.abs(im) > 700) return undefined;
  const r = f(re, im);
  return r ? xnorm(r[0], r[1], 0) : undefined;
}

export const xSin = (a: XC) => viaDouble(a, (x, y) => [Math.sin(x) * Math.cosh(y), Math.cos(x) * Math.sinh(y)]);
export const xCos = (a: XC) => viaDouble(a, (x, y) => [Math.cos(x) * Math.cosh(y), -Math.sin(x) * Math.sinh(y)]);

const I = xnum(0, 1)!;
const ONE = xnum(1)!;
const HALF_PI = xnum(Math.PI / 2)!;

function compose(...steps: Array<(x: XC) => XC | undefined>): (a: XC) => XC | undefined {
  return (a) => {
    let v: XC | undefined = a;
    for (const s of steps) {
      if (!v) return undefined;
      v = s(v);
    }
    return v;
  };
}

export const xTan = (a: XC) => {
  const s = xSin(a);
  const c = xCos(a);
  return s && c ? xDiv(s, c) : undefined;
};
export const xRecip = (a: XC) => xDiv(ONE, a);

/** asin(z) = -i log(iz + sqrt(1 - z^2)) */
export function xAsin(a: XC): XC | undefined {
  if (a.im === 0 && xFits(a) && Math.abs(xToNumber(a)) <= 1) return xnum(Math.asin(xToNumber(a)));
  const z2 = xMul(a, a);
  const s = z2 && xSub(ONE, z2);
  const r = s && xPow(s, xnum(0.5)!);
  const iz = xMul(I, a);
  const sum = r && iz && xAdd(iz, r);
  const l = sum && xLog(sum);
  return l ? xMul(xNeg(I), l) : undefined;
}
export const xAcos = (a: XC) => {
  if (a.im === 0 && xFits(a) && Math.abs(xToNumber(a)) <= 1) return xnum(Math.acos(xToNumber(a)));
  const s = xAsin(a);
  return s ? xSub(HALF_PI, s) : undefined;
};
/** atan(z) = (i/2) log((i + z)/(i - z)) */
export function xAtan(a: XC): XC | undefined {
  if (a.im === 0) return xFits(a) ? xnum(Math.atan(xToNumber(a))) : xnum(a.re > 0 ? Math.PI / 2 : -Math.PI / 2);
  const num = xAdd(I, a);
  const den = xSub(I, a);
  const q = num && den && xDiv(num, den);
  const l = q && xLog(q);
  return l ? xMul(xnum(0, 0.5)!, l) : undefined;
}
const xExpNeg = compose(xNeg, xExp);
export const xSinh = (a: XC) => {
  const p = xExp(a);
  const n = xExpNeg(a);
  const d = p && n && xSub(p, n);
  return d ? xMul(d, xnum(0.5)!) : undefined;
};
export const xCosh = (a: XC) => {
  const p = xExp(a);
  const n = xExpNeg(a);
  const d = p && n && xAdd(p, n);
  return d ? xMul(d, xnum(0.5)!) : undefined;
};
export const xTanh = (a: XC) => {
  const s = xSinh(a);
  const c = xCosh(a);
  return s && c ? xDiv(s, c) : undefined;
};

// Lanczos approximation (g = 7, n = 9) for the gamma function of a real argument.
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.61503916999186, 12.507343278686905, -0.13857109526572012,
  0.000009984369578019572, 1.5056327351493116e-7,
];
function lgammaPos(x: number): number {
  // log Γ(x) for x > 0.
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgammaPos(1 - x);
  x -= 1;
  let s = LANCZOS[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Γ(x) for a real x (in extended range, so Γ(1000) is fine). */
export function xGamma(a: XC): XC | undefined {
  if (a.im !== 0 || !xFits(a)) return undefined;
  const x = xToNumber(a);
  if (x <= 0 && Number.isInteger(x)) return undefined;
  if (x > 0) {
    const l = lgammaPos(x);
    return xExp(xnum(l)!);
  }
  // Reflection: Γ(x) = π / (sin(πx) Γ(1-x)).
  const g = xGamma(xnum(1 - x)!);
  const s = Math.sin(Math.PI * x);
  return g ? xDiv(xnum(Math.PI)!, xMul(g, xnum(s)!)!) : undefined;
}

/** log2 of |a| (a not zero). */
export const xLog2Abs = (a: XC) => a.e + Math.log2(Math.hypot(a.re, a.im));

/** |a - b| <= tol * max(|a|, |b|), in extended range. */
export function xClose(a: XC, b: XC, tol: number): boolean {
  if (xIsZero(a) && xIsZero(b)) return true;
  if (xIsZero(a) || xIsZero(b)) return false;
  const d = xSub(a, b);
  if (!d) return false;
  if (xIsZero(d)) return true;
  const scale = Math.max(xLog2Abs(a), xLog2Abs(b));
  return xLog2Abs(d) - scale <= Math.log2(tol);
}

/** A short decimal rendering for explanations. */
export function xToString(a: XC): string {
  const f = (re: number, e: number) => {
    if (e > -60 && e < 60) return String(Number(ldexp(re, e).toPrecision(12)));
    const l10 = (e + Math.log2(Math.abs(re))) * Math.log10(2);
    const exp = Math.floor(l10);
    return `${re < 0 ? "-" : ""}${(10 ** (l10 - exp)).toFixed(6)}e${exp}`;
  };
  if (a.im === 0) return f(a.re, a.e);
  return `${a.re === 0 ? "" : f(a.re, a.e) + (a.im > 0 ? "+" : "")}${f(a.im, a.e)}i`;
}
