/**
 * Deterministic ids: a prefix (`it_`, `gen_`, `fb_`) and a truncated sha256 of a
 * canonical form of the content, so importing the same content twice yields the same ids.
 */
import { createHash } from "node:crypto";

/** Hex characters kept from the sha256 (96 bits). */
export const ID_HASH_LENGTH = 24;

/**
 * Append a canonical, unambiguous serialization of `value` to `out`: strings are length-prefixed (no escaping
 * pass over long outputs), object keys sorted, undefined members dropped. The pieces are hashed as one string:
 * every boundary between pieces is an ASCII character, so this is byte for byte what feeding the pieces to
 * the hash one by one gives, with one call into the hash instead of dozens.
 */
function serialize(out: string[], value: unknown): void {
  if (typeof value === "string") {
    out.push(`s${value.length}:`, value);
  } else if (value === null || value === undefined || typeof value !== "object") {
    out.push(`v${JSON.stringify(value) ?? "null"};`);
  } else if (Array.isArray(value)) {
    out.push(`a${value.length}[`);
    for (const v of value) serialize(out, v);
    out.push("]");
  } else {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined && typeof obj[k] !== "function")
      .sort();
    out.push(`o${keys.length}{`);
    for (const k of keys) {
      serialize(out, k);
      serialize(out, obj[k]);
    }
    out.push("}");
  }
}

/** Truncated sha256 (hex) of `value`'s canonical form: equal JSON values (up to key order) hash equal. */
export function contentHash(value: unknown): string {
  const out: string[] = [];
  serialize(out, value);
  return createHash("sha256").update(out.join("")).digest("hex").slice(0, ID_HASH_LENGTH);
}

/** Item id from its project and prompt only, so one prompt read from many files is one item. */
export function itemIdFor(project: string, prompt: unknown): string {
  return `it_${contentHash({ project, prompt })}`;
}

/**
 * Generation id from its whole body (without `id`). `copy` > 0 tells apart two generations with identical
 * bodies that must stay distinct (both sides of a pair with the same output).
 */
export function generationIdFor(body: Record<string, unknown>, copy = 0): string {
  return `gen_${contentHash(copy > 0 ? { ...body, id: undefined, copy } : { ...body, id: undefined })}`;
}

/**
 * Feedback id from its whole body (without `id`) and the occurrence index of that same body in the file,
 * so re-reading a file gives the same ids while two identical rows stay two records.
 */
export function feedbackIdFor(body: Record<string, unknown>, occurrence = 0): string {
  return feedbackIdFromHash(contentHash({ ...body, id: undefined }), occurrence);
}

/** `feedbackIdFor` from the body's `contentHash` (computed once when it also keys the occurrence count). */
export function feedbackIdFromHash(bodyHash: string, occurrence = 0): string {
  return occurrence > 0 ? `fb_${contentHash({ body: bodyHash, occurrence })}` : `fb_${bodyHash}`;
}

/** Counts how often each key was seen: `next(key)` returns 0 the first time, 1 the second... */
export class OccurrenceCounter {
  private readonly seen = new Map<string, number>();
  next(key: string): number {
    const n = this.seen.get(key) ?? 0;
    this.seen.set(key, n + 1);
    return n;
  }
}
