/**
 * `feedback()`'s queue: records wait until a batch is full (or a second passed), go out in batches, and a
 * batch the server refuses because of some of its records is sent again without them (those go to
 * `onError`). What is queued is flushed before a natural exit of the process (`beforeExit`).
 */
import type { WriteResult } from "../api/index.js";
import { Feedback as FeedbackSchema } from "../feedback/index.js";
import { RlxfError, ValidationError, issuesFromZod } from "../errors.js";
import { RlxfApiError, badIndices } from "./errors.js";
import { type Transport, uuid } from "./transport.js";
import type { ClientStats, NewFeedback } from "./types.js";

export interface FeedbackQueueOptions {
  batchSize: number;
  flushIntervalMs: number;
  maxQueue: number;
  validate: boolean;
  flushOnExit: boolean;
  onError: (error: RlxfApiError, records: NewFeedback[]) => void;
}

// Queues with records waiting, flushed when the process is about to exit on its own.
const live = new Set<FeedbackQueue>();
let hooked = false;
function onBeforeExit(): void {
  for (const q of live) if (q.stats.pending > 0) void q.flush();
}

function checkFeedback(rec: NewFeedback): void {
  const r = FeedbackSchema.safeParse(rec.source === undefined ? { ...rec, source: { type: "human", id: "-" } } : rec);
  if (!r.success) throw new ValidationError(issuesFromZod(r.error), rec.id, "feedback");
}

export class FeedbackQueue {
  readonly #t: Transport;
  readonly #o: FeedbackQueueOptions;
  #queue: { id: string; record: NewFeedback }[] = [];
  #inFlight = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pump: Promise<void> | undefined;
  #closed = false;
  readonly #stats = { inserted: 0, existing: 0, failed: 0 };

  constructor(transport: Transport, opts: FeedbackQueueOptions) {
    this.#t = transport;
    this.#o = opts;
  }

  get stats(): ClientStats {
    return { ...this.#stats, pending: this.#queue.length + this.#inFlight };
  }

  /** While records wait, the queue is known to the exit hook (and only then, so clients are not kept alive). */
  #watchExit(): void {
    if (!this.#o.flushOnExit || typeof process === "undefined" || typeof process.on !== "function") return;
    live.add(this);
    if (!hooked) {
      hooked = true;
      process.on("beforeExit", onBeforeExit);
    }
  }

  /** Queue one record; returns its id (the given one, or a new UUID). */
  add(record: NewFeedback): string {
    if (this.#closed) throw new RlxfError("conflict", "this Rlxf client is closed");
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

  /** Flush, then stop: no more records. */
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
        const r = await this.#t.json<WriteResult>("POST", "/v1/feedback", { body: { batch: rest.map((x) => x.record) } });
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
}
