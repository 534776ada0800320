/**
 * Suggestions (Argilla's): for each question a queue names a source for, the latest feedback of that source on
 * the task's generations, turned into an answer to the question as the annotator sees the task. An annotator
 * accepts it with one key or answers otherwise; the record they submit says which (`metadata.suggestion`), and
 * the queue's statistics give the acceptance rate per question and source — how far humans agree with the judge.
 */
import type { Feedback, FeedbackInput, FeedbackOf } from "../feedback/index.js";
import type { QueueTask, Store } from "../store/index.js";
import type { Question, QueueDefinition, SuggestionSource, TaskSuggestion } from "./schema.js";

/** A suggestion with what a submitted record is compared with: the suggested value in the task's order. */
export interface ResolvedSuggestion extends TaskSuggestion {
  /** Index (in the task's generations) of the generation a per-generation suggestion is about. */
  taskIndex?: number;
  /** The suggested feedback value, with targets in the task's order (pairwise choice, ranks). */
  value: Record<string, unknown>;
}

const byRecency = (a: Feedback, b: Feedback) => {
  const ta = a.createdAt ? Date.parse(a.createdAt) : 0;
  const tb = b.createdAt ? Date.parse(b.createdAt) : 0;
  return tb - ta || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
};

/** A score on another scale, rescaled to the question's and snapped to its step. */
function rescale(score: number, from: { min: number; max: number }, q: Extract<Question, { kind: "rating" }>): number | undefined {
  const step = q.step ?? 1;
  const x = from.max > from.min ? q.min + ((score - from.min) / (from.max - from.min)) * (q.max - q.min) : score;
  const snapped = q.min + Math.round((x - q.min) / step) * step;
  const v = Number(snapped.toPrecision(12));
  return Number.isFinite(v) && v >= q.min && v <= q.max ? v : undefined;
}

/**
 * The answer (as submit takes it for one generation) that a record suggests for a per-generation question, and
 * its value in record terms; undefined when the record cannot answer it.
 */
function perGeneration(q: Question, f: Feedback): { answer: unknown; value: Record<string, unknown> } | undefined {
  switch (q.kind) {
    case "rating": {
      if (f.kind !== "rating") return undefined;
      const score = rescale(f.value.score, f.value.scale, q);
      return score === undefined ? undefined : { answer: { score }, value: { score } };
    }
    case "binary": {
      const ok = f.kind === "binary" ? f.value.ok : f.kind === "verification" ? f.value.passed : undefined;
      return ok === undefined ? undefined : { answer: { ok }, value: { ok } };
    }
    case "critique": {
      if (f.kind !== "critique") return undefined;
      const v = f.value;
      const answer = {
        text: v.text,
        ...(v.strengths?.length ? { strengths: v.strengths } : {}),
        ...(v.weaknesses?.length ? { weaknesses: v.weaknesses } : {}),
        ...(v.suggestions?.length ? { suggestions: v.suggestions } : {}),
        ...(v.verdict !== undefined && q.verdict !== false ? { verdict: v.verdict } : {}),
      };
      return { answer, value: answer };
    }
    case "span": {
      if (f.kind !== "spans") return undefined;
      const spans = f.value.spans.filter((s) => q.labels.includes(s.label)).map((s) => ({ start: s.start, end: s.end, label: s.label }));
      if (spans.length === 0 && f.value.spans.length > 0) return undefined;
      return { answer: { spans }, value: { spans } };
    }
    case "rubric": {
      if (f.kind !== "rubric") return undefined;
      const criteria: Record<string, boolean | { score: number }> = Object.create(null);
      for (const c of q.criteria) {
        const got = f.value.criteria.find((x) => x.name === c.id);
        if (!got) continue;
        if (c.maxScore !== undefined && got.score !== undefined) criteria[c.id] = { score: Math.max(0, Math.min(c.maxScore, got.score)) };
        else if (c.maxScore === undefined && got.passed !== undefined) criteria[c.id] = got.passed;
      }
      return Object.keys(criteria).length ? { answer: { criteria }, value: { criteria } } : undefined;
    }
    case "correction":
      return f.kind === "correction" ? { answer: { output: f.value.output }, value: { output: f.value.output } } : undefined;
    default:
      return undefined;
  }
}

/**
 * The suggestions of the queue's sources for a task shown in `shownOrder` (`shownOrder[slot]` is an index in
 * `task.generationIds`). One per question (and shown response, for per-response questions of several).
 */
export async function suggestionsFor(store: Store, project: string, d: QueueDefinition, task: QueueTask, shownOrder: readonly number[]): Promise<ResolvedSuggestion[]> {
  const wanted = d.suggestions ?? [];
  if (wanted.length === 0) return [];
  const out: ResolvedSuggestion[] = [];
  const gens = task.generationIds;
  const slotOf = (taskIndex: number) => shownOrder.indexOf(taskIndex);
  const cache = new Map<string, Feedback[]>();
  const fetch = async (src: SuggestionSource["source"]) => {
    const k = `${src.type}\u0000${src.id ?? ""}`;
    let got = cache.get(k);
    if (!got) cache.set(k, (got = (await store.queues.feedbackOnGenerations(project, gens, [src.type], src.id)).sort(byRecency)));
    return got;
  };
  for (const s of wanted) {
    const q = d.questions.find((x) => x.id === s.question);
    if (!q) continue;
    const records = await fetch(s.source);
    const sourceOf = (f: Feedback) => ({ type: f.source.type, id: f.source.id });
    if (q.kind === "pairwise") {
      if (gens.length !== 2) continue;
      const f = records.find((r): r is FeedbackOf<"pairwise"> => r.kind === "pairwise" && r.targets.length === 2 && r.targets.includes(gens[0]!) && r.targets.includes(gens[1]!));
      if (!f) continue;
      const winner = f.value.choice === "tie" ? undefined : f.targets[f.value.choice === "first" ? 0 : 1]!;
      const taskChoice = winner === undefined ? "tie" : winner === gens[0] ? "first" : "second";
      const shown = winner === undefined ? "tie" : slotOf(gens.indexOf(winner)) === 0 ? "first" : "second";
      if (shown === "tie" && q.allowTie === false) continue;
      out.push({ question: q.id, source: sourceOf(f), feedbackId: f.id, answer: { choice: shown }, value: { choice: taskChoice } });
      continue;
    }
    if (q.kind === "ranking") {
      const f = records.find((r): r is FeedbackOf<"ranking"> => r.kind === "ranking" && gens.every((g) => r.targets.includes(g)));
      if (!f) continue;
      const taskRanks = gens.map((g) => f.value.ranks[f.targets.indexOf(g)]!);
      // Dense ranks 1..k over the task's generations alone.
      const distinct = [...new Set(taskRanks)].sort((a, b) => a - b);
      const dense = taskRanks.map((r) => distinct.indexOf(r) + 1);
      out.push({ question: q.id, source: sourceOf(f), feedbackId: f.id, answer: { ranks: shownOrder.map((i) => dense[i]!) }, value: { ranks: dense } });
      continue;
    }
    for (let taskIndex = 0; taskIndex < gens.length; taskIndex++) {
      const f = records.find((r) => r.targets.length === 1 && r.targets[0] === gens[taskIndex] && perGeneration(q, r) !== undefined);
      if (!f) continue;
      const got = perGeneration(q, f)!;
      out.push({
        question: q.id,
        ...(gens.length > 1 ? { slot: slotOf(taskIndex) } : {}),
        taskIndex,
        source: sourceOf(f),
        feedbackId: f.id,
        answer: got.answer,
        value: got.value,
      });
    }
  }
  return out;
}

const sameSet = <T>(a: readonly T[], b: readonly T[], key: (x: T) => string) => {
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
};

/** Whether a submitted record keeps the suggestion (what counts is the answer, not its comment or strength). */
export function keepsSuggestion(f: Feedback, suggested: Record<string, unknown>): boolean {
  const s = suggested as { choice?: unknown; ranks?: unknown; score?: unknown; ok?: unknown; verdict?: unknown; text?: unknown; spans?: unknown; criteria?: unknown; output?: unknown };
  switch (f.kind) {
    case "pairwise":
      return f.value.choice === s.choice;
    case "ranking": {
      const ranks = s.ranks;
      return Array.isArray(ranks) && f.value.ranks.length === ranks.length && f.value.ranks.every((r, i) => r === ranks[i]);
    }
    case "rating":
      return f.value.score === s.score;
    case "binary":
      return f.value.ok === s.ok;
    case "critique":
      return s.verdict !== undefined ? f.value.verdict === s.verdict : f.value.text.trim() === String(s.text ?? "").trim();
    case "spans":
      return sameSet(f.value.spans, (s.spans ?? []) as { start: number; end: number; label: string }[], (x) => `${x.start}:${x.end}:${x.label}`);
    case "rubric": {
      const crit = (s.criteria ?? {}) as Record<string, boolean | { score: number }>;
      return Object.entries(crit).every(([name, want]) => {
        const got = f.value.criteria.find((c) => c.name === name);
        return got !== undefined && (typeof want === "boolean" ? got.passed === want : got.score === want.score);
      });
    }
    case "correction":
      return f.value.output === s.output;
    default:
      return false;
  }
}

/**
 * Marks each record that answers a question shown with a suggestion: `metadata.suggestion` says the source, the
 * suggested record and whether the answer kept it. `shownOrder` maps a per-generation record's slot to its generation.
 */
export function markSuggestions(records: FeedbackInput[], suggestions: readonly ResolvedSuggestion[], shownOrder: readonly number[]): void {
  if (suggestions.length === 0) return;
  for (const f of records) {
    const m = (f.metadata ?? {}) as Record<string, unknown>;
    const slot = typeof m.slot === "number" ? m.slot : undefined;
    const taskIndex = slot !== undefined ? shownOrder[slot] : 0;
    const s = suggestions.find((x) => x.question === m.questionId && (x.taskIndex === undefined || x.taskIndex === taskIndex));
    if (!s) continue;
    f.metadata = { ...m, suggestion: { source: s.source, feedbackId: s.feedbackId, accepted: keepsSuggestion(f as Feedback, s.value) } };
  }
}
