/** The OpenAPI entries of background jobs (jobs.ts), generated from the schemas that validate their requests. */
import type { z } from "zod";
import { JobListSchema, JobResponseSchema, JobUnitsQuery, JobUnitsSchema, ListJobsQuery, SubmitJobBody } from "../api/index.js";
import { JOB_KIND_INFO, JOB_KIND_NAMES } from "../jobs/index.js";
import type { Op } from "./openapi.js";

export function jobSchemas(): { inputs: Record<string, z.ZodType>; outputs: Record<string, z.ZodType> } {
  return {
    inputs: { SubmitJobBody },
    outputs: { JobResponse: JobResponseSchema, JobList: JobListSchema, JobUnits: JobUnitsSchema },
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
      action: "jobs.submit",
      body: "SubmitJobBody",
      ok: { status: 202, description: "the job, queued", schema: "JobResponse" },
      errors: [400, 401, 403, 413, 415],
    },
    { method: "get", path: "/v1/jobs", summary: "The project's jobs, newest first", description: "Ingest keys see the jobs they submitted.", action: "jobs.read", query: ListJobsQuery, ok: { status: 200, description: "one page", schema: "JobList" }, errors: [400, 401, 403] },
    { method: "get", path: "/v1/jobs/{id}", summary: "A job: state, progress, result, and the error of every failed attempt", action: "jobs.read", pathId: "id", ok: { status: 200, description: "the job", schema: "JobResponse" }, errors: [400, 401, 403, 404] },
    { method: "get", path: "/v1/jobs/{id}/units", summary: "A job's units with their outcomes (scores, verdicts) and the records they stored", action: "jobs.read", pathId: "id", query: JobUnitsQuery, ok: { status: 200, description: "one page, in unit order", schema: "JobUnits" }, errors: [400, 401, 403, 404] },
    { method: "get", path: "/v1/jobs/{id}/file", summary: "The file a job made (an export), streamed", action: "jobs.read", pathId: "id", ok: { status: 200, description: "the file", contentType: "application/octet-stream" }, errors: [401, 403, 404, 409] },
    { method: "post", path: "/v1/jobs/{id}/cancel", summary: "Cancel a job: waiting tasks at once, running ones within seconds (what they finished is kept)", description: "Allowed to the roles that may submit the job's kind.", action: "jobs.submit", pathId: "id", ok: { status: 200, description: "the job", schema: "JobResponse" }, errors: [401, 403, 404] },
    { method: "post", path: "/v1/jobs/{id}/retry", summary: "Run again what failed or was cancelled (failed units, failed or cancelled tasks)", description: "Allowed to the roles that may submit the job's kind; only a finished job.", action: "jobs.submit", pathId: "id", ok: { status: 202, description: "the job, queued again", schema: "JobResponse" }, errors: [401, 403, 404, 409] },
  ];
}
