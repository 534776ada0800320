/**
 * Reading a JSON request body safely: the content type must be JSON, the
 * size is bounded (checked against Content-Length first, then while
 * reading), the bytes must be UTF-8, the JSON well formed, not nested
 * absurdly deep, and free of `__proto__` keys (which JavaScript objects
 * cannot hold faithfully).
 */
import type { z } from "zod";
import { ApiError, zodIssues } from "./errors.js";

export const MAX_DEPTH = 64;

function isJsonContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  const mime = ct.split(";")[0]!.trim().toLowerCase();
  return mime === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(mime);
}

export async function readJson(req: Request, maxBytes: number): Promise<unknown> {
  const ct = req.headers.get("content-type") ?? undefined;
  if (!isJsonContentType(ct)) {
    throw new ApiError("unsupported_media_type", `send JSON with "Content-Type: application/json"${ct ? ` (got "${ct.slice(0, 100)}")` : " (no Content-Type given)"}`);
  }
  const charset = /;\s*charset\s*=\s*"?([^";]+)/i.exec(ct!)?.[1]?.trim().toLowerCase();
  if (charset && charset !== "utf-8" && charset !== "utf8") {
    throw new ApiError("unsupported_media_type", `JSON must be UTF-8 (got charset "${charset.slice(0, 50)}")`);
  }
  const enc = req.headers.get("content-encoding");
  if (enc && enc.trim().toLowerCase() !== "identity") {
    throw new ApiError("unsupported_media_type", `Content-Encoding "${enc.slice(0, 50)}" is not supported; send the body uncompressed`);
  }
  const tooLarge = () => new ApiError("payload_too_large", `the request body exceeds ${maxBytes} bytes; send smaller batches`);
  const declared = req.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge();

  const bytes = await readBounded(req, maxBytes, tooLarge);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError("invalid_json", "the request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new ApiError("invalid_json", "the request body is empty; send a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ApiError("invalid_json", `the request body is not valid JSON: ${(e as Error).message}`);
  }
  checkShape(value);
  return value;
}

async function readBounded(req: Request, maxBytes: number, tooLarge: () => ApiError): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      parts.push(value);
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    // The client went away mid-body: nothing to answer, but never a 5xx.
    throw new ApiError("incomplete_body", "the request body could not be read completely");
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Depth and `__proto__` check, iterative (a deeply nested body must not overflow the stack). */
function checkShape(root: unknown): void {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: root, depth: 0, path: "" }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= MAX_DEPTH) {
      throw new ApiError("validation_failed", `the request body is nested more than ${MAX_DEPTH} levels deep`, {
        issues: [{ path, message: `nested more than ${MAX_DEPTH} levels deep` }],
      });
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x !== null && typeof x === "object") stack.push({ v: x, depth: depth + 1, path: path ? `${path}.${i}` : String(i) });
      }
    } else {
      for (const k of Object.keys(v)) {
        const p = path ? `${path}.${k}` : k;
        if (k === "__proto__") {
          throw new ApiError("validation_failed", `"__proto__" is not allowed as a field name`, {
            issues: [{ path: p, message: `"__proto__" is not allowed as a field name` }],
          });
        }
        const x = (v as Record<string, unknown>)[k];
        if (x !== null && typeof x === "object") stack.push({ v: x, depth: depth + 1, path: p });
      }
    }
  }
}

/** A JSON body validated by `schema`: a 400 naming every invalid field otherwise. */
export async function jsonBody<S extends z.ZodType>(req: Request, max: number, schema: S): Promise<z.output<S>> {
  const raw = await readJson(req, max);
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = zodIssues(r.error);
    throw new ApiError("validation_failed", `invalid body: ${issues.map((i) => `${i.path || "(body)"}: ${i.message}`).join("; ")}`, { issues });
  }
  return r.data;
}
