/**
 * The chunks of a streamed export (`GET /v1/export`), made in a worker thread with its own handle on the
 * store, so that reading pages and formatting rows never holds up the event loop; the thread makes a few
 * chunks ahead of what the client has read, no more. Without the built thread script, or for a store only
 * this thread can open (SQLite in memory), the chunks are made here, yielding to other work between them.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type ExportFormat, type ExportSource, exportRecords } from "../io/index.js";
import { type Store, reopenOptions } from "../store/index.js";
import { ApiError } from "./errors.js";

const THREAD_URL = new URL("./export-thread.js", import.meta.url);
/** Bytes per chunk. */
export const CHUNK_BYTES = 64 * 1024;
/** Chunks a thread may make ahead of the client. */
const AHEAD = 4;
/** Streamed exports at once per server (each has a thread); more are refused with 503. */
const MAX_THREADS = 4;
let threads = 0;

export interface ChunkSource {
  /** The next chunk, or undefined at the end. */
  next(): Promise<Uint8Array | undefined>;
  cancel(): Promise<void>;
}

function storeSource(store: Store, project: string): ExportSource {
  return {
    resolvedFeedback: () => store.iterateResolvedFeedback({ project }),
    items: () => store.iterateItems({ project }),
    generations: () => store.iterateGenerations({ project }),
  };
}

/** Chunks made in this thread (a turn for other work before each). */
export function inlineChunks(store: Store, project: string, format: ExportFormat, chunkBytes = CHUNK_BYTES): ChunkSource {
  const it = exportRecords(format, storeSource(store, project))[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return {
    async next() {
      await new Promise<void>((r) => setImmediate(r));
      let text = "";
      while (text.length < chunkBytes) {
        const r = await it.next();
        if (r.done) break;
        text += r.value;
      }
      return text ? encoder.encode(text) : undefined;
    },
    async cancel() {
      await it.return?.(undefined);
    },
  };
}

type FromThread = { type: "chunk"; data: Uint8Array } | { type: "end" } | { type: "error"; message: string };

function threadChunks(store: Store, project: string, format: ExportFormat): ChunkSource {
  const options = reopenOptions(store, 2)!;
  threads++;
  const worker = new Worker(THREAD_URL, { workerData: { store: options, project, format, chunkBytes: CHUNK_BYTES, ahead: AHEAD } });
  const queue: FromThread[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const done = () => {
    if (!finished) {
      finished = true;
      threads--;
    }
  };
  worker.on("message", (m: FromThread) => {
    queue.push(m);
    wake?.();
  });
  worker.on("error", (e) => {
    queue.push({ type: "error", message: e.message });
    wake?.();
  });
  worker.on("exit", () => {
    done();
    queue.push({ type: "error", message: "the export thread stopped" });
    wake?.();
  });
  return {
    async next() {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const m = queue.shift()!;
      if (m.type === "chunk") {
        worker.postMessage("more");
        return m.data;
      }
      void worker.terminate();
      if (m.type === "end") return undefined;
      throw new Error(m.message);
    },
    async cancel() {
      await worker.terminate();
      done();
    },
  };
}

export function exportChunks(store: Store, project: string, format: ExportFormat): ChunkSource {
  const threaded = reopenOptions(store) !== undefined && THREAD_URL.protocol === "file:" && existsSync(fileURLToPath(THREAD_URL));
  if (!threaded) return inlineChunks(store, project, format);
  if (threads >= MAX_THREADS) throw new ApiError("busy", `${threads} exports are streaming already; retry shortly, or export in the background (POST /v1/jobs with kind "export")`, { headers: { "Retry-After": "5" } });
  return threadChunks(store, project, format);
}
