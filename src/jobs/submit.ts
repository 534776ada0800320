/**
 * Submitting a job: validate its input against its kind, split it, and store it with its first tasks and
 * their deliveries in one transaction.
 */
import { randomUUID } from "node:crypto";
import { ValidationError, issuesFromZod } from "../errors.js";
import { DEFAULT_PROJECT } from "../feedback/schema.js";
import type { JobRecord, Store } from "../store/index.js";
import type { QueueEngine } from "./engine.js";
import { chunked } from "./execute.js";
import { loadJobKind } from "./kinds/index.js";

export interface SubmitOptions {
  kind: string;
  input: unknown;
  project?: string;
  /** Who asked (an API key id, or `cli`). */
  createdBy?: string;
  /** `api` for requests (no paths on the worker's disk), `cli` for the command line. */
  origin: "api" | "cli";
  /** Path prefix of input errors (the API nests the input under `input`). */
  path?: string;
  /** Attempts each task gets before it fails for good (default: the kind's, usually 3). */
  maxAttempts?: number;
}

/** The parsed input of a submission, or a ValidationError naming each bad field. */
export async function parseJobInput(kind: string, input: unknown, path = "input"): Promise<unknown> {
  const k = await loadJobKind(kind);
  const r = k.input.safeParse(input);
  if (!r.success) throw new ValidationError(issuesFromZod(r.error).map((i) => ({ path: [path, i.path].filter(Boolean).join("."), message: i.message })), undefined, `${kind} job`);
  return r.data;
}

export async function submitJob(store: Store, engine: QueueEngine, s: SubmitOptions): Promise<JobRecord> {
  const kind = await loadJobKind(s.kind);
  const project = s.project ?? DEFAULT_PROJECT;
  const path = s.path ?? "input";
  const input = await parseJobInput(s.kind, s.input, path);
  try {
    await kind.check?.(input, { store, project, origin: s.origin });
  } catch (e) {
    // A record locator such as "rows.3" is part of the path under the input.
    const at = e instanceof ValidationError && e.record !== undefined && /^[\w]+\.\d+$/.test(e.record) ? e.record : undefined;
    if (e instanceof ValidationError) throw new ValidationError(e.issues.map((i) => ({ path: [path, at, i.path].filter(Boolean).join("."), message: i.message })), at ? undefined : e.record, `${s.kind} job`);
    throw e;
  }
  const { input: stored, split } = kind.split(input);
  const size = (input as { chunkSize?: number }).chunkSize ?? kind.chunkSize ?? 50;
  return store.jobs.create(
    {
      id: randomUUID(),
      project,
      kind: kind.name,
      input: stored,
      ...(s.createdBy ? { createdBy: s.createdBy } : {}),
      maxAttempts: s.maxAttempts ?? kind.maxAttempts ?? 3,
      phase: split.phase,
      ...(split.phase === "units" ? { chunks: chunked(split.units, size) } : {}),
    },
    engine.enqueue,
  );
}
