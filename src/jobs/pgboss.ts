/**
 * pg-boss (10.x) as the queue engine on PostgreSQL: one pg-boss queue per job kind (`rlxf-<kind>`), one
 * pg-boss job per delivery of a task. Deliveries are sent in the transaction that creates or hands on the
 * task (pg-boss takes the transaction as its `db` option), fetched with `SKIP LOCKED`, and closed (completed
 * or failed) in the transaction that ends the attempt. Retries with backoff, heartbeats and who runs what are
 * the job tables' business (src/store/jobs.ts), so every attempt is its own pg-boss job (`retryLimit: 0`):
 * pg-boss's archive then keeps one row per attempt. A `NOTIFY` on `rlxf_jobs` in the same transactions wakes
 * idle workers at once; they also poll.
 *
 * pg-boss keeps its tables in its own schema: `pgboss` next to a store in `public`, else `<schema>_pgboss`
 * (or `RLXF_PGBOSS_SCHEMA`).
 */
import PgBoss from "pg-boss";
import pg from "pg";
import type { EngineHook, Store, TaskRow, TxSql } from "../store/index.js";
import type { ClaimOptions, QueueEngine } from "./engine.js";

const CHANNEL = "rlxf_jobs";
/** pg-boss's own expiry of an active delivery: a backstop far beyond any heartbeat lease (it allows < 24 h). */
const EXPIRE_SECONDS = 23 * 3600;
/** Deliveries kept after they end (pg-boss archives, then deletes them). */
const RETENTION_DAYS = 7;

export const queueName = (kind: string) => `rlxf-${kind}`;

interface Delivery {
  jobId: string;
  seq: number;
}

export interface PgBossEngineOptions {
  /** The store's PostgreSQL URL (pg-boss opens a small pool of its own on it). */
  url: string;
  /** Every kind a task may have (their queues are created at start). */
  kinds: readonly string[];
  /** Run pg-boss's maintenance (expiry, archiving) in this process; workers do, servers need not. */
  supervise?: boolean;
  log?: (line: string) => void;
}

export class PgBossEngine implements QueueEngine {
  readonly name = "pg-boss" as const;
  readonly #store: Store;
  readonly #opts: PgBossEngineOptions;
  #boss: PgBoss | undefined;
  #schema: string | undefined;
  #starting: Promise<PgBoss> | undefined;
  #listener: pg.Client | undefined;
  #listening: Promise<void> | undefined;
  readonly #wakers = new Set<() => void>();
  #rotate = 0;
  #closed = false;

  constructor(store: Store, opts: PgBossEngineOptions) {
    this.#store = store;
    this.#opts = opts;
  }

  /** pg-boss's schema for this store. */
  async schema(): Promise<string> {
    if (this.#schema) return this.#schema;
    const r = await this.#store.jobs.withSql((tx) => tx.executeSql("select current_schema() as s"));
    const current = String(r.rows[0]?.s ?? "public");
    this.#schema = process.env.RLXF_PGBOSS_SCHEMA || (current === "public" ? "pgboss" : `${current}_pgboss`);
    return this.#schema;
  }

  /** Started pg-boss with every kind's queue. */
  async boss(): Promise<PgBoss> {
    if (this.#boss) return this.#boss;
    this.#starting ??= (async () => {
      const schema = await this.schema();
      const boss = new PgBoss({
        connectionString: this.#opts.url,
        schema,
        max: 3,
        application_name: "rlxf-jobs",
        supervise: this.#opts.supervise ?? false,
        schedule: false,
        migrate: true,
        // pg-boss hands its options to pg's pool: idle connections must not keep a process alive.
        ...({ allowExitOnIdle: true } as object),
      });
      boss.on("error", (e) => this.#opts.log?.(`pg-boss: ${(e as Error).message ?? String(e)}`));
      await boss.start();
      await this.#createQueues(boss, schema);
      this.#boss = boss;
      return boss;
    })();
    try {
      return await this.#starting;
    } catch (e) {
      this.#starting = undefined;
      throw e;
    }
  }

  /**
   * Every kind's queue. Creating a pg-boss queue adds a partition to its job table, which deadlocks with
   * another process doing the same at once: the workers of a deployment take turns (an advisory lock).
   */
  async #createQueues(boss: PgBoss, schema: string): Promise<void> {
    const have = new Set((await boss.getQueues()).map((q) => q.name));
    const missing = this.#opts.kinds.map(queueName).filter((q) => !have.has(q));
    if (missing.length === 0) return;
    const client = new pg.Client({ connectionString: this.#opts.url, application_name: "rlxf-jobs-setup" });
    await client.connect();
    try {
      await client.query("select pg_advisory_lock(hashtext($1))", [`rlxf-pgboss-queues:${schema}`]);
      for (const name of missing) {
        for (let attempt = 1; ; attempt++) {
          try {
            await boss.createQueue(name, { name, retryLimit: 0, expireInSeconds: EXPIRE_SECONDS, retentionMinutes: RETENTION_DAYS * 24 * 60 });
            break;
          } catch (e) {
            // Another deployment's process without the lock (an older version) may still collide: try again.
            if ((e as { code?: string }).code !== "40P01" || attempt >= 5) throw e;
          }
        }
      }
    } finally {
      await client.query("select pg_advisory_unlock(hashtext($1))", [`rlxf-pgboss-queues:${schema}`]).catch(() => {});
      await client.end().catch(() => {});
    }
  }

  /** A new delivery of `task`, recorded as its current one; inside the caller's transaction. */
  async #deliver(boss: PgBoss, tx: TxSql, task: TaskRow): Promise<void> {
    const data: Delivery = { jobId: task.jobId, seq: task.seq };
    const id = await boss.send(queueName(task.kind), data, { db: tx, startAfter: new Date(Math.max(task.runAfter, 0)), retryLimit: 0, expireInSeconds: EXPIRE_SECONDS });
    await tx.executeSql("update job_tasks set engine_id = $1 where job_id = $2 and seq = $3", [id, task.jobId, task.seq]);
  }

  readonly enqueue: EngineHook = async (tx, tasks) => {
    const boss = await this.boss();
    for (const t of tasks) await this.#deliver(boss, tx, t);
    await tx.executeSql("select pg_notify($1, $2)", [CHANNEL, "tasks"]);
  };

  readonly settled: EngineHook = async (tx, tasks) => {
    const boss = await this.boss();
    let again = false;
    for (const t of tasks) {
      if (t.engineId) {
        const q = queueName(t.kind);
        if (t.state === "succeeded" || t.state === "cancelled") await boss.complete(q, t.engineId, { state: t.state }, { db: tx });
        else await boss.fail(q, t.engineId, { state: t.state }, { db: tx });
      }
      if (t.state === "queued") {
        await this.#deliver(boss, tx, t);
        again = true;
      }
    }
    if (again) await tx.executeSql("select pg_notify($1, $2)", [CHANNEL, "tasks"]);
  };

  async claim(opts: ClaimOptions): Promise<TaskRow[]> {
    if (opts.n <= 0 || opts.kinds.length === 0) return [];
    const boss = await this.boss();
    const out: TaskRow[] = [];
    // Start from a different kind each time, so a busy kind does not starve the others.
    const kinds = [...opts.kinds.slice(this.#rotate % opts.kinds.length), ...opts.kinds.slice(0, this.#rotate % opts.kinds.length)];
    this.#rotate++;
    for (const kind of kinds) {
      if (out.length >= opts.n) break;
      const q = queueName(kind);
      const fetched = await boss.fetch<Delivery>(q, { batchSize: opts.n - out.length });
      for (const d of fetched) {
        const started = await this.#store.jobs.startTask(d.data.jobId, d.data.seq, {
          worker: opts.worker,
          engineId: d.id,
          leaseMs: opts.leaseMs,
          ...(opts.projectCap !== undefined ? { projectCap: opts.projectCap } : {}),
        });
        if (started.status === "started") {
          out.push(started.task);
        } else if (started.status === "busy") {
          // The project already runs its share: deliver again shortly; the attempt does not count.
          const task = await this.#store.jobs.task(d.data.jobId, d.data.seq);
          await this.#store.jobs.withSql(async (tx) => {
            await boss.complete(q, d.id, { deferred: true }, { db: tx });
            if (task && task.state === "queued") await this.#deliver(boss, tx, { ...task, runAfter: Date.now() + 1000 });
          });
        } else {
          await boss.complete(q, d.id, { skipped: started.status });
        }
      }
    }
    return out;
  }

  async recover(leaseMs: number): Promise<number> {
    const boss = await this.boss();
    const schema = await this.schema();
    // A delivery taken (active in pg-boss) whose task never started: its worker died in between.
    return this.#store.jobs.withSql(async (tx) => {
      const r = await tx.executeSql(
        `select t.job_id, t.seq, t.kind, t.project, t.phase, t.attempts, t.engine_id
           from job_tasks t join ${schema}.job j on j.name = 'rlxf-' || t.kind and j.id = t.engine_id::uuid
          where t.state = 'queued' and j.state = 'active' and j.started_on < now() - make_interval(secs => $1)
          limit 100
          for update of t skip locked`,
        [leaseMs / 1000],
      );
      for (const row of r.rows as { job_id: string; seq: number; kind: string; project: string; phase: string; attempts: number; engine_id: string }[]) {
        await boss.fail(queueName(row.kind), row.engine_id, { error: "taken by a worker that stopped before starting it" }, { db: tx });
        await this.#deliver(boss, tx, { jobId: row.job_id, seq: Number(row.seq), kind: row.kind, project: row.project, phase: row.phase as TaskRow["phase"], state: "queued", attempts: Number(row.attempts), runAfter: Date.now() });
      }
      return r.rows.length;
    });
  }

  onWake(fn: () => void): () => void {
    this.#wakers.add(fn);
    this.#listening ??= this.#listen().catch((e: unknown) => {
      this.#listening = undefined;
      this.#opts.log?.(`could not listen for new jobs (polling instead): ${(e as Error).message}`);
    });
    return () => this.#wakers.delete(fn);
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#opts.url, application_name: "rlxf-jobs-listen" });
    client.on("error", () => {
      this.#listener = undefined;
      this.#listening = undefined;
    });
    client.on("notification", () => this.wake());
    await client.connect();
    if (this.#closed) {
      await client.end();
      return;
    }
    await client.query(`listen ${CHANNEL}`);
    // Listening must not keep a process alive on its own.
    (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
    this.#listener = client;
  }

  wake(): void {
    for (const fn of this.#wakers) fn();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wakers.clear();
    await this.#listening;
    await this.#listener?.end().catch(() => {});
    const boss = this.#boss ?? (this.#starting ? await this.#starting.catch(() => undefined) : undefined);
    await boss?.stop({ graceful: false, wait: true, timeout: 2000 }).catch(() => {});
  }
}
