/**
 * Conversions between records and rows: canonical JSON, times, cursors.
 */
import { ValidationError } from "../errors.js";
import { type Feedback, type Generation, type Item, TIME_FORMAT_MESSAGE, isoTimeMs } from "../feedback/schema.js";
import type { TimeInput } from "./types.js";

/** A JSON value with object keys sorted, as a string: equal bodies give equal strings. */
export function canonicalJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) return "null";
  return JSON.stringify(sortKeys(JSON.parse(json)));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    // Null prototype: a key such as "__proto__" in metadata stays an ordinary key.
    const out: Record<string, unknown> = Object.create(null);
    for (const k of Object.keys(o).sort()) out[k] = sortKeys(o[k]);
    return out;
  }
  return v;
}

/** BIGINT from either driver (pg returns int8 as a string). */
export function num(v: number | string | bigint): number {
  return typeof v === "number" ? v : Number(v);
}

export function isoOf(ms: number | string): string {
  return new Date(num(ms)).toISOString();
}

export function msOfTimestamp(ts: string): number {
  return Date.parse(ts);
}


export { TIME_FORMAT_MESSAGE, isoTimeMs };

export function timeToMs(t: TimeInput, field: string): number {
  let ms: number | undefined;
  let message = `${TIME_FORMAT_MESSAGE}, epoch milliseconds or a Date`;
  if (t instanceof Date) ms = t.getTime();
  else if (typeof t === "number") ms = t;
  else if (typeof t === "string") {
    ms = isoTimeMs(t);
    message = `${TIME_FORMAT_MESSAGE}; got ${JSON.stringify(t.length > 60 ? `${t.slice(0, 60)}…` : t)}`;
  }
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw new ValidationError([{ path: field, message }], undefined, "filter");
  }
  return Math.trunc(ms);
}

// ---------------------------------------------------------------- cursors ---

export interface CursorPos {
  recordedAt: number;
  id: string;
}

export function encodeCursor(p: CursorPos): string {
  return Buffer.from(JSON.stringify([p.recordedAt, p.id]), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): CursorPos {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === "string") {
      return { recordedAt: v[0] as number, id: v[1] as string };
    }
  } catch {
    // fall through
  }
  throw new ValidationError([{ path: "cursor", message: "is not a cursor this store returned" }], undefined, "filter");
}

// ------------------------------------------------------------- key checks ---

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Strings stored in plain key/filter columns must survive both engines
 * unchanged: PostgreSQL rejects NUL in text, and lone surrogates would be
 * replaced by U+FFFD on the way to UTF-8. Returns a message or undefined.
 */
export function badKeyString(s: string): string | undefined {
  if (s.includes("\u0000")) return "must not contain the NUL character (U+0000)";
  if (LONE_SURROGATE.test(s)) return "must be well-formed Unicode (no lone surrogates)";
  return undefined;
}

// -------------------------------------------------------------- row codec ---

type Body<T> = Omit<T, "id" | "project" | "createdAt">;

/** Everything but project, id and createdAt (those live in their own columns). */
export function bodyOf<T extends { id: string; project: string; createdAt?: string }>(r: T): Body<T> {
  const { id: _id, project: _project, createdAt: _createdAt, ...body } = r;
  return body;
}

function fromRow<T>(row: { project: string; id: string; body: string; created_at: number | string }): T {
  return { id: row.id, project: row.project, ...JSON.parse(row.body), createdAt: isoOf(row.created_at) } as T;
}

export const itemFromRow = (row: { project: string; id: string; body: string; created_at: number | string }): Item =>
  fromRow<Item>(row);
export const generationFromRow = (row: {
  project: string;
  id: string;
  body: string;
  created_at: number | string;
}): Generation => fromRow<Generation>(row);
export const feedbackFromRow = (row: {
  project: string;
  id: string;
  body: string;
  created_at: number | string;
}): Feedback => fromRow<Feedback>(row);

export function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
