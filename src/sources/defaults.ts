/**
 * The judges, critics and the simulated-annotator pool rlxf ships. Each is a
 * plain config, the same shape users write as JSON (`rlxf judge show NAME`
 * prints one to start from).
 */
import type { JudgeConfigInput, PoolConfig } from "./config.js";

const SYSTEM_EVALUATOR =
  "You are a careful, impartial evaluator of AI assistants. You judge what a thoughtful expert user would prefer: " +
  "helpfulness, correctness, honesty and faithfulness to the instruction. Length, style and the order in which " +
  "responses are shown must not sway you.";

/** AlpacaEval-2 style: one-token answer, preference = probability mass on the two answer tokens. */
const pairwise: JudgeConfigInput = {
  name: "pairwise",
  kind: "pairwise",
  description: "Pairwise preference from the probabilities of the two answer tokens (one-token answer, logprobs); reads the text when the server gives no logprobs.",
  prompt: [
    { role: "system", content: SYSTEM_EVALUATOR },
    {
      role: "user",
      content:
        "Two AI assistants, m and M, answered the same instruction. Decide whose answer is better.\n\n" +
        "## Instruction\n\n{{instruction}}\n\n" +
        "## Answer of m\n\n{{output_1}}\n\n" +
        "## Answer of M\n\n{{output_2}}\n\n" +
        "## Your verdict\n\nReply with exactly one character: m if the answer of m is better, M if the answer of M is better. Nothing else.",
    },
  ],
  parser: { type: "logprob", tokens: { "1": ["m"], "2": ["M"] } },
  completion: { temperature: 0, maxTokens: 1, logprobs: true, topLogprobs: 5 },
  order: "random",
  retries: 2,
};

/** Reason first, then a bracketed verdict (ties allowed). */
const pairwiseCot: JudgeConfigInput = {
  name: "pairwise-cot",
  kind: "pairwise",
  description: "Pairwise preference with a short written comparison before the verdict [[A]], [[B]] or [[C]] (tie).",
  prompt: [
    { role: "system", content: SYSTEM_EVALUATOR },
    {
      role: "user",
      content:
        "Compare two responses to the instruction below.\n\n" +
        "[Instruction]\n{{instruction}}\n\n" +
        "[Response A]\n{{output_1}}\n[End of Response A]\n\n" +
        "[Response B]\n{{output_2}}\n[End of Response B]\n\n" +
        "First explain briefly (at most five sentences) where the responses differ in helpfulness and correctness. " +
        'Then give your verdict on the last line, exactly as "[[A]]" if A is better, "[[B]]" if B is better, or "[[C]]" for a tie.',
    },
  ],
  parser: { type: "regex", patterns: { "1": "\\[\\[A\\]\\]", "2": "\\[\\[B\\]\\]", tie: "\\[\\[C\\]\\]" }, flags: "" },
  completion: { temperature: 0, maxTokens: 600 },
  order: "random",
  retries: 2,
};

/** AlpacaEval-1 style ranking answer. */
const pairwiseRanking: JudgeConfigInput = {
  name: "pairwise-ranking",
  kind: "pairwise",
  description: "Pairwise preference read from a ranking of model_1 and model_2, as AlpacaEval's ranking parser does.",
  prompt: [
    { role: "system", content: SYSTEM_EVALUATOR },
    {
      role: "user",
      content:
        "Rank two models by the quality of their output for the instruction.\n\n" +
        "Instruction:\n{{instruction}}\n\n" +
        "model_1 output:\n{{output_1}}\n\n" +
        "model_2 output:\n{{output_2}}\n\n" +
        'Answer only with the ranking as a JSON list, best first, e.g. [{"model": "model_1", "rank": 1}, {"model": "model_2", "rank": 2}].',
    },
  ],
  parser: { type: "ranking", models: { "1": "model_1", "2": "model_2" } },
  completion: { temperature: 0, maxTokens: 100 },
  order: "random",
  retries: 2,
};

const rubric: JudgeConfigInput = {
  name: "rubric",
  kind: "rubric",
  description: "Scores a response 0-5 on each criterion (the input's own criteria, or these general ones), with a rationale each; total = weighted mean.",
  prompt: [
    { role: "system", content: SYSTEM_EVALUATOR },
    {
      role: "user",
      content:
        "Grade the response against each criterion.\n\n" +
        "## Instruction\n\n{{instruction}}\n\n## Response\n\n{{output}}\n\n## Criteria\n\n{{criteria}}\n\n" +
        "For every criterion give an integer score from 0 (not met at all) to its maximum, and a one-sentence rationale. " +
        'Answer only with JSON: {"criteria": [{"id": 1, "score": 4, "rationale": "..."}, ...]} with one entry per criterion, in order.',
    },
  ],
  parser: { type: "json" },
  completion: { temperature: 0, maxTokens: 800, json: true },
  scoring: "score",
  maxScore: 5,
  criteria: [
    { name: "instruction following", description: "Does exactly what was asked, respecting every explicit constraint.", weight: 2 },
    { name: "correctness", description: "Facts, reasoning, code or calculations are right.", weight: 2 },
    { name: "completeness", description: "Covers everything the instruction needs, without gaps." },
    { name: "clarity", description: "Well organised and easy to follow." },
    { name: "concision", description: "No padding, repetition or needless caveats." },
  ],
  retries: 2,
};

const checklistGenerate: JudgeConfigInput = {
  name: "checklist-generate",
  kind: "checklist",
  description: "Writes an instruction-specific checklist of yes/no questions a good response must satisfy.",
  prompt: [
    {
      role: "system",
      content: "You write precise evaluation checklists for instructions given to AI assistants.",
    },
    {
      role: "user",
      content:
        "Write a checklist for judging responses to the instruction below: between 3 and 8 yes/no questions, each checking one " +
        "specific requirement a good response must meet (explicit constraints first, then implicit expectations). " +
        "Phrase each so that YES means the requirement is met.\n\n" +
        "## Instruction\n\n{{instruction}}\n\n" +
        'Answer only with JSON: {"checklist": ["Does the response ...?", ...]}',
    },
  ],
  parser: { type: "json" },
  completion: { temperature: 0, maxTokens: 500, json: true },
  maxItems: 8,
  retries: 2,
};

const checklist: JudgeConfigInput = {
  name: "checklist",
  kind: "rubric",
  description: "Checklist grading: a model first writes instruction-specific yes/no questions (checklist-generate), then each is judged pass or fail.",
  prompt: [
    { role: "system", content: SYSTEM_EVALUATOR },
    {
      role: "user",
      content:
        "Check the response against each checklist question.\n\n" +
        "## Instruction\n\n{{instruction}}\n\n## Response\n\n{{output}}\n\n## Checklist\n\n{{criteria}}\n\n" +
        "For every question answer whether the response meets it (true or false) with a one-sentence rationale. " +
        'Answer only with JSON: {"criteria": [{"id": 1, "passed": true, "rationale": "..."}, ...]} with one entry per question, in order.',
    },
  ],
  parser: { type: "json" },
  completion: { temperature: 0, maxTokens: 800, json: true },
  scoring: "pass",
  checklist: "checklist-generate",
  retries: 2,
};

const critique: JudgeConfigInput = {
  name: "critique",
  kind: "critique",
  description: "A critique: strengths, weaknesses, concrete suggestions and a pass/fail verdict, as one JSON object.",
  prompt: [
    {
      role: "system",
      content: "You are an exacting reviewer of AI assistant responses. Your critiques are specific, actionable and fair.",
    },
    {
      role: "user",
      content:
        "Critique the response to the instruction.\n\n## Instruction\n\n{{instruction}}\n\n## Response\n\n{{output}}\n\n" +
        "List its strengths, its weaknesses (errors, omissions, unclear parts), and concrete suggestions that would fix the weaknesses. " +
        'Then decide: "pass" if the response is acceptable as it is, "fail" if it must be revised.\n' +
        'Answer only with JSON: {"summary": "...", "strengths": ["..."], "weaknesses": ["..."], "suggestions": ["..."], "verdict": "pass" or "fail"}',
    },
  ],
  parser: { type: "json" },
  completion: { temperature: 0, maxTokens: 900, json: true },
  retries: 2,
};

const steps: JudgeConfigInput = {
  name: "steps",
  kind: "steps",
  description: "Step-level critique of a reasoning chain: the number of the first wrong step (or none) and why.",
  prompt: [
    {
      role: "system",
      content: "You verify step-by-step solutions. You check every step for errors in logic, calculation or use of facts.",
    },
    {
      role: "user",
      content:
        "## Problem\n\n{{instruction}}\n\n## Solution, step by step\n\n{{steps}}\n\n" +
        "Check the steps in order. Find the first step that is wrong (an error in calculation, logic or fact, or an unjustified leap); " +
        "later steps that only inherit an earlier error do not count.\n" +
        'Answer only with JSON: {"first_error_step": <the step number, or null if every step is correct>, "explanation": "..."}',
    },
  ],
  parser: { type: "json" },
  completion: { temperature: 0, maxTokens: 600, json: true },
  retries: 2,
};

const reference: JudgeConfigInput = {
  name: "reference",
  kind: "reference",
  description: "Reference-guided grading: a 1-10 rating of the response against a gold answer, written as [[rating]].",
  prompt: [
    { role: "system", content: SYSTEM_EVALUATOR },
    {
      role: "user",
      content:
        "Grade the assistant's response using the reference answer as the ground truth.\n\n" +
        "[Question]\n{{instruction}}\n\n[Reference answer]\n{{reference}}\n[End of reference answer]\n\n" +
        "[Assistant's response]\n{{output}}\n[End of assistant's response]\n\n" +
        "Compare the response with the reference: identify and correct any mistakes. Be as objective as possible. " +
        'After a short explanation, rate the response from 1 to 10, strictly in this format: "Rating: [[5]]".',
    },
  ],
  parser: { type: "regex", patterns: { score: "Rating:\\s*\\[\\[\\s*(\\d+(?:\\.\\d+)?)\\s*\\]\\]" } },
  completion: { temperature: 0, maxTokens: 600 },
  scale: { min: 1, max: 10 },
  retries: 2,
};

const referenceMatch: JudgeConfigInput = {
  name: "reference-match",
  kind: "reference",
  description: "Reference-guided correctness: does the response reach the same final answer as the gold answer? (binary)",
  prompt: [
    { role: "system", content: "You check whether a response's final answer agrees with a reference answer." },
    {
      role: "user",
      content:
        "[Question]\n{{instruction}}\n\n[Reference answer]\n{{reference}}\n\n[Response]\n{{output}}\n\n" +
        "Does the response's final answer agree with the reference answer (equivalent forms count as agreeing)? " +
        'Answer only with JSON: {"correct": true or false, "rationale": "..."}',
    },
  ],
  parser: { type: "json" },
  completion: { temperature: 0, maxTokens: 300, json: true },
  retries: 2,
};

// ------------------------------------------------- simulated annotators ---

/** AlpacaFarm's pool annotators sample at temperature 1 and differ in their prompts. */
const simulated = (c: JudgeConfigInput, name: string): JudgeConfigInput => ({ ...c, name, completion: { ...c.completion, temperature: 1 } });

const simDirect: JudgeConfigInput = {
  name: "sim-direct",
  kind: "pairwise",
  description: "Simulated annotator: picks Output (a) or Output (b) directly.",
  prompt:
    "Select the output, (a) or (b), that best matches the instruction. Pick the one that is more helpful, correct and complete.\n\n" +
    "# Instruction:\n{{instruction}}\n\n# Output (a):\n{{output_1}}\n\n# Output (b):\n{{output_2}}\n\n" +
    '# Which is best, "Output (a)" or "Output (b)"? Answer with the name only.',
  parser: { type: "regex", patterns: { "1": "Output \\(a\\)", "2": "Output \\(b\\)" }, pick: "first" },
  completion: { temperature: 1, maxTokens: 10 },
  order: "random",
  retries: 2,
};

const simExpert: JudgeConfigInput = {
  name: "sim-expert",
  kind: "pairwise",
  description: "Simulated annotator: a demanding domain expert who values precision over length.",
  prompt: [
    {
      role: "system",
      content: "You are a demanding domain expert. You value precise, correct and direct answers, and you dislike padding.",
    },
    {
      role: "user",
      content:
        "Instruction: {{instruction}}\n\nOutput (a):\n{{output_1}}\n\nOutput (b):\n{{output_2}}\n\n" +
        'Which output would you rather receive? Think it over in one or two sentences, then end with "Preferred: Output (a)" or "Preferred: Output (b)".',
    },
  ],
  parser: { type: "regex", patterns: { "1": "Preferred:\\s*Output \\(a\\)", "2": "Preferred:\\s*Output \\(b\\)" } },
  completion: { temperature: 1, maxTokens: 200 },
  order: "random",
  retries: 2,
};

export const DEFAULT_JUDGES: readonly JudgeConfigInput[] = [
  pairwise,
  pairwiseCot,
  pairwiseRanking,
  rubric,
  checklistGenerate,
  checklist,
  critique,
  steps,
  reference,
  referenceMatch,
  simDirect,
  simExpert,
  simulated(pairwiseCot, "sim-cot"),
  simulated(pairwiseRanking, "sim-ranking"),
];

export const DEFAULT_POOLS: readonly PoolConfig[] = [
  {
    name: "alpacafarm",
    kind: "pool",
    description:
      "AlpacaFarm-style simulated annotators: four prompts sampled at temperature 1, one chosen per example by a seeded hash; label-flip noise p = 0.25 by default (AlpacaFarm's training setting).",
    members: ["sim-direct", "sim-expert", "sim-cot", "sim-ranking"],
    pFlip: 0.25,
  },
];

/** Default judge per kind, for `rlxf judge <kind>` without `--judge`. */
export const DEFAULT_JUDGE_FOR: Record<string, string> = {
  pairwise: "pairwise",
  rubric: "rubric",
  checklist: "checklist",
  critique: "critique",
  steps: "steps",
  reference: "reference",
};
