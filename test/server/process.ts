/** Running the real built server (`node dist/cli/main.js serve`) as a child process. */
import { type ChildProcess, spawn } from "node:child_process";
import { requireBuiltCli } from "./helpers.js";

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `rlxf serve --port 0 ...args` (in `cwd`, default this process's) and wait for its URL (at most `timeoutMs`). */
export async function startServer(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000, cwd?: string): Promise<ServerProcess> {
  const cli = requireBuiltCli();
  const proc = spawn(process.execPath, [cli, "serve", "--port", "0", ...args], {
    env: { ...process.env, ...env },
    ...(cwd ? { cwd } : {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`the server did not start within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    const look = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off("data", look);
        resolve(m[1] as string);
      }
    };
    proc.stdout!.on("data", look);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening\nstdout: ${out}\nstderr: ${err}`));
    });
  });
  return { url, proc, stdout: () => out, stderr: () => err, exited };
}
