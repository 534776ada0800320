/**
 * Group commit for single-record writes (records already parsed by the handlers). Each store write is one transaction,
 * and a transaction's fixed cost (locking, journal, commit) dwarfs one small
 * record. While a write is running, single-record requests that arrive wait
 * here and then go to the store together in one transaction; each request is
 * still answered only after its record is committed, with its own outcome.
 *
 * No delay is added: a request arriving at an idle store is written at once.
 * If a combined write fails (one record refers to something missing, say),
 * every request in it is written again on its own, so one bad record never
 * fails another request, and each gets its own answer.
 */
import type { RecordKind, Store, WriteOutcome, WriteReport } from "../store/index.js";

interface Pending {
  kind: RecordKind;
  record: unknown;
  resolve: (r: { outcome: WriteOutcome; recordedAt: string }) => void;
  reject: (e: unknown) => void;
}

const PLURAL = { item: "items", generation: "generations", feedback: "feedback" } as const;
const ORDER: RecordKind[] = ["item", "generation", "feedback"];

export class WriteCoalescer {
  readonly #store: Store;
  readonly #max: number;
  #queue: Pending[] = [];
  #running = false;

  constructor(store: Store, maxGroup = 1000) {
    this.#store = store;
    this.#max = maxGroup;
  }

  /** Write one record (of one request); resolves once it is committed. */
  write(kind: RecordKind, record: unknown): Promise<{ outcome: WriteOutcome; recordedAt: string }> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ kind, record, resolve, reject });
      if (!this.#running) {
        // One turn of the event loop first: with a synchronous driver (SQLite) a write never yields,
        // so requests parsed in the same turn could not join it otherwise.
        this.#running = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0, this.#max);
        await (group.length === 1 ? this.#alone(group[0] as Pending) : this.#together(group));
      }
    } finally {
      this.#running = false;
    }
  }

  async #alone(p: Pending): Promise<void> {
    try {
      const report = await this.#store.write({ [PLURAL[p.kind]]: [p.record] }, { label: () => "", parsed: true });
      p.resolve({ outcome: report[PLURAL[p.kind]].outcomes[0] ?? "existing", recordedAt: report.recordedAt });
    } catch (e) {
      p.reject(e);
    }
  }

  async #together(group: Pending[]): Promise<void> {
    // Parents first, as separate requests would have to be.
    const byKind = new Map<RecordKind, Pending[]>(ORDER.map((k) => [k, []]));
    for (const p of group) byKind.get(p.kind)!.push(p);
    let report: WriteReport;
    try {
      report = await this.#store.write({
        items: byKind.get("item")!.map((p) => p.record),
        generations: byKind.get("generation")!.map((p) => p.record),
        feedback: byKind.get("feedback")!.map((p) => p.record),
      }, { parsed: true });
    } catch {
      // Someone's record spoiled the group: everyone on their own, in kind order.
      for (const k of ORDER) for (const p of byKind.get(k)!) await this.#alone(p);
      return;
    }
    for (const k of ORDER) {
      const outcomes = report[PLURAL[k]].outcomes;
      byKind.get(k)!.forEach((p, i) => p.resolve({ outcome: outcomes[i] ?? "existing", recordedAt: report.recordedAt }));
    }
  }
}
