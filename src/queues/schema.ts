/**
 * Schemas of annotation queues: the questions a queue asks (one per feedback kind, as Argilla's questions and
 * Label Studio's LLM templates do), the body that creates a queue, and the answers an annotator submits.
 * The only declaration of these shapes: the queue room validates with them, the API document is generated
 * from them, and the client and the web app take their types (this file imports nothing that needs Node).
 */
import { z } from "zod";
import { AnnotationAgreement } from "../eval/schema.js";
import { Feedback, type FeedbackKind, Id, Name, Prompt, SOURCE_TYPES } from "../feedback/schema.js";

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

/**
 * Where the suggestion shown with a question comes from (Argilla's suggestions): feedback of the question's kind
 * on the task's generations, from this source (any source of the type when `id` is left out; the latest record
 * when several). A judge's pairwise verdict suggests a pairwise answer, a rating a rating (rescaled to the
 * question's scale), a verifier's result a yes/no, a critique a critique, and so on.
 */
export const SuggestionSource = z.strictObject({
  question: QuestionId.describe("the question the suggestion answers"),
  source: z.strictObject({
    type: z.enum(SOURCE_TYPES).describe("who gave the feedback: judge, critic, verifier, simulated, human, user"),
    id: Name.optional().describe("which one exactly (a judge config's name...); default: any of the type"),
  }),
});
export type SuggestionSource = z.infer<typeof SuggestionSource>;

const suggestionsFor = (path: string, questions: readonly { id: string }[], list: readonly SuggestionSource[], ctx: z.RefinementCtx) => {
  const ids = new Set(questions.map((q) => q.id));
  const seen = new Set<string>();
  list.forEach((s, i) => {
    if (!ids.has(s.question)) ctx.addIssue({ code: "custom", path: [path, i, "question"], message: `no question "${s.question}" in this queue` });
    if (seen.has(s.question)) ctx.addIssue({ code: "custom", path: [path, i, "question"], message: `question "${s.question}" has a suggestion already; give each question one source` });
    seen.add(s.question);
  });
};

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
    suggestions: z.array(SuggestionSource).max(50).optional().describe("per question, the source whose feedback is shown as a suggestion (accept it with one key, or answer otherwise)"),
  })
  .superRefine((b, ctx) => {
    if (b.suggestions) suggestionsFor("suggestions", b.questions, b.suggestions, ctx);
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
  suggestions: z.array(SuggestionSource).optional(),
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

/**
 * A queue of the stored pairs where judges disagree most (Hybrid Preferences' routing): `rlxf judge route --queue`
 * and `POST /v1/queues/from-route`.
 */
export const RouteQueueBody = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,128}$/, "must be 1-128 letters, digits, '_', '.' or '-'")
    .optional()
    .describe("default: a random id"),
  name: z.string().min(1, "must be a non-empty string").max(500),
  instructions: z.string().max(100_000).optional(),
  budget: z.number().int().min(1).max(100_000).default(50).describe("how many pairs, most contested first"),
  minJudges: z.number().int().min(1).max(100).default(2).describe("only pairs labelled by at least this many judges"),
  includeLabelled: z.boolean().optional().describe("also pairs that already have a human label (default false)"),
  questions: z.array(Question).min(1).max(50).optional().describe('default: one pairwise question, "Which response is better?", with a tie'),
  annotatorsPerItem: z.number().int().min(1).max(100).optional(),
  lockSeconds: z.number().int().min(1).max(7 * 86400).optional(),
  annotators: z.array(Name).min(1).max(10_000).optional(),
  suggestions: z.array(SuggestionSource).max(50).optional(),
});
export type RouteQueueBody = z.infer<typeof RouteQueueBody>;

/** The suggestions of a queue, replaced at once (an empty list removes them). */
export const SuggestionsBody = z.strictObject({
  suggestions: z.array(SuggestionSource).max(50).describe("per question, the source of its suggestion"),
});

export const MineQuery = z.strictObject({
  offset: z.coerce.number().int().min(0).default(0).describe("tasks to skip, most recently submitted first"),
  limit: z.coerce.number().int().min(1).max(1000).default(50).describe("most tasks returned"),
});

/** A new answer to a task already submitted: new records that supersede the earlier ones. */
export const ReviseBody = z.strictObject({
  submissionId: Id.describe("chosen by the client once per revision; a retry with the same id stores nothing new"),
  answers: z.record(z.string(), z.unknown()).describe("question id → answer, as for submit (what was shown)"),
  revision: z.number().int().min(0).optional().describe("the revision being edited (from the task); a task revised meanwhile is a 409"),
});

/** An admin's adjudicated answers to a task, in the task's order of generations ("first" = the task's first). */
export const AdjudicateBody = z.strictObject({
  submissionId: Id.describe("chosen by the client once per adjudication; a retry with the same id stores nothing new"),
  answers: z.record(z.string(), z.unknown()).describe("question id → answer, by the task's order of generations (not an annotator's shown order)"),
  revision: z.number().int().min(0).optional().describe("the task's adjudication revision being replaced (0: none yet); adjudicated meanwhile is a 409"),
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
  suggestions: z.array(SuggestionSource).optional(),
});
export type QueueView = z.infer<typeof QueueView>;

/** An output as an annotator sees it: blind (no id, no policy), in the order recorded for them. */
export const ShownGeneration = z.object({ slot: z.number().int(), output: z.string() });
export type ShownGeneration = z.infer<typeof ShownGeneration>;

/** A suggestion shown with a question: another source's answer, in the terms of the task as shown. */
export const TaskSuggestion = z.object({
  question: z.string(),
  slot: z.number().int().optional().describe("per-response questions of several responses: the shown response it is about"),
  source: z.object({ type: z.enum(SOURCE_TYPES), id: z.string() }),
  feedbackId: z.string().describe("the feedback it comes from"),
  answer: z.unknown().describe("an answer as submit takes it (for one response, when slot is given)"),
});
export type TaskSuggestion = z.infer<typeof TaskSuggestion>;

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
  suggestions: z.array(TaskSuggestion).optional().describe("suggestions of the queue's sources for this task's questions"),
  answers: z.record(z.string(), z.unknown()).optional().describe("submitted tasks: the latest answers, as sent (to revise them)"),
  revision: z.number().int().optional().describe("submitted tasks: 0 for the first submission, one more per revision"),
});
export type TaskView = z.infer<typeof TaskView>;

/** One of an annotator's submitted tasks. */
export const MyTask = z.object({
  id: z.string(),
  position: z.number().int(),
  itemId: z.string(),
  prompt: z.string().describe("the item's prompt as text, cut at 200 characters"),
  revision: z.number().int(),
  submittedAt: z.string().describe("when the latest answer was stored"),
});
export const MyTaskList = z.object({ total: z.number().int(), offset: z.number().int(), tasks: z.array(MyTask) });
export type MyTaskList = z.infer<typeof MyTaskList>;

/** A task as an admin reviews it: every annotator's latest answer, side by side, and the adjudication. */
export const TaskAnswers = z.object({
  task: z.object({
    id: z.string(),
    position: z.number().int(),
    queueId: z.string(),
    item: z.object({ id: z.string(), prompt: Prompt, reference: z.string().optional(), dataset: z.string().optional() }),
    generations: z.array(z.object({ id: z.string(), policy: z.string(), output: z.string() })).describe("in the task's order (answers to adjudicate refer to it)"),
    questions: z.array(Question),
  }),
  annotators: z.array(
    z.object({
      annotator: z.string(),
      status: z.enum(["locked", "submitted", "skipped"]),
      revision: z.number().int(),
      updatedAt: z.string(),
      feedback: z.array(Feedback).describe("their latest records for this task (targets in the task's order)"),
    }),
  ),
  adjudication: z
    .object({
      adjudicator: z.string(),
      revision: z.number().int(),
      answers: z.record(z.string(), z.unknown()),
      feedback: z.array(Feedback),
      updatedAt: z.string(),
    })
    .optional(),
});
export type TaskAnswers = z.infer<typeof TaskAnswers>;

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

/** How often annotators kept one source's suggestions for a question (how far humans agree with the judge). */
export const SuggestionStats = z.object({
  source: z.object({ type: z.string(), id: z.string() }),
  shown: z.number().int().describe("answers given with this source's suggestion on screen"),
  accepted: z.number().int().describe("answers equal to the suggestion"),
  rate: z.number().nullable().describe("accepted / shown"),
});
export type SuggestionStats = z.infer<typeof SuggestionStats>;

export const QuestionStats = AnnotationAgreement.extend({
  id: z.string(),
  kind: z.enum(QUESTION_KINDS),
  records: z.number().int().describe("feedback records submitted for this question (the latest answer of each annotator)"),
  suggestions: z.array(SuggestionStats).optional().describe("acceptance of suggestions, per source"),
  adjudicated: z.number().int().optional().describe("tasks with an adjudicated answer to this question (judges are then compared with it)"),
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
