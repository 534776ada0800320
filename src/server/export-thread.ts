/** The thread of one streamed export (export-stream.ts): chunks of the export, a few ahead of the reader. */
import { parentPort, workerData } from "node:worker_threads";
import type { ExportFormat } from "../io/index.js";
import { type OpenStoreOptions, openStore } from "../store/index.js";
import { inlineChunks } from "./export-stream.js";

const { store: options, project, format, chunkBytes, ahead } = workerData as { store: OpenStoreOptions; project: string; format: ExportFormat; chunkBytes: number; ahead: number };
const port = parentPort!;
let credit = ahead;
let wake: (() => void) | undefined;
port.on("message", () => {
  credit++;
  wake?.();
});

try {
  const store = await openStore(options);
  const chunks = inlineChunks(store, project, format, chunkBytes);
  for (;;) {
    while (credit <= 0) await new Promise<void>((r) => (wake = r));
    const c = await chunks.next();
    if (!c) break;
    credit--;
    port.postMessage({ type: "chunk", data: c }, [c.buffer as ArrayBuffer]);
  }
  port.postMessage({ type: "end" });
  await store.close();
} catch (e) {
  port.postMessage({ type: "error", message: (e as Error).message });
}
