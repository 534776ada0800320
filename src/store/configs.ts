/**
 * Named, versioned configs of a project (table `configs`), such as reward specs: each save of a
 * (kind, name) makes the next version (1, 2, ...), so a caller can pin `name@2` while others
 * follow the latest. Kinds keep their own namespaces: a reward spec and a judge config may share a name.
 */
import { type ColumnType, type Kysely, type Migration, sql } from "kysely";
import { ValidationError } from "../errors.js";
import { DEFAULT_PROJECT, Id } from "../feedback/schema.js";
import { badKeyString, isoOf } from "./codec.js";
import type { Database, Engine } from "./tables.js";

type BigIntColumn = ColumnType<number | string, number, number>;

export interface ConfigsTable {
  project: string;
  kind: string;
  name: string;
  version: BigIntColumn;
  description: string | null;
  body: string;
  created_at: BigIntColumn;
}

export const configsMigration = (engine: Engine): Migration => ({
  async up(db: Kysely<any>) {
    // PostgreSQL: byte-order ("C") collation, so names sort as on SQLite.
    const text = engine === "postgres" ? sql`text collate "C"` : sql`text`;
    await db.schema
      .createTable("configs")
      .addColumn("project", text, (c) => c.notNull())
      .addColumn("kind", text, (c) => c.notNull())
      .addColumn("name", text, (c) => c.notNull())
      .addColumn("version", sql`integer`, (c) => c.notNull())
      .addColumn("description", "text")
      .addColumn("body", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("configs_pk", ["project", "kind", "name", "version"])
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable("configs").execute();
  },
});

/** A stored config version. */
export interface StoredConfig {
  project: string;
  kind: string;
  name: string;
  /** 1 for the first save of (kind, name) in a project, then 2, 3, ... */
  version: number;
  description?: string;
  body: unknown;
  createdAt: string;
}

export interface SaveConfigInput {
  /** Default "default". */
  project?: string;
  kind: string;
  name: string;
  body: unknown;
  description?: string;
}

export interface ConfigStore {
  /** Save `body` as the next version of (kind, name), in one transaction. */
  save(input: SaveConfigInput): Promise<StoredConfig>;
  /** One version, or the latest when `version` is omitted; undefined when there is none. */
  get(project: string, kind: string, name: string, version?: number): Promise<StoredConfig | undefined>;
  /** The latest version of each name of a kind, sorted by name; with `name`, every version of it, newest first. */
  list(filter: { project?: string; kind: string; name?: string }): Promise<StoredConfig[]>;
  /** Delete one version, or all versions when `version` is omitted; returns how many were deleted. */
  remove(project: string, kind: string, name: string, version?: number): Promise<number>;
}

function checkId(path: string, value: unknown): asserts value is string {
  const r = Id.safeParse(value);
  const bad = r.success ? badKeyString(value as string) : r.error.issues[0]?.message;
  if (bad) throw new ValidationError([{ path, message: bad }], undefined, "config");
}

type Row = { project: string; kind: string; name: string; version: number | string; description: string | null; body: string; created_at: number | string };

function fromRow(r: Row): StoredConfig {
  return {
    project: r.project,
    kind: r.kind,
    name: r.name,
    version: Number(r.version),
    ...(r.description !== null ? { description: r.description } : {}),
    body: JSON.parse(r.body) as unknown,
    createdAt: isoOf(r.created_at),
  };
}

type InTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

export function configStore(db: () => Kysely<Database>, inTransaction: InTransaction): ConfigStore {
  return {
    async save(input) {
      const project = input.project ?? DEFAULT_PROJECT;
      checkId("project", project);
      checkId("kind", input.kind);
      checkId("name", input.name);
      if (input.description !== undefined && typeof input.description !== "string") {
        throw new ValidationError([{ path: "description", message: "must be a string" }], undefined, "config");
      }
      let body: string | undefined;
      try {
        body = JSON.stringify(input.body);
      } catch (e) {
        throw new ValidationError([{ path: "body", message: `must be JSON-serialisable: ${(e as Error).message}` }], undefined, "config");
      }
      if (body === undefined) throw new ValidationError([{ path: "body", message: "is required" }], undefined, "config");
      for (let attempt = 0; ; attempt++) {
        try {
          return await inTransaction(async (d) => {
            const last = await d
              .selectFrom("configs")
              .select((eb) => eb.fn.max("version").as("v"))
              .where("project", "=", project)
              .where("kind", "=", input.kind)
              .where("name", "=", input.name)
              .executeTakeFirst();
            const version = last?.v === null || last?.v === undefined ? 1 : Number(last.v) + 1;
            const row = { project, kind: input.kind, name: input.name, version, description: input.description ?? null, body, created_at: Date.now() };
            await d.insertInto("configs").values(row).execute();
            return fromRow(row);
          });
        } catch (e) {
          // Two concurrent saves (PostgreSQL, read committed) can pick the same version: the loser retries
          // (n racers need up to n - 1 retries).
          if (attempt < 50 && /unique|duplicate|primary key/i.test(String((e as Error).message))) continue;
          throw e;
        }
      }
    },
    async get(project, kind, name, version) {
      let q = db().selectFrom("configs").selectAll().where("project", "=", project).where("kind", "=", kind).where("name", "=", name);
      q = version === undefined ? q.orderBy("version", "desc").limit(1) : q.where("version", "=", version);
      const r = await q.executeTakeFirst();
      return r ? fromRow(r) : undefined;
    },
    async list(filter) {
      const project = filter.project ?? DEFAULT_PROJECT;
      if (filter.name !== undefined) {
        const rows = await db()
          .selectFrom("configs")
          .selectAll()
          .where("project", "=", project)
          .where("kind", "=", filter.kind)
          .where("name", "=", filter.name)
          .orderBy("version", "desc")
          .execute();
        return rows.map(fromRow);
      }
      const rows = await db()
        .selectFrom("configs as c")
        .selectAll("c")
        .where("c.project", "=", project)
        .where("c.kind", "=", filter.kind)
        .where((eb) =>
          eb(
            "c.version",
            "=",
            eb
              .selectFrom("configs as l")
              .select((e2) => e2.fn.max("l.version").as("v"))
              .whereRef("l.project", "=", "c.project")
              .whereRef("l.kind", "=", "c.kind")
              .whereRef("l.name", "=", "c.name"),
          ),
        )
        .orderBy("c.name")
        .execute();
      return rows.map(fromRow);
    },
    async remove(project, kind, name, version) {
      return inTransaction(async (d) => {
        let q = d.deleteFrom("configs").where("project", "=", project).where("kind", "=", kind).where("name", "=", name);
        if (version !== undefined) q = q.where("version", "=", version);
        const r = await q.executeTakeFirst();
        return Number(r.numDeletedRows);
      });
    },
  };
}
