/**
 * The OpenAPI entries of annotation queues, dashboards, background exports and saved results (queues.ts,
 * dashboards.ts, exports.ts, results.ts), generated from the schemas that validate their requests.
 */
import { z } from "zod";
import { Id } from "../feedback/schema.js";
import { DistributionsQuery } from "./dashboards.js";
import type { Op } from "./openapi.js";
import { CreateExportBody, CreateQueueBody, DraftBody, Question, ReleaseQuery, SubmitBody, TasksQuery } from "./queue-spec.js";
import { LabResultQuery, LoopRunQuery, LoopRunsQuery } from "./results.js";

const Progress = z.object({
  tasks: z.number().int(),
  done: z.number().int().describe("tasks with all the submissions they need"),
  needed: z.number().int().describe("tasks × annotatorsPerItem"),
  submitted: z.number().int(),
  skipped: z.number().int(),
  inProgress: z.number().int().describe("tasks locked to an annotator now"),
});

const Queue = z.object({
  id: z.string(),
  name: z.string(),
  instructions: z.string().optional(),
  selection: z.record(z.string(), z.unknown()),
  questions: z.array(Question),
  annotatorsPerItem: z.number().int(),
  lockSeconds: z.number().int(),
  annotators: z.array(z.string()).optional(),
  createdAt: z.string(),
  progress: Progress,
  mine: z.object({ submitted: z.number().int(), skipped: z.number().int(), holding: z.number().int() }).optional().describe("annotate keys: their own counts"),
});

const Task = z.object({
  id: z.string(),
  queueId: z.string(),
  item: z.object({ id: z.string(), prompt: z.unknown(), reference: z.string().optional(), dataset: z.string().optional() }),
  generations: z.array(z.object({ slot: z.number().int(), output: z.string() })).describe("in the order shown to this annotator (random, recorded); answers refer to slots"),
  questions: z.array(Question),
  instructions: z.string().optional(),
  draft: z.unknown().optional(),
  lockedUntil: z.string(),
  status: z.enum(["locked", "submitted", "skipped"]).optional(),
});

const Agreement = z.object({ annotators: z.tuple([z.string(), z.string()]), n: z.number().int(), agreement: z.number().nullable(), kappa: z.number().nullable() });

const ExportJob = z.object({
  id: z.string(),
  format: z.string(),
  status: z.enum(["running", "done", "failed"]),
  rows: z.number().int(),
  error: z.string().optional(),
  filters: z.record(z.string(), z.unknown()).optional(),
  skipped: z.unknown().optional(),
  job: z.string().describe("the job behind it (GET it for progress, cancel and retry)"),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
});

/** Schemas to register: request bodies (inputs) and responses (outputs). */
export function queueSchemas(): { inputs: Record<string, z.ZodType>; outputs: Record<string, z.ZodType> } {
  return {
    inputs: { CreateQueueBody, DraftBody, SubmitBody, CreateExportBody },
    outputs: {
      QueueResponse: z.object({ queue: Queue }),
      QueueList: z.object({ queues: z.array(Queue) }),
      NextTask: z.object({ task: Task.nullable() }),
      TaskResponse: z.object({ task: Task }),
      SubmitResult: z.object({
        feedback: z.array(Id).describe("ids of the feedback records stored (or already stored under this submissionId)"),
        generations: z.array(Id).describe("generations made by corrections"),
        replayed: z.boolean().describe("true when this submissionId was already stored: nothing was written"),
      }),
      QueueStats: z.object({
        queueId: z.string(),
        progress: Progress,
        tasks: z.number().int(),
        annotators: z.array(z.object({ id: z.string(), submitted: z.number().int(), skipped: z.number().int() })),
        questions: z.array(
          z.object({
            id: z.string(),
            kind: z.string(),
            records: z.number().int(),
            level: z.enum(["nominal", "interval", "ratio"]).nullable(),
            units: z.number().int(),
            alpha: z.number().nullable().describe("Krippendorff's alpha over every annotator"),
            pairs: z.array(Agreement).describe("each pair of annotators with overlap: share agreeing and Cohen's kappa; span questions: F1 of labelled spans; corrections: word similarity of the edits"),
            measure: z.string().describe("what agreement means for this question's kind"),
            judges: z.array(
              z.object({ source: z.object({ type: z.string(), id: z.string() }), n: z.number().int(), agreement: z.number().nullable(), kappa: z.number().nullable(), alpha: z.number().nullable() }),
            ),
          }),
        ),
      }),
      Distributions: z.object({
        ratings: z.array(z.object({ name: z.string(), scale: z.object({ min: z.number(), max: z.number() }), n: z.number().int(), mean: z.number(), histogram: z.array(z.object({ value: z.number(), count: z.number().int() })) })),
        lengths: z.object({
          unit: z.string(),
          pairs: z.number().int(),
          ties: z.number().int(),
          preferred: z.object({ n: z.number().int(), mean: z.number().nullable(), median: z.number().nullable() }),
          rejected: z.object({ n: z.number().int(), mean: z.number().nullable(), median: z.number().nullable() }),
          longerPreferred: z.number().nullable(),
          bins: z.array(z.object({ from: z.number(), to: z.number(), preferred: z.number().int(), rejected: z.number().int() })),
        }),
      }),
      ExportJob,
      QueueTaskList: z.object({
        total: z.number().int().describe("tasks in the queue"),
        offset: z.number().int(),
        tasks: z.array(
          z.object({
            id: z.string(),
            position: z.number().int(),
            itemId: z.string(),
            generationIds: z.array(z.string()),
            claims: z.array(
              z.object({
                annotator: z.string(),
                status: z.enum(["locked", "expired", "submitted", "skipped"]).describe("expired: a lock that ran out (it holds nothing)"),
                lockedUntil: z.string().optional().describe("live locks: until when"),
                hasDraft: z.boolean(),
                updatedAt: z.string(),
              }),
            ),
          }),
        ),
      }),
      Released: z.object({ released: z.number().int().describe("live locks freed") }),
      DeletedQueue: z.object({ queue: z.string(), tasks: z.number().int(), claims: z.number().int() }),
      LabResultList: z.object({ results: z.array(LabResultSummary) }),
      LabResult: LabResultSummary.extend({
        versions: z.array(z.number().int()).describe("every saved version of this name, newest first"),
        result: z
          .object({ type: z.enum(["run", "sweep"]) })
          .catchall(z.unknown())
          .describe('a run: {type: "run", run: {feedback, pFlip, labels, seed, settings, environment, proxy?, methods: [{method, winRate, lcWinRate?, length, kl, proxyReward?, labels, seconds, curve: [{step, winRate, length, kl, proxyReward?}]}], seconds}}; a sweep: {type: "sweep", grid, rows, seconds} as `rlxf lab ... --json` prints them'),
      }),
      LoopRunList: z.object({ runs: z.array(LoopRun) }),
      LoopRunReport: z.object({
        run: LoopRun,
        summary: z.record(z.string(), z.unknown()).describe("accuracy, accuracyPerTurn, friction, selfCorrection (confidence / critique), tokens and cost per solved task, stops"),
        tasks: z.array(z.object({ taskId: z.string(), solved: z.boolean(), stop: z.string(), attempts: z.number().int(), tokens: z.number(), costUsd: z.number(), error: z.string().optional(), steps: z.array(z.record(z.string(), z.unknown())) })),
      }),
    },
  };
}

const LabResultSummary = z.object({
  name: z.string(),
  version: z.number().int(),
  type: z.enum(["run", "sweep"]),
  description: z.string().optional(),
  createdAt: z.string(),
  feedback: z.string(),
  pFlips: z.array(z.number()),
  labels: z.array(z.number().int()),
  seeds: z.array(z.number().int()),
  methods: z.array(z.string()),
  best: z.object({ method: z.string(), winRate: z.number() }).optional().describe("the best final test win rate (%) (sweeps: of one cell's mean over seeds)"),
});

const LoopRun = z.object({
  id: z.string(),
  project: z.string(),
  loop: z.string(),
  status: z.enum(["running", "done", "failed"]),
  config: z.record(z.string(), z.unknown()),
  summary: z.record(z.string(), z.unknown()).optional(),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
});

const ANNOTATE = ["annotate", "admin"] as const;

export function queueOperations(): Op[] {
  return [
    {
      method: "post",
      path: "/v1/queues",
      summary: "Create an annotation queue from a selection of stored generations and the questions to ask",
      description:
        "selection.mode generations makes one task per generation, pairs one per pair of generations of an item (between different policies when `policies` is given), lists one per item. " +
        "Pairwise questions need pair tasks, ranking questions pair or list tasks. `sample` takes a seeded random sample of the tasks.",
      roles: ["admin"],
      body: "CreateQueueBody",
      ok: { status: 201, description: "the queue with its progress", schema: "QueueResponse" },
      errors: [400, 401, 403, 409, 413, 415],
    },
    { method: "get", path: "/v1/queues", summary: "Queues of the project (annotate keys: those open to them), newest first", roles: ["admin", "read", "annotate"], ok: { status: 200, description: "queues with progress", schema: "QueueList" }, errors: [401, 403] },
    { method: "get", path: "/v1/queues/{id}", summary: "One queue with its progress", roles: ["admin", "read", "annotate"], pathId: "id", ok: { status: 200, description: "the queue", schema: "QueueResponse" }, errors: [401, 403, 404] },
    {
      method: "delete",
      path: "/v1/queues/{id}",
      summary: "Delete a queue with its tasks, locks and drafts; the feedback submitted through it is kept",
      roles: ["admin"],
      pathId: "id",
      ok: { status: 200, description: "what was deleted", schema: "DeletedQueue" },
      errors: [401, 403, 404],
    },
    {
      method: "get",
      path: "/v1/queues/{id}/tasks",
      summary: "A queue's tasks in order, with each annotator's claim on them (locked, expired, submitted, skipped)",
      roles: ["admin", "read"],
      pathId: "id",
      query: TasksQuery,
      ok: { status: 200, description: "a page of tasks", schema: "QueueTaskList" },
      errors: [400, 401, 403, 404],
    },
    {
      method: "post",
      path: "/v1/queues/{id}/tasks/{taskId}/release",
      summary: "Free a task's live locks so that other annotators can take it (the holders keep their drafts)",
      roles: ["admin"],
      pathId: "id",
      pathIds: ["taskId"],
      query: ReleaseQuery,
      ok: { status: 200, description: "how many locks were freed", schema: "Released" },
      errors: [400, 401, 403, 404],
    },
    {
      method: "post",
      path: "/v1/queues/{id}/next",
      summary: "The next task for the calling annotator, locked to them for lockSeconds",
      description:
        "Returns the task they hold already (lock renewed, same order, their draft), else the first task they have not submitted or skipped that fewer than annotatorsPerItem others have submitted or hold. " +
        "Generations are shown blind (no id or policy) in a random order recorded per annotator. `task` is null when nothing is left.",
      roles: ANNOTATE,
      pathId: "id",
      ok: { status: 200, description: "the task, or null", schema: "NextTask" },
      errors: [401, 403, 404],
    },
    { method: "get", path: "/v1/queues/{id}/tasks/{taskId}", summary: "A task the caller has claimed, with its status", roles: ANNOTATE, pathId: "id", pathIds: ["taskId"], ok: { status: 200, description: "the task", schema: "TaskResponse" }, errors: [401, 403, 404] },
    {
      method: "put",
      path: "/v1/queues/{id}/tasks/{taskId}/draft",
      summary: "Keep a draft of the answers (returned with the task until it is submitted)",
      roles: ANNOTATE,
      pathId: "id",
      pathIds: ["taskId"],
      body: "DraftBody",
      ok: { status: 204, description: "kept" },
      errors: [400, 401, 403, 404, 409, 413, 415],
    },
    {
      method: "post",
      path: "/v1/queues/{id}/tasks/{taskId}/submit",
      summary: "Submit answers: one typed feedback record per answered question (and generation, for per-generation questions)",
      description:
        "Answers refer to what was shown: pairwise \"first\" is slot 0, rankings and per-generation answers are by slot; records target the generations in the task's order. " +
        "Feedback ids are deterministic (queue, task, annotator, question); a retry with the same submissionId returns the same ids and stores nothing. " +
        "A correction also stores the edited output as a generation. Invalid answers are a 400 naming each field (answers.<question>...).",
      roles: ANNOTATE,
      pathId: "id",
      pathIds: ["taskId"],
      body: "SubmitBody",
      ok: { status: 200, description: "the ids stored", schema: "SubmitResult" },
      errors: [400, 401, 403, 404, 409, 413, 415],
    },
    { method: "post", path: "/v1/queues/{id}/tasks/{taskId}/skip", summary: "Skip a task (never offered to this annotator again)", roles: ANNOTATE, pathId: "id", pathIds: ["taskId"], ok: { status: 204, description: "skipped" }, errors: [401, 403, 404, 409] },
    {
      method: "get",
      path: "/v1/queues/{id}/stats",
      summary: "Progress and agreement per question: Krippendorff's alpha, Cohen's kappa per annotator pair, and AI judges vs the human consensus",
      roles: ["admin", "read"],
      pathId: "id",
      ok: { status: 200, description: "statistics", schema: "QueueStats" },
      errors: [401, 403, 404],
    },
    {
      method: "get",
      path: "/v1/analysis/distributions",
      summary: "Rating histograms per dimension, and lengths of preferred vs rejected outputs in pairwise feedback",
      roles: ["admin", "read"],
      query: DistributionsQuery,
      ok: { status: 200, description: "distributions", schema: "Distributions" },
      errors: [400, 401, 403],
    },
    {
      method: "post",
      path: "/v1/exports",
      summary: "Start an export in the background (poll GET /v1/exports/{id}, then download its file)",
      description: "Filters narrow the feedback exported; an rlxf export with filters holds only the items and generations that feedback refers to.",
      roles: ["admin", "read"],
      body: "CreateExportBody",
      ok: { status: 202, description: "started", schema: "ExportJob" },
      errors: [400, 401, 403, 413, 415],
    },
    { method: "get", path: "/v1/exports/{id}", summary: "An export's status and row count", roles: ["admin", "read"], pathId: "id", ok: { status: 200, description: "the job", schema: "ExportJob" }, errors: [401, 403, 404] },
    {
      method: "get",
      path: "/v1/exports/{id}/file",
      summary: "The finished export's file (Content-Disposition: attachment)",
      roles: ["admin", "read"],
      pathId: "id",
      ok: { status: 200, description: "the file", contentType: "application/x-ndjson" },
      errors: [401, 403, 404, 409],
    },
    { method: "get", path: "/v1/lab/results", summary: "Lab runs and sweeps saved with `rlxf lab run|sweep --save NAME` (latest version of each), newest first", roles: ["admin", "read"], ok: { status: 200, description: "summaries", schema: "LabResultList" }, errors: [401, 403] },
    {
      method: "get",
      path: "/v1/lab/results/{name}",
      summary: "A saved lab run (its table and curves over training steps) or sweep (its rows)",
      roles: ["admin", "read"],
      pathId: "name",
      query: LabResultQuery,
      ok: { status: 200, description: "the result", schema: "LabResult" },
      errors: [400, 401, 403, 404],
    },
    { method: "get", path: "/v1/loops/runs", summary: "Stored test-time loop runs, newest first", roles: ["admin", "read"], query: LoopRunsQuery, ok: { status: 200, description: "runs", schema: "LoopRunList" }, errors: [400, 401, 403] },
    {
      method: "get",
      path: "/v1/loops/runs/{id}",
      summary: "A loop run's report: its metrics recomputed from the stored steps (as `rlxf loop report`), and its tasks",
      roles: ["admin", "read"],
      pathId: "id",
      query: LoopRunQuery,
      ok: { status: 200, description: "the report", schema: "LoopRunReport" },
      errors: [400, 401, 403, 404],
    },
  ];
}
