/**
 * The shapes every test-time loop shares: tasks, the policy, feedback sources, budgets and the context a loop runs in.
 */
import type { FeedbackKind, FeedbackValue, Source } from "../feedback/schema.js";
import type { Pricing } from "../providers/index.js";
import type { ChatModel, ChatResponse } from "../providers/index.js";
import type { Verifier } from "../sources/verifiers/index.js";
import type { Store } from "../store/index.js";

/** One task: a prompt and, when known, its ground truth. */
export interface LoopTask {
  id: string;
  prompt: string;
  /** The gold answer (what a verifier checks against). */
  reference?: string;
  metadata?: Record<string, unknown>;
}

/** The model being improved at test time. */
export interface Policy {
  /** The policy name stored on its generations (default: the model name). */
  name?: string;
  model: ChatModel;
  /** USD per million tokens, for the cost budget and cost per solved task. */
  pricing?: Pricing;
  /** Sampling temperature of first attempts (default: the server's). */
  temperature?: number;
  maxTokens?: number;
  /** A system prompt put before every conversation. */
  system?: string;
}

export interface Spend {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** What a feedback source says about one output. */
export interface FeedbackResult {
  /** The source is satisfied with the output (critic verdict pass, verifier passed, score over the threshold). */
  passed: boolean;
  /** A score in [0, 1] (1 = best), for ranking candidates. */
  score: number;
  /** Reward models: the raw reward's mean and spread (ensembles), for uncertainty-penalised ranking. */
  reward?: { mean: number; std?: number };
  /** The feedback in words, as the policy is shown it. */
  text: string;
  weaknesses?: string[];
  suggestions?: string[];
  /** The feedback record's kind and value, as stored. */
  record: { kind: FeedbackKind; value: FeedbackValue };
  /** Set when the record is already in the store (human feedback): the loop then links it instead of writing one. */
  storedId?: string;
  /** Model tokens and cost the source spent. */
  spend?: Spend;
}

export interface EvaluateInput {
  task: LoopTask;
  output: string;
  /** The stored generation of `output` (written before the source is asked). */
  generationId: string;
  itemId: string;
  project: string;
  /** The task's earlier outputs and what the source said about them, oldest first. */
  history: ReadonlyArray<{ output: string; feedback: FeedbackResult }>;
}

/** Anything that gives feedback on an output: a verifier, an LLM judge or critic, a reward model, a human, a simulated user. */
export interface FeedbackSource {
  /** Who gives the feedback, as stored on its records. */
  readonly source: Source;
  evaluate(input: EvaluateInput): Promise<FeedbackResult>;
}

/** Limits of a run: per task (rounds, tokens, cost) and over the whole run (tokens, cost). Tokens count policy and feedback models. */
export interface Budget {
  /** Attempts per task (best-of-n: candidates). */
  rounds: number;
  tokensPerTask?: number;
  costPerTaskUsd?: number;
  totalTokens?: number;
  totalCostUsd?: number;
}

/** Principles and past corrections retrieved for a prompt, to be put in the policy's prompt. */
export interface MemorySource {
  retrieve(input: string): Promise<Array<{ id: string; kind: string; text: string; similarity: number; example?: string }>>;
}

export interface LoopContext {
  store: Store;
  project?: string;
  /** Default: a new unique id. */
  runId?: string;
  policy: Policy;
  feedback: FeedbackSource;
  /**
   * Ground truth for the metrics: whether an output is correct. Default: the feedback source's verdict.
   * Give it when the feedback is a critic or a simulated user but the tasks have references (e.g. `math`).
   */
  check?: Verifier;
  budget: Budget;
  memory?: MemorySource;
  /** Tasks worked on at once (default 4). Attempts within a task are always in order. */
  concurrency?: number;
  /** Extra settings recorded with the run. */
  config?: Record<string, unknown>;
  onTaskDone?: (done: number, total: number) => void;
}

/** A model call's text and what it spent. */
export interface Called {
  text: string;
  response: ChatResponse;
  spend: Spend;
}
