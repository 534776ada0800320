/**
 * The TypeScript client of the rlxf HTTP API (`rlxf serve`).
 *
 *     import { Rlxf } from "rlxf/client";
 *     const rlxf = new Rlxf({ url: "http://127.0.0.1:8787", key: process.env.RLXF_API_KEY });
 *     rlxf.feedback({ kind: "binary", targets: ["gen-1"], source: { type: "user", id: "u42" }, value: { ok: true } });
 *     await rlxf.close();   // sends what is queued
 *
 * - `feedback()` queues a record and returns its id at once; queued records
 *   go out in batches (every `batchSize` records or `flushIntervalMs`).
 * - Every record gets an id before it is sent, so a retry is a no-op for what
 *   the server already stored: requests are retried with exponential backoff
 *   and jitter on network errors, timeouts, 5xx and 429 (honouring Retry-After).
 * - A batch the server refuses because of some of its records is sent again
 *   without them; the refused ones go to `onError`.
 * - What is queued is flushed before a natural exit of the process
 *   (`beforeExit`); after `process.exit()` or a signal only `await close()`
 *   (or `flush()`) can send it.
 *
 * The client uses `fetch` and imports no server code.
 */
import { ValidationError, issuesFromZod } from "../errors.js";
import type { LabResultBody, LabResultSummary } from "../lab/saved.js";
import type { LoopRunReport } from "../loops/report.js";
import type { LoopRun } from "../store/loops.js";
import {
  Feedback as FeedbackSchema,
  type Feedback,
  type FeedbackInput,
  type FeedbackKind,
  type Generation,
  type GenerationInput,
  type Item,
  type ItemInput,
  type SourceType,
} from "../feedback/schema.js";

// ---------------------------------------------------------------- types ---

export type Role = "admin" | "ingest" | "annotate" | "read";
export type ExportFormat = "trl-preference" | "trl-unpaired" | "openai-dpo" | "alpaca-eval" | "rlxf";

/** A record as sent: `id` is optional (the client assigns a UUID), `project` defaults to the key's. */
export type NewItem = Omit<ItemInput, "id"> & { id?: string };
export type NewGeneration = Omit<GenerationInput, "id"> & { id?: string };
type Loosen<T> = T extends unknown ? Omit<T, "id" | "source"> & { id?: string; source?: FeedbackInput["source"] } : never;
/** Feedback as sent: `id` optional; `source` optional only for annotate keys (the server fills it in). */
export type NewFeedback = Loosen<FeedbackInput>;

export interface WriteResult {
  results: { id: string; status: "inserted" | "existing" }[];
  inserted: number;
  existing: number;
  recordedAt: string;
}

export interface Page<T> {
  records: T[];
  nextCursor?: string;
}

type Time = string | number | Date;
interface Common {
  since?: Time;
  until?: Time;
  /** Page size 1..1000 (default 100). */
  limit?: number;
  cursor?: string;
}
export interface ItemFilter extends Common {
  dataset?: string;
}
export interface GenerationFilter extends Common {
  itemId?: string;
  policy?: string;
}
export interface FeedbackFilter extends Common {
  kind?: FeedbackKind | FeedbackKind[];
  sourceType?: SourceType;
  sourceId?: string;
  itemId?: string;
  generationId?: string;
  policy?: string;
}

export interface ApiKey {
  id: string;
  project: string;
  role: Role;
  name: string;
  createdAt: string;
  revokedAt?: string;
}

export interface Assignment {
  annotator: string;
  itemId: string;
  createdAt: string;
  item?: Item;
}

export interface LeaderboardOptions {
  method?: "bt" | "alpaca-eval";
  baseline?: string;
  bootstrap?: number;
  seed?: number;
}

export interface Leaderboard {
  method: "bt" | "alpaca-eval";
  baseline?: string;
  rows: Record<string, unknown>[];
}

export interface FieldIssue {
  path: string;
  message: string;
}

/** An error answer of the API (or `network_error` when none came after every retry). */
export class RlxfApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: FieldIssue[];
  readonly record?: string;
  readonly index?: number;
  constructor(status: number, code: string, message: string, extra: { issues?: FieldIssue[]; record?: string; index?: number; cause?: unknown } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = "RlxfApiError";
    this.status = status;
    this.code = code;
    this.issues = extra.issues ?? [];
    if (extra.record !== undefined) this.record = extra.record;
    if (extra.index !== undefined) this.index = extra.index;
  }
}

export interface RlxfOptions {
  /** Server URL; default env RLXF_URL, else http://127.0.0.1:8787. */
  url?: string;
  /** API key; default env RLXF_API_KEY. */
  key?: string;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 5). */
  retries?: number;
  /** First backoff (default 200 ms); doubles each retry, with full jitter, up to `maxBackoffMs` (default 10 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Records per batch of `feedback()` (default 500) and per request of the create* methods (default 1000). */
  batchSize?: number;
  maxBatch?: number;
  /** How long a queued record may wait before its batch is sent (default 1000 ms). */
  flushIntervalMs?: number;
  /** Most records waiting in the queue; beyond, `feedback()` throws (default 100,000). */
  maxQueue?: number;
  /** Check records with the feedback schema before queueing them, throwing ValidationError at the call (default true). */
  validate?: boolean;
  /** Send what is queued before the process exits naturally (default true). */
  flushOnExit?: boolean;
  /** Records of `feedback()` the server refused, or that could not be sent after every retry. Default: a warning on stderr. */
  onError?: (error: RlxfApiError, records: NewFeedback[]) => void;
}

export interface ClientStats {
  /** Records of `feedback()` acknowledged as newly stored / as already stored. */
  inserted: number;
  existing: number;
  /** Records of `feedback()` handed to onError. */
  failed: number;
  /** Records waiting or in flight. */
  pending: number;
}

// -------------------------------------------------------- exit flushing ---

const live = new Set<Rlxf>();
let hooked = false;
function onBeforeExit(): void {
  for (const c of live) if (c.stats.pending > 0) void c.flush();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uuid = (): string => globalThis.crypto.randomUUID();

function env(name: string): string | undefined {
  return typeof process !== "undefined" ? process.env?.[name] : undefined;
}

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

type Query = Record<string, string | number | boolean | Date | string[] | undefined>;

// ---------------------------------------------------------------- client ---

export class Rlxf {
  readonly url: string;
  readonly #key: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #o: Required<Omit<RlxfOptions, "url" | "key" | "fetch" | "onError">> & { onError: NonNullable<RlxfOptions["onError"]> };
  #queue: { id: string; record: NewFeedback }[] = [];
  #inFlight = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pump: Promise<void> | undefined;
  #closed = false;
  readonly #stats = { inserted: 0, existing: 0, failed: 0 };

  constructor(opts: RlxfOptions = {}) {
    this.url = (opts.url ?? env("RLXF_URL") ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
    this.#key = opts.key ?? env("RLXF_API_KEY");
    const f = opts.fetch ?? globalThis.fetch;
    if (!f) throw new Error("no fetch available: pass options.fetch");
    this.#fetch = f;
    this.#o = {
      timeoutMs: opts.timeoutMs ?? 30_000,
      retries: opts.retries ?? 5,
      backoffMs: opts.backoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      batchSize: opts.batchSize ?? 500,
      maxBatch: opts.maxBatch ?? 1000,
      flushIntervalMs: opts.flushIntervalMs ?? 1000,
      maxQueue: opts.maxQueue ?? 100_000,
      validate: opts.validate ?? true,
      flushOnExit: opts.flushOnExit ?? true,
      onError:
        opts.onError ??
        ((e, records) => {
          console.error(`[rlxf] ${records.length} feedback record(s) not stored: ${e.message}`);
        }),
    };
  }

  /** While records wait, the client is known to the exit hook (and only then, so clients are not kept alive). */
  #watchExit(): void {
    if (!this.#o.flushOnExit || typeof process === "undefined" || typeof process.on !== "function") return;
    live.add(this);
    if (!hooked) {
      hooked = true;
      process.on("beforeExit", onBeforeExit);
    }
  }

  get stats(): ClientStats {
    return { ...this.#stats, pending: this.#queue.length + this.#inFlight };
  }

  // ------------------------------------------------------------ transport ---

  /** One API call with retries; returns the successful response (2xx) or throws RlxfApiError. */
  async request(method: string, path: string, opts: { query?: Query; body?: unknown; notFoundOk?: boolean } = {}): Promise<Response> {
    const url = this.url + path + queryString(opts.query);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.#key) headers.Authorization = `Bearer ${this.#key}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    for (let attempt = 0; ; attempt++) {
      const backoff = () => Math.random() * Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** attempt);
      let res: Response;
      try {
        res = await this.#fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(this.#o.timeoutMs) });
      } catch (e) {
        if (attempt < this.#o.retries) {
          await sleep(backoff());
          continue;
        }
        throw new RlxfApiError(0, "network_error", `${method} ${path} failed after ${attempt + 1} attempt(s): ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      if ((res.status >= 500 || res.status === 429) && attempt < this.#o.retries) {
        await res.body?.cancel().catch(() => {});
        await sleep(retryAfterMs(res.headers.get("retry-after")) ?? backoff());
        continue;
      }
      if (res.ok || (opts.notFoundOk && res.status === 404)) return res;
      throw await apiError(res, method, path);
    }
  }

  async #json<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    return (await res.json()) as T;
  }

  async #maybe<T>(path: string): Promise<T | undefined> {
    const res = await this.request("GET", path, { notFoundOk: true });
    if (res.status === 404) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    return (await res.json()) as T;
  }

  async *#pages<T>(path: string, query: Query): AsyncGenerator<T> {
    let cursor = query.cursor as string | undefined;
    for (;;) {
      const page = await this.#json<Page<T>>("GET", path, { query: { ...query, cursor } });
      yield* page.records;
      if (!page.nextCursor) return;
      cursor = page.nextCursor;
    }
  }

  /** Send records in requests of at most `maxBatch`, each given an id first; results in order. */
  async #create<T extends { id?: string }>(path: string, records: T | T[]): Promise<WriteResult> {
    const list = (Array.isArray(records) ? records : [records]).map((r) => (r.id === undefined ? { ...r, id: uuid() } : r));
    const out: WriteResult = { results: [], inserted: 0, existing: 0, recordedAt: new Date().toISOString() };
    for (let i = 0; i < list.length; i += this.#o.maxBatch) {
      const r = await this.#json<WriteResult>("POST", path, { body: { batch: list.slice(i, i + this.#o.maxBatch) } });
      out.results.push(...r.results);
      out.inserted += r.inserted;
      out.existing += r.existing;
      out.recordedAt = r.recordedAt;
    }
    return out;
  }

  // ------------------------------------------------------------ writes ---

  /** Store items now (one request per `maxBatch` records; each request all or nothing). */
  createItems(items: NewItem | NewItem[]): Promise<WriteResult> {
    return this.#create("/v1/items", items);
  }

  createGenerations(generations: NewGeneration | NewGeneration[]): Promise<WriteResult> {
    return this.#create("/v1/generations", generations);
  }

  /** Store feedback now, bypassing the queue. */
  createFeedback(feedback: NewFeedback | NewFeedback[]): Promise<WriteResult> {
    return this.#create("/v1/feedback", feedback);
  }

  /**
   * Queue one feedback record; returns its id (the given one, or a new UUID).
   * It is sent in a batch; `flush()` or `close()` waits for it.
   */
  feedback(record: NewFeedback): string {
    if (this.#closed) throw new Error("this Rlxf client is closed");
    if (this.#queue.length >= this.#o.maxQueue) {
      throw new RlxfApiError(0, "queue_full", `${this.#queue.length} feedback records are waiting to be sent; await flush() before adding more`);
    }
    const id = record.id ?? uuid();
    const rec = record.id === undefined ? ({ ...record, id } as NewFeedback) : record;
    if (this.#o.validate) checkFeedback(rec);
    this.#queue.push({ id, record: rec });
    this.#watchExit();
    if (this.#queue.length >= this.#o.batchSize) void this.#startPump();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#startPump();
      }, this.#o.flushIntervalMs);
      (this.#timer as { unref?: () => void }).unref?.();
    }
    return id;
  }

  /** Send everything queued so far; resolves when each record is stored or handed to onError. */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#queue.length > 0 || this.#pump) await this.#startPump();
  }

  /** Flush, then stop: no more `feedback()`. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    live.delete(this);
  }

  #startPump(): Promise<void> {
    this.#pump ??= (async () => {
      try {
        while (this.#queue.length > 0) {
          const batch = this.#queue.splice(0, this.#o.batchSize);
          this.#inFlight += batch.length;
          try {
            await this.#sendBatch(batch);
          } finally {
            this.#inFlight -= batch.length;
          }
        }
      } finally {
        this.#pump = undefined;
        if (this.#queue.length === 0) live.delete(this);
      }
    })();
    return this.#pump;
  }

  async #sendBatch(batch: { id: string; record: NewFeedback }[]): Promise<void> {
    let rest = batch;
    while (rest.length > 0) {
      try {
        const r = await this.#json<WriteResult>("POST", "/v1/feedback", { body: { batch: rest.map((x) => x.record) } });
        this.#stats.inserted += r.inserted;
        this.#stats.existing += r.existing;
        return;
      } catch (e) {
        const err = e instanceof RlxfApiError ? e : new RlxfApiError(0, "client_error", String(e), { cause: e });
        // Refused because of some records: set those aside, send the others again.
        const bad = badIndices(err, rest.length);
        if (bad.size > 0 && bad.size < rest.length) {
          const refused = rest.filter((_, i) => bad.has(i));
          rest = rest.filter((_, i) => !bad.has(i));
          this.#fail(err, refused);
          continue;
        }
        this.#fail(err, rest);
        return;
      }
    }
  }

  #fail(err: RlxfApiError, records: { record: NewFeedback }[]): void {
    this.#stats.failed += records.length;
    try {
      this.#o.onError(err, records.map((r) => r.record));
    } catch {
      // onError must not break the sender
    }
  }

  // ------------------------------------------------------------- reads ---

  getItem(id: string): Promise<Item | undefined> {
    return this.#maybe(`/v1/items/${encodeURIComponent(id)}`);
  }
  getGeneration(id: string): Promise<Generation | undefined> {
    return this.#maybe(`/v1/generations/${encodeURIComponent(id)}`);
  }
  getFeedback(id: string): Promise<Feedback | undefined> {
    return this.#maybe(`/v1/feedback/${encodeURIComponent(id)}`);
  }

  listItems(filter: ItemFilter = {}): Promise<Page<Item>> {
    return this.#json("GET", "/v1/items", { query: filter as Query });
  }
  listGenerations(filter: GenerationFilter = {}): Promise<Page<Generation>> {
    return this.#json("GET", "/v1/generations", { query: filter as Query });
  }
  listFeedback(filter: FeedbackFilter = {}): Promise<Page<Feedback>> {
    return this.#json("GET", "/v1/feedback", { query: filter as Query });
  }

  /** Every matching record, a page at a time. */
  iterateItems(filter: Omit<ItemFilter, "cursor"> = {}): AsyncIterable<Item> {
    return this.#pages("/v1/items", filter as Query);
  }
  iterateGenerations(filter: Omit<GenerationFilter, "cursor"> = {}): AsyncIterable<Generation> {
    return this.#pages("/v1/generations", filter as Query);
  }
  iterateFeedback(filter: Omit<FeedbackFilter, "cursor"> = {}): AsyncIterable<Feedback> {
    return this.#pages("/v1/feedback", filter as Query);
  }

  /** The leaderboard; one the server computes as a job (many bootstrap rounds, many records) is waited for. */
  async leaderboard(opts: LeaderboardOptions = {}): Promise<Leaderboard> {
    const r = await this.#json<Leaderboard | { job: Job }>("GET", "/v1/leaderboard", { query: opts as Query });
    if ("job" in r && r.job?.id) {
      const done = await this.waitForJob(r.job.id);
      if (done.state !== "succeeded") throw new RlxfApiError(0, "job_failed", `the leaderboard job ${done.id} ${done.state}: ${done.error ?? ""}`);
      return done.result as Leaderboard;
    }
    return r as Leaderboard;
  }

  // ---------------------------------------------------------------- jobs ---

  /** Submit a background job (see the README's jobs section for each kind's input); answers at once. */
  async submitJob(kind: JobKind, input: unknown, opts: { maxAttempts?: number } = {}): Promise<JobDetail> {
    return (await this.#json<{ job: JobDetail }>("POST", "/v1/jobs", { body: { kind, input, ...opts } })).job;
  }
  /** The project's jobs, newest first (one page; pass `cursor: nextCursor` for the next). */
  jobs(filter: { state?: JobState; kind?: JobKind; limit?: number; cursor?: string } = {}): Promise<{ jobs: Job[]; nextCursor?: string }> {
    return this.#json("GET", "/v1/jobs", { query: filter });
  }
  /** One job with the error of every failed attempt and its failed units; undefined when there is none. */
  async job(id: string): Promise<JobDetail | undefined> {
    return (await this.#maybe<{ job: JobDetail }>(`/v1/jobs/${encodeURIComponent(id)}`))?.job;
  }
  /** A page of a job's units (outcome, score, the record stored), in unit order. */
  jobUnits(id: string, page: { after?: number; limit?: number; failed?: boolean } = {}): Promise<{ units: JobUnit[]; next?: number }> {
    return this.#json("GET", `/v1/jobs/${encodeURIComponent(id)}/units`, { query: { ...page, ...(page.failed !== undefined ? { failed: String(page.failed) } : {}) } as Query });
  }
  /** The file a job made (an export), as text. */
  async jobFile(id: string): Promise<string> {
    return (await this.request("GET", `/v1/jobs/${encodeURIComponent(id)}/file`)).text();
  }
  async cancelJob(id: string): Promise<JobDetail> {
    return (await this.#json<{ job: JobDetail }>("POST", `/v1/jobs/${encodeURIComponent(id)}/cancel`)).job;
  }
  /** Run again what failed or was cancelled. */
  async retryJob(id: string): Promise<JobDetail> {
    return (await this.#json<{ job: JobDetail }>("POST", `/v1/jobs/${encodeURIComponent(id)}/retry`)).job;
  }
  /** Wait until a job ends (succeeded, failed or cancelled), polling every `intervalMs` (default 500). */
  async waitForJob(id: string, opts: { intervalMs?: number; timeoutMs?: number; onProgress?: (job: JobDetail) => void } = {}): Promise<JobDetail> {
    const end = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : Infinity;
    for (;;) {
      const j = await this.job(id);
      if (!j) throw new RlxfApiError(404, "not_found", `job ${id} not found`);
      opts.onProgress?.(j);
      if (j.state === "succeeded" || j.state === "failed" || j.state === "cancelled") return j;
      if (Date.now() > end) throw new RlxfApiError(0, "timeout", `job ${id} is still ${j.state} after ${opts.timeoutMs} ms`);
      await sleep(opts.intervalMs ?? 500);
    }
  }

  /** The project's feedback as a dataset, one line at a time (streamed). */
  async *export(format: ExportFormat): AsyncGenerator<string> {
    const res = await this.request("GET", "/v1/export", { query: { format } });
    if (!res.body) return;
    const decoder = new TextDecoder();
    let held = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      held += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = held.indexOf("\n")) >= 0) {
        yield held.slice(0, nl);
        held = held.slice(nl + 1);
      }
    }
    held += decoder.decode();
    if (held) yield held;
  }

  // --------------------------------------------------------------- queues ---

  /** Admin: an annotation queue from a selection of stored generations and the questions to ask. */
  async createQueue(definition: QueueDefinition): Promise<Queue> {
    return (await this.#json<{ queue: Queue }>("POST", "/v1/queues", { body: definition })).queue;
  }
  async queues(): Promise<Queue[]> {
    return (await this.#json<{ queues: Queue[] }>("GET", "/v1/queues")).queues;
  }
  async queue(id: string): Promise<Queue | undefined> {
    return (await this.#maybe<{ queue: Queue }>(`/v1/queues/${encodeURIComponent(id)}`))?.queue;
  }
  /** The next task for this key's annotator (locked to them), or null when nothing is left. */
  async nextTask(queueId: string): Promise<QueueTask | null> {
    return (await this.#json<{ task: QueueTask | null }>("POST", `/v1/queues/${encodeURIComponent(queueId)}/next`)).task;
  }
  async saveDraft(queueId: string, taskId: string, answers: Record<string, unknown>): Promise<void> {
    const res = await this.request("PUT", `${taskPath(queueId, taskId)}/draft`, { body: { answers } });
    await res.body?.cancel().catch(() => {});
  }
  async skipTask(queueId: string, taskId: string): Promise<void> {
    const res = await this.request("POST", `${taskPath(queueId, taskId)}/skip`);
    await res.body?.cancel().catch(() => {});
  }
  /**
   * Submit answers (question id → answer, by displayed slot). Retried on network errors under one
   * submissionId, so a lost response never stores the feedback twice.
   */
  submitTask(queueId: string, taskId: string, answers: Record<string, unknown>, submissionId: string = uuid()): Promise<SubmitResult> {
    return this.#json("POST", `${taskPath(queueId, taskId)}/submit`, { body: { submissionId, answers } });
  }
  /** Admin/read: a page of a queue's tasks with each annotator's claim (locked, expired, submitted, skipped). */
  queueTasks(queueId: string, page: { offset?: number; limit?: number } = {}): Promise<{ total: number; offset: number; tasks: QueueTaskStatus[] }> {
    return this.#json("GET", `/v1/queues/${encodeURIComponent(queueId)}/tasks`, { query: page });
  }
  /** Admin: free a task's live locks (one annotator's, or all) so others can take it; returns how many were freed. */
  async releaseTask(queueId: string, taskId: string, annotator?: string): Promise<number> {
    return (await this.#json<{ released: number }>("POST", `${taskPath(queueId, taskId)}/release`, { query: { annotator } })).released;
  }
  /** Admin: delete a queue with its tasks, locks and drafts (the feedback submitted through it is kept). */
  deleteQueue(queueId: string): Promise<{ queue: string; tasks: number; claims: number }> {
    return this.#json("DELETE", `/v1/queues/${encodeURIComponent(queueId)}`);
  }
  /** Admin/read: progress and agreement per question. */
  queueStats(queueId: string): Promise<Record<string, unknown>> {
    return this.#json("GET", `/v1/queues/${encodeURIComponent(queueId)}/stats`);
  }
  distributions(filter: { dataset?: string; queueId?: string; sourceType?: string; bins?: number } = {}): Promise<Record<string, unknown>> {
    return this.#json("GET", "/v1/analysis/distributions", { query: filter });
  }
  /** Start an export in the background; poll `exportJob`, then read `exportFile`. */
  startExport(format: ExportFormat, filters?: Record<string, unknown>): Promise<ExportJob> {
    return this.#json("POST", "/v1/exports", { body: { format, ...(filters ? { filters } : {}) } });
  }
  exportJob(id: string): Promise<ExportJob> {
    return this.#json("GET", `/v1/exports/${encodeURIComponent(id)}`);
  }
  /** Wait for an export to finish (done or failed), polling every `intervalMs` (default 500). */
  async waitForExport(id: string, opts: { intervalMs?: number } = {}): Promise<ExportJob> {
    for (;;) {
      const job = await this.exportJob(id);
      if (job.status !== "running") return job;
      await sleep(opts.intervalMs ?? 500);
    }
  }
  async exportFile(id: string): Promise<string> {
    return (await this.request("GET", `/v1/exports/${encodeURIComponent(id)}/file`)).text();
  }

  // -------------------------------------------------------------- admin ---

  me(): Promise<ApiKey> {
    return this.#json("GET", "/v1/me");
  }
  health(): Promise<{ status: "ok"; version: string }> {
    return this.#json("GET", "/v1/health");
  }
  openapi(): Promise<Record<string, unknown>> {
    return this.#json("GET", "/v1/openapi.json");
  }

  /** Admin: a new key of this project; its secret is in the answer only. */
  createKey(opts: { role: Role; name?: string }): Promise<{ key: ApiKey; secret: string }> {
    return this.#json("POST", "/v1/keys", { body: opts });
  }
  async listKeys(opts: { includeRevoked?: boolean } = {}): Promise<ApiKey[]> {
    return (await this.#json<{ records: ApiKey[] }>("GET", "/v1/keys", { query: opts as Query })).records;
  }
  revokeKey(id: string): Promise<ApiKey> {
    return this.#json("DELETE", `/v1/keys/${encodeURIComponent(id)}`);
  }

  /** Admin: assign stored items to an annotator (the name of their annotate key). */
  assign(annotator: string, itemIds: string[]): Promise<{ inserted: number; existing: number }> {
    return this.#json("POST", "/v1/assignments", { body: { annotator, itemIds } });
  }
  unassign(annotator: string, itemIds: string[]): Promise<{ removed: number }> {
    return this.#json("DELETE", "/v1/assignments", { body: { annotator, itemIds } });
  }
  listAssignments(filter: { annotator?: string; itemId?: string; limit?: number; cursor?: string } = {}): Promise<Page<Assignment>> {
    return this.#json("GET", "/v1/assignments", { query: filter });
  }
  iterateAssignments(filter: { annotator?: string; itemId?: string; limit?: number } = {}): AsyncIterable<Assignment> {
    return this.#pages("/v1/assignments", filter);
  }

  // --------------------------------------------------------------- reward ---

  /** Scores samples with a reward spec (a name, `name@N`, or a spec object); `store` also stores them. */
  reward(samples: RewardSample[], opts: { spec?: RewardSpec; store?: boolean; policy?: string } = {}): Promise<{ results: RewardResult[] }> {
    return this.#json("POST", "/v1/reward", { body: { samples, ...opts } });
  }
  /** Saves `spec` as the next version of `name` in the key's project (admin keys). */
  saveRewardSpec(name: string, spec: RewardSpec, description?: string): Promise<SavedRewardSpec> {
    return this.#json("POST", "/v1/reward/specs", { body: { name, spec, ...(description !== undefined ? { description } : {}) } });
  }
  async rewardSpecs(): Promise<SavedRewardSpec[]> {
    return (await this.#json<{ specs: SavedRewardSpec[] }>("GET", "/v1/reward/specs")).specs;
  }
  /** One saved spec (the latest version, or `version`) with its versions; undefined when there is none. */
  rewardSpec(name: string, version?: number): Promise<(SavedRewardSpec & { versions: number[] }) | undefined> {
    return this.#maybe(`/v1/reward/specs/${encodeURIComponent(name)}${version !== undefined ? `?version=${version}` : ""}`);
  }
  async deleteRewardSpec(name: string, version?: number): Promise<number> {
    return (await this.#json<{ deleted: number }>("DELETE", `/v1/reward/specs/${encodeURIComponent(name)}`, { query: { version } })).deleted;
  }

  // ------------------------------------------------------------ results ---

  /** Admin/read: lab runs and sweeps saved with `rlxf lab ... --save NAME` (the latest version of each), newest first. */
  async labResults(): Promise<LabResultSummary[]> {
    return (await this.#json<{ results: LabResultSummary[] }>("GET", "/v1/lab/results")).results;
  }
  /** One saved lab result (the latest version, or `version`) with its curves or rows; undefined when there is none. */
  labResult(name: string, version?: number): Promise<(LabResultSummary & { versions: number[]; result: LabResultBody }) | undefined> {
    return this.#maybe(`/v1/lab/results/${encodeURIComponent(name)}${version !== undefined ? `?version=${version}` : ""}`);
  }
  /** Admin/read: stored test-time loop runs, newest first. */
  async loopRuns(filter: { loop?: string; limit?: number } = {}): Promise<LoopRun[]> {
    return (await this.#json<{ runs: LoopRun[] }>("GET", "/v1/loops/runs", { query: filter })).runs;
  }
  /** A loop run's report (metrics recomputed from its steps, and its tasks); undefined when there is none. */
  loopRun(id: string, opts: { outputs?: boolean } = {}): Promise<LoopRunReport | undefined> {
    return this.#maybe(`/v1/loops/runs/${encodeURIComponent(id)}${opts.outputs ? "?outputs=true" : ""}`);
  }
}

/** A queue's task as an admin sees it: who holds, submitted or skipped it. */
export interface QueueTaskStatus {
  id: string;
  position: number;
  itemId: string;
  generationIds: string[];
  claims: { annotator: string; status: "locked" | "expired" | "submitted" | "skipped"; lockedUntil?: string; hasDraft: boolean; updatedAt: string }[];
}

/** A reward spec: a verifier or saved spec name, or a spec object (see the server's `/v1/reward`). */
export type RewardSpec = string | Record<string, unknown>;
export interface RewardSample {
  prompt?: string;
  completion: string;
  reference?: unknown;
  spec?: RewardSpec;
}
export interface RewardResult {
  score: number;
  passed: boolean;
  components: { name: string; type: string; weight: number; passed: boolean; score: number }[];
  details: Record<string, unknown>;
  cached: boolean;
  feedbackId?: string;
}
export interface SavedRewardSpec {
  name: string;
  version: number;
  spec: RewardSpec;
  description?: string;
  createdAt: string;
}

// ------------------------------------------------------------- helpers ---

function queryString(q: Query | undefined): string {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) p.set(k, v.join(","));
    else if (v instanceof Date) p.set(k, v.toISOString());
    else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

async function apiError(res: Response, method: string, path: string): Promise<RlxfApiError> {
  let body: { error?: { code?: string; message?: string; issues?: FieldIssue[]; record?: string; index?: number } } | undefined;
  try {
    body = (await res.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  return new RlxfApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `${method} ${path}: HTTP ${res.status}`, {
    ...(e?.issues ? { issues: e.issues } : {}),
    ...(e?.record !== undefined ? { record: e.record } : {}),
    ...(e?.index !== undefined ? { index: e.index } : {}),
  });
}

/** Records of a batch that an error blames (by `index` and by `batch.N` issue paths). */
function badIndices(e: RlxfApiError, n: number): Set<number> {
  const out = new Set<number>();
  if (e.status < 400 || e.status >= 500 || e.status === 401 || e.status === 403 || e.status === 413) {
    // Not about particular records (or the whole request is refused): nothing to set aside.
    if (!(e.status === 403 && e.index !== undefined)) return out;
  }
  if (e.index !== undefined && e.index < n) out.add(e.index);
  for (const i of e.issues) {
    const m = /^batch\.(\d+)(\.|$)/.exec(i.path);
    if (m && Number(m[1]) < n) out.add(Number(m[1]));
  }
  return out;
}

function checkFeedback(rec: NewFeedback): void {
  const r = FeedbackSchema.safeParse(rec.source === undefined ? { ...rec, source: { type: "human", id: "-" } } : rec);
  if (!r.success) throw new ValidationError(issuesFromZod(r.error), rec.id, "feedback");
}

const taskPath = (queueId: string, taskId: string) => `/v1/queues/${encodeURIComponent(queueId)}/tasks/${encodeURIComponent(taskId)}`;

/** An annotation queue's definition (see POST /v1/queues in the OpenAPI document). */
export interface QueueDefinition {
  id?: string;
  name: string;
  instructions?: string;
  selection: {
    mode: "generations" | "pairs" | "lists";
    dataset?: string;
    itemIds?: string[];
    policies?: string[];
    pairs?: [string, string][];
    generationIds?: string[];
    sample?: { n: number; seed?: number };
  };
  questions: ({ id: string; kind: "pairwise" | "ranking" | "rating" | "binary" | "critique" | "span" | "rubric" | "correction"; prompt: string; required?: boolean } & Record<string, unknown>)[];
  annotatorsPerItem?: number;
  lockSeconds?: number;
  annotators?: string[];
}

export interface Queue extends QueueDefinition {
  id: string;
  annotatorsPerItem: number;
  lockSeconds: number;
  createdAt: string;
  progress: { tasks: number; done: number; needed: number; submitted: number; skipped: number; inProgress: number };
}

export interface QueueTask {
  id: string;
  queueId: string;
  item: { id: string; prompt: unknown; reference?: string; dataset?: string };
  /** In the order shown to this annotator; answers refer to slots. */
  generations: { slot: number; output: string }[];
  questions: QueueDefinition["questions"];
  instructions?: string;
  draft?: Record<string, unknown>;
  lockedUntil: string;
}

export interface SubmitResult {
  feedback: string[];
  generations: string[];
  /** True when this submissionId was stored before: nothing new was written. */
  replayed: boolean;
}

export type JobKind = "judge" | "verify" | "reward" | "leaderboard" | "export" | "rm-train" | "lab-run" | "lab-sweep" | "loop" | "queue";
export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface Job {
  id: string;
  kind: JobKind;
  state: JobState;
  /** Units finished (and how many failed) of the total, once known. */
  progress: { done: number; total: number | null; failed: number; note?: string };
  tasks: { total: number; done: number; failed: number };
  attempts: number;
  maxAttempts: number;
  cancelRequested: boolean;
  /** Times it was retried (a retry asks models again instead of reading cached answers). */
  retries: number;
  error?: string;
  input?: unknown;
  result?: unknown;
  createdBy?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
}

export interface JobDetail extends Job {
  /** The error of each failed attempt, newest first. */
  failures: { task: number; attempt: number; error: string; worker?: string; at: string }[];
  /** Units that failed for good (the first 50). */
  unitFailures: { unit: number; error: string; recordId?: string }[];
}

export interface JobUnit {
  unit: number;
  failed: boolean;
  outcome?: string;
  recordId?: string;
  /** Scores of verify and reward jobs. */
  result?: { score: number; passed: boolean };
}

export interface ExportJob {
  id: string;
  format: string;
  status: "running" | "done" | "failed";
  rows: number;
  error?: string;
  filters?: Record<string, unknown>;
  createdAt: string;
  finishedAt?: string;
}
