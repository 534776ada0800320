import type { ErrorBody, FieldIssue } from "../api/index.js";

/** An error answer of the API (or `network_error` when none came after every retry). */
export class RlxfApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: FieldIssue[];
  readonly record?: string;
  readonly index?: number;
  constructor(status: number, code: string, message: string, extra: { issues?: FieldIssue[]; record?: string; index?: number; cause?: unknown } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = "RlxfApiError";
    this.status = status;
    this.code = code;
    this.issues = extra.issues ?? [];
    if (extra.record !== undefined) this.record = extra.record;
    if (extra.index !== undefined) this.index = extra.index;
  }
}

/** The error an answer that is not a success carries (its body's, or one made from its status). */
export async function apiError(res: Response, method: string, path: string): Promise<RlxfApiError> {
  let body: Partial<ErrorBody> | undefined;
  try {
    body = (await res.json()) as Partial<ErrorBody>;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  return new RlxfApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? `${method} ${path}: HTTP ${res.status}`, {
    ...(e?.issues ? { issues: e.issues } : {}),
    ...(e?.record !== undefined ? { record: e.record } : {}),
    ...(e?.index !== undefined ? { index: e.index } : {}),
  });
}

/** Records of a batch that an error blames (by `index` and by `batch.N` issue paths). */
export function badIndices(e: RlxfApiError, n: number): Set<number> {
  const out = new Set<number>();
  if (e.status < 400 || e.status >= 500 || e.status === 401 || e.status === 403 || e.status === 413) {
    // Not about particular records (or the whole request is refused): nothing to set aside.
    if (!(e.status === 403 && e.index !== undefined)) return out;
  }
  if (e.index !== undefined && e.index < n) out.add(e.index);
  for (const i of e.issues) {
    const m = /^batch\.(\d+)(\.|$)/.exec(i.path);
    if (m && Number(m[1]) < n) out.add(Number(m[1]));
  }
  return out;
}
