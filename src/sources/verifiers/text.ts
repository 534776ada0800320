/**
 * Verifiers over the text itself: exact and normalised match, regular expressions, JSON
 * validity against a JSON Schema (zod's `fromJSONSchema`), required and forbidden strings,
 * length limits.
 */
import { z } from "zod";
import { RlxfError } from "../../errors.js";
import { type UserRegex, compilePattern } from "../regex.js";
import type { VerificationResult, Verifier, VerifyInput } from "./types.js";

const result = (passed: boolean, score: number, details: VerificationResult["details"] = {}): VerificationResult => ({ passed, score, details });

/** The expected strings: the verifier's own, else the input's `reference` (a string or a list). */
function expectedOf(name: string, fixed: string | string[] | undefined, input: VerifyInput): string[] {
  const ref = fixed ?? (input.reference as string | string[] | undefined);
  if (typeof ref === "string") return [ref];
  if (Array.isArray(ref) && ref.every((r) => typeof r === "string")) return ref;
  throw new RlxfError("no_reference", `verifier "${name}": the expected answer (reference) must be a string or a list of strings`);
}

export interface ExactMatchOptions {
  name?: string;
  /** Accepted answers; default: the input's `reference`. */
  expected?: string | string[];
  /** Default true. */
  caseSensitive?: boolean;
  /** Ignore leading and trailing white space (default true). */
  trim?: boolean;
}

export function exactMatchVerifier(opts: ExactMatchOptions = {}): Verifier {
  const name = opts.name ?? "exact";
  const prep = (s: string) => {
    let t = opts.trim === false ? s : s.trim();
    if (opts.caseSensitive === false) t = t.toLowerCase();
    return t;
  };
  return {
    name,
    type: "exact",
    async verify(input) {
      const expected = expectedOf(name, opts.expected, input);
      const got = prep(input.completion);
      const hit = expected.findIndex((e) => prep(e) === got);
      return result(hit >= 0, hit >= 0 ? 1 : 0, hit >= 0 ? { matched: expected[hit] } : {});
    },
  };
}

/** SQuAD-style normalisation: lower case, no punctuation, no articles, single spaces. */
export function normalizeText(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, " ")
    .replace(/\b(a|an|the)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** Token-overlap F1 of two normalised strings. */
export function tokenF1(a: string, b: string): number {
  const ta = normalizeText(a).split(" ").filter(Boolean);
  const tb = normalizeText(b).split(" ").filter(Boolean);
  if (ta.length === 0 || tb.length === 0) return ta.length === tb.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of tb) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of ta) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      common++;
      counts.set(t, c - 1);
    }
  }
  if (common === 0) return 0;
  const p = common / ta.length;
  const r = common / tb.length;
  return (2 * p * r) / (p + r);
}

export interface NormalizedMatchOptions {
  name?: string;
  expected?: string | string[];
  /** Score by token F1 against the best expected answer instead of 1/0 (passed still needs a match). */
  partialCredit?: boolean;
}

export function normalizedMatchVerifier(opts: NormalizedMatchOptions = {}): Verifier {
  const name = opts.name ?? "normalized";
  return {
    name,
    type: "normalized",
    async verify(input) {
      const expected = expectedOf(name, opts.expected, input);
      const got = normalizeText(input.completion);
      const hit = expected.findIndex((e) => normalizeText(e) === got);
      if (hit >= 0) return result(true, 1, { matched: expected[hit], normalized: got });
      const score = opts.partialCredit ? Math.max(0, ...expected.map((e) => tokenF1(input.completion, e))) : 0;
      return result(false, score, { normalized: got });
    },
  };
}

export interface RegexOptions {
  name?: string;
  /** JavaScript syntax, run by a linear-time engine (RE2): no backreferences or lookaround. */
  pattern: string;
  /** `i`, `m`, `s` (`g` and `u` change nothing). */
  flags?: string;
  /** `search` (default): anywhere in the text; `full`: the whole text (trimmed) must match. */
  mode?: "search" | "full";
}

/** Longest text whose match and groups a regex verifier reports in its details (the verdict holds for any length). */
export const MATCH_DETAILS_CHARS = 100_000;

export function regexVerifier(opts: RegexOptions): Verifier {
  const name = opts.name ?? "regex";
  // A bad pattern is a ValidationError naming `pattern` (or `flags`), before any wrapping.
  compilePattern(opts.pattern, opts.flags ?? "", {}, `verifier "${name}"`);
  const re: UserRegex = opts.mode === "full" ? compilePattern(`^(?:${opts.pattern})$`, opts.flags ?? "") : compilePattern(opts.pattern, opts.flags ?? "");
  return {
    name,
    type: "regex",
    async verify(input) {
      const text = opts.mode === "full" ? input.completion.trim() : input.completion;
      // The verdict comes from the engine's DFA (fast); locating the match and its groups takes the slower
      // NFA, so it is done only for texts up to MATCH_DETAILS_CHARS.
      if (!re.test(text)) return result(false, 0, {});
      const m = text.length <= MATCH_DETAILS_CHARS ? re.exec(text) : null;
      return result(true, 1, m ? { match: m[0].slice(0, 500), ...(m.groups ? { groups: m.groups } : {}) } : {});
    },
  };
}

/** The JSON in a completion: the whole text, else the last ```json fence, else the outermost {...} or [...]. */
export function jsonFromCompletion(text: string): { value?: unknown; error?: string } {
  const attempts: string[] = [text.trim()];
  const fences = [...text.matchAll(/```(?:json)?[^\n]*\n([\s\S]*?)```/gi)];
  if (fences.length) attempts.push(fences[fences.length - 1]![1]!.trim());
  const first = text.search(/[[{]/);
  const last = Math.max(text.lastIndexOf("}"), text.lastIndexOf("]"));
  if (first >= 0 && last > first) attempts.push(text.slice(first, last + 1));
  let error = "no JSON found";
  for (const a of attempts) {
    if (!a) continue;
    try {
      return { value: JSON.parse(a) };
    } catch (e) {
      error = (e as Error).message;
    }
  }
  return { error };
}

export interface JsonSchemaOptions {
  name?: string;
  /** A JSON Schema; default: the input's `reference`. None: any valid JSON passes. */
  schema?: Record<string, unknown> | boolean;
  /** Only the whole completion counts as JSON, no fences or surrounding text (default false). */
  strict?: boolean;
}

export function jsonSchemaVerifier(opts: JsonSchemaOptions = {}): Verifier {
  const name = opts.name ?? "json-schema";
  const build = (schema: unknown): z.ZodType => {
    try {
      return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (e) {
      throw new RlxfError("invalid_config", `verifier "${name}": unsupported JSON Schema: ${(e as Error).message}`);
    }
  };
  const fixed = opts.schema !== undefined ? build(opts.schema) : undefined;
  return {
    name,
    type: "json-schema",
    async verify(input) {
      const schema = fixed ?? (input.reference !== undefined ? build(input.reference) : undefined);
      let parsed: { value?: unknown; error?: string };
      if (opts.strict) {
        try {
          parsed = { value: JSON.parse(input.completion) };
        } catch (e) {
          parsed = { error: (e as Error).message };
        }
      } else parsed = jsonFromCompletion(input.completion);
      if (parsed.error !== undefined) return result(false, 0, { error: `not JSON: ${parsed.error}` });
      if (!schema) return result(true, 1, {});
      const r = schema.safeParse(parsed.value);
      if (r.success) return result(true, 1, {});
      const issues = r.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`);
      return result(false, 0, { error: issues.join("; "), issues });
    },
  };
}

export interface ContainsOptions {
  name?: string;
  /** Every one of these must appear. */
  all?: string[];
  /** At least one of these must appear. */
  any?: string[];
  /** Default false. */
  caseSensitive?: boolean;
}

/** Required strings; score: the fraction of `all` found (times 0 when `any` finds none). */
export function containsVerifier(opts: ContainsOptions): Verifier {
  const name = opts.name ?? "contains";
  const all = opts.all ?? [];
  const any = opts.any ?? [];
  if (all.length === 0 && any.length === 0) throw new RlxfError("invalid_config", `verifier "${name}": give "all" or "any"`);
  const prep = (s: string) => (opts.caseSensitive ? s : s.toLowerCase());
  return {
    name,
    type: "contains",
    async verify(input) {
      const text = prep(input.completion);
      const missing = all.filter((s) => !text.includes(prep(s)));
      const anyOk = any.length === 0 || any.some((s) => text.includes(prep(s)));
      const score = (all.length ? (all.length - missing.length) / all.length : 1) * (anyOk ? 1 : 0);
      const passed = missing.length === 0 && anyOk;
      const details: VerificationResult["details"] = {};
      if (missing.length) details.missing = missing;
      if (!anyOk) details.error = `none of ${JSON.stringify(any)} found`;
      else if (missing.length) details.error = `missing ${JSON.stringify(missing)}`;
      return result(passed, score, details);
    },
  };
}

export interface ExcludesOptions {
  name?: string;
  /** None of these may appear. */
  none: string[];
  caseSensitive?: boolean;
}

export function excludesVerifier(opts: ExcludesOptions): Verifier {
  const name = opts.name ?? "excludes";
  const prep = (s: string) => (opts.caseSensitive ? s : s.toLowerCase());
  return {
    name,
    type: "excludes",
    async verify(input) {
      const text = prep(input.completion);
      const found = opts.none.filter((s) => text.includes(prep(s)));
      return result(found.length === 0, found.length === 0 ? 1 : 0, found.length ? { found, error: `contains ${JSON.stringify(found)}` } : {});
    },
  };
}

export interface LengthOptions {
  name?: string;
  minChars?: number;
  maxChars?: number;
  minWords?: number;
  maxWords?: number;
  minLines?: number;
  maxLines?: number;
}

export function lengthVerifier(opts: LengthOptions): Verifier {
  const name = opts.name ?? "length";
  return {
    name,
    type: "length",
    async verify(input) {
      const text = input.completion;
      const chars = [...text].length;
      const words = text.trim() ? text.trim().split(/\s+/).length : 0;
      const lines = text === "" ? 0 : text.split("\n").length;
      const problems: string[] = [];
      const check = (what: string, v: number, min?: number, max?: number) => {
        if (min !== undefined && v < min) problems.push(`${v} ${what} < ${min}`);
        if (max !== undefined && v > max) problems.push(`${v} ${what} > ${max}`);
      };
      check("characters", chars, opts.minChars, opts.maxChars);
      check("words", words, opts.minWords, opts.maxWords);
      check("lines", lines, opts.minLines, opts.maxLines);
      const details: VerificationResult["details"] = { chars, words, lines };
      if (problems.length) details.error = problems.join("; ");
      return result(problems.length === 0, problems.length === 0 ? 1 : 0, details);
    },
  };
}
