/** A compute pool thread (compute.ts): its own store handle, the operations of compute-ops.ts, one call at a time. */
import { parentPort, workerData } from "node:worker_threads";
import type { ModelSettings } from "../providers/index.js";
import { useSharedSandboxSlots } from "../sources/verifiers/index.js";
import { type OpenStoreOptions, openStore } from "../store/index.js";
import { type ComputeOps, computeOps } from "./compute-ops.js";
import { serializeError } from "./compute.js";

const { store: options, judge, sandbox } = workerData as { store: OpenStoreOptions; judge?: ModelSettings; sandbox: Parameters<typeof useSharedSandboxSlots>[0] };
useSharedSandboxSlots(sandbox);
const port = parentPort!;
const ready = (async () => {
  const store = await openStore(options);
  return computeOps(store, judge ? { judge } : {});
})();
// Loaded (or failed to open the store, which every call then reports): the pool starts the calls' time limits now.
void ready.then(
  () => port.postMessage({ ready: true }),
  () => port.postMessage({ ready: true }),
);

port.on("message", (m: { id: number; op: keyof ComputeOps; args: never }) => {
  void (async () => {
    try {
      const ops = await ready;
      const value = await (ops[m.op] as (a: never) => Promise<unknown>)(m.args);
      port.postMessage({ id: m.id, ok: true, value });
    } catch (e) {
      port.postMessage({ id: m.id, ok: false, error: serializeError(e) });
    }
  })();
});
