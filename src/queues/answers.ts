/**
 * From an annotator's answers to feedback records. Answers refer to what was shown ("first" = shown first,
 * per-generation answers by slot); records target the task's generations in the task's order, with the
 * shown order in their metadata, so position bias stays measurable. A correction also makes a generation.
 */
import { createHash } from "node:crypto";
import { type FieldIssue, zodIssues } from "../errors.js";
import { type Feedback, type FeedbackInput, type Generation, correctionToPairwise, rankingProblem } from "../feedback/index.js";
import type { Claim, QueueRecord, QueueTask } from "../store/index.js";
import { ANSWER_SCHEMAS, COMPARATIVE, QUEUE_ID_PREFIX, type Question } from "./schema.js";
import { definitionOf } from "./definition.js";

function feedbackId(queueId: string, taskId: string, annotator: string, questionId: string, index?: number): string {
  const id = `${QUEUE_ID_PREFIX}${queueId}:${taskId}:${annotator}:${questionId}${index !== undefined ? `:${index}` : ""}`;
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  if (id.length <= 400 && !/[\u0000-\u001f]/.test(id)) return id;
  return `${QUEUE_ID_PREFIX}${queueId}:${taskId}:${createHash("sha256").update(`${annotator}\u0000${questionId}\u0000${index ?? ""}`).digest("hex").slice(0, 32)}`;
}

export interface Built {
  feedback: FeedbackInput[];
  generations: Generation[];
  issues: FieldIssue[];
}

/**
 * The feedback records a submission makes. `answers` refer to what was shown: slot k is
 * `task.generationIds[claim.shownOrder[k]]`; records target generations in task order.
 */
export function buildRecords(args: {
  project: string;
  queue: QueueRecord;
  task: QueueTask;
  claim: Claim;
  annotator: string;
  submissionId: string;
  answers: Record<string, unknown>;
  generations: Generation[];
}): Built {
  const { project, queue, task, claim, annotator, answers, generations } = args;
  const questions = definitionOf(queue).questions;
  const out: Built = { feedback: [], generations: [], issues: [] };
  const issue = (path: string, message: string) => out.issues.push({ path: `answers.${path}`, message });
  const known = new Set(questions.map((q) => q.id));
  for (const k of Object.keys(answers)) if (!known.has(k)) issue(k, "no such question in this queue");

  const order = claim.shownOrder;
  const n = task.generationIds.length;
  const shownIds = order.map((i) => task.generationIds[i]!);
  const source = { type: "human" as const, id: annotator };
  const meta = (q: Question, extra: Record<string, unknown> = {}) => ({
    queueId: queue.id,
    taskId: task.id,
    questionId: q.id,
    submissionId: args.submissionId,
    shownOrder: shownIds,
    ...extra,
  });

  for (const q of questions) {
    const raw = Object.hasOwn(answers, q.id) ? answers[q.id] : undefined;
    if (raw === undefined || raw === null) {
      if (q.required !== false) issue(q.id, "is required");
      continue;
    }
    if (COMPARATIVE.has(q.kind)) {
      const r = ANSWER_SCHEMAS[q.kind].safeParse(raw);
      if (!r.success) {
        for (const i of zodIssues(r.error, q.id)) issue(i.path, i.message);
        continue;
      }
      if (q.kind === "pairwise") {
        const a = r.data as { choice: "first" | "second" | "tie"; strength?: number; comment?: string };
        if (a.choice === "tie" && q.allowTie === false) {
          issue(`${q.id}.choice`, "this question does not allow a tie");
          continue;
        }
        // "first" on screen is the generation shown in slot 0: map it back to the record's target order.
        const shownWinner = a.choice === "tie" ? undefined : a.choice === "first" ? 0 : 1;
        const choice = shownWinner === undefined ? "tie" : order[shownWinner] === 0 ? "first" : "second";
        out.feedback.push({
          id: feedbackId(queue.id, task.id, annotator, q.id),
          project,
          kind: "pairwise",
          itemId: task.itemId,
          targets: [...task.generationIds],
          source,
          value: { choice, ...(a.strength !== undefined ? { strength: a.strength } : {}), ...(a.comment ? { comment: a.comment } : {}) },
          metadata: meta(q, { shownChoice: a.choice }),
        });
      } else {
        const a = r.data as { ranks: number[]; comment?: string };
        if (a.ranks.length !== n) {
          issue(`${q.id}.ranks`, `needs one rank per shown generation (${n}), got ${a.ranks.length}`);
          continue;
        }
        const bad = rankingProblem(a.ranks);
        if (bad) {
          issue(`${q.id}.ranks${bad.index !== undefined ? `.${bad.index}` : ""}`, bad.message);
          continue;
        }
        const ranks = new Array<number>(n);
        order.forEach((taskIndex, slot) => (ranks[taskIndex] = a.ranks[slot]!));
        out.feedback.push({
          id: feedbackId(queue.id, task.id, annotator, q.id),
          project,
          kind: "ranking",
          itemId: task.itemId,
          targets: [...task.generationIds],
          source,
          value: { ranks, ...(a.comment ? { comment: a.comment } : {}) },
          metadata: meta(q, { shownRanks: a.ranks }),
        });
      }
      continue;
    }
    // One answer per shown generation: the value itself for one generation, an array by slot for several.
    let perSlot: unknown[];
    if (n === 1) perSlot = [Array.isArray(raw) && raw.length === 1 ? raw[0] : raw];
    else if (!Array.isArray(raw)) {
      issue(q.id, `must be an array with one answer per shown generation (${n}; null for none)`);
      continue;
    } else if (raw.length !== n) {
      issue(q.id, `must have one answer per shown generation (${n}), got ${raw.length}`);
      continue;
    } else perSlot = raw;
    if (q.required !== false && perSlot.some((x) => x === null || x === undefined)) {
      issue(n === 1 ? q.id : `${q.id}.${perSlot.findIndex((x) => x === null || x === undefined)}`, "is required");
      continue;
    }
    // Records in target order (slot order is the annotator's own).
    const slots = [...perSlot.keys()].sort((x, y) => order[x]! - order[y]!);
    slots.forEach((slot) => {
      const ans = perSlot[slot];
      if (ans === null || ans === undefined) return;
      const path = n === 1 ? q.id : `${q.id}.${slot}`;
      const r = ANSWER_SCHEMAS[q.kind].safeParse(ans);
      if (!r.success) {
        for (const i of zodIssues(r.error, path)) issue(i.path, i.message);
        return;
      }
      const taskIndex = order[slot]!;
      const target = task.generationIds[taskIndex]!;
      const gen = generations[taskIndex]!;
      const id = feedbackId(queue.id, task.id, annotator, q.id, n === 1 ? undefined : taskIndex);
      const common = { id, project, itemId: task.itemId, targets: [target], source, metadata: meta(q, n === 1 ? {} : { slot }) };
      const v = r.data as Record<string, unknown> | number | boolean;
      switch (q.kind) {
        case "rating": {
          const a = typeof v === "number" ? { score: v } : (v as { score: number; comment?: string });
          if (a.score < q.min || a.score > q.max) return issue(`${path}${typeof v === "number" ? "" : ".score"}`, `must be from ${q.min} to ${q.max}`);
          const step = q.step ?? 1;
          const k = (a.score - q.min) / step;
          if (Math.abs(k - Math.round(k)) > 1e-9) return issue(`${path}${typeof v === "number" ? "" : ".score"}`, `must be ${q.min} plus a multiple of ${step}`);
          out.feedback.push({
            ...common,
            kind: "rating",
            value: { score: a.score, scale: { min: q.min, max: q.max, ...(q.step !== undefined ? { step: q.step } : {}) }, dimension: q.dimension ?? q.id, ...(a.comment ? { comment: a.comment } : {}) },
          });
          return;
        }
        case "binary": {
          const a = typeof v === "boolean" ? { ok: v } : (v as { ok: boolean; comment?: string });
          out.feedback.push({ ...common, kind: "binary", value: { ok: a.ok, ...(a.comment ? { comment: a.comment } : {}) } });
          return;
        }
        case "critique": {
          const a = v as { text?: string; strengths?: string[]; weaknesses?: string[]; suggestions?: string[]; verdict?: "pass" | "fail" };
          const empty = !a.text?.trim() && !a.strengths?.length && !a.weaknesses?.length && !a.suggestions?.length && a.verdict === undefined;
          if (empty) return issue(path, "a critique needs text, strengths, weaknesses, suggestions or a verdict");
          if (a.verdict !== undefined && q.verdict === false) return issue(`${path}.verdict`, "this question asks for no verdict");
          const clean = (xs?: string[]) => xs?.map((s) => s.trim()).filter((s) => s !== "");
          out.feedback.push({
            ...common,
            kind: "critique",
            value: {
              text: a.text ?? "",
              ...(clean(a.strengths)?.length ? { strengths: clean(a.strengths) } : {}),
              ...(clean(a.weaknesses)?.length ? { weaknesses: clean(a.weaknesses) } : {}),
              ...(clean(a.suggestions)?.length ? { suggestions: clean(a.suggestions) } : {}),
              ...(a.verdict !== undefined ? { verdict: a.verdict } : {}),
            },
          });
          return;
        }
        case "span": {
          const a = v as { spans: { start: number; end: number; label: string; comment?: string }[] };
          let ok = true;
          a.spans.forEach((s, j) => {
            if (s.end <= s.start) {
              issue(`${path}.spans.${j}.end`, "must be greater than start (end is exclusive)");
              ok = false;
            } else if (s.end > gen.output.length) {
              issue(`${path}.spans.${j}.end`, `must be at most the output's length (${gen.output.length} UTF-16 code units)`);
              ok = false;
            }
            if (!q.labels.includes(s.label)) {
              issue(`${path}.spans.${j}.label`, `must be one of ${q.labels.join(", ")}`);
              ok = false;
            }
          });
          if (!ok) return;
          const spans = [...a.spans]
            .sort((x, y) => x.start - y.start || x.end - y.end)
            .map((s) => ({ start: s.start, end: s.end, label: s.label, ...(s.comment ? { comment: s.comment } : {}) }));
          out.feedback.push({ ...common, kind: "spans", value: { spans } });
          return;
        }
        case "rubric": {
          const a = v as { criteria: Record<string, boolean | { passed?: boolean; score?: number; rationale?: string }>; comment?: string };
          const ids = new Set(q.criteria.map((c) => c.id));
          let ok = true;
          for (const k of Object.keys(a.criteria)) {
            if (!ids.has(k)) {
              issue(`${path}.criteria.${k}`, "no such criterion in this question");
              ok = false;
            }
          }
          const criteria = [];
          for (const c of q.criteria) {
            const got = Object.hasOwn(a.criteria, c.id) ? a.criteria[c.id] : undefined;
            const entry = typeof got === "boolean" ? { passed: got } : got;
            if (!entry || (entry.passed === undefined && entry.score === undefined)) {
              issue(`${path}.criteria.${c.id}`, c.maxScore !== undefined ? `needs a score from 0 to ${c.maxScore}` : "needs passed: true or false");
              ok = false;
              continue;
            }
            if (entry.score !== undefined && (entry.score < 0 || entry.score > (c.maxScore ?? 1))) {
              issue(`${path}.criteria.${c.id}.score`, `must be from 0 to ${c.maxScore ?? 1}`);
              ok = false;
              continue;
            }
            criteria.push({
              name: c.id,
              ...(entry.passed !== undefined ? { passed: entry.passed } : {}),
              ...(entry.score !== undefined ? { score: entry.score } : {}),
              ...(c.maxScore !== undefined ? { maxScore: c.maxScore } : {}),
              ...(c.weight !== undefined ? { weight: c.weight } : {}),
              ...(entry.rationale ? { rationale: entry.rationale } : {}),
            });
          }
          if (!ok) return;
          out.feedback.push({ ...common, kind: "rubric", value: { criteria }, ...(a.comment ? { metadata: { ...common.metadata, comment: a.comment } } : {}) });
          return;
        }
        case "correction": {
          const a = v as { output: string; comment?: string };
          const record = { ...common, kind: "correction" as const, value: { output: a.output, ...(a.comment ? { comment: a.comment } : {}) } };
          out.feedback.push(record);
          // The edit becomes a generation of its own, as the correction conversion defines it.
          const { generation } = correctionToPairwise(record as Extract<Feedback, { kind: "correction" }>, gen);
          out.generations.push(generation);
          return;
        }
      }
    });
  }
  return out;
}
