/** The OpenAPI entries of background jobs (jobs.ts), generated from the schemas that validate their requests. */
import { z } from "zod";
import { JOB_KINDS, JOB_KIND_INFO, JOB_KIND_NAMES } from "../jobs/index.js";
import { JOB_STATES } from "../store/index.js";
import { JobUnitsQuery, ListJobsQuery, SubmitJobBody } from "./jobs.js";
import type { Op } from "./openapi.js";

const Job = z.object({
  id: z.string(),
  kind: z.enum(JOB_KINDS as [string, ...string[]]),
  state: z.enum(JOB_STATES),
  progress: z.object({
    done: z.number().int().describe("units finished (succeeded or failed), or what the kind counts (rows exported, methods run)"),
    total: z.number().int().nullable().describe("units in all, once known"),
    failed: z.number().int().describe("units that failed for good (kept with their errors; retry runs them again)"),
    note: z.string().optional().describe("what the job is doing now"),
  }),
  tasks: z.object({ total: z.number().int(), done: z.number().int(), failed: z.number().int() }).describe("the pieces workers share"),
  attempts: z.number().int().describe("attempts made over every task"),
  maxAttempts: z.number().int().describe("attempts a task gets before it fails for good"),
  cancelRequested: z.boolean(),
  error: z.string().optional(),
  input: z.unknown().optional().describe("the input as stored (rows sent with the job are kept as its units)"),
  result: z.unknown().optional().describe("the kind's result; units' results are at /v1/jobs/{id}/units, an export's file at /v1/jobs/{id}/file"),
  createdBy: z.string().optional().describe("id of the key that submitted it"),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  updatedAt: z.string(),
});

const JobDetail = Job.extend({
  failures: z.array(z.object({ task: z.number().int(), attempt: z.number().int(), error: z.string(), worker: z.string().optional(), at: z.string() })).describe("the error of each failed attempt, newest first"),
  unitFailures: z.array(z.object({ unit: z.number().int(), error: z.string(), recordId: z.string().optional() })).describe("units that failed for good (the first 50)"),
});

export function jobSchemas(): { inputs: Record<string, z.ZodType>; outputs: Record<string, z.ZodType> } {
  return {
    inputs: { SubmitJobBody },
    outputs: {
      JobResponse: z.object({ job: JobDetail }),
      JobList: z.object({ jobs: z.array(Job), nextCursor: z.string().optional() }),
      JobUnits: z.object({
        units: z.array(z.object({ unit: z.number().int(), failed: z.boolean(), outcome: z.string().optional(), recordId: z.string().optional(), result: z.unknown().optional() })),
        next: z.number().int().optional().describe("pass as `after` for the next page"),
      }),
    },
  };
}

export function jobOperations(): Op[] {
  const kinds = JOB_KIND_NAMES.map((k) => `\`${k}\` (${JOB_KIND_INFO[k].roles.join(", ")}): ${JOB_KIND_INFO[k].description}`).join("; ");
  return [
    {
      method: "post",
      path: "/v1/jobs",
      summary: "Submit a background job",
      description: `Answers 202 with the job (and its Location) at once; workers run it. Kinds, with the roles that may submit them: ${kinds}.`,
      roles: ["admin", "ingest", "read"],
      body: "SubmitJobBody",
      ok: { status: 202, description: "the job, queued", schema: "JobResponse" },
      errors: [400, 401, 403, 413, 415],
    },
    { method: "get", path: "/v1/jobs", summary: "The project's jobs, newest first", description: "Ingest keys see the jobs they submitted.", roles: ["admin", "read", "ingest"], query: ListJobsQuery, ok: { status: 200, description: "one page", schema: "JobList" }, errors: [400, 401, 403] },
    { method: "get", path: "/v1/jobs/{id}", summary: "A job: state, progress, result, and the error of every failed attempt", roles: ["admin", "read", "ingest"], pathId: "id", ok: { status: 200, description: "the job", schema: "JobResponse" }, errors: [400, 401, 403, 404] },
    { method: "get", path: "/v1/jobs/{id}/units", summary: "A job's units with their outcomes (scores, verdicts) and the records they stored", roles: ["admin", "read", "ingest"], pathId: "id", query: JobUnitsQuery, ok: { status: 200, description: "one page, in unit order", schema: "JobUnits" }, errors: [400, 401, 403, 404] },
    { method: "get", path: "/v1/jobs/{id}/file", summary: "The file a job made (an export), streamed", roles: ["admin", "read", "ingest"], pathId: "id", ok: { status: 200, description: "the file", contentType: "application/octet-stream" }, errors: [401, 403, 404, 409] },
    { method: "post", path: "/v1/jobs/{id}/cancel", summary: "Cancel a job: waiting tasks at once, running ones within seconds (what they finished is kept)", description: "Allowed to the roles that may submit the job's kind.", roles: ["admin", "ingest", "read"], pathId: "id", ok: { status: 200, description: "the job", schema: "JobResponse" }, errors: [401, 403, 404] },
    { method: "post", path: "/v1/jobs/{id}/retry", summary: "Run again what failed or was cancelled (failed units, failed or cancelled tasks)", description: "Allowed to the roles that may submit the job's kind; only a finished job.", roles: ["admin", "ingest", "read"], pathId: "id", ok: { status: 202, description: "the job, queued again", schema: "JobResponse" }, errors: [401, 403, 404, 409] },
  ];
}
