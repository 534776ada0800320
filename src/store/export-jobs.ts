/** The queue store's export jobs: an export running (or run) in the background and its file. */
import { isoOf, num } from "./codec.js";
import { type QueueContext, checkId } from "./queue-ops.js";
import type { ExportJob } from "./queues.js";

type ExportRow = {
  project: string;
  id: string;
  format: string;
  status: string;
  rows: number | string;
  error: string | null;
  file: string | null;
  body: string;
  created_at: number | string;
  updated_at: number | string;
  finished_at: number | string | null;
};

const exportOf = (r: ExportRow): ExportJob => ({
  project: r.project,
  id: r.id,
  format: r.format,
  status: r.status as ExportJob["status"],
  rows: num(r.rows),
  ...(r.error !== null ? { error: r.error } : {}),
  ...(r.file !== null ? { file: r.file } : {}),
  request: JSON.parse(r.body) as Record<string, unknown>,
  createdAt: isoOf(r.created_at),
  updatedAt: isoOf(r.updated_at),
  ...(r.finished_at !== null ? { finishedAt: isoOf(r.finished_at) } : {}),
});


export async function createExport(c: QueueContext, job: { project: string; id: string; format: string; request: Record<string, unknown>; now: number }): Promise<ExportJob> {
  checkId("id", job.id, "export");
  const row = {
    project: job.project,
    id: job.id,
    format: job.format,
    status: "running",
    rows: 0,
    error: null,
    file: null,
    body: JSON.stringify(job.request),
    created_at: job.now,
    updated_at: job.now,
    finished_at: null,
  };
  await c.inTransaction(async (d) => {
    await d.insertInto("export_jobs").values(row).execute();
  });
  return exportOf(row);
}

export async function progressExport(c: QueueContext, project: string, id: string, rows: number, now: number): Promise<void> {
  await c.inTransaction(async (d) => {
    await d.updateTable("export_jobs").set({ rows, updated_at: now }).where("project", "=", project).where("id", "=", id).where("status", "=", "running").execute();
  });
}

export async function finishExport(c: QueueContext, project: string, id: string, o: { status: "done" | "failed"; rows: number; error?: string; file?: string; now: number }): Promise<void> {
  await c.inTransaction(async (d) => {
    await d
      .updateTable("export_jobs")
      .set({ status: o.status, rows: o.rows, error: o.error ?? null, file: o.file ?? null, updated_at: o.now, finished_at: o.now })
      .where("project", "=", project)
      .where("id", "=", id)
      .execute();
  });
}

export async function getExport(c: QueueContext, project: string, id: string): Promise<ExportJob | undefined> {
  const r = await c.db()
    .selectFrom("export_jobs")
    .select(["project", "id", "format", "status", "rows", "error", "file", "body", "created_at", "updated_at", "finished_at"])
    .where("project", "=", project)
    .where("id", "=", id)
    .executeTakeFirst();
  return r && exportOf(r);
}
