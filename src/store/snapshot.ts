/**
 * Snapshot reads. Inside `readSnapshot(fn)` every read of a store's records (items, generations,
 * feedback, counts) sees the database as it was at the first such read, whatever is written
 * meanwhile: an export that streams items, then generations, then feedback stays consistent while
 * writers go on.
 *
 * - SQLite file: a dedicated read-only connection holding one deferred `BEGIN` read transaction
 *   (WAL: writers are not blocked; the WAL cannot be checkpointed past the snapshot until it ends).
 * - SQLite `:memory:`: the database's only connection is held, so writes from elsewhere wait for the
 *   snapshot to end; inside it, only records and counts can be read (anything else is an error, not a hang).
 * - PostgreSQL: one pooled client in a `REPEATABLE READ READ ONLY` transaction.
 *
 * A store keeps at most 4 snapshots open at once on PostgreSQL (of its 10 pooled connections) and 8
 * on a SQLite file; more wait for one to end, so slow readers cannot take every connection.
 *
 * The scope follows async work started inside it (AsyncLocalStorage), so code that only holds a
 * store — an export source, a report — needs no handle to join it.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** One store's open snapshot: its connection and how to end it. */
export interface OpenSnapshot<C> {
  conn: C;
  close(): Promise<void>;
}

const current = new AsyncLocalStorage<ReadScope>();

/** A scope of snapshot reads: each store read inside it opens (once) and reuses its own snapshot. */
export class ReadScope {
  readonly #open = new Map<object, Promise<OpenSnapshot<unknown>>>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  /** Run `fn` (and whatever async work it starts) inside this scope. */
  run<T>(fn: () => T): T {
    return current.run(this, fn);
  }

  /** The snapshot of `owner` (a store) in this scope, opened by `open` on first use. */
  snapshotOf<C>(owner: object, open: () => Promise<OpenSnapshot<C>>): Promise<OpenSnapshot<C>> {
    let s = this.#open.get(owner);
    if (!s) {
      s = open();
      this.#open.set(owner, s);
    }
    return s as Promise<OpenSnapshot<C>>;
  }

  /** Whether `owner` has a snapshot open (or opening) in this scope. */
  has(owner: object): boolean {
    return this.#open.has(owner);
  }

  /** End every snapshot opened in this scope; reads still running in it afterwards go to the live store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const open = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(open.map((p) => p.then((s) => s.close()).catch(() => {})));
  }
}

/** The open scope the caller runs in, if any. */
export function currentReadScope(): ReadScope | undefined {
  const s = current.getStore();
  return s && !s.closed ? s : undefined;
}

/** Run `fn` with snapshot reads (see the top of this file); the snapshots end when it settles. */
export async function readSnapshot<T>(fn: () => Promise<T>): Promise<T> {
  const outer = currentReadScope();
  if (outer) return fn();
  const scope = new ReadScope();
  try {
    return await scope.run(fn);
  } finally {
    await scope.close();
  }
}

/**
 * An async iterable whose every step runs inside one read scope, closed when iteration ends (or is
 * abandoned through `return`). Nested inside an open scope, it joins that one.
 */
export function snapshotIterable<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const outer = currentReadScope();
      const scope = outer ?? new ReadScope();
      const end = () => (outer ? Promise.resolve() : scope.close());
      let inner: AsyncIterator<T> | undefined;
      const step = async (f: (it: AsyncIterator<T>) => Promise<IteratorResult<T>>): Promise<IteratorResult<T>> => {
        try {
          const r = await scope.run(() => f((inner ??= scope.run(() => source[Symbol.asyncIterator]()))));
          if (r.done) await end();
          return r;
        } catch (e) {
          await end();
          throw e;
        }
      };
      return {
        next: () => step((it) => it.next()),
        return: (value?: unknown) => step((it) => (it.return ? it.return(value) : Promise.resolve({ done: true, value: undefined as T }))),
        throw: (e?: unknown) => step((it) => (it.throw ? it.throw(e) : Promise.reject(e))),
      };
    },
  };
}
