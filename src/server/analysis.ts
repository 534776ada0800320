/**
 * The foundation's evaluation and export over a project's stored feedback:
 * `GET /v1/leaderboard` (bounded work answered at once, more as a job) and `GET /v1/export` (streamed from
 * a worker thread, a page at a time).
 */
import type { Hono } from "hono";
import { ExportQuery, LeaderboardQuery } from "../api/index.js";
import type { FeedbackKind } from "../feedback/index.js";
import type { Store } from "../store/index.js";
import { type Env, type Settings, parseQuery, requireRole } from "./context.js";
import { exportChunks } from "./export-stream.js";
import { jobView } from "./jobs.js";
import { analysisWork, exportWork, jobSlot } from "./work.js";

/** Bootstrap rounds answered at once (more: a job). */
export const INLINE_ROUNDS = 200;
/** Feedback records a leaderboard request reads at once (more: a job). */
export const INLINE_RECORDS = 50_000;

async function feedbackCount(store: Store, project: string, kinds: FeedbackKind[]): Promise<number> {
  const c = await store.counts(project);
  return kinds.reduce((n, k) => n + (c.byKind[k] ?? 0), 0);
}

const CONTENT_TYPES: Record<string, string> = { "alpaca-eval": "application/json; charset=utf-8" };

export function analysisRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;

  app.get("/v1/leaderboard", async (c) => {
    const key = requireRole(c, "leaderboard.read");
    const q = parseQuery(c, LeaderboardQuery);
    const method = q.method ?? "bt";
    const rounds = q.bootstrap ?? 200;
    // Ceilings and rate limits: rounds asked for, feedback rows to load (src/server/work.ts).
    await analysisWork(c, s, { kinds: method === "alpaca-eval" ? ["pairwise"] : ["pairwise", "ranking", "rating"], ...(method !== "alpaca-eval" ? { rounds } : {}) });
    const lcOptions = {
      ...(q.lc !== undefined ? { lc: q.lc } : {}),
      ...(q.difficulty !== undefined ? { difficulty: q.difficulty } : {}),
      ...(q.comparisons !== undefined ? { comparisons: q.comparisons } : {}),
    };
    // Bounded work is answered now, computed off the event loop; more is a job to follow (202).
    const records = method === "bt" || q.comparisons === "all" ? await feedbackCount(store, key.project, ["pairwise", "ranking", "rating"]) : await feedbackCount(store, key.project, ["pairwise"]);
    if ((method === "bt" && rounds > INLINE_ROUNDS) || records > INLINE_RECORDS) {
      await jobSlot(c, s, "leaderboard");
      const job = await s.jobs.submit({
        kind: "leaderboard",
        input: { method, bootstrap: Math.max(1, rounds), seed: q.seed ?? 0, ...(q.baseline ? { baseline: q.baseline } : {}), ...(method === "alpaca-eval" ? lcOptions : {}), aggregate: false },
        project: key.project,
        createdBy: key.id,
        origin: "api",
      });
      return c.json({ job: jobView(job, false), message: `this leaderboard is computed as a job; follow GET /v1/jobs/${job.id}` }, 202, { Location: `/v1/jobs/${job.id}` });
    }
    return c.json(await s.compute.call("leaderboard", { project: key.project, method, ...(q.baseline ? { baseline: q.baseline } : {}), bootstrap: rounds, seed: q.seed ?? 0, ...lcOptions }));
  });

  app.get("/v1/export", async (c) => {
    const key = requireRole(c, "export");
    const { format } = parseQuery(c, ExportQuery);
    await exportWork(c, s);
    const chunks = exportChunks(store, key.project, format);
    const next = () => chunks.next();
    // The first chunk before the headers: a failure this early is still a proper error response.
    const first = await next();
    let sentFirst = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        try {
          const chunk = sentFirst ? await next() : first;
          sentFirst = true;
          if (chunk) ctrl.enqueue(chunk);
          else ctrl.close();
        } catch (e) {
          // Headers are gone: all we can do is cut the stream short, so the client sees it incomplete.
          s.log(`export of project "${key.project}" failed mid-stream: ${(e as Error).stack ?? String(e)}`);
          ctrl.error(e);
        }
      },
      async cancel() {
        await chunks.cancel();
      },
    });
    const ext = format === "alpaca-eval" ? "json" : "jsonl";
    return new Response(body, {
      status: 200,
      headers: {
        "Content-Type": CONTENT_TYPES[format] ?? "application/x-ndjson; charset=utf-8",
        "Content-Disposition": `attachment; filename="${key.project.replace(/[^A-Za-z0-9._-]/g, "_")}-${format}.${ext}"`,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  });
}
