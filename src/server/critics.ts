/**
 * Saved critic evaluations, read-only (`rlxf critic eval ... --save NAME`): the list and one result with its metrics
 * per task and overall (and, when asked, every solution's outcome). The web app plots them.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { CRITIC_EVAL_KIND, getCriticEval, listCriticEvals, summarizeCriticEval } from "../critics/index.js";
import { type Env, type Settings, idParam, parseQuery, requireRole } from "./context.js";

const READ = ["admin", "read"] as const;

export const CriticResultQuery = z.strictObject({
  version: z.coerce.number().int().positive().optional().describe("a saved version (default: the latest)"),
  outcomes: z.enum(["true", "false"]).default("false").describe("include each solution's outcome (verdicts and correctness per round, tokens)"),
});

export function criticRoutes(app: Hono<Env>, s: Settings): void {
  app.get("/v1/critics/results", async (c) => {
    const key = requireRole(c, READ, "read critic evaluations");
    return c.json({ results: await listCriticEvals(s.store, key.project) });
  });

  app.get("/v1/critics/results/:name", async (c) => {
    const key = requireRole(c, READ, "read critic evaluations");
    const q = parseQuery(c, CriticResultQuery);
    const saved = await getCriticEval(s.store, key.project, idParam(c, "name"), q.version);
    const versions = (await s.store.configs.list({ project: key.project, kind: CRITIC_EVAL_KIND, name: saved.name })).map((v) => v.version);
    const { outcomes, ...result } = saved.result;
    return c.json({ ...summarizeCriticEval(saved), versions, result: q.outcomes === "true" ? { ...result, outcomes } : result });
  });
}
