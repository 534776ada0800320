/**
 * The TypeScript client of the rlxf HTTP API (`rlxf serve`).
 *
 *     import { Rlxf } from "rlxf/client";
 *     const rlxf = new Rlxf({ url: "http://127.0.0.1:8787", key: process.env.RLXF_API_KEY });
 *     rlxf.feedback({ kind: "binary", targets: ["gen-1"], source: { type: "user", id: "u42" }, value: { ok: true } });
 *     await rlxf.close();   // sends what is queued
 *
 * - `feedback()` queues a record and returns its id at once; queued records
 *   go out in batches (every `batchSize` records or `flushIntervalMs`).
 * - Every record gets an id before it is sent, so a retry is a no-op for what
 *   the server already stored: requests are retried with exponential backoff
 *   and jitter on network errors, timeouts, 5xx and 429 (honouring Retry-After).
 * - A batch the server refuses because of some of its records is sent again
 *   without them; the refused ones go to `onError`.
 * - What is queued is flushed before a natural exit of the process
 *   (`beforeExit`); after `process.exit()` or a signal only `await close()`
 *   (or `flush()`) can send it.
 *
 * The client uses `fetch` and imports no server code; its types are the API's (src/api).
 */
export { Rlxf } from "./rlxf.js";
export { RlxfApiError } from "./errors.js";
export type * from "./types.js";
