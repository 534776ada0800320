import { InvalidArgumentError, Option } from "commander";
import type { OpenStoreOptions, Store } from "../store/index.js";

export interface DbOptions {
  db?: string;
}

/** Open the store named by `--db` (a path or a postgres:// URL), else the environment's default. */
export async function storeFrom(opts: DbOptions, more: Pick<OpenStoreOptions, "durability"> = {}): Promise<Store> {
  // Loaded on first use: commands that read files only start without the database drivers.
  const { openStore } = await import("../store/index.js");
  if (!opts.db) return openStore(more);
  return /^postgres(ql)?:\/\//.test(opts.db) ? openStore({ url: opts.db, ...more }) : openStore({ path: opts.db, ...more });
}

/** Run `fn` with an open store and always close it. */
export async function withStore<T>(opts: DbOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await storeFrom(opts);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export const out = (s: string) => process.stdout.write(s);
export const info = (s: string) => process.stderr.write(s);

/** Format rows as an aligned text table. */
export function table<T extends object>(rows: readonly T[], columns: { key: keyof T & string; title?: string; digits?: number }[]): string {
  const cells = rows.map((r) =>
    columns.map((c) => {
      const v: unknown = r[c.key];
      if (v === null || v === undefined) return "";
      if (typeof v === "number") return Number.isInteger(v) && c.digits === undefined ? String(v) : v.toFixed(c.digits ?? 2);
      return String(v);
    }),
  );
  const heads = columns.map((c) => c.title ?? c.key);
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const isNum = columns.map((c) => rows.some((r) => typeof r[c.key] === "number"));
  const line = (row: string[]) => row.map((v, i) => (isNum[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(heads), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n") + "\n";
}

/** A commander parser for a non-negative integer option. */
export const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

/** The `--db` option every command that touches the store takes. */
export const dbOption = () => new Option("--db <path-or-url>", "SQLite file or postgres:// URL (default: $RLXF_DATABASE_URL, $RLXF_DB, ./.rlxf/rlxf.db)");
