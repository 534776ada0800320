/**
 * Annotation queues over HTTP (the queues room does the work): admins make, list, inspect and delete queues;
 * annotators (annotate keys, whose name is the annotator) take tasks, keep drafts, skip and submit.
 */
import type { Hono } from "hono";
import {
  AdjudicateBody,
  CreateQueueBody,
  DraftBody,
  MineQuery,
  ReleaseQuery,
  ReviseBody,
  RouteQueueBody,
  SubmitBody,
  SuggestionsBody,
  TasksQuery,
  adjudicateTask,
  createQueue,
  myTasks,
  queueFromRoute,
  reviseAnswers,
  setSuggestions,
  taskAnswers,
  deleteQueue,
  heldTask,
  nextTask,
  openTo,
  queueTasks,
  queueView,
  releaseTask,
  saveDraft,
  skipTask,
  submitAnswers,
  taskView,
} from "../queues/index.js";
import type { ApiKey, QueueRecord, Store } from "../store/index.js";
import { jsonBody } from "./body.js";
import { type Ctx, type Env, type Settings, chargeAfter, parseQuery, requireRole } from "./context.js";
import { notFound } from "./errors.js";
import { chargePage } from "./records.js";
import { analysisWork } from "./work.js";

/** A path segment as an id (queue and task ids are plain). */
function segment(c: Ctx, name: string): string {
  const v = c.req.param(name) ?? "";
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(v)) throw notFound(`${name === "id" ? "queue" : "task"} "${v.slice(0, 100)}" not found`);
  return v;
}

/** The annotator an annotate key works as; other keys see every queue and have no counts of their own. */
const annotatorOf = (key: ApiKey): string | undefined => (key.role === "annotate" ? key.name : undefined);

/** The queue in the key's project, visible to the key (annotators: only queues open to them); 404 otherwise. */
async function queueFor(store: Store, key: ApiKey, id: string): Promise<QueueRecord> {
  const q = await store.queues.get(key.project, id);
  const annotator = annotatorOf(key);
  if (!q || (annotator !== undefined && !openTo(q, annotator))) throw notFound(`queue "${id}" not found`);
  return q;
}

export function queueRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;

  app.post("/v1/queues", async (c) => {
    const key = requireRole(c, "queues.create");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, CreateQueueBody);
    const q = await createQueue(store, key.project, b, { maxTasks: s.limits.queueTasks });
    const view = await queueView(store, key.project, q, Date.now());
    chargeAfter(key, s, view.progress.tasks * s.limits.costTask);
    return c.json({ queue: view }, 201);
  });

  app.post("/v1/queues/from-route", async (c) => {
    const key = requireRole(c, "queues.create");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, RouteQueueBody);
    // The judges' pairwise verdicts are read whole: within analysisRows, charged by rows (src/server/work.ts).
    await analysisWork(c, s, { kinds: ["pairwise"] });
    const { queue, pairs } = await queueFromRoute(store, key.project, b);
    chargeAfter(key, s, pairs.length * s.limits.costTask);
    return c.json({ queue: await queueView(store, key.project, queue, Date.now()), pairs }, 201);
  });

  app.put("/v1/queues/:id/suggestions", async (c) => {
    const key = requireRole(c, "queues.suggestions");
    const q = await queueFor(store, key, segment(c, "id"));
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, SuggestionsBody);
    const updated = await setSuggestions(store, key.project, q, b.suggestions);
    return c.json({ queue: await queueView(store, key.project, updated, Date.now()) });
  });

  app.get("/v1/queues/:id/mine", async (c) => {
    const key = requireRole(c, "tasks.mine");
    const q = await queueFor(store, key, segment(c, "id"));
    return c.json(await myTasks(store, key.project, q, key.name, parseQuery(c, MineQuery)));
  });

  app.post("/v1/queues/:id/tasks/:taskId/revise", async (c) => {
    const key = requireRole(c, "tasks.revise");
    const q = await queueFor(store, key, segment(c, "id"));
    const taskId = segment(c, "taskId");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, ReviseBody);
    return c.json(await reviseAnswers(store, key.project, q, key.name, taskId, b, Date.now()));
  });

  app.get("/v1/queues/:id/tasks/:taskId/answers", async (c) => {
    const key = requireRole(c, "tasks.answers");
    const q = await queueFor(store, key, segment(c, "id"));
    return c.json(await taskAnswers(store, key.project, q, segment(c, "taskId")));
  });

  app.post("/v1/queues/:id/tasks/:taskId/adjudicate", async (c) => {
    const key = requireRole(c, "tasks.adjudicate");
    const q = await queueFor(store, key, segment(c, "id"));
    const taskId = segment(c, "taskId");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, AdjudicateBody);
    return c.json(await adjudicateTask(store, key.project, q, key.name, taskId, b, Date.now()));
  });

  app.get("/v1/queues", async (c) => {
    const key = requireRole(c, "queues.list");
    const now = Date.now();
    const annotator = annotatorOf(key);
    const queues = (await store.queues.list(key.project)).filter((q) => annotator === undefined || openTo(q, annotator));
    const out = [];
    for (const q of queues) out.push(await queueView(store, key.project, q, now, annotator));
    return c.json({ queues: out });
  });

  app.get("/v1/queues/:id", async (c) => {
    const key = requireRole(c, "queues.read");
    const q = await queueFor(store, key, segment(c, "id"));
    return c.json({ queue: await queueView(store, key.project, q, Date.now(), annotatorOf(key)) });
  });

  app.delete("/v1/queues/:id", async (c) => {
    const key = requireRole(c, "queues.delete");
    return c.json(await deleteQueue(store, key.project, segment(c, "id")));
  });

  app.get("/v1/queues/:id/tasks", async (c) => {
    const key = requireRole(c, "queues.tasks");
    const q = await queueFor(store, key, segment(c, "id"));
    const page = parseQuery(c, TasksQuery);
    await chargePage(c, s, page.limit);
    return c.json(await queueTasks(store, key.project, q, page, Date.now()));
  });

  app.post("/v1/queues/:id/tasks/:taskId/release", async (c) => {
    const key = requireRole(c, "tasks.release");
    const q = await queueFor(store, key, segment(c, "id"));
    const taskId = segment(c, "taskId");
    const { annotator } = parseQuery(c, ReleaseQuery);
    return c.json({ released: await releaseTask(store, key.project, q, taskId, Date.now(), annotator) });
  });

  app.post("/v1/queues/:id/next", async (c) => {
    const key = requireRole(c, "tasks.take");
    const q = await queueFor(store, key, segment(c, "id"));
    return c.json({ task: await nextTask(store, key.project, q, key.name, Date.now()) });
  });

  /** The queue, and the task with this annotator's claim on it; 404 when they hold none. */
  const held = async (c: Ctx, key: ApiKey) => {
    const q = await queueFor(store, key, segment(c, "id"));
    return { q, held: await heldTask(store, key.project, q, segment(c, "taskId"), key.name) };
  };

  app.get("/v1/queues/:id/tasks/:taskId", async (c) => {
    const key = requireRole(c, "tasks.read");
    const { q, held: h } = await held(c, key);
    return c.json({ task: { ...(await taskView(store, key.project, q, h.task, h.claim)), status: h.claim.status } });
  });

  app.put("/v1/queues/:id/tasks/:taskId/draft", async (c) => {
    const key = requireRole(c, "tasks.draft");
    const { q, held: h } = await held(c, key);
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, DraftBody);
    await saveDraft(store, key.project, q, h, key.name, b.answers, Date.now());
    return c.body(null, 204);
  });

  app.post("/v1/queues/:id/tasks/:taskId/skip", async (c) => {
    const key = requireRole(c, "tasks.skip");
    const { q, held: h } = await held(c, key);
    await skipTask(store, key.project, q, h, key.name, Date.now());
    return c.body(null, 204);
  });

  app.post("/v1/queues/:id/tasks/:taskId/submit", async (c) => {
    const key = requireRole(c, "tasks.submit");
    const { q, held: h } = await held(c, key);
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, SubmitBody);
    return c.json(await submitAnswers(store, key.project, q, h, key.name, b, Date.now()));
  });
}
