/**
 * Typed errors shared by every room. Each says what was wrong and what to fix.
 */
import type { z } from "zod";

export class RlxfError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RlxfError";
    this.code = code;
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
  constructor(issues: FieldIssue[], record?: string, what = "record") {
    const where = record ? `${what} ${record}` : what;
    const detail = issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ");
    super("validation_failed", `invalid ${where}: ${detail}`);
    this.name = "ValidationError";
    this.issues = issues;
    this.record = record;
  }
}

export function issuesFromZod(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({
    path: i.path.map(String).join("."),
    message: i.message,
  }));
}

/** Something referenced by id does not exist (a generation's item, a feedback's target). */
export class NotFoundError extends RlxfError {
  constructor(message: string) {
    super("not_found", message);
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
