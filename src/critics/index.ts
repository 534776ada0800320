/**
 * The critics room (`rlxf/critics`): does a critic help, and how to reward one.
 *
 * - closed-loop evaluation after RealCritic (`evaluateCritic`): a critic critiques each solution, an actor revises
 *   from the critique, the task's verifier checks the revision; discriminability, accuracy before and after,
 *   fixed and broken solutions and cost per fix, per task and overall, for self-, cross- and iterative critique;
 *   results saved in the store (`saveCriticEval`);
 * - critic-training rewards as verifiers any reward spec can name: `critic-verdict` (Critique-Coder, Critique-RL
 *   stage I), `critic-refine` (Critique-RL stage II), `critic-dual` (RefCritic), and `choice` (option letters);
 * - reading solutions with correctness labels from RealCritic files, rlxf records or the store.
 *
 *     const { solutions } = await readSolutions(["realcritic/math.jsonl.gz"]);
 *     const r = await evaluateCritic(solutions, { critic: { model: critic }, actor: { model: actor } });
 */
export * from "./verdict.js";
export * from "./answers.js";
export * from "./prompts.js";
export * from "./rewards.js";
export * from "./solutions.js";
export * from "./metrics.js";
export * from "./evaluate.js";
export * from "./saved.js";
