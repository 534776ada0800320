/**
 * The Kysely-backed store, one query layer for SQLite and PostgreSQL.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import {
  type Expression,
  type ExpressionBuilder,
  Kysely,
  Migrator,
  PostgresDialect,
  type SqlBool,
  SqliteDialect,
  sql,
} from "kysely";
import pg from "pg";
import { RlxfError, ValidationError } from "../errors.js";
import {
  DEFAULT_PROJECT,
  FEEDBACK_KINDS,
  type Feedback,
  type FeedbackKind,
  type Generation,
  type Item,
  type ResolvedFeedback,
  SOURCE_TYPES,
} from "../feedback/schema.js";
import {
  chunks,
  decodeCursor,
  encodeCursor,
  feedbackFromRow,
  generationFromRow,
  isoOf,
  itemFromRow,
  num,
  timeToMs,
} from "./codec.js";
import { type AssignmentStore, type KeyStore, assignmentStore, keyStore } from "./access.js";
import { type JudgementFailureStore, type ResponseCacheStore, judgementFailureStore, responseCacheStore } from "./judging.js";
import { type ModelStore, type VectorCache, modelStore, vectorCache } from "./models.js";
import { type LoopRunStore, type MemoryStore, loopRunStore, memoryStore } from "./loops.js";
import { type ConfigStore, configStore } from "./configs.js";
import { type QueueStore, queueStore } from "./queues.js";
import { type JobStore, type RateLimitStore, jobStore, rateLimitStore } from "./jobs.js";
import { type SearchStore, searchStore } from "./search.js";
import { type RuleStore, ruleStore } from "./rules.js";
import { type Database, type Engine, migrationProvider } from "./tables.js";
import {
  DURABILITIES,
  type Durability,
  type Counts,
  type FeedbackFilter,
  type GenerationFilter,
  type ItemFilter,
  type IterateOptions,
  type OpenStoreOptions,
  type Page,
  type PageOptions,
  type RecordKind,
  type RecordTimes,
  type Store,
  type StoreTarget,
  type WriteBatch,
  type WriteOptions,
  type WriteReport,
} from "./types.js";
import { writeBatch } from "./write.js";
import { type OpenSnapshot, currentReadScope } from "./snapshot.js";

export const DEFAULT_DB_PATH = "./.rlxf/rlxf.db";
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const DEFAULT_PAGE_SIZE = 500;
const IN_CHUNK = 1000;
/** Snapshot reads open at once (see snapshot.ts); more wait for one to end. */
const MAX_SNAPSHOTS_POSTGRES = 4;
const MAX_SNAPSHOTS_SQLITE = 8;

/**
 * better-sqlite3 waits for a busy database synchronously, blocking the event
 * loop; two handles on one file in one process would then deadlock (the
 * holder cannot resume). So writers on the same file in this process queue
 * here first; other processes are handled by SQLite's busy_timeout.
 */
const fileLocks = new Map<string, Promise<unknown>>();

async function withFileLock<T>(key: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (key === undefined) return fn();
  const prev = fileLocks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => {});
  fileLocks.set(key, tail);
  try {
    return await run;
  } finally {
    if (fileLocks.get(key) === tail) fileLocks.delete(key);
  }
}

/** Whether a SQLite store has migrations left to run: no migration table yet, or fewer rows in it than migrations. */
function sqliteMigrationsPending(raw: BetterSqlite3.Database, count: number): boolean {
  const table = raw.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get();
  if (!table) return true;
  const done = raw.prepare("select count(*) as n from kysely_migration").get() as { n: number };
  return done.n < count;
}

/**
 * Runs a SQLite store's migrations as one transaction. Kysely runs SQLite's migrations statement by statement
 * (its SQLite adapter declares no transactional DDL), so a crash in the middle of a first open left a store
 * half made, and every statement was a commit of its own (a sync of the write-ahead log each, two thirds of a
 * new store's opening time). SQLite's DDL is transactional and no migration changes a pragma, so all of them
 * commit together or not at all. BEGIN IMMEDIATE takes the write lock first: a second process opening the same
 * new file waits for it (busy_timeout), then finds the migrations done.
 */
async function sqliteAtomically<T extends { error?: unknown }>(raw: BetterSqlite3.Database, fn: () => Promise<T>): Promise<T> {
  raw.exec("begin immediate");
  let result: T | undefined;
  try {
    result = await fn();
  } finally {
    if (raw.inTransaction) raw.exec(result && result.error === undefined ? "commit" : "rollback");
  }
  return result;
}

type Target = StoreTarget;

const isPostgresUrl = (u: string) => /^postgres(ql)?:\/\//i.test(u);

function fromUrl(url: string, origin: string): Target {
  if (isPostgresUrl(url)) return { engine: "postgres", url };
  if (/^sqlite:/i.test(url)) {
    const path = url.replace(/^sqlite:(\/\/)?/i, "");
    if (path) return { engine: "sqlite", path };
  }
  throw new RlxfError(
    "invalid_config",
    `${origin} must be a postgres:// or postgresql:// URL (or sqlite:<path>); got "${redact(url)}"`,
  );
}

/** Where `openStore` connects: explicit options first, then the environment, then the default file. */
export function resolveTarget(opts: OpenStoreOptions = {}, env: NodeJS.ProcessEnv = process.env): Target {
  if (opts.url) return fromUrl(opts.url, "url");
  if (opts.path) return { engine: "sqlite", path: opts.path };
  if (env.RLXF_DATABASE_URL) return fromUrl(env.RLXF_DATABASE_URL, "RLXF_DATABASE_URL");
  return { engine: "sqlite", path: env.RLXF_DB || DEFAULT_DB_PATH };
}

/**
 * How another thread or process opens the same store, as durable as this one (`poolSize` for PostgreSQL);
 * undefined for a store only this thread can open (SQLite in memory).
 */
export function reopenOptions(store: Store, poolSize?: number): OpenStoreOptions | undefined {
  const t = store.target;
  if (!t || (t.engine === "sqlite" && t.path === ":memory:")) return undefined;
  return t.engine === "sqlite" ? { path: t.path, durability: store.durability } : { url: t.url, durability: store.durability, ...(poolSize !== undefined ? { poolSize } : {}) };
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}

/**
 * Open (and migrate) the store. PostgreSQL when `opts.url`, or else env
 * `RLXF_DATABASE_URL`, is a postgres URL; otherwise SQLite at `opts.path` ??
 * env `RLXF_DB` ?? `./.rlxf/rlxf.db` (`:memory:` allowed).
 */
export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  const target = resolveTarget(opts);
  const wanted = opts.durability ?? "full";
  if (!(DURABILITIES as readonly string[]).includes(wanted)) {
    throw new ValidationError([{ path: "durability", message: `must be one of ${DURABILITIES.join(", ")}` }], undefined, "store options");
  }
  let durability: Durability;
  let db: Kysely<Database>;
  let migrationTableSchema: string | undefined;
  let lockKey: string | undefined;
  let sqliteRaw: BetterSqlite3.Database | undefined;

  if (target.engine === "sqlite") {
    if (target.path !== ":memory:") {
      lockKey = resolve(target.path);
      if (opts.create === false && !existsSync(lockKey)) {
        throw new RlxfError("store_not_found", `there is no SQLite store at ${lockKey}`, { field: "path" });
      }
      try {
        mkdirSync(dirname(lockKey), { recursive: true });
      } catch (e) {
        throw new RlxfError("store_unavailable", `cannot create the directory for ${target.path}: ${(e as Error).message}`, { cause: e });
      }
    }
    let raw: BetterSqlite3.Database | undefined;
    try {
      raw = new BetterSqlite3(target.path);
      raw.pragma("journal_mode = WAL");
      raw.pragma(`synchronous = ${wanted === "full" ? "FULL" : "NORMAL"}`);
      // 2 = FULL, 3 = EXTRA; 1 = NORMAL (in WAL mode: durable against a crash of the process only).
      durability = Number(raw.pragma("synchronous", { simple: true })) >= 2 ? "full" : "normal";
      raw.pragma("foreign_keys = ON");
      raw.pragma("busy_timeout = 10000");
    } catch (e) {
      raw?.close();
      throw new RlxfError("store_unavailable", `cannot open SQLite database ${target.path}: ${(e as Error).message}`, { cause: e });
    }
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
    sqliteRaw = raw;
  } else {
    const pool = new pg.Pool({ connectionString: target.url, max: opts.poolSize ?? 10 });
    // An idle client losing its connection must not crash the process.
    pool.on("error", () => {});
    // `normal`: commits return before the WAL reaches the disk (queued ahead of any other query).
    if (wanted === "normal") pool.on("connect", (client) => void client.query("set synchronous_commit = off").catch(() => {}));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      const r = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
      migrationTableSchema = r.rows[0]?.schema ?? undefined;
      const sync = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db);
      durability = sync.rows[0]?.synchronous_commit === "off" ? "normal" : "full";
    } catch (e) {
      await db.destroy().catch(() => {});
      throw new RlxfError("store_unavailable", `cannot connect to PostgreSQL at ${redact(target.url)}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (!migrationTableSchema) {
      await db.destroy().catch(() => {});
      throw new RlxfError("store_unavailable", `PostgreSQL at ${redact(target.url)} has no current schema (check search_path)`);
    }
    if (opts.create === false) {
      const r = await sql<{ t: string | null }>`select to_regclass(${`${migrationTableSchema}.kysely_migration`}) as t`.execute(db);
      if (!r.rows[0]?.t) {
        await db.destroy().catch(() => {});
        throw new RlxfError("store_not_found", `PostgreSQL at ${redact(target.url)} holds no rlxf store (no rlxf tables in schema ${migrationTableSchema})`, { field: "url" });
      }
    }
  }

  const provider = migrationProvider(target.engine);
  const migrator = new Migrator({
    db,
    provider,
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error } = await withFileLock(lockKey, async () => {
    if (!sqliteRaw || !sqliteMigrationsPending(sqliteRaw, Object.keys(await provider.getMigrations()).length)) return migrator.migrateToLatest();
    return sqliteAtomically(sqliteRaw, () => migrator.migrateToLatest());
  });
  if (error) {
    await db.destroy().catch(() => {});
    throw new RlxfError("migration_failed", `could not migrate the store: ${(error as Error).message ?? String(error)}`, {
      cause: error,
    });
  }
  // SQLite files get a second, read-only connection: reads (an API key lookup, a page) then
  // never queue behind a write transaction holding the first one (WAL readers do not block).
  let reader: Kysely<Database> | undefined;
  if (target.engine === "sqlite" && target.path !== ":memory:") {
    try {
      reader = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqliteReader(target.path) }) });
    } catch (e) {
      await db.destroy().catch(() => {});
      throw new RlxfError("store_unavailable", `cannot open SQLite database ${target.path}: ${(e as Error).message}`, { cause: e });
    }
  }
  return new SqlStore(db, target.engine, durability!, lockKey, reader, target, opts.poolSize ?? 10);
}

/** A read-only connection on a SQLite file, set up like the store's own reader. */
function sqliteReader(path: string): BetterSqlite3.Database {
  const raw = new BetterSqlite3(path);
  raw.pragma("busy_timeout = 10000");
  raw.pragma("query_only = ON");
  return raw;
}

/**
 * Hold one connection of `db` until `close` is called (Kysely lends connections only to a callback):
 * `begin` runs on it first, `end` before it is given back.
 */
function holdConnection(db: Kysely<Database>, begin: string[], end: string): Promise<OpenSnapshot<Kysely<Database>>> {
  return new Promise((resolveHeld, rejectHeld) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started = false;
    const done = db.connection().execute(async (conn) => {
      for (const stmt of begin) await sql.raw(stmt).execute(conn);
      started = true;
      resolveHeld({
        conn,
        close: async () => {
          release();
          await done;
        },
      });
      try {
        await released;
      } finally {
        await sql.raw(end).execute(conn).catch(() => {});
      }
    });
    done.catch((e: unknown) => {
      if (!started) rejectHeld(e);
    });
  });
}

// ------------------------------------------------------------- filtering ---

function projectOf(p: string | undefined): string {
  return p ?? DEFAULT_PROJECT;
}

function limitOf(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ValidationError([{ path: "limit", message: `must be an integer from 1 to ${MAX_LIMIT}` }], undefined, "filter");
  }
  return limit;
}

function pageSizeOf(n: number | undefined): number {
  if (n === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new ValidationError([{ path: "pageSize", message: `must be an integer from 1 to ${MAX_LIMIT}` }], undefined, "filter");
  }
  return n;
}

function kindsOf(kind: FeedbackKind | FeedbackKind[] | undefined): FeedbackKind[] | undefined {
  if (kind === undefined) return undefined;
  const kinds = Array.isArray(kind) ? kind : [kind];
  kinds.forEach((k, i) => {
    if (!(FEEDBACK_KINDS as readonly string[]).includes(k)) {
      throw new ValidationError(
        [{ path: Array.isArray(kind) ? `kind.${i}` : "kind", message: `must be one of ${FEEDBACK_KINDS.join(", ")}` }],
        undefined,
        "filter",
      );
    }
  });
  return kinds;
}

type Table = "items" | "generations" | "feedback";
type Cond = Expression<SqlBool>;

/** Conditions every table shares: project, createdAt window, cursor. */
function commonConds<T extends Table>(
  eb: ExpressionBuilder<Database, T>,
  f: { project?: string; since?: unknown; until?: unknown },
  after: { recordedAt: number; id: string } | undefined,
): Cond[] {
  // The shared columns exist on every table; Kysely cannot see that through a generic T.
  const e = eb as unknown as ExpressionBuilder<Database, "items">;
  const conds: Cond[] = [e("project", "=", projectOf(f.project))];
  if (f.since !== undefined) conds.push(e("created_at", ">=", timeToMs(f.since as never, "since")));
  if (f.until !== undefined) conds.push(e("created_at", "<", timeToMs(f.until as never, "until")));
  if (after) conds.push(e(e.refTuple("recorded_at", "id"), ">", e.tuple(after.recordedAt, after.id)));
  return conds;
}

// ----------------------------------------------------------------- store ---

type Row = { project: string; id: string; body: string; created_at: number | string; recorded_at: number | string };

class SqlStore implements Store {
  readonly engine: Engine;
  readonly durability: Durability;
  readonly #db: Kysely<Database>;
  readonly #lockKey: string | undefined;
  #closed = false;
  readonly keys: KeyStore;
  readonly assignments: AssignmentStore;
  readonly responseCache: ResponseCacheStore;
  readonly judgementFailures: JudgementFailureStore;
  readonly models: ModelStore;
  readonly vectors: VectorCache;
  readonly loops: LoopRunStore;
  readonly memory: MemoryStore;
  readonly configs: ConfigStore;
  readonly queues: QueueStore;
  readonly jobs: JobStore;
  readonly rateLimits: RateLimitStore;
  readonly search: SearchStore;
  readonly rules: RuleStore;

  readonly #reader: Kysely<Database> | undefined;
  /** The SQLite file, when there is one (snapshots open their own connection on it). */
  readonly #path: string | undefined;
  /** Snapshots open now (ended by close). */
  readonly #snapshots = new Set<OpenSnapshot<Kysely<Database>>>();
  /** Snapshots hold a connection for as long as a reader takes: at most this many at once, the rest wait. */
  #snapshotSlots: { free: number; waiting: (() => void)[] } = { free: 0, waiting: [] };

  readonly target: StoreTarget | undefined;

  constructor(db: Kysely<Database>, engine: Engine, durability: Durability, lockKey?: string, reader?: Kysely<Database>, target?: StoreTarget, poolSize = 10) {
    this.durability = durability;
    this.target = target;
    const path = target?.engine === "sqlite" && target.path !== ":memory:" ? target.path : undefined;
    // PostgreSQL: 4 of the pool's 10 connections (fewer of a smaller pool), so other requests always have
    // some; a SQLite file: 8 read connections (each pins the WAL); :memory: holds its only connection, one at a time.
    this.#snapshotSlots.free = engine === "postgres" ? Math.max(1, Math.min(MAX_SNAPSHOTS_POSTGRES, poolSize - 1)) : path !== undefined ? MAX_SNAPSHOTS_SQLITE : 1;
    this.#db = db;
    this.#reader = reader;
    this.#path = path;
    this.engine = engine;
    this.#lockKey = lockKey;
    const live = () => this.#live;
    const inTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => this.#inTransaction(fn);
    const read = () => this.#read;
    this.keys = keyStore(read, inTransaction);
    this.assignments = assignmentStore(read, inTransaction);
    this.responseCache = responseCacheStore(live, inTransaction);
    this.judgementFailures = judgementFailureStore(live, inTransaction);
    this.models = modelStore(live, inTransaction);
    this.vectors = vectorCache(live, inTransaction);
    this.loops = loopRunStore(live, inTransaction);
    this.memory = memoryStore(live, inTransaction);
    this.configs = configStore(live, inTransaction);
    this.queues = queueStore(engine, read, inTransaction);
    this.jobs = jobStore(engine, live, inTransaction);
    this.rateLimits = rateLimitStore(engine, live, inTransaction);
    this.search = searchStore(engine, read);
    this.rules = ruleStore(engine, live, inTransaction);
  }

  get #live(): Kysely<Database> {
    if (this.#closed) throw new RlxfError("store_closed", "the store is closed");
    this.#outsideOwnMemorySnapshot();
    return this.#db;
  }

  /** For reads outside a transaction: the read-only connection where there is one. */
  get #read(): Kysely<Database> {
    if (this.#closed) throw new RlxfError("store_closed", "the store is closed");
    if (!this.#reader) this.#outsideOwnMemorySnapshot();
    return this.#reader ?? this.#db;
  }

  /** An in-memory store's snapshot holds its only connection: anything else waiting for it there would wait forever. */
  #outsideOwnMemorySnapshot(): void {
    if (this.engine === "sqlite" && this.#path === undefined && currentReadScope()?.has(this)) {
      throw new RlxfError("snapshot_read_only", "inside a snapshot read (readSnapshot) of an in-memory store, only its items, generations, feedback and counts can be read");
    }
  }

  /** Where record reads go: the snapshot of the read scope the caller runs in (see snapshot.ts), else `#read`. */
  async #records(): Promise<Kysely<Database>> {
    const scope = currentReadScope();
    if (!scope) return this.#read;
    const snap = await scope.snapshotOf(this, () => this.#openSnapshot());
    if (this.#closed) throw new RlxfError("store_closed", "the store is closed");
    return snap.conn;
  }

  async #openSnapshot(): Promise<OpenSnapshot<Kysely<Database>>> {
    const slots = this.#snapshotSlots;
    if (slots.free > 0) slots.free--;
    else await new Promise<void>((r) => slots.waiting.push(r));
    const release = () => {
      const next = slots.waiting.shift();
      if (next) next();
      else slots.free++;
    };
    let snap: OpenSnapshot<Kysely<Database>>;
    try {
      snap = await this.#beginSnapshot();
    } catch (e) {
      release();
      throw e;
    }
    const tracked: OpenSnapshot<Kysely<Database>> = {
      conn: snap.conn,
      close: async () => {
        if (!this.#snapshots.delete(tracked)) return;
        try {
          await snap.close();
        } finally {
          release();
        }
      },
    };
    this.#snapshots.add(tracked);
    return tracked;
  }

  async #beginSnapshot(): Promise<OpenSnapshot<Kysely<Database>>> {
    if (this.#closed) throw new RlxfError("store_closed", "the store is closed");
    let snap: OpenSnapshot<Kysely<Database>>;
    if (this.engine === "postgres") {
      // The snapshot is taken at the first statement after BEGIN.
      snap = await holdConnection(this.#live, ["begin isolation level repeatable read read only", "select 1"], "commit");
    } else if (this.#path !== undefined) {
      const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqliteReader(this.#path) }) });
      try {
        // A deferred BEGIN starts the read transaction (and fixes the snapshot) at the first read of the file.
        await sql`begin`.execute(db);
        await sql`select count(*) from sqlite_master`.execute(db);
      } catch (e) {
        await db.destroy().catch(() => {});
        throw new RlxfError("store_unavailable", `cannot open a snapshot of ${this.#path}: ${(e as Error).message}`, { cause: e });
      }
      snap = {
        conn: db,
        close: async () => {
          await sql`commit`.execute(db).catch(() => {});
          await db.destroy();
        },
      };
    } else {
      // :memory: has one connection: hold it, so nothing is written until the snapshot ends.
      snap = await holdConnection(this.#db, ["begin"], "commit");
    }
    return snap;
  }

  async #inTransaction<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    const db = this.#live;
    if (this.engine === "postgres") return db.transaction().execute(fn);
    // SQLite: take the write lock up front so a concurrent writer waits (busy_timeout) instead of failing mid-way.
    return withFileLock(this.#lockKey, () => db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const out = await fn(conn);
        await sql`commit`.execute(conn);
        return out;
      } catch (e) {
        await sql`rollback`.execute(conn).catch(() => {});
        throw e;
      }
    }));
  }

  async write(batch: WriteBatch, opts?: WriteOptions): Promise<WriteReport> {
    if (this.#closed) throw new RlxfError("store_closed", "the store is closed");
    return writeBatch({ engine: this.engine, inTransaction: (fn) => this.#inTransaction(fn) }, batch, opts);
  }

  async #getRow(table: Table, project: string, id: string): Promise<Row | undefined> {
    return (await this.#records())
      .selectFrom(table as "items")
      .select(["project", "id", "body", "created_at", "recorded_at"])
      .where("project", "=", project)
      .where("id", "=", id)
      .executeTakeFirst();
  }

  async getItem(project: string, id: string): Promise<Item | undefined> {
    const row = await this.#getRow("items", project, id);
    return row && itemFromRow(row);
  }

  async getGeneration(project: string, id: string): Promise<Generation | undefined> {
    const row = await this.#getRow("generations", project, id);
    return row && generationFromRow(row);
  }

  async getFeedback(project: string, id: string): Promise<Feedback | undefined> {
    const row = await this.#getRow("feedback", project, id);
    return row && feedbackFromRow(row);
  }

  async times(kind: RecordKind, project: string, id: string): Promise<RecordTimes | undefined> {
    const table: Table = kind === "item" ? "items" : kind === "generation" ? "generations" : "feedback";
    const row = await this.#getRow(table, project, id);
    return row && { createdAt: isoOf(row.created_at), recordedAt: isoOf(row.recorded_at) };
  }

  // ------------------------------------------------------------- pages ---

  async #itemRows(f: ItemFilter, limit: number, after?: { recordedAt: number; id: string }): Promise<Row[]> {
    return (await this.#records())
      .selectFrom("items")
      .select(["project", "id", "body", "created_at", "recorded_at"])
      .where((eb) => {
        const conds = commonConds(eb, f, after);
        if (f.dataset !== undefined) conds.push(eb("dataset", "=", f.dataset));
        return eb.and(conds);
      })
      .orderBy("recorded_at")
      .orderBy("id")
      .limit(limit)
      .execute();
  }

  async #generationRows(f: GenerationFilter, limit: number, after?: { recordedAt: number; id: string }): Promise<Row[]> {
    return (await this.#records())
      .selectFrom("generations")
      .select(["project", "id", "body", "created_at", "recorded_at"])
      .where((eb) => {
        const conds = commonConds(eb, f, after);
        if (f.itemId !== undefined) conds.push(eb("item_id", "=", f.itemId));
        if (f.policy !== undefined) conds.push(eb("policy", "=", f.policy));
        return eb.and(conds);
      })
      .orderBy("recorded_at")
      .orderBy("id")
      .limit(limit)
      .execute();
  }

  async #feedbackRows(f: FeedbackFilter, limit: number, after?: { recordedAt: number; id: string }): Promise<Row[]> {
    const kinds = kindsOf(f.kind);
    if (kinds && kinds.length === 0) return [];
    if (f.sourceType !== undefined && !(SOURCE_TYPES as readonly string[]).includes(f.sourceType)) {
      throw new ValidationError([{ path: "sourceType", message: `must be one of ${SOURCE_TYPES.join(", ")}` }], undefined, "filter");
    }
    const project = projectOf(f.project);
    const db = await this.#records();
    return db
      .selectFrom("feedback")
      .select(["project", "id", "body", "created_at", "recorded_at"])
      .where((eb) => {
        const conds = commonConds(eb, f, after);
        if (kinds) conds.push(kinds.length === 1 ? eb("kind", "=", kinds[0] as string) : eb("kind", "in", kinds));
        if (f.sourceType !== undefined) conds.push(eb("source_type", "=", f.sourceType));
        if (f.sourceId !== undefined) conds.push(eb("source_id", "=", f.sourceId));
        if (f.itemId !== undefined) conds.push(eb("item_id", "=", f.itemId));
        if (f.queueId !== undefined) conds.push(eb("queue_id", "=", f.queueId));
        if (f.generationId !== undefined) {
          conds.push(
            eb(
              "id",
              "in",
              eb
                .selectFrom("feedback_targets")
                .select("feedback_targets.feedback_id")
                .where("feedback_targets.project", "=", project)
                .where("feedback_targets.generation_id", "=", f.generationId),
            ),
          );
        }
        if (f.latest) {
          conds.push(
            eb.not(
              eb.exists(
                eb
                  .selectFrom("feedback_supersessions")
                  .select("feedback_supersessions.feedback_id")
                  .where("feedback_supersessions.project", "=", project)
                  .whereRef("feedback_supersessions.feedback_id", "=", "feedback.id"),
              ),
            ),
          );
        }
        if (f.policy !== undefined) {
          conds.push(
            eb(
              "id",
              "in",
              eb
                .selectFrom("feedback_targets")
                .innerJoin("generations", (j) =>
                  j
                    .onRef("generations.project", "=", "feedback_targets.project")
                    .onRef("generations.id", "=", "feedback_targets.generation_id"),
                )
                .select("feedback_targets.feedback_id")
                .where("feedback_targets.project", "=", project)
                .where("generations.policy", "=", f.policy),
            ),
          );
        }
        return eb.and(conds);
      })
      .orderBy("recorded_at")
      .orderBy("id")
      .limit(limit)
      .execute();
  }

  async #page<F extends PageOptions, T>(
    f: F,
    rowsOf: (f: F, limit: number, after?: { recordedAt: number; id: string }) => Promise<Row[]>,
    toRecord: (r: Row) => T,
  ): Promise<Page<T>> {
    const limit = limitOf(f.limit);
    const after = f.cursor !== undefined ? decodeCursor(f.cursor) : undefined;
    const rows = await rowsOf(f, limit + 1, after);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    const out: Page<T> = { records: page.map(toRecord) };
    if (more && last) out.nextCursor = encodeCursor({ recordedAt: num(last.recorded_at), id: last.id });
    return out;
  }

  async *#rowPages<F>(
    f: F & IterateOptions,
    rowsOf: (f: F, limit: number, after?: { recordedAt: number; id: string }) => Promise<Row[]>,
  ): AsyncGenerator<Row[]> {
    const size = pageSizeOf(f.pageSize);
    let after: { recordedAt: number; id: string } | undefined;
    for (;;) {
      const rows = await rowsOf(f, size, after);
      if (rows.length) yield rows;
      const last = rows[rows.length - 1];
      if (rows.length < size || !last) return;
      after = { recordedAt: num(last.recorded_at), id: last.id };
    }
  }

  listItems(filter: ItemFilter & PageOptions = {}): Promise<Page<Item>> {
    return this.#page(filter, (f, l, a) => this.#itemRows(f, l, a), itemFromRow);
  }

  listGenerations(filter: GenerationFilter & PageOptions = {}): Promise<Page<Generation>> {
    return this.#page(filter, (f, l, a) => this.#generationRows(f, l, a), generationFromRow);
  }

  listFeedback(filter: FeedbackFilter & PageOptions = {}): Promise<Page<Feedback>> {
    return this.#page(filter, (f, l, a) => this.#feedbackRows(f, l, a), feedbackFromRow);
  }

  async *iterateItems(filter: ItemFilter & IterateOptions = {}): AsyncGenerator<Item> {
    for await (const rows of this.#rowPages(filter, (f, l, a) => this.#itemRows(f, l, a))) yield* rows.map(itemFromRow);
  }

  async *iterateGenerations(filter: GenerationFilter & IterateOptions = {}): AsyncGenerator<Generation> {
    for await (const rows of this.#rowPages(filter, (f, l, a) => this.#generationRows(f, l, a))) {
      yield* rows.map(generationFromRow);
    }
  }

  async *iterateFeedback(filter: FeedbackFilter & IterateOptions = {}): AsyncGenerator<Feedback> {
    for await (const rows of this.#rowPages(filter, (f, l, a) => this.#feedbackRows(f, l, a))) {
      yield* rows.map(feedbackFromRow);
    }
  }

  async *iterateResolvedFeedback(filter: FeedbackFilter & IterateOptions = {}): AsyncGenerator<ResolvedFeedback> {
    const project = projectOf(filter.project);
    for await (const rows of this.#rowPages(filter, (f, l, a) => this.#feedbackRows(f, l, a))) {
      const page = rows.map(feedbackFromRow);
      const gens = await this.#byIds("generations", project, page.flatMap((f) => f.targets), generationFromRow);
      const items = await this.#byIds("items", project, page.map((f) => f.itemId as string), itemFromRow);
      for (const feedback of page) {
        const item = items.get(feedback.itemId as string);
        const targets = feedback.targets.map((t) => gens.get(t));
        if (!item || targets.some((t) => t === undefined)) {
          // The schema's foreign keys make this unreachable short of manual edits.
          throw new RlxfError("store_inconsistent", `feedback "${feedback.id}" refers to a missing item or generation`);
        }
        yield { feedback, item, targets: targets as Generation[] };
      }
    }
  }

  async #byIds<T>(table: "items" | "generations", project: string, ids: string[], toRecord: (r: Row) => T): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    for (const chunk of chunks([...new Set(ids)], IN_CHUNK)) {
      const rows = await (await this.#records())
        .selectFrom(table as "items")
        .select(["project", "id", "body", "created_at", "recorded_at"])
        .where("project", "=", project)
        .where("id", "in", chunk)
        .execute();
      for (const r of rows) out.set(r.id, toRecord(r));
    }
    return out;
  }

  // ------------------------------------------------------------ summary ---

  async counts(project?: string): Promise<Counts> {
    const p = projectOf(project);
    const db = await this.#records();
    // One statement, so the three tables are counted at one moment even while writers go on.
    const rows = await db
      .selectFrom("items")
      .select((eb) => [sql<string>`'items'`.as("t"), sql<string | null>`null`.as("kind"), eb.fn.countAll<number | string>().as("n")])
      .where("project", "=", p)
      .unionAll(
        db
          .selectFrom("generations")
          .select((eb) => [sql<string>`'generations'`.as("t"), sql<string | null>`null`.as("kind"), eb.fn.countAll<number | string>().as("n")])
          .where("project", "=", p),
      )
      .unionAll(
        db
          .selectFrom("feedback")
          .select((eb) => [sql<string>`'feedback'`.as("t"), "kind", eb.fn.countAll<number | string>().as("n")])
          .where("project", "=", p)
          .groupBy("kind"),
      )
      .execute();
    const byKind = Object.fromEntries(FEEDBACK_KINDS.map((k) => [k, 0])) as Record<FeedbackKind, number>;
    const out: Counts = { items: 0, generations: 0, feedback: 0, byKind };
    for (const r of rows) {
      const n = num(r.n);
      if (r.t === "items") out.items = n;
      else if (r.t === "generations") out.generations = n;
      else {
        byKind[r.kind as FeedbackKind] = n;
        out.feedback += n;
      }
    }
    return out;
  }

  async projects(): Promise<string[]> {
    const db = await this.#records();
    const rows = await db
      .selectFrom("items")
      .select("project")
      .union(db.selectFrom("generations").select("project"))
      .union(db.selectFrom("feedback").select("project"))
      .execute();
    return [...new Set(rows.map((r) => r.project))].sort();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Snapshots waiting for a slot go on to find the store closed.
    for (const wake of this.#snapshotSlots.waiting.splice(0)) wake();
    await Promise.all([...this.#snapshots].map((snap) => snap.close().catch(() => {})));
    await this.#reader?.destroy();
    await this.#db.destroy();
  }
}
