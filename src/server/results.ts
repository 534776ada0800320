/**
 * Results to look at, read-only: lab runs and sweeps saved with `rlxf lab ... --save NAME`, and stored test-time
 * loop runs with their metrics recomputed from their steps. The web app plots both.
 */
import type { Hono } from "hono";
import { LAB_RESULT_KIND, getLabResult, listLabResults, summarizeLabResult } from "../lab/index.js";
import { loopRunReport } from "../loops/index.js";
import { type Env, type Settings, idParam, parseQuery, requireRole } from "./context.js";

import { LabResultQuery, LoopRunQuery, LoopRunsQuery } from "../api/index.js";

export function resultRoutes(app: Hono<Env>, s: Settings): void {
  app.get("/v1/lab/results", async (c) => {
    const key = requireRole(c, "lab.read");
    return c.json({ results: await listLabResults(s.store, key.project) });
  });

  app.get("/v1/lab/results/:name", async (c) => {
    const key = requireRole(c, "lab.read");
    const q = parseQuery(c, LabResultQuery);
    const saved = await getLabResult(s.store, key.project, idParam(c, "name"), q.version);
    const versions = (await s.store.configs.list({ project: key.project, kind: LAB_RESULT_KIND, name: saved.name })).map((v) => v.version);
    return c.json({ ...summarizeLabResult(saved), versions, result: saved.result });
  });

  app.get("/v1/loops/runs", async (c) => {
    const key = requireRole(c, "loops.read");
    const q = parseQuery(c, LoopRunsQuery);
    const runs = await s.store.loops.list({ project: key.project, limit: q.limit, ...(q.loop ? { loop: q.loop } : {}) });
    return c.json({ runs });
  });

  app.get("/v1/loops/runs/:id", async (c) => {
    const key = requireRole(c, "loops.read");
    const q = parseQuery(c, LoopRunQuery);
    const report = await loopRunReport(s.store, idParam(c), { project: key.project, outputs: q.outputs === "true" });
    return c.json(report);
  });
}
