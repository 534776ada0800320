/**
 * `Store.write`: validate a batch, check its references, then store it in one
 * transaction (all or nothing), idempotently.
 */
import { type Kysely, sql } from "kysely";
import { ConflictError, NotFoundError, ValidationError, type FieldIssue } from "../errors.js";
import type { Feedback, Generation, Item } from "../feedback/schema.js";
import { checkAgainstOutputs, parseFeedback, parseGeneration, parseItem } from "../feedback/index.js";
import { badKeyString, bodyOf, canonicalJson, chunks, msOfTimestamp, num } from "./codec.js";
import { markForRules } from "./rule-match.js";
import type { Database, Engine } from "./tables.js";
import type { KindReport, RecordKind, WriteBatch, WriteOptions, WriteOutcome, WriteReport } from "./types.js";

/** A record refers to an item or generation that is neither stored nor in the batch. */
export class MissingReferenceError extends NotFoundError {
  /** The referring record's locator (e.g. "line 17"). */
  readonly record?: string;
  /** The referring field, e.g. `itemId` or `targets.1`. */
  readonly path: string;
  readonly refKind: "item" | "generation";
  readonly project: string;
  readonly refId: string;
  constructor(args: { what: RecordKind; record?: string; path: string; refKind: "item" | "generation"; project: string; refId: string }) {
    const where = args.record ? `${args.what} ${args.record}` : args.what;
    super(
      `${where}: ${args.path}: ${args.refKind} "${args.refId}" does not exist in project "${args.project}" ` +
        `(neither stored nor in this batch)`,
      { code: "missing_reference" },
    );
    this.name = "MissingReferenceError";
    this.record = args.record;
    this.path = args.path;
    this.refKind = args.refKind;
    this.project = args.project;
    this.refId = args.refId;
  }
}

/** The same (project, id) was sent with a different body. */
export class RecordConflictError extends ConflictError {
  readonly record?: string;
  readonly kind: RecordKind;
  readonly project: string;
  readonly id: string;
  /** Top-level fields that differ. */
  readonly fields: string[];
  /** The record clashes with one already stored (not with another record of the same batch). */
  readonly stored: boolean;
  constructor(args: { kind: RecordKind; record?: string; project: string; id: string; fields: string[]; other?: string }) {
    const where = args.record ? `${args.kind} ${args.record}` : args.kind;
    const against = args.other ? `is repeated in this batch (${args.other}) with` : `already exists in project "${args.project}" with`;
    const diff = args.fields.length ? ` (differs in: ${args.fields.join(", ")})` : "";
    super(`${where}: id "${args.id}" ${against} a different body${diff}`);
    this.name = "RecordConflictError";
    this.record = args.record;
    this.kind = args.kind;
    this.project = args.project;
    this.id = args.id;
    this.fields = args.fields;
    this.stored = args.other === undefined;
  }
}

export interface WriteContext {
  engine: Engine;
  /** Runs `fn` in one write transaction. */
  inTransaction<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T>;
}

interface Entry<T> {
  kind: RecordKind;
  index: number;
  label: string;
  rec: T;
  project: string;
  id: string;
  key: string;
  body: Record<string, unknown>;
  /** JSON.stringify(body), as stored. */
  bodyJson: string;
  /** Canonical JSON of body (sorted keys), computed on first use. */
  canon: () => string;
  createdAtMs: number | undefined;
  /** The first record of the batch with the same key, when this one repeats it. */
  dupOf?: Entry<T>;
  /** Already stored with an identical body. */
  stored?: boolean;
}

type StoredRow = { project: string; id: string; body: string; created_at: number | string };

const PLURAL: Record<RecordKind, keyof WriteBatch> = { item: "items", generation: "generations", feedback: "feedback" };
const defaultLabel = (kind: RecordKind, index: number) => `${PLURAL[kind]}[${index}]`;

const keyOf = (project: string, id: string) => `${project}\u0000${id}`;

/** Ids per `IN (...)` list; well under SQLite's 32766 and PostgreSQL's 65535 bound parameters. */
const IN_CHUNK = 1000;
/**
 * PostgreSQL checks each foreign key of an inserted row with a plan it caches on the connection. A plan made while
 * the referenced table was tiny (a pooled connection's earlier small writes) scans that table: harmless then, but
 * a large write reusing it scans the whole growing table once per row (16,000 feedback took 25 s instead of 2).
 * A write of this many records or more first discards the connection's cached plans, so its checks are planned
 * against the tables as they are now, whose parents this write fills before their children.
 */
const REPLAN_AT = 500;

function maxParams(engine: Engine): number {
  return engine === "postgres" ? 60_000 : 30_000;
}

function rowsPerInsert(engine: Engine, columns: number): number {
  return Math.max(1, Math.min(2000, Math.floor(maxParams(engine) / columns)));
}

function checkKeys(kind: RecordKind, label: string, fields: [string, string | undefined][]): void {
  const issues: FieldIssue[] = [];
  for (const [path, value] of fields) {
    if (value === undefined) continue;
    const bad = badKeyString(value);
    if (bad) issues.push({ path, message: bad });
  }
  if (issues.length) throw new ValidationError(issues, label, kind);
}

function makeEntry<T extends { id: string; project: string; createdAt?: string }>(
  kind: RecordKind,
  index: number,
  label: string,
  rec: T,
): Entry<T> {
  const body = bodyOf(rec) as Record<string, unknown>;
  let createdAtMs: number | undefined;
  if (rec.createdAt !== undefined) {
    createdAtMs = msOfTimestamp(rec.createdAt);
    if (!Number.isFinite(createdAtMs)) {
      throw new ValidationError([{ path: "createdAt", message: "is not a representable date-time" }], label, kind);
    }
  }
  const bodyJson = JSON.stringify(body);
  let canon: string | undefined;
  return {
    kind,
    index,
    label,
    rec,
    project: rec.project,
    id: rec.id,
    key: keyOf(rec.project, rec.id),
    body,
    bodyJson,
    canon: () => (canon ??= canonicalJson(JSON.parse(bodyJson))),
    createdAtMs,
  };
}

function diffFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonicalJson(a[k] ?? null) !== canonicalJson(b[k] ?? null));
}

function timesMatch(a: number | undefined, b: number | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

/** Keeps the first record of each key; identical repeats point to it, differing ones throw. */
function dedupe<T>(entries: Entry<T>[]): Map<string, Entry<T>> {
  const first = new Map<string, Entry<T>>();
  for (const e of entries) {
    const f = first.get(e.key);
    if (!f) {
      first.set(e.key, e);
      continue;
    }
    if ((f.bodyJson !== e.bodyJson && f.canon() !== e.canon()) || !timesMatch(f.createdAtMs, e.createdAtMs)) {
      const fields = diffFields(f.body, e.body);
      if (!timesMatch(f.createdAtMs, e.createdAtMs)) fields.push("createdAt");
      throw new RecordConflictError({ kind: e.kind, record: e.label, project: e.project, id: e.id, fields, other: f.label });
    }
    e.dupOf = f;
    if (f.createdAtMs === undefined) f.createdAtMs = e.createdAtMs;
  }
  return first;
}

function compareStored<T>(entries: Iterable<Entry<T>>, stored: Map<string, StoredRow>): void {
  for (const e of entries) {
    const row = stored.get(e.key);
    if (!row) continue;
    const storedMs = num(row.created_at);
    // Fast path: the same input serialises to the very string we stored.
    const sameBody = row.body === e.bodyJson || canonicalJson(JSON.parse(row.body)) === e.canon();
    if (!sameBody || !timesMatch(e.createdAtMs, storedMs)) {
      const storedBody = JSON.parse(row.body) as Record<string, unknown>;
      const fields = diffFields(storedBody, e.body);
      if (!timesMatch(e.createdAtMs, storedMs)) fields.push("createdAt");
      throw new RecordConflictError({ kind: e.kind, record: e.label, project: e.project, id: e.id, fields });
    }
    e.stored = true;
  }
}

function groupByProject(keys: Iterable<{ project: string; id: string }>): Map<string, string[]> {
  const m = new Map<string, Set<string>>();
  for (const { project, id } of keys) {
    let s = m.get(project);
    if (!s) m.set(project, (s = new Set()));
    s.add(id);
  }
  return new Map([...m].map(([p, s]) => [p, [...s]]));
}

async function fetchStored(
  db: Kysely<Database>,
  table: "items" | "generations" | "feedback",
  keys: Iterable<{ project: string; id: string }>,
): Promise<Map<string, StoredRow>> {
  const out = new Map<string, StoredRow>();
  for (const [project, ids] of groupByProject(keys)) {
    for (const chunk of chunks(ids, IN_CHUNK)) {
      const rows = await db
        .selectFrom(table as "items")
        .select(["project", "id", "body", "created_at"])
        .where("project", "=", project)
        .where("id", "in", chunk)
        .execute();
      for (const r of rows) out.set(keyOf(r.project, r.id), r);
    }
  }
  return out;
}

async function fetchItemKeys(db: Kysely<Database>, keys: Iterable<{ project: string; id: string }>): Promise<Set<string>> {
  const out = new Set<string>();
  for (const [project, ids] of groupByProject(keys)) {
    for (const chunk of chunks(ids, IN_CHUNK)) {
      const rows = await db.selectFrom("items").select(["project", "id"]).where("project", "=", project).where("id", "in", chunk).execute();
      for (const r of rows) out.add(keyOf(r.project, r.id));
    }
  }
  return out;
}

interface GenRef {
  itemId: string;
  output?: string;
}

async function fetchGenerationRefs(
  db: Kysely<Database>,
  keys: Iterable<{ project: string; id: string }>,
  withOutput: Set<string>,
): Promise<Map<string, GenRef>> {
  const out = new Map<string, GenRef>();
  for (const [project, ids] of groupByProject(keys)) {
    for (const chunk of chunks(ids, IN_CHUNK)) {
      const rows = await db
        .selectFrom("generations")
        .select(["project", "id", "item_id"])
        .where("project", "=", project)
        .where("id", "in", chunk)
        .execute();
      for (const r of rows) out.set(keyOf(r.project, r.id), { itemId: r.item_id });
    }
  }
  // Outputs only where a span check needs them (they can be large).
  const needOutput = [...withOutput].filter((k) => out.has(k)).map((k) => {
    const [project, id] = k.split("\u0000") as [string, string];
    return { project, id };
  });
  for (const [project, ids] of groupByProject(needOutput)) {
    for (const chunk of chunks(ids, IN_CHUNK)) {
      const rows = await db
        .selectFrom("generations")
        .select(["project", "id", "body"])
        .where("project", "=", project)
        .where("id", "in", chunk)
        .execute();
      for (const r of rows) {
        const ref = out.get(keyOf(r.project, r.id));
        if (ref) ref.output = (JSON.parse(r.body) as { output: string }).output;
      }
    }
  }
  return out;
}

function arrayOf(batch: WriteBatch, field: keyof WriteBatch): unknown[] {
  const v = batch[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError([{ path: field, message: "must be an array" }], undefined, "batch");
  return v;
}

function report<T>(entries: Entry<T>[]): KindReport {
  const outcomes: WriteOutcome[] = entries.map((e) => (e.dupOf || e.stored ? "existing" : "inserted"));
  const inserted = outcomes.filter((o) => o === "inserted").length;
  return { inserted, existing: outcomes.length - inserted, outcomes };
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE";
}

/**
 * `provenance.queueId` marks the new feedback records as submitted through that annotation queue (only the
 * queue store's submission passes it: no record field can set it).
 */
export async function writeBatch(ctx: WriteContext, batch: WriteBatch, opts: WriteOptions = {}, provenance: { queueId?: string } = {}): Promise<WriteReport> {
  if (batch === null || typeof batch !== "object") {
    throw new ValidationError([{ path: "", message: "a batch must be an object { items?, generations?, feedback? }" }], undefined, "batch");
  }
  const label = opts.label ?? defaultLabel;

  // 1. Validate every record before touching the database.
  const items = arrayOf(batch, "items").map((x, i) => {
    const l = label("item", i);
    const rec = opts.parsed ? (x as Item) : parseItem(x, l);
    checkKeys("item", l, [
      ["id", rec.id],
      ["project", rec.project],
      ["dataset", rec.dataset],
    ]);
    return makeEntry<Item>("item", i, l, rec);
  });
  const generations = arrayOf(batch, "generations").map((x, i) => {
    const l = label("generation", i);
    const rec = opts.parsed ? (x as Generation) : parseGeneration(x, l);
    checkKeys("generation", l, [
      ["id", rec.id],
      ["project", rec.project],
      ["itemId", rec.itemId],
      ["policy", rec.policy],
    ]);
    return makeEntry<Generation>("generation", i, l, rec);
  });
  const feedbackParsed = arrayOf(batch, "feedback").map((x, i) => {
    const l = label("feedback", i);
    const rec = opts.parsed ? (x as Feedback) : parseFeedback(x, l);
    checkKeys("feedback", l, [
      ["id", rec.id],
      ["project", rec.project],
      ["itemId", rec.itemId],
      ["source.id", rec.source.id],
      ...rec.targets.map((t, j): [string, string] => [`targets.${j}`, t]),
    ]);
    return { index: i, label: l, rec };
  });

  const itemFirst = dedupe(items);
  const genFirst = dedupe(generations);
  const recordedAt = Date.now();

  const bulk = ctx.engine === "postgres" && items.length + generations.length + feedbackParsed.length >= REPLAN_AT;
  const run = async (db: Kysely<Database>): Promise<Entry<Feedback>[]> => {
    if (bulk) await sql`discard plans`.execute(db);
    // 2. Items: identical re-writes are no-ops, differing ones conflict.
    compareStored(itemFirst.values(), await fetchStored(db, "items", itemFirst.values()));

    // 3. Generations: their item must be stored or in the batch.
    const missingItems = [...genFirst.values()]
      .filter((g) => !itemFirst.has(keyOf(g.project, g.rec.itemId)))
      .map((g) => ({ project: g.project, id: g.rec.itemId }));
    const storedItemKeys = missingItems.length ? await fetchItemKeys(db, missingItems) : new Set<string>();
    for (const g of generations) {
      const k = keyOf(g.project, g.rec.itemId);
      if (!itemFirst.has(k) && !storedItemKeys.has(k)) {
        throw new MissingReferenceError({ what: "generation", record: g.label, path: "itemId", refKind: "item", project: g.project, refId: g.rec.itemId });
      }
    }
    compareStored(genFirst.values(), await fetchStored(db, "generations", genFirst.values()));

    // 4. Feedback: targets stored or in the batch, all answering one item; spans inside the output.
    const wantRefs: { project: string; id: string }[] = [];
    const wantOutput = new Set<string>();
    for (const f of feedbackParsed) {
      for (const t of f.rec.targets) {
        const k = keyOf(f.rec.project, t);
        if (genFirst.has(k)) continue;
        wantRefs.push({ project: f.rec.project, id: t });
        if (f.rec.kind === "spans") wantOutput.add(k);
      }
    }
    const storedGens = wantRefs.length ? await fetchGenerationRefs(db, wantRefs, wantOutput) : new Map<string, GenRef>();
    const genRef = (project: string, id: string): GenRef | undefined => {
      const k = keyOf(project, id);
      const b = genFirst.get(k);
      return b ? { itemId: b.rec.itemId, output: b.rec.output } : storedGens.get(k);
    };

    const feedback = feedbackParsed.map(({ index, label: l, rec }) => {
      const refs = rec.targets.map((t, j) => {
        const ref = genRef(rec.project, t);
        if (!ref) {
          throw new MissingReferenceError({ what: "feedback", record: l, path: `targets.${j}`, refKind: "generation", project: rec.project, refId: t });
        }
        return ref;
      });
      const itemId = rec.itemId ?? (refs[0] as GenRef).itemId;
      refs.forEach((ref, j) => {
        if (ref.itemId !== itemId) {
          const path = rec.itemId !== undefined ? "itemId" : `targets.${j}`;
          const message =
            rec.itemId !== undefined
              ? `is "${itemId}" but target ${j} ("${rec.targets[j]}") answers item "${ref.itemId}"`
              : `generation "${rec.targets[j]}" answers item "${ref.itemId}" but targets.0 answers "${itemId}"; all targets must answer the same item`;
          throw new ValidationError([{ path, message }], l, "feedback");
        }
      });
      checkAgainstOutputs(rec, (gid) => genRef(rec.project, gid)?.output, l);
      const resolved = (rec.itemId === undefined ? insertAfter(rec, "project", "itemId", itemId) : rec) as Feedback;
      return makeEntry<Feedback>("feedback", index, l, resolved);
    });
    const fbFirst = dedupe(feedback);
    compareStored(fbFirst.values(), await fetchStored(db, "feedback", fbFirst.values()));

    // 5. Insert what is new, parents first.
    const created = (e: Entry<unknown>) => e.createdAtMs ?? recordedAt;
    const newItems = [...itemFirst.values()].filter((e) => !e.stored);
    for (const chunk of chunks(newItems, rowsPerInsert(ctx.engine, 6))) {
      await db
        .insertInto("items")
        .values(
          chunk.map((e) => ({
            project: e.project,
            id: e.id,
            dataset: e.rec.dataset ?? null,
            body: e.bodyJson,
            created_at: created(e),
            recorded_at: recordedAt,
          })),
        )
        .execute();
    }
    const newGens = [...genFirst.values()].filter((e) => !e.stored);
    for (const chunk of chunks(newGens, rowsPerInsert(ctx.engine, 7))) {
      await db
        .insertInto("generations")
        .values(
          chunk.map((e) => ({
            project: e.project,
            id: e.id,
            item_id: e.rec.itemId,
            policy: e.rec.policy,
            body: e.bodyJson,
            created_at: created(e),
            recorded_at: recordedAt,
          })),
        )
        .execute();
    }
    // Rules on live traffic: the evaluations these generations make are committed with them.
    await markForRules(db, newGens.map((e) => e.rec), (project, itemId) => {
      const it = itemFirst.get(keyOf(project, itemId));
      return it ? (it.rec.dataset ?? null) : undefined;
    }, recordedAt);
    const newFb = [...fbFirst.values()].filter((e) => !e.stored);
    for (const chunk of chunks(newFb, rowsPerInsert(ctx.engine, 10))) {
      await db
        .insertInto("feedback")
        .values(
          chunk.map((e) => ({
            project: e.project,
            id: e.id,
            kind: e.rec.kind,
            item_id: e.rec.itemId as string,
            source_type: e.rec.source.type,
            source_id: e.rec.source.id,
            body: e.bodyJson,
            created_at: created(e),
            recorded_at: recordedAt,
            queue_id: provenance.queueId ?? null,
          })),
        )
        .execute();
    }
    const targetRows = newFb.flatMap((e) =>
      e.rec.targets.map((g, position) => ({ project: e.project, feedback_id: e.id, position, generation_id: g })),
    );
    for (const chunk of chunks(targetRows, rowsPerInsert(ctx.engine, 4))) {
      await db.insertInto("feedback_targets").values(chunk).execute();
    }
    return feedback;
  };

  // A concurrent writer (PostgreSQL) may insert one of our ids between our check and our insert;
  // the transaction then fails on the primary key and is rolled back. Run it again: the
  // check now sees that record (identical → existing, different → conflict).
  let feedback: Entry<Feedback>[] | undefined;
  for (let attempt = 1; feedback === undefined; attempt++) {
    for (const e of [...items, ...generations]) e.stored = false;
    try {
      feedback = await ctx.inTransaction(run);
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      if (attempt >= 5) {
        throw new ConflictError("other writers kept storing some of these records at the same time; retry the write");
      }
    }
  }

  return {
    items: report(items),
    generations: report(generations),
    feedback: report(feedback),
    recordedAt: new Date(recordedAt).toISOString(),
  };
}

/** A copy of `o` with `key: value` placed right after `after` (keeps records in schema order). */
function insertAfter<T extends object>(o: T, after: string, key: string, value: unknown): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    out[k] = v;
    if (k === after) out[key] = value;
  }
  if (!(key in out)) out[key] = value;
  return out as T;
}
