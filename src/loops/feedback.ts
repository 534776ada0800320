/**
 * Feedback sources for test-time loops: verifiers, LLM critics and judges, reward models, humans (feedback that
 * appears in the store) and simulated users (MINT, ConvSim). Each turns its verdict into words the policy is
 * shown, a pass/fail, a score for ranking, and the feedback record to store.
 */
import { RlxfError } from "../errors.js";
import type { Feedback, FeedbackValue, Source, SourceType } from "../feedback/schema.js";
import type { Pricing } from "../providers/index.js";
import type { ChatModel, ChatRequest, ChatResponse } from "../providers/index.js";
import type { JudgeConfig } from "../sources/index.js";
import { critique, gradeRubric, gradeWithReference } from "../sources/index.js";
import { toVerificationValue, type Verifier } from "../sources/verifiers/index.js";
import type { RewardModel } from "../learn/index.js";
import type { Store } from "../store/index.js";
import type { EvaluateInput, FeedbackResult, FeedbackSource, Spend } from "./types.js";

export const ZERO_SPEND: Spend = { inputTokens: 0, outputTokens: 0, costUsd: 0 };

export function spendOf(r: Pick<ChatResponse, "usage" | "cached">, pricing?: Pricing): Spend {
  if (r.cached || !r.usage) return { ...ZERO_SPEND };
  const { inputTokens, outputTokens } = r.usage;
  const costUsd = pricing ? (inputTokens * pricing.inputPerMillion + outputTokens * pricing.outputPerMillion) / 1e6 : 0;
  return { inputTokens, outputTokens, costUsd };
}

export const addSpend = (a: Spend, b: Spend): Spend => ({
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
  costUsd: a.costUsd + b.costUsd,
});

/** A model that adds up what its calls spent (one per evaluation, so concurrent tasks do not mix). */
export function meteredModel(model: ChatModel, pricing?: Pricing): { model: ChatModel; spend: () => Spend } {
  let total: Spend = { ...ZERO_SPEND };
  return {
    model: {
      model: model.model,
      async chat(req: ChatRequest) {
        const r = await model.chat(req);
        total = addSpend(total, spendOf(r, pricing));
        return r;
      },
    },
    spend: () => total,
  };
}

const short = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// -------------------------------------------------------------- verifier ---

/**
 * A verifier as feedback. The words name what was checked without giving the gold answer away: for math, the
 * final answer it read ("The final answer 7 is not correct."), or why it could not read one.
 */
export function verifierFeedback(verifier: Verifier): FeedbackSource {
  return {
    source: { type: "verifier", id: verifier.name, metadata: { verifierType: verifier.type } },
    async evaluate({ task, output }) {
      const r = await verifier.verify({ prompt: task.prompt, completion: output, ...(task.reference !== undefined ? { reference: task.reference } : {}) });
      let text: string;
      if (r.passed) text = "The answer is correct.";
      else if (typeof r.details.extracted === "string") text = `The final answer ${short(r.details.extracted)} is not correct.`;
      else if (typeof r.details.error === "string") text = `The answer could not be checked: ${short(r.details.error, 300)}.`;
      else text = "The answer is not correct.";
      const value = toVerificationValue(r);
      return { passed: r.passed, score: r.score, text, record: { kind: "verification", value } };
    },
  };
}

// ----------------------------------------------------------- LLM judges ---

export interface JudgeFeedbackOptions {
  /** Source id on the records (default `<judge>/<model>`). */
  sourceId?: string;
  /** reference and rubric judges: the share of the best score that passes (default 0.8). */
  passAt?: number;
  pricing?: Pricing;
}

/**
 * An LLM judge as feedback: a critique judge (strengths, weaknesses, suggestions, a pass/fail verdict; Self-Refine's
 * FEEDBACK step), a reference-guided grader (a score against the gold answer) or a rubric judge (criteria of its config).
 */
export function judgeFeedback(model: ChatModel, judge: JudgeConfig, opts: JudgeFeedbackOptions = {}): FeedbackSource {
  if (!["critique", "reference", "rubric"].includes(judge.kind)) {
    throw new RlxfError("invalid_config", `judge "${judge.name}" is a ${judge.kind} judge; loops take critique, reference or rubric judges`);
  }
  const sourceType: SourceType = judge.kind === "critique" ? "critic" : "judge";
  const source: Source = { type: judge.sourceType ?? sourceType, id: opts.sourceId ?? `${judge.name}/${model.model}` };
  const passAt = opts.passAt ?? 0.8;
  return {
    source,
    async evaluate({ task, output }) {
      const m = meteredModel(model, opts.pricing);
      const input = { instruction: task.prompt, output, ...(task.reference !== undefined ? { reference: task.reference } : {}) };
      if (judge.kind === "critique") {
        const c = await critique(m.model, judge, input);
        if (!c.ok) throw new RlxfError("model_failed", `critic ${source.id} gave no usable critique (${c.reason}): ${c.error}`);
        const value: FeedbackValue<"critique"> = { text: c.text, strengths: c.strengths, weaknesses: c.weaknesses, suggestions: c.suggestions, verdict: c.verdict };
        return {
          passed: c.verdict === "pass",
          score: c.verdict === "pass" ? 1 : 0,
          text: c.text,
          weaknesses: c.weaknesses,
          suggestions: c.suggestions,
          record: { kind: "critique", value },
          spend: m.spend(),
        };
      }
      if (judge.kind === "reference") {
        const g = await gradeWithReference(m.model, judge, input);
        if (!g.ok) throw new RlxfError("model_failed", `judge ${source.id} gave no usable grade (${g.reason}): ${g.error}`);
        const frac = g.score !== undefined ? (g.score - g.scale.min) / (g.scale.max - g.scale.min) : g.correct ? 1 : 0;
        const passed = g.correct ?? frac >= passAt;
        const value: FeedbackValue<"rating"> | FeedbackValue<"binary"> =
          g.score !== undefined ? { score: g.score, scale: g.scale } : { ok: !!g.correct };
        return {
          passed,
          score: frac,
          text: g.rationale ?? (passed ? "The answer matches the reference." : "The answer does not match the reference."),
          record: g.score !== undefined ? { kind: "rating", value } : { kind: "binary", value },
          spend: m.spend(),
        };
      }
      const r = await gradeRubric(m.model, judge, input);
      if (!r.ok) throw new RlxfError("model_failed", `judge ${source.id} gave no usable grade (${r.reason}): ${r.error}`);
      const failedCriteria = r.criteria.filter((c) => (c.passed !== undefined ? !c.passed : (c.score ?? 0) < (c.maxScore ?? 1) * passAt));
      const weaknesses = failedCriteria.map((c) => `${c.name}${c.rationale ? `: ${c.rationale}` : ""}`);
      const value: FeedbackValue<"rubric"> = {
        criteria: r.criteria.map((c) => ({
          name: c.name,
          ...(c.passed !== undefined ? { passed: c.passed } : {}),
          ...(c.score !== undefined ? { score: c.score, maxScore: c.maxScore } : {}),
          weight: c.weight,
          ...(c.rationale ? { rationale: c.rationale } : {}),
        })),
        total: r.total,
      };
      return {
        passed: r.total >= passAt,
        score: r.total,
        text: weaknesses.length ? `Criteria not met: ${weaknesses.join("; ")}` : "Every criterion is met.",
        weaknesses,
        record: { kind: "rubric", value },
        spend: m.spend(),
      };
    },
  };
}

// --------------------------------------------------------- reward model ---

export interface RewardFeedbackOptions {
  /** Source id (default `rm:<name>@<version>`). */
  sourceId?: string;
  /** Passes when σ(reward) reaches this (default 0.5). */
  threshold?: number;
}

/** A stored reward model as feedback: score σ(reward); ensembles also give the members' mean and spread. */
export function rewardModelFeedback(model: RewardModel, opts: RewardFeedbackOptions = {}): FeedbackSource {
  if (!model.scalar) throw new RlxfError("wrong_kind", `reward model "${model.meta.name}" is a ${model.type} model: it gives no per-response reward`);
  const ref = `${model.meta.name}@${model.meta.version ?? "?"}`;
  const threshold = opts.threshold ?? 0.5;
  return {
    source: { type: "verifier", id: opts.sourceId ?? `rm:${ref}`, metadata: { verifierType: "reward-model" } },
    async evaluate({ task, output }) {
      const [s] = await model.score([{ prompt: task.prompt, response: output }]);
      const score = 1 / (1 + Math.exp(-s!.reward));
      const passed = score >= threshold;
      const details = { model: ref, reward: s!.reward, ...(s!.std !== undefined ? { mean: s!.mean, std: s!.std } : {}) };
      return {
        passed,
        score,
        reward: { mean: s!.mean ?? s!.reward, ...(s!.std !== undefined ? { std: s!.std } : {}) },
        text: `A reward model scores this answer ${score.toFixed(2)} out of 1${passed ? "." : "; it can be better."}`,
        record: { kind: "verification", value: { passed, score, details } },
      };
    },
  };
}

// ----------------------------------------------------------------- human ---

export interface HumanFeedbackOptions {
  /** Give up after this long without feedback (default 10 minutes). */
  timeoutMs?: number;
  /** Poll interval (default 1 s). */
  pollMs?: number;
  /** Which source types count (default human and user). */
  sourceTypes?: SourceType[];
  /** A source id written in the run's config (default "human"). */
  id?: string;
}

/** No feedback arrived in time. */
export class FeedbackTimeoutError extends RlxfError {
  constructor(message: string) {
    super("feedback_timeout", message);
    this.name = "FeedbackTimeoutError";
  }
}

/** What any stored feedback record says, in the terms a loop needs. */
export function feedbackResultOf(f: Feedback): FeedbackResult {
  const base = { record: { kind: f.kind, value: f.value as FeedbackValue }, storedId: f.id };
  switch (f.kind) {
    case "binary":
      return { ...base, passed: f.value.ok, score: f.value.ok ? 1 : 0, text: f.value.comment ?? (f.value.ok ? "That is right." : "That is not right.") };
    case "critique": {
      const v = f.value;
      const passed = v.verdict ? v.verdict === "pass" : (v.weaknesses ?? []).length === 0;
      return { ...base, passed, score: passed ? 1 : 0, text: v.text, ...(v.weaknesses ? { weaknesses: v.weaknesses } : {}), ...(v.suggestions ? { suggestions: v.suggestions } : {}) };
    }
    case "rating": {
      const { score, scale } = f.value;
      const frac = (score - scale.min) / (scale.max - scale.min);
      return { ...base, passed: frac >= 0.5, score: frac, text: `Rated ${score} on a scale of ${scale.min} to ${scale.max}.` };
    }
    case "verification":
      return { ...base, passed: f.value.passed, score: f.value.score ?? (f.value.passed ? 1 : 0), text: f.value.passed ? "The answer is correct." : `The answer is not correct.${f.value.details?.error ? ` ${f.value.details.error}` : ""}` };
    case "correction":
      return { ...base, passed: false, score: 0, text: `A reviewer corrected the answer to:\n${f.value.output}${f.value.comment ? `\n(${f.value.comment})` : ""}`, ...(f.value.comment ? { weaknesses: [f.value.comment] } : {}) };
    case "rubric": {
      const total = f.value.total ?? 0;
      const failed = f.value.criteria.filter((c) => c.passed === false).map((c) => `${c.name}${c.rationale ? `: ${c.rationale}` : ""}`);
      return { ...base, passed: total >= 0.8 && failed.length === 0, score: total, text: failed.length ? `Criteria not met: ${failed.join("; ")}` : "Every criterion is met.", weaknesses: failed };
    }
    case "spans": {
      const comments = f.value.spans.map((s) => `${s.label}${s.comment ? `: ${s.comment}` : ""}`);
      return { ...base, passed: f.value.spans.length === 0, score: f.value.spans.length === 0 ? 1 : 0, text: comments.length ? `Problems: ${comments.join("; ")}` : "No problems found.", weaknesses: comments };
    }
    case "signal": {
      const bad = /regenerate|dislike|retry|abandon/i.test(f.value.signal);
      return { ...base, passed: !bad, score: bad ? 0 : 1, text: bad ? "That is not right. Try again." : "That is right." };
    }
    default:
      throw new RlxfError("wrong_kind", `a loop cannot use ${f.kind} feedback on a single output`);
  }
}

/**
 * Feedback from people over the API: the loop stores each output as a generation, then waits until feedback
 * targeting it (from a human or a user) appears in the store, and works on with it. Times out with FeedbackTimeoutError.
 */
export function humanFeedback(store: Store, opts: HumanFeedbackOptions = {}): FeedbackSource {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const pollMs = opts.pollMs ?? 1000;
  const types = new Set<SourceType>(opts.sourceTypes ?? ["human", "user"]);
  return {
    source: { type: "human", id: opts.id ?? "human" },
    async evaluate({ generationId, project }) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const page = await store.listFeedback({ project, generationId, limit: 100 });
        const mine = page.records.filter((f) => types.has(f.source.type) && f.targets.length === 1);
        if (mine.length) return feedbackResultOf(mine[mine.length - 1]!);
        if (Date.now() >= until) {
          throw new FeedbackTimeoutError(`no feedback on generation "${generationId}" within ${Math.round(timeoutMs / 1000)} s (send it with POST /v1/feedback)`);
        }
        await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(1, until - Date.now()))));
      }
    },
  };
}

// -------------------------------------------------------- simulated user ---

export const SATISFIED = "SATISFIED";

export interface SimulatedUserOptions {
  /** Who the user is and what they need (ConvSim initialises its simulator with an information need). */
  persona?: string;
  /** Decides success without asking the model (e.g. the math verifier on the task's reference), as MINT checks answers. */
  check?: Verifier;
  sourceId?: string;
  pricing?: Pricing;
  temperature?: number;
}

/**
 * A simulated user giving natural-language feedback over several turns (MINT: feedback "simulated by GPT-4" with
 * the ground truth in view but not to be revealed; ConvSim: an LLM user initialised with an information need).
 * It answers "SATISFIED" when the assistant's answer is good enough, else a short piece of feedback.
 */
export function simulatedUserFeedback(model: ChatModel, opts: SimulatedUserOptions = {}): FeedbackSource {
  return {
    source: { type: "simulated", id: opts.sourceId ?? `user-sim/${model.model}` },
    async evaluate({ task, output, history }: EvaluateInput) {
      if (opts.check) {
        const r = await opts.check.verify({ prompt: task.prompt, completion: output, ...(task.reference !== undefined ? { reference: task.reference } : {}) });
        if (r.passed) return { passed: true, score: 1, text: "Thanks, that is what I needed.", record: { kind: "critique", value: { text: "Thanks, that is what I needed.", verdict: "pass" } } };
      }
      const transcript = [...history.map((h) => `Assistant: ${h.output}\nUser: ${h.feedback.text}`), `Assistant: ${output}`].join("\n\n");
      const system =
        `You play a user talking to an AI assistant. ${opts.persona ?? "You asked the question below and want a correct, complete answer."}\n` +
        (task.reference !== undefined ? `The correct answer is: ${task.reference}\nNever reveal it or hint at it directly.\n` : "") +
        `If the assistant's last answer fully solves your request, reply with exactly ${SATISFIED}. ` +
        "Otherwise reply as the user would, in one to three sentences: say what is wrong or missing, without giving the answer.";
      const req: ChatRequest = {
        messages: [
          { role: "system", content: system },
          { role: "user", content: `Your request was:\n${task.prompt}\n\nThe conversation so far:\n\n${transcript}\n\nYour reply:` },
        ],
        ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
      };
      const r = await model.chat(req);
      const text = r.text.trim();
      const passed = new RegExp(`^\\W*${SATISFIED}\\b`, "i").test(text);
      const shown = passed ? "Thanks, that is what I needed." : text;
      return {
        passed,
        score: passed ? 1 : 0,
        text: shown,
        record: { kind: "critique", value: { text: shown, verdict: passed ? "pass" : "fail" } },
        spend: spendOf(r, opts.pricing),
      };
    },
  };
}
