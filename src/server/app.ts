/**
 * The HTTP API as a Hono app: `createApp({store})` gives an app that a test
 * drives with `app.request()` and `listen()` serves on a socket.
 */
import { Hono } from "hono";
import type { ChatModel } from "../providers/index.js";
import type { Store } from "../store/index.js";
import { adminRoutes } from "./admin.js";
import { WriteCoalescer } from "./coalesce.js";
import { analysisRoutes } from "./analysis.js";
import type { Env, Settings } from "./context.js";
import { ApiError, toErrorResponse } from "./errors.js";
import { openApiDocument } from "./openapi.js";
import { recordRoutes } from "./records.js";
import { rewardRoutes } from "./reward.js";
import { queueRoutes } from "./queues.js";
import { dashboardRoutes } from "./dashboards.js";
import { exportRoutes } from "./exports.js";
import { resultRoutes } from "./results.js";
import { criticRoutes } from "./critics.js";
import { serveStatic } from "./static.js";
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES } from "../api/index.js";

export const SERVER_VERSION = "0.1.0";

export interface AppOptions {
  store: Store;
  /** Largest request body in bytes (default 10 MiB); larger is a 413. */
  maxBodyBytes?: number;
  /** Most records in one `{"batch": [...]}` (default 5000); more is a 413. */
  maxBatch?: number;
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
}

const PUBLIC = new Set(["/v1/health", "/v1/openapi.json"]);

export function createApp(opts: AppOptions): Hono<Env> {
  const settings: Settings = {
    store: opts.store,
    coalescer: new WriteCoalescer(opts.store),
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxBatch: opts.maxBatch ?? DEFAULT_MAX_BATCH,
    log: opts.log ?? ((line) => process.stderr.write(`${line}\n`)),
    ...(opts.judgeModel ? { judgeModel: opts.judgeModel } : {}),
  };
  const app = new Hono<Env>();
  const openapi = JSON.stringify(openApiDocument({ maxBatch: settings.maxBatch, maxBodyBytes: settings.maxBodyBytes, version: SERVER_VERSION }));

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
    const r = toErrorResponse(err);
    if (r.status >= 500) {
      settings.log(`error on ${c.req.method} ${c.req.path}: ${(err as Error)?.stack ?? String(err)}`);
    }
    return c.json(r.body, r.status as 400, r.headers);
  });

  return app;
}
