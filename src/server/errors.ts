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
import { API_ERROR_CODES, CATEGORY_CODES, ERROR_CODES, type ErrorCategory, type ErrorCode, type FieldIssue, RlxfError, ValidationError, typedError, zodIssues } from "../errors.js";
import type { ErrorBody } from "../api/index.js";
import { MissingReferenceError, RecordConflictError } from "../store/index.js";

export type { ErrorBody };

/** The HTTP status of each category of error: the one place where errors become statuses. */
export const CATEGORY_STATUS: Record<ErrorCategory, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  limit: 413,
  unavailable: 503,
  internal: 500,
};
/** Codes whose status is more precise than their category's. */
const CODE_STATUS: Partial<Record<ErrorCode, number>> = { unsupported_media_type: 415, method_not_allowed: 405, gone: 410, over_ceiling: 400, rate_limited: 429 };

export function statusOf(code: ErrorCode): number {
  return CODE_STATUS[code] ?? CATEGORY_STATUS[ERROR_CODES[code]];
}

const API_CODES: ReadonlySet<string> = new Set(API_ERROR_CODES);

/** An error of the HTTP layer (authentication, body, method) with what it needs beyond a typed error: headers. */
export class ApiError extends RlxfError {
  readonly issues?: FieldIssue[];
  readonly record?: string;
  readonly index?: number;
  readonly headers?: Record<string, string>;
  constructor(
    code: ErrorCode,
    message: string,
    extra: { issues?: FieldIssue[]; record?: string; index?: number; headers?: Record<string, string> } = {},
  ) {
    super(code, message);
    this.name = "ApiError";
    if (extra.issues) this.issues = extra.issues;
    if (extra.record !== undefined) this.record = extra.record;
    if (extra.index !== undefined) this.index = extra.index;
    if (extra.headers) this.headers = extra.headers;
  }
  get status(): number {
    return statusOf(this.code);
  }
}

export const badRequest = (message: string, issues?: FieldIssue[]) => new ApiError("validation_failed", message, issues ? { issues } : {});
export const notFound = (message: string) => new ApiError("not_found", message);
export const forbidden = (message: string) => new ApiError("forbidden", message);

export { zodIssues };

/** Where a batch record sits: `batch.3` → index 3. */
function locate(label: string | undefined): { record?: string; index?: number; prefix: string } {
  if (!label || label === "body") return { prefix: "" };
  const m = /^batch\.(\d+)$/.exec(label);
  return m ? { record: label, index: Number(m[1]), prefix: label } : { record: label, prefix: "" };
}

const under = (prefix: string, path: string) => [prefix, path].filter((p) => p !== "").join(".");

/**
 * Turn any thrown value into a status and the error shape: the status from the error's category (or its
 * code, for the few codes HTTP has a status of their own for), the code if the API lists it (else the
 * category's), the issues naming each field. Internal and unknown errors are 500 and are not described.
 */
export function toErrorResponse(
  e: unknown,
  opts: { conflictFields?: boolean } = { conflictFields: true },
): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  const t = typedError(e);
  if (!t || t.category === "internal") {
    return { status: 500, body: { error: { code: "internal_error", message: "internal error; it has been logged" } } };
  }
  const status = statusOf(t.code);
  const code = API_CODES.has(t.code) ? t.code : CATEGORY_CODES[t.category];
  if (t.category === "unavailable" && (t.code === "store_closed" || t.code === "store_unavailable")) {
    return { status, body: { error: { code, message: "the store is not available; retry later" } }, headers: { "Retry-After": "1" } };
  }
  let message = (e as Error).message;
  let issues: FieldIssue[] | undefined;
  let at: { record?: string; index?: number; prefix: string } = { prefix: "" };
  if (e instanceof ApiError) {
    issues = e.issues;
    at = { prefix: "", ...(e.record !== undefined ? { record: e.record } : {}), ...(e.index !== undefined ? { index: e.index } : {}) };
  } else if (e instanceof ValidationError) {
    at = locate(e.record);
    issues = e.issues.map((i) => ({ path: under(at.prefix, i.path), message: i.message }));
  } else if (e instanceof MissingReferenceError) {
    at = locate(e.record);
    issues = [{ path: under(at.prefix, e.path), message: `${e.refKind} "${e.refId}" does not exist` }];
  } else if (e instanceof RecordConflictError && e.stored && !opts.conflictFields) {
    // A key that may not read stored records learns only that the id is taken, not which fields differ
    // (else it could confirm a hidden field, such as an item's reference, by guessing).
    at = locate(e.record);
    message = `${e.kind}${e.record ? ` ${e.record}` : ""}: id "${e.id}" is already stored with a different body; send it with another id`;
    issues = [{ path: under(at.prefix, "id"), message: "is already stored with a different body" }];
  } else if (e instanceof RecordConflictError) {
    at = locate(e.record);
    issues = (e.fields.length ? e.fields : ["id"]).map((f) => ({
      path: under(at.prefix, f),
      message: `differs from the record already stored with id "${e.id}"`,
    }));
  } else if (t.field !== undefined) {
    issues = [{ path: t.field, message }];
  }
  const body: ErrorBody = { error: { code, message } };
  if (issues) body.error.issues = issues;
  if (at.record !== undefined) body.error.record = at.record;
  if (at.index !== undefined) body.error.index = at.index;
  const headers = e instanceof ApiError ? e.headers : undefined;
  return { status, body, ...(headers ? { headers } : {}) };
}
