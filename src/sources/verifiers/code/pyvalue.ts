/**
 * Python's plain values on the host, with Python's semantics for what a test does with them:
 * `==` across int, float, bool and complex (exact: `2**53 + 1 != 2.0**53`), ordering (strings by
 * code point, sequences lexicographically, sets by inclusion), `in`, truthiness, `+ - * /`,
 * `abs`, `math.fabs`, `math.isclose`, `len`, `tuple`, `list`, `set`, `frozenset`, `sorted`,
 * `bool`. What Python would raise for (ordering a str with an int, dividing by zero), this
 * raises as a `PyError` with Python's exception name.
 *
 * The verdict of a separated check is computed here, from values decoded out of tagged JSON
 * (see `python-side.ts`): a value is data, never an object with its own `__eq__`.
 */

export type PyValue =
  | null
  | boolean
  | string
  | { t: "int"; v: bigint }
  | { t: "float"; v: number }
  | { t: "complex"; re: number; im: number }
  | { t: "list" | "tuple" | "set" | "frozenset"; items: PyValue[] }
  | { t: "dict"; entries: Array<[PyValue, PyValue]> }
  | { t: "bytes" | "bytearray"; hex: string };

/** Something Python would raise. */
export class PyError extends Error {
  readonly pyType: string;
  constructor(pyType: string, message: string) {
    super(message);
    this.name = "PyError";
    this.pyType = pyType;
  }
}

const SEQ_TAGS = { l: "list", t: "tuple", s: "set", fs: "frozenset" } as const;

function parseFloatRepr(s: string): number {
  if (s === "inf") return Infinity;
  if (s === "-inf") return -Infinity;
  if (s === "nan" || s === "-nan") return NaN;
  const n = Number(s);
  if (Number.isNaN(n)) throw new Error(`not a float: ${s}`);
  return n;
}

/** Tagged JSON to a value; throws on anything malformed (a value from a sandbox is never trusted to be well formed). */
export function decodePy(x: unknown, depth = 0): PyValue {
  if (depth > 250) throw new Error("value nested too deeply");
  if (x === null || typeof x === "boolean" || typeof x === "string") return x;
  if (!Array.isArray(x) || typeof x[0] !== "string") throw new Error("malformed value");
  const tag = x[0];
  if (tag === "i" && x.length === 2 && typeof x[1] === "string" && /^-?\d+$/.test(x[1])) return { t: "int", v: BigInt(x[1]) };
  if (tag === "ix" && x.length === 2 && typeof x[1] === "string" && /^-?[0-9a-f]+$/.test(x[1])) {
    const neg = x[1].startsWith("-");
    const v = BigInt(`0x${neg ? x[1].slice(1) : x[1]}`);
    return { t: "int", v: neg ? -v : v };
  }
  if (tag === "f" && x.length === 2 && typeof x[1] === "string") return { t: "float", v: parseFloatRepr(x[1]) };
  if (tag === "c" && x.length === 3 && typeof x[1] === "string" && typeof x[2] === "string") return { t: "complex", re: parseFloatRepr(x[1]), im: parseFloatRepr(x[2]) };
  if (tag in SEQ_TAGS) {
    const t = SEQ_TAGS[tag as keyof typeof SEQ_TAGS];
    const items = x.slice(1).map((y) => decodePy(y, depth + 1));
    // a set holds one of equal items (the first), as Python's would
    return { t, items: t === "set" || t === "frozenset" ? dedupe(items) : items };
  }
  if (tag === "d") {
    const entries: Array<[PyValue, PyValue]> = [];
    const at = new Map<string, number>();
    for (const e of x.slice(1)) {
      if (!Array.isArray(e) || e.length !== 2) throw new Error("malformed dict entry");
      const k = decodePy(e[0], depth + 1);
      const v = decodePy(e[1], depth + 1);
      const key = hashKey(k);
      if (key === undefined) throw new Error("unhashable dict key");
      const i = at.get(key);
      if (i === undefined) {
        at.set(key, entries.length);
        entries.push([k, v]);
      } else entries[i]![1] = v; // the first key, the last value
    }
    return { t: "dict", entries };
  }
  if ((tag === "b" || tag === "ba") && x.length === 2 && typeof x[1] === "string" && /^([0-9a-f]{2})*$/.test(x[1])) return { t: tag === "b" ? "bytes" : "bytearray", hex: x[1] };
  throw new Error(`malformed value (tag ${JSON.stringify(tag)})`);
}

export function pyType(v: PyValue): string {
  if (v === null) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "str";
  return v.t;
}

/** Python's repr, shortened: for messages. */
export function pyRepr(v: PyValue, max = 200): string {
  const go = (x: PyValue): string => {
    if (x === null) return "None";
    if (x === true) return "True";
    if (x === false) return "False";
    if (typeof x === "string") return JSON.stringify(x).replace(/^"|"$/g, "'");
    switch (x.t) {
      case "int":
        return x.v.toString();
      case "float":
        return Number.isNaN(x.v) ? "nan" : x.v === Infinity ? "inf" : x.v === -Infinity ? "-inf" : Number.isInteger(x.v) && Math.abs(x.v) < 1e16 ? `${x.v}.0` : String(x.v);
      case "complex":
        return `(${x.re}+${x.im}j)`;
      case "list":
        return `[${x.items.map(go).join(", ")}]`;
      case "tuple":
        return x.items.length === 1 ? `(${go(x.items[0]!)},)` : `(${x.items.map(go).join(", ")})`;
      case "set":
      case "frozenset":
        return x.items.length ? `{${x.items.map(go).join(", ")}}` : `${x.t}()`;
      case "dict":
        return `{${x.entries.map(([k, y]) => `${go(k)}: ${go(y)}`).join(", ")}}`;
      case "bytes":
      case "bytearray":
        return `${x.t}.fromhex('${x.hex}')`;
    }
  };
  const s = go(v);
  return s.length > max ? s.slice(0, max) + "…" : s;
}

// ---------------------------------------------------------------- numbers ---

type Num = { k: "int"; v: bigint } | { k: "float"; v: number };

function asNum(v: PyValue): Num | undefined {
  if (typeof v === "boolean") return { k: "int", v: v ? 1n : 0n };
  if (v !== null && typeof v === "object") {
    if (v.t === "int") return { k: "int", v: v.v };
    if (v.t === "float") return { k: "float", v: v.v };
  }
  return undefined;
}

/** int to float as Python does (OverflowError past the largest double). */
function intToFloat(i: bigint): number {
  const f = Number(i);
  if (!Number.isFinite(f)) throw new PyError("OverflowError", "int too large to convert to float");
  return f;
}

/** -1, 0, 1, or NaN when unordered (a NaN involved); exact across int and float. */
function cmpNum(a: Num, b: Num): number {
  if (a.k === "int" && b.k === "int") return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
  if (a.k === "float" && b.k === "float") return Number.isNaN(a.v) || Number.isNaN(b.v) ? NaN : a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
  const [i, f, flip] = a.k === "int" ? [a.v, (b as { v: number }).v, 1] : [(b as { v: bigint }).v, (a as { v: number }).v, -1];
  if (Number.isNaN(f)) return NaN;
  if (f === Infinity) return -1 * flip;
  if (f === -Infinity) return 1 * flip;
  const fl = Math.floor(f);
  const bf = BigInt(fl);
  let c: number;
  if (i < bf) c = -1;
  else if (i > bf) c = 1;
  else c = f === fl ? 0 : -1; // i equals floor(f) and f has a fractional part: i < f
  return c * flip;
}

function complexOf(v: PyValue): { re: number; im: number } | undefined {
  if (v !== null && typeof v === "object" && v.t === "complex") return v;
  const n = asNum(v);
  if (!n) return undefined;
  return { re: n.k === "int" ? Number(n.v) : n.v, im: 0 };
}

// --------------------------------------------------------------- equality ---

let nanKeys = 0;

/**
 * A string equal for two hashable values exactly when Python's `==` holds between them (1, 1.0
 * and True share one), so that sets and dicts compare in linear time. Undefined: unhashable.
 */
export function hashKey(v: PyValue): string | undefined {
  if (v === null) return "N";
  const n = asNum(v);
  if (n) {
    if (n.k === "int") return `n${n.v}`;
    if (Number.isNaN(n.v)) return `nan${nanKeys++}`; // NaN equals nothing, itself included
    if (Number.isInteger(n.v)) return `n${BigInt(n.v)}`;
    return n.v === Infinity ? "n+inf" : n.v === -Infinity ? "n-inf" : `f${n.v}`;
  }
  if (typeof v === "string") return `s${JSON.stringify(v)}`;
  if (typeof v === "boolean") return undefined;
  switch (v.t) {
    case "complex":
      return v.im === 0 ? hashKey({ t: "float", v: v.re }) : `c${v.re},${v.im}`;
    case "bytes":
      return `b${v.hex}`;
    case "tuple": {
      const keys = v.items.map(hashKey);
      return keys.every((k) => k !== undefined) ? `t(${keys.join(",")})` : undefined;
    }
    case "frozenset": {
      const keys = v.items.map(hashKey);
      return keys.every((k) => k !== undefined) ? `z(${[...new Set(keys as string[])].sort().join(",")})` : undefined;
    }
    default:
      return undefined;
  }
}

export function pyEq(a: PyValue, b: PyValue): boolean {
  const na = asNum(a);
  const nb = asNum(b);
  if (na && nb) return cmpNum(na, nb) === 0;
  if ((a !== null && typeof a === "object" && a.t === "complex") || (b !== null && typeof b === "object" && b.t === "complex")) {
    const ca = complexOf(a);
    const cb = complexOf(b);
    if (!ca || !cb) return false;
    if (ca.im !== cb.im) return false;
    // the real parts compare exactly when one side is an int
    const ra = na ?? { k: "float" as const, v: ca.re };
    const rb = nb ?? { k: "float" as const, v: cb.re };
    return cmpNum(ra, rb) === 0;
  }
  if (a === null || b === null) return a === b;
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (typeof a !== "object" || typeof b !== "object") return false;
  const bytesLike = (x: { t: string }) => x.t === "bytes" || x.t === "bytearray";
  if (bytesLike(a) && bytesLike(b)) return (a as { hex: string }).hex === (b as { hex: string }).hex;
  const setLike = (x: { t: string }) => x.t === "set" || x.t === "frozenset";
  if (setLike(a) && setLike(b)) {
    const ka = keySet((a as { items: PyValue[] }).items);
    const kb = keySet((b as { items: PyValue[] }).items);
    return ka.size === kb.size && [...ka].every((k) => kb.has(k));
  }
  if (a.t !== b.t) return false;
  if (a.t === "list" || a.t === "tuple") {
    const ib = (b as { items: PyValue[] }).items;
    return a.items.length === ib.length && a.items.every((x, i) => pyEq(x, ib[i]!));
  }
  if (a.t === "dict") {
    const ma = keyMap(a.entries);
    const mb = keyMap((b as { entries: Array<[PyValue, PyValue]> }).entries);
    if (ma.size !== mb.size) return false;
    for (const [k, v] of ma) {
      const w = mb.get(k);
      if (w === undefined || !pyEq(v, w)) return false;
    }
    return true;
  }
  return false;
}

/** A set's (or dict's) elements by hash key (the last of equal keys wins, as in Python). */
function keySet(items: PyValue[]): Set<string> {
  const out = new Set<string>();
  for (const x of items) {
    const k = hashKey(x);
    if (k === undefined) throw new PyError("TypeError", `unhashable type: '${pyType(x)}'`);
    out.add(k);
  }
  return out;
}

function keyMap(entries: Array<[PyValue, PyValue]>): Map<string, PyValue> {
  const out = new Map<string, PyValue>();
  for (const [k, v] of entries) {
    const key = hashKey(k);
    if (key === undefined) throw new PyError("TypeError", `unhashable type: '${pyType(k)}'`);
    out.set(key, v);
  }
  return out;
}

// --------------------------------------------------------------- ordering ---

function cmpCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

type Order = "<" | "<=" | ">" | ">=";

function unorderable(op: string, a: PyValue, b: PyValue): PyError {
  return new PyError("TypeError", `'${op}' not supported between instances of '${pyType(a)}' and '${pyType(b)}'`);
}

function holds(c: number, op: Order): boolean {
  if (Number.isNaN(c)) return false;
  return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
}

export function pyOrder(op: Order, a: PyValue, b: PyValue): boolean {
  const na = asNum(a);
  const nb = asNum(b);
  if (na && nb) return holds(cmpNum(na, nb), op);
  if (typeof a === "string" && typeof b === "string") return holds(cmpCodePoints(a, b), op);
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const bytesLike = (x: { t: string }) => x.t === "bytes" || x.t === "bytearray";
    if (bytesLike(a) && bytesLike(b)) {
      const x = (a as { hex: string }).hex;
      const y = (b as { hex: string }).hex;
      return holds(x < y ? -1 : x > y ? 1 : 0, op);
    }
    if ((a.t === "list" && b.t === "list") || (a.t === "tuple" && b.t === "tuple")) {
      const ia = a.items;
      const ib = (b as { items: PyValue[] }).items;
      for (let i = 0; i < Math.min(ia.length, ib.length); i++) {
        if (!pyEq(ia[i]!, ib[i]!)) return pyOrder(op === "<=" ? "<" : op === ">=" ? ">" : op, ia[i]!, ib[i]!);
      }
      return holds(ia.length - ib.length, op);
    }
    const setLike = (x: { t: string }) => x.t === "set" || x.t === "frozenset";
    if (setLike(a) && setLike(b)) {
      const ka = keySet((a as { items: PyValue[] }).items);
      const kb = keySet((b as { items: PyValue[] }).items);
      const sub = (x: Set<string>, y: Set<string>) => [...x].every((k) => y.has(k));
      if (op === "<=") return sub(ka, kb);
      if (op === ">=") return sub(kb, ka);
      if (op === "<") return ka.size < kb.size && sub(ka, kb);
      return kb.size < ka.size && sub(kb, ka);
    }
  }
  throw unorderable(op, a, b);
}

// ------------------------------------------------------------ containers ---

export function pyTruthy(v: PyValue): boolean {
  if (v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return v.length > 0;
  switch (v.t) {
    case "int":
      return v.v !== 0n;
    case "float":
      return v.v !== 0;
    case "complex":
      return v.re !== 0 || v.im !== 0;
    case "dict":
      return v.entries.length > 0;
    case "bytes":
    case "bytearray":
      return v.hex.length > 0;
    default:
      return v.items.length > 0;
  }
}

const codePoints = (s: string) => [...s];

/** The items `for x in v` would give. */
function iterate(v: PyValue): PyValue[] {
  if (typeof v === "string") return codePoints(v);
  if (v !== null && typeof v === "object") {
    if (v.t === "list" || v.t === "tuple" || v.t === "set" || v.t === "frozenset") return v.items;
    if (v.t === "dict") return v.entries.map(([k]) => k);
    if (v.t === "bytes" || v.t === "bytearray") return (v.hex.match(/../g) ?? []).map((h) => ({ t: "int" as const, v: BigInt(parseInt(h, 16)) }));
  }
  throw new PyError("TypeError", `'${pyType(v)}' object is not iterable`);
}

function dedupe(items: PyValue[]): PyValue[] {
  const seen = new Set<string>();
  const out: PyValue[] = [];
  for (const x of items) {
    const k = hashKey(x);
    if (k === undefined) throw new PyError("TypeError", `unhashable type: '${pyType(x)}'`);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(x);
    }
  }
  return out;
}

export function pyIn(item: PyValue, container: PyValue): boolean {
  if (container !== null && typeof container === "object" && (container.t === "set" || container.t === "frozenset" || container.t === "dict")) {
    // a set looked up in a set stands for the frozenset of its items
    const k = hashKey(item !== null && typeof item === "object" && item.t === "set" && container.t !== "dict" ? { t: "frozenset", items: item.items } : item);
    if (k === undefined) throw new PyError("TypeError", `unhashable type: '${pyType(item)}'`);
    return container.t === "dict" ? keyMap(container.entries).has(k) : keySet(container.items).has(k);
  }
  if (typeof container === "string") {
    if (typeof item !== "string") throw new PyError("TypeError", `'in <string>' requires string as left operand, not ${pyType(item)}`);
    return container.includes(item);
  }
  if (container !== null && typeof container === "object" && (container.t === "bytes" || container.t === "bytearray")) {
    if (item !== null && typeof item === "object" && (item.t === "bytes" || item.t === "bytearray")) {
      for (let i = 0; i + item.hex.length <= container.hex.length; i += 2) if (container.hex.startsWith(item.hex, i)) return true;
      return false;
    }
    const n = asNum(item);
    if (n?.k === "int") return iterate(container).some((x) => pyEq(x, item));
    throw new PyError("TypeError", "a bytes-like object is required");
  }
  return iterate(container).some((x) => pyEq(item, x));
}

export function pyLen(v: PyValue): PyValue {
  if (typeof v === "string") return { t: "int", v: BigInt(codePoints(v).length) };
  if (v !== null && typeof v === "object") {
    if (v.t === "dict") return { t: "int", v: BigInt(v.entries.length) };
    if (v.t === "bytes" || v.t === "bytearray") return { t: "int", v: BigInt(v.hex.length / 2) };
    if ("items" in v) return { t: "int", v: BigInt(v.items.length) };
  }
  throw new PyError("TypeError", `object of type '${pyType(v)}' has no len()`);
}

export function pySorted(v: PyValue): PyValue {
  // a stable merge sort with Python's `<` (raises where Python would)
  const sort = (xs: PyValue[]): PyValue[] => {
    if (xs.length < 2) return xs;
    const mid = xs.length >> 1;
    const left = sort(xs.slice(0, mid));
    const right = sort(xs.slice(mid));
    const out: PyValue[] = [];
    let i = 0;
    let j = 0;
    while (i < left.length && j < right.length) out.push(pyOrder("<", right[j]!, left[i]!) ? right[j++]! : left[i++]!);
    return out.concat(left.slice(i), right.slice(j));
  };
  return { t: "list", items: sort([...iterate(v)]) };
}

/** `tuple(v)`, `list(v)`, `set(v)`, `frozenset(v)`, `bool(v)`, `len(v)`, `sorted(v)`. */
export function pyCall(fn: string, v: PyValue): PyValue {
  switch (fn) {
    case "len":
      return pyLen(v);
    case "bool":
      return pyTruthy(v);
    case "sorted":
      return pySorted(v);
    case "tuple":
    case "list":
      return { t: fn, items: [...iterate(v)] };
    case "set":
    case "frozenset":
      return { t: fn, items: dedupe(iterate(v)) };
  }
  throw new Error(`no host function ${fn}`);
}

// ------------------------------------------------------------- arithmetic ---

const int = (v: bigint): PyValue => ({ t: "int", v });
const float = (v: number): PyValue => ({ t: "float", v });

function numOf(v: PyValue, op: string, other: PyValue): Num {
  const n = asNum(v);
  if (!n) throw new PyError("TypeError", `unsupported operand type(s) for ${op}: '${pyType(v)}' and '${pyType(other)}'`);
  return n;
}

export function pyBinary(op: "+" | "-" | "*" | "/", a: PyValue, b: PyValue): PyValue {
  if (op === "+" && typeof a === "string" && typeof b === "string") return a + b;
  if (op === "+" && a !== null && b !== null && typeof a === "object" && typeof b === "object" && (a.t === "list" || a.t === "tuple") && a.t === b.t) {
    return { t: a.t, items: [...a.items, ...(b as { items: PyValue[] }).items] };
  }
  const ca = a !== null && typeof a === "object" && a.t === "complex";
  const cb = b !== null && typeof b === "object" && b.t === "complex";
  if (ca || cb) {
    const x = complexOf(a);
    const y = complexOf(b);
    if (!x || !y) throw new PyError("TypeError", `unsupported operand type(s) for ${op}: '${pyType(a)}' and '${pyType(b)}'`);
    if (op === "+") return { t: "complex", re: x.re + y.re, im: x.im + y.im };
    if (op === "-") return { t: "complex", re: x.re - y.re, im: x.im - y.im };
    if (op === "*") return { t: "complex", re: x.re * y.re - x.im * y.im, im: x.re * y.im + x.im * y.re };
    const d = y.re * y.re + y.im * y.im;
    if (d === 0) throw new PyError("ZeroDivisionError", "complex division by zero");
    return { t: "complex", re: (x.re * y.re + x.im * y.im) / d, im: (x.im * y.re - x.re * y.im) / d };
  }
  const isSeq = (x: PyValue) => typeof x === "string" || (x !== null && typeof x === "object" && (x.t === "list" || x.t === "tuple" || x.t === "bytes" || x.t === "bytearray"));
  if (op === "*" && (isSeq(a) || isSeq(b))) {
    const [seq, other] = isSeq(a) ? [a, b] : [b, a];
    const n = asNum(other);
    if (n?.k !== "int") throw new PyError("TypeError", `can't multiply sequence by non-int of type '${pyType(other)}'`);
    if (n.v >= 2n ** 63n || n.v < -(2n ** 63n)) throw new PyError("OverflowError", "cannot fit 'int' into an index-sized integer");
    const count = n.v <= 0n ? 0 : n.v;
    const len = typeof seq === "string" ? seq.length : "items" in (seq as object) ? (seq as { items: PyValue[] }).items.length : (seq as { hex: string }).hex.length / 2;
    if (BigInt(len) * BigInt(count) > 10_000_000n) throw new PyError("MemoryError", "repetition too large to check outside the sandbox");
    const times = Number(count);
    if (typeof seq === "string") return seq.repeat(times);
    const s = seq as Exclude<PyValue, null | boolean | string>;
    if (s.t === "bytes" || s.t === "bytearray") return { t: s.t, hex: s.hex.repeat(times) };
    const items = (s as { items: PyValue[] }).items;
    return { t: (s as { t: "list" | "tuple" }).t, items: Array.from({ length: times }, () => items).flat() };
  }
  const x = numOf(a, op, b);
  const y = numOf(b, op, a);
  if (op === "/") {
    const fx = x.k === "int" ? intToFloat(x.v) : x.v;
    const fy = y.k === "int" ? intToFloat(y.v) : y.v;
    if (fy === 0) throw new PyError("ZeroDivisionError", x.k === "int" && y.k === "int" ? "division by zero" : "float division by zero");
    return float(fx / fy);
  }
  if (x.k === "int" && y.k === "int") return int(op === "+" ? x.v + y.v : op === "-" ? x.v - y.v : x.v * y.v);
  const fx = x.k === "int" ? intToFloat(x.v) : x.v;
  const fy = y.k === "int" ? intToFloat(y.v) : y.v;
  return float(op === "+" ? fx + fy : op === "-" ? fx - fy : fx * fy);
}

export function pyUnary(op: "neg" | "pos", v: PyValue): PyValue {
  if (v !== null && typeof v === "object" && v.t === "complex") return op === "neg" ? { t: "complex", re: -v.re, im: -v.im } : v;
  const n = asNum(v);
  if (!n) throw new PyError("TypeError", `bad operand type for unary ${op === "neg" ? "-" : "+"}: '${pyType(v)}'`);
  if (n.k === "int") return int(op === "neg" ? -n.v : n.v);
  return float(op === "neg" ? -n.v : n.v);
}

export function pyAbs(v: PyValue): PyValue {
  if (v !== null && typeof v === "object" && v.t === "complex") return float(Math.hypot(v.re, v.im));
  const n = asNum(v);
  if (!n) throw new PyError("TypeError", `bad operand type for abs(): '${pyType(v)}'`);
  return n.k === "int" ? int(n.v < 0n ? -n.v : n.v) : float(Math.abs(n.v));
}

function toFloat(v: PyValue, what: string): number {
  const n = asNum(v);
  if (!n) throw new PyError("TypeError", `${what}: must be real number, not ${pyType(v)}`);
  return n.k === "int" ? intToFloat(n.v) : n.v;
}

export function pyFabs(v: PyValue): PyValue {
  return float(Math.abs(toFloat(v, "math.fabs()")));
}

/** `math.isclose`, as CPython computes it. */
export function pyIsclose(a: PyValue, b: PyValue, relTol: PyValue, absTol: PyValue): boolean {
  const x = toFloat(a, "math.isclose()");
  const y = toFloat(b, "math.isclose()");
  const rel = toFloat(relTol, "math.isclose()");
  const abs = toFloat(absTol, "math.isclose()");
  if (rel < 0 || abs < 0) throw new PyError("ValueError", "tolerances must be non-negative");
  if (x === y) return true;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  const diff = Math.abs(y - x);
  return diff <= Math.abs(rel * y) || diff <= Math.abs(rel * x) || diff <= abs;
}

export function pyCompare(op: string, a: PyValue, b: PyValue): boolean {
  switch (op) {
    case "==":
      return pyEq(a, b);
    case "!=":
      return !pyEq(a, b);
    case "<":
    case "<=":
    case ">":
    case ">=":
      return pyOrder(op, a, b);
    case "in":
      return pyIn(a, b);
    case "not in":
      return !pyIn(a, b);
    case "is":
    case "is not": {
      // only against None, True and False (the planner sends no other identity check here)
      const same = (a === null && b === null) || (typeof a === "boolean" && typeof b === "boolean" && a === b);
      return op === "is" ? same : !same;
    }
  }
  throw new Error(`no comparison ${op}`);
}
