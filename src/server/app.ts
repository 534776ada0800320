/**
 * The HTTP API as a Hono app: `createApp({store})` gives an app that a test
 * drives with `app.request()` and `listen()` serves on a socket.
 */
import { Hono } from "hono";
import { type Jobs, openJobs } from "../jobs/index.js";
import type { ChatModel, ModelSettings } from "../providers/index.js";
import { may } from "../roles.js";
import type { ApiKey, Store } from "../store/index.js";
import { adminRoutes } from "./admin.js";
import { WriteCoalescer } from "./coalesce.js";
import { analysisRoutes } from "./analysis.js";
import type { Env, Settings } from "./context.js";
import { ApiError, toErrorResponse } from "./errors.js";
import { ComputePool, type ComputeOptions } from "./compute.js";
import { jobRoutes } from "./jobs.js";
import { openApiDocument } from "./openapi.js";
import { recordRoutes } from "./records.js";
import { rewardRoutes } from "./reward.js";
import { queueRoutes } from "./queues.js";
import { dashboardRoutes } from "./dashboards.js";
import { exportRoutes } from "./exports.js";
import { resultRoutes } from "./results.js";
import { criticRoutes } from "./critics.js";
import { searchRoutes } from "./search.js";
import { ruleRoutes } from "./rules.js";
import { serveStatic } from "./static.js";
import { type Limits, MemoryRateLimiter, type RateLimiter, resolveLimits, spend } from "./limits.js";

export const SERVER_VERSION = "0.1.0";

export interface AppOptions {
  store: Store;
  /** Largest request body in bytes (default 10 MiB); larger is a 413. Same as `limits.maxBodyBytes`. */
  maxBodyBytes?: number;
  /** Most records in one `{"batch": [...]}` (default 5000); more is a 413. Same as `limits.maxBatch`. */
  maxBatch?: number;
  /**
   * Ceilings and rate limits, over the defaults (`DEFAULT_LIMITS` in src/server/limits.ts): what one request may
   * make the server do (rounds, samples, rows, tasks, exports) and how fast a key or a project may ask.
   */
  limits?: Partial<Limits>;
  /** The rate limits' token buckets (default: in this process; give one shared by replicas to enforce them together). */
  rateLimiter?: RateLimiter;
  /** Where unexpected errors (the 5xx) are logged; default stderr. */
  log?: (line: string) => void;
  /** One line per request to `log`. */
  accessLog?: boolean;
  /** A built web app to serve at `/` (with client-side routes falling back to its index.html). */
  webRoot?: string;
  /**
   * Model access for judges in reward specs, called once per project on first use (so each project
   * can keep its own response cache); without it a spec with a judge is a 400 that says how to configure one. Its errors (e.g. no model name) become that 400.
   */
  judgeModel?: (project: string) => ChatModel;
  /** The same judge model as settings, so reward scoring can run in worker threads (which cannot call a function). */
  judge?: ModelSettings;
  /**
   * Background jobs (`/v1/jobs`, exports, big leaderboards). Default: jobs submitted through this app run in
   * this process, in worker threads, starting with the first one.
   */
  jobs?: Jobs;
  /** Threads for the CPU-heavy work requests wait for (reward batches, leaderboard fits); a pool or its settings. */
  compute?: ComputePool | ComputeOptions;
}

const PUBLIC = new Set(["/v1/health", "/v1/openapi.json"]);

export function createApp(opts: AppOptions): Hono<Env> {
  const limits = resolveLimits({
    ...opts.limits,
    ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
    ...(opts.maxBatch !== undefined ? { maxBatch: opts.maxBatch } : {}),
  });
  const settings: Settings = {
    store: opts.store,
    coalescer: new WriteCoalescer(opts.store),
    maxBodyBytes: limits.maxBodyBytes,
    maxBatch: limits.maxBatch,
    limits,
    rateLimiter: opts.rateLimiter ?? new MemoryRateLimiter(),
    log: opts.log ?? ((line) => process.stderr.write(`${line}\n`)),
    ...(opts.judgeModel ? { judgeModel: opts.judgeModel } : {}),
    jobs: opts.jobs ?? openJobs(opts.store, { run: "on-submit", ...(opts.log ? { log: opts.log } : {}) }),
    compute:
      opts.compute instanceof ComputePool
        ? opts.compute
        : new ComputePool(opts.store, { ...(opts.compute ?? {}), ...(opts.judge ? { judge: opts.judge } : {}), ...(opts.judgeModel ? { judgeModel: opts.judgeModel } : {}) }),
  };
  const app = new Hono<Env>();
  const openapi = JSON.stringify(openApiDocument({ maxBatch: settings.maxBatch, maxBodyBytes: settings.maxBodyBytes, rewardSamples: limits.rewardSamples, version: SERVER_VERSION }));

  if (opts.accessLog) {
    app.use(async (c, next) => {
      const t0 = performance.now();
      await next();
      settings.log(`${c.req.method} ${new URL(c.req.url).pathname} ${c.res.status} ${(performance.now() - t0).toFixed(1)}ms`);
    });
  }

  app.use(async (c, next) => {
    await next();
    c.res.headers.set("X-Content-Type-Options", "nosniff");
    if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
  });

  // Authentication: every /v1 route but health and the OpenAPI document needs a live key.
  app.use("/v1/*", async (c, next) => {
    if (PUBLIC.has(c.req.path)) return next();
    let header = c.req.header("authorization");
    // OpenRLHF's remote reward client posts bare JSON with no headers of its own, so this one
    // endpoint also takes the key from the URL (`--remote_rm_url .../v1/reward/openrlhf?key=KEY`).
    const urlKey = c.req.path === "/v1/reward/openrlhf" ? c.req.query("key") : undefined;
    if (!header && urlKey) header = `Bearer ${urlKey}`;
    const challenge = { headers: { "WWW-Authenticate": 'Bearer realm="rlxf"' } };
    if (!header) throw new ApiError("unauthorized", "send your API key as 'Authorization: Bearer <key>' (create one with `rlxf keys create`)", challenge);
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!m) throw new ApiError("unauthorized", "the Authorization header must be 'Bearer <key>'", challenge);
    const key = await settings.store.keys.authenticate(m[1] as string);
    if (!key) {
      // The usual cause: a key made with `rlxf keys create` against another store than this server's.
      throw new ApiError(
        "unauthorized",
        "the API key is not valid: this server's store holds no live key like it (revoked, or made against another store: " +
          "`rlxf keys create` writes to the store its --db, RLXF_DB or RLXF_DATABASE_URL names, else to ./.rlxf/rlxf.db of the directory it runs in; " +
          "make the key against the store this server printed when it started)",
        challenge,
      );
    }
    c.set("key", key);
    // Every request costs one unit of the key's and the project's rate limits; routes add what their work weighs.
    await spend(settings.rateLimiter, limits, key, 1, "a request");
    return next();
  });

  app.get("/v1/health", (c) => c.json({ status: "ok", version: SERVER_VERSION }));
  app.get("/v1/openapi.json", (c) => c.body(openapi, 200, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "public, max-age=60" }));

  recordRoutes(app, settings);
  analysisRoutes(app, settings);
  adminRoutes(app, settings);
  rewardRoutes(app, settings);
  queueRoutes(app, settings);
  dashboardRoutes(app, settings);
  exportRoutes(app, settings);
  resultRoutes(app, settings);
  criticRoutes(app, settings);
  jobRoutes(app, settings);
  searchRoutes(app, settings);
  ruleRoutes(app, settings);

  // A known path with another method: 405 naming the allowed ones.
  const allowed = new Map<string, Set<string>>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue;
    let set = allowed.get(r.path);
    if (!set) allowed.set(r.path, (set = new Set()));
    set.add(r.method);
  }
  for (const [path, methods] of allowed) {
    app.all(path, (c) => {
      if (c.req.method === "HEAD" && methods.has("GET")) return c.body(null, 200);
      if (c.req.method === "OPTIONS") return c.body(null, 204, { Allow: [...methods, "OPTIONS"].join(", ") });
      throw new ApiError("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; use ${[...methods].join(" or ")}`, {
        headers: { Allow: [...methods].join(", ") },
      });
    });
  }

  if (opts.webRoot) app.use("*", serveStatic(opts.webRoot));

  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `no such endpoint: ${c.req.method} ${c.req.path} (see GET /v1/openapi.json)` } }, 404),
  );

  app.onError((err, c) => {
    const key = c.get("key") as ApiKey | undefined;
    const r = toErrorResponse(err, { conflictFields: key !== undefined && may(key.role, "conflicts.fields") });
    if (r.status >= 500) {
      settings.log(`error on ${c.req.method} ${c.req.path}: ${(err as Error)?.stack ?? String(err)}`);
    }
    return c.json(r.body, r.status as 400, r.headers);
  });

  return app;
}
