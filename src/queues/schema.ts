/**
 * Schemas of annotation queues: the questions a queue asks (one per feedback kind, as Argilla's questions and
 * Label Studio's LLM templates do), the body that creates a queue, and the answers an annotator submits.
 * The only declaration of these shapes: the queue room validates with them, the API document is generated
 * from them, and the client and the web app take their types (this file imports nothing that needs Node).
 */
import { z } from "zod";
import { AnnotationAgreement } from "../eval/schema.js";
import { type FeedbackKind, Id, Name, Prompt } from "../feedback/schema.js";

/**
 * Metadata keys that only a queue submission sets on the feedback it stores (the API refuses them in records
 * other keys send), so no record can pass for an annotator's queue work. Which queue a record came through is
 * kept by the store beside the record, never read from its metadata.
 */
export const RESERVED_METADATA_KEYS = ["queueId", "questionId", "submissionId", "shownOrder", "shownChoice", "shownRanks"] as const;
/** Ids of the feedback (and corrected generations) a queue submission stores start with this; the API refuses it in other writes. */
export const QUEUE_ID_PREFIX = "queue:";

export const QUESTION_KINDS = ["pairwise", "ranking", "rating", "binary", "critique", "span", "rubric", "correction"] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];
/** Kinds that compare the generations of a task (they need pair or list tasks). */
export const COMPARATIVE: ReadonlySet<QuestionKind> = new Set(["pairwise", "ranking"]);

/** The kind of feedback an answer to a question of this kind is stored as. */
export function feedbackKindOf(kind: QuestionKind): FeedbackKind {
  return kind === "span" ? "spans" : kind;
}

/**
 * Question and criterion ids key the answers (plain JSON objects), so a name every JavaScript object
 * already has (`constructor`, `toString`, `__proto__`...) is refused: it would read as an answer never given.
 */
const QuestionId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '_', '.' or '-'")
  .superRefine((s, ctx) => {
    if (s in Object.prototype || s.startsWith("__")) ctx.addIssue({ code: "custom", message: `"${s}" is reserved (every JavaScript object has it); pick another id` });
  })
  .describe("the question's id, unique in the queue; answers are keyed by it (not a name JavaScript objects already have, such as constructor)");

const finite = () => z.number().refine(Number.isFinite, "must be a finite number");

const base = {
  id: QuestionId,
  prompt: z.string().min(1, "must say what to judge").max(4000),
  /** Shown under the prompt. */
  description: z.string().max(20_000).optional(),
  required: z.boolean().optional().describe("must be answered to submit (default true)"),
};

export const PairwiseQuestion = z.strictObject({
  ...base,
  kind: z.literal("pairwise"),
  allowTie: z.boolean().optional().describe("offer a tie (default true)"),
  strength: z.boolean().optional().describe("ask how much better, 0..1 (default false)"),
});
export const RankingQuestion = z.strictObject({ ...base, kind: z.literal("ranking") });
export const RatingQuestion = z
  .strictObject({
    ...base,
    kind: z.literal("rating"),
    min: finite(),
    max: finite(),
    step: z.number().positive().optional().describe("allowed increments from min (default 1)"),
    labels: z.record(z.string(), z.string()).optional().describe('labels of some scores, e.g. {"1": "bad", "5": "excellent"}'),
    dimension: z.string().min(1).max(200).optional().describe("the rating's dimension in the feedback (default the question id)"),
  })
  .refine((q) => q.max > q.min, { message: "max must be greater than min", path: ["max"] });
export const BinaryQuestion = z.strictObject({
  ...base,
  kind: z.literal("binary"),
  labels: z.strictObject({ yes: z.string().min(1), no: z.string().min(1) }).optional().describe("button labels (default Yes/No)"),
});
export const CritiqueQuestion = z.strictObject({
  ...base,
  kind: z.literal("critique"),
  verdict: z.boolean().optional().describe("ask for a pass/fail verdict (default true)"),
});
export const SpanQuestion = z.strictObject({
  ...base,
  kind: z.literal("span"),
  labels: z.array(z.string().min(1).max(100)).min(1, "a span question needs at least one label").max(50),
});
export const RubricCriterionSpec = z.strictObject({
  id: QuestionId,
  description: z.string().min(1).max(4000),
  weight: z.number().min(0).optional(),
  maxScore: z.number().positive().optional().describe("scored criteria: the best score (default: pass/fail)"),
});
export const RubricQuestion = z.strictObject({
  ...base,
  kind: z.literal("rubric"),
  criteria: z.array(RubricCriterionSpec).min(1, "a rubric needs at least one criterion").max(100),
});
export const CorrectionQuestion = z.strictObject({ ...base, kind: z.literal("correction") });

export const Question = z.discriminatedUnion("kind", [
  PairwiseQuestion,
  RankingQuestion,
  RatingQuestion,
  BinaryQuestion,
  CritiqueQuestion,
  SpanQuestion,
  RubricQuestion,
  CorrectionQuestion,
]);
export type Question = z.infer<typeof Question>;

export const SELECTION_MODES = ["generations", "pairs", "lists"] as const;

export const Selection = z
  .strictObject({
    mode: z.enum(SELECTION_MODES).describe("generations: one task per generation; pairs: one per pair of generations of an item; lists: one per item with all its generations"),
    dataset: Name.optional().describe("only items of this dataset"),
    itemIds: z.array(Id).min(1).max(100_000).optional().describe("only these items"),
    policies: z.array(Name).min(1).max(1000).optional().describe("only generations of these policies (pairs: between two different ones, in this order)"),
    pairs: z.array(z.tuple([Id, Id])).min(1).max(100_000).optional().describe("pairs mode: exactly these pairs of generation ids"),
    generationIds: z.array(Id).min(1).max(100_000).optional().describe("generations mode: exactly these generations"),
    sample: z
      .strictObject({ n: z.number().int().min(1).max(100_000), seed: z.number().int().min(0).max(2 ** 31 - 1).optional() })
      .optional()
      .describe("a seeded random sample of n tasks (seed default 0)"),
  })
  .superRefine((s, ctx) => {
    if (s.pairs && s.mode !== "pairs") ctx.addIssue({ code: "custom", path: ["pairs"], message: 'is only for mode "pairs"' });
    if (s.generationIds && s.mode !== "generations") ctx.addIssue({ code: "custom", path: ["generationIds"], message: 'is only for mode "generations"' });
  });
export type Selection = z.infer<typeof Selection>;

export const CreateQueueBody = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,128}$/, "must be 1-128 letters, digits, '_', '.' or '-'")
      .optional()
      .describe("default: a random id"),
    name: z.string().min(1, "must be a non-empty string").max(500),
    instructions: z.string().max(100_000).optional().describe("shown to annotators (Markdown)"),
    selection: Selection,
    questions: z.array(Question).min(1, "a queue asks at least one question").max(50),
    annotatorsPerItem: z.number().int().min(1).max(100).optional().describe("distinct annotators each task needs (default 1)"),
    lockSeconds: z.number().int().min(1).max(7 * 86400).optional().describe("how long a task stays locked to the annotator who got it (default 600)"),
    annotators: z.array(Name).min(1).max(10_000).optional().describe("only these annotators (annotate key names) may work on it; default anyone in the project"),
  })
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    b.questions.forEach((q, i) => {
      if (seen.has(q.id)) ctx.addIssue({ code: "custom", path: ["questions", i, "id"], message: `question id "${q.id}" is used twice` });
      seen.add(q.id);
      if (COMPARATIVE.has(q.kind) && b.selection.mode === "generations") {
        ctx.addIssue({ code: "custom", path: ["questions", i, "kind"], message: `a ${q.kind} question needs tasks of several generations (selection.mode "pairs" or "lists")` });
      }
      if (q.kind === "pairwise" && b.selection.mode === "lists") {
        ctx.addIssue({ code: "custom", path: ["questions", i, "kind"], message: 'a pairwise question needs pair tasks (selection.mode "pairs"); use ranking for lists' });
      }
      if (q.kind === "rubric") {
        const ids = new Set<string>();
        q.criteria.forEach((c, j) => {
          if (ids.has(c.id)) ctx.addIssue({ code: "custom", path: ["questions", i, "criteria", j, "id"], message: `criterion id "${c.id}" is used twice` });
          ids.add(c.id);
        });
      }
    });
  });
export type CreateQueueBody = z.infer<typeof CreateQueueBody>;

/** The definition kept with a stored queue. */
export const QueueDefinition = z.object({
  instructions: z.string().optional(),
  selection: Selection,
  questions: z.array(Question),
  annotators: z.array(z.string()).optional(),
});
export type QueueDefinition = z.infer<typeof QueueDefinition>;

export const DraftBody = z.strictObject({ answers: z.record(z.string(), z.unknown()).describe("answers so far, any shape (kept as sent)") });

export const TasksQuery = z.strictObject({
  offset: z.coerce.number().int().min(0).default(0).describe("tasks to skip, in queue order"),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe("most tasks returned"),
});

export const ReleaseQuery = z.strictObject({
  annotator: Name.optional().describe("free only this annotator's lock (default: every live lock on the task)"),
});

export const SubmitBody = z.strictObject({
  submissionId: Id.describe("chosen by the client once per submission; a retry with the same id returns the same feedback ids and stores nothing new"),
  answers: z.record(z.string(), z.unknown()).describe("question id → answer (see the queue's questions)"),
});

// ----------------------------------------------------------------- answers ---

const comment = z.string().max(100_000).optional();

export const PairwiseAnswer = z.strictObject({
  choice: z.enum(["first", "second", "tie"], { message: 'must be "first", "second" (as shown) or "tie"' }),
  strength: z.number().min(0, "must be between 0 and 1").max(1, "must be between 0 and 1").optional(),
  comment,
});
export const RankingAnswer = z.strictObject({ ranks: z.array(z.number().int("must be an integer rank").min(1, "ranks start at 1")), comment });
export const RatingAnswer = z.union([finite(), z.strictObject({ score: finite(), comment })]);
export const BinaryAnswer = z.union([z.boolean(), z.strictObject({ ok: z.boolean(), comment })]);
export const CritiqueAnswer = z.strictObject({
  text: z.string().max(100_000).optional(),
  strengths: z.array(z.string().max(10_000)).max(100).optional(),
  weaknesses: z.array(z.string().max(10_000)).max(100).optional(),
  suggestions: z.array(z.string().max(10_000)).max(100).optional(),
  verdict: z.enum(["pass", "fail"]).optional(),
});
export const SpanAnswer = z.strictObject({
  spans: z
    .array(
      z.strictObject({
        start: z.number().int().min(0, "must be a non-negative UTF-16 offset"),
        end: z.number().int(),
        label: z.string().min(1),
        comment,
      }),
    )
    .max(1000),
});
export const RubricAnswer = z.strictObject({
  criteria: z.record(
    z.string(),
    z.union([z.boolean(), z.strictObject({ passed: z.boolean().optional(), score: finite().optional(), rationale: z.string().max(10_000).optional() })]),
  ),
  comment,
});
export const CorrectionAnswer = z.strictObject({ output: z.string().max(1_000_000), comment });

export const ANSWER_SCHEMAS: Record<QuestionKind, z.ZodType> = {
  pairwise: PairwiseAnswer,
  ranking: RankingAnswer,
  rating: RatingAnswer,
  binary: BinaryAnswer,
  critique: CritiqueAnswer,
  span: SpanAnswer,
  rubric: RubricAnswer,
  correction: CorrectionAnswer,
};

// ---------------------------------------------------------------- answers ---

/** A queue's progress: tasks done (every submission they need), submissions, skips, live locks. */
export const Progress = z.object({
  tasks: z.number().int(),
  done: z.number().int().describe("tasks with all the submissions they need"),
  needed: z.number().int().describe("tasks × annotatorsPerItem"),
  submitted: z.number().int(),
  skipped: z.number().int(),
  inProgress: z.number().int().describe("tasks locked to an annotator now"),
});
export type Progress = z.infer<typeof Progress>;

export const AnnotatorProgress = z.object({ submitted: z.number().int(), skipped: z.number().int(), holding: z.number().int() });
export type AnnotatorProgress = z.infer<typeof AnnotatorProgress>;

export const QueueView = z.object({
  id: z.string(),
  name: z.string(),
  instructions: z.string().optional(),
  selection: Selection,
  questions: z.array(Question),
  annotatorsPerItem: z.number().int(),
  lockSeconds: z.number().int(),
  annotators: z.array(z.string()).optional(),
  createdAt: z.string(),
  progress: Progress,
  mine: AnnotatorProgress.optional().describe("annotate keys: their own counts"),
});
export type QueueView = z.infer<typeof QueueView>;

/** An output as an annotator sees it: blind (no id, no policy), in the order recorded for them. */
export const ShownGeneration = z.object({ slot: z.number().int(), output: z.string() });
export type ShownGeneration = z.infer<typeof ShownGeneration>;

export const TaskView = z.object({
  id: z.string(),
  queueId: z.string(),
  item: z.object({ id: z.string(), prompt: Prompt, reference: z.string().optional(), dataset: z.string().optional() }),
  generations: z.array(ShownGeneration).describe("in the order shown to this annotator (random, recorded); answers refer to slots"),
  questions: z.array(Question),
  instructions: z.string().optional(),
  draft: z.record(z.string(), z.unknown()).optional().describe("the answers saved with PUT .../draft, as sent"),
  lockedUntil: z.string(),
  status: z.enum(["locked", "submitted", "skipped"]).optional(),
});
export type TaskView = z.infer<typeof TaskView>;

export const SubmitResult = z.object({
  feedback: z.array(Id).describe("ids of the feedback records stored (or already stored under this submissionId)"),
  generations: z.array(Id).describe("generations made by corrections"),
  replayed: z.boolean().describe("true when this submissionId was already stored: nothing was written"),
});
export type SubmitResult = z.infer<typeof SubmitResult>;

export const TaskClaimView = z.object({
  annotator: z.string(),
  status: z.enum(["locked", "expired", "submitted", "skipped"]).describe("expired: a lock that ran out (it holds nothing)"),
  lockedUntil: z.string().optional().describe("live locks: until when"),
  hasDraft: z.boolean(),
  updatedAt: z.string(),
});
export const TaskStatusView = z.object({
  id: z.string(),
  position: z.number().int(),
  itemId: z.string(),
  generationIds: z.array(z.string()),
  claims: z.array(TaskClaimView),
});
export type TaskStatusView = z.infer<typeof TaskStatusView>;
export const QueueTaskList = z.object({
  total: z.number().int().describe("tasks in the queue"),
  offset: z.number().int(),
  tasks: z.array(TaskStatusView),
});
export type QueueTaskList = z.infer<typeof QueueTaskList>;

export const DeletedQueue = z.object({ queue: z.string(), tasks: z.number().int(), claims: z.number().int() });
export type DeletedQueue = z.infer<typeof DeletedQueue>;

// ------------------------------------------------------------- statistics ---

export const QuestionStats = AnnotationAgreement.extend({
  id: z.string(),
  kind: z.enum(QUESTION_KINDS),
  records: z.number().int().describe("feedback records submitted for this question"),
});
export type QuestionStats = z.infer<typeof QuestionStats>;
export const QueueStats = z.object({
  queueId: z.string(),
  progress: Progress,
  tasks: z.number().int(),
  annotators: z.array(z.object({ id: z.string(), submitted: z.number().int(), skipped: z.number().int() })),
  questions: z.array(QuestionStats),
});
export type QueueStats = z.infer<typeof QueueStats>;
