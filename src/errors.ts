/**
 * Typed errors shared by every room. Each says what was wrong and what to fix, carries a code from one table
 * (`ERROR_CODES`) and, through it, a category that the server turns into an HTTP status and the CLI into an
 * exit code, each in one place (src/server/errors.ts, src/cli/run.ts).
 */
import type { z } from "zod";

/**
 * What kind of failure an error is, whoever reports it:
 * - `validation`: the input (a request, a file, an option, an argument) is wrong; fix it and try again;
 * - `unauthorized` / `forbidden`: no valid key / the key may not do this;
 * - `not_found`: something named does not exist;
 * - `conflict`: it clashes with what is stored (or is not in a state that allows it);
 * - `limit`: it is over a ceiling (size, count, queue);
 * - `unavailable`: a service it needs (store, model endpoint, sandbox) is not there now; retrying may help;
 * - `internal`: a fault of rlxf itself.
 */
export const ERROR_CATEGORIES = ["validation", "unauthorized", "forbidden", "not_found", "conflict", "limit", "unavailable", "internal"] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/**
 * Every error code and its category. Codes are machine-readable and stable; the HTTP API answers with the
 * codes its OpenAPI document lists (`API_ERROR_CODES`), others with their category's code.
 */
export const ERROR_CODES = {
  // -- validation
  /** Records or a request body that do not match their schema (with the path of each field). */
  validation_failed: "validation",
  invalid_json: "validation",
  invalid_id: "validation",
  incomplete_body: "validation",
  unsupported_media_type: "validation",
  method_not_allowed: "validation",
  /** A value that is not allowed: an option, an argument, a field of a file. */
  invalid_input: "validation",
  /** A required option or argument was not given. */
  missing_option: "validation",
  /** A config or spec (judge, verifier, featurizer, reward or feedback spec) that cannot be used. */
  invalid_config: "validation",
  /** A name (verifier, judge, pool, reward spec, feedback source) that means nothing here. */
  unknown_name: "validation",
  unknown_format: "validation",
  /** A file of a known format, but not the one this command reads. */
  wrong_format: "validation",
  /** A file that cannot be read as asked (a directory, broken gzip, not JSON). */
  invalid_file: "validation",
  /** Something of the wrong kind for the operation (a pairwise reward model where a scalar one is needed). */
  wrong_kind: "validation",
  /** Nothing to work on (no pairs, no tasks, no generations, an empty file). */
  no_data: "validation",
  /** A verifier or judge that compares with a reference got none. */
  no_reference: "validation",
  /** A stored or given model artifact that cannot be read. */
  invalid_artifact: "validation",
  /** Tests a verifier was told to keep apart from the program (isolation "required") that it cannot separate. */
  tests_not_separable: "validation",
  // -- keys
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  // -- not found
  not_found: "not_found",
  /** A record refers to another (a generation's item, a feedback's target) that does not exist. */
  missing_reference: "not_found",
  gone: "not_found",
  /** A store opened as existing (`create: false`) that is not there. */
  store_not_found: "not_found",
  // -- conflict
  conflict: "conflict",
  not_ready: "conflict",
  /** A write or a read other than records from inside a read snapshot. */
  snapshot_read_only: "conflict",
  // -- limits
  payload_too_large: "limit",
  batch_too_large: "limit",
  queue_full: "limit",
  /** The work a request would make the server do is over one of the server's ceilings (rows to load, files to keep). */
  over_ceiling: "limit",
  /** The key or its project asked faster than its rate limit allows (or holds too many exports at once): retry later. */
  rate_limited: "limit",
  // -- unavailable
  unavailable: "unavailable",
  store_unavailable: "unavailable",
  store_closed: "unavailable",
  sandbox_unavailable: "unavailable",
  port_unavailable: "unavailable",
  network_error: "unavailable",
  provider_http: "unavailable",
  provider_timeout: "unavailable",
  provider_network: "unavailable",
  provider_protocol: "unavailable",
  provider_config: "validation",
  provider_unsupported: "validation",
  /** A model answered, but not with something usable (an unparseable judgement, critique or embedding). */
  model_failed: "unavailable",
  /** Feedback that was waited for did not come in time. */
  feedback_timeout: "unavailable",
  /** The work was cancelled (its signal aborted) before it finished. */
  aborted: "unavailable",
  /** The server has as much of this work as it takes at once (queued computations, streamed exports); retry shortly. */
  busy: "unavailable",
  /** A computation ran past the server's time limit and was stopped. */
  timed_out: "unavailable",
  // -- internal
  internal_error: "internal",
  store_inconsistent: "internal",
  store_write_failed: "internal",
  migration_failed: "internal",
  sandbox_failed: "internal",
} as const satisfies Record<string, ErrorCategory>;
export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes the HTTP API answers with (its OpenAPI document lists them; clients may depend on them). */
export const API_ERROR_CODES = [
  "validation_failed",
  "invalid_json",
  "invalid_id",
  "incomplete_body",
  "payload_too_large",
  "batch_too_large",
  "over_ceiling",
  "rate_limited",
  "unsupported_media_type",
  "unauthorized",
  "forbidden",
  "not_found",
  "missing_reference",
  "conflict",
  "not_ready",
  "gone",
  "method_not_allowed",
  "unavailable",
  "busy",
  "timed_out",
  "internal_error",
] as const satisfies readonly ErrorCode[];

/** The code the API answers with for an error of a category whose own code it does not list. */
export const CATEGORY_CODES: Record<ErrorCategory, (typeof API_ERROR_CODES)[number]> = {
  validation: "validation_failed",
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  not_found: "not_found",
  conflict: "conflict",
  limit: "payload_too_large",
  unavailable: "unavailable",
  internal: "internal_error",
};

export class RlxfError extends Error {
  readonly code: ErrorCode;
  /** The offending field, option or argument, when one is to blame (`value.score`, `--rounds`, `pFlip`). */
  readonly field?: string;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "RlxfError";
    this.code = code;
    if (options?.field !== undefined) this.field = options.field;
  }
  get category(): ErrorCategory {
    return ERROR_CODES[this.code];
  }
}

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `value.pSecond`. */
  path: string;
  message: string;
}

/**
 * Input that does not match its schema. `record` locates the record (a line
 * number in a file, or an index in a batch); `issues` name each field.
 */
export class ValidationError extends RlxfError {
  readonly issues: FieldIssue[];
  readonly record?: string;
  /** `message` replaces the one made from `what`, `record` and the issues. */
  constructor(issues: FieldIssue[], record?: string, what = "record", message?: string) {
    const where = record ? `${what} ${record}` : what;
    const detail = issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ");
    super("validation_failed", message ?? `invalid ${where}: ${detail}`);
    this.name = "ValidationError";
    this.issues = issues;
    this.record = record;
  }
}

/**
 * Zod's issues as field issues, under `prefix`. With `eachUnknownKey`, an unknown key is one issue at its own
 * path ("unknown field"), as the API reports them; otherwise zod's one issue at the object's path.
 */
export function issuesFromZod(error: z.ZodError, opts: { prefix?: string; eachUnknownKey?: boolean } = {}): FieldIssue[] {
  const join = (parts: readonly PropertyKey[]) => [opts.prefix ?? "", ...parts.map(String)].filter((p) => p !== "").join(".");
  const out: FieldIssue[] = [];
  for (const i of error.issues) {
    if (opts.eachUnknownKey && i.code === "unrecognized_keys") {
      for (const k of i.keys) out.push({ path: join([...i.path, k]), message: "unknown field" });
    } else {
      out.push({ path: join(i.path), message: i.message });
    }
  }
  return out;
}

/** A request's field issues: under `prefix`, each unknown key named at its own path. */
export const zodIssues = (error: z.ZodError, prefix = ""): FieldIssue[] => issuesFromZod(error, { prefix, eachUnknownKey: true });

/** Something referenced by id does not exist (a generation's item, a feedback's target). */
export class NotFoundError extends RlxfError {
  constructor(message: string, options?: { field?: string; code?: "not_found" | "missing_reference" }) {
    super(options?.code ?? "not_found", message, options?.field !== undefined ? { field: options.field } : undefined);
    this.name = "NotFoundError";
  }
}

/** The same id was sent again with a different body. */
export class ConflictError extends RlxfError {
  constructor(message: string) {
    super("conflict", message);
    this.name = "ConflictError";
  }
}

/**
 * A function was called with an argument it cannot use (a probability outside [0, 1], ragged rows, a
 * non-positive count). It is a `RangeError`, as JavaScript's own argument errors are, and carries the code,
 * category and field of the other typed errors, so the server answers it with a 400 naming the field.
 */
export class ArgumentError extends RangeError {
  readonly code = "invalid_input" satisfies ErrorCode;
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "ArgumentError";
    this.field = field;
  }
  get category(): ErrorCategory {
    return "validation";
  }
}

/** The code, category and field of a typed error; undefined for anything else (a bug, or a foreign error). */
export function typedError(e: unknown): { code: ErrorCode; category: ErrorCategory; field?: string } | undefined {
  if (e instanceof RlxfError || e instanceof ArgumentError) {
    return { code: e.code, category: e.category, ...(e.field !== undefined ? { field: e.field } : {}) };
  }
  return undefined;
}

/** Whether a string (e.g. one that crossed a worker or process boundary) is one of the codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}
