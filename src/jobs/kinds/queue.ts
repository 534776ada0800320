/**
 * `queue`: an annotation queue created from a large selection of stored outputs (what `POST /v1/queues` does
 * inline for small ones): the selection is read and the tasks written off the request path.
 */
import { randomUUID } from "node:crypto";
import { ValidationError } from "../../errors.js";
import { CreateQueueBody, type CreateQueueBody as QueueBody, DEFAULT_LOCK_SECONDS, type QueueDefinition, tasksOf } from "../../queues/index.js";
import type { JobKind } from "../types.js";

export const queueKind: JobKind<QueueBody> = {
  name: "queue",
  description: "an annotation queue from a (large) selection of stored outputs",
  input: CreateQueueBody,
  roles: ["admin"],
  maxAttempts: 2,
  async check(input, env) {
    if (input.id !== undefined && (await env.store.queues.get(env.project, input.id))) {
      throw new ValidationError([{ path: "id", message: `a queue "${input.id}" already exists in this project` }], undefined, "job input");
    }
  },
  split: (input) => ({ input: { ...input, id: input.id ?? randomUUID() }, split: { phase: "whole" } }),
  async runWhole(ctx) {
    const b = ctx.job.input;
    const project = ctx.job.project;
    const existing = await ctx.store.queues.get(project, b.id!);
    // An earlier attempt may have created it before stopping.
    if (existing) return { queue: existing.id, tasks: (await ctx.store.queues.progress(project, existing.id, Date.now())) };
    ctx.progress(0, null, "reading the selection");
    const tasks = await tasksOf(ctx.store, project, b.selection);
    if (tasks.length === 0) throw new ValidationError([{ path: "selection", message: "matches no stored generations (check dataset, itemIds, policies and mode)" }], undefined, "job input");
    if (ctx.signal.aborted) throw ctx.signal.reason;
    ctx.progress(0, tasks.length, "creating the tasks");
    const definition: QueueDefinition = {
      ...(b.instructions !== undefined ? { instructions: b.instructions } : {}),
      selection: b.selection,
      questions: b.questions,
      ...(b.annotators ? { annotators: b.annotators } : {}),
    };
    const q = await ctx.store.queues.create(
      { project, id: b.id!, name: b.name, annotatorsPerItem: b.annotatorsPerItem ?? 1, lockSeconds: b.lockSeconds ?? DEFAULT_LOCK_SECONDS, definition },
      tasks,
    );
    ctx.progress(tasks.length, tasks.length);
    return { queue: q.id, tasks: tasks.length };
  },
};
