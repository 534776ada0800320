/**
 * What the dashboards read: a queue's progress and agreement per question (the queues room), and
 * distributions of ratings and of the lengths of preferred vs rejected outputs (the eval room).
 */
import type { Hono } from "hono";
import { feedbackDistributions } from "../eval/index.js";
import { queueStats } from "../queues/index.js";
import { type Env, type Settings, charge, chargeAfter, parseQuery, requireRole } from "./context.js";
import { notFound } from "./errors.js";
import { overCeiling } from "./limits.js";
import { DistributionsQuery } from "../api/index.js";

export function dashboardRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;

  app.get("/v1/queues/:id/stats", async (c) => {
    const key = requireRole(c, "queues.stats");
    const id = c.req.param("id");
    const q = await store.queues.get(key.project, id);
    if (!q) throw notFound(`queue "${id}" not found`);
    const { limits } = s;
    await charge(c, s, limits.costAnalysis, "queue statistics");
    const stats = await queueStats(store, key.project, q, Date.now(), {
      maxRows: limits.analysisRows,
      tooMany: (rows, max) => overCeiling("analysisRows", max, `queue "${q.id}" has ${rows} claims to read`, "the operator can raise it (rlxf serve --limits analysisRows=N)"),
    });
    chargeAfter(key, s, stats.questions.reduce((n, x) => n + x.records, 0) * limits.costRow);
    return c.json(stats);
  });

  app.get("/v1/analysis/distributions", async (c) => {
    const key = requireRole(c, "distributions.read");
    const q = parseQuery(c, DistributionsQuery);
    const { limits } = s;
    await charge(c, s, limits.costAnalysis, "distributions");
    const d = await feedbackDistributions(store, key.project, q, {
      maxRows: limits.analysisRows,
      tooMany: (max) => overCeiling("analysisRows", max, `the distributions read more than ${max} feedback records`, "narrow them (queueId, dataset, sourceType), or ask the operator to raise it (rlxf serve --limits analysisRows=N)"),
    });
    chargeAfter(key, s, (d.ratings.reduce((n, r) => n + r.n, 0) + d.lengths.pairs + d.lengths.ties) * limits.costRow);
    return c.json(d);
  });
}
