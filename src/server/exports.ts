/**
 * Exports in the background: `POST /v1/exports` starts one and answers at once (202), the job writes the
 * file with the io room's exporters (a temporary file renamed at the end), `GET /v1/exports/:id` says how
 * far it is, and `GET /v1/exports/:id/file` streams the finished file. A request never waits for a
 * whole export, so no proxy or browser timeout cuts a big one short.
 *
 * Files go to `RLXF_EXPORT_DIR` (default: `rlxf-exports` in the system's temporary directory).
 */
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Hono } from "hono";
import { type FeedbackKind, type ResolvedFeedback } from "../feedback/schema.js";
import { type ExportFormat, type ExportSource, writeExportFile } from "../io/index.js";
import type { ExportJob, FeedbackFilter, Store } from "../store/index.js";
import { type Env, type Settings, requireRole } from "./context.js";
import { ApiError, notFound } from "./errors.js";
import { CreateExportBody } from "../api/index.js";
import { jsonBody } from "./body.js";

export function exportDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.RLXF_EXPORT_DIR || join(tmpdir(), "rlxf-exports");
}

type Filters = NonNullable<ReturnType<typeof CreateExportBody.parse>["filters"]>;

/** The store as an export source, narrowed by `filters` (rlxf exports then hold only the records the feedback refers to). */
export function filteredSource(store: Store, project: string, filters: Filters = {}): ExportSource {
  // Exports hold the latest answers: revised and adjudicated records replace the ones they supersede.
  const ff: FeedbackFilter = {
    project,
    latest: true,
    ...(filters.kind ? { kind: filters.kind as FeedbackKind[] } : {}),
    ...(filters.sourceType ? { sourceType: filters.sourceType } : {}),
    ...(filters.sourceId ? { sourceId: filters.sourceId } : {}),
    ...(filters.policy ? { policy: filters.policy } : {}),
    ...(filters.itemId ? { itemId: filters.itemId } : {}),
    ...(filters.since ? { since: filters.since } : {}),
    ...(filters.until ? { until: filters.until } : {}),
  };
  const keep = (rf: ResolvedFeedback) =>
    (filters.dataset === undefined || rf.item.dataset === filters.dataset) && (filters.queueId === undefined || rf.feedback.metadata?.queueId === filters.queueId);
  async function* resolvedFeedback(): AsyncGenerator<ResolvedFeedback> {
    for await (const rf of store.iterateResolvedFeedback(ff)) if (keep(rf)) yield rf;
  }
  const filtered = Object.keys(filters).length > 0;
  let referenced: Promise<{ items: Set<string>; generations: Set<string> }> | undefined;
  const refs = () =>
    (referenced ??= (async () => {
      const items = new Set<string>();
      const generations = new Set<string>();
      for await (const rf of resolvedFeedback()) {
        items.add(rf.item.id);
        for (const g of rf.targets) generations.add(g.id);
      }
      return { items, generations };
    })());
  return {
    resolvedFeedback,
    async *items() {
      const r = filtered ? await refs() : undefined;
      for await (const it of store.iterateItems({ project })) if (!r || r.items.has(it.id)) yield it;
    },
    async *generations() {
      const r = filtered ? await refs() : undefined;
      for await (const g of store.iterateGenerations({ project })) if (!r || r.generations.has(g.id)) yield g;
    },
  };
}

function view(job: ExportJob, skipped?: unknown): Record<string, unknown> {
  return {
    id: job.id,
    format: job.format,
    status: job.status,
    rows: job.rows,
    ...(job.error !== undefined ? { error: job.error } : {}),
    ...(job.request.filters ? { filters: job.request.filters } : {}),
    ...(skipped !== undefined ? { skipped } : {}),
    createdAt: job.createdAt,
    ...(job.finishedAt !== undefined ? { finishedAt: job.finishedAt } : {}),
  };
}

const EXT: Record<string, string> = { "alpaca-eval": "json" };

/** How often a running export records its progress (its heartbeat). */
export const HEARTBEAT_MS = 5_000;
/** A running export silent this long was cut short (its process stopped). */
export const STALE_MS = 60_000;
/** Files of finished exports are removed after this long (checked when an export starts). */
export const RETAIN_MS = 24 * 3600_000;

/** Remove export files older than RETAIN_MS from `dir` (best effort). */
async function sweep(dir: string, now: number): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!/^[0-9a-f-]{36}\.(jsonl|json)$/.test(name)) continue;
    const path = join(dir, name);
    try {
      if (now - (await stat(path)).mtimeMs > RETAIN_MS) await rm(path, { force: true });
    } catch {
      // gone already
    }
  }
}

/** Counts the records an export reads, for progress. */
function counting(src: ExportSource, counter: { n: number }): ExportSource {
  const wrap = <T>(f: () => AsyncIterable<T>) =>
    async function* (): AsyncGenerator<T> {
      for await (const x of f()) {
        counter.n++;
        yield x;
      }
    };
  return { resolvedFeedback: wrap(() => src.resolvedFeedback()), items: wrap(() => src.items()), generations: wrap(() => src.generations()) };
}

export function exportRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;
  /** Jobs running in this process. */
  const running = new Map<string, Promise<void>>();

  app.post("/v1/exports", async (c) => {
    const key = requireRole(c, "export");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, CreateExportBody);
    const id = randomUUID();
    const job = await store.queues.createExport({ project: key.project, id, format: b.format, request: { ...(b.filters ? { filters: b.filters } : {}) }, now: Date.now() });
    const dir = exportDir();
    const file = join(dir, `${id}.${EXT[b.format] ?? "jsonl"}`);
    const counter = { n: 0 };
    const work = (async () => {
      const beat = setInterval(() => {
        store.queues.progressExport(key.project, id, counter.n, Date.now()).catch(() => {});
      }, HEARTBEAT_MS);
      beat.unref();
      try {
        await mkdir(dir, { recursive: true });
        await sweep(dir, Date.now());
        const report = await writeExportFile(file, b.format as ExportFormat, counting(filteredSource(store, key.project, b.filters), counter));
        clearInterval(beat);
        await store.queues.finishExport(key.project, id, { status: "done", rows: report.records, file, now: Date.now() });
      } catch (e) {
        clearInterval(beat);
        s.log(`export ${id} of project "${key.project}" failed: ${(e as Error).stack ?? String(e)}`);
        await store.queues
          .finishExport(key.project, id, { status: "failed", rows: 0, error: (e as Error).message ?? String(e), now: Date.now() })
          .catch(() => {});
      }
    })();
    const k = `${key.project}\u0000${id}`;
    running.set(k, work);
    void work.finally(() => running.delete(k));
    return c.json(view(job), 202, { Location: `/v1/exports/${id}` });
  });

  const jobOf = async (project: string, id: string): Promise<ExportJob> => {
    const job = await store.queues.getExport(project, id);
    if (!job) throw notFound(`export "${id}" not found`);
    const silent = Date.now() - Date.parse(job.updatedAt);
    if (job.status === "running" && !running.has(`${project}\u0000${id}`) && silent > STALE_MS) {
      // No heartbeat for a minute: the process that ran it stopped before it finished.
      await store.queues.finishExport(project, id, { status: "failed", rows: job.rows, error: "the server stopped before the export finished; start it again", now: Date.now() });
      return (await store.queues.getExport(project, id))!;
    }
    return job;
  };

  app.get("/v1/exports/:id", async (c) => {
    const key = requireRole(c, "exports.read");
    return c.json(view(await jobOf(key.project, c.req.param("id"))));
  });

  app.get("/v1/exports/:id/file", async (c) => {
    const key = requireRole(c, "exports.download");
    const job = await jobOf(key.project, c.req.param("id"));
    if (job.status !== "done" || !job.file) {
      throw new ApiError("not_ready", job.status === "running" ? `export "${job.id}" is still running; poll GET /v1/exports/${job.id}` : `export "${job.id}" failed: ${job.error ?? "unknown error"}`);
    }
    let size: number;
    try {
      size = (await stat(job.file)).size;
    } catch {
      throw new ApiError("gone", `the file of export "${job.id}" is no longer on the server; start the export again`);
    }
    const ext = EXT[job.format] ?? "jsonl";
    const name = `${key.project.replace(/[^A-Za-z0-9._-]/g, "_")}-${job.format}-${job.id.slice(0, 8)}.${ext}`;
    const body = Readable.toWeb(createReadStream(job.file)) as unknown as ReadableStream<Uint8Array>;
    return new Response(body, {
      status: 200,
      headers: {
        "Content-Type": ext === "json" ? "application/json; charset=utf-8" : "application/x-ndjson; charset=utf-8",
        "Content-Length": String(size),
        "Content-Disposition": `attachment; filename="${name}"`,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  });
}
