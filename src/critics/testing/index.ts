/**
 * Scripted critics and actors for tests and benchmarks, answered by a local OpenAI-compatible server
 * (`startFakeModelServer`) whose outcomes are known: the responder finds the problem a request is about in the
 * solutions it was given, and answers as the script says. It reads the prompts of the default critic
 * (`solution-critique`) and of the actor's revision request.
 *
 * Critics: `always-pass` (every solution is right), `oracle` (the truth: the label of an original solution, and
 * for a revision whether it is the gold answer), `flag-all` (every solution is wrong).
 * Actors: `gold` (answers with the gold answer text, exactly), `wrong` (a wrong answer: another option letter,
 * or a number no gold equals), `gold-second` (wrong at its first revision of a problem, the gold answer after).
 */
import type { FakeReply, FakeRequest, Responder } from "../../providers/testing/index.js";

export type ScriptedCritic = "always-pass" | "oracle" | "flag-all";
export type ScriptedActor = "gold" | "wrong" | "gold-second";

export interface ScriptedProblem {
  question: string;
  gold: string;
  /** The original solution and whether it is correct. */
  solution: string;
  correct: boolean;
  kind: "math" | "choice";
}

export interface ScriptedUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ScriptOptions {
  critic: ScriptedCritic;
  actor: ScriptedActor;
  /** Tokens each critic and actor answer reports (default 200 + 50 and 300 + 100). */
  usage?: { critic?: ScriptedUsage; actor?: ScriptedUsage };
}

export const WRONG_MATH_ANSWER = "\\boxed{-987654321}";

/** A wrong answer to a problem with this gold answer. */
export function wrongAnswer(p: Pick<ScriptedProblem, "gold" | "kind">): string {
  if (p.kind === "choice") {
    const g = p.gold.trim().replace(/[()]/g, "");
    const letters = "ABCD".includes(g) ? "ABCD" : "ABCDEFGHIJ";
    return letters[(letters.indexOf(g) + 1) % letters.length]!;
  }
  return WRONG_MATH_ANSWER;
}

const PROBLEM = "## Problem\n\n";
const CRITIC_SOLUTION = "\n\n## Solution\n\n";
const CRITIC_END = "\n\nCheck the solution step by step.";
const ACTOR_SOLUTION = "\n\n## Previous solution\n\n";
const ACTOR_END = "\n\n## Critique of the previous solution\n\n";

function between(text: string, start: string, end: string, from = 0): { value: string; at: number } | undefined {
  const i = text.indexOf(start, from);
  if (i < 0) return undefined;
  const j = text.indexOf(end, i + start.length);
  if (j < 0) return undefined;
  return { value: text.slice(i + start.length, j), at: j };
}

/** What a scripted request is: a critique or a revision of `shown` for `problem`. */
export function readScriptedRequest(req: FakeRequest, problems: ReadonlyMap<string, ScriptedProblem>): { role: "critic" | "actor"; problem: ScriptedProblem; shown: string } | undefined {
  const user = req.messages.filter((m) => m.role === "user").at(0)?.content ?? "";
  if (!user.startsWith(PROBLEM)) return undefined;
  const actor = user.includes(ACTOR_END);
  const q = between(user, PROBLEM, actor ? ACTOR_SOLUTION : CRITIC_SOLUTION);
  if (!q) return undefined;
  const problem = problems.get(q.value);
  if (!problem) return undefined;
  const shown = actor ? between(user, ACTOR_SOLUTION, ACTOR_END, q.at) : between(user, CRITIC_SOLUTION, CRITIC_END, q.at);
  if (!shown) return undefined;
  return { role: actor ? "actor" : "critic", problem, shown: shown.value };
}

const critiqueJson = (pass: boolean) =>
  JSON.stringify(
    pass
      ? { summary: "Every step checks out.", strengths: ["The steps are right."], weaknesses: [], suggestions: [], verdict: "pass" }
      : { summary: "A step is wrong.", strengths: [], weaknesses: ["The final answer does not follow."], suggestions: ["Redo the calculation."], verdict: "fail" },
  );

/** A responder for `startFakeModelServer` that plays the scripted critic and actor over `problems`. */
export function scriptedCriticResponder(problems: readonly ScriptedProblem[], opts: ScriptOptions): Responder {
  const byQuestion = new Map(problems.map((p) => [p.question, p]));
  const usage = { critic: opts.usage?.critic ?? { inputTokens: 200, outputTokens: 50 }, actor: opts.usage?.actor ?? { inputTokens: 300, outputTokens: 100 } };
  return (req): FakeReply => {
    const r = readScriptedRequest(req, byQuestion);
    if (!r) return { status: 400, message: "scripted server: a request about no known problem" };
    const { problem, shown } = r;
    if (r.role === "critic") {
      const truth = shown === problem.solution ? problem.correct : shown === problem.gold;
      const pass = opts.critic === "always-pass" ? true : opts.critic === "flag-all" ? false : truth;
      return { text: critiqueJson(pass), usage: usage.critic };
    }
    const first = shown === problem.solution;
    const text = opts.actor === "gold" || (opts.actor === "gold-second" && !first) ? problem.gold : wrongAnswer(problem);
    return { text, usage: usage.actor };
  };
}
