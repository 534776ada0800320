/**
 * Annotation queues over HTTP: an admin makes a queue from a selection of stored generations (one per task,
 * pairs, or lists of an item) and the questions to ask; annotators (annotate keys, whose name is the
 * annotator) take the next task, which is locked to them, keep drafts, skip, and submit answers that become
 * typed feedback records. Pairs and lists are shown in a random order per annotator, recorded with the claim;
 * answers refer to what was shown ("first" = shown first) and are stored relative to the feedback's targets.
 */
import { createHash, randomInt, randomUUID } from "node:crypto";
import type { Hono } from "hono";
import { createRng } from "../eval/random.js";
import { correctionToPairwise } from "../feedback/convert.js";
import type { Feedback, FeedbackInput, Generation, Item } from "../feedback/schema.js";
import type { FieldIssue } from "../errors.js";
import type { ApiKey, Claim, QueueRecord, QueueTask, Store, TaskInput } from "../store/index.js";
import { jsonBody } from "./body.js";
import { type Ctx, type Env, type Settings, parseQuery, requireRole } from "./context.js";
import { ApiError, badRequest, notFound, zodIssues } from "./errors.js";
import {
  ANSWER_SCHEMAS,
  COMPARATIVE,
  CreateQueueBody,
  DraftBody,
  type Question,
  type QueueDefinition,
  ReleaseQuery,
  type Selection,
  SubmitBody,
  TasksQuery,
} from "./queue-spec.js";

export const DEFAULT_LOCK_SECONDS = 600;
const MAX_TASKS = 100_000;

/** A path segment as an id (queue and task ids are plain). */
function segment(c: Ctx, name: string): string {
  const v = c.req.param(name) ?? "";
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(v)) throw notFound(`${name === "id" ? "queue" : "task"} "${v.slice(0, 100)}" not found`);
  return v;
}

export function definitionOf(q: QueueRecord): QueueDefinition {
  return q.definition as unknown as QueueDefinition;
}

/** May this key see the queue? Annotators only when the queue names them (or names no one). */
function visible(key: ApiKey, q: QueueRecord): boolean {
  if (key.role !== "annotate") return true;
  const allowed = definitionOf(q).annotators;
  return !allowed || allowed.includes(key.name);
}

// ------------------------------------------------------------- selection ---

function shuffleInPlace<T>(xs: T[], next: (n: number) => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = next(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** The tasks a selection makes, in queue order. */
export async function tasksOf(store: Store, project: string, sel: Selection): Promise<TaskInput[]> {
  const tooMany = () =>
    badRequest(`the selection makes more than ${MAX_TASKS} tasks; narrow it (dataset, itemIds, policies) or sample`, [
      { path: "selection", message: `makes more than ${MAX_TASKS} tasks` },
    ]);
  let allowedItems: Set<string> | undefined;
  if (sel.dataset !== undefined) {
    allowedItems = new Set();
    for await (const it of store.iterateItems({ project, dataset: sel.dataset })) allowedItems.add(it.id);
  }
  if (sel.itemIds) {
    const ids = new Set(sel.itemIds);
    allowedItems = allowedItems ? new Set([...allowedItems].filter((i) => ids.has(i))) : ids;
  }
  const policyRank = new Map((sel.policies ?? []).map((p, i) => [p, i]));
  const byPolicyThenId = (a: Generation, b: Generation) =>
    (policyRank.get(a.policy) ?? 0) - (policyRank.get(b.policy) ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  let tasks: TaskInput[] = [];
  const explicit = async (ids: string[], path: (i: number) => string): Promise<Generation[]> => {
    const out: Generation[] = [];
    const issues: FieldIssue[] = [];
    for (let i = 0; i < ids.length; i++) {
      const g = await store.getGeneration(project, ids[i]!);
      if (!g) issues.push({ path: path(i), message: `generation "${ids[i]}" does not exist` });
      else out.push(g);
    }
    if (issues.length) throw badRequest(`invalid body: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
    return out;
  };
  if (sel.pairs) {
    const flat = sel.pairs.flat();
    const gens = await explicit(flat, (i) => `selection.pairs.${Math.floor(i / 2)}.${i % 2}`);
    const issues: FieldIssue[] = [];
    for (let i = 0; i < gens.length; i += 2) {
      const a = gens[i]!;
      const b = gens[i + 1]!;
      if (a.id === b.id) issues.push({ path: `selection.pairs.${i / 2}`, message: "a pair needs two different generations" });
      else if (a.itemId !== b.itemId) issues.push({ path: `selection.pairs.${i / 2}.1`, message: `answers item "${b.itemId}", not "${a.itemId}" like the first` });
      else if (!allowedItems || allowedItems.has(a.itemId)) tasks.push({ itemId: a.itemId, generationIds: [a.id, b.id] });
    }
    if (issues.length) throw badRequest(`invalid body: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues);
  } else if (sel.generationIds) {
    const gens = await explicit(sel.generationIds, (i) => `selection.generationIds.${i}`);
    for (const g of gens) if (!allowedItems || allowedItems.has(g.itemId)) tasks.push({ itemId: g.itemId, generationIds: [g.id] });
  } else {
    const byItem = new Map<string, Generation[]>();
    const single = sel.policies?.length === 1 ? sel.policies[0] : undefined;
    let count = 0;
    for await (const g of store.iterateGenerations({ project, ...(single !== undefined ? { policy: single } : {}) })) {
      if (allowedItems && !allowedItems.has(g.itemId)) continue;
      if (sel.policies ? !policyRank.has(g.policy) : g.policy.startsWith("correction:")) continue;
      let list = byItem.get(g.itemId);
      if (!list) byItem.set(g.itemId, (list = []));
      list.push(g);
      if (++count > MAX_TASKS * 4) throw tooMany();
    }
    for (const [itemId, gens] of byItem) {
      gens.sort(byPolicyThenId);
      if (sel.mode === "generations") {
        for (const g of gens) tasks.push({ itemId, generationIds: [g.id] });
      } else if (sel.mode === "pairs") {
        for (let i = 0; i < gens.length; i++) {
          for (let j = i + 1; j < gens.length; j++) {
            if (sel.policies && gens[i]!.policy === gens[j]!.policy) continue;
            tasks.push({ itemId, generationIds: [gens[i]!.id, gens[j]!.id] });
          }
        }
      } else if (gens.length >= 2) {
        tasks.push({ itemId, generationIds: gens.map((g) => g.id) });
      }
      if (tasks.length > MAX_TASKS * 4) throw tooMany();
    }
  }
  if (sel.sample) {
    const rng = createRng(sel.sample.seed ?? 0);
    tasks = shuffleInPlace(tasks, (n) => rng.int(n)).slice(0, sel.sample.n);
  }
  if (tasks.length > MAX_TASKS) throw tooMany();
  return tasks;
}

// ----------------------------------------------------------------- views ---

export function queueView(q: QueueRecord, progress?: unknown, mine?: unknown): Record<string, unknown> {
  const d = definitionOf(q);
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
    ...(progress !== undefined ? { progress } : {}),
    ...(mine !== undefined ? { mine } : {}),
  };
}

/** Generations as shown: blind (no id, no policy), in the claim's order. */
async function taskView(store: Store, project: string, q: QueueRecord, task: QueueTask, claim: Claim): Promise<Record<string, unknown>> {
  const item = (await store.getItem(project, task.itemId)) as Item;
  const gens = await Promise.all(task.generationIds.map((g) => store.getGeneration(project, g)));
  const d = definitionOf(q);
  return {
    id: task.id,
    queueId: q.id,
    item: { id: item.id, prompt: item.prompt, ...(item.reference !== undefined ? { reference: item.reference } : {}), ...(item.dataset !== undefined ? { dataset: item.dataset } : {}) },
    generations: claim.shownOrder.map((i, slot) => ({ slot, output: gens[i]?.output ?? "" })),
    questions: d.questions,
    ...(d.instructions !== undefined ? { instructions: d.instructions } : {}),
    ...(claim.draft !== undefined ? { draft: claim.draft } : {}),
    lockedUntil: new Date(claim.lockedUntil).toISOString(),
  };
}

// --------------------------------------------------------------- answers ---

function feedbackId(queueId: string, taskId: string, annotator: string, questionId: string, index?: number): string {
  const id = `queue:${queueId}:${taskId}:${annotator}:${questionId}${index !== undefined ? `:${index}` : ""}`;
  if (id.length <= 400 && !/[\u0000-\u001f]/.test(id)) return id;
  return `queue:${queueId}:${taskId}:${createHash("sha256").update(`${annotator}\u0000${questionId}\u0000${index ?? ""}`).digest("hex").slice(0, 32)}`;
}

interface Built {
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
    const raw = answers[q.id];
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
        const bad = a.ranks.findIndex((x) => x > n);
        if (bad >= 0) {
          issue(`${q.id}.ranks.${bad}`, `must be from 1 to ${n}`);
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
            const got = a.criteria[c.id];
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

// ---------------------------------------------------------------- routes ---

export function queueRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;

  /** The queue in the key's project, visible to the key; 404 otherwise. */
  const queueFor = async (key: ApiKey, id: string): Promise<QueueRecord> => {
    const q = await store.queues.get(key.project, id);
    if (!q || !visible(key, q)) throw notFound(`queue "${id}" not found`);
    return q;
  };

  /** An annotate key's own counts in a queue. */
  const mineOf = async (key: ApiKey, queueId: string, now: number) =>
    key.role === "annotate" ? store.queues.annotatorProgress(key.project, queueId, key.name, now) : undefined;

  /** The answer to a repeated submission: the same ids, nothing written. */
  const replay = async (project: string, feedbackIds: string[]) => {
    const generations: string[] = [];
    for (const id of feedbackIds) if (await store.getGeneration(project, `${id}:corrected`)) generations.push(`${id}:corrected`);
    return { feedback: feedbackIds, generations, replayed: true };
  };

  app.post("/v1/queues", async (c) => {
    const key = requireRole(c, ["admin"], "create queues");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, CreateQueueBody);
    const tasks = await tasksOf(store, key.project, b.selection);
    if (tasks.length === 0) {
      throw badRequest("invalid body: selection: matches no stored generations (check dataset, itemIds, policies and mode)", [
        { path: "selection", message: "matches no stored generations" },
      ]);
    }
    const definition: QueueDefinition = {
      ...(b.instructions !== undefined ? { instructions: b.instructions } : {}),
      selection: b.selection,
      questions: b.questions,
      ...(b.annotators ? { annotators: b.annotators } : {}),
    };
    const q = await store.queues.create(
      {
        project: key.project,
        id: b.id ?? randomUUID(),
        name: b.name,
        annotatorsPerItem: b.annotatorsPerItem ?? 1,
        lockSeconds: b.lockSeconds ?? DEFAULT_LOCK_SECONDS,
        definition: definition as unknown as Record<string, unknown>,
      },
      tasks,
    );
    return c.json({ queue: queueView(q, await store.queues.progress(key.project, q.id, Date.now())) }, 201);
  });

  app.get("/v1/queues", async (c) => {
    const key = requireRole(c, ["admin", "read", "annotate"], "list queues");
    const now = Date.now();
    const queues = (await store.queues.list(key.project)).filter((q) => visible(key, q));
    const out = [];
    for (const q of queues) out.push(queueView(q, await store.queues.progress(key.project, q.id, now), await mineOf(key, q.id, now)));
    return c.json({ queues: out });
  });

  app.get("/v1/queues/:id", async (c) => {
    const key = requireRole(c, ["admin", "read", "annotate"], "read queues");
    const q = await queueFor(key, segment(c, "id"));
    const now = Date.now();
    return c.json({ queue: queueView(q, await store.queues.progress(key.project, q.id, now), await mineOf(key, q.id, now)) });
  });

  app.delete("/v1/queues/:id", async (c) => {
    const key = requireRole(c, ["admin"], "delete queues");
    const id = segment(c, "id");
    const removed = await store.queues.remove(key.project, id);
    if (!removed) throw notFound(`queue "${id}" not found`);
    return c.json({ queue: id, ...removed });
  });

  // Admin view of a queue's tasks: who holds, submitted or skipped each (drafts are not shown, only whether one exists).
  app.get("/v1/queues/:id/tasks", async (c) => {
    const key = requireRole(c, ["admin", "read"], "list a queue's tasks");
    const q = await queueFor(key, segment(c, "id"));
    const { offset, limit } = parseQuery(c, TasksQuery);
    const now = Date.now();
    const tasks = await store.queues.tasks(key.project, q.id, { offset, limit });
    const claims = await store.queues.claims(key.project, q.id, undefined, { taskIds: tasks.map((t) => t.id) });
    const byTask = new Map<string, typeof claims>();
    for (const cl of claims) byTask.set(cl.taskId, [...(byTask.get(cl.taskId) ?? []), cl]);
    const progress = await store.queues.progress(key.project, q.id, now);
    return c.json({
      total: progress.tasks,
      offset,
      tasks: tasks.map((t) => ({
        id: t.id,
        position: t.position,
        itemId: t.itemId,
        generationIds: t.generationIds,
        claims: (byTask.get(t.id) ?? [])
          // An expired lock holds nothing: it shows as "expired" (the annotator gets the task back if it is still open).
          .map((cl) => ({
            annotator: cl.annotator,
            status: cl.status === "locked" && cl.lockedUntil <= now ? "expired" : cl.status,
            ...(cl.status === "locked" && cl.lockedUntil > now ? { lockedUntil: new Date(cl.lockedUntil).toISOString() } : {}),
            hasDraft: cl.draft !== undefined && cl.draft !== null,
            updatedAt: cl.updatedAt,
          })),
      })),
    });
  });

  app.post("/v1/queues/:id/tasks/:taskId/release", async (c) => {
    const key = requireRole(c, ["admin"], "release tasks");
    const q = await queueFor(key, segment(c, "id"));
    const taskId = segment(c, "taskId");
    const { annotator } = parseQuery(c, ReleaseQuery);
    if (!(await store.queues.task(key.project, q.id, taskId))) throw notFound(`task "${taskId}" of queue "${q.id}" not found`);
    return c.json({ released: await store.queues.release(key.project, q.id, taskId, Date.now(), annotator) });
  });

  app.post("/v1/queues/:id/next", async (c) => {
    const key = requireRole(c, ["annotate", "admin"], "take tasks");
    const q = await queueFor(key, segment(c, "id"));
    const got = await store.queues.next(key.project, q.id, key.name, {
      now: Date.now(),
      // Pairs and lists are shown in a random order, recorded with the claim (position bias is then measurable).
      shuffle: (n) => shuffleInPlace([...Array(n).keys()], (k) => randomInt(k)),
    });
    if (!got) return c.json({ task: null });
    return c.json({ task: await taskView(store, key.project, q, got.task, got.claim) });
  });

  /** The task and this annotator's claim on it; 404 when they hold none (other annotators' tasks stay invisible). */
  const heldTask = async (c: Ctx, key: ApiKey) => {
    const q = await queueFor(key, segment(c, "id"));
    const taskId = segment(c, "taskId");
    const task = await store.queues.task(key.project, q.id, taskId);
    const claim = task && (await store.queues.claim(key.project, q.id, taskId, key.name));
    if (!task || !claim) throw notFound(`task "${taskId}" of queue "${q.id}" not found among your tasks (call POST /v1/queues/${q.id}/next)`);
    return { q, task, claim };
  };

  app.get("/v1/queues/:id/tasks/:taskId", async (c) => {
    const key = requireRole(c, ["annotate", "admin"], "read tasks");
    const { q, task, claim } = await heldTask(c, key);
    return c.json({ task: { ...(await taskView(store, key.project, q, task, claim)), status: claim.status } });
  });

  app.put("/v1/queues/:id/tasks/:taskId/draft", async (c) => {
    const key = requireRole(c, ["annotate", "admin"], "save drafts");
    const { q, task, claim } = await heldTask(c, key);
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, DraftBody);
    if (claim.status !== "locked") throw new ApiError(409, "conflict", `task "${task.id}" is already ${claim.status}; drafts are for open tasks`);
    await store.queues.saveDraft(key.project, q.id, task.id, key.name, b.answers, Date.now());
    return c.body(null, 204);
  });

  app.post("/v1/queues/:id/tasks/:taskId/skip", async (c) => {
    const key = requireRole(c, ["annotate", "admin"], "skip tasks");
    const { q, task, claim } = await heldTask(c, key);
    if (claim.status === "submitted") throw new ApiError(409, "conflict", `task "${task.id}" was already submitted`);
    await store.queues.skip(key.project, q.id, task.id, key.name, Date.now());
    return c.body(null, 204);
  });

  app.post("/v1/queues/:id/tasks/:taskId/submit", async (c) => {
    const key = requireRole(c, ["annotate", "admin"], "submit tasks");
    const { q, task, claim } = await heldTask(c, key);
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, SubmitBody);
    if (claim.status === "submitted" && claim.submissionId === b.submissionId) return c.json(await replay(key.project, claim.feedbackIds ?? []));
    const generations = await Promise.all(task.generationIds.map((g) => store.getGeneration(key.project, g)));
    if (generations.some((g) => !g)) throw new ApiError(409, "conflict", `a generation of task "${task.id}" is no longer stored`);
    const built = buildRecords({
      project: key.project,
      queue: q,
      task,
      claim,
      annotator: key.name,
      submissionId: b.submissionId,
      answers: b.answers,
      generations: generations as Generation[],
    });
    if (built.issues.length) {
      throw badRequest(`invalid answers: ${built.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, built.issues);
    }
    if (built.feedback.length === 0) throw badRequest("invalid answers: answer at least one question", [{ path: "answers", message: "answer at least one question" }]);
    const ids = built.feedback.map((f) => f.id as string);
    const r = await store.queues.submit(key.project, q.id, task.id, key.name, {
      submissionId: b.submissionId,
      records: { feedback: built.feedback, generations: built.generations },
      feedbackIds: ids,
      now: Date.now(),
    });
    if (r.status === "replayed") return c.json(await replay(key.project, r.feedbackIds));
    return c.json({ feedback: ids, generations: built.generations.map((g) => g.id), replayed: false });
  });
}
