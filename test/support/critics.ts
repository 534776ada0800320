/**
 * Critic evaluations for the tests that read them back (HTTP API, web app): small runs over three tasks with
 * scripted critics and actors on a local OpenAI-compatible server, saved as `rlxf critic eval ... --save` would.
 */
import { type CriticEvalResult, type CriticSolution, evaluateCritic, saveCriticEval } from "../../src/critics/index.js";
import { type ScriptedActor, type ScriptedCritic, scriptedCriticResponder } from "../../src/critics/testing/index.js";
import { createModel } from "../../src/providers/index.js";
import { startFakeModelServer } from "../../src/providers/testing/index.js";
import type { Store } from "../../src/store/index.js";

/** gsm8k: 4 of 6 right; math: 2 of 5; arc-challenge: 1 of 4 (option letters). */
export const CRITIC_SOLUTIONS: CriticSolution[] = [
  ...[true, true, true, true, false, false].map((c, i) => sol("gsm8k", i, c, String(10 + i), "math")),
  ...[true, true, false, false, false].map((c, i) => sol("math", i, c, `\\frac{${i + 1}}{7}`, "math")),
  ...[true, false, false, false].map((c, i) => sol("arc-challenge", i, c, "ABCD"[i]!, "choice")),
];

function sol(task: string, i: number, correct: boolean, gold: string, kind: "math" | "choice"): CriticSolution {
  return { id: `${task}-${i}`, itemId: `${task}-item-${i}`, task, kind, question: `${task} question ${i}?`, gold, solution: `Reasoning ${i}. \\boxed{${correct ? gold : "Z0"}}`, model: "solver", correct };
}

export interface SeededCritics {
  cross: CriticEvalResult;
  iterative: CriticEvalResult;
}

async function run(critic: ScriptedCritic, actor: ScriptedActor, rounds: number): Promise<CriticEvalResult> {
  const server = await startFakeModelServer({
    respond: scriptedCriticResponder(
      CRITIC_SOLUTIONS.map((s) => ({ question: s.question, gold: s.gold, solution: s.solution, correct: s.correct, kind: s.kind })),
      { critic, actor, usage: { critic: { inputTokens: 400, outputTokens: 100 }, actor: { inputTokens: 600, outputTokens: 200 } } },
    ),
  });
  const model = createModel({ baseUrl: server.baseUrl, model: "critic-7b", maxRetries: 0 });
  try {
    return await evaluateCritic(CRITIC_SOLUTIONS, { critic: { model, pricing: { inputPerMillion: 1, outputPerMillion: 4 } }, actor: { model, pricing: { inputPerMillion: 1, outputPerMillion: 4 } }, rounds });
  } finally {
    await model.close();
    await server.close();
  }
}

/** Saves `oracle-cross` (an oracle critic, an actor that answers the gold) and `iterative` (3 rounds, fixed at the second). */
export async function seedCriticResults(store: Store, project: string): Promise<SeededCritics> {
  const iterative = await run("oracle", "gold-second", 3);
  await saveCriticEval(store, { project, name: "iterative", result: iterative });
  const cross = await run("oracle", "gold", 1);
  await saveCriticEval(store, { project, name: "oracle-cross", description: "scripted oracle critic", result: cross });
  return { cross, iterative };
}
