/**
 * The store room: typed records (items, generations, feedback) kept in SQLite
 * (embedded, the default) or PostgreSQL, behind one Kysely query layer.
 *
 *     const store = await openStore();            // ./.rlxf/rlxf.db, or RLXF_DATABASE_URL / RLXF_DB
 *     await store.write({ items, generations, feedback });
 *     for await (const r of store.iterateResolvedFeedback({ kind: "pairwise" })) ...
 *     await store.close();
 */
export { openStore, reopenOptions, resolveTarget, redact, DEFAULT_DB_PATH } from "./store.js";
export { MissingReferenceError, RecordConflictError } from "./write.js";
export { readSnapshot, snapshotIterable } from "./snapshot.js";
export { badKeyString, canonicalJson } from "./codec.js";
export { ROLES, KEY_PREFIX, hashKey, keyIdOf } from "./access.js";
export type { ApiKey, Assignment, AssignmentFilter, AssignmentStore, CreateKeyOptions, CreatedKey, KeyStore, Role } from "./access.js";
export { FAILURE_REASONS, JudgementFailure } from "./judging.js";
export type { CachedResponse, FailureReason, JudgementFailureFilter, JudgementFailureInput, JudgementFailureStore, ResponseCacheStore } from "./judging.js";
export type { ModelInfo, ModelStore, SaveModelInput, StoredModel, VectorCache } from "./models.js";
export { LOOP_RUN_STATUSES, MEMORY_KINDS, MEMORY_STATUSES } from "./loops.js";
export type { LoopRun, LoopRunStatus, LoopRunStore, LoopStep, LoopStepInput, MemoryEntry, MemoryEntryInput, MemoryKind, MemoryProvenance, MemoryScope, MemoryStatus, MemoryStore } from "./loops.js";
export type { ConfigStore, SaveConfigInput, StoredConfig } from "./configs.js";
export { CLAIM_STATUSES } from "./queues.js";
export type { AdjudicateInput, Claim, ClaimStatus, ExportJob, QueueInput, QueueProgress, QueueRecord, QueueStore, QueueTask, ReviseInput, SubmitInput, SubmitResult, TaskInput } from "./queues.js";
export { SUPERSESSION_REASONS } from "./queue-review.js";
export { DEFAULT_SCAN, DISAGREEMENTS, MAX_SCAN, MAX_SEARCH_TEXT, VALUE_OPS } from "./search.js";
export type { Disagreement, ItemSearch, SearchPage, SearchStore, ValueOp } from "./search.js";
export type { Adjudication, Supersession, SupersessionReason } from "./queue-review.js";
export { DURABILITIES } from "./types.js";
export { EVALUATION_STATES, RULE_CLAIM_LEASE_MS, RuleCeilingError, ruleFeedbackId } from "./rules.js";
export type { ClaimedEvaluation, CompleteOutcome, EvaluationState, RuleCounts, RuleFilter, RuleInput, RulePatch, RuleRecord, RuleStore } from "./rules.js";
export { MAX_PAIR_PARTNERS, matchesFilter, sampledIn } from "./rule-match.js";
export { JOB_STATES, MAX_RESULT_BYTES, backoffMs, isFinalState } from "./jobs.js";
export type { CreateJobInput, EngineHook, FinishInput, JobAttemptError, JobFilter, JobProgress, JobRecord, JobState, JobStore, JobUnitFailure, RateLimitStore, ReapedTask, StartOutcome, TaskPhase, TaskRow, TxSql, UnitCommit } from "./jobs.js";
export type {
  Counts,
  Durability,
  Engine,
  FeedbackFilter,
  GenerationFilter,
  ItemFilter,
  IterateOptions,
  KindReport,
  OpenStoreOptions,
  Page,
  PageOptions,
  RecordKind,
  RecordTimes,
  Store,
  StoreTarget,
  TimeInput,
  WriteBatch,
  WriteOptions,
  WriteOutcome,
  WriteReport,
} from "./types.js";
