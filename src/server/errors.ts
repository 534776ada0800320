/**
 * One error shape for every response that is not a success:
 *
 *     {"error": {"code": "validation_failed", "message": "...",
 *                "issues": [{"path": "batch.3.value.choice", "message": "..."}],
 *                "record": "batch.3", "index": 3}}
 *
 * `code` is machine-readable and stable; `issues` (validation and reference
 * errors) name each offending field by its path in the request body (or the
 * query parameter); `record`/`index` locate the record of a batch.
 */
import type { z } from "zod";
import { ConflictError, type FieldIssue, NotFoundError, RlxfError, ValidationError } from "../errors.js";
import { MissingReferenceError, RecordConflictError } from "../store/index.js";

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    issues?: FieldIssue[];
    record?: string;
    index?: number;
  };
}

/** An error with an HTTP status, thrown by handlers and turned into the error shape. */
export class ApiError extends RlxfError {
  readonly status: number;
  readonly issues?: FieldIssue[];
  readonly record?: string;
  readonly index?: number;
  readonly headers?: Record<string, string>;
  constructor(
    status: number,
    code: string,
    message: string,
    extra: { issues?: FieldIssue[]; record?: string; index?: number; headers?: Record<string, string> } = {},
  ) {
    super(code, message);
    this.name = "ApiError";
    this.status = status;
    if (extra.issues) this.issues = extra.issues;
    if (extra.record !== undefined) this.record = extra.record;
    if (extra.index !== undefined) this.index = extra.index;
    if (extra.headers) this.headers = extra.headers;
  }
}

export const badRequest = (message: string, issues?: FieldIssue[]) =>
  new ApiError(400, "validation_failed", message, issues ? { issues } : {});
export const notFound = (message: string) => new ApiError(404, "not_found", message);
export const forbidden = (message: string) => new ApiError(403, "forbidden", message);

/** Zod issues as field issues under `prefix`; an unknown key becomes one issue at its own path. */
export function zodIssues(error: z.ZodError, prefix = ""): FieldIssue[] {
  const join = (parts: (string | number | symbol)[]) =>
    [prefix, ...parts.map(String)].filter((p) => p !== "").join(".");
  const out: FieldIssue[] = [];
  for (const i of error.issues) {
    if (i.code === "unrecognized_keys") {
      for (const k of i.keys) out.push({ path: join([...i.path, k]), message: "unknown field" });
    } else {
      out.push({ path: join(i.path), message: i.message });
    }
  }
  return out;
}

/** Where a batch record sits: `batch.3` → index 3. */
function locate(label: string | undefined): { record?: string; index?: number; prefix: string } {
  if (!label || label === "body") return { prefix: "" };
  const m = /^batch\.(\d+)$/.exec(label);
  return m ? { record: label, index: Number(m[1]), prefix: label } : { record: label, prefix: "" };
}

const under = (prefix: string, path: string) => [prefix, path].filter((p) => p !== "").join(".");

/** Turn any thrown value into a status and the error shape. Unknown errors are 500 and are not described. */
export function toErrorResponse(e: unknown): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (e instanceof ApiError) {
    const body: ErrorBody = { error: { code: e.code, message: e.message } };
    if (e.issues) body.error.issues = e.issues;
    if (e.record !== undefined) body.error.record = e.record;
    if (e.index !== undefined) body.error.index = e.index;
    return { status: e.status, body, ...(e.headers ? { headers: e.headers } : {}) };
  }
  if (e instanceof ValidationError) {
    const at = locate(e.record);
    const issues = e.issues.map((i) => ({ path: under(at.prefix, i.path), message: i.message }));
    return { status: 400, body: { error: { code: "validation_failed", message: e.message, issues, ...loc(at) } } };
  }
  if (e instanceof MissingReferenceError) {
    const at = locate(e.record);
    const issues = [{ path: under(at.prefix, e.path), message: `${e.refKind} "${e.refId}" does not exist` }];
    return { status: 404, body: { error: { code: "missing_reference", message: e.message, issues, ...loc(at) } } };
  }
  if (e instanceof RecordConflictError) {
    const at = locate(e.record);
    const issues = (e.fields.length ? e.fields : ["id"]).map((f) => ({
      path: under(at.prefix, f),
      message: `differs from the record already stored with id "${e.id}"`,
    }));
    return { status: 409, body: { error: { code: "conflict", message: e.message, issues, ...loc(at) } } };
  }
  if (e instanceof ConflictError) return { status: 409, body: { error: { code: "conflict", message: e.message } } };
  if (e instanceof NotFoundError) return { status: 404, body: { error: { code: "not_found", message: e.message } } };
  if (e instanceof RlxfError && (e.code === "store_closed" || e.code === "store_unavailable")) {
    return { status: 503, body: { error: { code: "unavailable", message: "the store is not available; retry later" } }, headers: { "Retry-After": "1" } };
  }
  return { status: 500, body: { error: { code: "internal_error", message: "internal error; it has been logged" } } };
}

function loc(at: { record?: string; index?: number }): { record?: string; index?: number } {
  return { ...(at.record !== undefined ? { record: at.record } : {}), ...(at.index !== undefined ? { index: at.index } : {}) };
}
