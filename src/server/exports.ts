/**
 * Exports in the background: `POST /v1/exports` starts one and answers at once (202), the job writes the
 * file with the io room's exporters (a temporary file renamed at the end), `GET /v1/exports/:id` says how
 * far it is, and `GET /v1/exports/:id/file` streams the finished file. A request never waits for a
 * whole export, so no proxy or browser timeout cuts a big one short.
 *
 * Files go to `RLXF_EXPORT_DIR` (default: `rlxf-exports` in the system's temporary directory).
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Hono } from "hono";
import { type FeedbackKind, type ResolvedFeedback } from "../feedback/schema.js";
import { type ExportFormat, type ExportSource, writeExportFile } from "../io/index.js";
import type { ExportJob, FeedbackFilter, Store } from "../store/index.js";
import { type Env, type Settings, chargeAfter, requireRole } from "./context.js";
import { ApiError, notFound } from "./errors.js";
import { overCeiling } from "./limits.js";
import { exportWork } from "./work.js";
import { CreateExportBody } from "../api/index.js";
import { jsonBody } from "./body.js";

export function exportDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.RLXF_EXPORT_DIR || join(tmpdir(), "rlxf-exports");
}

type Filters = NonNullable<ReturnType<typeof CreateExportBody.parse>["filters"]>;

/** The store as an export source, narrowed by `filters` (rlxf exports then hold only the records the feedback refers to). */
export function filteredSource(store: Store, project: string, filters: Filters = {}): ExportSource {
  const ff: FeedbackFilter = {
    project,
    ...(filters.kind ? { kind: filters.kind as FeedbackKind[] } : {}),
    ...(filters.sourceType ? { sourceType: filters.sourceType } : {}),
    ...(filters.sourceId ? { sourceId: filters.sourceId } : {}),
    ...(filters.policy ? { policy: filters.policy } : {}),
    ...(filters.itemId ? { itemId: filters.itemId } : {}),
    ...(filters.since ? { since: filters.since } : {}),
    ...(filters.until ? { until: filters.until } : {}),
    // The queue the store marked when the queue's submission wrote the record (metadata can say anything).
    ...(filters.queueId ? { queueId: filters.queueId } : {}),
  };
  const keep = (rf: ResolvedFeedback) => filters.dataset === undefined || rf.item.dataset === filters.dataset;
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
/** Export files are named `<tag of the project>-<export id>.<ext>`, so a project's files can be counted. */
const projectTag = (project: string) => createHash("sha256").update(project).digest("hex").slice(0, 16);
const FILE_NAME = /^(?:([0-9a-f]{16})-)?[0-9a-f-]{36}\.(jsonl|json)$/;

/**
 * Remove export files older than `retainMs` from `dir`, and of `project`'s files keep only the newest `keep`
 * (the server's ceilings exportRetentionSeconds and exportFiles; best effort).
 */
async function sweep(dir: string, now: number, retainMs: number, project?: { tag: string; keep: number }): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const mine: { path: string; mtime: number }[] = [];
  for (const name of names) {
    const m = FILE_NAME.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    try {
      const mtime = (await stat(path)).mtimeMs;
      if (now - mtime > retainMs) await rm(path, { force: true });
      else if (project && m[1] === project.tag) mine.push({ path, mtime });
    } catch {
      // gone already
    }
  }
  if (project && mine.length > project.keep) {
    mine.sort((a, b) => b.mtime - a.mtime);
    for (const f of mine.slice(project.keep)) await rm(f.path, { force: true }).catch(() => {});
  }
}

/** Counts the records an export reads, for progress, and stops it past `max` (the server's ceiling exportRows). */
function counting(src: ExportSource, counter: { n: number }, max: number): ExportSource {
  const wrap = <T>(f: () => AsyncIterable<T>) =>
    async function* (): AsyncGenerator<T> {
      for await (const x of f()) {
        if (++counter.n > max) throw overCeiling("exportRows", max, "the export reads more records", "narrow its filters");
        yield x;
      }
    };
  return { resolvedFeedback: wrap(() => src.resolvedFeedback()), items: wrap(() => src.items()), generations: wrap(() => src.generations()) };
}

export function exportRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;
  /** Jobs running in this process, with the key and project that started them. */
  const running = new Map<string, { keyId: string; project: string }>();
  const { limits } = s;
  const retainMs = limits.exportRetentionSeconds * 1000;

  app.post("/v1/exports", async (c) => {
    const key = requireRole(c, "export");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, CreateExportBody);
    // At most exportsPerKey / exportsPerProject running at once (in this process): 429 until one finishes.
    const jobs = [...running.values()];
    const mine = jobs.filter((j) => j.keyId === key.id).length;
    const ours = jobs.filter((j) => j.project === key.project).length;
    if (mine >= limits.exportsPerKey || ours >= limits.exportsPerProject) {
      const [who, n, name] = mine >= limits.exportsPerKey ? ["this key", limits.exportsPerKey, "exportsPerKey"] : [`project "${key.project}"`, limits.exportsPerProject, "exportsPerProject"];
      throw new ApiError("rate_limited", `${who} already runs ${n} export(s), the server's ceiling ${name}; retry once one finishes (GET /v1/exports/<id>)`, { headers: { "Retry-After": "10" } });
    }
    const filtered = b.filters !== undefined && Object.keys(b.filters).length > 0;
    await exportWork(c, s, { filtered });
    const id = randomUUID();
    const job = await store.queues.createExport({ project: key.project, id, format: b.format, request: { ...(b.filters ? { filters: b.filters } : {}) }, now: Date.now() });
    const dir = exportDir();
    const tag = projectTag(key.project);
    const file = join(dir, `${tag}-${id}.${EXT[b.format] ?? "jsonl"}`);
    const counter = { n: 0 };
    const work = (async () => {
      const beat = setInterval(() => {
        store.queues.progressExport(key.project, id, counter.n, Date.now()).catch(() => {});
      }, HEARTBEAT_MS);
      beat.unref();
      try {
        await mkdir(dir, { recursive: true });
        await sweep(dir, Date.now(), retainMs);
        const report = await writeExportFile(file, b.format as ExportFormat, counting(filteredSource(store, key.project, b.filters), counter, limits.exportRows));
        clearInterval(beat);
        await store.queues.finishExport(key.project, id, { status: "done", rows: report.records, file, now: Date.now() });
        if (filtered) chargeAfter(key, s, counter.n * limits.costRow);
        await sweep(dir, Date.now(), retainMs, { tag, keep: limits.exportFiles });
      } catch (e) {
        clearInterval(beat);
        s.log(`export ${id} of project "${key.project}" failed: ${(e as Error).stack ?? String(e)}`);
        await store.queues
          .finishExport(key.project, id, { status: "failed", rows: 0, error: (e as Error).message ?? String(e), now: Date.now() })
          .catch(() => {});
      }
    })();
    const k = `${key.project}\u0000${id}`;
    running.set(k, { keyId: key.id, project: key.project });
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
    // Kept exportRetentionSeconds, whether or not a sweep ran since.
    const st = await stat(job.file).catch(() => undefined);
    if (!st || Date.now() - st.mtimeMs > retainMs) {
      throw new ApiError("gone", `the file of export "${job.id}" is no longer on the server (files are kept ${limits.exportRetentionSeconds} s); start the export again`);
    }
    const size = st.size;
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
