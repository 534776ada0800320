/**
 * Saved critic evaluations, read-only (`rlxf critic eval ... --save NAME`): the list and one result with its metrics
 * per task and overall (and, when asked, every solution's outcome). The web app plots them.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { CRITIC_EVAL_KIND, getCriticEval, listCriticEvals, summarizeCriticEval } from "../critics/index.js";
import { type Env, type Settings, idParam, parseQuery, requireRole } from "./context.js";


export const CriticResultQuery = z.strictObject({
  version: z.coerce.number().int().positive().optional().describe("a saved version (default: the latest)"),
  outcomes: z.enum(["true", "false"]).default("false").describe("include each solution's outcome (verdicts and correctness per round, tokens)"),
});

export function criticRoutes(app: Hono<Env>, s: Settings): void {
  app.get("/v1/critics/results", async (c) => {
    const key = requireRole(c, "critics.read");
    return c.json({ results: await listCriticEvals(s.store, key.project) });
  });

  app.get("/v1/critics/results/:name", async (c) => {
    const key = requireRole(c, "critics.read");
    const q = parseQuery(c, CriticResultQuery);
    const saved = await getCriticEval(s.store, key.project, idParam(c, "name"), q.version);
    const versions = (await s.store.configs.list({ project: key.project, kind: CRITIC_EVAL_KIND, name: saved.name })).map((v) => v.version);
    const { outcomes, ...result } = saved.result;
    return c.json({ ...summarizeCriticEval(saved), versions, result: q.outcomes === "true" ? { ...result, outcomes } : result });
  });
}

const Metrics = z
  .object({
    solutions: z.number().int(),
    accuracyBefore: z.number(),
    accuracyAfter: z.number(),
    accuracyPerRound: z.array(z.number()).describe("before (index 0) and after each round"),
    verdictAccuracy: z.number(),
    balancedAccuracy: z.number(),
    errorDetection: z.object({ precision: z.number().nullable(), recall: z.number().nullable(), f1: z.number().nullable() }),
    fixed: z.number().int(),
    broken: z.number().int(),
    tokensPerFixed: z.number().nullable(),
    costPerFixedUsd: z.number().nullable(),
  })
  .catchall(z.unknown());
const Setting = z.object({ mode: z.enum(["self", "cross"]), label: z.string(), rounds: z.number().int(), critic: z.string(), actor: z.string(), judge: z.string(), reviseOnPass: z.boolean() });
const Summary = z.object({
  name: z.string(),
  version: z.number().int(),
  description: z.string().optional(),
  createdAt: z.string(),
  setting: Setting,
  solutions: z.number().int(),
  tasks: z.array(z.string()),
  accuracyBefore: z.number(),
  accuracyAfter: z.number(),
  verdictAccuracy: z.number(),
  balancedAccuracy: z.number(),
  f1: z.number().nullable(),
  fixed: z.number().int(),
  broken: z.number().int(),
  tokensPerFixed: z.number().nullable(),
  costPerFixedUsd: z.number().nullable(),
});

/** The OpenAPI entries of these routes and their response schemas (for openapi.ts). */
export function criticOpenApi() {
  return {
    operations: [
      { method: "get" as const, path: "/v1/critics/results", summary: "Critic evaluations saved with `rlxf critic eval ... --save NAME` (latest version of each), newest first", action: "critics.read" as const, ok: { status: 200, description: "summaries", schema: "CriticResultList" }, errors: [401, 403] },
      {
        method: "get" as const,
        path: "/v1/critics/results/{name}",
        summary: "A saved critic evaluation: its setting and metrics per task and overall (discriminability, accuracy before and after revision, fixed and broken, cost per fix)",
        action: "critics.read" as const,
        pathId: "name",
        query: CriticResultQuery,
        ok: { status: 200, description: "the evaluation", schema: "CriticResult" },
        errors: [400, 401, 403, 404],
      },
    ],
    schemas: {
      CriticResultList: z.object({ results: z.array(Summary) }),
      CriticResult: Summary.extend({
        versions: z.array(z.number().int()).describe("every saved version of this name, newest first"),
        result: z.object({
          setting: Setting,
          overall: Metrics,
          tasks: z.array(Metrics.and(z.object({ task: z.string() }))),
          seconds: z.number(),
          outcomes: z.array(z.record(z.string(), z.unknown())).optional().describe("with outcomes=true: each solution's verdicts and correctness per round, tokens and cost"),
        }),
      }),
    },
  };
}
