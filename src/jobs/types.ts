/**
 * What a job kind is made of, and what its code gets when a task of it runs.
 *
 * A kind validates its input, says how a job splits (one task for the whole job, or units in chunks that
 * several workers share, listed at submission or by a planning task), and runs a task by calling the
 * domain function that does the work, with a progress callback and a cancellation signal.
 */
import type { z } from "zod";
import type { Model, ModelSettings } from "../providers/index.js";
import type { Role, Store, UnitCommit } from "../store/index.js";

export interface ModelInput {
  provider?: "openai" | "anthropic";
  baseUrl?: string;
  model?: string;
  concurrency?: number;
  rpm?: number;
  tpm?: number;
  timeoutMs?: number;
  maxRetries?: number;
  /** Read and write the response cache in the store (default true). */
  cache?: boolean;
}

/** How a job splits into tasks, decided at submission. */
export type Split =
  | { phase: "whole" }
  /** Units known now (e.g. rows sent with the job): chunks of them become tasks. */
  | { phase: "units"; units: unknown[] }
  /** Units listed by a first task (e.g. a selection of stored records), which then adds the chunks. */
  | { phase: "plan" };

export interface TaskContext<I> {
  store: Store;
  /** `retries`: how many times the job was retried (models are then asked again, not read from their cache). */
  job: { id: string; project: string; kind: string; input: I; createdBy?: string; retries: number };
  /** Task number within the job, and which attempt of it this is (1-based). */
  seq: number;
  attempt: number;
  /** Aborted when the job is cancelled (or the worker stops): stop soon, commit what is done. */
  signal: AbortSignal;
  /** Progress of a whole task: units done (rows exported, steps trained...), of `total`, with a note (chunk tasks count committed units instead). */
  progress(done: number, total?: number | null, note?: string): void;
  /** A model for the job's settings: shared rate limits, the store's response cache, the worker's credentials. */
  model(settings: ModelInput): Model;
  log(line: string): void;
}

export interface UnitsContext<I> extends TaskContext<I> {
  /** Commit finished units with their records (exactly once: units another attempt committed are skipped). */
  commit(units: UnitCommit[]): Promise<number[]>;
}

export interface PlanContext<I> extends TaskContext<I> {
  /** Add the units listed so far as chunk tasks (call as often as needed; each call commits). */
  addUnits(units: unknown[]): Promise<void>;
}

export interface JobKind<I = unknown> {
  name: string;
  description: string;
  /** Validates what a submitter sends (with the units it carries, if any). */
  input: z.ZodType<I>;
  /** Roles whose API keys may submit it. */
  roles: readonly Role[];
  /** Attempts a task gets (default 3). */
  maxAttempts?: number;
  /** Units per chunk task (default 50). */
  chunkSize?: number;
  /** Checks that need more than the schema (a judge resolves, a file exists); throws a ValidationError. */
  check?(input: I, env: CheckEnv): Promise<void> | void;
  /** The stored input (without inline units) and how the job splits. */
  split(input: I): { input: unknown; split: Split };
  plan?(ctx: PlanContext<I>): Promise<void>;
  runUnits?(ctx: UnitsContext<I>, units: readonly { unit: number; input: unknown }[]): Promise<void>;
  /** The job as one task; what it returns is the job's result. */
  runWhole?(ctx: TaskContext<I>): Promise<unknown>;
}

export interface CheckEnv {
  store: Store;
  project: string;
  /** Where the input comes from: the HTTP API (hostile keys: no paths on the worker's disk) or the command line. */
  origin: "api" | "cli";
}

export type { ModelSettings };
