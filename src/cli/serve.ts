/** `rlxf serve`: the HTTP API on the store, with graceful shutdown. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, Option } from "commander";
import { openJobs } from "../jobs/index.js";
import { PROVIDERS, type ProviderKind } from "../providers/index.js";
import { RlxfError } from "../errors.js";
import { readImportFile } from "../io/index.js";
import { ComputePool, createApp, DEFAULT_HOST, DEFAULT_MAX_BATCH, DEFAULT_PORT, type Limits, listen, parseLimits, resolveLimits } from "../server/index.js";
import { DURABILITIES, type Durability, redact, resolveTarget, type Store } from "../store/index.js";
import { demoDatasetPath } from "./demo.js";
import { judgeModelFrom } from "./model-options.js";
import { type DbOptions, dbOption, info, int, out, storeFrom } from "./shared.js";

export interface ServeOptions extends DbOptions {
  port: number;
  host: string;
  demo: boolean;
  accessLog?: boolean;
  maxBatch?: number;
  judgeModel?: string;
  judgeBaseUrl?: string;
  judgeProvider?: ProviderKind;
  durability: Durability;
  sandboxCeilings?: string;
  sandboxConcurrency?: number;
  /** Job worker threads in this process (default 2 on SQLite, 0 on PostgreSQL where `rlxf worker` runs them). */
  workers?: number;
  /** Threads scoring rewards and fitting leaderboards for requests. */
  computeThreads?: number;
  /** Longest such a computation may run (seconds). */
  computeTimeout?: number;
  /** Such computations waiting for a thread before more are refused (503). */
  computeQueue?: number;
  limits?: string;
}

export const DEMO_PROJECT = "demo";

function describeStore(opts: DbOptions, store: Store): string {
  const db = opts.db;
  const t = db ? (/^postgres(ql)?:\/\//.test(db) ? resolveTarget({ url: db }) : resolveTarget({ path: db })) : resolveTarget();
  return `${t.engine === "sqlite" ? `SQLite ${t.path}` : `PostgreSQL ${redact(t.url)}`}, durability ${store.durability}`;
}

/** The web app built next to the CLI (dist/web), when it was built. */
export function webAppRoot(): string | undefined {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "web");
  return existsSync(join(dir, "index.html")) ? dir : undefined;
}

/** An empty store (no records, no keys) gets the bundled example as project "demo". */
async function seedDemo(store: Store): Promise<boolean> {
  if ((await store.projects()).length > 0 || (await store.keys.list({ includeRevoked: true })).length > 0) return false;
  const batch = await readImportFile(demoDatasetPath(), { project: DEMO_PROJECT });
  await store.write({ items: batch.items, generations: batch.generations, feedback: batch.feedback });
  return true;
}

/**
 * Code sandboxes: what a request or job may ask for at most, and how many run at once in this process, its
 * threads included (flags over RLXF_SANDBOX_*).
 */
export async function applySandboxOptions(opts: { sandboxCeilings?: string; sandboxConcurrency?: number }): Promise<void> {
  if (opts.sandboxCeilings === undefined && opts.sandboxConcurrency === undefined) return;
  const { configureSandbox, parseSandboxLimits } = await import("../sources/verifiers/index.js");
  configureSandbox({
    ...(opts.sandboxCeilings !== undefined ? { ceilings: parseSandboxLimits(opts.sandboxCeilings, "--sandbox-ceilings") } : {}),
    ...(opts.sandboxConcurrency !== undefined ? { maxConcurrent: opts.sandboxConcurrency } : {}),
  });
}

/** The options of the code sandboxes and of the store's durability, shared by `serve` and `worker`. */
export function sandboxAndDurabilityOptions(cmd: Command, where: string): Command {
  return cmd
    .addOption(
      new Option("--durability <level>", "full: an acknowledged write survives power loss and OS crashes (SQLite synchronous=FULL); normal: only a crash of the process, faster (synchronous=NORMAL)")
        .choices([...DURABILITIES])
        .default("full"),
    )
    .option("--sandbox-ceilings <limits>", "most a code spec may ask of the sandbox, e.g. memoryBytes=1GiB,wallMs=30000 (default: the default limits; $RLXF_SANDBOX_CEILINGS)")
    .option("--sandbox-concurrency <n>", `code sandboxes at once in this ${where}, its threads included; more wait in line (default: CPUs; $RLXF_SANDBOX_CONCURRENCY)`, int("--sandbox-concurrency"));
}

export async function runServe(opts: ServeOptions): Promise<void> {
  await applySandboxOptions(opts);
  // Ceilings and rate limits: RLXF_LIMITS, then --limits over it, then --max-batch when given.
  const limits: Partial<Limits> = {
    ...(process.env.RLXF_LIMITS ? parseLimits(process.env.RLXF_LIMITS, "RLXF_LIMITS") : {}),
    ...(opts.limits !== undefined ? parseLimits(opts.limits, "--limits") : {}),
  };
  if (opts.maxBatch !== undefined) limits.maxBatch = opts.maxBatch;
  resolveLimits(limits, "--limits");
  const store = await storeFrom(opts, { durability: opts.durability });
  const judge = judgeModelFrom(opts, store);
  const workers = opts.workers ?? (store.engine === "sqlite" ? 2 : 0);
  const jobs = openJobs(store, { run: workers > 0 ? { concurrency: workers } : false, log: (line) => info(`${line}\n`) });
  const compute = new ComputePool(store, {
    ...(opts.computeThreads ? { threads: opts.computeThreads } : {}),
    ...(opts.computeTimeout ? { timeoutMs: opts.computeTimeout * 1000 } : {}),
    ...(opts.computeQueue !== undefined ? { maxQueue: opts.computeQueue } : {}),
    judge: judge.settings,
    judgeModel: judge.factory,
  });
  let running;
  try {
    if (opts.demo && (await seedDemo(store))) info(`seeded project "${DEMO_PROJECT}" with the bundled example dataset (${demoDatasetPath()})\n`);
    const webRoot = webAppRoot();
    const app = createApp({ store, limits, accessLog: !!opts.accessLog, judgeModel: judge.factory, judge: judge.settings, jobs, compute, ...(webRoot ? { webRoot } : {}) });
    running = await listen(app, { port: opts.port, host: opts.host });
  } catch (e) {
    await jobs.close({ graceMs: 0 });
    await compute.close();
    await store.close();
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE") throw new RlxfError("port_unavailable", `port ${opts.port} on ${opts.host} is in use; pick another with --port`, { cause: e });
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new RlxfError("invalid_input", `cannot listen on host "${opts.host}": ${(e as Error).message}`, { cause: e });
    if (code === "EACCES") throw new RlxfError("port_unavailable", `not allowed to listen on port ${opts.port} (ports below 1024 need privileges)`, { cause: e });
    throw e;
  }
  if ((await store.keys.list()).length === 0) {
    info(
      `no API keys yet; create one in another terminal:\n` +
        `  npx rlxf keys create --project ${DEMO_PROJECT} --role admin${opts.db ? ` --db ${opts.db}` : ""}\n` +
        `then: curl -H "Authorization: Bearer <key>" ${running.url}/v1/items\n` +
        (webAppRoot() ? `or open ${running.url}/?key=<key> in a browser\n` : ""),
    );
  }
  if (webAppRoot()) info(`web app: ${running.url}/ (log in with an API key)\n`);
  info(
    workers > 0
      ? `background jobs: ${workers} worker thread(s) in this server (--workers)\n`
      : "background jobs (exports, big leaderboards, /v1/jobs) run in `rlxf worker` processes on this database; start at least one (or --workers N here)\n",
  );
  info(`API reference: ${running.url}/v1/openapi.json; stop with Ctrl-C (or SIGTERM)\n`);
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        info(`${signal} again: exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      info(`${signal}: shutting down, finishing ${running.inFlight()} in-flight request(s)\n`);
      void (async () => {
        try {
          await running.close();
          await jobs.close({ graceMs: 5_000 });
          await compute.close();
          await judge.close();
        } finally {
          await store.close();
          info("stopped\n");
          process.off("SIGTERM", stop);
          process.off("SIGINT", stop);
          resolve();
        }
      })();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  // Last, after the signal handlers: a supervisor reading stdout knows the server is ready and may stop it at once.
  out(`rlxf server listening on ${running.url} (${describeStore(opts, store)})\n`);
  await stopped;
}

export function register(program: Command): void {
  const serve = program
    .command("serve")
    .description("start the HTTP API (v1) on the store; an empty store gets a demo project")
    .option("--port <n>", "port (0 picks a free one)", int("--port"), DEFAULT_PORT)
    .option("--host <host>", "interface to listen on (0.0.0.0 for all)", DEFAULT_HOST)
    .option("--no-demo", "do not seed the demo project into an empty store")
    .option("--access-log", "log one line per request to stderr")
    .option("--max-batch <n>", `most records in one batch request (default ${DEFAULT_MAX_BATCH}; the limit maxBatch)`, int("--max-batch"))
    .option(
      "--limits <limits>",
      "ceilings and rate limits over the defaults: name=value,... (e.g. bootstrapRounds=5000,keyRate=200,exportRetentionSeconds=86400; a rate may be off) or a JSON file of them (default: $RLXF_LIMITS; see README)",
    )
    .option("--judge-model <name>", "model that judges in reward specs ask (default: $RLXF_JUDGE_MODEL, else $RLXF_MODEL)")
    .option("--judge-base-url <url>", "its OpenAI-compatible (or Anthropic) endpoint (default: $RLXF_JUDGE_BASE_URL, else $RLXF_BASE_URL); key from $RLXF_JUDGE_API_KEY or $RLXF_API_KEY")
    .addOption(new Option("--judge-provider <kind>", "its wire protocol (default: openai)").choices([...PROVIDERS]));
  sandboxAndDurabilityOptions(serve, "server")
    .option("--workers <n>", "job worker threads in this process (default 2 on SQLite; 0 on PostgreSQL, where `rlxf worker` processes run jobs)", int("--workers"))
    .option("--compute-threads <n>", "threads that score rewards and fit leaderboards for requests (default: cores - 1, at most 4)", int("--compute-threads"))
    .option("--compute-timeout <seconds>", "longest such a computation may run before it is stopped (503)", int("--compute-timeout"), 30)
    .option("--compute-queue <n>", "such computations waiting for a thread before more are refused with 503 and Retry-After (default 32)", int("--compute-queue"))
    .addOption(dbOption())
    .action(runServe);
}
