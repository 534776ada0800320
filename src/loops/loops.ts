/**
 * The test-time loops. Each works over any policy and any feedback source, within a budget, and traces every step.
 *
 * - `refineLoop` (Self-Refine): answer, get a critique, rewrite with its weaknesses and suggestions in the prompt;
 *   stops when the critic is satisfied, the output stops changing, or the budget is spent;
 * - `retryLoop` (UFO, "a simple try again"): only unary feedback ("that is not right, try again"), with Feedback
 *   Friction's mitigations: progressive temperature, and rejecting answers given before (the policy is told which,
 *   and a repeated answer is resampled instead of being submitted again);
 * - `reflexionLoop` (Reflexion): after a failed attempt the policy writes a reflection into an episodic memory
 *   that the next attempts see;
 * - `bestOfNLoop`: n samples scored by a verifier, judge or reward model (mean or uncertainty-penalised), the best
 *   kept; with `untilPass`, rejection sampling (stop at the first that passes);
 * - `multiTurnLoop` (MINT, ConvSim): a conversation in which a simulated user's natural-language feedback is the next turn.
 */
import { RlxfError } from "../errors.js";
import { parseFeedback } from "../feedback/index.js";
import type { ChatMessage } from "../providers/index.js";
import { BudgetSpent, type Judged, type LoopReport, type StopReason, type TaskTrace, answerKey, runLoop } from "./run.js";
import type { FeedbackResult, LoopContext, LoopTask } from "./types.js";

type History = Array<{ output: string; feedback: FeedbackResult }>;

const same = (a: string, b: string) => a.replace(/\s+/g, " ").trim() === b.replace(/\s+/g, " ").trim();

function bulletList(title: string, xs: readonly string[] | undefined): string {
  return xs && xs.length ? `\n${title}:\n${xs.map((x) => `- ${x}`).join("\n")}` : "";
}

/** Feedback as the policy reads it: the words, then the weaknesses and suggestions it named. */
export function feedbackText(fb: FeedbackResult): string {
  return `${fb.text}${bulletList("Weaknesses", fb.weaknesses)}${bulletList("Suggestions", fb.suggestions)}`;
}

/** One attempt: call the policy, store the output, ask for feedback, record the step. */
async function attempt(
  t: TaskTrace,
  messages: ChatMessage[],
  turn: number,
  history: History,
  opts: { temperature?: number; sample?: number; role?: string; extra?: Record<string, unknown> } = {},
): Promise<{ output: string; judged: Judged }> {
  const called = await t.call(messages, opts);
  const id = t.genId(turn, opts.sample ? `a${opts.sample}-` : "a");
  const mem = await t.memory();
  await t.storeGeneration(id, called.text, { turn, role: opts.role ?? "attempt", input: messages[messages.length - 1]!.content.slice(0, 4000), ...(mem.ids.length ? { memory: mem.ids } : {}) });
  t.attempts++;
  const before = t.spend;
  const judged = await t.judge(id, called.text, turn, history);
  const fbSpend = { inputTokens: t.spend.inputTokens - before.inputTokens, outputTokens: t.spend.outputTokens - before.outputTokens, costUsd: t.spend.costUsd - before.costUsd };
  const spend = { inputTokens: called.spend.inputTokens + fbSpend.inputTokens, outputTokens: called.spend.outputTokens + fbSpend.outputTokens, costUsd: called.spend.costUsd + fbSpend.costUsd };
  await t.step(
    turn,
    t.attemptData(called.text, judged, spend, {
      ...(opts.role && opts.role !== "attempt" ? { role: opts.role } : {}),
      ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
      ...(mem.ids.length ? { memory: mem.ids } : {}),
      ...(opts.extra ?? {}),
    }),
    id,
  );
  return { output: called.text, judged };
}

// ---------------------------------------------------------------- refine ---

export interface RefineOptions {
  /** Keep every earlier answer and its feedback in the refinement prompt (Self-Refine), or only the last (default true). */
  keepHistory?: boolean;
}

export function refinePrompt(task: LoopTask, history: History, keepHistory = true): string {
  const shown = keepHistory ? history : history.slice(-1);
  const parts = shown.map(
    (h, i) => `## ${shown.length > 1 ? `Answer ${i + 1}` : "Your previous answer"}\n\n${h.output}\n\n## Feedback${shown.length > 1 ? ` on answer ${i + 1}` : ""}\n\n${feedbackText(h.feedback)}`,
  );
  return (
    `${task.prompt}\n\n${parts.join("\n\n")}\n\n` +
    "Write an improved answer that fixes every weakness the feedback names and follows its suggestions. Reply with the complete improved answer only."
  );
}

export async function refineLoop(tasks: readonly LoopTask[], ctx: LoopContext, opts: RefineOptions = {}): Promise<LoopReport> {
  const keepHistory = opts.keepHistory ?? true;
  return runLoop("refine", tasks, ctx, { keepHistory }, async (t) => {
    const history: History = [];
    let a = await attempt(t, await t.firstMessages(), 0, history);
    for (let turn = 1; ; turn++) {
      history.push({ output: a.output, feedback: a.judged.feedback });
      if (a.judged.feedback.passed) return { solved: a.judged.correct, stop: "satisfied", final: a.output };
      if (turn >= ctx.budget.rounds) return { solved: a.judged.correct, stop: "rounds", final: a.output };
      const messages = [...(await t.systemMessages()), { role: "user" as const, content: refinePrompt(t.task, history, keepHistory) }];
      const called = await t.call(messages);
      if (same(called.text, a.output)) {
        // The output stopped changing: record it (the verdict carries over; it fixed nothing) and stop.
        const id = t.genId(turn);
        await t.storeGeneration(id, called.text, { turn, role: "attempt", unchanged: true });
        t.attempts++;
        await t.step(turn, { ...t.attemptData(called.text, a.judged, called.spend), carried: true, feedbackId: undefined }, id);
        return { solved: a.judged.correct, stop: "unchanged", final: a.output };
      }
      const id = t.genId(turn);
      await t.storeGeneration(id, called.text, { turn, role: "attempt", input: messages[messages.length - 1]!.content.slice(0, 4000) });
      t.attempts++;
      const before = t.spend;
      const judged = await t.judge(id, called.text, turn, history);
      const spend = { inputTokens: called.spend.inputTokens + t.spend.inputTokens - before.inputTokens, outputTokens: called.spend.outputTokens + t.spend.outputTokens - before.outputTokens, costUsd: called.spend.costUsd + t.spend.costUsd - before.costUsd };
      await t.step(turn, t.attemptData(called.text, judged, spend), id);
      a = { output: called.text, judged };
    }
  });
}

// ----------------------------------------------------------------- retry ---

export interface RetryOptions {
  /** The unary feedback (default "That is not right. Try again."). */
  message?: string;
  /** Raise the temperature by this much after each failed attempt (Feedback Friction's progressive temperature); default 0 (off). */
  temperatureStep?: number;
  /** Temperature of the first attempt when stepping (default: the policy's, else 0). */
  startTemperature?: number;
  maxTemperature?: number;
  /**
   * Tell the policy which answers it already gave, and resample (up to `maxResamples` times) an answer it gave
   * before instead of submitting it again (Feedback Friction's explicit rejection of earlier answers). Default false.
   */
  rejectPrevious?: boolean;
  maxResamples?: number;
  /** What makes two answers the same (default `answerKey`: the boxed or stated final answer, normalised). */
  answerKey?: (text: string) => string;
}

export async function retryLoop(tasks: readonly LoopTask[], ctx: LoopContext, opts: RetryOptions = {}): Promise<LoopReport> {
  const message = opts.message ?? "That is not right. Try again.";
  const step = opts.temperatureStep ?? 0;
  if (!(step >= 0)) throw new RlxfError("invalid_input", "temperatureStep must be a non-negative number");
  const start = opts.startTemperature ?? ctx.policy.temperature ?? (step > 0 ? 0 : undefined);
  const maxT = opts.maxTemperature ?? 2;
  const keyOf = opts.answerKey ?? answerKey;
  const maxResamples = opts.maxResamples ?? 3;
  const temperatureAt = (k: number) => (start === undefined ? undefined : Math.min(maxT, start + step * k));
  return runLoop("retry", tasks, ctx, { message, temperatureStep: step, startTemperature: start ?? null, rejectPrevious: !!opts.rejectPrevious, maxResamples }, async (t) => {
    const history: History = [];
    const messages = await t.firstMessages();
    const given: string[] = [];
    let bumps = 0;
    let a = await attempt(t, messages, 0, history, { ...(temperatureAt(0) !== undefined ? { temperature: temperatureAt(0)! } : {}) });
    given.push(keyOf(a.output));
    for (let turn = 1; ; turn++) {
      history.push({ output: a.output, feedback: a.judged.feedback });
      if (a.judged.feedback.passed) return { solved: a.judged.correct, stop: "satisfied", final: a.output };
      if (turn >= ctx.budget.rounds) return { solved: a.judged.correct, stop: "rounds", final: a.output };
      let nudge = message;
      if (opts.rejectPrevious) nudge += `\nYou already gave these answers, and they are wrong: ${[...new Set(given)].join("; ")}. Do not give any of them again.`;
      messages.push({ role: "assistant", content: a.output }, { role: "user", content: nudge });
      bumps++;
      if (!opts.rejectPrevious) {
        const temp = temperatureAt(bumps);
        a = await attempt(t, messages, turn, history, { ...(temp !== undefined ? { temperature: temp } : {}) });
        given.push(keyOf(a.output));
        continue;
      }
      // Rejection of earlier answers: a repeat is resampled (a new sample, hotter when stepping), never submitted.
      let fresh: { text: string; temperature: number | undefined; sample: number } | undefined;
      for (let r = 0; r <= maxResamples; r++) {
        const temp = temperatureAt(bumps + r);
        const called = await t.call(messages, { ...(temp !== undefined ? { temperature: temp } : {}), ...(r > 0 ? { sample: r } : {}) });
        const key = keyOf(called.text);
        if (!given.includes(key)) {
          fresh = { text: called.text, temperature: temp, sample: r };
          // The call is already spent: store and judge it as this turn's attempt.
          const id = t.genId(turn);
          await t.storeGeneration(id, called.text, { turn, role: "attempt", input: nudge, ...(r > 0 ? { resample: r } : {}) });
          t.attempts++;
          const before = t.spend;
          const judged = await t.judge(id, called.text, turn, history);
          const spend = { inputTokens: called.spend.inputTokens + t.spend.inputTokens - before.inputTokens, outputTokens: called.spend.outputTokens + t.spend.outputTokens - before.outputTokens, costUsd: called.spend.costUsd + t.spend.costUsd - before.costUsd };
          await t.step(turn, t.attemptData(called.text, judged, spend, { ...(temp !== undefined ? { temperature: temp } : {}), ...(r > 0 ? { resample: r } : {}) }), id);
          a = { output: called.text, judged };
          given.push(key);
          break;
        }
        const id = t.genId(turn, `rejected${r}-`);
        await t.storeGeneration(id, called.text, { turn, role: "rejected", reason: "repeat" });
        await t.step(turn, { role: "rejected", reason: "repeat", answer: key.slice(0, 200), tokens: called.spend.inputTokens + called.spend.outputTokens, costUsd: called.spend.costUsd, ...(temp !== undefined ? { temperature: temp } : {}) }, id);
      }
      bumps += fresh ? fresh.sample : maxResamples;
      if (!fresh) return { solved: a.judged.correct, stop: "repeating", final: a.output };
    }
  });
}

// ------------------------------------------------------------- reflexion ---

export interface ReflexionOptions {
  /** How many reflections the episodic memory keeps (the most recent; default 3, as in Reflexion). */
  memorySize?: number;
}

export function reflectionPrompt(task: LoopTask, output: string, fb: FeedbackResult): string {
  return (
    `You were given this task:\n\n${task.prompt}\n\nYour answer was:\n\n${output}\n\nIt failed. Feedback: ${feedbackText(fb)}\n\n` +
    "In a few sentences, diagnose why the answer failed and write a concrete plan for your next attempt. Do not answer the task itself."
  );
}

export function reflexionAttemptPrompt(task: LoopTask, reflections: readonly string[]): string {
  if (reflections.length === 0) return task.prompt;
  return `${task.prompt}\n\nReflections on your earlier attempts at this task (use them to do better):\n${reflections.map((r, i) => `${i + 1}. ${r}`).join("\n")}`;
}

export async function reflexionLoop(tasks: readonly LoopTask[], ctx: LoopContext, opts: ReflexionOptions = {}): Promise<LoopReport> {
  const size = opts.memorySize ?? 3;
  return runLoop("reflexion", tasks, ctx, { memorySize: size }, async (t) => {
    const reflections: string[] = [];
    const history: History = [];
    for (let turn = 0; ; turn++) {
      const a = await attempt(t, await t.firstMessages(reflexionAttemptPrompt(t.task, reflections.slice(-size))), turn, history, { extra: { reflections: Math.min(size, reflections.length) } });
      history.push({ output: a.output, feedback: a.judged.feedback });
      if (a.judged.feedback.passed) return { solved: a.judged.correct, stop: "satisfied", final: a.output };
      if (turn + 1 >= ctx.budget.rounds) return { solved: a.judged.correct, stop: "rounds", final: a.output };
      const r = await t.call([...(await t.systemMessages()), { role: "user", content: reflectionPrompt(t.task, a.output, a.judged.feedback) }]);
      const text = r.text.trim();
      reflections.push(text);
      const genId = t.genId(turn);
      const fid = `${genId}/reflection`;
      // The reflection is the policy's own verbal feedback on its failed attempt.
      await t.storeFeedback(
        parseFeedback({
          id: fid,
          project: ctx.project ?? "default",
          kind: "critique",
          itemId: t.itemId,
          targets: [genId],
          source: { type: "critic", id: `reflexion/${ctx.policy.name ?? ctx.policy.model.model}` },
          value: { text: text || "(empty reflection)", verdict: "fail" },
          metadata: { loopRun: t.runId, loop: "reflexion", taskId: t.task.id, role: "reflection", turn },
        }),
      );
      await t.step(turn, { role: "reflection", text: text.slice(0, 2000), feedbackId: fid, tokens: r.spend.inputTokens + r.spend.outputTokens, costUsd: r.spend.costUsd });
    }
  });
}

// ------------------------------------------------------------- best-of-n ---

export interface BestOfNOptions {
  /** Rank candidates by the score (`mean`, default) or, for reward-model ensembles, by mean − penalty × std. */
  aggregate?: "mean" | "penalized";
  penalty?: number;
  /** Rejection sampling: stop at the first candidate that passes. */
  untilPass?: boolean;
  /** Sampling temperature of the candidates (default 1). */
  temperature?: number;
}

/** The value a candidate is ranked by. */
export function candidateValue(fb: FeedbackResult, aggregate: "mean" | "penalized", penalty: number): number {
  if (fb.reward) return aggregate === "penalized" && fb.reward.std !== undefined ? fb.reward.mean - penalty * fb.reward.std : fb.reward.mean;
  return fb.score;
}

export async function bestOfNLoop(tasks: readonly LoopTask[], ctx: LoopContext, opts: BestOfNOptions = {}): Promise<LoopReport> {
  const aggregate = opts.aggregate ?? "mean";
  const penalty = opts.penalty ?? 1;
  const temperature = opts.temperature ?? 1;
  return runLoop("best-of-n", tasks, ctx, { n: ctx.budget.rounds, aggregate, penalty, untilPass: !!opts.untilPass, temperature }, async (t) => {
    const messages = await t.firstMessages();
    const cands: Array<{ output: string; judged: Judged; value: number; turn: number; id: string }> = [];
    let stop: StopReason = "rounds";
    for (let k = 0; k < ctx.budget.rounds; k++) {
      let called;
      try {
        called = await t.call(messages, { temperature, sample: k });
      } catch (e) {
        if (cands.length && e instanceof BudgetSpent) {
          stop = "budget";
          break;
        }
        throw e;
      }
      const id = t.genId(k, "c");
      await t.storeGeneration(id, called.text, { turn: k, role: "candidate" });
      t.attempts++;
      const before = t.spend;
      const judged = await t.judge(id, called.text, k, []);
      const spend = { inputTokens: called.spend.inputTokens + t.spend.inputTokens - before.inputTokens, outputTokens: called.spend.outputTokens + t.spend.outputTokens - before.outputTokens, costUsd: called.spend.costUsd + t.spend.costUsd - before.costUsd };
      const value = candidateValue(judged.feedback, aggregate, penalty);
      cands.push({ output: called.text, judged, value, turn: k, id });
      await t.step(k, t.attemptData(called.text, judged, spend, { role: "candidate", value }), id);
      if (opts.untilPass && judged.feedback.passed) {
        stop = "satisfied";
        break;
      }
    }
    let best = cands[0]!;
    for (const c of cands) if (c.value > best.value) best = c;
    // Steps are append-only: the pick is a step of its own.
    await t.step(best.turn, { role: "selected", value: best.value, correct: best.judged.correct }, best.id);
    return { solved: best.judged.correct, stop, final: best.output };
  });
}


// ------------------------------------------------------------ multi-turn ---

export async function multiTurnLoop(tasks: readonly LoopTask[], ctx: LoopContext): Promise<LoopReport> {
  return runLoop("multi-turn", tasks, ctx, {}, async (t) => {
    const history: History = [];
    const messages = await t.firstMessages();
    for (let turn = 0; ; turn++) {
      const a = await attempt(t, messages, turn, history);
      history.push({ output: a.output, feedback: a.judged.feedback });
      if (a.judged.feedback.passed) return { solved: a.judged.correct, stop: "satisfied", final: a.output };
      if (turn + 1 >= ctx.budget.rounds) return { solved: a.judged.correct, stop: "rounds", final: a.output };
      messages.push({ role: "assistant", content: a.output }, { role: "user", content: a.judged.feedback.text });
    }
  });
}
