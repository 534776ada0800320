/**
 * The jobs room (`rlxf/jobs`): heavy work as durable jobs, run by workers in threads of the serving process
 * (SQLite) or by `rlxf worker` processes on any machine that reaches the same PostgreSQL (pg-boss). A job has a
 * kind, a project, its input, a state, progress and a result; it is split into tasks that workers share, and
 * its units (a pair judged, a sample verified) are committed exactly once. Provider rate limits are shared by
 * every worker (a token bucket in the database). The domain rooms know nothing of this one: each kind calls a
 * domain function with a progress callback and a cancellation signal.
 *
 *     const jobs = openJobs(store, { run: { concurrency: 2 } });
 *     const job = await jobs.submit({ kind: "judge", project: "demo", input: { judge: "pairwise", rows }, origin: "cli" });
 */
export { Jobs, type JobsOptions, openJobs } from "./host.js";
export { type ClaimOptions, LocalEngine, type QueueEngine } from "./engine.js";
export { PgBossEngine, queueName } from "./pgboss.js";
export { JobRunner, type JobRunnerOptions, workerName } from "./runner.js";
export { InlineRunner, ThreadRunner, threadsAvailable } from "./pool.js";
export { JobCancelled, executeTask, isPermanent } from "./execute.js";
export { JOB_KINDS, jobKindInfo, loadJobKind } from "./kinds/index.js";
export { JOB_KIND_INFO, JOB_KIND_NAMES, type JobKindInfo, type JobKindName, isJobKindName } from "./schema.js";
export { type SubmitOptions, parseJobInput, submitJob } from "./submit.js";
export { StoreLimiter, burstOf, type SharedLimits } from "./limiter.js";
export { ModelInputSchema, jobModel, limitKey, type WorkerModelDefaults } from "./models.js";
export type { CheckEnv, JobKind, ModelInput, PlanContext, Split, TaskContext, UnitsContext } from "./types.js";
