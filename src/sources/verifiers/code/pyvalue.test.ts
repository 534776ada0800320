/**
 * The host's Python semantics against Python itself: random plain values (big ints, floats with
 * nan, inf and -0.0, bools, None, strings beyond the BMP, bytes, lists, tuples, sets, frozensets,
 * dicts), compared, ordered, searched, measured and sorted here and by /usr/bin/python3; the
 * answers (or the exception raised) must agree.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PyError, type PyValue, decodePy, pyBinary, pyCall, pyCompare, pyIsclose, pyTruthy } from "./pyvalue.js";

const PYTHON = "/usr/bin/python3";

/** A small deterministic generator (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(r: () => number, depth: number, hashable = false): unknown {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const kinds = depth > 2 ? ["int", "float", "bool", "none", "str", "bytes", "smallint"] : hashable ? ["int", "float", "bool", "none", "str", "bytes", "tuple", "frozenset", "smallint"] : ["int", "float", "bool", "none", "str", "bytes", "list", "tuple", "set", "frozenset", "dict", "smallint", "smallint"];
  switch (pick(kinds)) {
    case "smallint":
      return ["i", String(pick([0, 1, 2, -1, 3]))];
    case "int":
      return ["i", pick(["0", "1", "-7", "9007199254740993", "-123456789012345678901234567890", "2", "10"])];
    case "float":
      return ["f", pick(["0.0", "-0.0", "1.0", "2.5", "nan", "inf", "-inf", "9007199254740992.0", "0.1", "1e+300", "-3.0"])];
    case "bool":
      return r() < 0.5;
    case "none":
      return null;
    case "str":
      return pick(["", "a", "ab", "b", "é", "😀", "\uffff", "A", "abc"]);
    case "bytes":
      return ["b", pick(["", "61", "6162", "ff", "00"])];
    case "list":
      return ["l", ...Array.from({ length: Math.floor(r() * 3) }, () => generate(r, depth + 1))];
    case "tuple":
      return ["t", ...Array.from({ length: Math.floor(r() * 3) }, () => generate(r, depth + 1, hashable))];
    case "set":
      return ["s", ...Array.from({ length: Math.floor(r() * 3) }, () => generate(r, depth + 1, true))];
    case "frozenset":
      return ["fs", ...Array.from({ length: Math.floor(r() * 3) }, () => generate(r, depth + 1, true))];
    default:
      return ["d", ...Array.from({ length: Math.floor(r() * 3) }, () => [generate(r, depth + 1, true), generate(r, depth + 1)])];
  }
}

const PY = String.raw`
import json, math, sys
def dec(x):
    if x is None or x is True or x is False or type(x) is str: return x
    t = x[0]
    if t == "i": return int(x[1])
    if t == "f": return float(x[1])
    if t == "l": return [dec(y) for y in x[1:]]
    if t == "t": return tuple(dec(y) for y in x[1:])
    if t == "s": return set(dec(y) for y in x[1:])
    if t == "fs": return frozenset(dec(y) for y in x[1:])
    if t == "d": return {dec(k): dec(v) for k, v in x[1:]}
    if t == "b": return bytes.fromhex(x[1])
def enc(v):
    t = type(v)
    if v is None or t is bool or t is str: return v
    if t is int: return ["i", str(v)]
    if t is float: return ["f", repr(v)]
    if t in (list, tuple): return ["l" if t is list else "t"] + [enc(x) for x in v]
    raise TypeError("cannot encode " + t.__name__)
OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
       "in": lambda a, b: a in b, "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
       "isclose": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)}
FNS = {"len": len, "tuple": tuple, "list": list, "sorted": sorted, "bool": bool, "set": lambda v: sorted(set(v), key=repr), "truth": lambda v: not not v}
out = []
for case in json.load(sys.stdin):
    try:
        if case[0] == "op":
            r = OPS[case[1]](dec(case[2]), dec(case[3]))
        else:
            r = FNS[case[1]](dec(case[2]))
        try:
            out.append(["ok", enc(r)])
        except TypeError:
            out.append(["ok", "unencodable"])
    except Exception as e:
        out.append(["raise", type(e).__name__])
print(json.dumps(out))
`;

function host(c: unknown[]): unknown[] {
  try {
    const v = (x: unknown) => decodePy(x);
    let r: PyValue;
    if (c[0] === "op") {
      const op = c[1] as string;
      if (["+", "-", "*", "/"].includes(op)) r = pyBinary(op as "+", v(c[2]), v(c[3]));
      else if (op === "isclose") r = pyIsclose(v(c[2]), v(c[3]), { t: "float", v: 1e-9 }, { t: "float", v: 1e-12 });
      else r = pyCompare(op, v(c[2]), v(c[3]));
    } else if (c[1] === "truth") r = pyTruthy(v(c[2]));
    else if (c[1] === "set") {
      // compare a set by its sorted repr on the Python side: here, by membership both ways
      return ["skip"];
    } else r = pyCall(c[1] as string, v(c[2]));
    const enc = (x: PyValue): unknown => {
      if (x === null || typeof x === "boolean" || typeof x === "string") return x;
      if (x.t === "int") return ["i", x.v.toString()];
      if (x.t === "float") return ["f", Number.isNaN(x.v) ? "nan" : x.v === Infinity ? "inf" : x.v === -Infinity ? "-inf" : x.v];
      if (x.t === "list" || x.t === "tuple") return [x.t === "list" ? "l" : "t", ...x.items.map(enc)];
      return "unencodable";
    };
    return ["ok", enc(r)];
  } catch (e) {
    if (e instanceof PyError) return ["raise", e.pyType];
    throw e;
  }
}

describe.skipIf(!existsSync(PYTHON))("Python semantics on the host", () => {
  it("agree with Python on thousands of random comparisons, operations and conversions", () => {
    const r = rng(2024);
    const cases: unknown[][] = [];
    const ops = ["==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "isclose"];
    for (let i = 0; i < 3000; i++) {
      const a = generate(r, 0);
      const b = r() < 0.3 ? a : generate(r, 0);
      cases.push(["op", ops[i % ops.length], a, b]);
    }
    for (let i = 0; i < 800; i++) {
      const fn = ["len", "tuple", "list", "sorted", "bool", "truth"][i % 6]!;
      const v = generate(r, 0);
      // a set's iteration order is Python's hash order: not something a test can rely on
      if ((fn === "tuple" || fn === "list") && Array.isArray(v) && (v[0] === "s" || v[0] === "fs" || v[0] === "d")) continue;
      cases.push(["fn", fn, v]);
    }
    const py = JSON.parse(execFileSync(PYTHON, ["-c", PY], { input: JSON.stringify(cases), maxBuffer: 64 * 1024 * 1024 }).toString()) as unknown[][];
    const norm = (x: unknown[]) => JSON.stringify(x, (_k, v) => (typeof v === "number" ? (Object.is(v, -0) ? "-0.0" : String(v)) : v)).replace(/\["f","(-?[0-9.e+-]+)"\]/g, (_m, n) => `["f","${Number(n)}"]`);
    const disagreements: string[] = [];
    cases.forEach((c, i) => {
      const h = host(c);
      if (h[0] === "skip" || (py[i]![0] === "ok" && py[i]![1] === "unencodable")) return;
      if (norm(h) !== norm(py[i]!)) disagreements.push(`${JSON.stringify(c)}: host ${JSON.stringify(h)}, python ${JSON.stringify(py[i])}`);
    });
    expect(disagreements.slice(0, 10)).toEqual([]);
    // the corpus exercised both outcomes and the exceptions
    expect(py.filter((x) => x[0] === "raise").length).toBeGreaterThan(100);
    expect(py.filter((x) => x[1] === true).length).toBeGreaterThan(300);
  });

  it("sets and dicts compare as Python's do (1, 1.0 and True are one key), in linear time", () => {
    const v = (x: unknown) => decodePy(x);
    expect(pyCompare("==", v(["s", ["i", "1"], ["f", "2.0"]]), v(["fs", true, ["i", "2"]]))).toBe(true);
    expect(pyCompare("==", v(["d", [["i", "1"], "a"]]), v(["d", [true, "a"]]))).toBe(true);
    expect(pyCompare("==", v(["s", ["f", "nan"]]), v(["s", ["f", "nan"]]))).toBe(false);
    const big = ["s", ...Array.from({ length: 200_000 }, (_, i) => ["i", String(i)])];
    expect(pyCompare("==", v(big), v(big))).toBe(true);
  });
});
