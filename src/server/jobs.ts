/**
 * Background jobs over HTTP: `POST /v1/jobs` submits one (202, with where to follow it), `GET /v1/jobs` lists
 * the project's jobs, `GET /v1/jobs/:id` shows one with its progress and the error of every failed attempt,
 * `GET /v1/jobs/:id/units` pages through its units' results, `GET /v1/jobs/:id/file` streams its file (an
 * export), and `POST /v1/jobs/:id/cancel` and `/retry` stop it or run again what failed.
 *
 * Which roles may submit a kind is the kind's own list; a key sees only its project's jobs, and an ingest key
 * (which reads nothing else) only the jobs it submitted.
 */
import type { Hono } from "hono";
import { type Job, JobUnitsQuery, ListJobsQuery, SubmitJobBody } from "../api/index.js";
import { jobKindInfo } from "../jobs/index.js";
import type { ApiKey, JobRecord } from "../store/index.js";
import { jsonBody } from "./body.js";
import { type Ctx, type Env, type Settings, idParam, parseQuery, requireRole } from "./context.js";
import { ApiError, notFound } from "./errors.js";
import { admitJob, keptExportFile } from "./work.js";

/** A job as the API shows it (`full`: with its input and result). */
export function jobView(j: JobRecord, full = true): Job {
  return {
    id: j.id,
    kind: jobKindInfo(j.kind).name,
    state: j.state,
    progress: j.progress,
    tasks: j.tasks,
    attempts: j.attempts,
    maxAttempts: j.maxAttempts,
    cancelRequested: j.cancelRequested,
    retries: j.retries,
    ...(j.error !== undefined ? { error: j.error } : {}),
    ...(full ? { input: j.input } : {}),
    ...(full && j.result !== undefined ? { result: j.result } : {}),
    ...(j.createdBy !== undefined ? { createdBy: j.createdBy } : {}),
    createdAt: j.createdAt,
    ...(j.startedAt !== undefined ? { startedAt: j.startedAt } : {}),
    ...(j.finishedAt !== undefined ? { finishedAt: j.finishedAt } : {}),
    updatedAt: j.updatedAt,
  };
}

/** A key sees its project's jobs; an ingest key only those it submitted. */
function visible(key: ApiKey, j: JobRecord): boolean {
  return key.role !== "ingest" || j.createdBy === key.id;
}

/** Who may stop or rerun a job: whoever may submit its kind (an ingest key: only its own). */
function mayControl(c: Ctx, j: JobRecord, what: string): ApiKey {
  const key = requireRole(c, jobKindInfo(j.kind).roles, `${what} ${j.kind} jobs`);
  if (!visible(key, j)) throw notFound(`job "${j.id}" not found`);
  return key;
}

export function jobRoutes(app: Hono<Env>, s: Settings): void {
  const { store, jobs } = s;

  const jobOf = async (c: Ctx): Promise<JobRecord> => {
    const key = requireRole(c, "jobs.read");
    const id = idParam(c);
    const j = await store.jobs.get(id, key.project);
    if (!j || !visible(key, j)) throw notFound(`job "${id}" not found`);
    return j;
  };

  app.post("/v1/jobs", async (c) => {
    // Who may submit jobs at all before the body is read; then who may submit this kind.
    const key = requireRole(c, "jobs.submit");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, SubmitJobBody);
    const kind = jobKindInfo(b.kind);
    requireRole(c, kind.roles, `submit ${b.kind} jobs`);
    // Ceilings and rate-limit costs of the kind (src/server/work.ts).
    const input = await admitJob(c, s, b.kind, b.input);
    const job = await jobs.submit({ kind: b.kind, input, project: key.project, createdBy: key.id, origin: "api", ...(b.maxAttempts ? { maxAttempts: b.maxAttempts } : {}) });
    return c.json({ job: jobView(job) }, 202, { Location: `/v1/jobs/${job.id}` });
  });

  app.get("/v1/jobs", async (c) => {
    const key = requireRole(c, "jobs.read");
    const q = parseQuery(c, ListJobsQuery);
    const page = await store.jobs.list({ project: key.project, ...(q.state ? { state: q.state } : {}), ...(q.kind ? { kind: q.kind } : {}), ...(q.limit ? { limit: q.limit } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) });
    return c.json({ jobs: page.jobs.filter((j) => visible(key, j)).map((j) => jobView(j, false)), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) });
  });

  app.get("/v1/jobs/:id", async (c) => {
    const j = await jobOf(c);
    const [failures, unitFailures] = await Promise.all([store.jobs.attemptErrors(j.id, 50), store.jobs.unitFailures(j.id, 50)]);
    return c.json({ job: { ...jobView(j), failures, unitFailures } });
  });

  app.get("/v1/jobs/:id/units", async (c) => {
    const j = await jobOf(c);
    const q = parseQuery(c, JobUnitsQuery);
    const limit = q.limit ?? 1000;
    let units = await store.jobs.unitRecords(j.id, { ...(q.after !== undefined ? { after: q.after } : {}), limit });
    const last = units.length === limit ? units[units.length - 1] : undefined;
    if (q.failed !== undefined) units = units.filter((u) => u.failed === (q.failed === "true"));
    return c.json({
      units: units.map((u) => ({ ...u, ...(u.outcome?.startsWith("{") ? { result: JSON.parse(u.outcome) as unknown } : {}) })),
      ...(last ? { next: last.unit } : {}),
    });
  });

  app.get("/v1/jobs/:id/file", async (c) => {
    const j = await jobOf(c);
    const r = j.result as { file?: string; contentType?: string } | undefined;
    if (j.state !== "succeeded" || !r?.file) {
      throw new ApiError("not_ready", j.state === "succeeded" ? `job "${j.id}" has no file` : `job "${j.id}" is ${j.state}; its file is there once it has succeeded (GET /v1/jobs/${j.id})`);
    }
    if (j.kind === "export") await keptExportFile(s, j);
    return fileResponse(store, j.id, r.file, r.contentType ?? "application/octet-stream");
  });

  app.post("/v1/jobs/:id/cancel", async (c) => {
    const j = await jobOf(c);
    const key = mayControl(c, j, "cancel");
    const after = await jobs.cancel(j.id, key.project);
    return c.json({ job: jobView(after!) });
  });

  app.post("/v1/jobs/:id/retry", async (c) => {
    const j = await jobOf(c);
    const key = mayControl(c, j, "retry");
    if (j.state === "succeeded" && j.progress.failed === 0) throw new ApiError("conflict", `job "${j.id}" succeeded with no failed units: nothing to retry`);
    const after = await jobs.retry(j.id, key.project);
    return c.json({ job: jobView(after!) }, 202);
  });
}

/** A job's file, streamed part by part from the store. */
export async function fileResponse(store: Settings["store"], jobId: string, name: string, contentType: string): Promise<Response> {
  const size = await store.jobs.fileSize(jobId);
  const parts = store.jobs.fileParts(jobId)[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const r = await parts.next();
        if (r.done) ctrl.close();
        else ctrl.enqueue(new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength));
      } catch (e) {
        ctrl.error(e);
      }
    },
    async cancel() {
      await parts.return?.(undefined);
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "Content-Type": contentType,
      "Content-Length": String(size),
      "Content-Disposition": `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
