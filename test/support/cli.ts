/**
 * `rlxf` run in-process, as the binary runs it (src/cli/run.ts: the same command loading, output and exit codes),
 * with stdout and stderr captured and the working directory and environment set for the one call:
 *
 *     const r = await rlxf(["import", file, "--db", db, "--json"]);   // { code, stdout, stderr }
 *     await expect(rlxfOk(["rm", "eval", "--model", "nope"])).rejects.toThrow(/no reward model/);   // throws unless code 0
 *
 * Calls run one at a time (they share the process's stdout, cwd and environment), even when started together.
 * The environment is the test's, less rlxf's own variables (RLXF_DB, RLXF_DATABASE_URL, RLXF_MODEL, ...; the
 * suite's RLXF_TEST_*, RLXF_REQUIRE_* and RLXF_DATA stay) and provider keys, plus `env`; the working directory
 * is `cwd`, else a temporary folder of this test file's process (so a forgotten `--db` never writes into the
 * checkout). Everything is restored after the call. An error that is not one of rlxf's gives code 1 and its stack
 * on stderr, as an uncaught error would in the binary.
 *
 * What is about the process itself (signals, `rlxf serve`, a closed pipe, a terminal, startup) is tested on the
 * built binary instead: see `rlxfBinary`.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable, Writable } from "node:stream";
import { run } from "../../src/cli/run.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working directory of the call (default: a temporary folder of this process). */
  cwd?: string;
  /** Variables to set (a string) or remove (undefined) for the call. */
  env?: Record<string, string | undefined>;
  /** What the command reads on stdin (default: nothing, at once). */
  stdin?: string | Buffer;
}

/** Variables of the suite itself, which the product never reads: kept. */
const SUITE_VARIABLES = /^RLXF_(TEST_|REQUIRE_|DATA$)/;
/** Provider keys some commands fall back to: removed, so that a developer's own never reach a test. */
const PROVIDER_KEYS = ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"];

let scratch: string | undefined;
function defaultCwd(): string {
  if (!scratch) {
    const dir = mkdtempSync(join(tmpdir(), "rlxf-cli-cwd-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  return scratch;
}

class Capture extends Writable {
  readonly chunks: Buffer[] = [];
  readonly isTTY = false;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

function swapStream(name: "stdout" | "stderr" | "stdin", stream: NodeJS.ReadableStream | NodeJS.WritableStream): () => void {
  const saved = Object.getOwnPropertyDescriptor(process, name)!;
  Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => stream });
  return () => Object.defineProperty(process, name, saved);
}

async function runOnce(args: readonly string[], opts: CliOptions): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]);
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  const savedExitCode = process.exitCode;
  for (const k of Object.keys(process.env)) if ((k.startsWith("RLXF_") && !SUITE_VARIABLES.test(k)) || PROVIDER_KEYS.includes(k)) delete process.env[k];
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.chdir(opts.cwd ?? defaultCwd());
  process.exitCode = undefined;
  const restore = [swapStream("stdout", stdout), swapStream("stderr", stderr), swapStream("stdin", stdin)];
  let code: number;
  try {
    code = await run(["node", "rlxf", ...args]);
    if (code === 0 && typeof process.exitCode === "number") code = process.exitCode;
  } catch (e) {
    stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    code = 1;
  } finally {
    for (const undo of restore) undo();
    process.exitCode = savedExitCode;
    process.chdir(savedCwd);
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
  // Writes already made reach the capture on the next turns of the event loop.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

let queue: Promise<unknown> = Promise.resolve();

/** Run `rlxf ...args` in this process; see the file's comment. */
export function rlxf(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const result = queue.then(() => runOnce(args, opts));
  queue = result.catch(() => undefined);
  return result;
}

/** `rlxf(args)`, throwing an error with what it printed on stderr unless it exits 0. */
export async function rlxfOk(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const r = await rlxf(args, opts);
  if (r.code !== 0) throw new Error(`rlxf ${args.join(" ")} exited with ${r.code}: ${r.stderr}`);
  return r;
}

const ROOT = resolve(import.meta.dirname, "..", "..");
/** The built CLI. */
export const BIN = join(ROOT, "dist", "cli", "main.js");

/**
 * Run the built binary (`node dist/cli/main.js ...args`; `npm test` builds first, and its absence is a failure).
 * For what is about the process: startup, exit codes as the shell sees them, a terminal, signals.
 */
export function rlxfBinary(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test does)`);
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: opts.cwd ?? defaultCwd(), env: { ...process.env, CI: "1", ...opts.env }, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}
