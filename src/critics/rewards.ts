/**
 * Rewards for training critics, as verifiers any reward spec can name (`/v1/reward`, OpenRLHF, verl, TRL):
 *
 * - `critic-verdict`: 1 when the critique's verdict matches the solution's correctness, else 0. The rule-based
 *   reward of Critique-Coder's critique RL ("whether the final judgment label ... aligns with the ground-truth
 *   judgment") and Critique-RL's stage I discriminability reward r_dis = 1(f(x, y, c) = r_oracle(x, y)).
 * - `critic-refine`: Critique-RL's stage II, helpfulness with discriminability kept: an actor revises the
 *   solution from the critique and r_refine is whether the revision is right; score = (r_refine + β·r_dis) / (1 + β).
 * - `critic-dual`: RefCritic's dual rule-based reward: the judgement's correctness plus the accuracy of the
 *   policy's refinements from the critique (mean over `samples` refinements); score = (r_judge + r_refine) / 2.
 *
 * The sample: `completion` is the critique (it must state a verdict, see `readVerdict`); `reference` describes
 * the critiqued solution, as an object or its JSON text (what dataset builders write as `ground_truth`):
 * `{correct, gold?, question?, solution?, task?, kind?, revision?}`. `critic-verdict` needs `correct` only
 * (a bare `true`/`false` reference works too); the refinement rewards also need `question`, `solution` and
 * `gold`, and take the actor's revisions from `revision` (or `revisions`) when the trainer made them, else ask
 * the server's model (`model` in the spec picks another model name on that endpoint). When the verdict is
 * "pass" the solution stands unrevised (its refinement is right exactly when it was), unless `reviseOnPass`.
 * Nothing in the critique decides the score but its verdict and the revision it leads to, which the answer
 * verifier checks against the gold answer.
 */
import { z } from "zod";
import { RlxfError } from "../errors.js";
import type { ChatModel } from "../providers/index.js";
import { registerVerifier, registerVerifierType, type ExtensionVerifierSpec, type VerifierContext } from "../sources/verifiers/index.js";
import type { VerificationResult, Verifier, VerifyInput } from "../sources/verifiers/index.js";
import { type AnswerKind, answerKindOf, answerVerifier, choiceVerifier } from "./answers.js";
import { revisionMessages } from "./prompts.js";
import { type Verdict, readVerdict, verdictOf } from "./verdict.js";

export const CRITIC_REWARDS = ["critic-verdict", "critic-refine", "critic-dual"] as const;
export type CriticRewardName = (typeof CRITIC_REWARDS)[number];

export const CriticRewardSpec = z.strictObject({
  type: z.literal("critic"),
  name: z.string().min(1).max(200).optional(),
  /** verdict (Critique-Coder, Critique-RL stage I), refine (Critique-RL stage II), dual (RefCritic). */
  reward: z.enum(["verdict", "refine", "dual"]),
  /** refine: weight of the discriminability term (default 1). */
  beta: z.number().min(0).max(100).optional(),
  /** Refinements per critique, whose mean accuracy is r_refine (default 1). */
  samples: z.number().int().min(1).max(8).optional(),
  /** The actor's model name on the server's endpoint (default: the endpoint's model). */
  model: z.string().min(1).max(200).optional(),
  maxTokens: z.number().int().min(1).max(32_768).optional(),
  /** Actor sampling temperature (default 0 for one sample, 1 for several). */
  temperature: z.number().min(0).max(2).optional(),
  /** Ask the actor to revise even when the critique passes the solution (default false). */
  reviseOnPass: z.boolean().optional(),
});
export type CriticRewardSpec = z.infer<typeof CriticRewardSpec>;

const ChoiceSpec = z.strictObject({ type: z.literal("choice"), name: z.string().min(1).max(200).optional() });

/** What a critic reward knows about the critiqued solution. */
export interface CriticReference {
  correct?: boolean;
  gold?: string;
  question?: string;
  solution?: string;
  task?: string;
  kind?: AnswerKind;
  revisions?: string[];
}

const bad = (message: string) => new RlxfError("invalid_input", `critic reward: ${message}`);

function str(o: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === "string") return v;
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
  }
  return undefined;
}

function correctness(v: unknown): boolean | undefined {
  if (Array.isArray(v)) return v.length === 1 ? correctness(v[0]) : undefined;
  if (typeof v === "string" && /^\s*\[.*\]\s*$/.test(v)) return correctness(v.trim().slice(1, -1).trim());
  const verdict = verdictOf(v);
  return verdict === undefined ? undefined : verdict === "pass";
}

/** The reference of a critic reward sample: an object, its JSON text, or a bare correctness (`true`, `"incorrect"`). */
export function parseCriticReference(ref: unknown): CriticReference {
  let o: unknown = ref;
  if (typeof ref === "string" && ref.trim().startsWith("{")) {
    try {
      o = JSON.parse(ref);
    } catch (e) {
      throw bad(`the reference is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (o === null || o === undefined) throw bad("the sample needs a reference: {correct, gold?, question?, solution?} describing the critiqued solution");
  if (typeof o !== "object" || Array.isArray(o)) {
    const c = correctness(o);
    if (c === undefined) throw bad(`a bare reference must say whether the solution is correct (true/false, "correct"/"incorrect"), got ${JSON.stringify(o)}`);
    return { correct: c };
  }
  const r = o as Record<string, unknown>;
  const out: CriticReference = {};
  for (const k of ["correct", "is_correct", "label", "previous_score", "passed"]) {
    if (r[k] === undefined || r[k] === null) continue;
    const c = correctness(r[k]);
    if (c === undefined) throw bad(`reference.${k} must say whether the solution is correct (true or false), got ${JSON.stringify(r[k])}`);
    out.correct = c;
    break;
  }
  const gold = str(r, "gold", "gt", "answer", "ground_truth");
  if (gold !== undefined) out.gold = gold;
  const question = str(r, "question", "problem", "prompt");
  if (question !== undefined) out.question = question;
  const solution = str(r, "solution", "reasoning", "response");
  if (solution !== undefined) out.solution = solution;
  const task = str(r, "task", "dataset");
  if (task !== undefined) out.task = task;
  if (r.kind === "math" || r.kind === "choice") out.kind = r.kind;
  else if (r.kind !== undefined) throw bad(`reference.kind must be "math" or "choice", got ${JSON.stringify(r.kind)}`);
  const revs = r.revisions ?? (r.revision !== undefined ? [r.revision] : undefined);
  if (revs !== undefined) {
    if (!Array.isArray(revs) || revs.length === 0 || revs.some((x) => typeof x !== "string")) throw bad("reference.revisions must be a non-empty list of strings (reference.revision one string)");
    out.revisions = revs as string[];
  }
  return out;
}

interface Refined {
  rRefine: number;
  revisions: number;
  right: number;
  asked: number;
}

async function refinement(spec: CriticRewardSpec, ctx: VerifierContext, ref: CriticReference, critique: string, verdict: Verdict | undefined, signal?: AbortSignal): Promise<Refined> {
  const missing = (["question", "solution", "gold"] as const).filter((k) => ref[k] === undefined);
  if (verdict === "pass" && !spec.reviseOnPass) {
    // The solution stands as it is: its refinement is right exactly when it was.
    const correct = ref.correct ?? (ref.gold !== undefined && ref.solution !== undefined ? (await check(ref, ref.solution)).passed : undefined);
    if (correct === undefined) throw bad("a passed solution is scored by its correctness: give reference.correct (or gold and solution)");
    return { rRefine: correct ? 1 : 0, revisions: 0, right: 0, asked: 0 };
  }
  if (ref.gold === undefined) throw bad("the refinement rewards need reference.gold, the gold answer the revision is checked against");
  let revisions = ref.revisions;
  let asked = 0;
  if (!revisions) {
    if (missing.length) throw bad(`to ask the actor for a revision the reference needs ${missing.map((k) => `reference.${k}`).join(", ")} (or give the actor's reference.revision)`);
    if (!ctx.chatModel) throw bad("no actor model here: give the actor's reference.revision, or use a reward service started with a model (rlxf serve --judge-model)");
    const model: ChatModel = ctx.chatModel();
    const n = spec.samples ?? 1;
    const temperature = spec.temperature ?? (n > 1 ? 1 : 0);
    const messages = revisionMessages({ question: ref.question!, solution: ref.solution!, critique, kind: kindOf(ref) });
    revisions = await Promise.all(
      Array.from({ length: n }, async (_, k) => {
        if (signal?.aborted) throw new RlxfError("aborted", "critic reward: cancelled");
        const r = await model.chat({ messages, temperature, maxTokens: spec.maxTokens ?? 2048, sample: k, ...(spec.model ? { model: spec.model } : {}) });
        return r.text;
      }),
    );
    asked = n;
  }
  let right = 0;
  for (const text of revisions) if ((await check(ref, text)).passed) right++;
  return { rRefine: right / revisions.length, revisions: revisions.length, right, asked };
}

const kindOf = (ref: CriticReference): AnswerKind => ref.kind ?? answerKindOf(ref.task, ref.gold ?? "", ref.question);
const check = (ref: CriticReference, text: string) => answerVerifier(kindOf(ref)).verify({ completion: text, reference: ref.gold });

/** A critic reward as a verifier (see the module comment for what each needs). */
export function criticRewardVerifier(spec: CriticRewardSpec, ctx: VerifierContext = {}): Verifier {
  const name = spec.name ?? `critic-${spec.reward}`;
  const beta = spec.beta ?? 1;
  return {
    name,
    type: "critic",
    async verify(input: VerifyInput): Promise<VerificationResult> {
      const ref = parseCriticReference(input.reference);
      const verdict = readVerdict(input.completion);
      const needLabel = spec.reward === "verdict" || spec.reward === "dual" || beta > 0;
      if (needLabel && ref.correct === undefined) {
        if (ref.gold === undefined || ref.solution === undefined) throw bad("the verdict is scored against reference.correct: give it (or gold and solution, to check the solution)");
        ref.correct = (await check(ref, ref.solution)).passed;
      }
      const rDis = verdict !== undefined && ref.correct !== undefined && (verdict === "pass") === ref.correct ? 1 : 0;
      const details: VerificationResult["details"] = { verdict: verdict ?? null, ...(ref.correct !== undefined ? { correct: ref.correct } : {}) };
      if (verdict === undefined) details.error = "the critique states no verdict (e.g. \"Verdict: fail\", \"The solution is correct.\", {\"verdict\": \"pass\"})";
      if (spec.reward === "verdict") {
        return { passed: rDis === 1, score: rDis, details: { ...details, rDis } };
      }
      const r = await refinement(spec, ctx, ref, input.completion, verdict, input.signal);
      const score = spec.reward === "dual" ? (rDis + r.rRefine) / 2 : (r.rRefine + beta * rDis) / (1 + beta);
      return {
        passed: score === 1,
        score,
        details: { ...details, rDis, rRefine: r.rRefine, revisions: r.revisions, revisionsRight: r.right, actorCalls: r.asked, ...(spec.reward === "refine" ? { beta } : {}) },
      };
    },
  };
}

let registered = false;

/** Registers the spec types `critic` and `choice` and the names `critic-verdict`, `critic-refine`, `critic-dual`, `choice` (idempotent). */
export function registerCriticRewards(): void {
  if (registered) return;
  registered = true;
  registerVerifierType("critic", {
    schema: CriticRewardSpec as unknown as z.ZodType<ExtensionVerifierSpec>,
    create: (spec, ctx) => criticRewardVerifier(spec as unknown as CriticRewardSpec, ctx),
  });
  registerVerifierType("choice", {
    schema: ChoiceSpec as unknown as z.ZodType<ExtensionVerifierSpec>,
    create: (spec) => choiceVerifier(spec.name !== undefined ? { name: spec.name } : {}),
  });
  registerVerifier("critic-verdict", { type: "critic", reward: "verdict" });
  registerVerifier("critic-refine", { type: "critic", reward: "refine" });
  registerVerifier("critic-dual", { type: "critic", reward: "dual" });
  registerVerifier("choice", { type: "choice" });
}

registerCriticRewards();
