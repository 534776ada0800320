/**
 * Checks on the raw rows of foreign formats, so errors name the file's own
 * columns (e.g. `rejected`, `generator_1`) rather than rlxf's fields.
 */
import { ValidationError } from "../errors.js";
import type { ChatMessage } from "../feedback/schema.js";

export type Row = Record<string, unknown>;

export function fail(path: string, message: string, label: string, what: string): never {
  throw new ValidationError([{ path, message }], label, what);
}

export function asRow(raw: unknown, label: string, what: string): Row {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    fail("", `must be a JSON object, got ${raw === null ? "null" : Array.isArray(raw) ? "an array" : typeof raw}`, label, what);
  }
  return raw as Row;
}

export function has(row: Row, key: string): boolean {
  return Object.hasOwn(row, key) && row[key] !== undefined && row[key] !== null;
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : typeof v;
}

export function requireString(row: Row, key: string, label: string, what: string, opts: { nonEmpty?: boolean } = {}): string {
  const v = row[key];
  if (v === undefined || v === null) fail(key, "required (a string)", label, what);
  if (typeof v !== "string") fail(key, `must be a string, got ${describe(v)}`, label, what);
  if (opts.nonEmpty && v.length === 0) fail(key, "must be a non-empty string", label, what);
  return v;
}

export function optionalString(row: Row, key: string, label: string, what: string): string | undefined {
  const v = row[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") fail(key, `must be a string, got ${describe(v)}`, label, what);
  return v;
}

/** A list of chat messages ({role, content} with string content); `path` names the column. */
export function asMessages(v: unknown, path: string, label: string, what: string): ChatMessage[] {
  if (!Array.isArray(v)) fail(path, `must be a list of chat messages, got ${describe(v)}`, label, what);
  return v.map((m, i) => {
    if (m === null || typeof m !== "object" || Array.isArray(m)) fail(`${path}.${i}`, "must be a chat message {role, content}", label, what);
    const msg = m as Row;
    if (typeof msg.role !== "string" || msg.role.length === 0) fail(`${path}.${i}.role`, "must be a non-empty string", label, what);
    if (typeof msg.content !== "string") {
      fail(`${path}.${i}.content`, `must be a string, got ${describe(msg.content)} (only text content is supported)`, label, what);
    }
    return { role: msg.role, content: msg.content };
  });
}

/** The entries of `row` whose keys are not in `known`, or undefined when there are none. */
export function extraColumns(row: Row, known: ReadonlySet<string>): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(row)) {
    if (known.has(key) || row[key] === undefined) continue;
    (out ??= {})[key] = row[key];
  }
  return out;
}
