/**
 * What a parsed answer is: a tree of expression nodes (`Node`) inside a structured value
 * (`MathValue`: a number or expression, a relation, a set, a tuple or interval, a union, a
 * matrix, a multiple-choice letter, or words).
 */
import type { Rat } from "./numbers.js";

/** A number as it was written: its exact value (when small enough) and its precision. */
export interface NumLit {
  /** Digits as written (no sign, no separators), with the decimal point if any. */
  digits: string;
  /** Exact value, undefined when too large for exact arithmetic (`1e99999`). */
  q?: Rat;
  /** Digits after the decimal point as written. */
  decimals: number;
  /** The power of ten it was written with (`1.5e3`, `1.5 \times 10^{3}`), 0 if none. */
  exp10: number;
}

export type Node =
  | { k: "num"; lit: NumLit }
  /** A variable (single letter, Greek letter, subscripted name). */
  | { k: "sym"; name: string }
  /** π, e, i, ∞. */
  | { k: "const"; name: "pi" | "e" | "i" | "inf" }
  | { k: "add"; terms: Node[] }
  | { k: "mul"; factors: Node[] }
  | { k: "neg"; x: Node }
  | { k: "div"; a: Node; b: Node }
  | { k: "pow"; a: Node; b: Node }
  /** sin, cos, ..., sqrt, root (x, n), log (x, base?), abs, fact, binom, gamma, exp. */
  | { k: "fn"; name: string; args: Node[] }
  /** `f(x)`: a one-letter name applied to simple arguments (evaluated as a product, read as a name). */
  | { k: "apply"; f: string; args: Node[] }
  /** A finite sum or product over an integer range. */
  | { k: "series"; op: "sum" | "prod"; v: string; lo: Node; hi: Node; body: Node }
  /** `a ± b`: both signs (expanded before comparison). */
  | { k: "pm"; a?: Node; b: Node; minusFirst: boolean }
  /** A matrix literal inside an expression (`A + B`, `2A`, `AB` are reduced entry by entry). */
  | { k: "matrix"; rows: Node[][] }
  /** Something read but not computable (an integral, an infinite series): compared by its text. */
  | { k: "opaque"; text: string };

export type RelOp = "=" | "<" | ">" | "<=" | ">=" | "!=";

/** What the clean-up and the parser learnt about how an answer was written. */
export interface AnswerFlags {
  /** It carried a percent sign (`28\%`, `28 %`, `28 pct`). */
  percent?: boolean;
  /** It carried a degree sign (`90^\circ`). */
  degrees?: boolean;
  /** The whole answer was words (`\text{...}`), compared as words. */
  text?: boolean;
  /** A unit it was given in (canonical name: `cm`, `usd`, `s`...), when it is one we know. */
  unit?: string;
  /** Words after the value that are not a unit we know (`5 apples`): a label, not compared. */
  label?: string;
}

export type MathValue =
  /** A number or expression; `lit` when it is written as one number. */
  | { kind: "expr"; node: Node; src: string; lit?: NumLit; negLit?: boolean; flags?: AnswerFlags }
  /** Words: compared as normalised text. */
  | { kind: "text"; text: string }
  /** A multiple-choice letter (`(C)`, `\text{(C)}`, `C)`). */
  | { kind: "choice"; letter: string }
  /** `a = b`, `x \ge 5`, chains `a = b = c`. */
  | { kind: "relation"; ops: RelOp[]; sides: MathValue[] }
  /** `(a, b)`, `[a, b)`...: a tuple or an interval; brackets matter, order matters. */
  | { kind: "bracketed"; open: "(" | "["; close: ")" | "]"; elems: MathValue[] }
  /** `\{a, b\}` or a bare list `a, b`: order does not matter. */
  | { kind: "set"; elems: MathValue[]; bare?: boolean }
  /** `A \cup B`. */
  | { kind: "union"; parts: MathValue[] }
  /** A matrix or vector written as one (`\begin{pmatrix}...`). */
  | { kind: "matrix"; rows: MathValue[][] };
