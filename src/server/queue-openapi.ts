/**
 * The OpenAPI entries of annotation queues, dashboards, background exports and saved results (queues.ts,
 * dashboards.ts, exports.ts, results.ts), generated from the schemas that validate their requests.
 */
import { z } from "zod";
import { Distributions } from "../eval/schema.js";
import { CreateQueueBody, DeletedQueue, DraftBody, QueueStats, QueueTaskList, QueueView, ReleaseQuery, SubmitBody, SubmitResult, TaskView, TasksQuery } from "../queues/schema.js";
import type { Op } from "./openapi.js";
import { CreateExportBody, DistributionsQuery, ExportJob, LabResult, LabResultList, LabResultQuery, LoopRunList, LoopRunQuery, LoopRunReport, LoopRunsQuery, Released } from "../api/index.js";

/** Schemas to register: request bodies (inputs) and responses (outputs). */
export function queueSchemas(): { inputs: Record<string, z.ZodType>; outputs: Record<string, z.ZodType> } {
  return {
    inputs: { CreateQueueBody, DraftBody, SubmitBody, CreateExportBody },
    outputs: {
      QueueResponse: z.object({ queue: QueueView }),
      QueueList: z.object({ queues: z.array(QueueView) }),
      NextTask: z.object({ task: TaskView.nullable() }),
      TaskResponse: z.object({ task: TaskView }),
      SubmitResult,
      QueueStats,
      Distributions,
      ExportJob,
      QueueTaskList,
      Released,
      DeletedQueue,
      LabResultList,
      LabResult,
      LoopRunList,
      LoopRunReport,
    },
  };
}

export function queueOperations(): Op[] {
  return [
    {
      method: "post",
      path: "/v1/queues",
      summary: "Create an annotation queue from a selection of stored generations and the questions to ask",
      description:
        "selection.mode generations makes one task per generation, pairs one per pair of generations of an item (between different policies when `policies` is given), lists one per item. " +
        "Pairwise questions need pair tasks, ranking questions pair or list tasks. `sample` takes a seeded random sample of the tasks.",
      action: "queues.create",
      body: "CreateQueueBody",
      ok: { status: 201, description: "the queue with its progress", schema: "QueueResponse" },
      errors: [400, 401, 403, 409, 413, 415],
    },
    { method: "get", path: "/v1/queues", summary: "Queues of the project (annotate keys: those open to them), newest first", action: "queues.list", ok: { status: 200, description: "queues with progress", schema: "QueueList" }, errors: [401, 403] },
    { method: "get", path: "/v1/queues/{id}", summary: "One queue with its progress", action: "queues.read", pathId: "id", ok: { status: 200, description: "the queue", schema: "QueueResponse" }, errors: [401, 403, 404] },
    {
      method: "delete",
      path: "/v1/queues/{id}",
      summary: "Delete a queue with its tasks, locks and drafts; the feedback submitted through it is kept",
      action: "queues.delete",
      pathId: "id",
      ok: { status: 200, description: "what was deleted", schema: "DeletedQueue" },
      errors: [401, 403, 404],
    },
    {
      method: "get",
      path: "/v1/queues/{id}/tasks",
      summary: "A queue's tasks in order, with each annotator's claim on them (locked, expired, submitted, skipped)",
      action: "queues.tasks",
      pathId: "id",
      query: TasksQuery,
      ok: { status: 200, description: "a page of tasks", schema: "QueueTaskList" },
      errors: [400, 401, 403, 404],
    },
    {
      method: "post",
      path: "/v1/queues/{id}/tasks/{taskId}/release",
      summary: "Free a task's live locks so that other annotators can take it (the holders keep their drafts)",
      action: "tasks.release",
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
      action: "tasks.take",
      pathId: "id",
      ok: { status: 200, description: "the task, or null", schema: "NextTask" },
      errors: [401, 403, 404],
    },
    { method: "get", path: "/v1/queues/{id}/tasks/{taskId}", summary: "A task the caller has claimed, with its status", action: "tasks.read", pathId: "id", pathIds: ["taskId"], ok: { status: 200, description: "the task", schema: "TaskResponse" }, errors: [401, 403, 404] },
    {
      method: "put",
      path: "/v1/queues/{id}/tasks/{taskId}/draft",
      summary: "Keep a draft of the answers (returned with the task until it is submitted)",
      action: "tasks.draft",
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
      action: "tasks.submit",
      pathId: "id",
      pathIds: ["taskId"],
      body: "SubmitBody",
      ok: { status: 200, description: "the ids stored", schema: "SubmitResult" },
      errors: [400, 401, 403, 404, 409, 413, 415],
    },
    { method: "post", path: "/v1/queues/{id}/tasks/{taskId}/skip", summary: "Skip a task (never offered to this annotator again)", action: "tasks.skip", pathId: "id", pathIds: ["taskId"], ok: { status: 204, description: "skipped" }, errors: [401, 403, 404, 409] },
    {
      method: "get",
      path: "/v1/queues/{id}/stats",
      summary: "Progress and agreement per question: Krippendorff's alpha, Cohen's kappa per annotator pair, and AI judges vs the human consensus",
      action: "queues.stats",
      pathId: "id",
      ok: { status: 200, description: "statistics", schema: "QueueStats" },
      errors: [401, 403, 404],
    },
    {
      method: "get",
      path: "/v1/analysis/distributions",
      summary: "Rating histograms per dimension, and lengths of preferred vs rejected outputs in pairwise feedback",
      action: "distributions.read",
      query: DistributionsQuery,
      ok: { status: 200, description: "distributions", schema: "Distributions" },
      errors: [400, 401, 403],
    },
    {
      method: "post",
      path: "/v1/exports",
      summary: "Start an export in the background (poll GET /v1/exports/{id}, then download its file)",
      description: "Filters narrow the feedback exported; an rlxf export with filters holds only the items and generations that feedback refers to.",
      action: "export",
      body: "CreateExportBody",
      ok: { status: 202, description: "started", schema: "ExportJob" },
      errors: [400, 401, 403, 413, 415],
    },
    { method: "get", path: "/v1/exports/{id}", summary: "An export's status and row count", action: "exports.read", pathId: "id", ok: { status: 200, description: "the job", schema: "ExportJob" }, errors: [401, 403, 404] },
    {
      method: "get",
      path: "/v1/exports/{id}/file",
      summary: "The finished export's file (Content-Disposition: attachment)",
      action: "exports.download",
      pathId: "id",
      ok: { status: 200, description: "the file", contentType: "application/x-ndjson" },
      errors: [401, 403, 404, 409],
    },
    { method: "get", path: "/v1/lab/results", summary: "Lab runs and sweeps saved with `rlxf lab run|sweep --save NAME` (latest version of each), newest first", action: "lab.read", ok: { status: 200, description: "summaries", schema: "LabResultList" }, errors: [401, 403] },
    {
      method: "get",
      path: "/v1/lab/results/{name}",
      summary: "A saved lab run (its table and curves over training steps) or sweep (its rows)",
      action: "lab.read",
      pathId: "name",
      query: LabResultQuery,
      ok: { status: 200, description: "the result", schema: "LabResult" },
      errors: [400, 401, 403, 404],
    },
    { method: "get", path: "/v1/loops/runs", summary: "Stored test-time loop runs, newest first", action: "loops.read", query: LoopRunsQuery, ok: { status: 200, description: "runs", schema: "LoopRunList" }, errors: [400, 401, 403] },
    {
      method: "get",
      path: "/v1/loops/runs/{id}",
      summary: "A loop run's report: its metrics recomputed from the stored steps (as `rlxf loop report`), and its tasks",
      action: "loops.read",
      pathId: "id",
      query: LoopRunQuery,
      ok: { status: 200, description: "the report", schema: "LoopRunReport" },
      errors: [400, 401, 403, 404],
    },
  ];
}
