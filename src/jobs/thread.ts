/**
 * A worker thread of the job runner (pool.ts): opens its own handle on the store and runs the attempts it is
 * sent, one at a time, reporting progress and results back.
 */
import { parentPort, workerData } from "node:worker_threads";
import { useSharedSandboxSlots } from "../sources/verifiers/code/index.js";
import { type OpenStoreOptions, type Store, openStore } from "../store/index.js";
import { JobCancelled, executeTask } from "./execute.js";
import { loadJobKind } from "./kinds/index.js";
import type { WorkerModelDefaults } from "./models.js";
import { toWire } from "./pool.js";

const { target, defaults, sandbox } = workerData as { target: OpenStoreOptions; defaults: WorkerModelDefaults; sandbox: Parameters<typeof useSharedSandboxSlots>[0] };
useSharedSandboxSlots(sandbox);
const port = parentPort!;
let store: Promise<Store> | undefined;
const controllers = new Map<number, AbortController>();
const replies = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
let nextReq = 1;

port.on("message", (m: { type: string; id?: number; task?: never; reason?: string; req?: number; ok?: boolean; error?: { message: string }; kinds?: string[] }) => {
  if (m.type === "preload") {
    store ??= openStore({ ...target, poolSize: 3 });
    // Failures here surface again when a task needs the same thing.
    store.catch(() => {});
    for (const k of m.kinds ?? []) loadJobKind(k).catch(() => {});
  } else if (m.type === "run") {
    const id = m.id!;
    const ctl = new AbortController();
    controllers.set(id, ctl);
    void (async () => {
      try {
        store ??= openStore({ ...target, poolSize: 3 });
        const s = await store;
        const result = await executeTask(
          s,
          m.task!,
          ctl.signal,
          {
            progress: (done, total, note) => port.postMessage({ type: "progress", id, done, total, note }),
            log: (line) => port.postMessage({ type: "log", id, line }),
            addChunks: (chunks) =>
              new Promise<void>((resolve, reject) => {
                const req = nextReq++;
                replies.set(req, { resolve, reject });
                port.postMessage({ type: "chunks", id, req, chunks });
              }),
          },
          defaults,
        );
        port.postMessage({ type: "done", id, result });
      } catch (e) {
        port.postMessage({ type: "error", id, error: toWire(e) });
      } finally {
        controllers.delete(id);
      }
    })();
  } else if (m.type === "abort") {
    controllers.get(m.id!)?.abort(new JobCancelled(m.reason));
  } else if (m.type === "reply") {
    const r = replies.get(m.req!);
    replies.delete(m.req!);
    if (m.ok) r?.resolve();
    else r?.reject(new Error(m.error?.message ?? "could not add the units"));
  }
});
