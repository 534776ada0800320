import { createReadStream } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { InvalidArgumentError, Option } from "commander";
import { RlxfError, typedError } from "../errors.js";
import { DEFAULT_PROJECT, Name } from "../feedback/schema.js";
import type { OpenStoreOptions, Store } from "../store/index.js";

export interface DbOptions {
  db?: string;
}

/** The store options `--db` names: a postgres:// URL or a SQLite path; none leaves it to the environment. */
export function storeTarget(opts: DbOptions): Pick<OpenStoreOptions, "url" | "path"> {
  if (!opts.db) return {};
  return /^postgres(ql)?:\/\//.test(opts.db) ? { url: opts.db } : { path: opts.db };
}

/** Where the store came from, for messages: the flag, the variable or the default. */
export function storeOrigin(opts: DbOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.db) return "--db";
  if (env.RLXF_DATABASE_URL) return "RLXF_DATABASE_URL";
  if (env.RLXF_DB) return "RLXF_DB";
  return `the default ./.rlxf/rlxf.db of ${resolve(".")}`;
}

export interface StoreFromOptions extends Pick<OpenStoreOptions, "durability"> {
  /**
   * Make a new store when there is none (commands that bring data: import, judge, serve...). Commands that
   * only make sense against an existing store leave it false and refuse, saying where they looked.
   */
  create?: boolean;
  /** The flag that would make one anyway, named in the refusal (e.g. `--create-store`). */
  createFlag?: string;
}

/** Open the store named by `--db` (a path or a postgres:// URL), else the environment's default. */
export async function storeFrom(opts: DbOptions, more: StoreFromOptions = {}): Promise<Store> {
  // Loaded on first use: commands that read files only start without the database drivers.
  const { openStore } = await import("../store/index.js");
  try {
    return await openStore({ ...storeTarget(opts), ...(more.durability ? { durability: more.durability } : {}), create: more.create ?? false });
  } catch (e) {
    if (typedError(e)?.code !== "store_not_found") throw e;
    throw new RlxfError(
      "store_not_found",
      `${(e as Error).message} (from ${storeOrigin(opts)}), and this command does not make a new one. ` +
        `Point it at the store your server uses (\`rlxf serve\` prints it when it starts): --db FILE or --db postgres://..., ` +
        `or set RLXF_DB=FILE or RLXF_DATABASE_URL=postgres://...${more.createFlag ? `; ${more.createFlag} makes a new, empty store there` : ""}`,
      { cause: e },
    );
  }
}

/** The store `--db` or the environment names, for messages: engine and absolute path, or the URL without its password. */
export async function storeLabel(opts: DbOptions): Promise<string> {
  const { redact, resolveTarget } = await import("../store/index.js");
  const t = resolveTarget(storeTarget(opts));
  return t.engine === "sqlite" ? `SQLite ${t.path === ":memory:" ? t.path : resolve(t.path)}` : `PostgreSQL ${redact(t.url)}`;
}

/** Run `fn` with an open store and always close it (an existing store, unless `more.create`). */
export async function withStore<T>(opts: DbOptions, fn: (store: Store) => Promise<T>, more: StoreFromOptions = {}): Promise<T> {
  const store = await storeFrom(opts, more);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * The project a command works in when `--project` is not given: `$RLXF_PROJECT`, else "default". `rlxf serve`
 * seeds the same project and `rlxf keys create` makes keys for it, so the web app shows what the CLI stored.
 */
export function defaultProject(env: NodeJS.ProcessEnv = process.env): string {
  const p = env.RLXF_PROJECT;
  if (p === undefined || p === "") return DEFAULT_PROJECT;
  const r = Name.safeParse(p);
  if (!r.success) throw new RlxfError("invalid_config", `RLXF_PROJECT ${r.error.issues[0]?.message ?? "is not a valid project name"}`, { field: "RLXF_PROJECT" });
  return p;
}

/** The `--project` option, defaulting to {@link defaultProject}. */
export const projectOption = (description = "project") =>
  new Option("--project <name>", `${description} (default: $RLXF_PROJECT, else "${DEFAULT_PROJECT}")`).default(defaultProject(), `"${defaultProject()}"`);

/**
 * A command line to print as a hint, carrying this command's `--project` and `--db` where they differ from
 * the defaults, so that it names the same project and store.
 */
export function commandHint(command: string, opts: DbOptions & { project?: string }): string {
  const flags: string[] = [];
  if (opts.project !== undefined && opts.project !== defaultProject()) flags.push(`--project ${shellWord(opts.project)}`);
  if (opts.db) flags.push(`--db ${shellWord(opts.db)}`);
  return [command, ...flags].join(" ");
}

/**
 * When `project` holds no feedback but other projects of the store do, the likelier cause of "nothing found": a
 * sentence naming them and `--project` (empty otherwise).
 */
export async function otherProjectsHint(store: Store, project: string): Promise<string> {
  if ((await store.counts(project)).feedback > 0) return "";
  const others: string[] = [];
  for (const p of await store.projects()) {
    if (p === project) continue;
    const n = (await store.counts(p)).feedback;
    if (n > 0) others.push(`"${p}" (${n})`);
    if (others.length === 5) break;
  }
  if (!others.length) return "";
  return `; project "${project}" holds no feedback, but ${others.length === 1 ? "project" : "projects"} ${others.join(", ")} ${others.length === 1 ? "does" : "do"}: pass --project NAME (or set RLXF_PROJECT)`;
}

/** Where a saved result shows in the web app, for this project and store. */
export function webAppHint(path: string, opts: DbOptions & { project: string }): string {
  return `the web app of \`${commandHint("rlxf serve", { db: opts.db })}\` shows it at ${path} to a key of project "${opts.project}" (\`${commandHint("rlxf keys create --role read", opts)}\`)`;
}

const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

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

/** The JSON objects of a JSONL file (`-`: stdin), each with its line number; blank lines are skipped. */
export async function* jsonLines(path: string): AsyncGenerator<{ row: Record<string, unknown>; line: number }> {
  const rl = createInterface({ input: path === "-" ? process.stdin : createReadStream(path, "utf8"), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === "") continue;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (e) {
      throw new RlxfError("invalid_input", `${path} line ${line}: not JSON (${(e as Error).message})`);
    }
    if (!row || typeof row !== "object" || Array.isArray(row)) throw new RlxfError("invalid_input", `${path} line ${line}: expected a JSON object`);
    yield { row: row as Record<string, unknown>, line };
  }
}
