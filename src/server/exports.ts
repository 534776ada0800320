/**
 * Exports in the background: `POST /v1/exports` submits an `export` job and answers at once (202), a worker
 * streams the file into the database in parts (src/jobs/kinds/export.ts), `GET /v1/exports/:id` says how far
 * it is, and `GET /v1/exports/:id/file` streams the finished file from whichever server replica is asked. A
 * request never waits for a whole export, so no proxy or browser timeout cuts a big one short. The same jobs
 * are at `/v1/jobs/:id` (with cancel and retry).
 */
import type { Hono } from "hono";
import type { JobRecord } from "../store/index.js";
import { CreateExportBody, type ExportJob } from "../api/index.js";
import { jsonBody } from "./body.js";
import { type Env, type Settings, requireRole } from "./context.js";
import { ApiError, notFound } from "./errors.js";
import { fileResponse } from "./jobs.js";
import { admitJob, keptExportFile, retireExportFiles } from "./work.js";

type ExportResult = { rows?: number; file?: string; contentType?: string; skipped?: unknown; filters?: unknown };

/** An export job in the shape this API has always answered: running, done (with its rows) or failed. */
function view(job: JobRecord): ExportJob {
  const input = job.input as { format: string; filters?: Record<string, unknown> };
  const result = (job.result ?? {}) as ExportResult;
  const status = job.state === "succeeded" ? "done" : job.state === "failed" || job.state === "cancelled" ? "failed" : "running";
  return {
    id: job.id,
    format: input.format,
    status,
    rows: job.state === "succeeded" ? (result.rows ?? 0) : job.progress.done,
    ...(status === "failed" ? { error: job.error ?? (job.state === "cancelled" ? "the export was cancelled" : "unknown error") } : {}),
    ...(input.filters ? { filters: input.filters } : {}),
    ...(result.skipped !== undefined ? { skipped: result.skipped } : {}),
    job: `/v1/jobs/${job.id}`,
    createdAt: job.createdAt,
    ...(job.finishedAt !== undefined ? { finishedAt: job.finishedAt } : {}),
  };
}

export function exportRoutes(app: Hono<Env>, s: Settings): void {
  const { store, jobs } = s;

  app.post("/v1/exports", async (c) => {
    const key = requireRole(c, "export");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, CreateExportBody);
    // Ceilings: exports at once per key and project, rows (src/server/work.ts).
    const input = await admitJob(c, s, "export", { format: b.format, ...(b.filters ? { filters: b.filters } : {}) });
    await retireExportFiles(s, key.project);
    const job = await jobs.submit({ kind: "export", input, project: key.project, createdBy: key.id, origin: "api" });
    return c.json(view(job), 202, { Location: `/v1/exports/${job.id}` });
  });

  const jobOf = async (project: string, id: string): Promise<JobRecord> => {
    const job = await store.jobs.get(id, project);
    if (!job || job.kind !== "export") throw notFound(`export "${id}" not found`);
    return job;
  };

  app.get("/v1/exports/:id", async (c) => {
    const key = requireRole(c, "exports.read");
    return c.json(view(await jobOf(key.project, c.req.param("id"))));
  });

  app.get("/v1/exports/:id/file", async (c) => {
    const key = requireRole(c, "exports.download");
    const job = await jobOf(key.project, c.req.param("id"));
    const v = view(job);
    const r = (job.result ?? {}) as ExportResult;
    if (v.status !== "done" || !r.file) {
      throw new ApiError("not_ready", v.status === "running" ? `export "${job.id}" is still running; poll GET /v1/exports/${job.id}` : `export "${job.id}" failed: ${String(v.error)}`);
    }
    await keptExportFile(s, job);
    return fileResponse(store, job.id, r.file, r.contentType ?? "application/x-ndjson; charset=utf-8");
  });
}
