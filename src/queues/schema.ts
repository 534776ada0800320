/**
 * Schemas of annotation queues: the questions a queue asks (one per feedback kind, as Argilla's questions and
 * Label Studio's LLM templates do), the body that creates a queue, and the answers an annotator submits.
 * Shared by the handlers (validation) and the OpenAPI document.
 */
import { z } from "zod";
import { Id } from "../feedback/schema.js";

export const QUESTION_KINDS = ["pairwise", "ranking", "rating", "binary", "critique", "span", "rubric", "correction"] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];
/** Kinds that compare the generations of a task (they need pair or list tasks). */
export const COMPARATIVE: ReadonlySet<QuestionKind> = new Set(["pairwise", "ranking"]);

const QuestionId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '_', '.' or '-'")
  .describe("the question's id, unique in the queue; answers are keyed by it");

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
    dataset: Id.optional().describe("only items of this dataset"),
    itemIds: z.array(Id).min(1).max(100_000).optional().describe("only these items"),
    policies: z.array(Id).min(1).max(1000).optional().describe("only generations of these policies (pairs: between two different ones, in this order)"),
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
    annotators: z.array(Id).min(1).max(10_000).optional().describe("only these annotators (annotate key names) may work on it; default anyone in the project"),
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
export interface QueueDefinition {
  instructions?: string;
  selection: Selection;
  questions: Question[];
  annotators?: string[];
}

export const DraftBody = z.strictObject({ answers: z.record(z.string(), z.unknown()).describe("answers so far, any shape (kept as sent)") });

export const TasksQuery = z.strictObject({
  offset: z.coerce.number().int().min(0).default(0).describe("tasks to skip, in queue order"),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe("most tasks returned"),
});

export const ReleaseQuery = z.strictObject({
  annotator: z.string().min(1).max(512).optional().describe("free only this annotator's lock (default: every live lock on the task)"),
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

export const CreateExportBody = z.strictObject({
  format: z.enum(["trl-preference", "trl-unpaired", "openai-dpo", "alpaca-eval", "rlxf"]),
  filters: z
    .strictObject({
      kind: z.array(z.string().min(1)).min(1).optional(),
      sourceType: z.enum(["human", "judge", "critic", "verifier", "simulated", "user"]).optional(),
      sourceId: Id.optional(),
      policy: Id.optional(),
      itemId: Id.optional(),
      dataset: Id.optional(),
      queueId: Id.optional(),
      since: z.string().optional(),
      until: z.string().optional(),
    })
    .optional(),
});
