/**
 * The queue store's operations on queues, tasks and claims: each one function over the store's connection
 * (`QueueContext`); `queueStore` (queues.ts) binds them. Writes run in one transaction each; on PostgreSQL a
 * queue's row is locked first, so that work on one queue is serialised (SQLite serialises transactions itself).
 */
import { type Kysely, sql } from "kysely";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import { type Feedback, Id } from "../feedback/schema.js";
import { badKeyString, chunks, feedbackFromRow, isoOf, num } from "./codec.js";
import type { Claim, ClaimStatus, QueueInput, QueueProgress, QueueRecord, QueueTask, SubmitInput, SubmitResult, TaskInput } from "./queues.js";
import type { Database, Engine } from "./tables.js";
import { writeBatch } from "./write.js";

/** What the queue store works over: its engine, its connection (reads), and its transactions (writes). */
export interface QueueContext {
  engine: Engine;
  db: () => Kysely<Database>;
  inTransaction: <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;
}

export function checkId(path: string, value: unknown, what: string): asserts value is string {
  const r = Id.safeParse(value);
  const bad = r.success ? badKeyString(value as string) : r.error.issues[0]?.message;
  if (bad) throw new ValidationError([{ path, message: bad }], undefined, what);
}

function checkPositiveInt(path: string, v: number, what: string): void {
  if (!Number.isInteger(v) || v < 1) throw new ValidationError([{ path, message: "must be a positive integer" }], undefined, what);
}

type QueueRow = { project: string; id: string; name: string; annotators_per_item: number | string; lock_seconds: number | string; body: string; created_at: number | string };
type TaskRow = { project: string; queue_id: string; id: string; position: number | string; item_id: string; generation_ids: string };
type ClaimRow = {
  queue_id: string;
  task_id: string;
  annotator: string;
  status: string;
  locked_until: number | string;
  shown_order: string;
  draft: string | null;
  submission_id: string | null;
  feedback_ids: string | null;
  updated_at: number | string;
};
const queueOf = (r: QueueRow): QueueRecord => ({
  project: r.project,
  id: r.id,
  name: r.name,
  annotatorsPerItem: num(r.annotators_per_item),
  lockSeconds: num(r.lock_seconds),
  definition: JSON.parse(r.body) as Record<string, unknown>,
  createdAt: isoOf(r.created_at),
});

const taskOf = (r: TaskRow): QueueTask => ({
  queueId: r.queue_id,
  id: r.id,
  position: num(r.position),
  itemId: r.item_id,
  generationIds: JSON.parse(r.generation_ids) as string[],
});

const claimOf = (r: ClaimRow): Claim => ({
  queueId: r.queue_id,
  taskId: r.task_id,
  annotator: r.annotator,
  status: r.status as ClaimStatus,
  lockedUntil: num(r.locked_until),
  shownOrder: JSON.parse(r.shown_order) as number[],
  ...(r.draft !== null ? { draft: JSON.parse(r.draft) as unknown } : {}),
  ...(r.submission_id !== null ? { submissionId: r.submission_id } : {}),
  ...(r.feedback_ids !== null ? { feedbackIds: JSON.parse(r.feedback_ids) as string[] } : {}),
  updatedAt: isoOf(r.updated_at),
});

const CLAIM_COLUMNS = ["queue_id", "task_id", "annotator", "status", "locked_until", "shown_order", "draft", "submission_id", "feedback_ids", "updated_at"] as const;
const TASK_COLUMNS = ["project", "queue_id", "id", "position", "item_id", "generation_ids"] as const;
const IN_CHUNK = 500;


/** PostgreSQL: serialise work on one queue (SQLite transactions are serialised already). */
async function lockQueue(c: QueueContext, d: Kysely<Database>, project: string, queueId: string): Promise<QueueRecord> {
  let q = d.selectFrom("queues").select(["project", "id", "name", "annotators_per_item", "lock_seconds", "body", "created_at"]).where("project", "=", project).where("id", "=", queueId);
  if (c.engine === "postgres") q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw new NotFoundError(`queue "${queueId}" not found`);
  return queueOf(row);
}

const claimRow = (d: Kysely<Database>, project: string, queueId: string, taskId: string, annotator: string) =>
  d
    .selectFrom("queue_claims")
    .select([...CLAIM_COLUMNS])
    .where("project", "=", project)
    .where("queue_id", "=", queueId)
    .where("task_id", "=", taskId)
    .where("annotator", "=", annotator)
    .executeTakeFirst();

const taskRow = (d: Kysely<Database>, project: string, queueId: string, taskId: string) =>
  d.selectFrom("queue_tasks").select([...TASK_COLUMNS]).where("project", "=", project).where("queue_id", "=", queueId).where("id", "=", taskId).executeTakeFirst();

export async function create(c: QueueContext, queue: QueueInput, tasks: TaskInput[]): Promise<QueueRecord> {
  checkId("project", queue.project, "queue");
  checkId("id", queue.id, "queue");
  if (typeof queue.name !== "string" || queue.name.trim() === "") throw new ValidationError([{ path: "name", message: "must be a non-empty string" }], undefined, "queue");
  checkPositiveInt("annotatorsPerItem", queue.annotatorsPerItem, "queue");
  checkPositiveInt("lockSeconds", queue.lockSeconds, "queue");
  if (tasks.length === 0) throw new ValidationError([{ path: "tasks", message: "a queue needs at least one task" }], undefined, "queue");
  tasks.forEach((t, i) => {
    checkId(`tasks.${i}.itemId`, t.itemId, "queue");
    if (!Array.isArray(t.generationIds) || t.generationIds.length === 0) {
      throw new ValidationError([{ path: `tasks.${i}.generationIds`, message: "must list at least one generation" }], undefined, "queue");
    }
  });
  const createdAt = Date.now();
  const body = JSON.stringify(queue.definition ?? {});
  return c.inTransaction(async (d) => {
    const exists = await d.selectFrom("queues").select("id").where("project", "=", queue.project).where("id", "=", queue.id).executeTakeFirst();
    if (exists) throw new ConflictError(`queue "${queue.id}" already exists in project "${queue.project}"; choose another id`);
    // Every generation must be stored, in the task's item.
    const wanted = [...new Set(tasks.flatMap((t) => t.generationIds))];
    const itemOf = new Map<string, string>();
    for (const chunk of chunks(wanted, IN_CHUNK)) {
      const rows = await d.selectFrom("generations").select(["id", "item_id"]).where("project", "=", queue.project).where("id", "in", chunk).execute();
      for (const r of rows) itemOf.set(r.id, r.item_id);
    }
    tasks.forEach((t, i) => {
      t.generationIds.forEach((g, j) => {
        const it = itemOf.get(g);
        if (it === undefined) throw new ValidationError([{ path: `tasks.${i}.generationIds.${j}`, message: `generation "${g}" does not exist in project "${queue.project}"` }], undefined, "queue");
        if (it !== t.itemId) throw new ValidationError([{ path: `tasks.${i}.generationIds.${j}`, message: `generation "${g}" answers item "${it}", not "${t.itemId}"` }], undefined, "queue");
      });
    });
    await d
      .insertInto("queues")
      .values({ project: queue.project, id: queue.id, name: queue.name, annotators_per_item: queue.annotatorsPerItem, lock_seconds: queue.lockSeconds, body, created_at: createdAt })
      .execute();
    const rows = tasks.map((t, i) => ({
      project: queue.project,
      queue_id: queue.id,
      id: `t${i + 1}`,
      position: i + 1,
      item_id: t.itemId,
      generation_ids: JSON.stringify(t.generationIds),
    }));
    for (const chunk of chunks(rows, 200)) await d.insertInto("queue_tasks").values(chunk).execute();
    return { ...queue, definition: JSON.parse(body) as Record<string, unknown>, createdAt: isoOf(createdAt) };
  });
}

export async function get(c: QueueContext, project: string, id: string): Promise<QueueRecord | undefined> {
  const r = await c.db()
    .selectFrom("queues")
    .select(["project", "id", "name", "annotators_per_item", "lock_seconds", "body", "created_at"])
    .where("project", "=", project)
    .where("id", "=", id)
    .executeTakeFirst();
  return r && queueOf(r);
}

export async function list(c: QueueContext, project: string): Promise<QueueRecord[]> {
  const rows = await c.db()
    .selectFrom("queues")
    .select(["project", "id", "name", "annotators_per_item", "lock_seconds", "body", "created_at"])
    .where("project", "=", project)
    .orderBy("created_at", "desc")
    .orderBy("id")
    .execute();
  return rows.map(queueOf);
}

export async function progress(c: QueueContext, project: string, queueId: string, now: number): Promise<QueueProgress> {
  const d = c.db();
  const q = await d.selectFrom("queues").select("annotators_per_item").where("project", "=", project).where("id", "=", queueId).executeTakeFirst();
  if (!q) throw new NotFoundError(`queue "${queueId}" not found`);
  const per = num(q.annotators_per_item);
  const tasks = await d
    .selectFrom("queue_tasks")
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .where("project", "=", project)
    .where("queue_id", "=", queueId)
    .executeTakeFirstOrThrow();
  const perTask = await d
    .selectFrom("queue_claims")
    .select((eb) => ["task_id", eb.fn.countAll<number | string>().as("n")])
    .where("project", "=", project)
    .where("queue_id", "=", queueId)
    .where("status", "=", "submitted")
    .groupBy("task_id")
    .execute();
  const byStatus = await d
    .selectFrom("queue_claims")
    .select((eb) => ["status", eb.fn.countAll<number | string>().as("n")])
    .where("project", "=", project)
    .where("queue_id", "=", queueId)
    .where((eb) => eb.or([eb("status", "!=", "locked"), eb("locked_until", ">", now)]))
    .groupBy("status")
    .execute();
  const count = (s: string) => num(byStatus.find((r) => r.status === s)?.n ?? 0);
  const nTasks = num(tasks.n);
  return {
    tasks: nTasks,
    done: perTask.filter((r) => num(r.n) >= per).length,
    needed: nTasks * per,
    submitted: perTask.reduce((s, r) => s + Math.min(per, num(r.n)), 0),
    skipped: count("skipped"),
    inProgress: count("locked"),
  };
}

export async function annotatorProgress(c: QueueContext, project: string, queueId: string, annotator: string, now: number): Promise<{ submitted: number; skipped: number; holding: number }> {
  const rows = await c.db()
    .selectFrom("queue_claims")
    .select((eb) => ["status", eb.fn.countAll<number | string>().as("n")])
    .where("project", "=", project)
    .where("queue_id", "=", queueId)
    .where("annotator", "=", annotator)
    .where((eb) => eb.or([eb("status", "!=", "locked"), eb("locked_until", ">", now)]))
    .groupBy("status")
    .execute();
  const count = (s: string) => num(rows.find((r) => r.status === s)?.n ?? 0);
  return { submitted: count("submitted"), skipped: count("skipped"), holding: count("locked") };
}

export async function tasks(c: QueueContext, project: string, queueId: string, opts: { offset?: number; limit?: number } = {}): Promise<QueueTask[]> {
  let q = c.db().selectFrom("queue_tasks").select([...TASK_COLUMNS]).where("project", "=", project).where("queue_id", "=", queueId).orderBy("position");
  if (opts.limit !== undefined) q = q.limit(opts.limit);
  if (opts.offset !== undefined) q = q.offset(opts.offset);
  return (await q.execute()).map(taskOf);
}

export async function task(c: QueueContext, project: string, queueId: string, taskId: string): Promise<QueueTask | undefined> {
  const r = await taskRow(c.db(), project, queueId, taskId);
  return r && taskOf(r);
}

export async function claim(c: QueueContext, project: string, queueId: string, taskId: string, annotator: string): Promise<Claim | undefined> {
  const r = await claimRow(c.db(), project, queueId, taskId, annotator);
  return r && claimOf(r);
}

export async function claims(c: QueueContext, project: string, queueId: string, status?: ClaimStatus, opts: { taskIds?: readonly string[] } = {}): Promise<Claim[]> {
  if (opts.taskIds && opts.taskIds.length === 0) return [];
  let q = c.db().selectFrom("queue_claims").select([...CLAIM_COLUMNS]).where("project", "=", project).where("queue_id", "=", queueId);
  if (status !== undefined) q = q.where("status", "=", status);
  if (opts.taskIds) q = q.where("task_id", "in", [...opts.taskIds]);
  return (await q.orderBy("task_id").orderBy("annotator").execute()).map(claimOf);
}

export async function next(c: QueueContext, project: string, queueId: string, annotator: string, opts: { now: number; shuffle: (n: number) => number[] }): Promise<{ task: QueueTask; claim: Claim } | undefined> {
  const { now, shuffle } = opts;
  checkId("annotator", annotator, "claim");
  return c.inTransaction(async (d) => {
    const queue = await lockQueue(c, d, project, queueId);
    const until = now + queue.lockSeconds * 1000;
    // A task they hold already comes back, its lock renewed.
    const held = await d
      .selectFrom("queue_claims")
      .select([...CLAIM_COLUMNS])
      .where("project", "=", project)
      .where("queue_id", "=", queueId)
      .where("annotator", "=", annotator)
      .where("status", "=", "locked")
      .where("locked_until", ">", now)
      .orderBy("updated_at")
      .orderBy("task_id")
      .executeTakeFirst();
    if (held) {
      await d
        .updateTable("queue_claims")
        .set({ locked_until: until, updated_at: now })
        .where("project", "=", project)
        .where("queue_id", "=", queueId)
        .where("task_id", "=", held.task_id)
        .where("annotator", "=", annotator)
        .execute();
      const task = taskOf((await taskRow(d, project, queueId, held.task_id))!);
      return { task, claim: claimOf({ ...held, locked_until: until, updated_at: now }) };
    }
    const row = await d
      .selectFrom("queue_tasks as t")
      .select(["t.project", "t.queue_id", "t.id", "t.position", "t.item_id", "t.generation_ids"])
      .where("t.project", "=", project)
      .where("t.queue_id", "=", queueId)
      .where("t.open", "=", 1)
      .where((eb) =>
        eb.and([
          eb.not(
            eb.exists(
              eb
                .selectFrom("queue_claims as mine")
                .select("mine.task_id")
                .whereRef("mine.project", "=", "t.project")
                .whereRef("mine.queue_id", "=", "t.queue_id")
                .whereRef("mine.task_id", "=", "t.id")
                .where("mine.annotator", "=", annotator)
                .where("mine.status", "in", ["submitted", "skipped"]),
            ),
          ),
          eb(
            eb
              .selectFrom("queue_claims as c")
              .select((e) => e.fn.countAll().as("n"))
              .whereRef("c.project", "=", "t.project")
              .whereRef("c.queue_id", "=", "t.queue_id")
              .whereRef("c.task_id", "=", "t.id")
              .where("c.annotator", "!=", annotator)
              .where((e) => e.or([e("c.status", "=", "submitted"), e.and([e("c.status", "=", "locked"), e("c.locked_until", ">", now)])])),
            "<",
            queue.annotatorsPerItem,
          ),
        ]),
      )
      .orderBy("t.position")
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    const task = taskOf(row);
    const previous = await claimRow(d, project, queueId, task.id, annotator);
    if (previous) {
      // Their own expired lock: take it again, keeping the order they saw and their draft.
      await d
        .updateTable("queue_claims")
        .set({ status: "locked", locked_until: until, updated_at: now })
        .where("project", "=", project)
        .where("queue_id", "=", queueId)
        .where("task_id", "=", task.id)
        .where("annotator", "=", annotator)
        .execute();
      return { task, claim: claimOf({ ...previous, status: "locked", locked_until: until, updated_at: now }) };
    }
    const order = shuffle(task.generationIds.length);
    const sorted = [...order].sort((a, b) => a - b);
    if (sorted.some((v, i) => v !== i)) throw new ValidationError([{ path: "shownOrder", message: `must be a permutation of 0..${task.generationIds.length - 1}` }], undefined, "claim");
    const fresh: ClaimRow & { project: string } = {
      project,
      queue_id: queueId,
      task_id: task.id,
      annotator,
      status: "locked",
      locked_until: until,
      shown_order: JSON.stringify(order),
      draft: null,
      submission_id: null,
      feedback_ids: null,
      updated_at: now,
    };
    await d.insertInto("queue_claims").values({ ...fresh, locked_until: until, updated_at: now }).execute();
    return { task, claim: claimOf(fresh) };
  });
}

export async function saveDraft(c: QueueContext, project: string, queueId: string, taskId: string, annotator: string, draft: unknown, now: number): Promise<boolean> {
  const json = JSON.stringify(draft ?? null);
  return c.inTransaction(async (d) => {
    const r = await d
      .updateTable("queue_claims")
      .set({ draft: json, updated_at: now })
      .where("project", "=", project)
      .where("queue_id", "=", queueId)
      .where("task_id", "=", taskId)
      .where("annotator", "=", annotator)
      .where("status", "=", "locked")
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  });
}

export async function release(c: QueueContext, project: string, queueId: string, taskId: string, now: number, annotator?: string): Promise<number> {
  return c.inTransaction(async (d) => {
    await lockQueue(c, d, project, queueId);
    let q = d
      .updateTable("queue_claims")
      .set({ locked_until: now, updated_at: now })
      .where("project", "=", project)
      .where("queue_id", "=", queueId)
      .where("task_id", "=", taskId)
      .where("status", "=", "locked")
      .where("locked_until", ">", now);
    if (annotator !== undefined) q = q.where("annotator", "=", annotator);
    return Number((await q.executeTakeFirst()).numUpdatedRows);
  });
}

export async function remove(c: QueueContext, project: string, queueId: string): Promise<{ tasks: number; claims: number } | undefined> {
  return c.inTransaction(async (d) => {
    try {
      await lockQueue(c, d, project, queueId);
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
    const claims = await d.deleteFrom("queue_claims").where("project", "=", project).where("queue_id", "=", queueId).executeTakeFirst();
    const tasks = await d.deleteFrom("queue_tasks").where("project", "=", project).where("queue_id", "=", queueId).executeTakeFirst();
    await d.deleteFrom("queues").where("project", "=", project).where("id", "=", queueId).execute();
    return { tasks: Number(tasks.numDeletedRows), claims: Number(claims.numDeletedRows) };
  });
}

export async function skip(c: QueueContext, project: string, queueId: string, taskId: string, annotator: string, now: number): Promise<boolean> {
  return c.inTransaction(async (d) => {
    const r = await d
      .updateTable("queue_claims")
      .set({ status: "skipped", locked_until: now, updated_at: now })
      .where("project", "=", project)
      .where("queue_id", "=", queueId)
      .where("task_id", "=", taskId)
      .where("annotator", "=", annotator)
      .where("status", "in", ["locked", "skipped"])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  });
}

export async function submit(c: QueueContext, project: string, queueId: string, taskId: string, annotator: string, input: SubmitInput): Promise<SubmitResult> {
  checkId("submissionId", input.submissionId, "submission");
  return c.inTransaction(async (d) => {
    const queue = await lockQueue(c, d, project, queueId);
    const row = await claimRow(d, project, queueId, taskId, annotator);
    if (!row) throw new NotFoundError(`task "${taskId}" of queue "${queueId}" is not held by "${annotator}" (call next first)`);
    const claim = claimOf(row);
    if (claim.status === "submitted") {
      if (claim.submissionId === input.submissionId) return { status: "replayed", feedbackIds: claim.feedbackIds ?? [] };
      throw new ConflictError(`task "${taskId}" was already submitted by "${annotator}" (submission "${claim.submissionId}")`);
    }
    if (claim.status === "skipped") throw new ConflictError(`task "${taskId}" was skipped by "${annotator}"; it can no longer be submitted`);
    if (claim.lockedUntil <= input.now) {
      const others = await d
        .selectFrom("queue_claims")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("project", "=", project)
        .where("queue_id", "=", queueId)
        .where("task_id", "=", taskId)
        .where("annotator", "!=", annotator)
        .where((e) => e.or([e("status", "=", "submitted"), e.and([e("status", "=", "locked"), e("locked_until", ">", input.now)])]))
        .executeTakeFirstOrThrow();
      if (num(others.n) >= queue.annotatorsPerItem) {
        throw new ConflictError(`the lock on task "${taskId}" expired and the task has all the annotators it needs; call next for another task`);
      }
    }
    // The queue is set by the store from the submission, never from the records: queue readers count only these.
    const report = await writeBatch({ engine: c.engine, inTransaction: (fn) => fn(d) }, input.records, {}, { queueId });
    await d
      .updateTable("queue_tasks")
      .set({
        submitted: sql<number>`submitted + 1`,
        open: sql<number>`case when submitted + 1 >= ${queue.annotatorsPerItem} then 0 else 1 end`,
      })
      .where("project", "=", project)
      .where("queue_id", "=", queueId)
      .where("id", "=", taskId)
      .execute();
    await d
      .updateTable("queue_claims")
      .set({
        status: "submitted",
        locked_until: input.now,
        submission_id: input.submissionId,
        feedback_ids: JSON.stringify(input.feedbackIds),
        updated_at: input.now,
      })
      .where("project", "=", project)
      .where("queue_id", "=", queueId)
      .where("task_id", "=", taskId)
      .where("annotator", "=", annotator)
      .execute();
    return { status: "stored", feedbackIds: input.feedbackIds, report };
  });
}

export async function feedbackByIds(c: QueueContext, project: string, ids: string[], queueId?: string): Promise<Feedback[]> {
  const byId = new Map<string, Feedback>();
  for (const chunk of chunks([...new Set(ids)], IN_CHUNK)) {
    let q = c.db().selectFrom("feedback").select(["project", "id", "body", "created_at"]).where("project", "=", project).where("id", "in", chunk);
    if (queueId !== undefined) q = q.where("queue_id", "=", queueId);
    const rows = await q.execute();
    for (const r of rows) byId.set(r.id, feedbackFromRow(r));
  }
  return ids.flatMap((id) => {
    const f = byId.get(id);
    return f ? [f] : [];
  });
}

export async function feedbackOnGenerations(c: QueueContext, project: string, generationIds: string[], sourceTypes: string[]): Promise<Feedback[]> {
  if (generationIds.length === 0 || sourceTypes.length === 0) return [];
  const out = new Map<string, Feedback>();
  for (const chunk of chunks([...new Set(generationIds)], IN_CHUNK)) {
    const rows = await c.db()
      .selectFrom("feedback")
      .select(["project", "id", "body", "created_at"])
      .where("project", "=", project)
      .where("source_type", "in", sourceTypes)
      .where("id", "in", (eb) =>
        eb.selectFrom("feedback_targets").select("feedback_targets.feedback_id").where("feedback_targets.project", "=", project).where("feedback_targets.generation_id", "in", chunk),
      )
      .execute();
    for (const r of rows) out.set(r.id, feedbackFromRow(r));
  }
  return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
