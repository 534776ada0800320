/**
 * A queue straight from the router of judges' disagreement (Hybrid Preferences, Miranda et al. 2024): the
 * stored pairs whose judges disagree most (no human label yet) become the pair tasks of a new queue, most
 * contested first, so that human effort goes where the AI feedback is least reliable.
 */
import { ValidationError, zodIssues } from "../errors.js";
import type { QueueRecord, Store } from "../store/index.js";
import { routePairs } from "../sources/index.js";
import { CreateQueueBody, type RouteQueueBody } from "./schema.js";
import { createQueue } from "./service.js";

export const DEFAULT_ROUTE_QUESTION = { id: "preference", kind: "pairwise", prompt: "Which response is better?", allowTie: true } as const;

/** Creates the queue; the pairs it holds are returned too (in task order), with their disagreement. */
export async function queueFromRoute(store: Store, project: string, b: RouteQueueBody): Promise<{ queue: QueueRecord; pairs: { generations: [string, string]; disagreement: number; judges: number }[] }> {
  const routed = await routePairs(store, { project, budget: b.budget, minJudges: b.minJudges, ...(b.includeLabelled ? { includeLabelled: true } : {}) });
  if (routed.length === 0) {
    throw new ValidationError(
      [{ path: "minJudges", message: `no stored pair has pairwise verdicts from ${b.minJudges} or more judges${b.includeLabelled ? "" : " and no human label yet"}` }],
      undefined,
      "body",
      `no pairs to route: none has verdicts from at least ${b.minJudges} judges${b.includeLabelled ? "" : " without a human label"} (judge pairs with \`rlxf judge pairwise\`, or lower minJudges)`,
    );
  }
  const body = {
    ...(b.id !== undefined ? { id: b.id } : {}),
    name: b.name,
    ...(b.instructions !== undefined ? { instructions: b.instructions } : {}),
    selection: { mode: "pairs" as const, pairs: routed.map((r) => [r.generation_1, r.generation_2] as [string, string]) },
    questions: b.questions ?? [DEFAULT_ROUTE_QUESTION],
    ...(b.annotatorsPerItem !== undefined ? { annotatorsPerItem: b.annotatorsPerItem } : {}),
    ...(b.lockSeconds !== undefined ? { lockSeconds: b.lockSeconds } : {}),
    ...(b.annotators ? { annotators: b.annotators } : {}),
    ...(b.suggestions ? { suggestions: b.suggestions } : {}),
  };
  const parsed = CreateQueueBody.safeParse(body);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    throw new ValidationError(issues, undefined, "body", `invalid body: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
  }
  const queue = await createQueue(store, project, parsed.data);
  return { queue, pairs: routed.map((r) => ({ generations: [r.generation_1, r.generation_2], disagreement: r.disagreement, judges: r.n })) };
}
