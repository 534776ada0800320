/**
 * A queue's dashboard numbers: progress, each annotator's submissions and skips, and per question the
 * agreement of its answers (the eval room's measures) and of AI judgements on the same outputs with the humans.
 */
import { RlxfError } from "../errors.js";
import { annotationAgreement, comparableWithJudges } from "../eval/index.js";
import type { QueueRecord, Store } from "../store/index.js";
import { definitionOf } from "./definition.js";
import { type QueueStats, type QuestionStats, feedbackKindOf } from "./schema.js";

/** Sources whose judgements are compared with the human consensus. */
const JUDGE_TYPES = ["judge", "simulated", "critic"];

export async function queueStats(
  store: Store,
  project: string,
  q: QueueRecord,
  now: number,
  opts: { maxRows?: number; tooMany?: (rows: number, max: number) => Error } = {},
): Promise<QueueStats> {
  const progress = await store.queues.progress(project, q.id, now);
  // The claims and the feedback submitted through them are what is read: refuse before reading too many.
  const rows = progress.submitted + progress.skipped + progress.inProgress;
  const max = opts.maxRows ?? Infinity;
  if (rows > max) throw opts.tooMany?.(rows, max) ?? new RlxfError("over_ceiling", `queue "${q.id}" has ${rows} claims, more than ${max} to read`, { field: "maxRows" });
  const claims = await store.queues.claims(project, q.id);
  const submitted = claims.filter((c) => c.status === "submitted");
  // Only records the store marked as submitted through this queue.
  const feedback = await store.queues.feedbackByIds(project, submitted.flatMap((c) => c.feedbackIds ?? []), q.id);
  const annotators = new Map<string, { submitted: number; skipped: number }>();
  for (const c of claims) {
    const a = annotators.get(c.annotator) ?? { submitted: 0, skipped: 0 };
    if (c.status === "submitted") a.submitted++;
    if (c.status === "skipped") a.skipped++;
    annotators.set(c.annotator, a);
  }

  const questions: QuestionStats[] = [];
  for (const question of definitionOf(q).questions) {
    const mine = feedback.filter((f) => f.metadata?.questionId === question.id);
    const kind = feedbackKindOf(question.kind);
    const judgements = comparableWithJudges(kind) ? await store.queues.feedbackOnGenerations(project, [...new Set(mine.flatMap((f) => f.targets))], JUDGE_TYPES) : [];
    questions.push({ id: question.id, kind: question.kind, records: mine.length, ...annotationAgreement(kind, mine, judgements) });
  }
  return {
    queueId: q.id,
    progress,
    tasks: progress.tasks,
    annotators: [...annotators].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([id, v]) => ({ id, ...v })),
    questions,
  };
}
