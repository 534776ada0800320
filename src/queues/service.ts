/**
 * Annotation queues: an admin makes a queue from a selection of stored generations (one per task, pairs,
 * or lists of an item) and the questions to ask; annotators take the next task, which is locked to them,
 * keep drafts, skip, and submit answers that become typed feedback records. Pairs and lists are shown in a
 * random order per annotator, recorded with the claim (position bias is then measurable).
 *
 * Each function is one operation on a project's queues, whoever asks (the HTTP API, a script); who may ask
 * is the caller's decision. The queue tables themselves are the store's (`store.queues`).
 */
import { randomInt, randomUUID } from "node:crypto";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Generation } from "../feedback/index.js";
import type { Claim, QueueRecord, QueueTask, Store } from "../store/index.js";
import { buildRecords } from "./answers.js";
import { definitionOf } from "./definition.js";
import type { CreateQueueBody, DeletedQueue, QueueDefinition, QueueTaskList, QueueView, SubmitResult, TaskView } from "./schema.js";
import { shuffleInPlace, tasksOf } from "./select.js";

export const DEFAULT_LOCK_SECONDS = 600;

/** May this annotator work on the queue? Only when it names them, or names no one. */
export function openTo(q: QueueRecord, annotator: string): boolean {
  const allowed = definitionOf(q).annotators;
  return !allowed || allowed.includes(annotator);
}

/** Stores a queue and its tasks; a selection that matches nothing, or makes more than `maxTasks`, is refused. */
export async function createQueue(store: Store, project: string, b: CreateQueueBody, opts: { maxTasks?: number } = {}): Promise<QueueRecord> {
  const tasks = await tasksOf(store, project, b.selection, opts.maxTasks);
  if (tasks.length === 0) {
    throw new ValidationError([{ path: "selection", message: "matches no stored generations" }], undefined, "body",
      "invalid body: selection: matches no stored generations (check dataset, itemIds, policies and mode)");
  }
  const definition: QueueDefinition = {
    ...(b.instructions !== undefined ? { instructions: b.instructions } : {}),
    selection: b.selection,
    questions: b.questions,
    ...(b.annotators ? { annotators: b.annotators } : {}),
  };
  return store.queues.create(
    {
      project,
      id: b.id ?? randomUUID(),
      name: b.name,
      annotatorsPerItem: b.annotatorsPerItem ?? 1,
      lockSeconds: b.lockSeconds ?? DEFAULT_LOCK_SECONDS,
      definition,
    },
    tasks,
  );
}

/** A queue as the API shows it, with its progress (and an annotator's own counts, when one asks). */
export async function queueView(store: Store, project: string, q: QueueRecord, now: number, annotator?: string): Promise<QueueView> {
  const d = definitionOf(q);
  const progress = await store.queues.progress(project, q.id, now);
  const mine = annotator !== undefined ? await store.queues.annotatorProgress(project, q.id, annotator, now) : undefined;
  return {
    id: q.id,
    name: q.name,
    ...(d.instructions !== undefined ? { instructions: d.instructions } : {}),
    selection: d.selection,
    questions: d.questions,
    annotatorsPerItem: q.annotatorsPerItem,
    lockSeconds: q.lockSeconds,
    ...(d.annotators ? { annotators: d.annotators } : {}),
    createdAt: q.createdAt,
    progress,
    ...(mine !== undefined ? { mine } : {}),
  };
}

/** A draft as kept: the answers by question id (drafts are saved from `DraftBody`, so nothing else is stored). */
const isAnswers = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** Generations as shown: blind (no id, no policy), in the claim's order. */
export async function taskView(store: Store, project: string, q: QueueRecord, task: QueueTask, claim: Claim): Promise<TaskView> {
  const item = await store.getItem(project, task.itemId);
  if (!item) throw new ConflictError(`the item of task "${task.id}" is no longer stored`);
  const gens = await Promise.all(task.generationIds.map((g) => store.getGeneration(project, g)));
  const d = definitionOf(q);
  return {
    id: task.id,
    queueId: q.id,
    item: { id: item.id, prompt: item.prompt, ...(item.reference !== undefined ? { reference: item.reference } : {}), ...(item.dataset !== undefined ? { dataset: item.dataset } : {}) },
    generations: claim.shownOrder.map((i, slot) => ({ slot, output: gens[i]?.output ?? "" })),
    questions: d.questions,
    ...(d.instructions !== undefined ? { instructions: d.instructions } : {}),
    ...(isAnswers(claim.draft) ? { draft: claim.draft } : {}),
    lockedUntil: new Date(claim.lockedUntil).toISOString(),
  };
}

/** A page of a queue's tasks with who holds, submitted or skipped each (drafts are not shown, only whether one exists). */
export async function queueTasks(store: Store, project: string, q: QueueRecord, page: { offset: number; limit: number }, now: number): Promise<QueueTaskList> {
  const tasks = await store.queues.tasks(project, q.id, page);
  const claims = await store.queues.claims(project, q.id, undefined, { taskIds: tasks.map((t) => t.id) });
  const byTask = new Map<string, Claim[]>();
  for (const cl of claims) byTask.set(cl.taskId, [...(byTask.get(cl.taskId) ?? []), cl]);
  const progress = await store.queues.progress(project, q.id, now);
  return {
    total: progress.tasks,
    offset: page.offset,
    tasks: tasks.map((t) => ({
      id: t.id,
      position: t.position,
      itemId: t.itemId,
      generationIds: t.generationIds,
      claims: (byTask.get(t.id) ?? [])
        // An expired lock holds nothing: it shows as "expired" (the annotator gets the task back if it is still open).
        .map((cl) => ({
          annotator: cl.annotator,
          status: cl.status === "locked" && cl.lockedUntil <= now ? ("expired" as const) : cl.status,
          ...(cl.status === "locked" && cl.lockedUntil > now ? { lockedUntil: new Date(cl.lockedUntil).toISOString() } : {}),
          hasDraft: cl.draft !== undefined && cl.draft !== null,
          updatedAt: cl.updatedAt,
        })),
    })),
  };
}

/** Frees a task's live locks (one annotator's, or every one); the holders keep their drafts. */
export async function releaseTask(store: Store, project: string, q: QueueRecord, taskId: string, now: number, annotator?: string): Promise<number> {
  if (!(await store.queues.task(project, q.id, taskId))) throw new NotFoundError(`task "${taskId}" of queue "${q.id}" not found`);
  return store.queues.release(project, q.id, taskId, now, annotator);
}

/** Deletes a queue with its tasks, locks and drafts; the feedback submitted through it stays. */
export async function deleteQueue(store: Store, project: string, id: string): Promise<DeletedQueue> {
  const removed = await store.queues.remove(project, id);
  if (!removed) throw new NotFoundError(`queue "${id}" not found`);
  return { queue: id, ...removed };
}

/** The annotator's next task (the one they hold, else a new one locked to them), shown in a random order; null when none is left. */
export async function nextTask(store: Store, project: string, q: QueueRecord, annotator: string, now: number): Promise<TaskView | null> {
  const got = await store.queues.next(project, q.id, annotator, {
    now,
    // Pairs and lists are shown in a random order, recorded with the claim (position bias is then measurable).
    shuffle: (n) => shuffleInPlace([...Array(n).keys()], (k) => randomInt(k)),
  });
  if (!got) return null;
  return taskView(store, project, q, got.task, got.claim);
}

/** The task and this annotator's claim on it; not found when they hold none (other annotators' tasks stay invisible). */
export async function heldTask(store: Store, project: string, q: QueueRecord, taskId: string, annotator: string): Promise<{ task: QueueTask; claim: Claim }> {
  const task = await store.queues.task(project, q.id, taskId);
  const claim = task && (await store.queues.claim(project, q.id, taskId, annotator));
  if (!task || !claim) throw new NotFoundError(`task "${taskId}" of queue "${q.id}" not found among your tasks (call POST /v1/queues/${q.id}/next)`);
  return { task, claim };
}

/** Keeps a draft of the answers of an open task. */
export async function saveDraft(store: Store, project: string, q: QueueRecord, held: { task: QueueTask; claim: Claim }, annotator: string, answers: unknown, now: number): Promise<void> {
  if (held.claim.status !== "locked") throw new ConflictError(`task "${held.task.id}" is already ${held.claim.status}; drafts are for open tasks`);
  await store.queues.saveDraft(project, q.id, held.task.id, annotator, answers, now);
}

/** Skips a task: it is never offered to this annotator again. */
export async function skipTask(store: Store, project: string, q: QueueRecord, held: { task: QueueTask; claim: Claim }, annotator: string, now: number): Promise<void> {
  if (held.claim.status === "submitted") throw new ConflictError(`task "${held.task.id}" was already submitted`);
  await store.queues.skip(project, q.id, held.task.id, annotator, now);
}

/** The answer to a repeated submission: the same ids, nothing written. */
async function replay(store: Store, project: string, feedbackIds: string[]): Promise<SubmitResult> {
  const generations: string[] = [];
  for (const id of feedbackIds) if (await store.getGeneration(project, `${id}:corrected`)) generations.push(`${id}:corrected`);
  return { feedback: feedbackIds, generations, replayed: true };
}

/**
 * Submits answers: one feedback record per answered question (and generation, for per-generation questions),
 * stored with the claim's change in one transaction. A retry with the same submission id stores nothing new.
 */
export async function submitAnswers(
  store: Store,
  project: string,
  q: QueueRecord,
  held: { task: QueueTask; claim: Claim },
  annotator: string,
  submission: { submissionId: string; answers: Record<string, unknown> },
  now: number,
): Promise<SubmitResult> {
  const { task, claim } = held;
  if (claim.status === "submitted" && claim.submissionId === submission.submissionId) return replay(store, project, claim.feedbackIds ?? []);
  const found = await Promise.all(task.generationIds.map((g) => store.getGeneration(project, g)));
  const generations = found.filter((g): g is Generation => g !== undefined);
  if (generations.length !== found.length) throw new ConflictError(`a generation of task "${task.id}" is no longer stored`);
  const built = buildRecords({ project, queue: q, task, claim, annotator, submissionId: submission.submissionId, answers: submission.answers, generations });
  if (built.issues.length) {
    throw new ValidationError(built.issues, undefined, "answers", `invalid answers: ${built.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
  }
  if (built.feedback.length === 0) {
    throw new ValidationError([{ path: "answers", message: "answer at least one question" }], undefined, "answers", "invalid answers: answer at least one question");
  }
  const ids = built.feedback.map((f) => f.id).filter((id): id is string => id !== undefined);
  const r = await store.queues.submit(project, q.id, task.id, annotator, {
    submissionId: submission.submissionId,
    records: { feedback: built.feedback, generations: built.generations },
    feedbackIds: ids,
    now,
  });
  if (r.status === "replayed") return replay(store, project, r.feedbackIds);
  return { feedback: ids, generations: built.generations.map((g) => g.id), replayed: false };
}
