/**
 * A queue's dashboard numbers: progress, each annotator's submissions and skips, and per question the
 * agreement of its answers (the eval room's measures) and of AI judgements on the same outputs with the humans.
 */
import { annotationAgreement, comparableWithJudges } from "../eval/index.js";
import type { QueueRecord, Store } from "../store/index.js";
import { definitionOf } from "./definition.js";
import { type QueueStats, type QuestionStats, feedbackKindOf } from "./schema.js";

/** Sources whose judgements are compared with the human consensus. */
const JUDGE_TYPES = ["judge", "simulated", "critic"];

export async function queueStats(store: Store, project: string, q: QueueRecord, now: number): Promise<QueueStats> {
  const progress = await store.queues.progress(project, q.id, now);
  const claims = await store.queues.claims(project, q.id);
  const submitted = claims.filter((c) => c.status === "submitted");
  const feedback = await store.queues.feedbackByIds(project, submitted.flatMap((c) => c.feedbackIds ?? []));
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
