/**
 * What every loop shares: the run record, tasks worked on a few at a time, the budget, and the trace. Each policy
 * output is stored as a generation (before any feedback is asked for, so people can answer it over the API), each
 * verdict as a feedback record, both with the run id in their metadata, and each step as a loop step pointing at them.
 */
import { createHash, randomBytes } from "node:crypto";
import { RlxfError } from "../errors.js";
import { type Feedback, type Generation, type Item, DEFAULT_PROJECT } from "../feedback/schema.js";
import { parseFeedback } from "../feedback/index.js";
import type { ChatMessage, ChatRequest } from "../providers/index.js";
import { ProviderError } from "../providers/index.js";
import { extractAnswer } from "../sources/index.js";
import { toVerificationValue } from "../sources/verifiers/index.js";
import type { LoopStepInput } from "../store/index.js";
import { FeedbackTimeoutError, ZERO_SPEND, addSpend, spendOf } from "./feedback.js";
import { type LoopSummary, loopMetrics } from "./metrics.js";
import type { Budget, Called, FeedbackResult, LoopContext, LoopTask, Spend } from "./types.js";

export const LOOP_KINDS = ["refine", "retry", "reflexion", "best-of-n", "multi-turn"] as const;
export type LoopKind = (typeof LOOP_KINDS)[number];

/** Why a task stopped. */
export type StopReason = "satisfied" | "rounds" | "budget" | "unchanged" | "repeating" | "feedback-timeout" | "error";

export interface TaskResult {
  taskId: string;
  itemId: string;
  solved: boolean;
  stop: StopReason;
  attempts: number;
  /** The output the loop ends with (best-of-n: the one it picked). */
  final?: string;
  tokens: number;
  costUsd: number;
  error?: string;
}

export interface LoopReport {
  runId: string;
  loop: LoopKind;
  project: string;
  tasks: TaskResult[];
  summary: LoopSummary;
}

export const newRunId = (loop: string) => `${loop}-${new Date().toISOString().replace(/[-:.]/g, "").replace("T", "-").slice(0, 15)}-${randomBytes(3).toString("hex")}`;

/** The stored item of a task: keyed by its content, so reruns of a task file share items. */
export function itemIdOf(task: LoopTask): string {
  return `task-${createHash("sha256").update(task.prompt).update("\u0000").update(task.reference ?? "").digest("hex").slice(0, 20)}`;
}

/** A final answer to compare attempts by: the extracted final answer (see `extractAnswer`), else the whole text; normalised. */
export function answerKey(text: string): string {
  const s = extractAnswer(text)?.answer ?? text;
  return s.replace(/\s+/g, " ").trim().replace(/[.\s$]+$/, "").replace(/^\$+/, "").toLowerCase();
}

function budgetReason(b: Budget, task: Spend, run: Spend): string | undefined {
  const tokens = (s: Spend) => s.inputTokens + s.outputTokens;
  if (b.tokensPerTask !== undefined && tokens(task) >= b.tokensPerTask) return `the task spent ${tokens(task)} of ${b.tokensPerTask} tokens`;
  if (b.costPerTaskUsd !== undefined && task.costUsd >= b.costPerTaskUsd) return `the task spent $${task.costUsd.toFixed(4)} of $${b.costPerTaskUsd}`;
  if (b.totalTokens !== undefined && tokens(run) >= b.totalTokens) return `the run spent ${tokens(run)} of ${b.totalTokens} tokens`;
  if (b.totalCostUsd !== undefined && run.costUsd >= b.totalCostUsd) return `the run spent $${run.costUsd.toFixed(4)} of $${b.totalCostUsd}`;
  return undefined;
}

export function checkBudget(b: Budget): void {
  const bad: string[] = [];
  if (!Number.isInteger(b.rounds) || b.rounds < 1) bad.push("rounds must be a positive integer");
  for (const k of ["tokensPerTask", "costPerTaskUsd", "totalTokens", "totalCostUsd"] as const) {
    const v = b[k];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) bad.push(`${k} must be a positive number`);
  }
  if (bad.length) throw new RlxfError("invalid_input", `invalid budget: ${bad.join("; ")}`);
}

/** A budget ran out before the next model call. */
export class BudgetSpent extends Error {}

export interface Judged {
  feedback: FeedbackResult;
  /** Ground truth (the check), else the feedback's verdict. */
  correct: boolean;
  feedbackId: string;
  checkId?: string;
}

/** One task's work within a run: model calls, verdicts and steps, all traced. */
export class TaskTrace {
  readonly task: LoopTask;
  readonly itemId: string;
  spend: Spend = { ...ZERO_SPEND };
  attempts = 0;
  /** The latest judged output and whether it was correct. */
  last: { output: string; correct: boolean } | undefined;
  #memory: { ids: string[]; system?: string } | undefined;
  constructor(
    private readonly run: RunState,
    task: LoopTask,
  ) {
    this.task = task;
    this.itemId = itemIdOf(task);
  }

  get ctx(): LoopContext {
    return this.run.ctx;
  }

  get runId(): string {
    return this.run.runId;
  }

  genId(turn: number, role = "a"): string {
    return `${this.run.runId}/${this.task.id}/${role}${turn}`;
  }

  /** Principles and corrections for this task's prompt (retrieved once), as a system message. */
  async memory(): Promise<{ ids: string[]; system?: string }> {
    if (this.#memory) return this.#memory;
    const m = this.ctx.memory;
    if (!m) return (this.#memory = { ids: [] });
    const found = await m.retrieve(this.task.prompt);
    if (found.length === 0) return (this.#memory = { ids: [] });
    this.#memory = { ids: found.map((f) => f.id), system: memoryPrompt(found) };
    return this.#memory;
  }

  /** The messages of a first attempt: system prompt, retrieved memory, then the user's prompt. */
  async firstMessages(userText = this.task.prompt): Promise<ChatMessage[]> {
    return [...(await this.systemMessages()), { role: "user", content: userText }];
  }

  async systemMessages(): Promise<ChatMessage[]> {
    const mem = await this.memory();
    const sys = [this.ctx.policy.system, mem.system].filter((s): s is string => !!s);
    return sys.length ? [{ role: "system", content: sys.join("\n\n") }] : [];
  }

  /** Throws BudgetSpent when a budget is spent. */
  ensureBudget(): void {
    const why = budgetReason(this.ctx.budget, this.spend, this.run.spend);
    if (why) throw new BudgetSpent(why);
  }

  addSpend(s: Spend): void {
    this.spend = addSpend(this.spend, s);
    this.run.spend = addSpend(this.run.spend, s);
  }

  /** Call the policy; nothing is stored. */
  async call(messages: ChatMessage[], opts: { temperature?: number; sample?: number } = {}): Promise<Called> {
    this.ensureBudget();
    const p = this.ctx.policy;
    const req: ChatRequest = { messages };
    const temperature = opts.temperature ?? p.temperature;
    if (temperature !== undefined) req.temperature = temperature;
    if (p.maxTokens !== undefined) req.maxTokens = p.maxTokens;
    if (opts.sample !== undefined) req.sample = opts.sample;
    const response = await p.model.chat(req);
    const spend = spendOf(response, p.pricing);
    this.addSpend(spend);
    return { text: response.text, response, spend };
  }

  /** Store an output as a generation of the policy. */
  async storeGeneration(id: string, output: string, meta: Record<string, unknown>): Promise<void> {
    const g: Generation = {
      id,
      project: this.run.project,
      itemId: this.itemId,
      policy: this.run.policyName,
      output,
      metadata: { loopRun: this.run.runId, loop: this.run.loop, taskId: this.task.id, ...meta },
    };
    await this.ctx.store.write({ generations: [g] });
  }

  /** Ask the feedback source (and the check) about a stored output; store their verdicts. */
  async judge(generationId: string, output: string, turn: number, history: ReadonlyArray<{ output: string; feedback: FeedbackResult }>): Promise<Judged> {
    // An output already paid for is always judged; budgets are checked before the next policy call.
    const fb = await this.ctx.feedback.evaluate({ task: this.task, output, generationId, itemId: this.itemId, project: this.run.project, history });
    if (fb.spend) this.addSpend(fb.spend);
    const meta = { loopRun: this.run.runId, loop: this.run.loop, taskId: this.task.id, turn };
    const records: Feedback[] = [];
    let feedbackId = fb.storedId;
    if (!feedbackId) {
      feedbackId = `${generationId}/feedback`;
      records.push(
        parseFeedback({ id: feedbackId, project: this.run.project, kind: fb.record.kind, itemId: this.itemId, targets: [generationId], source: this.ctx.feedback.source, value: fb.record.value, metadata: { ...meta, role: "feedback" } }),
      );
    }
    let correct = fb.passed;
    let checkId: string | undefined;
    const check = this.ctx.check;
    if (check) {
      const r = await check.verify({ prompt: this.task.prompt, completion: output, ...(this.task.reference !== undefined ? { reference: this.task.reference } : {}) });
      correct = r.passed;
      checkId = `${generationId}/check`;
      records.push(
        parseFeedback({
          id: checkId,
          project: this.run.project,
          kind: "verification",
          itemId: this.itemId,
          targets: [generationId],
          source: { type: "verifier", id: check.name, metadata: { verifierType: check.type } },
          value: toVerificationValue(r),
          metadata: { ...meta, role: "check" },
        }),
      );
    }
    if (records.length) await this.ctx.store.write({ feedback: records }, { parsed: true });
    this.last = { output, correct };
    return { feedback: fb, correct, feedbackId, ...(checkId ? { checkId } : {}) };
  }

  /** Store feedback the loop itself writes (Reflexion's reflections). */
  async storeFeedback(f: unknown): Promise<void> {
    await this.ctx.store.write({ feedback: [f] });
  }

  async step(turn: number, data: Record<string, unknown>, generationId?: string): Promise<void> {
    const s: LoopStepInput = { seq: this.run.seq++, taskId: this.task.id, turn, data, ...(generationId ? { generationId } : {}) };
    await this.ctx.store.loops.addSteps(this.run.project, this.run.runId, [s]);
  }

  /** The usual record of an attempt's step. */
  attemptData(output: string, j: Judged | undefined, spend: Spend, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      role: "attempt",
      answer: answerKey(output).slice(0, 200),
      ...(j
        ? {
            passed: j.feedback.passed,
            score: j.feedback.score,
            correct: j.correct,
            feedbackId: j.feedbackId,
            ...(j.checkId ? { checkId: j.checkId } : {}),
            feedback: j.feedback.text.slice(0, 500),
            ...(j.feedback.weaknesses?.length ? { weaknesses: j.feedback.weaknesses } : {}),
            ...(j.feedback.reward ? { reward: j.feedback.reward } : {}),
          }
        : {}),
      tokens: spend.inputTokens + spend.outputTokens,
      costUsd: spend.costUsd,
      ...extra,
    };
  }
}

/** The principles and corrections retrieved for a prompt, as the policy is shown them (ConstitutionMaker puts principles in the prompt; DROC, past corrections). */
export function memoryPrompt(found: ReadonlyArray<{ kind: string; text: string; example?: string }>): string {
  const principles = found.filter((f) => f.kind === "principle");
  const corrections = found.filter((f) => f.kind === "correction");
  const parts: string[] = [];
  if (principles.length) parts.push(`Follow these principles, learned from feedback on earlier answers:\n${principles.map((p) => `- ${p.text}`).join("\n")}`);
  if (corrections.length) {
    parts.push(
      `Earlier answers to similar requests were corrected as follows:\n${corrections
        .map((c) => `${c.example ? `Request: ${c.example}\n` : ""}Corrected answer: ${c.text}`)
        .join("\n\n")}`,
    );
  }
  return parts.join("\n\n");
}

interface RunState {
  ctx: LoopContext;
  runId: string;
  project: string;
  loop: LoopKind;
  policyName: string;
  seq: number;
  spend: Spend;
}

export type TaskBody = (t: TaskTrace) => Promise<{ solved: boolean; stop: StopReason; final?: string }>;

/** Run `body` on every task (a few at a time) under one run record; returns the report, also stored as the run's summary. */
export async function runLoop(loop: LoopKind, tasks: readonly LoopTask[], ctx: LoopContext, config: Record<string, unknown>, body: TaskBody): Promise<LoopReport> {
  checkBudget(ctx.budget);
  if (tasks.length === 0) throw new RlxfError("no_data", "no tasks to run");
  const ids = new Set<string>();
  for (const t of tasks) {
    if (ids.has(t.id)) throw new RlxfError("invalid_input", `task id "${t.id}" appears twice`);
    ids.add(t.id);
  }
  const project = ctx.project ?? DEFAULT_PROJECT;
  const runId = ctx.runId ?? newRunId(loop);
  const policyName = ctx.policy.name ?? ctx.policy.model.model;
  await ctx.store.loops.create({
    project,
    id: runId,
    loop,
    config: {
      ...config,
      policy: policyName,
      feedback: ctx.feedback.source,
      ...(ctx.check ? { check: ctx.check.name } : {}),
      budget: ctx.budget,
      memory: !!ctx.memory,
      tasks: tasks.length,
      ...(ctx.config ?? {}),
    },
  });
  const state: RunState = { ctx, runId, project, loop, policyName, seq: 0, spend: { ...ZERO_SPEND } };
  const results: TaskResult[] = new Array(tasks.length);
  let next = 0;
  let done = 0;
  const items: Item[] = tasks.map((t) => ({
    id: itemIdOf(t),
    project,
    prompt: t.prompt,
    ...(t.reference !== undefined ? { reference: t.reference } : {}),
  }));
  try {
    await ctx.store.write({ items });
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= tasks.length) return;
        const t = new TaskTrace(state, tasks[i]!);
        let r: { solved: boolean; stop: StopReason; final?: string; error?: string };
        try {
          r = await body(t);
        } catch (e) {
          // A spent budget ends the task with its latest judged output.
          if (e instanceof BudgetSpent) r = { solved: t.last?.correct ?? false, stop: "budget", ...(t.last ? { final: t.last.output } : {}), error: e.message };
          else if (e instanceof FeedbackTimeoutError) r = { solved: false, stop: "feedback-timeout", error: e.message };
          else if (e instanceof ProviderError || (e instanceof RlxfError && e.code === "model_failed")) r = { solved: false, stop: "error", error: e.message };
          else throw e;
        }
        const tokens = t.spend.inputTokens + t.spend.outputTokens;
        await t.step(t.attempts, { role: "end", stop: r.stop, solved: r.solved, attempts: t.attempts, tokens, costUsd: t.spend.costUsd, ...(r.error ? { error: r.error } : {}) });
        results[i] = { taskId: t.task.id, itemId: t.itemId, solved: r.solved, stop: r.stop, attempts: t.attempts, ...(r.final !== undefined ? { final: r.final } : {}), tokens, costUsd: t.spend.costUsd, ...(r.error ? { error: r.error } : {}) };
        ctx.onTaskDone?.(++done, tasks.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(ctx.concurrency ?? 4, tasks.length)) }, worker));
  } catch (e) {
    await ctx.store.loops.finish(project, runId, "failed", { error: (e as Error).message }).catch(() => {});
    throw e;
  }
  const summary = loopMetrics(loop, await ctx.store.loops.steps(project, runId));
  await ctx.store.loops.finish(project, runId, "done", summary);
  return { runId, loop, project, tasks: results, summary };
}
