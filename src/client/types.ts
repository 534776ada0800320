/**
 * The client's types: the API's shapes as src/api declares them (types only), and the client's own options,
 * filters and records-as-sent.
 */
import type { FeedbackInput, FeedbackKind, GenerationInput, ItemInput, SourceType } from "../api/index.js";
import type { RlxfApiError } from "./errors.js";

export type {
  ApiKey,
  Assignment,
  AssignResult,
  CreatedKey,
  ExportJob,
  FieldIssue,
  Health,
  Job,
  JobDetail,
  JobKindName as JobKind,
  JobState,
  JobUnit,
  Leaderboard,
  LoopRun,
  LoopRunReport,
  Page,
  RewardComponent,
  RewardResult,
  RewardSpec,
  Role,
  SubmitResult,
  UnassignResult,
  WriteResult,
} from "../api/index.js";
export type {
  CreateQueueBody as QueueDefinition,
  ExportFormat,
  LabResultSummary,
  QueueStats,
  QueueTaskList,
  QueueView as Queue,
  RewardSampleInput as RewardSample,
  RewardSpecRecord as SavedRewardSpec,
  Distributions,
  TaskStatusView as QueueTaskStatus,
  TaskView as QueueTask,
} from "../api/index.js";
/** The body of a saved lab result, the lab room's own type, as the API passes it on. */
export type { LabResultBody } from "../lab/index.js";
export type { CriticEvalResult, CriticEvalSummary } from "../critics/index.js";

/** A record as sent: `id` is optional (the client assigns a UUID), `project` defaults to the key's. */
export type NewItem = Omit<ItemInput, "id"> & { id?: string };
export type NewGeneration = Omit<GenerationInput, "id"> & { id?: string };
type Loosen<T> = T extends unknown ? Omit<T, "id" | "source"> & { id?: string; source?: FeedbackInput["source"] } : never;
/** Feedback as sent: `id` optional; `source` optional only for annotate keys (the server fills it in). */
export type NewFeedback = Loosen<FeedbackInput>;

type Time = string | number | Date;
interface Common {
  since?: Time;
  until?: Time;
  /** Page size 1..1000 (default 100). */
  limit?: number;
  cursor?: string;
}
export interface ItemFilter extends Common {
  dataset?: string;
}
export interface GenerationFilter extends Common {
  itemId?: string;
  policy?: string;
}
export interface FeedbackFilter extends Common {
  kind?: FeedbackKind | FeedbackKind[];
  sourceType?: SourceType;
  sourceId?: string;
  itemId?: string;
  generationId?: string;
  policy?: string;
}

export interface LeaderboardOptions {
  method?: "bt" | "alpaca-eval";
  baseline?: string;
  bootstrap?: number;
  seed?: number;
}

export interface RlxfOptions {
  /** Server URL; default env RLXF_URL, else http://127.0.0.1:8787. */
  url?: string;
  /** API key; default env RLXF_API_KEY. */
  key?: string;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 5). */
  retries?: number;
  /** First backoff (default 200 ms); doubles each retry, with full jitter, up to `maxBackoffMs` (default 10 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Records per batch of `feedback()` (default 500) and per request of the create* methods (default 1000). */
  batchSize?: number;
  maxBatch?: number;
  /** How long a queued record may wait before its batch is sent (default 1000 ms). */
  flushIntervalMs?: number;
  /** Most records waiting in the queue; beyond, `feedback()` throws (default 100,000). */
  maxQueue?: number;
  /** Check records with the feedback schema before queueing them, throwing ValidationError at the call (default true). */
  validate?: boolean;
  /** Send what is queued before the process exits naturally (default true). */
  flushOnExit?: boolean;
  /** Records of `feedback()` the server refused, or that could not be sent after every retry. Default: a warning on stderr. */
  onError?: (error: RlxfApiError, records: NewFeedback[]) => void;
}

export interface ClientStats {
  /** Records of `feedback()` acknowledged as newly stored / as already stored. */
  inserted: number;
  existing: number;
  /** Records of `feedback()` handed to onError. */
  failed: number;
  /** Records waiting or in flight. */
  pending: number;
}
