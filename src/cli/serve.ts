/** `rlxf serve`: the HTTP API on the store, with graceful shutdown. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, Option } from "commander";
import { PROVIDERS, type ProviderKind } from "../providers/index.js";
import { RlxfError } from "../errors.js";
import { readImportFile } from "../io/index.js";
import { createApp, DEFAULT_HOST, DEFAULT_MAX_BATCH, DEFAULT_PORT, listen } from "../server/index.js";
import { DURABILITIES, type Durability, type Store } from "../store/index.js";
import { demoDatasetPath } from "./demo.js";
import { judgeModelFrom } from "./model-options.js";
import { type DbOptions, commandHint, dbOption, defaultProject, info, int, out, storeFrom, storeLabel } from "./shared.js";

export interface ServeOptions extends DbOptions {
  port: number;
  host: string;
  demo: boolean;
  accessLog?: boolean;
  maxBatch: number;
  judgeModel?: string;
  judgeBaseUrl?: string;
  judgeProvider?: ProviderKind;
  durability: Durability;
  sandboxCeilings?: string;
  sandboxConcurrency?: number;
}


/** The web app built next to the CLI (dist/web), when it was built. */
export function webAppRoot(): string | undefined {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "web");
  return existsSync(join(dir, "index.html")) ? dir : undefined;
}

/**
 * An empty store (no records, no keys) gets the bundled example in the default project: the one every CLI
 * command works in and `rlxf keys create` makes keys for, so the web app shows the example and whatever the
 * CLI stores next to it.
 */
async function seedDemo(store: Store, project: string): Promise<boolean> {
  if ((await store.projects()).length > 0 || (await store.keys.list({ includeRevoked: true })).length > 0) return false;
  const batch = await readImportFile(demoDatasetPath(), { project });
  await store.write({ items: batch.items, generations: batch.generations, feedback: batch.feedback });
  return true;
}

export async function runServe(opts: ServeOptions): Promise<void> {
  // Code sandboxes: what a request may ask for at most, and how many run at once (flags over RLXF_SANDBOX_*).
  if (opts.sandboxCeilings !== undefined || opts.sandboxConcurrency !== undefined) {
    const { configureSandbox, parseSandboxLimits } = await import("../sources/verifiers/index.js");
    configureSandbox({
      ...(opts.sandboxCeilings !== undefined ? { ceilings: parseSandboxLimits(opts.sandboxCeilings, "--sandbox-ceilings") } : {}),
      ...(opts.sandboxConcurrency !== undefined ? { maxConcurrent: opts.sandboxConcurrency } : {}),
    });
  }
  const project = defaultProject();
  const store = await storeFrom(opts, { durability: opts.durability, create: true });
  const judge = judgeModelFrom(opts, store);
  let running;
  try {
    if (opts.demo && (await seedDemo(store, project))) {
      info(`seeded project "${project}" with the bundled example dataset (dataset rlxf-demo, from ${demoDatasetPath()}; --no-demo leaves an empty store empty)\n`);
    }
    const webRoot = webAppRoot();
    const app = createApp({ store, maxBatch: opts.maxBatch, accessLog: !!opts.accessLog, judgeModel: judge.factory, ...(webRoot ? { webRoot } : {}) });
    running = await listen(app, { port: opts.port, host: opts.host });
  } catch (e) {
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
        `  npx ${commandHint("rlxf keys create --role admin", { project, ...(opts.db ? { db: opts.db } : {}) })}\n` +
        `then: curl -H "Authorization: Bearer <key>" ${running.url}/v1/items\n` +
        (webAppRoot() ? `or open ${running.url}/?key=<key> in a browser\n` : ""),
    );
  }
  if (webAppRoot()) info(`web app: ${running.url}/ (log in with an API key)\n`);
  info(`rlxf commands without --project work in project "${project}" (RLXF_PROJECT names another)${opts.db ? `; give them --db ${opts.db} too` : ""}\n`);
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
  out(`rlxf server listening on ${running.url} (${await storeLabel(opts)}, durability ${store.durability})\n`);
  await stopped;
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("start the HTTP API (v1) on the store; an empty store gets a demo project")
    .option("--port <n>", "port (0 picks a free one)", int("--port"), DEFAULT_PORT)
    .option("--host <host>", "interface to listen on (0.0.0.0 for all)", DEFAULT_HOST)
    .option("--no-demo", "do not seed the demo project into an empty store")
    .option("--access-log", "log one line per request to stderr")
    .option("--max-batch <n>", "most records in one batch request", int("--max-batch"), DEFAULT_MAX_BATCH)
    .option("--judge-model <name>", "model that judges in reward specs ask (default: $RLXF_JUDGE_MODEL, else $RLXF_MODEL)")
    .option("--judge-base-url <url>", "its OpenAI-compatible (or Anthropic) endpoint (default: $RLXF_JUDGE_BASE_URL, else $RLXF_BASE_URL); key from $RLXF_JUDGE_API_KEY or $RLXF_API_KEY")
    .addOption(new Option("--judge-provider <kind>", "its wire protocol (default: openai)").choices([...PROVIDERS]))
    .addOption(
      new Option("--durability <level>", "full: an acknowledged write survives power loss and OS crashes (SQLite synchronous=FULL); normal: only a crash of the process, faster (synchronous=NORMAL)")
        .choices([...DURABILITIES])
        .default("full"),
    )
    .option("--sandbox-ceilings <limits>", "most a code spec may ask of the sandbox, e.g. memoryBytes=1GiB,wallMs=30000 (default: the default limits; $RLXF_SANDBOX_CEILINGS)")
    .option("--sandbox-concurrency <n>", "code sandboxes at once in this server; more wait in line (default: CPUs; $RLXF_SANDBOX_CONCURRENCY)", int("--sandbox-concurrency"))
    .addOption(dbOption())
    .action(runServe);
}
