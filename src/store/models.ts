/**
 * Records kept for learning from feedback (src/learn):
 *
 * - **models** (table `models`): versioned model artifacts such as trained reward models. Each save of a
 *   name makes the next version (1, 2, ...); the body is the artifact's JSON, kept whole, beside a small
 *   summary (kind, metrics, seed, training query) that lists read without loading the body;
 * - **vector cache** (table `vector_cache`): vectors (embeddings) under a namespace (e.g. the embedding
 *   model) and a key (e.g. a hash of the text), so that featurizing the same text twice calls the endpoint once.
 */
import type { Kysely } from "kysely";
import { ValidationError } from "../errors.js";
import { DEFAULT_PROJECT, Id } from "../feedback/schema.js";
import { badKeyString, chunks, isoOf } from "./codec.js";
import type { Database } from "./tables.js";

// ---------------------------------------------------------------- models ---

/** A stored model version without its body. */
export interface ModelInfo {
  project: string;
  name: string;
  /** 1 for the first save of a name in a project, then 2, 3, ... */
  version: number;
  /** What the artifact is, e.g. "reward-model". */
  kind: string;
  /** Small JSON summary kept beside the body (metrics, seed, training query...). */
  summary: Record<string, unknown>;
  createdAt: string;
}

export interface StoredModel extends ModelInfo {
  /** The artifact, as saved (any JSON value). */
  body: unknown;
}

export interface SaveModelInput {
  /** Default "default". */
  project?: string;
  name: string;
  kind: string;
  body: unknown;
  summary?: Record<string, unknown>;
}

export interface ModelStore {
  /** Save `body` as the next version of `name` (in one transaction). */
  save(input: SaveModelInput): Promise<ModelInfo>;
  /** One version of a model, or its latest version when `version` is omitted; undefined when there is none. */
  get(project: string, name: string, version?: number): Promise<StoredModel | undefined>;
  /** Stored versions, newest first within a name, names sorted; filtered by kind and/or name. */
  list(filter?: { project?: string; kind?: string; name?: string }): Promise<ModelInfo[]>;
  /** Delete one version, or every version of `name` when `version` is omitted; returns how many were deleted. */
  remove(project: string, name: string, version?: number): Promise<number>;
}

function checkId(path: string, value: unknown, what: string): asserts value is string {
  const r = Id.safeParse(value);
  const bad = r.success ? badKeyString(value as string) : r.error.issues[0]?.message;
  if (bad) throw new ValidationError([{ path, message: bad }], undefined, what);
}

type ModelRow = {
  project: string;
  name: string;
  version: number | string;
  kind: string;
  summary: string;
  created_at: number | string;
};

function infoFromRow(r: ModelRow): ModelInfo {
  return {
    project: r.project,
    name: r.name,
    version: Number(r.version),
    kind: r.kind,
    summary: JSON.parse(r.summary) as Record<string, unknown>,
    createdAt: isoOf(r.created_at),
  };
}

type InTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

/** Model artifacts over `db` (reads) and `inTransaction` (writes). */
export function modelStore(db: () => Kysely<Database>, inTransaction: InTransaction): ModelStore {
  const INFO = ["project", "name", "version", "kind", "summary", "created_at"] as const;
  return {
    async save(input) {
      const project = input.project ?? DEFAULT_PROJECT;
      checkId("project", project, "model");
      checkId("name", input.name, "model");
      checkId("kind", input.kind, "model");
      let body: string;
      let summary: string;
      try {
        body = JSON.stringify(input.body);
        summary = JSON.stringify(input.summary ?? {});
      } catch (e) {
        throw new ValidationError([{ path: "body", message: `must be JSON-serialisable: ${(e as Error).message}` }], undefined, "model");
      }
      if (body === undefined) throw new ValidationError([{ path: "body", message: "is required" }], undefined, "model");
      for (let attempt = 0; ; attempt++) {
        try {
          return await inTransaction(async (d) => {
            const last = await d
              .selectFrom("models")
              .select((eb) => eb.fn.max("version").as("v"))
              .where("project", "=", project)
              .where("name", "=", input.name)
              .executeTakeFirst();
            const version = last?.v === null || last?.v === undefined ? 1 : Number(last.v) + 1;
            const row = { project, name: input.name, version, kind: input.kind, summary, body, created_at: Date.now() };
            await d.insertInto("models").values(row).execute();
            return infoFromRow(row);
          });
        } catch (e) {
          // Two concurrent saves (PostgreSQL, read committed) can pick the same version: the loser retries.
          if (attempt < 5 && /unique|duplicate|primary key/i.test(String((e as Error).message))) continue;
          throw e;
        }
      }
    },
    async get(project, name, version) {
      let q = db()
        .selectFrom("models")
        .select([...INFO, "body"])
        .where("project", "=", project)
        .where("name", "=", name);
      q = version === undefined ? q.orderBy("version", "desc").limit(1) : q.where("version", "=", version);
      const r = await q.executeTakeFirst();
      if (!r) return undefined;
      return { ...infoFromRow(r), body: JSON.parse(r.body) as unknown };
    },
    async list(filter = {}) {
      let q = db()
        .selectFrom("models")
        .select([...INFO])
        .where("project", "=", filter.project ?? DEFAULT_PROJECT);
      if (filter.kind !== undefined) q = q.where("kind", "=", filter.kind);
      if (filter.name !== undefined) q = q.where("name", "=", filter.name);
      const rows = await q.orderBy("name").orderBy("version", "desc").execute();
      return rows.map(infoFromRow);
    },
    async remove(project, name, version) {
      return inTransaction(async (d) => {
        let q = d.deleteFrom("models").where("project", "=", project).where("name", "=", name);
        if (version !== undefined) q = q.where("version", "=", version);
        const r = await q.executeTakeFirst();
        return Number(r.numDeletedRows);
      });
    },
  };
}

// ---------------------------------------------------------- vector cache ---

export interface VectorCache {
  /** The cached vectors of those `keys` that are cached. */
  get(namespace: string, keys: readonly string[]): Promise<Map<string, Float32Array>>;
  /** Cache vectors (an existing key keeps its first vector). */
  put(namespace: string, entries: ReadonlyArray<{ key: string; vector: ArrayLike<number> }>): Promise<void>;
}

const encodeVector = (v: ArrayLike<number>): string => Buffer.from(Float32Array.from(v).buffer).toString("base64");

function decodeVector(s: string): Float32Array {
  const buf = Buffer.from(s, "base64");
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

/** The vector cache over `db` (reads) and `inTransaction` (writes). Vectors are kept as float32. */
export function vectorCache(db: () => Kysely<Database>, inTransaction: InTransaction): VectorCache {
  return {
    async get(namespace, keys) {
      const out = new Map<string, Float32Array>();
      for (const chunk of chunks([...new Set(keys)], 500)) {
        const rows = await db()
          .selectFrom("vector_cache")
          .select(["key", "vector"])
          .where("namespace", "=", namespace)
          .where("key", "in", chunk)
          .execute();
        for (const r of rows) out.set(r.key, decodeVector(r.vector));
      }
      return out;
    },
    async put(namespace, entries) {
      if (entries.length === 0) return;
      const seen = new Set<string>();
      const rows: Array<{ namespace: string; key: string; dim: number; vector: string; created_at: number }> = [];
      for (const e of entries) {
        if (seen.has(e.key)) continue;
        seen.add(e.key);
        for (let i = 0; i < e.vector.length; i++) {
          if (!Number.isFinite(e.vector[i]!)) {
            throw new ValidationError([{ path: `vector.${i}`, message: "must be a finite number" }], e.key, "cached vector");
          }
        }
        rows.push({ namespace, key: e.key, dim: e.vector.length, vector: encodeVector(e.vector), created_at: Date.now() });
      }
      await inTransaction(async (d) => {
        for (const chunk of chunks(rows, 200)) {
          await d
            .insertInto("vector_cache")
            .values(chunk)
            .onConflict((oc) => oc.columns(["namespace", "key"]).doNothing())
            .execute();
        }
      });
    },
  };
}
