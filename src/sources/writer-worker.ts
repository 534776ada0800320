/**
 * The worker thread of `WorkerSink`: its own store handle, writing the
 * judgement records and cache entries the main thread sends, one message at
 * a time, answering each with the running report or the error.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openStore } from "../store/index.js";
import type { OpenStoreOptions } from "../store/index.js";
import { StoreSink } from "./records.js";

const port = parentPort!;
const store = await openStore(workerData as OpenStoreOptions);
const sink = new StoreSink(store, { batchSize: Number.MAX_SAFE_INTEGER });
let queue: Promise<void> = Promise.resolve();

function errorOf(e: unknown) {
  const err = e as { name?: string; message?: string; code?: string };
  return { name: err?.name ?? "Error", message: err?.message ?? String(e), code: err?.code };
}

port.on("message", (msg: { id: number; type: "records" | "cache" | "close"; payload?: unknown }) => {
  queue = queue.then(async () => {
    try {
      if (msg.type === "records") {
        sink.add(msg.payload as never);
        port.postMessage({ id: msg.id, ok: true, report: await sink.flush() });
      } else if (msg.type === "cache") {
        await store.responseCache.put(msg.payload as never);
        port.postMessage({ id: msg.id, ok: true });
      } else {
        await store.close();
        port.postMessage({ id: msg.id, ok: true });
      }
    } catch (e) {
      port.postMessage({ id: msg.id, ok: false, error: errorOf(e) });
    }
  });
});
port.postMessage({ id: 0, ok: true, ready: true });
