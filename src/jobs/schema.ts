/**
 * The jobs room's shapes, without loading any kind's code (a kind's code, and the domain rooms it needs, loads
 * when a job of it is submitted or run: kinds/index.ts): the kinds by name, with who may submit them and what
 * they do, and the jobs API's requests and answers (src/api re-exports them for the server, the client and the
 * web app).
 */
import { z } from "zod";
import type { Role } from "../roles.js";

export const JOB_KIND_NAMES = ["judge", "verify", "reward", "leaderboard", "export", "rm-train", "lab-run", "lab-sweep", "loop", "queue", "rules"] as const;
export type JobKindName = (typeof JOB_KIND_NAMES)[number];

/** The states of a job (the store keeps the same list). */
export const JOB_STATES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobKindInfo {
  /** Roles whose API keys may submit it (and cancel or retry it). */
  roles: readonly Role[];
  description: string;
}

export const JOB_KIND_INFO: Record<JobKindName, JobKindInfo> = {
  judge: { roles: ["admin"], description: "an LLM judge over rows sent with the job or a stored selection; each row's feedback is stored exactly once" },
  verify: { roles: ["admin", "ingest"], description: "a verifier (math, code, text checks) over a batch of samples; scores kept per sample, optionally stored as verification feedback" },
  reward: { roles: ["admin", "ingest", "read"], description: "rewards for a large batch of samples under a reward spec (verifiers, saved specs, reward models, judges, composites)" },
  leaderboard: { roles: ["admin", "read"], description: "a leaderboard on stored feedback with many bootstrap rounds or the length-controlled fit (Bradley-Terry or AlpacaEval win rates)" },
  export: { roles: ["admin", "read"], description: "a dataset file (TRL, OpenAI DPO, AlpacaEval, rlxf) from stored feedback, streamed into the database in parts" },
  "rm-train": { roles: ["admin"], description: "train a reward model on stored feedback and save it as the next version of its name" },
  "lab-run": { roles: ["admin"], description: "the lab: train each method from one feedback source and label budget, measured exactly; saved when named" },
  "lab-sweep": { roles: ["admin"], description: "the lab over a grid of methods x label noise x label budget (x seeds); saved when named" },
  loop: { roles: ["admin"], description: "a test-time loop over tasks, stored as a loop run (accuracy per turn, friction, stop reasons)" },
  queue: { roles: ["admin"], description: "an annotation queue from a (large) selection of stored outputs" },
  rules: { roles: ["admin"], description: "judges on live traffic: run the pending evaluations of the project's rules (new generations matching a rule's filter)" },
};

export function isJobKindName(name: string): name is JobKindName {
  return (JOB_KIND_NAMES as readonly string[]).includes(name);
}

// ------------------------------------------------------------------- API ---

export const SubmitJobBody = z.strictObject({
  kind: z.enum(JOB_KIND_NAMES).describe(`what to run: ${JOB_KIND_NAMES.join(", ")}`),
  input: z.unknown().describe("the kind's input (see the README's jobs section)"),
  maxAttempts: z.number().int().min(1).max(20).optional().describe("attempts each task gets before it fails for good (default: the kind's, usually 3)"),
});

export const ListJobsQuery = z.strictObject({
  state: z.enum(JOB_STATES).optional().describe("only jobs in this state"),
  kind: z.enum(JOB_KIND_NAMES).optional().describe("only jobs of this kind"),
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/, "must be an integer")
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .optional()
    .describe("jobs per page, newest first (default 50, at most 500)"),
  cursor: z.string().max(512).optional().describe("nextCursor of the previous page"),
});

export const JobUnitsQuery = z.strictObject({
  after: z.string().regex(/^[0-9]{1,12}$/, "must be a non-negative integer").transform(Number).optional().describe("units after this unit number"),
  limit: z.string().regex(/^[0-9]{1,4}$/, "must be an integer").transform(Number).pipe(z.number().int().min(1).max(5000)).optional().describe("units per page (default 1000)"),
  failed: z.enum(["true", "false"]).optional().describe("only failed (true) or finished (false) units"),
});

export const JobSchema = z.object({
  id: z.string(),
  kind: z.enum(JOB_KIND_NAMES),
  state: z.enum(JOB_STATES),
  progress: z.object({
    done: z.number().int().describe("units finished (succeeded or failed), or what the kind counts (rows exported, methods run)"),
    total: z.number().int().nullable().describe("units in all, once known"),
    failed: z.number().int().describe("units that failed for good (kept with their errors; retry runs them again)"),
    note: z.string().optional().describe("what the job is doing now"),
  }),
  tasks: z.object({ total: z.number().int(), done: z.number().int(), failed: z.number().int() }).describe("the pieces workers share"),
  attempts: z.number().int().describe("attempts made over every task"),
  maxAttempts: z.number().int().describe("attempts a task gets before it fails for good"),
  cancelRequested: z.boolean(),
  retries: z.number().int().describe("times it was retried (a retry asks models again instead of reading cached answers)"),
  error: z.string().optional(),
  input: z.unknown().optional().describe("the input as stored (rows sent with the job are kept as its units)"),
  result: z.unknown().optional().describe("the kind's result; units' results are at /v1/jobs/{id}/units, an export's file at /v1/jobs/{id}/file"),
  createdBy: z.string().optional().describe("id of the key that submitted it"),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  updatedAt: z.string(),
});

export const JobDetailSchema = JobSchema.extend({
  failures: z
    .array(z.object({ task: z.number().int(), attempt: z.number().int(), error: z.string(), worker: z.string().optional(), at: z.string() }))
    .describe("the error of each failed attempt, newest first"),
  unitFailures: z.array(z.object({ unit: z.number().int(), error: z.string(), recordId: z.string().optional() })).describe("units that failed for good (the first 50)"),
});

export const JobResponseSchema = z.object({ job: JobDetailSchema });
export const JobListSchema = z.object({ jobs: z.array(JobSchema), nextCursor: z.string().optional() });
export const JobUnitSchema = z.object({
  unit: z.number().int(),
  failed: z.boolean(),
  outcome: z.string().optional(),
  recordId: z.string().optional(),
  result: z.unknown().optional().describe("verify and reward jobs: {score, passed}"),
});
export const JobUnitsSchema = z.object({ units: z.array(JobUnitSchema), next: z.number().int().optional().describe("pass as `after` for the next page") });
/** What `GET /v1/leaderboard` answers (202) when the leaderboard is computed as a job. */
export const JobAcceptedSchema = z.object({ job: JobSchema, message: z.string() });

export type SubmitJobBody = z.input<typeof SubmitJobBody>;
export type ListJobsQuery = z.input<typeof ListJobsQuery>;
export type Job = z.infer<typeof JobSchema>;
export type JobDetail = z.infer<typeof JobDetailSchema>;
export type JobUnit = z.infer<typeof JobUnitSchema>;
export type JobUnits = z.infer<typeof JobUnitsSchema>;
export type JobList = z.infer<typeof JobListSchema>;
