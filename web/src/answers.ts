/**
 * Between the screen's answers (one slot per question and shown response) and the API's
 * `answers` object. Slot values are what the widgets edit; API values follow the feedback kinds.
 */
import type { Answers, Question, ShownGeneration, Task } from "./types.js";

export interface Slot {
  /** `question`, or `question::slot` when a question is asked of each of several shown responses. */
  key: string;
  question: Question;
  /** The responses this slot is about, in the order shown. */
  generations: ShownGeneration[];
  /** Its index among the shown responses when it is about one of several. */
  shownIndex?: number;
  domId: string;
  title: string;
}

const COMPARE = new Set(["pairwise", "ranking"]);

export function slotsFor(task: Task): Slot[] {
  const out: Slot[] = [];
  const gens = task.generations;
  task.questions.forEach((q, qi) => {
    const base = { question: q, title: q.prompt };
    if (COMPARE.has(q.kind) || gens.length <= 1) {
      out.push({ ...base, key: q.id, generations: gens, domId: `q-${qi}` });
      return;
    }
    gens.forEach((g, i) => {
      out.push({ ...base, key: `${q.id}::${i}`, generations: [g], shownIndex: i, domId: `q-${qi}-${i}`, title: `${q.prompt} (response ${i + 1})` });
    });
  });
  return out;
}

const lines = (s: unknown): string[] =>
  typeof s === "string"
    ? s
        .split("\n")
        .map((x) => x.trim())
        .filter(Boolean)
    : [];

type V = Record<string, unknown>;

/** A slot's value as the feedback value of its kind, or undefined when it holds no answer. */
export function slotToValue(slot: Slot, raw: unknown): V | undefined {
  if (raw === undefined || raw === null) return undefined;
  const v = raw as V;
  const q = slot.question;
  switch (q.kind) {
    case "pairwise":
      return v.choice ? { choice: v.choice, ...(typeof v.strength === "number" && v.choice !== "tie" ? { strength: v.strength } : {}) } : undefined;
    case "ranking": {
      const order = (v.order as number[] | undefined) ?? [];
      if (order.length !== slot.generations.length) return undefined;
      return { ranks: slot.generations.map((_, i) => order.indexOf(i) + 1) };
    }
    case "rating":
      return typeof v.score === "number" ? { score: v.score } : undefined;
    case "binary":
      return typeof v.ok === "boolean" ? { ok: v.ok } : undefined;
    case "critique": {
      const out: V = { text: typeof v.text === "string" ? v.text.trim() : "" };
      for (const k of ["strengths", "weaknesses", "suggestions"]) if (lines(v[k]).length) out[k] = lines(v[k]);
      if (v.verdict === "pass" || v.verdict === "fail") out.verdict = v.verdict;
      return out.text || out.verdict || out.strengths || out.weaknesses || out.suggestions ? out : undefined;
    }
    case "span": {
      const spans = (v.spans as V[] | undefined) ?? [];
      return spans.length || v.none ? { spans } : undefined;
    }
    case "rubric": {
      // Pass/fail criteria are checked; criteria with a maxScore get a score from 0 to it.
      const checks = (v.checks as Record<string, boolean | number> | undefined) ?? {};
      const criteria: Record<string, boolean | { score: number }> = Object.create(null);
      for (const c of q.criteria ?? []) {
        const x = own(checks, c.id);
        if (c.maxScore !== undefined ? typeof x === "number" : typeof x === "boolean") criteria[c.id] = typeof x === "number" ? { score: x } : x!;
      }
      return Object.keys(criteria).length ? { criteria } : undefined;
    }
    case "correction":
      return typeof v.output === "string" ? { output: v.output, ...(typeof v.comment === "string" && v.comment.trim() ? { comment: v.comment.trim() } : {}) } : undefined;
  }
  return undefined;
}

function valueToSlot(slot: Slot, value: unknown): unknown {
  if (!value || typeof value !== "object") return undefined;
  const v = value as V;
  switch (slot.question.kind) {
    case "ranking": {
      const ranks = v.ranks as number[] | undefined;
      if (!Array.isArray(ranks)) return undefined;
      return { order: ranks.map((r, i) => [r, i] as const).sort((a, b) => a[0] - b[0]).map(([, i]) => i) };
    }
    case "critique":
      return { ...v, strengths: (v.strengths as string[] | undefined)?.join("\n"), weaknesses: (v.weaknesses as string[] | undefined)?.join("\n"), suggestions: (v.suggestions as string[] | undefined)?.join("\n") };
    case "rubric": {
      const checks: Record<string, boolean | number> = Object.create(null);
      for (const [id, c] of Object.entries((v.criteria as Record<string, boolean | { passed?: boolean; score?: number }> | undefined) ?? {})) {
        const x = typeof c === "boolean" ? c : (c.score ?? c.passed);
        if (typeof x === "boolean" || typeof x === "number") checks[id] = x;
      }
      return { checks };
    }
    case "span":
      return { spans: v.spans ?? [], none: Array.isArray(v.spans) && v.spans.length === 0 };
    default:
      return v;
  }
}

/** Whether a required slot has an answer. */
export function isAnswered(slot: Slot, raw: unknown): boolean {
  const v = slotToValue(slot, raw);
  if (!v) return false;
  if (slot.question.kind === "rubric") return Object.keys(v.criteria as object).length === (slot.question.criteria ?? []).length;
  return true;
}

/** A copy of `o` without a prototype: lookups by question id never find inherited keys. */
export const keyed = <T>(o: Record<string, T> = {}): Record<string, T> => Object.assign(Object.create(null) as Record<string, T>, o);

/** `o[k]` when `o` has it as its own key (never an inherited `constructor` or `toString`). */
const own = <T>(o: Record<string, T>, k: string): T | undefined => (Object.hasOwn(o, k) ? o[k] : undefined);

/**
 * The API's answers: `answers[questionId]` is the value for a question comparing the responses
 * or about the only one, and an array by shown position (null where unanswered) for a question
 * asked of each of several responses.
 */
export function toApiAnswers(task: Task, slots: Record<string, unknown>): Answers {
  // Keyed by question ids: no inherited keys (an id such as "constructor" is an ordinary key here).
  const out: Answers = Object.create(null);
  const n = task.generations.length;
  for (const s of slotsFor(task)) {
    const v = slotToValue(s, own(slots, s.key));
    if (s.key === s.question.id) {
      if (v) out[s.question.id] = v;
      continue;
    }
    const per = (out[s.question.id] ??= new Array(n).fill(null)) as unknown[];
    per[s.shownIndex!] = v ?? null;
  }
  // A question with no answer at all is left out (the server then says which required ones are missing).
  for (const [k, v] of Object.entries(out)) if (Array.isArray(v) && v.every((x) => x === null)) delete out[k];
  return out;
}

export function fromApiAnswers(task: Task, answers: Answers): Record<string, unknown> {
  const slots: Record<string, unknown> = Object.create(null);
  for (const s of slotsFor(task)) {
    const a = own(answers, s.question.id);
    if (a === undefined || a === null) continue;
    const v = s.key === s.question.id ? a : Array.isArray(a) ? a[s.shownIndex!] : undefined;
    const slot = valueToSlot(s, v);
    if (slot !== undefined) slots[s.key] = slot;
  }
  return slots;
}
