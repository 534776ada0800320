/**
 * Running one judgement: render the prompt, call the model, parse the answer;
 * an answer that cannot be parsed is asked for again (a new sample, so the
 * cache does not hand back the same answer) up to the config's `retries`, and
 * then the judgement fails with every raw answer kept. Nothing here invents a
 * label.
 */
import { ProviderError } from "../providers/index.js";
import type { ChatMessage, ChatModel, ChatRequest, ChatResponse } from "../providers/index.js";
import type { FailureReason } from "../store/index.js";
import type { CriterionSpec, JudgeConfig, PairwiseOrder } from "./config.js";
import { seededUnit } from "./hash.js";
import {
  type CritiqueParsed,
  type Parsed,
  type ReferenceParsed,
  type StepsParsed,
  parseChecklist,
  parseCritique,
  parsePairwise,
  parseReference,
  parseRubric,
  parseSteps,
} from "./parse.js";
import { renderMessages } from "./template.js";

export const DEFAULT_RETRIES = 2;

/** A judgement that produced nothing usable. */
export interface Failed {
  ok: false;
  reason: FailureReason;
  error: string;
  /** Every raw answer received, in order. */
  raw: string[];
  /** Model calls made. */
  attempts: number;
}

interface Asked<V> {
  ok: true;
  value: V;
  raw: string[];
  attempts: number;
  response: ChatResponse;
}

export function messagesOf(config: JudgeConfig, vars: Record<string, string | undefined>): ChatMessage[] {
  const base: ChatMessage[] = typeof config.prompt === "string" ? [{ role: "user", content: config.prompt }] : config.prompt;
  return renderMessages(base, vars);
}

export function requestOf(config: JudgeConfig, messages: ChatMessage[], sample: number): ChatRequest {
  const c = config.completion ?? {};
  const req: ChatRequest = { messages, sample };
  if (c.model !== undefined) req.model = c.model;
  if (c.temperature !== undefined) req.temperature = c.temperature;
  if (c.maxTokens !== undefined) req.maxTokens = c.maxTokens;
  if (c.topP !== undefined) req.topP = c.topP;
  if (c.stop !== undefined) req.stop = c.stop;
  if (c.seed !== undefined) req.seed = c.seed;
  if (c.logprobs !== undefined) req.logprobs = c.logprobs;
  if (c.topLogprobs !== undefined) req.topLogprobs = c.topLogprobs;
  if (c.logitBias !== undefined) req.logitBias = c.logitBias;
  if (c.json !== undefined) req.json = c.json;
  if (c.extra !== undefined) req.extra = c.extra;
  return req;
}

/** What a retry adds after an answer that could not be parsed: the answer, and a request to follow the format. */
export function retryMessages(raw: string, error: string): ChatMessage[] {
  return [
    { role: "assistant", content: raw },
    { role: "user", content: `Your answer could not be read (${error}). Answer again, following the required output format exactly.` },
  ];
}

/**
 * Ask until an answer parses or the retries are spent. A retry shows the
 * model its unreadable answer and asks again (so even a deterministic model
 * gets a different request). Provider failures end it at once (the model
 * already retried them).
 */
export async function ask<V>(
  model: ChatModel,
  config: JudgeConfig,
  vars: Record<string, string | undefined>,
  parse: (r: ChatResponse) => Parsed<V>,
): Promise<Asked<V> | Failed> {
  const messages = messagesOf(config, vars);
  const retries = config.retries ?? DEFAULT_RETRIES;
  const raw: string[] = [];
  let lastError = "";
  for (let attempt = 0; attempt <= retries; attempt++) {
    let res: ChatResponse;
    const msgs = attempt === 0 ? messages : [...messages, ...retryMessages(raw[raw.length - 1]!, lastError)];
    try {
      res = await model.chat(requestOf(config, msgs, attempt));
    } catch (e) {
      if (e instanceof ProviderError) return { ok: false, reason: "provider_error", error: e.message, raw, attempts: attempt + 1 };
      throw e;
    }
    raw.push(res.text);
    const p = parse(res);
    if (p.ok) return { ok: true, value: p.value, raw, attempts: attempt + 1, response: res };
    lastError = p.error;
  }
  return { ok: false, reason: "unparseable", error: `${raw.length} answer(s) could not be parsed; last: ${lastError}`, raw, attempts: raw.length };
}

// -------------------------------------------------------------- pairwise ---

export interface PairInput {
  instruction: string;
  output_1: string;
  output_2: string;
  reference?: string;
}

/** One asked order. */
export interface Verdict {
  /** The outputs were shown as (output_2, output_1). */
  swapped: boolean;
  /** The preference mapped back to the original order (1: output_1 better ... 2: output_2 better). */
  preference: number;
  /** The raw answer that was parsed (earlier unparseable ones are in `rawAll`). */
  raw: string;
  /** Every raw answer of this order, the parsed one last. */
  rawAll: string[];
  fromLogprobs: boolean;
  cached: boolean;
}

export interface PairwiseJudgement {
  ok: true;
  /** AlpacaEval's preference in [1, 2]: 1 = output_1 better, 2 = output_2 better, 1.5 = tie. */
  preference: number;
  verdicts: Verdict[];
  attempts: number;
  /** The two outputs were identical, so no model was asked (preference 1.5). */
  identical?: boolean;
}

export interface PairwiseOptions {
  /** Overrides the config's `order`. */
  order?: PairwiseOrder;
  /** Seed of the position randomization; default 0. */
  seed?: number;
  /** Ask only these orders (true: shown swapped), whatever `order` says: the others are known already. */
  shown?: readonly boolean[];
}

/** The orders a pair is shown in: both, the original, or a seeded coin's (see `isSwapped`). */
export function shownOrders(order: PairwiseOrder, instruction: string, seed = 0): boolean[] {
  return order === "both" ? [false, true] : order === "fixed" ? [false] : [isSwapped(instruction, seed)];
}

/** Snap values within rounding error of a tie to 1.5, so averaged verdicts can tie exactly. */
export function snapPreference(p: number): number {
  if (Math.abs(p - 1.5) < 1e-9) return 1.5;
  // Drop float noise (3 - 1.7 = 1.2999999999999998) without losing real precision.
  return Math.min(2, Math.max(1, Math.round(p * 1e12) / 1e12));
}

/** Whether the outputs are shown swapped for this instruction: a seeded coin on the instruction, as AlpacaEval seeds it. */
export function isSwapped(instruction: string, seed = 0): boolean {
  return seededUnit("order", seed, instruction) < 0.5;
}

export async function judgePair(model: ChatModel, config: JudgeConfig, pair: PairInput, opts: PairwiseOptions = {}): Promise<PairwiseJudgement | Failed> {
  if (pair.output_1 === pair.output_2) return { ok: true, preference: 1.5, verdicts: [], attempts: 0, identical: true };
  const swaps = opts.shown ? [...opts.shown] : shownOrders(opts.order ?? config.order ?? "random", pair.instruction, opts.seed ?? 0);
  const asked = await Promise.all(
    swaps.map((swapped) =>
      ask(
        model,
        config,
        {
          instruction: pair.instruction,
          output_1: swapped ? pair.output_2 : pair.output_1,
          output_2: swapped ? pair.output_1 : pair.output_2,
          reference: pair.reference,
        },
        (r) => parsePairwise(config.parser, r),
      ).then((a) => ({ swapped, a })),
    ),
  );
  const attempts = asked.reduce((n, x) => n + x.a.attempts, 0);
  const failed = asked.find((x) => !x.a.ok);
  if (failed && !failed.a.ok) {
    const raw = asked.flatMap((x) => x.a.raw);
    const which = swaps.length > 1 ? ` (${failed.swapped ? "swapped" : "original"} order)` : "";
    return { ok: false, reason: failed.a.reason, error: failed.a.error + which, raw, attempts };
  }
  const verdicts: Verdict[] = asked.map(({ swapped, a }) => {
    const ok = a as Asked<{ preference: number; fromLogprobs: boolean }>;
    const shown = ok.value.preference;
    return {
      swapped,
      preference: snapPreference(swapped ? 3 - shown : shown),
      raw: ok.raw[ok.raw.length - 1]!,
      rawAll: ok.raw,
      fromLogprobs: ok.value.fromLogprobs,
      cached: ok.response.cached,
    };
  });
  const preference = snapPreference(verdicts.reduce((s, v) => s + v.preference, 0) / verdicts.length);
  return { ok: true, preference, verdicts, attempts };
}

// ---------------------------------------------------------------- rubric ---

export interface OutputInput {
  instruction: string;
  output: string;
  reference?: string;
  /** rubric: the criteria (or checklist questions) to grade against. */
  criteria?: CriterionSpec[];
  /** steps: the reasoning chain, one entry per step (else the output is split into lines). */
  steps?: string[];
}

export interface Criterion {
  name: string;
  description?: string;
  weight: number;
  maxScore: number;
}

export function normalizeCriteria(specs: readonly CriterionSpec[], config: JudgeConfig): Criterion[] {
  const max = config.scoring === "score" ? (config.maxScore ?? 10) : 1;
  return specs.map((s) =>
    typeof s === "string"
      ? { name: s, weight: 1, maxScore: max }
      : { name: s.name, ...(s.description ? { description: s.description } : {}), weight: s.weight ?? 1, maxScore: s.maxScore ?? max },
  );
}

export function criteriaText(criteria: readonly Criterion[], scoring: "pass" | "score"): string {
  return criteria
    .map((c, i) => `${i + 1}. ${c.name}${scoring === "score" ? ` (0-${c.maxScore})` : ""}${c.description ? `: ${c.description}` : ""}`)
    .join("\n");
}

export interface GradedCriterion {
  name: string;
  passed?: boolean;
  score?: number;
  maxScore?: number;
  weight: number;
  rationale?: string;
}

export interface RubricJudgement {
  ok: true;
  criteria: GradedCriterion[];
  /** Weighted mean of the criteria, each as a fraction of its best (pass = 1, fail = 0), in [0, 1]. */
  total: number;
  raw: string[];
  attempts: number;
  /** The checklist a model wrote first, when there was one. */
  checklist?: { raw: string[]; items: string[] };
}

export interface ChecklistJudgement {
  ok: true;
  items: string[];
  raw: string[];
  attempts: number;
}

export async function generateChecklist(model: ChatModel, config: JudgeConfig, input: { instruction: string; reference?: string }): Promise<ChecklistJudgement | Failed> {
  const a = await ask(model, config, { instruction: input.instruction, reference: input.reference }, (r) => parseChecklist(config.parser, r.text, config.maxItems ?? 10));
  if (!a.ok) return a;
  return { ok: true, items: a.value, raw: a.raw, attempts: a.attempts };
}

export function weightedTotal(criteria: readonly GradedCriterion[]): number {
  const frac = (c: GradedCriterion) => (c.passed !== undefined ? (c.passed ? 1 : 0) : (c.score ?? 0) / (c.maxScore ?? 1));
  const w = criteria.reduce((s, c) => s + c.weight, 0);
  if (w === 0) return criteria.reduce((s, c) => s + frac(c), 0) / criteria.length;
  return criteria.reduce((s, c) => s + c.weight * frac(c), 0) / w;
}

/**
 * Grade an output against criteria: the input's own, else the config's, else
 * a checklist the `checklist` config writes for this instruction first.
 */
export async function gradeRubric(
  model: ChatModel,
  config: JudgeConfig,
  input: OutputInput,
  opts: { checklist?: JudgeConfig } = {},
): Promise<RubricJudgement | Failed> {
  const scoring = config.scoring ?? "pass";
  let specs: CriterionSpec[] | undefined = input.criteria ?? config.criteria;
  let checklist: { raw: string[]; items: string[] } | undefined;
  let attempts = 0;
  if (!specs || specs.length === 0) {
    if (!opts.checklist) {
      return { ok: false, reason: "invalid", error: `judge "${config.name}" has no criteria: give the input "criteria" or set "criteria" or "checklist" in the config`, raw: [], attempts: 0 };
    }
    const gen = await generateChecklist(model, opts.checklist, input);
    attempts += gen.attempts;
    if (!gen.ok) return { ...gen, error: `writing the checklist: ${gen.error}` };
    checklist = { raw: gen.raw, items: gen.items };
    specs = gen.items;
  }
  const criteria = normalizeCriteria(specs, config);
  const a = await ask(
    model,
    config,
    { instruction: input.instruction, output: input.output, reference: input.reference, criteria: criteriaText(criteria, scoring) },
    (r) => parseRubric(r.text, criteria, scoring),
  );
  attempts += a.attempts;
  if (!a.ok) return { ...a, attempts, raw: [...(checklist?.raw ?? []), ...a.raw] };
  const graded: GradedCriterion[] = criteria.map((c, i) => {
    const g = a.value[i]!;
    return {
      name: c.name,
      ...(g.passed !== undefined ? { passed: g.passed } : {}),
      ...(g.score !== undefined ? { score: g.score, maxScore: c.maxScore } : {}),
      weight: c.weight,
      ...(g.rationale ? { rationale: g.rationale } : {}),
    };
  });
  return { ok: true, criteria: graded, total: weightedTotal(graded), raw: a.raw, attempts, ...(checklist ? { checklist } : {}) };
}

// -------------------------------------------------------------- critique ---

export interface CritiqueJudgement extends CritiqueParsed {
  ok: true;
  raw: string[];
  attempts: number;
}

export async function critique(model: ChatModel, config: JudgeConfig, input: OutputInput): Promise<CritiqueJudgement | Failed> {
  const a = await ask(model, config, { instruction: input.instruction, output: input.output, reference: input.reference }, (r) => parseCritique(r.text));
  if (!a.ok) return a;
  return { ok: true, ...a.value, raw: a.raw, attempts: a.attempts };
}

// ----------------------------------------------------------------- steps ---

export interface Step {
  text: string;
  /** UTF-16 offsets of the step in the output, end exclusive. */
  start: number;
  end: number;
}

/**
 * The steps of a reasoning chain and where each lies in the output: the
 * given steps (located in order in `output`, else the output is their lines
 * joined), or the output's paragraphs when it has blank-line breaks, else its
 * non-empty lines.
 */
export function splitSteps(input: { output?: string; steps?: string[] }): { output: string; steps: Step[] } {
  if (input.steps && input.steps.length) {
    if (input.output !== undefined) {
      const found: Step[] = [];
      let from = 0;
      for (const s of input.steps) {
        const i = input.output.indexOf(s, from);
        if (i < 0) break;
        found.push({ text: s, start: i, end: i + s.length });
        from = i + s.length;
      }
      if (found.length === input.steps.length) return { output: input.output, steps: found };
    }
    const output = input.steps.join("\n");
    const steps: Step[] = [];
    let at = 0;
    for (const s of input.steps) {
      steps.push({ text: s, start: at, end: at + s.length });
      at += s.length + 1;
    }
    return { output, steps };
  }
  const output = input.output ?? "";
  const sep = /\n\s*\n/.test(output.trim()) ? /\n\s*\n/g : /\n/g;
  const steps: Step[] = [];
  let last = 0;
  const push = (a: number, b: number) => {
    const seg = output.slice(a, b);
    const lead = seg.length - seg.trimStart().length;
    const text = seg.trim();
    if (text) steps.push({ text, start: a + lead, end: a + lead + text.length });
  };
  for (const m of output.matchAll(sep)) {
    push(last, m.index!);
    last = m.index! + m[0].length;
  }
  push(last, output.length);
  return { output, steps };
}

export interface StepsJudgement extends StepsParsed {
  ok: true;
  steps: Step[];
  raw: string[];
  attempts: number;
}

export async function critiqueSteps(model: ChatModel, config: JudgeConfig, input: OutputInput): Promise<StepsJudgement | Failed> {
  const { output, steps } = splitSteps(input);
  if (steps.length === 0) return { ok: false, reason: "invalid", error: "the reasoning chain has no steps", raw: [], attempts: 0 };
  const numbered = steps.map((s, i) => `Step ${i + 1}: ${s.text}`).join("\n");
  const a = await ask(model, config, { instruction: input.instruction, output, steps: numbered, reference: input.reference }, (r) =>
    parseSteps(config.parser, r.text, steps.length),
  );
  if (!a.ok) return a;
  return { ok: true, ...a.value, steps, raw: a.raw, attempts: a.attempts };
}

// ------------------------------------------------------------- reference ---

export const DEFAULT_SCALE = { min: 1, max: 10 };

export interface ReferenceJudgement extends ReferenceParsed {
  ok: true;
  scale: { min: number; max: number };
  raw: string[];
  attempts: number;
}

export async function gradeWithReference(model: ChatModel, config: JudgeConfig, input: OutputInput): Promise<ReferenceJudgement | Failed> {
  if (input.reference === undefined) return { ok: false, reason: "invalid", error: "reference-guided grading needs a reference answer", raw: [], attempts: 0 };
  const scale = config.scale ?? DEFAULT_SCALE;
  const a = await ask(model, config, { instruction: input.instruction, output: input.output, reference: input.reference }, (r) =>
    parseReference(config.parser, r.text, scale),
  );
  if (!a.ok) return a;
  return { ok: true, ...a.value, scale, raw: a.raw, attempts: a.attempts };
}
