/**
 * The prompts of the critique → revision loop: the default critic (a `critique` judge config that checks a
 * step-by-step solution and ends with a verdict) and the actor's revision prompt (the problem, the solution and
 * the critique; the revised solution ends with its answer in \boxed{}, as RealCritic asks).
 */
import { RlxfError } from "../errors.js";
import type { JudgeConfig, JudgeConfigInput } from "../sources/index.js";
import { parseJudgeConfig } from "../sources/index.js";
import { resolveJudge } from "../sources/index.js";
import type { ChatMessage } from "../providers/index.js";
import type { AnswerKind } from "./answers.js";

export const DEFAULT_CRITIC_JUDGE = "solution-critique";

/** The default critic: checks each step, then a verdict on the solution as a whole, as one JSON object. */
export const SOLUTION_CRITIQUE: JudgeConfigInput = {
  name: DEFAULT_CRITIC_JUDGE,
  kind: "critique",
  description: "Critique of a step-by-step solution: checks every step, names the first error and how to fix it, and gives a verdict (pass: the solution and its final answer are correct).",
  prompt: [
    {
      role: "system",
      content:
        "You are a meticulous grader of step-by-step solutions. You verify every step by recalculation and reasoning, " +
        "and you never assume that a solution is right or wrong before checking it.",
    },
    {
      role: "user",
      content:
        "## Problem\n\n{{instruction}}\n\n## Solution\n\n{{output}}\n\n" +
        "Check the solution step by step. If a step is wrong, say which one, why, and how to correct it (later steps that only inherit the error need no comment). " +
        'Then decide: "pass" if the solution and its final answer are correct, "fail" otherwise.\n' +
        'Answer only with JSON: {"summary": "...", "strengths": ["..."], "weaknesses": ["..."], "suggestions": ["..."], "verdict": "pass" or "fail"}',
    },
  ],
  parser: { type: "json" },
  completion: { temperature: 0, maxTokens: 2048, json: true },
  retries: 2,
};

/** A critic config by name (the default `solution-critique`, a shipped judge, a JSON file) or object; it must be of kind critique. */
export function resolveCriticJudge(ref?: string | JudgeConfigInput): JudgeConfig {
  const judge = ref === undefined || ref === DEFAULT_CRITIC_JUDGE ? parseJudgeConfig(SOLUTION_CRITIQUE, `critic "${DEFAULT_CRITIC_JUDGE}"`) : resolveJudge(ref);
  if (judge.kind !== "critique") throw new RlxfError("invalid_config", `judge "${judge.name}" is a ${judge.kind} judge; a critic is a judge of kind critique`);
  return judge;
}

/** A critique as the actor reads it. */
export interface CritiqueForActor {
  text: string;
  weaknesses?: readonly string[];
  suggestions?: readonly string[];
  verdict?: "pass" | "fail";
}

const bullets = (title: string, xs: readonly string[] | undefined) => (xs && xs.length ? `\n\n${title}:\n${xs.map((x) => `- ${x}`).join("\n")}` : "");

export function critiqueText(c: CritiqueForActor): string {
  const verdict = c.verdict ? `\n\nVerdict: ${c.verdict === "pass" ? "the solution is correct" : "the solution is not correct"}.` : "";
  return `${c.text.trim()}${bullets("Weaknesses", c.weaknesses)}${bullets("Suggestions", c.suggestions)}${verdict}`;
}

const FORMAT: Record<AnswerKind, string> = {
  math: "Please reason step by step, and put your final answer within \\boxed{}.",
  choice: "Please reason step by step, and put the letter of the correct option within \\boxed{}, e.g. \\boxed{C}.",
};

/** The actor's revision request: the problem, its solution and a critique of it. */
export function revisionMessages(input: { question: string; solution: string; critique: string; kind: AnswerKind }): ChatMessage[] {
  return [
    { role: "system", content: FORMAT[input.kind] },
    {
      role: "user",
      content:
        `## Problem\n\n${input.question}\n\n## Previous solution\n\n${input.solution}\n\n## Critique of the previous solution\n\n${input.critique}\n\n` +
        "Write a revised solution: fix every error the critique points out, and keep what is right (if the critique is mistaken, say so and keep the correct parts). " +
        `Give the complete revised solution. ${FORMAT[input.kind]}`,
    },
  ];
}
