/**
 * Review of a queue's answers. An annotator revisits their own submitted tasks and answers again: the new
 * records reference the ones they replace (`metadata.supersedes`) and supersede them in the store, so that
 * statistics and exports read the latest answer while every earlier one is kept. An admin sees every annotator's
 * answer to a task side by side and records an adjudicated label: feedback from `{type: "human", id: <admin>}`
 * with `metadata.adjudicates` (the annotators' records it settles), which supersedes those records for
 * exports and is the reference judges are compared with; agreement between annotators still reads their own
 * answers.
 */
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Feedback, Generation } from "../feedback/index.js";
import type { Claim, QueueRecord, QueueTask, Store, Supersession } from "../store/index.js";
import { buildRecords, queueFeedbackId } from "./answers.js";
import { definitionOf } from "./definition.js";
import type { MyTaskList, SubmitResult, TaskAnswers } from "./schema.js";
import { markSuggestions, suggestionsFor } from "./suggestions.js";

const promptText = (p: unknown): string =>
  typeof p === "string" ? p : Array.isArray(p) ? p.map((m) => `${(m as { role: string }).role}: ${String((m as { content: unknown }).content)}`).join("\n") : String(p);

/** An annotator's submitted tasks, most recently submitted (or revised) first. */
export async function myTasks(store: Store, project: string, q: QueueRecord, annotator: string, page: { offset: number; limit: number }): Promise<MyTaskList> {
  const { total, claims } = await store.queues.claimsOf(project, q.id, annotator, "submitted", page);
  const tasks = await Promise.all(claims.map((c) => store.queues.task(project, q.id, c.taskId)));
  const items = await Promise.all(tasks.map((t) => (t ? store.getItem(project, t.itemId) : undefined)));
  return {
    total,
    offset: page.offset,
    tasks: claims.flatMap((c, i) => {
      const t = tasks[i];
      if (!t) return [];
      const item = items[i];
      return [{ id: t.id, position: t.position, itemId: t.itemId, prompt: item ? promptText(item.prompt).slice(0, 200) : "", revision: c.revision, submittedAt: c.updatedAt }];
    }),
  };
}

async function generationsOf(store: Store, project: string, task: QueueTask): Promise<Generation[]> {
  const found = await Promise.all(task.generationIds.map((g) => store.getGeneration(project, g)));
  if (found.some((g) => g === undefined)) throw new ConflictError(`a generation of task "${task.id}" is no longer stored`);
  return found as Generation[];
}

const invalidAnswers = (issues: { path: string; message: string }[]) =>
  new ValidationError(issues, undefined, "answers", `invalid answers: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);

/** The question (and generation index) a queue record answers. */
function keyOf(f: Feedback, order: readonly number[]): string {
  const m = (f.metadata ?? {}) as Record<string, unknown>;
  const slot = typeof m.slot === "number" ? m.slot : undefined;
  return `${String(m.questionId)}\u0000${slot !== undefined ? order[slot] : ""}`;
}

/**
 * A new answer to a task the annotator submitted: records with new ids (`...:r<revision>`) that reference the ones
 * they replace; the earlier records stay, superseded. A retry with the same submission id stores nothing new.
 */
export async function reviseAnswers(
  store: Store,
  project: string,
  q: QueueRecord,
  annotator: string,
  taskId: string,
  body: { submissionId: string; answers: Record<string, unknown>; revision?: number },
  now: number,
): Promise<SubmitResult> {
  const task = await store.queues.task(project, q.id, taskId);
  const claim = task && (await store.queues.claim(project, q.id, taskId, annotator));
  if (!task || !claim) throw new NotFoundError(`task "${taskId}" of queue "${q.id}" not found among your tasks`);
  if (claim.status === "submitted" && claim.submissionId === body.submissionId) return { feedback: claim.feedbackIds ?? [], generations: [], replayed: true };
  if (claim.status !== "submitted") throw new ConflictError(`task "${taskId}" is ${claim.status === "locked" ? "not submitted yet: submit it" : "skipped"}; only submitted tasks can be revised`);
  if (body.revision !== undefined && body.revision !== claim.revision) {
    throw new ConflictError(`task "${taskId}" was revised meanwhile (revision ${claim.revision}, you edited ${body.revision}); reload it and edit again`);
  }
  const revision = claim.revision + 1;
  const generations = await generationsOf(store, project, task);
  const previous = await store.queues.feedbackByIds(project, claim.feedbackIds ?? []);
  const prevByKey = new Map(previous.map((f) => [keyOf(f, claim.shownOrder), f]));
  const built = buildRecords({
    project,
    queue: q,
    task,
    claim,
    annotator,
    submissionId: body.submissionId,
    answers: body.answers,
    generations,
    idOf: (questionId, taskIndex) => `${queueFeedbackId(q.id, task.id, annotator, questionId, taskIndex)}:r${revision}`,
    extraMeta: () => ({ revision }),
  });
  if (built.issues.length) throw invalidAnswers(built.issues);
  if (built.feedback.length === 0) throw invalidAnswers([{ path: "answers", message: "answer at least one question" }]);
  markSuggestions(built.feedback, await suggestionsFor(store, project, definitionOf(q), task, claim.shownOrder), claim.shownOrder);
  const supersedes: Supersession[] = [];
  const matched = new Set<string>();
  for (const f of built.feedback) {
    const old = prevByKey.get(keyOf(f as Feedback, claim.shownOrder));
    if (!old) continue;
    f.metadata = { ...f.metadata, supersedes: old.id };
    supersedes.push({ feedbackId: old.id, byId: f.id!, reason: "revision" });
    matched.add(old.id);
  }
  // An answer withdrawn (an optional question left blank this time) is superseded by the revision as a whole.
  for (const old of previous) if (!matched.has(old.id)) supersedes.push({ feedbackId: old.id, byId: built.feedback[0]!.id!, reason: "revision" });
  const ids = built.feedback.map((f) => f.id!);
  const r = await store.queues.revise(project, q.id, task.id, annotator, {
    submissionId: body.submissionId,
    records: { feedback: built.feedback, generations: built.generations },
    feedbackIds: ids,
    supersedes,
    answers: body.answers,
    revision,
    now,
  });
  if (r.status === "replayed") return { feedback: r.feedbackIds, generations: [], replayed: true };
  return { feedback: ids, generations: built.generations.map((g) => g.id), replayed: false };
}

/** A task as an admin reviews it: generations in the task's order with their policies, each annotator's latest records, and the adjudication. */
export async function taskAnswers(store: Store, project: string, q: QueueRecord, taskId: string): Promise<TaskAnswers> {
  const task = await store.queues.task(project, q.id, taskId);
  if (!task) throw new NotFoundError(`task "${taskId}" of queue "${q.id}" not found`);
  const item = await store.getItem(project, task.itemId);
  if (!item) throw new ConflictError(`the item of task "${task.id}" is no longer stored`);
  const generations = await generationsOf(store, project, task);
  const claims = await store.queues.claims(project, q.id, undefined, { taskIds: [task.id] });
  const feedback = await store.queues.feedbackByIds(project, claims.flatMap((c) => c.feedbackIds ?? []));
  const byId = new Map(feedback.map((f) => [f.id, f]));
  const adj = await store.queues.adjudication(project, q.id, task.id);
  const adjFeedback = adj ? await store.queues.feedbackByIds(project, adj.feedbackIds) : [];
  return {
    task: {
      id: task.id,
      position: task.position,
      queueId: q.id,
      item: { id: item.id, prompt: item.prompt, ...(item.reference !== undefined ? { reference: item.reference } : {}), ...(item.dataset !== undefined ? { dataset: item.dataset } : {}) },
      generations: generations.map((g) => ({ id: g.id, policy: g.policy, output: g.output })),
      questions: definitionOf(q).questions,
    },
    annotators: claims
      .filter((c) => c.status !== "locked" || (c.feedbackIds?.length ?? 0) > 0)
      .map((c: Claim) => ({
        annotator: c.annotator,
        status: c.status,
        revision: c.revision,
        updatedAt: c.updatedAt,
        feedback: (c.feedbackIds ?? []).flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])),
      })),
    ...(adj ? { adjudication: { adjudicator: adj.adjudicator, revision: adj.revision, answers: adj.answers, feedback: adjFeedback, updatedAt: adj.updatedAt } } : {}),
  };
}

/**
 * An admin's adjudicated answers to a task (in the task's order of generations): records from
 * `{type: "human", id: adjudicator}` with `metadata.adjudicates` naming the annotators' records they settle,
 * which they supersede (as they supersede an earlier adjudication of the task).
 */
export async function adjudicateTask(
  store: Store,
  project: string,
  q: QueueRecord,
  adjudicator: string,
  taskId: string,
  body: { submissionId: string; answers: Record<string, unknown>; revision?: number },
  now: number,
): Promise<SubmitResult> {
  const task = await store.queues.task(project, q.id, taskId);
  if (!task) throw new NotFoundError(`task "${taskId}" of queue "${q.id}" not found`);
  const before = await store.queues.adjudication(project, q.id, task.id);
  if (before?.submissionId === body.submissionId) return { feedback: before.feedbackIds, generations: [], replayed: true };
  if (body.revision !== undefined && body.revision !== (before?.revision ?? 0)) {
    throw new ConflictError(`task "${taskId}" was adjudicated meanwhile (revision ${before?.revision ?? 0}, you replaced ${body.revision}); reload it and adjudicate again`);
  }
  const revision = (before?.revision ?? 0) + 1;
  const generations = await generationsOf(store, project, task);
  const claims = await store.queues.claims(project, q.id, "submitted", { taskIds: [task.id] });
  const annotated = await store.queues.feedbackByIds(project, claims.flatMap((c) => c.feedbackIds ?? []));
  const orderOf = new Map(claims.map((c) => [c.annotator, c.shownOrder]));
  const identity = task.generationIds.map((_, i) => i);
  // The annotators' records by question and generation (index in the task).
  const settled = new Map<string, string[]>();
  for (const f of annotated) {
    const k = keyOf(f, orderOf.get(f.source.id) ?? identity);
    settled.set(k, [...(settled.get(k) ?? []), f.id]);
  }
  const asShown: Claim = { queueId: q.id, taskId: task.id, annotator: adjudicator, status: "locked", lockedUntil: now, shownOrder: identity, revision: 0, updatedAt: new Date(now).toISOString() };
  const built = buildRecords({
    project,
    queue: q,
    task,
    claim: asShown,
    annotator: adjudicator,
    submissionId: body.submissionId,
    answers: body.answers,
    generations,
    idOf: (questionId, taskIndex) => `${queueFeedbackId(q.id, task.id, "~adjudication", questionId, taskIndex)}:a${revision}`,
    source: { type: "human", id: adjudicator },
    extraMeta: (questionId, taskIndex) => ({ adjudication: revision, adjudicates: settled.get(`${questionId}\u0000${taskIndex ?? ""}`) ?? [] }),
  });
  if (built.issues.length) throw invalidAnswers(built.issues);
  if (built.feedback.length === 0) throw invalidAnswers([{ path: "answers", message: "answer at least one question" }]);
  // Per-generation records of a one-generation task carry no index: their key has none either.
  const supersedes: Supersession[] = [];
  for (const f of built.feedback) {
    for (const old of ((f.metadata as Record<string, unknown>).adjudicates as string[]) ?? []) supersedes.push({ feedbackId: old, byId: f.id!, reason: "adjudication" });
  }
  if (before) {
    const previous = await store.queues.feedbackByIds(project, before.feedbackIds);
    const newByKey = new Map(built.feedback.map((f) => [keyOf(f as Feedback, identity), f.id!]));
    for (const old of previous) supersedes.push({ feedbackId: old.id, byId: newByKey.get(keyOf(old, identity)) ?? built.feedback[0]!.id!, reason: "adjudication" });
  }
  const ids = built.feedback.map((f) => f.id!);
  const r = await store.queues.adjudicate(project, q.id, task.id, {
    adjudicator,
    submissionId: body.submissionId,
    records: { feedback: built.feedback, generations: built.generations },
    feedbackIds: ids,
    supersedes,
    answers: body.answers,
    revision,
    now,
  });
  if (r.status === "replayed") return { feedback: r.feedbackIds, generations: [], replayed: true };
  return { feedback: ids, generations: built.generations.map((g) => g.id), replayed: false };
}
