/**
 * Searching a project's items: by text (the prompt or one of its outputs), dataset, metadata, the policies of
 * their outputs, their feedback (kind, source, a field of the value) and disagreement between their feedback.
 *
 * A search is bounded whatever it asks: each call examines at most `scan` items (in ingestion order, after the
 * cursor) and returns the matches among them; the cursor then says where to go on, so a rare match costs
 * several calls rather than one unbounded scan. Every condition is a lookup by item (indexed: items of a
 * project in order, generations and feedback by item, feedback by item and kind). Superseded feedback
 * (revised or adjudicated answers) is left out: searches see the latest answers.
 */
import { type Kysely, type RawBuilder, sql } from "kysely";
import { ValidationError } from "../errors.js";
import { FEEDBACK_KINDS, type FeedbackKind, type Item, SOURCE_TYPES, type SourceType } from "../feedback/schema.js";
import { decodeCursor, encodeCursor, itemFromRow, num } from "./codec.js";
import type { Database, Engine } from "./tables.js";

export const VALUE_OPS = ["=", "!=", "<", "<=", ">", ">="] as const;
export type ValueOp = (typeof VALUE_OPS)[number];
export const DISAGREEMENTS = ["any", "human-judge"] as const;
export type Disagreement = (typeof DISAGREEMENTS)[number];

/** Keys of metadata and value fields a search may name (plain: they become JSON paths). */
export const FIELD = /^[A-Za-z0-9_-]{1,64}$/;

export interface ItemSearch {
  /** Defaults to "default". */
  project?: string;
  /** Case-insensitive words (one phrase) in the item's prompt or in one of its outputs. */
  text?: string;
  dataset?: string;
  /** Items with an output of this policy. */
  policy?: string;
  /** A metadata key equal to a value, on the item or on one of its feedback records (e.g. queueId). */
  metadata?: { key: string; value: string };
  /** Items with one feedback record matching all of these. */
  feedback?: {
    kind?: FeedbackKind;
    sourceType?: SourceType;
    sourceId?: string;
    /** A field of the record's value: `score >= 4`, `choice = tie`, `ok = false`, `verdict = fail`. */
    value?: { field: string; op: ValueOp; value: string };
  };
  /**
   * Items whose feedback disagrees: pairwise verdicts on the same two outputs in both directions, or yes/no
   * verdicts on the same output both ways. `human-judge`: one side from a human, the other from a judge,
   * critic, verifier or simulated annotator.
   */
  disagreement?: Disagreement;
}

export interface SearchPage {
  records: Item[];
  /** Present when more items may match: pass it back as `cursor`. */
  nextCursor?: string;
  /** Items examined by this call. */
  scanned: number;
}

/** Items examined per call at most (and the default). */
export const MAX_SCAN = 5000;
export const DEFAULT_SCAN = 2000;
export const MAX_SEARCH_TEXT = 200;

export interface SearchStore {
  /** Items matching every condition given, oldest ingested first, at most `limit` (1..1000, default 25) per call. */
  items(search: ItemSearch, page?: { limit?: number; cursor?: string; scan?: number }): Promise<SearchPage>;
}

const invalid = (path: string, message: string) => new ValidationError([{ path, message }], undefined, "search");

/** JSON helpers that read the same on both engines (bodies are JSON text). */
function json(engine: Engine) {
  const path = (keys: string[]) => (engine === "postgres" ? `{${keys.join(",")}}` : `$.${keys.map((k) => (/^\d+$/.test(k) ? `[${k}]` : k)).join(".").replace(/\.\[/g, "[")}`);
  return {
    /** The value at `keys` as SQL text (strings unquoted; arrays and objects as JSON). */
    text: (col: string, keys: string[]): RawBuilder<string> =>
      engine === "postgres" ? sql<string>`((${sql.ref(col)})::jsonb #>> ${path(keys)})` : sql<string>`(${sql.ref(col)} ->> ${path(keys)})`,
    /** The value at `keys` as JSON text (`"x"`, `3`, `true`), to compare with a literal's JSON forms. */
    jsonText: (col: string, keys: string[]): RawBuilder<string> =>
      engine === "postgres" ? sql<string>`(((${sql.ref(col)})::jsonb #> ${path(keys)})::text)` : sql<string>`(${sql.ref(col)} -> ${path(keys)})`,
    /** The value at `keys` as a number when it is one, else NULL. */
    number: (col: string, keys: string[]): RawBuilder<number> =>
      engine === "postgres"
        ? sql<number>`(case when jsonb_typeof((${sql.ref(col)})::jsonb #> ${path(keys)}) = 'number' then ((${sql.ref(col)})::jsonb #>> ${path(keys)})::float8 end)`
        : sql<number>`(case when json_type(${sql.ref(col)}, ${path(keys)}) in ('integer', 'real') then cast(${sql.ref(col)} ->> ${path(keys)} as real) end)`,
  };
}

/** The JSON texts a literal typed in a search box may stand for: "3" is 3 or "3", "true" is true or "true". */
function jsonForms(v: string): string[] {
  const forms = [JSON.stringify(v)];
  if (v === "true" || v === "false" || v === "null") forms.push(v);
  else if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v) && Number.isFinite(Number(v))) {
    forms.push(String(Number(v)));
    if (!forms.includes(v)) forms.push(v);
  }
  return forms;
}

const like = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Not superseded by a later record (a revision or an adjudication). */
const latest = (alias: string) =>
  sql`not exists (select 1 from feedback_supersessions s where s.project = ${sql.ref(`${alias}.project`)} and s.feedback_id = ${sql.ref(`${alias}.id`)})`;

function checkSearch(s: ItemSearch): void {
  if (s.text !== undefined && (s.text.trim() === "" || s.text.length > MAX_SEARCH_TEXT)) throw invalid("text", `must be 1 to ${MAX_SEARCH_TEXT} characters`);
  if (s.metadata && !FIELD.test(s.metadata.key)) throw invalid("metadata", "the key must be 1-64 letters, digits, '_' or '-'");
  if (s.metadata && s.metadata.value.length > MAX_SEARCH_TEXT) throw invalid("metadata", `the value must be at most ${MAX_SEARCH_TEXT} characters`);
  const f = s.feedback;
  if (f?.kind !== undefined && !(FEEDBACK_KINDS as readonly string[]).includes(f.kind)) throw invalid("kind", `must be one of ${FEEDBACK_KINDS.join(", ")}`);
  if (f?.sourceType !== undefined && !(SOURCE_TYPES as readonly string[]).includes(f.sourceType)) throw invalid("sourceType", `must be one of ${SOURCE_TYPES.join(", ")}`);
  if (f?.value) {
    if (!FIELD.test(f.value.field)) throw invalid("value", "the field must be 1-64 letters, digits, '_' or '-'");
    if (!(VALUE_OPS as readonly string[]).includes(f.value.op)) throw invalid("value", `the comparison must be one of ${VALUE_OPS.join(" ")}`);
    if (f.value.op !== "=" && f.value.op !== "!=" && !Number.isFinite(Number(f.value.value))) throw invalid("value", `${f.value.op} compares numbers; "${f.value.value.slice(0, 40)}" is not one`);
    if (f.value.value.length > MAX_SEARCH_TEXT) throw invalid("value", `must be at most ${MAX_SEARCH_TEXT} characters`);
  }
  if (s.disagreement !== undefined && !(DISAGREEMENTS as readonly string[]).includes(s.disagreement)) throw invalid("disagreement", `must be one of ${DISAGREEMENTS.join(", ")}`);
}

/** The conditions on `items i` of a search, as SQL. */
function conditions(engine: Engine, s: ItemSearch): RawBuilder<unknown>[] {
  const j = json(engine);
  const conds: RawBuilder<unknown>[] = [];
  if (s.text !== undefined) {
    const pat = like(s.text.trim());
    conds.push(
      sql`(lower(${j.text("i.body", ["prompt"])}) like ${pat} escape '\\' or exists (select 1 from generations g where g.project = i.project and g.item_id = i.id and lower(${j.text("g.body", ["output"])}) like ${pat} escape '\\'))`,
    );
  }
  if (s.policy !== undefined) conds.push(sql`exists (select 1 from generations g where g.project = i.project and g.item_id = i.id and g.policy = ${s.policy})`);
  if (s.metadata) {
    const forms = jsonForms(s.metadata.value);
    const key = s.metadata.key;
    conds.push(
      sql`(${j.jsonText("i.body", ["metadata", key])} in (${sql.join(forms)}) or exists (select 1 from feedback f where f.project = i.project and f.item_id = i.id and ${latest("f")} and ${j.jsonText("f.body", ["metadata", key])} in (${sql.join(forms)})))`,
    );
  }
  const f = s.feedback;
  if (f && (f.kind !== undefined || f.sourceType !== undefined || f.sourceId !== undefined || f.value)) {
    const parts: RawBuilder<unknown>[] = [sql`f.project = i.project`, sql`f.item_id = i.id`, latest("f")];
    if (f.kind !== undefined) parts.push(sql`f.kind = ${f.kind}`);
    if (f.sourceType !== undefined) parts.push(sql`f.source_type = ${f.sourceType}`);
    if (f.sourceId !== undefined) parts.push(sql`f.source_id = ${f.sourceId}`);
    if (f.value) {
      const { field, op, value } = f.value;
      if (op === "=" || op === "!=") {
        const forms = jsonForms(value);
        parts.push(op === "=" ? sql`${j.jsonText("f.body", ["value", field])} in (${sql.join(forms)})` : sql`${j.jsonText("f.body", ["value", field])} not in (${sql.join(forms)})`);
      } else {
        parts.push(sql`${j.number("f.body", ["value", field])} ${sql.raw(op)} ${Number(value)}`);
      }
    }
    conds.push(sql`exists (select 1 from feedback f where ${sql.join(parts, sql` and `)})`);
  }
  if (s.disagreement !== undefined) {
    const choice = (a: string) => j.text(`${a}.body`, ["value", "choice"]);
    const target = (a: string, k: number) => j.text(`${a}.body`, ["targets", String(k)]);
    const winner = (a: string) => sql`(case ${choice(a)} when 'first' then ${target(a, 0)} when 'second' then ${target(a, 1)} end)`;
    const loser = (a: string) => sql`(case ${choice(a)} when 'first' then ${target(a, 1)} when 'second' then ${target(a, 0)} end)`;
    const sides =
      s.disagreement === "human-judge"
        ? sql`a.source_type = 'human' and b.source_type in ('judge', 'critic', 'verifier', 'simulated')`
        : sql`a.id < b.id`;
    const pairwise = sql`(a.kind = 'pairwise' and b.kind = 'pairwise' and ${winner("a")} = ${loser("b")} and ${loser("a")} = ${winner("b")})`;
    const binary = sql`(a.kind = 'binary' and b.kind = 'binary' and ${target("a", 0)} = ${target("b", 0)} and ${j.jsonText("a.body", ["value", "ok"])} <> ${j.jsonText("b.body", ["value", "ok"])})`;
    conds.push(
      sql`exists (select 1 from feedback a join feedback b on b.project = a.project and b.item_id = a.item_id and b.kind = a.kind where a.project = i.project and a.item_id = i.id and a.kind in ('pairwise', 'binary') and ${sides} and ${latest("a")} and ${latest("b")} and (${pairwise} or ${binary}))`,
    );
  }
  return conds;
}

export function searchStore(engine: Engine, db: () => Kysely<Database>): SearchStore {
  return {
    async items(search, page = {}) {
      checkSearch(search);
      const limit = page.limit ?? 25;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid("limit", "must be an integer from 1 to 1000");
      const scan = page.scan ?? DEFAULT_SCAN;
      if (!Number.isInteger(scan) || scan < 1 || scan > MAX_SCAN) throw invalid("scan", `must be an integer from 1 to ${MAX_SCAN}`);
      const project = search.project ?? "default";
      const after = page.cursor !== undefined ? decodeCursor(page.cursor) : undefined;
      const d = db();
      // The window: the next `scan` items after the cursor (keys only, from the index).
      let w = d.selectFrom("items").select(["recorded_at", "id"]).where("project", "=", project);
      if (search.dataset !== undefined) w = w.where("dataset", "=", search.dataset);
      if (after) w = w.where((eb) => eb(eb.refTuple("recorded_at", "id"), ">", eb.tuple(after.recordedAt, after.id)));
      const window = await w.orderBy("recorded_at").orderBy("id").limit(scan).execute();
      if (window.length === 0) return { records: [], scanned: 0 };
      const last = window[window.length - 1]!;
      const lastPos = { recordedAt: num(last.recorded_at), id: last.id };
      const range: RawBuilder<unknown>[] = [sql`i.project = ${project}`, sql`(i.recorded_at, i.id) <= (${lastPos.recordedAt}, ${lastPos.id})`];
      if (after) range.push(sql`(i.recorded_at, i.id) > (${after.recordedAt}, ${after.id})`);
      if (search.dataset !== undefined) range.push(sql`i.dataset = ${search.dataset}`);
      const where = [...range, ...conditions(engine, search)];
      const rows = (
        await sql<{ project: string; id: string; body: string; created_at: number | string; recorded_at: number | string }>`select i.project, i.id, i.body, i.created_at, i.recorded_at from items i where ${sql.join(where, sql` and `)} order by i.recorded_at, i.id limit ${limit + 1}`.execute(d)
      ).rows;
      if (rows.length > limit) {
        const kept = rows.slice(0, limit);
        const end = kept[kept.length - 1]!;
        const endPos = { recordedAt: num(end.recorded_at), id: end.id };
        const scanned = window.findIndex((r) => r.id === end.id && num(r.recorded_at) === endPos.recordedAt) + 1;
        return { records: kept.map(itemFromRow), nextCursor: encodeCursor(endPos), scanned };
      }
      return { records: rows.map(itemFromRow), ...(window.length === scan ? { nextCursor: encodeCursor(lastPos) } : {}), scanned: window.length };
    },
  };
}
