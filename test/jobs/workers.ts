/** `rlxf worker` processes (the built CLI) for the jobs tests, and waiting on jobs in the store. */
import { type ChildProcess, spawn } from "node:child_process";
import { requireBuiltCli } from "../server/helpers.js";
import type { JobRecord, Store } from "../../src/store/index.js";

export interface WorkerProcess {
  name: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `rlxf worker ...args` and wait until it says it runs (its name is in that line). */
export async function startWorker(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<WorkerProcess> {
  const cli = requireBuiltCli();
  const proc = spawn(process.execPath, [cli, "worker", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  proc.stdout!.on("data", (d) => (text += d));
  proc.stderr!.on("data", (d) => (text += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  const name = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not start within ${timeoutMs} ms:\n${text}`)), timeoutMs);
    const look = () => {
      const m = /rlxf worker (\S+) running/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on("data", look);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited (${code ?? signal}) before running:\n${text}`));
    });
  });
  return { name, proc, output: () => text, exited };
}

export async function stopWorker(w: WorkerProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  w.proc.kill(signal);
  const timer = setTimeout(() => w.proc.kill("SIGKILL"), 15_000);
  await w.exited;
  clearTimeout(timer);
}

export async function waitForJob(store: Store, id: string, timeoutMs: number, until: (j: JobRecord) => boolean = (j) => ["succeeded", "failed", "cancelled"].includes(j.state)): Promise<JobRecord> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const j = await store.jobs.get(id);
    if (j && until(j)) return j;
    if (Date.now() > end) throw new Error(`job ${id} did not get there within ${timeoutMs} ms: ${JSON.stringify(j)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
