/**
 * What the dashboards read: a queue's progress and agreement per question (the queues room), and
 * distributions of ratings and of the lengths of preferred vs rejected outputs (the eval room).
 */
import type { Hono } from "hono";
import { feedbackDistributions } from "../eval/index.js";
import { queueStats } from "../queues/index.js";
import { type Env, type Settings, parseQuery, requireRole } from "./context.js";
import { notFound } from "./errors.js";
import { DistributionsQuery } from "../api/index.js";

export function dashboardRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;

  app.get("/v1/queues/:id/stats", async (c) => {
    const key = requireRole(c, "queues.stats");
    const id = c.req.param("id");
    const q = await store.queues.get(key.project, id);
    if (!q) throw notFound(`queue "${id}" not found`);
    return c.json(await queueStats(store, key.project, q, Date.now()));
  });

  app.get("/v1/analysis/distributions", async (c) => {
    const key = requireRole(c, "distributions.read");
    const q = parseQuery(c, DistributionsQuery);
    return c.json(await feedbackDistributions(store, key.project, q));
  });
}
