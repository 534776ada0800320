/**
 * The foundation's evaluation and export over a project's stored feedback:
 * `GET /v1/leaderboard` and `GET /v1/export` (streamed a page at a time).
 */
import type { Hono } from "hono";
import { alpacaEvalBoardFromPairsThreaded, alpacaEvalPairsFromStore, bradleyTerryLeaderboard, comparisonsFromStore } from "../eval/index.js";
import { type ExportSource, exportRecords } from "../io/index.js";
import type { Store } from "../store/index.js";
import { type Env, type Settings, parseQuery, requireRole } from "./context.js";
import { ExportQuery, type Leaderboard, LeaderboardQuery } from "../api/index.js";

function storeSource(store: Store, project: string): ExportSource {
  return {
    resolvedFeedback: () => store.iterateResolvedFeedback({ project, latest: true }),
    items: () => store.iterateItems({ project }),
    generations: () => store.iterateGenerations({ project }),
  };
}

const CONTENT_TYPES: Record<string, string> = { "alpaca-eval": "application/json; charset=utf-8" };
const CHUNK_BYTES = 64 * 1024;

export function analysisRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;

  app.get("/v1/leaderboard", async (c) => {
    const key = requireRole(c, "leaderboard.read");
    const q = parseQuery(c, LeaderboardQuery);
    if (q.method === "alpaca-eval") {
      // The fits run on worker threads, off the event loop.
      const board = await alpacaEvalBoardFromPairsThreaded(await alpacaEvalPairsFromStore(store, key.project, { comparisons: q.comparisons ?? "pairwise" }), {
        minThreads: 1,
        ...(q.baseline !== undefined ? { baseline: q.baseline } : {}),
        ...(q.lc !== undefined ? { lengthControlled: q.lc } : {}),
        ...(q.difficulty !== undefined ? { difficulty: q.difficulty } : {}),
      });
      return c.json({ method: "alpaca-eval", ...board } satisfies Leaderboard);
    }
    const { feedback, generations } = await comparisonsFromStore(store, key.project);
    const rows = bradleyTerryLeaderboard(feedback, generations, { rounds: q.bootstrap ?? 200, seed: q.seed ?? 0 });
    return c.json({ method: "bt", rows } satisfies Leaderboard);
  });

  app.get("/v1/export", async (c) => {
    const key = requireRole(c, "export");
    const { format } = parseQuery(c, ExportQuery);
    const it = exportRecords(format, storeSource(store, key.project))[Symbol.asyncIterator]();
    const encoder = new TextEncoder();
    /** Up to ~64 KiB of pieces; undefined at the end. */
    const next = async (): Promise<Uint8Array | undefined> => {
      let text = "";
      while (text.length < CHUNK_BYTES) {
        const r = await it.next();
        if (r.done) break;
        text += r.value;
      }
      return text ? encoder.encode(text) : undefined;
    };
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
        await it.return?.(undefined);
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
