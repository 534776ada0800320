/**
 * Regular expressions written by users (regex verifiers, judge-config parsers) run on RE2JS, a
 * pure-JavaScript port of RE2: matching takes time linear in the text, so no pattern can stall
 * the process the way `^(a+)+$` stalls a backtracking engine. Patterns use JavaScript syntax
 * (translated to RE2's); what a linear-time engine cannot express (backreferences, lookahead,
 * lookbehind) is rejected when the pattern is validated, with a message that says so.
 * Patterns written in rlxf's own code stay native `RegExp`s.
 */
import { RE2JS } from "re2js";
import { ValidationError } from "../errors.js";

/** The longest pattern accepted (characters): the engine is linear in the text, its constant grows with the pattern. */
export const MAX_PATTERN_LENGTH = 2000;

/** One match, shaped like `RegExpExecArray`: `[whole, ...groups]`, `index`, named `groups` (null prototype). */
export interface PatternMatch extends Array<string | undefined> {
  0: string;
  index: number;
  groups?: Record<string, string | undefined>;
}

/** A compiled user pattern. */
export interface UserRegex {
  readonly source: string;
  readonly flags: string;
  /** The first match, or null. */
  exec(text: string): PatternMatch | null;
  /** Every match, left to right (an empty match advances by one character). */
  matchAll(text: string): Iterable<PatternMatch>;
  test(text: string): boolean;
}

const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, g: 0, u: 0 };

/** What in `source` a linear-time engine cannot run, or undefined. */
function unsupported(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      const n = source[i + 1] ?? "";
      if (!inClass && /[1-9]/.test(n)) return `backreferences (\\${n}) are not supported`;
      if (!inClass && n === "k" && source[i + 2] === "<") return "named backreferences (\\k<...>) are not supported";
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(" && source[i + 1] === "?") {
      const rest = source.slice(i + 2, i + 4);
      if (rest.startsWith("=") || rest.startsWith("!")) return "lookahead ((?=...), (?!...)) is not supported";
      if (rest === "<=" || rest === "<!") return "lookbehind ((?<=...), (?<!...)) is not supported";
    }
  }
  return undefined;
}

const SYNTAX_NOTE = "patterns run on a linear-time engine (RE2 syntax): no backreferences or lookaround";

/** What is wrong with a pattern: in the pattern itself or in its flags. */
export interface PatternProblem {
  in: "pattern" | "flags";
  message: string;
}

function compileOrProblem(source: string, flags: string): { re: RE2JS } | PatternProblem {
  if (typeof flags !== "string") return { in: "flags", message: "must be a string" };
  let bits = 0;
  for (const f of flags) {
    const b = FLAG_BITS[f];
    if (b === undefined) return { in: "flags", message: `flag "${f}" is not supported (use i, m, s; g and u change nothing)` };
    bits |= b;
  }
  if (typeof source !== "string") return { in: "pattern", message: "must be a string" };
  if (source.length > MAX_PATTERN_LENGTH) return { in: "pattern", message: `at most ${MAX_PATTERN_LENGTH} characters (got ${source.length})` };
  const bad = unsupported(source);
  if (bad) return { in: "pattern", message: `${bad}: ${SYNTAX_NOTE}` };
  try {
    return { re: RE2JS.compile(RE2JS.translateRegExp(source), bits) };
  } catch (e) {
    const msg = (e as Error).message.replace(/^error parsing regexp: /, "");
    return { in: "pattern", message: `not a valid regular expression: ${msg} (${SYNTAX_NOTE})` };
  }
}

/** What is wrong with `source` and `flags` as a user pattern, or undefined when nothing is. */
export function patternProblem(source: string, flags = ""): PatternProblem | undefined {
  const r = compileOrProblem(source, flags);
  return "re" in r ? undefined : r;
}

/**
 * Compiles a user pattern; a bad one throws a ValidationError naming `fields.pattern` (default `pattern`)
 * or `fields.flags` (default `flags`).
 */
export function compilePattern(source: string, flags = "", fields: { pattern?: string; flags?: string } = {}, what = "pattern"): UserRegex {
  const r = compileOrProblem(source, flags);
  if (!("re" in r)) throw new ValidationError([{ path: r.in === "flags" ? (fields.flags ?? "flags") : (fields.pattern ?? "pattern"), message: r.message }], undefined, what);
  const re = r.re;
  const shape = (m: RegExpExecArray): PatternMatch => {
    // Named groups keep user-chosen names (`__proto__` too) as plain own properties.
    if (m.groups) m.groups = Object.assign(Object.create(null) as Record<string, string>, m.groups);
    return m as unknown as PatternMatch;
  };
  return {
    source,
    flags,
    exec(text) {
      const m = re.exec(text) as RegExpExecArray | null;
      return m ? shape(m) : null;
    },
    *matchAll(text) {
      for (const m of re.matchAll(text) as Iterable<RegExpExecArray>) yield shape(m);
    },
    test(text) {
      return re.test(text);
    },
  };
}

const cache = new Map<string, UserRegex>();

/** `compilePattern` with a small cache, for patterns used on every answer (judge parsers). */
export function cachedPattern(source: string, flags = "", fields: { pattern?: string; flags?: string } = {}): UserRegex {
  const k = `${flags}\u0000${source}`;
  let re = cache.get(k);
  if (re) return re;
  re = compilePattern(source, flags, fields);
  if (cache.size >= 256) cache.delete(cache.keys().next().value!);
  cache.set(k, re);
  return re;
}
