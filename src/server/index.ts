/**
 * The server room: the HTTP API (v1) over a store, as a Hono app, its
 * OpenAPI document, and a listener with graceful shutdown.
 *
 *     const store = await openStore();
 *     const running = await listen(createApp({ store }), { port: 8787 });
 *     ...
 *     await running.close();   // finishes in-flight requests
 *     await store.close();
 */
export { createApp, SERVER_VERSION, type AppOptions } from "./app.js";
export { ComputePool, type ComputeOptions } from "./compute.js";
export { listen, DEFAULT_HOST, DEFAULT_PORT, type ListenOptions, type RunningServer } from "./listen.js";
export { openApiDocument, documentedOperations } from "./openapi.js";
export { ApiError, toErrorResponse, type ErrorBody } from "./errors.js";
export { DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, MAX_PAGE, API_VERSION } from "../api/index.js";
export { DEFAULT_LIMITS, LIMIT_NAMES, LimitsSchema, MemoryRateLimiter, parseLimits, resolveLimits, type Bucket, type Limits, type RateLimiter, type Taken } from "./limits.js";
