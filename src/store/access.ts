/**
 * Access records kept beside the data: API keys (project, role; only a hash
 * of each key is stored) and assignments of items to annotators.
 *
 * A key reads `rlxf_<id>_<secret>`: `id` (16 hex digits) is public and finds
 * the row, `secret` (32 random bytes, base64url) is what proves possession;
 * the row keeps the SHA-256 of the whole key, compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import { ValidationError } from "../errors.js";
import { Id, Name } from "../feedback/schema.js";
import { ROLES, type Role, isRole } from "../roles.js";
import { badKeyString, chunks, isoOf, num } from "./codec.js";
import type { Database } from "./tables.js";
import type { Page } from "./types.js";
import { MissingReferenceError } from "./write.js";

export { ROLES, type Role };

/** A key as stored, without its secret. */
export interface ApiKey {
  id: string;
  project: string;
  role: Role;
  /** Who holds it; for `annotate` keys, the annotator (their feedback's `source.id`, their assignments). */
  name: string;
  createdAt: string;
  /** Set once the key is revoked; a revoked key authenticates nothing. */
  revokedAt?: string;
}

export interface CreatedKey {
  key: ApiKey;
  /** The key itself, `rlxf_<id>_<secret>`: shown once, never stored. */
  secret: string;
}

export interface CreateKeyOptions {
  project: string;
  role: Role;
  /** Default: the key's id. */
  name?: string;
}

export interface KeyStore {
  create(opts: CreateKeyOptions): Promise<CreatedKey>;
  /** The live key a secret belongs to; undefined for malformed, unknown or revoked keys. */
  authenticate(secret: string): Promise<ApiKey | undefined>;
  /** A key by id (within `project` when given), revoked or not. */
  get(id: string, project?: string): Promise<ApiKey | undefined>;
  /** Keys, oldest first (of one project when given). */
  list(filter?: { project?: string; includeRevoked?: boolean }): Promise<ApiKey[]>;
  /** Revoke a key (within `project` when given); undefined when there is no such key. Revoking twice keeps the first time. */
  revoke(id: string, project?: string): Promise<ApiKey | undefined>;
}

export interface Assignment {
  project: string;
  annotator: string;
  itemId: string;
  createdAt: string;
}

export interface AssignmentFilter {
  project: string;
  annotator?: string;
  itemId?: string;
  /** Page size, 1..10000; default 100. */
  limit?: number;
  cursor?: string;
}

export interface AssignmentStore {
  /** Assign stored items to an annotator; already assigned ones are counted as existing. Items must exist in the project. */
  add(project: string, annotator: string, itemIds: string[]): Promise<{ inserted: number; existing: number }>;
  /** Unassign; returns how many assignments were removed. */
  remove(project: string, annotator: string, itemIds: string[]): Promise<number>;
  /** Assignments, oldest first. */
  list(filter: AssignmentFilter): Promise<Page<Assignment>>;
  /** Which of `itemIds` are assigned to `annotator`. */
  assigned(project: string, annotator: string, itemIds: string[]): Promise<Set<string>>;
}

export const KEY_PREFIX = "rlxf_";
const KEY_PATTERN = /^rlxf_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export const hashKey = (secret: string): string => createHash("sha256").update(secret, "utf8").digest("hex");

/** The public id of a well-formed key, else undefined. */
export function keyIdOf(secret: string): string | undefined {
  return KEY_PATTERN.exec(secret)?.[1];
}

function checkName(path: string, value: string): void {
  const r = Name.safeParse(value);
  const bad = r.success ? badKeyString(value) : r.error.issues[0]?.message;
  if (bad) throw new ValidationError([{ path, message: bad }], undefined, "key");
}

function checkRole(role: string): asserts role is Role {
  if (!isRole(role)) {
    throw new ValidationError([{ path: "role", message: `must be one of ${ROLES.join(", ")}` }], undefined, "key");
  }
}

type KeyRow = { id: string; project: string; role: string; name: string; hash: string; created_at: number | string; revoked_at: number | string | null };

function keyFromRow(r: KeyRow): ApiKey {
  const k: ApiKey = { id: r.id, project: r.project, role: r.role as Role, name: r.name, createdAt: isoOf(r.created_at) };
  if (r.revoked_at !== null && r.revoked_at !== undefined) k.revokedAt = isoOf(r.revoked_at);
  return k;
}

type InTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

/** Keys over `db` (reads) and `inTransaction` (every write, so SQLite writers in one process queue). */
export function keyStore(db: () => Kysely<Database>, inTransaction: InTransaction): KeyStore {
  const row = (id: string, project?: string) => {
    let q = db().selectFrom("api_keys").selectAll().where("id", "=", id);
    if (project !== undefined) q = q.where("project", "=", project);
    return q.executeTakeFirst() as Promise<KeyRow | undefined>;
  };
  return {
    async create(opts) {
      checkName("project", opts.project);
      checkRole(opts.role);
      if (opts.name !== undefined) checkName("name", opts.name);
      for (let attempt = 0; ; attempt++) {
        const id = randomBytes(8).toString("hex");
        const secret = `${KEY_PREFIX}${id}_${randomBytes(32).toString("base64url")}`;
        const createdAt = Date.now();
        const r = { id, project: opts.project, role: opts.role, name: opts.name ?? id, hash: hashKey(secret), created_at: createdAt, revoked_at: null };
        try {
          await inTransaction((d) => d.insertInto("api_keys").values(r).execute());
        } catch (e) {
          // A 64-bit id collision is astronomically rare; try another id.
          if (attempt < 3 && (await row(id))) continue;
          throw e;
        }
        return { key: keyFromRow(r), secret };
      }
    },
    async authenticate(secret) {
      if (typeof secret !== "string") return undefined;
      const id = keyIdOf(secret);
      if (!id) return undefined;
      const r = await row(id);
      if (!r) return undefined;
      const a = Buffer.from(hashKey(secret), "hex");
      const b = Buffer.from(r.hash, "hex");
      if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
      if (r.revoked_at !== null && r.revoked_at !== undefined) return undefined;
      return keyFromRow(r);
    },
    async get(id, project) {
      const r = await row(id, project);
      return r && keyFromRow(r);
    },
    async list(filter = {}) {
      let q = db().selectFrom("api_keys").selectAll();
      if (filter.project !== undefined) q = q.where("project", "=", filter.project);
      if (!filter.includeRevoked) q = q.where("revoked_at", "is", null);
      const rows = (await q.orderBy("created_at").orderBy("id").execute()) as KeyRow[];
      return rows.map(keyFromRow);
    },
    async revoke(id, project) {
      await inTransaction(async (d) => {
        let q = d.updateTable("api_keys").set({ revoked_at: Date.now() }).where("id", "=", id).where("revoked_at", "is", null);
        if (project !== undefined) q = q.where("project", "=", project);
        await q.execute();
      });
      const r = await row(id, project);
      return r && keyFromRow(r);
    },
  };
}

// ------------------------------------------------------------ assignments ---

const MAX_LIMIT = 10_000;

function encodeAssignmentCursor(a: { created_at: number | string; annotator: string; item_id: string }): string {
  return Buffer.from(JSON.stringify([num(a.created_at), a.annotator, a.item_id]), "utf8").toString("base64url");
}

function decodeAssignmentCursor(cursor: string): [number, string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 3 && Number.isSafeInteger(v[0]) && typeof v[1] === "string" && typeof v[2] === "string") {
      return v as [number, string, string];
    }
  } catch {
    // fall through
  }
  throw new ValidationError([{ path: "cursor", message: "is not a cursor this store returned" }], undefined, "filter");
}

function checkIds(path: string, ids: string[]): void {
  if (!Array.isArray(ids)) throw new ValidationError([{ path, message: "must be an array of item ids" }], undefined, "assignment");
  const issues = ids.flatMap((id, i) => {
    if (typeof id !== "string") return [{ path: `${path}.${i}`, message: "must be a string" }];
    const r = Id.safeParse(id);
    const bad = r.success ? badKeyString(id) : r.error.issues[0]?.message;
    return bad ? [{ path: `${path}.${i}`, message: bad }] : [];
  });
  if (issues.length) throw new ValidationError(issues, undefined, "assignment");
}

export function assignmentStore(db: () => Kysely<Database>, inTransaction: InTransaction): AssignmentStore {
  const assignedIn = async (d: Kysely<Database>, project: string, annotator: string, itemIds: string[]) => {
    const out = new Set<string>();
    for (const chunk of chunks([...new Set(itemIds)], 1000)) {
      const rows = await d
        .selectFrom("assignments")
        .select("item_id")
        .where("project", "=", project)
        .where("annotator", "=", annotator)
        .where("item_id", "in", chunk)
        .execute();
      for (const r of rows) out.add(r.item_id);
    }
    return out;
  };
  return {
    async add(project, annotator, itemIds) {
      checkName("project", project);
      checkName("annotator", annotator);
      checkIds("itemIds", itemIds);
      const unique = [...new Set(itemIds)];
      return inTransaction(async (d) => {
        const found = new Set<string>();
        for (const chunk of chunks(unique, 1000)) {
          const rows = await d.selectFrom("items").select("id").where("project", "=", project).where("id", "in", chunk).execute();
          for (const r of rows) found.add(r.id);
        }
        const missing = itemIds.findIndex((id) => !found.has(id));
        if (missing >= 0) {
          throw new MissingReferenceError({ what: "item", path: `itemIds.${missing}`, refKind: "item", project, refId: itemIds[missing] as string });
        }
        const already = await assignedIn(d, project, annotator, unique);
        const now = Date.now();
        const fresh = unique.filter((id) => !already.has(id));
        for (const chunk of chunks(fresh, 1000)) {
          await d
            .insertInto("assignments")
            .values(chunk.map((item_id) => ({ project, annotator, item_id, created_at: now })))
            .execute();
        }
        return { inserted: fresh.length, existing: itemIds.length - fresh.length };
      });
    },
    async remove(project, annotator, itemIds) {
      checkIds("itemIds", itemIds);
      return inTransaction(async (d) => {
        let removed = 0;
        for (const chunk of chunks([...new Set(itemIds)], 1000)) {
          const r = await d
            .deleteFrom("assignments")
            .where("project", "=", project)
            .where("annotator", "=", annotator)
            .where("item_id", "in", chunk)
            .executeTakeFirst();
          removed += Number(r.numDeletedRows);
        }
        return removed;
      });
    },
    async list(f) {
      const limit = f.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw new ValidationError([{ path: "limit", message: `must be an integer from 1 to ${MAX_LIMIT}` }], undefined, "filter");
      }
      const after = f.cursor !== undefined ? decodeAssignmentCursor(f.cursor) : undefined;
      const rows = await db()
        .selectFrom("assignments")
        .selectAll()
        .where((eb) => {
          const conds = [eb("project", "=", f.project)];
          if (f.annotator !== undefined) conds.push(eb("annotator", "=", f.annotator));
          if (f.itemId !== undefined) conds.push(eb("item_id", "=", f.itemId));
          if (after) conds.push(eb(eb.refTuple("created_at", "annotator", "item_id"), ">", eb.tuple(after[0], after[1], after[2])));
          return eb.and(conds);
        })
        .orderBy("created_at")
        .orderBy("annotator")
        .orderBy("item_id")
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      const out: Page<Assignment> = {
        records: page.map((r) => ({ project: r.project, annotator: r.annotator, itemId: r.item_id, createdAt: isoOf(r.created_at) })),
      };
      const last = page[page.length - 1];
      if (rows.length > limit && last) out.nextCursor = encodeAssignmentCursor(last);
      return out;
    },
    async assigned(project, annotator, itemIds) {
      return assignedIn(db(), project, annotator, itemIds);
    },
  };
}
