/**
 * Items, generations and feedback: writes (one record or a batch, all or
 * nothing, idempotent by id) and reads (filtered pages, one by id).
 *
 * Scoping: every request works inside its key's project. A record may omit
 * `project` (the key's is filled in) or name the key's project; naming any
 * other project is a 404, as if that project did not exist. Annotate keys
 * see only the items assigned to them (and those items' generations), read
 * only their own feedback, and write feedback only as
 * `{type: "human", id: <key name>}`.
 */
import { randomUUID } from "node:crypto";
import type { Hono } from "hono";
import type { FieldIssue } from "../errors.js";
import type { Feedback, Generation, Item } from "../feedback/schema.js";
import type { ApiKey, RecordKind, Store } from "../store/index.js";
import { readJson } from "./body.js";
import { type Ctx, type Env, type Settings, charge, idParam, parseQuery, requireRole } from "./context.js";
import { ApiError, forbidden, notFound, zodIssues } from "./errors.js";
import { BatchEnvelope, ListFeedbackQuery, ListGenerationsQuery, ListItemsQuery, QUEUE_ID_PREFIX, RECORD_SCHEMAS, RESERVED_METADATA_KEYS } from "../api/index.js";

const MAX_ISSUES = 100;
const PLURAL = { item: "items", generation: "generations", feedback: "feedback" } as const;
const WRITE_ACTION = { item: "items.write", generation: "generations.write", feedback: "feedback.write" } as const;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

interface Parsed<T> {
  records: T[];
  isBatch: boolean;
}

/** One record or `{"batch": [...]}`, every record validated, scoped to the key's project. */
async function parseWrite<K extends RecordKind>(c: Ctx, s: Settings, kind: K, key: ApiKey): Promise<Parsed<unknown>> {
  const raw = await readJson(c.req.raw, s.maxBodyBytes);
  let inputs: unknown[];
  let isBatch = false;
  if (isObject(raw) && "batch" in raw) {
    isBatch = true;
    const env = BatchEnvelope(s.maxBatch).safeParse(raw);
    if (!env.success) {
      const tooMany = Array.isArray(raw.batch) && raw.batch.length > s.maxBatch;
      const issues = zodIssues(env.error);
      throw new ApiError(tooMany ? "batch_too_large" : "validation_failed", issues.map((i) => `${i.path}: ${i.message}`).join("; "), { issues });
    }
    inputs = env.data.batch;
  } else {
    inputs = [raw];
  }
  const prefix = (i: number) => (isBatch ? `batch.${i}` : "");
  const schema = RECORD_SCHEMAS[kind];
  const issues: FieldIssue[] = [];
  let firstBad: number | undefined;
  let badRecords = 0;
  const records: unknown[] = [];
  inputs.forEach((input, i) => {
    if (!isObject(input)) {
      issues.push({ path: prefix(i), message: `must be a JSON object (one ${kind})` });
      firstBad ??= i;
      badRecords++;
      return;
    }
    const rec: Record<string, unknown> = { ...input };
    if (typeof rec.project === "string" && rec.project !== key.project) {
      throw new ApiError("not_found", `project "${rec.project}" not found`, {
        issues: [{ path: [prefix(i), "project"].filter(Boolean).join("."), message: "no such project" }],
        ...(isBatch ? { record: prefix(i), index: i } : {}),
      });
    }
    if (rec.project === undefined) rec.project = key.project;
    if (rec.id === undefined) rec.id = randomUUID();
    if (kind === "feedback" && key.role === "annotate") asAnnotator(rec, key, prefix(i), isBatch ? i : undefined);
    const r = schema.safeParse(rec);
    const reserved = r.success ? serverOnly(kind, r.data as { id: string; metadata?: Record<string, unknown> }, prefix(i)) : [];
    if (r.success && reserved.length === 0) {
      records.push(r.data);
    } else if (r.success) {
      if (issues.length < MAX_ISSUES) issues.push(...reserved);
      firstBad ??= i;
      badRecords++;
    } else {
      if (issues.length < MAX_ISSUES) issues.push(...zodIssues(r.error, prefix(i)));
      firstBad ??= i;
      badRecords++;
    }
  });
  if (issues.length) {
    const shown = issues.slice(0, MAX_ISSUES);
    const where = isBatch ? `${badRecords} of ${inputs.length} records` : kind;
    const first = shown.map((i) => `${i.path || "(body)"}: ${i.message}`).slice(0, 3).join("; ");
    throw new ApiError("validation_failed", `invalid ${where}: ${first}${shown.length > 3 ? `; and ${issues.length - 3} more` : ""}`, {
      issues: shown,
      ...(isBatch && firstBad !== undefined ? { record: prefix(firstBad), index: firstBad } : {}),
    });
  }
  return { records, isBatch };
}

const RESERVED_KEYS: ReadonlySet<string> = new Set(RESERVED_METADATA_KEYS);

/**
 * What only the server writes: ids of queue submissions (feedback and the generations corrections make) and
 * the metadata keys a queue submission sets. No key sends them, so no record can pass for queue work.
 */
function serverOnly(kind: RecordKind, rec: { id: string; metadata?: Record<string, unknown> }, prefix: string): FieldIssue[] {
  const out: FieldIssue[] = [];
  const at = (p: string) => [prefix, p].filter(Boolean).join(".");
  if (kind !== "item" && rec.id.startsWith(QUEUE_ID_PREFIX)) {
    out.push({ path: at("id"), message: `ids starting with "${QUEUE_ID_PREFIX}" are reserved for what annotation queues store; choose another id` });
  }
  if (kind === "feedback" && rec.metadata) {
    for (const k of Object.keys(rec.metadata)) {
      if (RESERVED_KEYS.has(k)) out.push({ path: at(`metadata.${k}`), message: "is reserved: only a queue submission sets it (the server records which queue a record came through)" });
    }
  }
  return out;
}

/** Annotate keys give feedback as one human source: their key's name. */
function asAnnotator(rec: Record<string, unknown>, key: ApiKey, prefix: string, index: number | undefined): void {
  if (rec.source === undefined) {
    rec.source = { type: "human", id: key.name };
    return;
  }
  const src = rec.source as { type?: unknown; id?: unknown } | null;
  if (!isObject(src) || src.type !== "human" || src.id !== key.name) {
    throw new ApiError("forbidden", `an annotate key gives feedback as source {"type": "human", "id": "${key.name}"}; omit source or send that`, {
      issues: [{ path: [prefix, "source"].filter(Boolean).join("."), message: `must be {"type": "human", "id": "${key.name}"} or absent` }],
      ...(index !== undefined ? { record: prefix, index } : {}),
    });
  }
}

/**
 * An ingest key may send human feedback (an app's users are people), but not in the name of one of the
 * project's annotators or admins (the names of its annotate and admin keys, live or revoked): their feedback
 * comes from their own keys, and queue work is recognised by the server's mark, never by a name.
 */
async function notAsAnnotator(store: Store, key: ApiKey, records: Feedback[], isBatch: boolean): Promise<void> {
  if (!records.some((f) => f.source.type === "human")) return;
  const taken = new Set((await store.keys.list({ project: key.project, includeRevoked: true })).filter((k) => k.role === "annotate" || k.role === "admin").map((k) => k.name));
  records.forEach((f, i) => {
    if (f.source.type !== "human" || !taken.has(f.source.id)) return;
    const prefix = isBatch ? `batch.${i}` : "";
    throw new ApiError("forbidden", `${isBatch ? `feedback ${prefix}: ` : ""}"${f.source.id}" is an annotator of this project: an ingest key cannot give feedback in their name`, {
      issues: [{ path: [prefix, "source.id"].filter(Boolean).join("."), message: "names an annotator of this project (only their own key writes as them)" }],
      ...(isBatch ? { record: prefix, index: i } : {}),
    });
  });
}

/** Annotate keys only see generations of items assigned to them: others answer as missing references. */
async function checkAssigned(store: Store, key: ApiKey, records: Feedback[], isBatch: boolean): Promise<void> {
  const itemOf = new Map<string, string | undefined>();
  for (const f of records) {
    for (const t of f.targets) {
      if (!itemOf.has(t)) itemOf.set(t, (await store.getGeneration(key.project, t))?.itemId);
    }
  }
  const wanted = [...new Set([...itemOf.values(), ...records.map((f) => f.itemId)].filter((x): x is string => x !== undefined))];
  const assigned = await store.assignments.assigned(key.project, key.name, wanted);
  records.forEach((f, i) => {
    const prefix = isBatch ? `batch.${i}` : "";
    const refuse = (path: string, what: string) => {
      throw new ApiError("missing_reference", `${isBatch ? `feedback ${prefix}: ` : ""}${what} does not exist among the items assigned to "${key.name}"`, {
        issues: [{ path: [prefix, path].filter(Boolean).join("."), message: `${what} does not exist` }],
        ...(isBatch ? { record: prefix, index: i } : {}),
      });
    };
    if (f.itemId !== undefined && !assigned.has(f.itemId)) refuse("itemId", `item "${f.itemId}"`);
    f.targets.forEach((t, j) => {
      const item = itemOf.get(t);
      if (item !== undefined && !assigned.has(item)) refuse(`targets.${j}`, `generation "${t}"`);
    });
  });
}

/** A page weighs its size (the limit asked for, default 100). */
export const chargePage = (c: Ctx, s: Settings, limit: number | undefined) => charge(c, s, (limit ?? 100) * s.limits.costRow, `a page of ${limit ?? 100} records`);

async function write(c: Ctx, s: Settings, kind: RecordKind): Promise<Response> {
  const key = requireRole(c, WRITE_ACTION[kind]);
  const { records, isBatch } = await parseWrite(c, s, kind, key);
  await charge(c, s, records.length * s.limits.costRecord, `writing ${records.length} record(s)`);
  if (key.role === "annotate") await checkAssigned(s.store, key, records as Feedback[], isBatch);
  if (kind === "feedback" && key.role === "ingest") await notAsAnnotator(s.store, key, records as Feedback[], isBatch);
  if (!isBatch) {
    // One record: group-committed with other single-record requests running at the same time.
    const rec = records[0] as { id: string };
    const { outcome, recordedAt } = await s.coalescer.write(kind, rec);
    const inserted = outcome === "inserted" ? 1 : 0;
    if (kind === "generation" && inserted) void s.jobs.kickRules(key.project);
    return c.json({ results: [{ id: rec.id, status: outcome }], inserted, existing: 1 - inserted, recordedAt }, inserted ? 201 : 200);
  }
  const report = await s.store.write({ [PLURAL[kind]]: records }, { label: (_k, i) => `batch.${i}`, parsed: true });
  const r = report[PLURAL[kind]];
  // New generations may have pending evaluations of the project's rules (stored with them): run them soon.
  if (kind === "generation" && r.inserted > 0) void s.jobs.kickRules(key.project);
  const results = (records as { id: string }[]).map((rec, i) => ({ id: rec.id, status: r.outcomes[i] ?? "existing" }));
  return c.json({ results, inserted: r.inserted, existing: r.existing, recordedAt: report.recordedAt }, r.inserted > 0 ? 201 : 200);
}


export function recordRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;

  app.post("/v1/items", (c) => write(c, s, "item"));
  app.post("/v1/generations", (c) => write(c, s, "generation"));
  app.post("/v1/feedback", (c) => write(c, s, "feedback"));

  app.get("/v1/items", async (c) => {
    const key = c.get("key");
    if (key.role === "annotate") throw forbidden("an annotate key lists its items with GET /v1/assignments");
    requireRole(c, "items.list");
    const q = parseQuery(c, ListItemsQuery);
    await chargePage(c, s, q.limit);
    return c.json(await store.listItems({ ...q, project: key.project }));
  });

  app.get("/v1/items/:id{.+}", async (c) => {
    const key = requireRole(c, "items.read");
    const id = idParam(c);
    const item = await store.getItem(key.project, id);
    if (!item || !(await visibleItem(store, key, item))) throw notFound(`item "${id}" not found`);
    return c.json(item);
  });

  app.get("/v1/generations", async (c) => {
    const key = requireRole(c, "generations.read");
    const q = parseQuery(c, ListGenerationsQuery);
    await chargePage(c, s, q.limit);
    if (key.role === "annotate") {
      if (q.itemId === undefined) throw forbidden("an annotate key lists generations of one assigned item: pass itemId");
      if (!(await store.assignments.assigned(key.project, key.name, [q.itemId])).has(q.itemId)) throw notFound(`item "${q.itemId}" not found`);
    }
    return c.json(await store.listGenerations({ ...q, project: key.project }));
  });

  app.get("/v1/generations/:id{.+}", async (c) => {
    const key = requireRole(c, "generations.read");
    const id = idParam(c);
    const g: Generation | undefined = await store.getGeneration(key.project, id);
    if (!g || (key.role === "annotate" && !(await store.assignments.assigned(key.project, key.name, [g.itemId])).has(g.itemId))) {
      throw notFound(`generation "${id}" not found`);
    }
    return c.json(g);
  });

  app.get("/v1/feedback", async (c) => {
    const key = requireRole(c, "feedback.read");
    const q = parseQuery(c, ListFeedbackQuery);
    await chargePage(c, s, q.limit);
    if (key.role === "annotate") {
      if ((q.sourceType !== undefined && q.sourceType !== "human") || (q.sourceId !== undefined && q.sourceId !== key.name)) {
        throw forbidden(`an annotate key reads only its own feedback (source human/${key.name})`);
      }
      q.sourceType = "human";
      q.sourceId = key.name;
    }
    return c.json(await store.listFeedback({ ...q, project: key.project }));
  });

  app.get("/v1/feedback/:id{.+}", async (c) => {
    const key = requireRole(c, "feedback.read");
    const id = idParam(c);
    const f = await store.getFeedback(key.project, id);
    if (!f || (key.role === "annotate" && (f.source.type !== "human" || f.source.id !== key.name))) throw notFound(`feedback "${id}" not found`);
    return c.json(f);
  });
}

async function visibleItem(store: Store, key: ApiKey, item: Item): Promise<boolean> {
  if (key.role !== "annotate") return true;
  return (await store.assignments.assigned(key.project, key.name, [item.id])).has(item.id);
}
