/**
 * Runs the `rlxf` command line as a user does: one process of the built CLI, in a directory of the test's
 * choosing, with the environment of the test's choosing (nothing inherited that names a store or project).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "dist", "cli", "main.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working directory (default: the repository). */
  cwd?: string;
  /** Added to the environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** `rlxf ...args`; never throws for a non-zero exit (the result carries the code). */
export function rlxf(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^RLXF_(DB|DATABASE_URL|PROJECT)$/.test(k)) env[k] = v;
  env.CI = "1";
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}
