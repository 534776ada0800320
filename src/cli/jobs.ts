/**
 * `rlxf jobs list|show|wait|cancel|retry|file`: background jobs in the store (wherever they were submitted:
 * the API, the web app, or a long command's `--submit`), and what `--submit` sends for each command.
 */
import { createWriteStream, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { type Command, InvalidArgumentError, Option } from "commander";
import { RlxfError } from "../errors.js";
import type { ModelInput } from "../jobs/index.js";
import { JOB_KIND_NAMES as JOB_KINDS } from "../jobs/schema.js";
import { readRawRecords } from "../io/index.js";
import { JOB_STATES, type JobRecord, type JobState, type Store, isFinalState } from "../store/index.js";
import type { ModelCliOptions } from "./model-options.js";
import { progress } from "./progress.js";
import { type DbOptions, dbOption, info, int, out, table, withStore } from "./shared.js";

// ----------------------------------------------------------------- submit ---

/** Enqueue a job from the command line; prints its id on stdout (and how to follow it on stderr). */
/** The jobs room, loaded when a command needs it (it brings every kind's code). */
const jobsRoom = () => import("../jobs/index.js");

export async function submitFromCli(opts: DbOptions & { project?: string }, kind: string, input: unknown): Promise<JobRecord> {
  const { openJobs } = await jobsRoom();
  return withStore(opts, async (store) => {
    const jobs = openJobs(store, { run: false, log: (l) => info(`${l}\n`) });
    try {
      const job = await jobs.submit({ kind, input, ...(opts.project ? { project: opts.project } : {}), createdBy: "cli", origin: "cli" });
      out(`${job.id}\n`);
      info(
        `submitted ${kind} job ${job.id}${job.progress.total !== null ? ` (${job.progress.total} units in ${job.tasks.total} tasks)` : ""}; ` +
          `follow it with: rlxf jobs wait ${job.id}${opts.db ? ` --db ${opts.db}` : ""}\n` +
          (store.engine === "sqlite" ? "  (it runs in `rlxf serve` or `rlxf worker` on the same database file)\n" : "  (`rlxf worker` processes on this database run it)\n"),
      );
      return job;
    } finally {
      await jobs.close();
    }
  });
}

/** The model settings a job carries: endpoint, model and limits, never a key (workers bring their own). */
export function modelInputOf(opts: Partial<ModelCliOptions>, model?: string): ModelInput {
  if (opts.apiKey) info("note: --api-key is not sent with a job; workers use their own RLXF_API_KEY (for their RLXF_BASE_URL)\n");
  const baseUrl = opts.baseUrl ?? process.env.RLXF_BASE_URL;
  const name = model ?? opts.model ?? process.env.RLXF_MODEL;
  const provider = opts.provider ?? (process.env.RLXF_PROVIDER as ModelInput["provider"] | undefined);
  return {
    ...(provider ? { provider } : {}),
    ...(baseUrl ? { baseUrl } : {}),
    ...(name ? { model: name } : {}),
    ...(opts.concurrency ? { concurrency: Math.floor(opts.concurrency) } : {}),
    ...(opts.rpm ? { rpm: opts.rpm } : {}),
    ...(opts.tpm ? { tpm: opts.tpm } : {}),
    ...(opts.timeout ? { timeoutMs: Math.round(opts.timeout * 1000) } : {}),
    ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {}),
    ...(opts.cache === false ? { cache: false } : {}),
  };
}

/** Every record of a JSONL (or JSON array) file, as read. */
export async function readRows(path: string): Promise<unknown[]> {
  const rows: unknown[] = [];
  for await (const r of readRawRecords(path)) rows.push(r.value);
  return rows;
}

/** A judge for a job: a shipped name as is, a config file read here (workers need not see it). */
export async function judgeRefOf(ref: string): Promise<string | Record<string, unknown>> {
  const { resolveJudge } = await import("../sources/index.js");
  try {
    const j = resolveJudge(ref);
    return j.name === ref && !/[/\\]|\.json$/i.test(ref) ? ref : (j as unknown as Record<string, unknown>);
  } catch (e) {
    throw new RlxfError("invalid_config", `--judge ${ref}: ${(e as Error).message}`);
  }
}

/** A verifier for a job: a name as is, a spec file read here. */
export function verifierRefOf(ref: string): string | Record<string, unknown> {
  if (/\.json$/i.test(ref)) return JSON.parse(readFileSync(ref, "utf8")) as Record<string, unknown>;
  return ref;
}

/** Lab paths as the workers should read them: absolute (they must see the same files). */
export const absolutePaths = (paths: readonly string[]) => paths.map((p) => resolve(p));

// ------------------------------------------------------------------ follow ---

const fmtProgress = (j: JobRecord) => `${j.progress.done}${j.progress.total !== null ? `/${j.progress.total}` : ""}${j.progress.failed ? ` (${j.progress.failed} failed)` : ""}`;

async function jobOr404(store: Store, id: string, project?: string): Promise<JobRecord> {
  const j = await store.jobs.get(id, project);
  if (!j) throw new RlxfError("not_found", `no job ${id}${project ? ` in project "${project}"` : ""}`);
  return j;
}

function printJob(j: JobRecord, failures: Awaited<ReturnType<Store["jobs"]["attemptErrors"]>>, unitFailures: Awaited<ReturnType<Store["jobs"]["unitFailures"]>>): void {
  out(`job ${j.id} (${j.kind}, project ${j.project}): ${j.state}${j.cancelRequested && !isFinalState(j.state) ? " (cancelling)" : ""}\n`);
  out(`  progress ${fmtProgress(j)}${j.progress.note ? ` — ${j.progress.note}` : ""}; tasks ${j.tasks.done}/${j.tasks.total} done, ${j.tasks.failed} failed; ${j.attempts} attempt(s), at most ${j.maxAttempts} per task\n`);
  out(`  created ${j.createdAt}${j.startedAt ? `, started ${j.startedAt}` : ""}${j.finishedAt ? `, finished ${j.finishedAt}` : ""}${j.createdBy ? ` by ${j.createdBy}` : ""}\n`);
  if (j.error) out(`  error: ${j.error}\n`);
  if (j.result !== undefined) out(`  result: ${JSON.stringify(j.result).slice(0, 2000)}\n`);
  for (const f of failures.slice(0, 10)) out(`  task ${f.task} attempt ${f.attempt} failed ${f.at}${f.worker ? ` on ${f.worker}` : ""}: ${f.error}\n`);
  for (const u of unitFailures.slice(0, 10)) out(`  unit ${u.unit} failed: ${u.error}\n`);
}

/** Follow a job until it ends (a progress bar on a TTY); resolves with the finished job. */
export async function waitForJob(store: Store, id: string, opts: { timeoutMs?: number; project?: string; intervalMs?: number } = {}): Promise<JobRecord> {
  let j = await jobOr404(store, id, opts.project);
  const bar = progress(`${j.kind} ${j.id.slice(0, 8)}`, j.progress.total ?? undefined);
  let shown = 0;
  const end = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : Infinity;
  try {
    while (!isFinalState(j.state)) {
      if (Date.now() > end) throw new RlxfError("timed_out", `job ${id} is still ${j.state} (${fmtProgress(j)}) after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`);
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
      j = await jobOr404(store, id, opts.project);
      if (j.progress.done > shown) {
        bar.tick(j.progress.done - shown, j.progress.note);
        shown = j.progress.done;
      }
    }
  } finally {
    bar.done(j.state);
  }
  return j;
}

const stateOf = (v: string): JobState => {
  if (!(JOB_STATES as readonly string[]).includes(v)) throw new InvalidArgumentError(`--state must be one of ${JOB_STATES.join(", ")}`);
  return v as JobState;
};
const kindOf = (v: string) => {
  if (!(JOB_KINDS as readonly string[]).includes(v)) throw new InvalidArgumentError(`--kind must be one of ${JOB_KINDS.join(", ")}`);
  return v;
};

export function register(program: Command): void {
  const jobs = program.command("jobs").description("background jobs: list them, follow one, cancel it or run again what failed");

  jobs
    .command("list")
    .description("the project's jobs, newest first")
    .option("--project <name>", "project", "default")
    .addOption(new Option("--state <state>", "only jobs in this state").argParser(stateOf))
    .addOption(new Option("--kind <kind>", "only jobs of this kind").argParser(kindOf))
    .option("--limit <n>", "at most this many", int("--limit"), 50)
    .option("--json", "one JSON job per line")
    .addOption(dbOption())
    .action(async (opts: DbOptions & { project: string; state?: JobState; kind?: string; limit: number; json?: boolean }) => {
      await withStore(opts, async (store) => {
        const page = await store.jobs.list({ project: opts.project, limit: Math.max(1, Math.min(500, opts.limit)), ...(opts.state ? { state: opts.state } : {}), ...(opts.kind ? { kind: opts.kind } : {}) });
        if (opts.json) {
          for (const j of page.jobs) out(`${JSON.stringify({ ...j, input: undefined, result: undefined })}\n`);
          return;
        }
        out(
          table(
            page.jobs.map((j) => ({ id: j.id, kind: j.kind, state: j.state, progress: fmtProgress(j), attempts: j.attempts, created: j.createdAt, error: (j.error ?? "").slice(0, 60) })),
            [{ key: "id" }, { key: "kind" }, { key: "state" }, { key: "progress" }, { key: "attempts" }, { key: "created" }, { key: "error" }],
          ),
        );
      });
    });

  jobs
    .command("show")
    .description("one job: state, progress, result, and the error of every failed attempt")
    .argument("<id>", "job id")
    .option("--json", "print JSON")
    .addOption(dbOption())
    .action(async (id: string, opts: DbOptions & { json?: boolean }) => {
      await withStore(opts, async (store) => {
        const j = await jobOr404(store, id);
        const [failures, unitFailures] = await Promise.all([store.jobs.attemptErrors(id, 100), store.jobs.unitFailures(id, 100)]);
        if (opts.json) out(`${JSON.stringify({ ...j, failures, unitFailures })}\n`);
        else printJob(j, failures, unitFailures);
      });
    });

  jobs
    .command("wait")
    .description("follow a job until it ends (a progress bar on a terminal); exits 1 when it failed or was cancelled")
    .argument("<id>", "job id")
    .option("--timeout <seconds>", "give up after this long (exit 1)", int("--timeout"))
    .option("--json", "print the finished job as JSON")
    .addOption(dbOption())
    .action(async (id: string, opts: DbOptions & { timeout?: number; json?: boolean }) => {
      await withStore(opts, async (store) => {
        const j = await waitForJob(store, id, { ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout * 1000 } : {}) });
        if (opts.json) out(`${JSON.stringify(j)}\n`);
        else printJob(j, await store.jobs.attemptErrors(id, 10), await store.jobs.unitFailures(id, 10));
        if (j.state !== "succeeded") process.exitCode = 1;
      });
    });

  jobs
    .command("cancel")
    .description("cancel a job: waiting tasks at once, running ones within seconds (what they finished is kept)")
    .argument("<id>", "job id")
    .addOption(dbOption())
    .action(async (id: string, opts: DbOptions) => {
      const { openJobs } = await jobsRoom();
      await withStore(opts, async (store) => {
        const h = openJobs(store, { run: false });
        try {
          const j = await h.cancel(id);
          if (!j) throw new RlxfError("not_found", `no job ${id}`);
          out(`job ${id}: ${j.state}${j.cancelRequested && !isFinalState(j.state) ? " (running tasks stop at their next heartbeat)" : ""}\n`);
        } finally {
          await h.close();
        }
      });
    });

  jobs
    .command("retry")
    .description("run again what failed or was cancelled: failed units, failed or cancelled tasks")
    .argument("<id>", "job id")
    .addOption(dbOption())
    .action(async (id: string, opts: DbOptions) => {
      const { openJobs } = await jobsRoom();
      await withStore(opts, async (store) => {
        const h = openJobs(store, { run: false });
        try {
          const j = await h.retry(id);
          if (!j) throw new RlxfError("not_found", `no job ${id}`);
          out(`job ${id}: ${j.state} again (${fmtProgress(j)} kept)\n`);
        } finally {
          await h.close();
        }
      });
    });

  jobs
    .command("file")
    .description("the file a finished job made (an export)")
    .argument("<id>", "job id")
    .option("--out <file>", "write it here instead of stdout")
    .addOption(dbOption())
    .action(async (id: string, opts: DbOptions & { out?: string }) => {
      await withStore(opts, async (store) => {
        const j = await jobOr404(store, id);
        if (j.state !== "succeeded" || !(j.result as { file?: string } | undefined)?.file) throw new RlxfError("not_ready", `job ${id} is ${j.state} and has no file`);
        const src = Readable.from(store.jobs.fileParts(id));
        await pipeline(src, opts.out ? createWriteStream(opts.out) : process.stdout);
        if (opts.out) info(`wrote ${opts.out}\n`);
      });
    });
}

// ------------------------------------------------- what --submit sends ---

/** `rlxf judge <kind> --submit`: the file's rows go with the job; the judge config too, when it is a file. */
export async function submitJudge(cli: string, opts: ModelCliOptions & { input: string; judge?: string; project: string; sourceId?: string; swap?: boolean; order?: string; seed?: number; store?: boolean }, defaultJudge: string): Promise<JobRecord> {
  if (opts.store === false) throw new RlxfError("invalid_input", "--submit stores the feedback; it cannot be combined with --no-store");
  const rows = await readRows(opts.input);
  const order = opts.swap ? "both" : opts.order;
  void cli;
  return submitFromCli(opts, "judge", {
    judge: await judgeRefOf(opts.judge ?? defaultJudge),
    rows,
    ...(order ? { order } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.sourceId ? { sourceId: opts.sourceId } : {}),
    model: modelInputOf(opts),
  });
}

/**
 * `rlxf verify check --submit`: a `verify` job for a verifier, a `reward` job for a saved reward spec (`--spec`;
 * judges in it ask $RLXF_JUDGE_MODEL at $RLXF_JUDGE_BASE_URL, as `rlxf verify check --spec` does, with the
 * workers' own key).
 */
export async function submitVerify(opts: DbOptions & { verifier?: string; spec?: string; input: string; project?: string; concurrency?: number }): Promise<JobRecord> {
  if ((opts.verifier === undefined) === (opts.spec === undefined)) {
    throw new RlxfError("missing_option", "give --verifier (a verifier name or spec file) or --spec (a saved reward spec), not both", { field: "--verifier" });
  }
  const samples = (await readRows(opts.input)).map((r, i) => {
    const o = r as Record<string, unknown>;
    if (typeof o?.completion !== "string") throw new RlxfError("invalid_input", `${opts.input}: line ${i + 1} lacks a string "completion"`);
    return { completion: o.completion, ...(typeof o.prompt === "string" ? { prompt: o.prompt } : {}), ...(o.reference !== undefined ? { reference: o.reference } : {}) };
  });
  const common = { samples, store: true, ...(opts.concurrency ? { concurrency: opts.concurrency } : {}) };
  if (opts.spec !== undefined) {
    const env = process.env;
    const judge = env.RLXF_JUDGE_MODEL || env.RLXF_JUDGE_BASE_URL ? modelInputOf({ ...(env.RLXF_JUDGE_BASE_URL ? { baseUrl: env.RLXF_JUDGE_BASE_URL } : {}) }, env.RLXF_JUDGE_MODEL) : undefined;
    return submitFromCli(opts, "reward", { spec: opts.spec, ...(judge ? { judgeModel: judge } : {}), ...common });
  }
  return submitFromCli(opts, "verify", { verifier: verifierRefOf(opts.verifier!), ...common });
}

/** `rlxf rm train --submit`. */
export async function submitRmTrain(o: DbOptions & Record<string, unknown>): Promise<JobRecord> {
  if (o.embedUrl || process.env.RLXF_EMBED_URL) throw new RlxfError("invalid_input", "--submit trains on hashed n-gram features; embeddings (--embed-url) need a local run");
  if (o.out) throw new RlxfError("invalid_input", "--submit keeps the model in the store; --out needs a local run (then `rlxf rm` reads it from the store)");
  const pick = (k: string) => (o[k] !== undefined ? { [k]: o[k] } : {});
  return submitFromCli(o as DbOptions & { project?: string }, "rm-train", {
    name: o.name,
    ...pick("type"),
    ...(o.kinds ? { kinds: o.kinds } : {}),
    ...pick("sourceType"),
    ...pick("from"),
    ...pick("l2"),
    ...pick("margin"),
    ...pick("solver"),
    ...pick("members"),
    ...pick("penalty"),
    ...pick("dims"),
    ...(o.robust ? { robust: { method: o.robust, rate: o.noiseRate ?? 0.1, mode: o.robustMode ?? "drop" } } : {}),
    ...pick("testFraction"),
    ...pick("calibrate"),
    ...pick("cv"),
    ...pick("seed"),
    ...pick("bits"),
    ...pick("ngrams"),
    ...(o.save === false ? { save: false } : {}),
  });
}

/** `rlxf lab run|sweep --submit`: paths become absolute (the workers must see the same files). */
export async function submitLab(kind: "lab-run" | "lab-sweep", paths: string[], o: DbOptions & Record<string, unknown>): Promise<JobRecord> {
  const list = (v: unknown) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : undefined);
  const settings: Record<string, unknown> = {};
  for (const [k, to] of [["steps", "steps"], ["lr", "lr"], ["beta", "beta"], ["kl", "klCoef"], ["batch", "batch"], ["group", "group"], ["bestOfN", "bestOfN"], ["rounds", "rounds"], ["evalEvery", "evalEvery"]] as const) {
    if (o[k] !== undefined) settings[to] = o[k];
  }
  const common = {
    paths: absolutePaths(paths),
    methods: o.methods,
    ...(o.feedback ? { feedback: o.feedback } : {}),
    ...(o.lengthBias !== undefined ? { lengthBias: o.lengthBias } : {}),
    ...(o.instructions !== undefined ? { instructions: o.instructions } : {}),
    ...(list(o.models) ? { models: list(o.models) } : {}),
    ...(list(o.exclude) ? { exclude: list(o.exclude) } : {}),
    testFraction: o.testFraction,
    settings,
    lc: o.lc,
    ...(o.save ? { save: o.save } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
  };
  const input =
    kind === "lab-run"
      ? { ...common, ...(o.pFlip !== undefined ? { pFlip: o.pFlip } : {}), labels: o.labels, seed: o.seed }
      : { ...common, pFlips: o.pFlip, labels: o.labels, seeds: o.seeds };
  return submitFromCli(o as DbOptions & { project?: string }, kind, input);
}

/** `rlxf loop <loop> --submit`: the tasks file's tasks go with the job. */
export async function submitLoop(loop: string, o: ModelCliOptions & Record<string, unknown>): Promise<JobRecord> {
  if (o.memory) throw new RlxfError("invalid_input", "--submit does not take --memory yet; run the loop locally");
  const tasks = await readRows(o.tasks as string);
  const feedbackModel = o.feedbackModel || o.feedbackBaseUrl ? { ...modelInputOf({ ...o, ...(o.feedbackBaseUrl ? { baseUrl: o.feedbackBaseUrl as string } : {}) }, (o.feedbackModel as string | undefined) ?? (o.policy as string | undefined)) } : undefined;
  const pick = (k: string) => (o[k] !== undefined ? { [k]: o[k] } : {});
  return submitFromCli(o as DbOptions & { project?: string }, "loop", {
    loop,
    tasks,
    model: modelInputOf(o, o.policy as string | undefined),
    feedback: o.feedback,
    ...(feedbackModel ? { feedbackModel } : {}),
    ...pick("check"),
    ...pick("rounds"),
    ...pick("taskTokens"),
    ...pick("totalTokens"),
    ...pick("temperature"),
    ...pick("system"),
    ...pick("parallel"),
    ...pick("runId"),
    ...pick("lastOnly"),
    ...pick("temperatureStep"),
    ...pick("rejectPrevious"),
    ...pick("maxResamples"),
    ...pick("memorySize"),
    ...pick("aggregate"),
    ...pick("penalty"),
    ...pick("untilPass"),
  });
}

/** `rlxf export --submit`: the file is kept with the job (`rlxf jobs file ID --out FILE`). */
export function submitExport(o: DbOptions & { format: string; project: string }): Promise<JobRecord> {
  return submitFromCli(o, "export", { format: o.format });
}
