/**
 * Reading judges' answers. Every parser returns `{ok: true, value}` or
 * `{ok: false, error}`; it never guesses a default.
 */
import type { ChatResult, TokenLogprob } from "../providers/index.js";
import type { ParserConfig } from "./config.js";
import { type PatternMatch, cachedPattern } from "./regex.js";

export type Parsed<V> = { ok: true; value: V } | { ok: false; error: string };

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });
const short = (s: string, n = 80) => JSON.stringify(s.length > n ? `${s.slice(0, n)}…` : s);

// ------------------------------------------------------------------ JSON ---

/** The end (exclusive) of the balanced JSON value starting at `start` (`{` or `[`), honouring strings; -1 if none. */
function balancedEnd(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") stack.push(c === "{" ? "}" : "]");
    else if (c === "}" || c === "]") {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i + 1;
    }
  }
  return -1;
}

/** The first JSON object or array in a model's answer (inside a ``` fence or not); undefined when there is none. */
export function extractJson(text: string): unknown {
  const fence = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(text);
  const sources = fence ? [fence[1]!, text] : [text];
  for (const src of sources) {
    for (let i = 0; i < src.length; i++) {
      const c = src[i];
      if (c !== "{" && c !== "[") continue;
      const end = balancedEnd(src, i);
      if (end < 0) continue;
      try {
        return JSON.parse(src.slice(i, end));
      } catch {
        // try the next opening bracket
      }
    }
  }
  return undefined;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The value of the first of `keys` present (case-insensitive), else undefined. */
function field(o: Record<string, unknown>, ...keys: string[]): unknown {
  const lower = new Map(Object.keys(o).map((k) => [k.toLowerCase(), k]));
  for (const k of keys) {
    const real = lower.get(k.toLowerCase());
    if (real !== undefined) return o[real];
  }
  return undefined;
}

function asBool(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (typeof v === "number" && (v === 0 || v === 1)) return v === 1;
  if (typeof v === "string") {
    const s = v.trim().toLowerCase();
    if (["yes", "true", "pass", "passed", "y", "1", "correct", "met"].includes(s)) return true;
    if (["no", "false", "fail", "failed", "n", "0", "incorrect", "not met"].includes(s)) return false;
  }
  return undefined;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

function asStrings(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v.trim() ? [v.trim()] : [];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return (v as string[]).map((x) => x.trim()).filter(Boolean);
  return undefined;
}

// ----------------------------------------------------------------- regex ---

interface Hit {
  key: string;
  index: number;
  match: PatternMatch;
}

/** Every match of every named pattern, in answer order (patterns come from configs: a linear-time engine runs them). */
function regexHits(text: string, patterns: Record<string, string>, flags = "i"): Hit[] {
  const hits: Hit[] = [];
  for (const [key, src] of Object.entries(patterns)) {
    const re = cachedPattern(src, flags, { pattern: `parser.patterns.${key}`, flags: "parser.flags" });
    for (const m of re.matchAll(text)) hits.push({ key, index: m.index, match: m });
  }
  return hits.sort((a, b) => a.index - b.index);
}

function pickHit(hits: Hit[], pick: "first" | "last" = "last"): Hit | undefined {
  return pick === "first" ? hits[0] : hits[hits.length - 1];
}

// -------------------------------------------------------------- pairwise ---

export interface PairwiseParsed {
  /** AlpacaEval's preference in the order shown to the judge: 1 = first output better, 2 = second, 1.5 = tie. */
  preference: number;
  /** Read from token probabilities rather than the text. */
  fromLogprobs: boolean;
}

/** Probability mass on each side's tokens at the first position that offers any of them. */
export function logprobMass(logprobs: readonly TokenLogprob[], tokens: { "1": string[]; "2": string[] }): { p1: number; p2: number } | undefined {
  const one = new Set(tokens["1"].map((t) => t.trim()));
  const two = new Set(tokens["2"].map((t) => t.trim()));
  for (const pos of logprobs) {
    const alts = pos.top && pos.top.length ? pos.top : [{ token: pos.token, logprob: pos.logprob }];
    // The chosen token counts even when the server left it out of its top list.
    const all = alts.some((a) => a.token === pos.token) ? alts : [...alts, { token: pos.token, logprob: pos.logprob }];
    let p1 = 0;
    let p2 = 0;
    for (const a of all) {
      const t = a.token.trim();
      if (one.has(t)) p1 += Math.exp(a.logprob);
      else if (two.has(t)) p2 += Math.exp(a.logprob);
    }
    if (p1 + p2 > 0) return { p1, p2 };
    // Only skip positions that are pure whitespace or formatting before the answer token.
    if (pos.token.trim() !== "" && !/^[\s*_"'`([:.-]+$/.test(pos.token)) return undefined;
  }
  return undefined;
}

function pairwiseFromRegex(text: string, p: { patterns: Record<string, string>; flags?: string; pick?: "first" | "last" }): Parsed<PairwiseParsed> {
  const hit = pickHit(regexHits(text, p.patterns, p.flags), p.pick);
  if (!hit) return fail(`no verdict found in ${short(text)}`);
  const preference = hit.key === "1" ? 1 : hit.key === "2" ? 2 : hit.key === "tie" ? 1.5 : NaN;
  if (Number.isNaN(preference)) return fail(`pattern "${hit.key}" is not 1, 2 or tie`);
  return { ok: true, value: { preference, fromLogprobs: false } };
}

function pairwiseFromRanking(text: string, models = { "1": "model_1", "2": "model_2" }): Parsed<PairwiseParsed> {
  const ranks = new Map<string, number>();
  const re = /["']?model["']?\s*:\s*["']([^"']+)["']\s*,\s*["']?rank["']?\s*:\s*["']?(\d+)/gi;
  for (let m = re.exec(text); m; m = re.exec(text)) if (!ranks.has(m[1]!)) ranks.set(m[1]!, Number(m[2]));
  // Also accept rank before model.
  const re2 = /["']?rank["']?\s*:\s*["']?(\d+)["']?\s*,\s*["']?model["']?\s*:\s*["']([^"']+)["']/gi;
  for (let m = re2.exec(text); m; m = re2.exec(text)) if (!ranks.has(m[2]!)) ranks.set(m[2]!, Number(m[1]));
  const r1 = ranks.get(models["1"]);
  const r2 = ranks.get(models["2"]);
  if (r1 === undefined || r2 === undefined) return fail(`no ranking of ${models["1"]} and ${models["2"]} in ${short(text)}`);
  if (r1 === r2) return { ok: true, value: { preference: 1.5, fromLogprobs: false } };
  return { ok: true, value: { preference: r1 < r2 ? 1 : 2, fromLogprobs: false } };
}

function pairwiseFromJson(text: string): Parsed<PairwiseParsed> {
  const v = extractJson(text);
  if (!isObj(v)) return fail(`no JSON object in ${short(text)}`);
  const w = field(v, "preference", "winner", "better", "verdict", "choice");
  const s = typeof w === "number" ? String(w) : typeof w === "string" ? w.trim().toLowerCase() : "";
  if (["1", "a", "first", "output_1", "output (a)"].includes(s)) return { ok: true, value: { preference: 1, fromLogprobs: false } };
  if (["2", "b", "second", "output_2", "output (b)"].includes(s)) return { ok: true, value: { preference: 2, fromLogprobs: false } };
  if (["tie", "1.5", "equal", "both", "neither"].includes(s)) return { ok: true, value: { preference: 1.5, fromLogprobs: false } };
  const n = asNumber(w);
  if (n !== undefined && n >= 1 && n <= 2) return { ok: true, value: { preference: n, fromLogprobs: false } };
  return fail(`the JSON answer names no winner (expected "preference": 1, 2 or "tie") in ${short(text)}`);
}

export function parsePairwise(parser: ParserConfig, res: ChatResult): Parsed<PairwiseParsed> {
  switch (parser.type) {
    case "regex":
      return pairwiseFromRegex(res.text, parser);
    case "ranking":
      return pairwiseFromRanking(res.text, parser.models);
    case "json":
      return pairwiseFromJson(res.text);
    case "logprob": {
      const mass = res.logprobs && res.logprobs.length ? logprobMass(res.logprobs, parser.tokens) : undefined;
      if (mass) {
        const p2 = mass.p2 / (mass.p1 + mass.p2);
        const preference = parser.binarize ? (p2 > 0.5 ? 2 : p2 < 0.5 ? 1 : 1.5) : 1 + p2;
        return { ok: true, value: { preference, fromLogprobs: true } };
      }
      if (parser.fallback) return pairwiseFromRegex(res.text, parser.fallback);
      const t = res.text.trim();
      if (parser.tokens["1"].some((x) => x.trim() === t)) return { ok: true, value: { preference: 1, fromLogprobs: false } };
      if (parser.tokens["2"].some((x) => x.trim() === t)) return { ok: true, value: { preference: 2, fromLogprobs: false } };
      return fail(`expected one of ${[...parser.tokens["1"], ...parser.tokens["2"]].map((x) => JSON.stringify(x)).join(", ")}, got ${short(t)}`);
    }
    default:
      return fail(`a pairwise judge cannot use the ${parser.type} parser`);
  }
}

// ---------------------------------------------------------------- rubric ---

export interface CriterionRequest {
  name: string;
  maxScore: number;
}

export interface CriterionParsed {
  passed?: boolean;
  score?: number;
  rationale?: string;
}

/**
 * A rubric answer: `{"criteria": [{"id": 1, "passed": true, "rationale": "..."}]}`
 * (or a bare array), one entry per requested criterion, found by `id` (1-based),
 * `name`, or position when the counts match. Every criterion must be graded.
 */
export function parseRubric(text: string, criteria: readonly CriterionRequest[], scoring: "pass" | "score"): Parsed<CriterionParsed[]> {
  const v = extractJson(text);
  const list = Array.isArray(v) ? v : isObj(v) ? field(v, "criteria", "checklist", "results", "items", "grades") : undefined;
  if (!Array.isArray(list)) return fail(`no JSON list of graded criteria in ${short(text)}`);
  const out: (CriterionParsed | undefined)[] = criteria.map(() => undefined);
  const byName = new Map(criteria.map((c, i) => [c.name.trim().toLowerCase(), i]));
  const entries = list.filter(isObj);
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    let i: number | undefined;
    const id = asNumber(field(e, "id", "index", "number", "criterion_id"));
    if (id !== undefined && Number.isInteger(id) && id >= 1 && id <= criteria.length) i = id - 1;
    const name = field(e, "name", "criterion", "question", "item");
    if (i === undefined && typeof name === "string") i = byName.get(name.trim().toLowerCase());
    if (i === undefined && entries.length === criteria.length) i = k;
    if (i === undefined || out[i] !== undefined) continue;
    const c: CriterionParsed = {};
    const rationale = field(e, "rationale", "reason", "explanation", "justification");
    if (typeof rationale === "string" && rationale.trim()) c.rationale = rationale.trim();
    if (scoring === "pass") {
      const passed = asBool(field(e, "passed", "pass", "met", "satisfied", "answer", "verdict", "result"));
      if (passed === undefined) return fail(`criterion ${i + 1} ("${criteria[i]!.name}") has no pass/fail verdict`);
      c.passed = passed;
    } else {
      const score = asNumber(field(e, "score", "points", "rating"));
      const max = criteria[i]!.maxScore;
      if (score === undefined) return fail(`criterion ${i + 1} ("${criteria[i]!.name}") has no numeric score`);
      if (score < 0 || score > max) return fail(`criterion ${i + 1} ("${criteria[i]!.name}") scored ${score}, outside 0..${max}`);
      c.score = score;
    }
    out[i] = c;
  }
  const missing = out.flatMap((c, i) => (c === undefined ? [i + 1] : []));
  if (missing.length) return fail(`criteria ${missing.join(", ")} were not graded`);
  return { ok: true, value: out as CriterionParsed[] };
}

// ------------------------------------------------------------- checklist ---

/** A checklist answer: a JSON list of strings (or `{"checklist": [...]}`), or with the `lines` parser one item per line. */
export function parseChecklist(parser: ParserConfig, text: string, maxItems = 10): Parsed<string[]> {
  let items: string[] | undefined;
  if (parser.type === "lines") {
    items = text
      .split(/\r?\n/)
      .map((l) => l.replace(/^\s*(?:[-*•]|\d+[.)]|\[\s?\])\s*/, "").trim())
      .filter((l) => l.length > 0);
  } else {
    const v = extractJson(text);
    const list = Array.isArray(v) ? v : isObj(v) ? field(v, "checklist", "items", "criteria", "questions") : undefined;
    if (Array.isArray(list)) {
      items = list
        .map((x) => (typeof x === "string" ? x : isObj(x) ? (field(x, "question", "item", "name", "criterion") as string) : undefined))
        .filter((x): x is string => typeof x === "string" && x.trim().length > 0)
        .map((x) => x.trim());
    }
  }
  if (!items || items.length === 0) return fail(`no checklist items in ${short(text)}`);
  return { ok: true, value: [...new Set(items)].slice(0, maxItems) };
}

// -------------------------------------------------------------- critique ---

export interface CritiqueParsed {
  text: string;
  strengths: string[];
  weaknesses: string[];
  suggestions: string[];
  verdict: "pass" | "fail";
}

export function parseCritique(text: string): Parsed<CritiqueParsed> {
  const v = extractJson(text);
  if (!isObj(v)) return fail(`no JSON object in ${short(text)}`);
  const verdict = asBool(field(v, "verdict", "passed", "pass", "acceptable"));
  if (verdict === undefined) return fail(`the critique has no verdict ("pass" or "fail") in ${short(text)}`);
  const strengths = asStrings(field(v, "strengths"));
  const weaknesses = asStrings(field(v, "weaknesses", "issues", "problems"));
  const suggestions = asStrings(field(v, "suggestions", "improvements", "fixes"));
  for (const [k, x] of [["strengths", strengths], ["weaknesses", weaknesses], ["suggestions", suggestions]] as const) {
    if (x === undefined) return fail(`the critique has no "${k}" list`);
  }
  const summary = field(v, "summary", "critique", "text", "overall");
  const body = typeof summary === "string" && summary.trim() ? summary.trim() : [...weaknesses!, ...strengths!].join(" ");
  return { ok: true, value: { text: body, strengths: strengths!, weaknesses: weaknesses!, suggestions: suggestions!, verdict: verdict ? "pass" : "fail" } };
}

// ----------------------------------------------------------------- steps ---

export interface StepsParsed {
  /** 1-based number of the first wrong step, null when every step is right. */
  firstErrorStep: number | null;
  explanation?: string;
}

function stepValue(v: unknown, nSteps: number): Parsed<number | null> {
  if (v === null) return { ok: true, value: null };
  if (typeof v === "string" && /^\s*(none|null|no error|n\/a)\s*$/i.test(v)) return { ok: true, value: null };
  const n = asNumber(v);
  if (n === undefined || !Number.isInteger(n)) return fail(`"${String(v)}" is not a step number`);
  if (n === 0 || n === -1) return { ok: true, value: null };
  if (n < 1 || n > nSteps) return fail(`step ${n} does not exist (the chain has ${nSteps} steps)`);
  return { ok: true, value: n };
}

export function parseSteps(parser: ParserConfig, text: string, nSteps: number): Parsed<StepsParsed> {
  if (parser.type === "regex") {
    const hit = pickHit(regexHits(text, parser.patterns, parser.flags), parser.pick);
    if (!hit) return fail(`no step verdict found in ${short(text)}`);
    const s = hit.key === "none" ? ({ ok: true, value: null } as const) : stepValue(hit.match[1] ?? hit.match[0], nSteps);
    if (!s.ok) return s;
    return { ok: true, value: { firstErrorStep: s.value, explanation: text.trim() } };
  }
  const v = extractJson(text);
  if (!isObj(v)) return fail(`no JSON object in ${short(text)}`);
  const keys = ["first_error_step", "first_wrong_step", "first_incorrect_step", "error_step", "step"];
  const has = keys.some((k) => field(v, k) !== undefined) || Object.keys(v).some((k) => keys.includes(k.toLowerCase()));
  if (!has) return fail(`the answer has no "first_error_step" in ${short(text)}`);
  const s = stepValue(field(v, ...keys) ?? null, nSteps);
  if (!s.ok) return s;
  const why = field(v, "explanation", "reason", "rationale", "why");
  return { ok: true, value: { firstErrorStep: s.value, ...(typeof why === "string" && why.trim() ? { explanation: why.trim() } : {}) } };
}

// ------------------------------------------------------------- reference ---

export interface ReferenceParsed {
  score?: number;
  correct?: boolean;
  rationale?: string;
}

export function parseReference(parser: ParserConfig, text: string, scale: { min: number; max: number }): Parsed<ReferenceParsed> {
  const out: ReferenceParsed = {};
  if (parser.type === "regex") {
    const hits = regexHits(text, parser.patterns, parser.flags);
    const scoreHit = pickHit(hits.filter((h) => h.key === "score"), parser.pick);
    if (scoreHit) {
      const n = asNumber(scoreHit.match[1] ?? scoreHit.match[0]);
      if (n === undefined) return fail(`"${scoreHit.match[0]}" holds no number`);
      out.score = n;
    }
    const verdictHit = pickHit(hits.filter((h) => h.key === "correct" || h.key === "incorrect"), parser.pick);
    if (verdictHit) out.correct = verdictHit.key === "correct";
    if (out.score === undefined && out.correct === undefined) return fail(`no score or verdict found in ${short(text)}`);
    out.rationale = text.trim();
  } else {
    const v = extractJson(text);
    if (!isObj(v)) return fail(`no JSON object in ${short(text)}`);
    const score = field(v, "score", "rating", "grade");
    if (score !== undefined) {
      const n = asNumber(score);
      if (n === undefined) return fail(`score "${String(score)}" is not a number`);
      out.score = n;
    }
    const correct = field(v, "correct", "is_correct", "verdict", "matches_reference");
    if (correct !== undefined) {
      const b = asBool(correct);
      if (b === undefined) return fail(`"correct" must be true or false, got ${JSON.stringify(correct)}`);
      out.correct = b;
    }
    if (out.score === undefined && out.correct === undefined) return fail(`the answer has neither "score" nor "correct" in ${short(text)}`);
    const why = field(v, "rationale", "explanation", "reason");
    if (typeof why === "string" && why.trim()) out.rationale = why.trim();
  }
  if (out.score !== undefined && (out.score < scale.min || out.score > scale.max)) {
    return fail(`score ${out.score} lies outside the scale ${scale.min}..${scale.max}`);
  }
  return { ok: true, value: out };
}
