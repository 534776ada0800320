/**
 * `rlxf worker`: runs background jobs from the store's queue, in worker threads, until stopped. On PostgreSQL
 * any number of workers on any machines that reach the database share the jobs (pg-boss); on a SQLite file,
 * workers on the same machine do. SIGTERM or Ctrl-C hands running tasks back (another worker takes them
 * up at once, without repeating what they finished).
 */
import { type Command, InvalidArgumentError } from "commander";
import { JOB_KIND_NAMES as JOB_KINDS } from "../jobs/schema.js";
import { type Durability, redact } from "../store/index.js";
import { applySandboxOptions, sandboxAndDurabilityOptions } from "./serve.js";
import { type DbOptions, dbOption, info, out, storeFrom } from "./shared.js";

export interface WorkerOptions extends DbOptions {
  kinds?: string[];
  concurrency: number;
  projectCap?: number;
  lease: number;
  rpm?: number;
  tpm?: number;
  name?: string;
  durability: Durability;
  sandboxCeilings?: string;
  sandboxConcurrency?: number;
}

const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer`);
  return n;
};
const positive = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number`);
  return n;
};
const kindList = (v: string) => {
  const kinds = v.split(",").map((k) => k.trim()).filter(Boolean);
  const bad = kinds.filter((k) => !(JOB_KINDS as readonly string[]).includes(k));
  if (bad.length || kinds.length === 0) throw new InvalidArgumentError(`--kinds: unknown kind(s) ${bad.join(", ") || "(none given)"}; use ${JOB_KINDS.join(", ")}`);
  return kinds;
};

export async function runWorker(opts: WorkerOptions): Promise<void> {
  const { openJobs } = await import("../jobs/index.js");
  await applySandboxOptions(opts);
  const store = await storeFrom(opts, { durability: opts.durability });
  const jobs = openJobs(store, {
    run: {
      concurrency: opts.concurrency,
      leaseMs: opts.lease * 1000,
      ...(opts.kinds ? { kinds: opts.kinds } : {}),
      ...(opts.projectCap !== undefined ? { projectCap: opts.projectCap } : {}),
      ...(opts.name ? { worker: opts.name } : {}),
      models: { ...(opts.rpm ? { rpm: opts.rpm } : {}), ...(opts.tpm ? { tpm: opts.tpm } : {}) },
    },
    supervise: true,
    log: (line) => info(`${line}\n`),
  });
  const runner = jobs.runner!;
  const where = store.target ? (store.target.engine === "sqlite" ? `SQLite ${store.target.path}` : `PostgreSQL ${redact(store.target.url)}`) : store.engine;
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        info(`${signal} again: exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      info(`${signal}: handing back ${runner.running} running task(s) and stopping\n`);
      void (async () => {
        try {
          await jobs.close({ graceMs: 10_000 });
        } finally {
          await store.close();
          info(`stopped (${runner.counts.succeeded} task(s) done, ${runner.counts.retried} handed back or retried, ${runner.counts.failed} failed, ${runner.counts.cancelled} cancelled)\n`);
          process.off("SIGTERM", stop);
          process.off("SIGINT", stop);
          resolve();
        }
      })();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  // The runner's own timers do not hold the process open (a program embedding it may exit with it idle); the
  // command runs until a signal stops it, so it holds the process itself, even on SQLite with nothing queued.
  const alive = setInterval(() => {}, 1 << 30);
  void stopped.then(() => clearInterval(alive));
  out(`rlxf worker ${runner.worker} running ${opts.kinds?.join(",") ?? "every kind of"} job(s), ${opts.concurrency} at a time, on ${where} (${jobs.engine.name})\n`);
  await stopped;
}

export function register(program: Command): void {
  const worker = program
    .command("worker")
    .description("run background jobs (judging, verifying, rewards, leaderboards, exports, training, lab, loops) until stopped; start as many as you like on PostgreSQL")
    .option("--kinds <list>", `comma-separated kinds to run (default all: ${JOB_KINDS.join(", ")})`, kindList)
    .option("--concurrency <n>", "tasks at once (each in a worker thread)", positiveInt("--concurrency"), 2)
    .option("--project-cap <n>", "most tasks of one project running at once over every worker (so one project cannot starve the others)", positiveInt("--project-cap"))
    .option("--lease <seconds>", "a worker silent this long is presumed gone and its tasks handed on", positive("--lease"), 30)
    .option("--rpm <n>", "requests per minute to each model endpoint, shared by every worker (the lower of this and a job's own wins)", positive("--rpm"))
    .option("--tpm <n>", "tokens per minute to each model endpoint, shared by every worker", positive("--tpm"))
    .option("--name <name>", "this worker's name in job records (default host:pid:random)");
  sandboxAndDurabilityOptions(worker, "worker").addOption(dbOption()).action(runWorker);
}
