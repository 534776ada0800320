/**
 * Jobs of one process: the queue engine that suits the store (pg-boss on PostgreSQL, the task table on
 * SQLite) and, where this process runs jobs itself, a runner with worker threads.
 *
 *     const jobs = openJobs(store, { run: { concurrency: 2 } });
 *     const job = await jobs.submit({ kind: "judge", project: "demo", input, origin: "cli" });
 *     ...
 *     await jobs.close();
 */
import { RlxfError } from "../errors.js";
import { type JobRecord, RULE_CLAIM_LEASE_MS, type Store, reopenOptions } from "../store/index.js";
import { type QueueEngine, LocalEngine } from "./engine.js";
import { JOB_KINDS } from "./kinds/index.js";
import type { WorkerModelDefaults } from "./models.js";
import { PgBossEngine } from "./pgboss.js";
import { InlineRunner, type Runner, ThreadRunner, threadsAvailable } from "./pool.js";
import { JobRunner, type JobRunnerOptions } from "./runner.js";
import { type SubmitOptions, submitJob } from "./submit.js";

export interface JobsOptions {
  /**
   * Run jobs in this process: `true`/options start a runner now; `"on-submit"` starts one with the first job
   * submitted here (what an app made without explicit settings does); `false` (default) only submits.
   */
  run?: boolean | "on-submit" | (JobRunnerOptions & { threads?: boolean; models?: WorkerModelDefaults });
  /** pg-boss maintenance in this process (default: when it runs jobs). */
  supervise?: boolean;
  log?: (line: string) => void;
  /**
   * Judges on live traffic: how often (ms) this process looks for pending rule evaluations with no `rules` job to
   * run them, and submits one (default 5000 where it runs jobs; 0 turns it off). Evaluations are committed with
   * the generations they judge, so whatever a crash interrupted is found here.
   */
  rulesSweepMs?: number;
}

export class Jobs {
  readonly store: Store;
  readonly engine: QueueEngine;
  #runner: JobRunner | undefined;
  readonly #opts: JobsOptions;
  #closed = false;
  #sweep: NodeJS.Timeout | undefined;
  #kicking: Promise<number> | undefined;
  /** Projects a rules sweep is asked to look at ("all": every project). */
  #wanted: Set<string> | "all" = new Set();
  readonly #log: (line: string) => void;

  constructor(store: Store, opts: JobsOptions = {}) {
    this.store = store;
    this.#opts = opts;
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    if (store.engine === "postgres") {
      const target = store.target;
      if (target?.engine !== "postgres") throw new RlxfError("invalid_config", "jobs on PostgreSQL need a store opened with its URL");
      this.engine = new PgBossEngine(store, { url: target.url, kinds: JOB_KINDS, supervise: opts.supervise ?? !!opts.run, log });
    } else {
      this.engine = new LocalEngine(store);
    }
    this.#log = log;
    if (opts.run && opts.run !== "on-submit") this.startRunner();
    const every = opts.rulesSweepMs ?? 5000;
    // A worker for other kinds only leaves the sweep to the workers that run rules jobs.
    const kinds = typeof opts.run === "object" ? opts.run.kinds : undefined;
    if (opts.run && every > 0 && (kinds === undefined || kinds.includes("rules"))) {
      this.#sweep = setInterval(() => void this.kickRules().catch(() => {}), every);
      this.#sweep.unref();
      setImmediate(() => void this.kickRules().catch(() => {}));
    }
  }

  /**
   * Submit a `rules` job for each project (or for `project`) whose rules have evaluations to run now and that has
   * no `rules` job queued or running. Returns how many jobs were submitted. Calls made while a sweep runs are
   * folded into one more pass after it (and answer with that sweep's count).
   */
  kickRules(project?: string): Promise<number> {
    if (this.#closed) return Promise.resolve(0);
    if (project === undefined || this.#wanted === "all") this.#wanted = "all";
    else this.#wanted.add(project);
    if (this.#kicking) return this.#kicking;
    const pass = async (): Promise<number> => {
      let submitted = 0;
      while (!this.#closed && (this.#wanted === "all" || this.#wanted.size > 0)) {
        const wanted = this.#wanted;
        this.#wanted = new Set();
        const scopes = wanted === "all" ? [undefined] : [...wanted];
        for (const scope of scopes) {
          const backlog = await this.store.rules.backlog({ leaseMs: RULE_CLAIM_LEASE_MS, ...(scope !== undefined ? { project: scope } : {}) });
          for (const p of backlog.keys()) {
            if (this.#closed) return submitted;
            const active = await Promise.all((["queued", "running"] as const).map((state) => this.store.jobs.list({ project: p, kind: "rules", state, limit: 1 })));
            if (active.some((page) => page.jobs.length > 0)) continue;
            await this.submit({ kind: "rules", input: {}, project: p, createdBy: "rules", origin: "cli" });
            submitted++;
          }
        }
      }
      return submitted;
    };
    this.#kicking = pass()
      .catch((e: unknown) => {
        if (!this.#closed) this.#log(`rules: ${(e as Error).message}`);
        return 0;
      })
      .finally(() => (this.#kicking = undefined));
    return this.#kicking;
  }

  /** The runner of this process, if it runs jobs. */
  get runner(): JobRunner | undefined {
    return this.#runner;
  }

  startRunner(): JobRunner {
    if (this.#closed) throw new RlxfError("unavailable", "jobs are closed");
    if (this.#runner) return this.#runner;
    const settings = typeof this.#opts.run === "object" ? this.#opts.run : {};
    const reopen = reopenOptions(this.store);
    const runner: Runner =
      settings.threads !== false && threadsAvailable() && reopen !== undefined
        ? new ThreadRunner(reopen, {
            defaults: settings.models ?? {},
            // A worker for a few kinds readies its threads at once; one for every kind loads each kind when it comes.
            ...(settings.kinds ? { warm: { threads: Math.max(1, settings.concurrency ?? 2), kinds: settings.kinds } } : {}),
          })
        : new InlineRunner(this.store, settings.models ?? {});
    this.#runner = new JobRunner(this.store, this.engine, runner, { ...settings, ...(this.#opts.log ? { log: this.#opts.log } : {}) }).start();
    return this.#runner;
  }

  async submit(s: SubmitOptions): Promise<JobRecord> {
    const job = await submitJob(this.store, this.engine, s);
    if (this.#opts.run === "on-submit") this.startRunner();
    this.engine.wake();
    return job;
  }

  cancel(id: string, project?: string): Promise<JobRecord | undefined> {
    return this.store.jobs.cancel(id, project, this.engine.settled);
  }

  async retry(id: string, project?: string): Promise<JobRecord | undefined> {
    const job = await this.store.jobs.retry(id, project, this.engine.enqueue);
    if (job && this.#opts.run === "on-submit") this.startRunner();
    this.engine.wake();
    return job;
  }

  async close(opts: { graceMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweep) clearInterval(this.#sweep);
    await this.#kicking;
    await this.#runner?.stop(opts);
    await this.engine.close();
  }
}

export function openJobs(store: Store, opts: JobsOptions = {}): Jobs {
  return new Jobs(store, opts);
}
