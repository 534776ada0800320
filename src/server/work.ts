/**
 * The ceilings and rate-limit costs of the routes that make the server read a lot (leaderboards, distributions,
 * queue statistics, exports), in one place for whichever route (or job) starts that work. They read the
 * app's `Limits` (src/server/limits.ts).
 */
import type { FeedbackKind } from "../feedback/schema.js";
import type { JobRecord } from "../store/index.js";
import { type Ctx, type Settings, charge } from "./context.js";
import { ApiError } from "./errors.js";
import { overCeiling, withinCeiling } from "./limits.js";

/**
 * A leaderboard (or another analysis over a project's feedback of `kinds`): `rounds` within bootstrapRounds
 * (400 naming `bootstrap`), the feedback rows it loads within analysisRows (400 over_ceiling), and its cost
 * (costAnalysis + rounds × costRound + rows × costRow) taken from the rate limits.
 */
export async function analysisWork(c: Ctx, s: Settings, work: { kinds: FeedbackKind[]; rounds?: number }): Promise<void> {
  const { limits } = s;
  if (work.rounds !== undefined) withinCeiling(work.rounds, limits.bootstrapRounds, "bootstrap", "bootstrapRounds");
  const counts = await s.store.counts(c.get("key").project);
  const rows = work.kinds.reduce((n, k) => n + (counts.byKind[k] ?? 0), 0);
  if (rows > limits.analysisRows) {
    throw overCeiling("analysisRows", limits.analysisRows, `this would load the project's ${rows} ${work.kinds.join(", ")} feedback records`, "the operator can raise it (rlxf serve --limits analysisRows=N), or compute it from an export with the CLI");
  }
  await charge(c, s, limits.costAnalysis + (work.rounds ?? 0) * limits.costRound + rows * limits.costRow, `this request (${rows} feedback records${work.rounds !== undefined ? `, ${work.rounds} bootstrap rounds` : ""})`);
}

/**
 * An export of the key's project: unfiltered, every record it holds counts against exportRows (400 over_ceiling
 * beyond) and is charged now; a filtered export is charged its start (costExport) now and its rows as it finishes.
 */
export async function exportWork(c: Ctx, s: Settings, opts: { filtered?: boolean } = {}): Promise<void> {
  const { limits } = s;
  let rows = 0;
  if (!opts.filtered) {
    const counts = await s.store.counts(c.get("key").project);
    rows = counts.items + counts.generations + counts.feedback;
    if (rows > limits.exportRows) {
      throw overCeiling("exportRows", limits.exportRows, `the project holds ${rows} records to export`, "export a part of it (POST /v1/exports with filters), or ask the operator to raise it (rlxf serve --limits exportRows=N)");
    }
  }
  await charge(c, s, limits.costExport + rows * limits.costRow, `an export${rows ? ` of ${rows} records` : ""}`);
}

/** A project's jobs (of `kind`, when given) queued or running now. */
async function openJobs(s: Settings, project: string, kind?: string): Promise<JobRecord[]> {
  const page = (state: "queued" | "running") => s.store.jobs.list({ project, state, limit: 500, ...(kind ? { kind } : {}) });
  return [...(await page("queued")).jobs, ...(await page("running")).jobs];
}

const tooMany = (who: string, n: number, what: string, name: string) =>
  new ApiError("rate_limited", `${who} already has ${n} ${what} queued or running, the server's ceiling ${name}; retry once one finishes (GET /v1/jobs)`, { headers: { "Retry-After": "10" } });

/**
 * Room for one more job of the key: at most jobsPerKey queued or running (any kind), and for an export at most
 * exportsPerKey / exportsPerProject exports; 429 until one finishes.
 */
export async function jobSlot(c: Ctx, s: Settings, kind: string): Promise<void> {
  const key = c.get("key");
  const { limits } = s;
  const mine = (await openJobs(s, key.project)).filter((j) => j.createdBy === key.id);
  if (mine.length >= limits.jobsPerKey) throw tooMany("this key", limits.jobsPerKey, "job(s)", "jobsPerKey");
  if (kind !== "export") return;
  if (mine.filter((j) => j.kind === "export").length >= limits.exportsPerKey) throw tooMany("this key", limits.exportsPerKey, "export(s)", "exportsPerKey");
  if ((await openJobs(s, key.project, "export")).length >= limits.exportsPerProject) throw tooMany(`project "${key.project}"`, limits.exportsPerProject, "export(s)", "exportsPerProject");
}

/**
 * A job submitted over HTTP: the ceilings and rate-limit costs of its kind. Returns its input with the server's
 * ceilings written in where the job enforces them itself (an export's rows).
 */
export async function admitJob(c: Ctx, s: Settings, kind: string, input: unknown): Promise<unknown> {
  const fields = input !== null && typeof input === "object" && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined;
  await jobSlot(c, s, kind);
  if (kind === "export") {
    const filters = fields?.filters;
    await exportWork(c, s, { filtered: filters !== null && typeof filters === "object" && Object.keys(filters).length > 0 });
    const asked = typeof fields?.maxRows === "number" ? fields.maxRows : Infinity;
    return fields ? { ...fields, maxRows: Math.min(asked, s.limits.exportRows) } : input;
  }
  if (kind === "leaderboard") {
    const rounds = typeof fields?.bootstrap === "number" ? fields.bootstrap : 200;
    await analysisWork(c, s, { kinds: fields?.method === "alpaca-eval" ? ["pairwise"] : ["pairwise", "ranking", "rating"], ...(fields?.method !== "alpaca-eval" ? { rounds } : {}) });
    return input;
  }
  // Batches weigh their samples, as the reward endpoints do.
  const samples = Array.isArray(fields?.samples) ? fields.samples.length : 0;
  await charge(c, s, s.limits.costAnalysis + samples * s.limits.costSample, `a ${kind} job${samples ? ` of ${samples} sample(s)` : ""}`);
  return input;
}

/** A project's finished exports, newest first (at most `n`). */
async function finishedExports(s: Settings, project: string, n: number): Promise<JobRecord[]> {
  return (await s.store.jobs.list({ project, kind: "export", state: "succeeded", limit: Math.min(500, Math.max(1, n)) })).jobs;
}

/**
 * Whether an export's file is still kept: of a project's finished exports the newest exportFiles keep theirs,
 * each for exportRetentionSeconds after it finished. A 410 `gone` otherwise.
 */
export async function keptExportFile(s: Settings, job: JobRecord): Promise<void> {
  const { limits } = s;
  const finished = job.finishedAt !== undefined ? Date.parse(job.finishedAt) : Date.now();
  const aged = Date.now() - finished > limits.exportRetentionSeconds * 1000;
  const newest = aged ? [] : await finishedExports(s, job.project, limits.exportFiles);
  if (aged || !newest.some((j) => j.id === job.id)) {
    throw new ApiError(
      "gone",
      `the file of export "${job.id}" is no longer kept (the newest ${limits.exportFiles} of a project, each for ${limits.exportRetentionSeconds} s); start the export again`,
    );
  }
}

/** Deletes the files of a project's exports that are no longer kept (see `keptExportFile`; best effort). */
export async function retireExportFiles(s: Settings, project: string): Promise<void> {
  const { limits } = s;
  const recent = await finishedExports(s, project, limits.exportFiles + 20);
  const cutoff = Date.now() - limits.exportRetentionSeconds * 1000;
  for (const [i, j] of recent.entries()) {
    const finished = j.finishedAt !== undefined ? Date.parse(j.finishedAt) : Date.now();
    if (i >= limits.exportFiles || finished < cutoff) await s.store.jobs.clearFile(j.id).catch(() => {});
  }
}
