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
import { z } from "zod";
import { JOB_KINDS, jobKindInfo } from "../jobs/index.js";
import { type ApiKey, JOB_STATES, type JobRecord } from "../store/index.js";
import { jsonBody } from "./body.js";
import { type Ctx, type Env, type Settings, idParam, parseQuery, requireRole } from "./context.js";
import { ApiError, notFound } from "./errors.js";

export const SubmitJobBody = z.strictObject({
  kind: z.enum(JOB_KINDS as [string, ...string[]]).describe(`what to run: ${JOB_KINDS.join(", ")}`),
  input: z.unknown().describe("the kind's input (see the README's jobs section)"),
  maxAttempts: z.number().int().min(1).max(20).optional().describe("attempts each task gets before it fails for good (default: the kind's, usually 3)"),
});

export const ListJobsQuery = z.strictObject({
  state: z.enum(JOB_STATES).optional().describe("only jobs in this state"),
  kind: z.enum(JOB_KINDS as [string, ...string[]]).optional().describe("only jobs of this kind"),
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/, "must be an integer")
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .optional()
    .describe("jobs per page, newest first (default 50, at most 500)"),
  cursor: z.string().optional().describe("nextCursor of the previous page"),
});

export const JobUnitsQuery = z.strictObject({
  after: z.string().regex(/^[0-9]{1,12}$/, "must be a non-negative integer").transform(Number).optional().describe("units after this unit number"),
  limit: z.string().regex(/^[0-9]{1,4}$/, "must be an integer").transform(Number).pipe(z.number().int().min(1).max(5000)).optional().describe("units per page (default 1000)"),
  failed: z.enum(["true", "false"]).optional().describe("only failed (true) or finished (false) units"),
});

const READERS = ["admin", "read", "ingest"] as const;

/** A job as the API shows it (`full`: with its input and result). */
export function jobView(j: JobRecord, full = true): Record<string, unknown> {
  return {
    id: j.id,
    kind: j.kind,
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
    const key = requireRole(c, READERS, "read jobs");
    const id = idParam(c);
    const j = await store.jobs.get(id, key.project);
    if (!j || !visible(key, j)) throw notFound(`job "${id}" not found`);
    return j;
  };

  app.post("/v1/jobs", async (c) => {
    const key = c.get("key");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, SubmitJobBody);
    const kind = jobKindInfo(b.kind);
    requireRole(c, kind.roles, `submit ${b.kind} jobs`);
    const job = await jobs.submit({ kind: b.kind, input: b.input, project: key.project, createdBy: key.id, origin: "api", ...(b.maxAttempts ? { maxAttempts: b.maxAttempts } : {}) });
    return c.json({ job: jobView(job) }, 202, { Location: `/v1/jobs/${job.id}` });
  });

  app.get("/v1/jobs", async (c) => {
    const key = requireRole(c, READERS, "list jobs");
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
      throw new ApiError(409, "not_ready", j.state === "succeeded" ? `job "${j.id}" has no file` : `job "${j.id}" is ${j.state}; its file is there once it has succeeded (GET /v1/jobs/${j.id})`);
    }
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
    if (j.state === "succeeded" && j.progress.failed === 0) throw new ApiError(409, "conflict", `job "${j.id}" succeeded with no failed units: nothing to retry`);
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
