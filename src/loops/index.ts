/**
 * The loops room (`rlxf/loops`): learning from feedback at test time. Loops that put feedback back into the
 * policy's prompt (critique -> refine, "try again", Reflexion, best-of-n and rejection sampling, multi-turn with a
 * simulated user) over any provider and any feedback source, within a budget, every step stored as generations and
 * feedback; a memory of feedback (principles with scopes, past corrections) retrieved for new inputs; and the
 * metrics of a run (accuracy per turn, feedback friction, confidence / critique, cost per solved task,
 * over-generalisation of principles).
 *
 *     const report = await refineLoop(tasks, { store, policy: { model }, feedback: judgeFeedback(critic, resolveJudge("critique")), budget: { rounds: 3 } });
 */
export * from "./types.js";
export * from "./feedback.js";
export { LOOP_KINDS, type LoopKind, type LoopReport, type StopReason, type TaskResult, type Judged, answerKey, checkBudget, itemIdOf, memoryPrompt, newRunId, runLoop, TaskTrace, BudgetSpent } from "./run.js";
export * from "./loops.js";
export * from "./metrics.js";
export * from "./memory.js";
export * from "./tasks.js";
export * from "./report.js";
export * from "./spec.js";
