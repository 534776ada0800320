/**
 * An LLM judge with the verifier shape (`verify({prompt, completion, reference}) => {passed, score, details}`),
 * so that a reward spec can mix judges with verifiers and reward models, as RLAIF mixes AI
 * feedback with rule-based rewards (Constitutional AI, Tulu 3's RLVR beside a judge).
 *
 * How each judge kind becomes a score in [0, 1]:
 *
 * | kind | score | passed |
 * |---|---|---|
 * | `reference` | the rating rescaled from the judge's scale, or 1/0 when it says correct/incorrect | score ≥ threshold |
 * | `rubric` | the weighted fraction of the criteria met (`weightedTotal`) | score ≥ threshold |
 * | `critique` | 1 for a "pass" verdict, 0 for "fail" | the verdict |
 * | `steps` | 1 when no step is wrong, else the fraction of steps before the first wrong one | no wrong step |
 * | `pairwise` | the probability that the completion beats the reference answer (AlpacaEval's preference − 1) | score ≥ threshold |
 *
 * `checklist` judges write criteria rather than grade; use them through a `rubric` judge's `checklist`.
 * A judgement that fails (provider error, unparseable answers after retries) throws, so a
 * caller never mistakes it for a zero reward.
 */
import { RlxfError } from "../errors.js";
import type { ChatModel } from "../providers/index.js";
import type { CriterionSpec, JudgeConfig } from "./config.js";
import { type Failed, critique, critiqueSteps, gradeRubric, gradeWithReference, judgePair } from "./judge.js";
import type { VerificationResult, Verifier, VerifyInput } from "./verifiers/types.js";

export interface JudgeVerifierOptions {
  model: ChatModel;
  judge: JudgeConfig;
  /** The verifier's name (the feedback's source id); default `judge:<config name>`. */
  name?: string;
  /** Criteria for a rubric judge (else the config's, else the `checklist` judge writes them). */
  criteria?: CriterionSpec[];
  /** A checklist-writing judge for a rubric judge without criteria. */
  checklist?: JudgeConfig;
  /** The score at which a result counts as passed; default 0.5. */
  threshold?: number;
  /** Seed of the pairwise position randomization. */
  seed?: number;
}

function referenceText(reference: unknown): string | undefined {
  if (reference === undefined || reference === null) return undefined;
  if (typeof reference === "string") return reference;
  if (typeof reference === "number" || typeof reference === "boolean") return String(reference);
  return JSON.stringify(reference);
}

function failure(judge: JudgeConfig, f: Failed): never {
  throw new RlxfError("model_failed", `judge "${judge.name}" gave no judgement (${f.reason}): ${f.error}`);
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export function judgeVerifier(opts: JudgeVerifierOptions): Verifier {
  const { model, judge } = opts;
  const threshold = opts.threshold ?? 0.5;
  const name = opts.name ?? `judge:${judge.name}`;
  if (judge.kind === "checklist") {
    throw new RlxfError("wrong_kind", `judge "${judge.name}" is a checklist judge: it writes criteria and grades nothing; use a rubric judge with "checklist": "${judge.name}"`);
  }
  if (!(threshold >= 0 && threshold <= 1)) throw new RlxfError("invalid_input", `threshold must be in [0, 1], got ${threshold}`);

  const verify = async (input: VerifyInput): Promise<VerificationResult> => {
    const instruction = input.prompt ?? "";
    const reference = referenceText(input.reference);
    const base = { judge: judge.name, kind: judge.kind };
    switch (judge.kind) {
      case "reference": {
        const r = await gradeWithReference(model, judge, { instruction, output: input.completion, ...(reference !== undefined ? { reference } : {}) });
        if (!r.ok) failure(judge, r);
        let score: number;
        if (r.score !== undefined) score = r.scale.max === r.scale.min ? 1 : clamp01((r.score - r.scale.min) / (r.scale.max - r.scale.min));
        else if (r.correct !== undefined) score = r.correct ? 1 : 0;
        else throw new RlxfError("model_failed", `judge "${judge.name}" gave neither a score nor a correct/incorrect verdict`);
        const passed = r.correct ?? score >= threshold;
        return {
          passed,
          score,
          details: { ...base, ...(r.score !== undefined ? { rating: r.score, scale: r.scale } : {}), ...(r.correct !== undefined ? { correct: r.correct } : {}), ...(r.rationale ? { rationale: r.rationale } : {}) },
        };
      }
      case "rubric": {
        const r = await gradeRubric(
          model,
          judge,
          { instruction, output: input.completion, ...(reference !== undefined ? { reference } : {}), ...(opts.criteria ? { criteria: opts.criteria } : {}) },
          opts.checklist ? { checklist: opts.checklist } : {},
        );
        if (!r.ok) failure(judge, r);
        return { passed: r.total >= threshold, score: clamp01(r.total), details: { ...base, criteria: r.criteria, ...(r.checklist ? { checklist: r.checklist.items } : {}) } };
      }
      case "critique": {
        const r = await critique(model, judge, { instruction, output: input.completion, ...(reference !== undefined ? { reference } : {}) });
        if (!r.ok) failure(judge, r);
        const passed = r.verdict === "pass";
        return { passed, score: passed ? 1 : 0, details: { ...base, verdict: r.verdict, strengths: r.strengths, weaknesses: r.weaknesses, suggestions: r.suggestions } };
      }
      case "steps": {
        const r = await critiqueSteps(model, judge, { instruction, output: input.completion, ...(reference !== undefined ? { reference } : {}) });
        if (!r.ok) failure(judge, r);
        const n = r.steps.length;
        const first = r.firstErrorStep;
        const score = first === null ? 1 : n > 0 ? clamp01((first - 1) / n) : 0;
        return { passed: first === null, score, details: { ...base, steps: n, firstErrorStep: first, ...(r.explanation ? { explanation: r.explanation } : {}) } };
      }
      case "pairwise": {
        if (reference === undefined) {
          throw new RlxfError("no_reference", `pairwise judge "${judge.name}" compares the completion with a reference answer: give the sample a reference (label)`);
        }
        const r = await judgePair(model, judge, { instruction, output_1: reference, output_2: input.completion }, opts.seed !== undefined ? { seed: opts.seed } : {});
        if (!r.ok) failure(judge, r);
        const score = clamp01(r.preference - 1);
        return { passed: score >= threshold, score, details: { ...base, preference: r.preference, versus: "reference", orders: r.verdicts.length } };
      }
    }
    throw new RlxfError("wrong_kind", `judge "${judge.name}" of kind "${judge.kind}" cannot score a single completion`);
  };
  return { name, type: "judge", verify };
}
