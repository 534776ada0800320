/**
 * Closed-loop critic evaluation, after RealCritic: a critic critiques each solution, an actor revises it from the
 * critique, and the task's verifier checks the revision against the gold answer. A critique is judged by what it
 * leads to (accuracy after revision), beside its verdict's agreement with the labels (discriminability).
 *
 * Settings: self-critique (the critic is each solution's own model, `critic.self`), cross-critique (another
 * model), and iterative critique (`rounds` > 1: the critic critiques the latest revision, the actor revises
 * again). A solution the critic passes stands as it is (unless `reviseOnPass`) and is not critiqued again.
 * Model calls go through the given models (`Model` brings its concurrency limit, rate limits, retries and response
 * cache); tokens and cost are counted per call (cached answers are free).
 */
import { RlxfError } from "../errors.js";
import type { Pricing } from "../providers/index.js";
import { ProviderError } from "../providers/index.js";
import type { ChatModel, ChatRequest, ChatResponse } from "../providers/index.js";
import type { JudgeConfig } from "../sources/index.js";
import { critique } from "../sources/index.js";
import type { Verifier } from "../sources/verifiers/index.js";
import { type AnswerKind, answerVerifier } from "./answers.js";
import { type CriticMetrics, type RoundOutcome, type SolutionOutcome, type Spent, type TaskMetrics, criticReport } from "./metrics.js";
import { critiqueText, resolveCriticJudge, revisionMessages } from "./prompts.js";
import type { CriticSolution } from "./solutions.js";

export const MAX_ROUNDS = 10;

export interface CriticRole {
  /** The endpoint asked (a `Model`, or any chat model). */
  model: ChatModel;
  /** Ask each solution's own model (its policy name) on this endpoint instead of `model.model`. */
  self?: boolean;
  /** USD per million tokens, for the cost. */
  pricing?: Pricing;
}

export interface CriticEvalOptions {
  /** The critic, and its judge config of kind critique (default `solution-critique`). */
  critic: CriticRole & { judge?: JudgeConfig };
  /** The actor that revises from the critique. */
  actor: CriticRole & { maxTokens?: number; temperature?: number };
  /** Critique → revision rounds (default 1; at most 10). */
  rounds?: number;
  /** Revise solutions the critic passes too (default false: they stand). */
  reviseOnPass?: boolean;
  /** Solutions worked on at once (default 16; each model also keeps its own limit). */
  concurrency?: number;
  /** The verifier of a kind of answer (default `answerVerifier`). */
  verifier?: (kind: AnswerKind) => Verifier;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface CriticEvalSetting {
  mode: "self" | "cross";
  /** e.g. "self-critique", "cross-critique", "iterative cross-critique (3 rounds)". */
  label: string;
  rounds: number;
  /** The critic's model name, or "self" (each solution's model). */
  critic: string;
  actor: string;
  judge: string;
  reviseOnPass: boolean;
}

export interface CriticEvalResult {
  setting: CriticEvalSetting;
  overall: CriticMetrics;
  tasks: TaskMetrics[];
  seconds: number;
  outcomes: SolutionOutcome[];
}

const zero = (): Spent => ({ inputTokens: 0, outputTokens: 0, costUsd: 0, calls: 0 });

/** A model that asks `name` (when given) and adds what each call spends to `spent`. */
function metered(model: ChatModel, name: string | undefined, pricing: Pricing | undefined, spent: Spent): ChatModel {
  return {
    model: name ?? model.model,
    async chat(req: ChatRequest): Promise<ChatResponse> {
      const r = await model.chat(name !== undefined ? { ...req, model: name } : req);
      spent.calls++;
      if (!r.cached && r.usage) {
        spent.inputTokens += r.usage.inputTokens;
        spent.outputTokens += r.usage.outputTokens;
        if (pricing) spent.costUsd += (r.usage.inputTokens * pricing.inputPerMillion + r.usage.outputTokens * pricing.outputPerMillion) / 1e6;
      }
      return r;
    },
  };
}

const sameText = (a: string, b: string) => a.replace(/\s+/g, " ").trim() === b.replace(/\s+/g, " ").trim();

export function settingOf(opts: Pick<CriticEvalOptions, "critic" | "actor" | "rounds" | "reviseOnPass">, judge: string): CriticEvalSetting {
  const rounds = opts.rounds ?? 1;
  const mode = opts.critic.self ? "self" : "cross";
  return {
    mode,
    label: rounds > 1 ? `iterative ${mode}-critique (${rounds} rounds)` : `${mode}-critique`,
    rounds,
    critic: opts.critic.self ? "self" : opts.critic.model.model,
    actor: opts.actor.self ? "self" : opts.actor.model.model,
    judge,
    reviseOnPass: !!opts.reviseOnPass,
  };
}

async function evaluateOne(s: CriticSolution, opts: CriticEvalOptions, judge: JudgeConfig, rounds: number, verifiers: Map<AnswerKind, Verifier>): Promise<SolutionOutcome> {
  const out: SolutionOutcome = { id: s.id, task: s.task, model: s.model, correct: s.correct, rounds: [], critic: zero(), actor: zero() };
  const critic = metered(opts.critic.model, opts.critic.self ? s.model : undefined, opts.critic.pricing, out.critic);
  const actor = metered(opts.actor.model, opts.actor.self ? s.model : undefined, opts.actor.pricing, out.actor);
  let current = s.solution;
  let correct = s.correct;
  for (let r = 0; r < rounds; r++) {
    const c = await critique(critic, judge, { instruction: s.question, output: current });
    if (!c.ok) {
      out.rounds.push({ verdict: null, revised: false, correct, error: `critic: ${c.error}` });
      break;
    }
    const round: RoundOutcome = { verdict: c.verdict, revised: false, correct };
    out.rounds.push(round);
    if (c.verdict === "pass" && !opts.reviseOnPass) break;
    let revision: string;
    try {
      const res = await actor.chat({
        messages: revisionMessages({ question: s.question, solution: current, critique: critiqueText(c), kind: s.kind }),
        temperature: opts.actor.temperature ?? 0,
        maxTokens: opts.actor.maxTokens ?? 4096,
      });
      revision = res.text;
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      round.error = `actor: ${e.message}`;
      break;
    }
    round.revised = true;
    if (!sameText(revision, current)) {
      try {
        correct = (await verifiers.get(s.kind)!.verify({ prompt: s.question, completion: revision, reference: s.gold })).passed;
      } catch (e) {
        round.error = `verifier: ${(e as Error).message}`;
        correct = false;
      }
      current = revision;
    }
    round.correct = correct;
  }
  return out;
}

async function mapLimit<T, R>(xs: readonly T[], limit: number, fn: (x: T) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const out = new Array<R>(xs.length);
  let next = 0;
  const worker = async () => {
    while (next < xs.length) {
      if (signal?.aborted) throw new RlxfError("aborted", "the critic evaluation was cancelled");
      const i = next++;
      out[i] = await fn(xs[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, xs.length)) }, worker));
  return out;
}

/** Critique, revise and check every solution; metrics per task and overall. */
export async function evaluateCritic(solutions: readonly CriticSolution[], opts: CriticEvalOptions): Promise<CriticEvalResult> {
  const rounds = opts.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) throw new RlxfError("invalid_input", `rounds must be an integer from 1 to ${MAX_ROUNDS}, got ${rounds}`);
  const concurrency = opts.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RlxfError("invalid_input", `concurrency must be a positive integer, got ${concurrency}`);
  if (solutions.length === 0) throw new RlxfError("no_data", "no solutions to critique");
  const judge = opts.critic.judge ?? resolveCriticJudge();
  if (judge.kind !== "critique") throw new RlxfError("invalid_config", `judge "${judge.name}" is a ${judge.kind} judge; a critic is a judge of kind critique`);
  const verifiers = new Map<AnswerKind, Verifier>((["math", "choice"] as const).map((k) => [k, (opts.verifier ?? answerVerifier)(k)]));
  const t0 = performance.now();
  let done = 0;
  const outcomes = await mapLimit(
    solutions,
    concurrency,
    async (s) => {
      const o = await evaluateOne(s, opts, judge, rounds, verifiers);
      opts.onProgress?.(++done, solutions.length);
      return o;
    },
    opts.signal,
  );
  const priced = opts.critic.pricing !== undefined || opts.actor.pricing !== undefined;
  return { setting: settingOf(opts, judge.name), ...criticReport(outcomes, rounds, priced), seconds: (performance.now() - t0) / 1000, outcomes };
}
