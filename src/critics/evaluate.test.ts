/**
 * The closed loop against a local OpenAI-compatible server with scripted critics and actors: self-, cross- and
 * iterative critique, critiques that cannot be read, failing actors, cost, saving and reading back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModel } from "../providers/index.js";
import { type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { openStore } from "../store/index.js";
import { evaluateCritic, getCriticEval, listCriticEvals, saveCriticEval, type CriticSolution } from "./index.js";
import { scriptedCriticResponder } from "./testing/index.js";

const sol = (task: string, i: number, correct: boolean, gold: string, kind: "math" | "choice", model = "solver-a"): CriticSolution => ({
  id: `g${task}${i}`,
  itemId: `i${task}${i}`,
  task,
  kind,
  question: `${task} problem ${i}: what is it?`,
  gold,
  solution: `Some reasoning for ${task} ${i}. The answer is \\boxed{${correct ? gold : "0"}}.`,
  model,
  correct,
});

// math: 3 right, 2 wrong; arc: 1 right, 2 wrong. 4 right, 4 wrong in all.
const solutions: CriticSolution[] = [
  sol("math", 1, true, "7", "math"),
  sol("math", 2, true, "\\frac{1}{2}", "math", "solver-b"),
  sol("math", 3, true, "converges", "math"),
  sol("math", 4, false, "12", "math", "solver-b"),
  sol("math", 5, false, "x^2+1", "math"),
  sol("arc", 1, true, "B", "choice"),
  sol("arc", 2, false, "C", "choice", "solver-b"),
  sol("arc", 3, false, "D", "choice"),
];
const problems = solutions.map((s) => ({ question: s.question, gold: s.gold, solution: s.solution, correct: s.correct, kind: s.kind }));
const CRITIC = { inputTokens: 100, outputTokens: 20 };
const ACTOR = { inputTokens: 150, outputTokens: 30 };
const PRICE = { inputPerMillion: 2, outputPerMillion: 10 };

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => server?.close());

function roles(critic: Parameters<typeof scriptedCriticResponder>[1]["critic"], actor: Parameters<typeof scriptedCriticResponder>[1]["actor"]) {
  server.respond = scriptedCriticResponder(problems, { critic, actor, usage: { critic: CRITIC, actor: ACTOR } });
  server.reset();
  const model = (name: string) => createModel({ baseUrl: server.baseUrl, model: name, maxRetries: 0 });
  return { critic: model("critic-x"), actor: model("actor-y") };
}

describe("evaluateCritic", () => {
  it("an oracle critic with a fixing actor fixes every wrong solution and breaks none", async () => {
    const m = roles("oracle", "gold");
    const progress: number[] = [];
    const r = await evaluateCritic(solutions, { critic: { model: m.critic, pricing: PRICE }, actor: { model: m.actor, pricing: PRICE }, concurrency: 3, onProgress: (d) => progress.push(d) });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const o = r.overall;
    expect(r.setting).toMatchObject({ mode: "cross", label: "cross-critique", critic: "critic-x", actor: "actor-y", judge: "solution-critique", rounds: 1 });
    expect([o.verdictAccuracy, o.balancedAccuracy, o.errorDetection.f1]).toEqual([1, 1, 1]);
    expect([o.accuracyBefore, o.accuracyAfter, o.fixed, o.broken]).toEqual([0.5, 1, 4, 0]);
    expect(o.calls).toEqual({ critic: 8, actor: 4 });
    expect(o.tokens).toEqual({ critic: 8 * 120, actor: 4 * 180, total: 8 * 120 + 4 * 180 });
    expect(o.tokensPerFixed).toBe((8 * 120 + 4 * 180) / 4);
    const cost = (8 * (100 * 2 + 20 * 10) + 4 * (150 * 2 + 30 * 10)) / 1e6;
    expect(o.costUsd).toBeCloseTo(cost, 15);
    expect(o.costPerFixedUsd).toBeCloseTo(cost / 4, 15);
    expect(r.tasks.map((t) => [t.task, t.accuracyBefore, t.accuracyAfter, t.fixed])).toEqual([
      ["arc", 1 / 3, 1, 2],
      ["math", 3 / 5, 1, 2],
    ]);
    // The critic never saw the gold answer; requests went to the named models.
    const critics = server.requests.filter((q) => q.model === "critic-x");
    expect(critics).toHaveLength(8);
    expect(server.requests.filter((q) => q.model === "actor-y")).toHaveLength(4);
    for (const s of solutions.filter((x) => x.correct)) expect(critics.some((q) => q.prompt.includes(s.question) && q.prompt.includes(`\\boxed{${s.gold}}`) && q.prompt.includes(s.solution))).toBe(true);
  });

  it("a critic that passes everything changes nothing", async () => {
    const m = roles("always-pass", "gold");
    const r = await evaluateCritic(solutions, { critic: { model: m.critic }, actor: { model: m.actor } });
    const o = r.overall;
    expect([o.verdictAccuracy, o.balancedAccuracy, o.errorDetection.f1, o.errorDetection.recall]).toEqual([0.5, 0.5, 0, 0]);
    expect([o.accuracyAfter, o.fixed, o.broken, o.calls.actor, o.tokensPerFixed, o.costUsd]).toEqual([0.5, 0, 0, 0, null, null]);
  });

  it("a critic that flags everything with an actor that answers wrongly breaks every right solution", async () => {
    const m = roles("flag-all", "wrong");
    const r = await evaluateCritic(solutions, { critic: { model: m.critic }, actor: { model: m.actor } });
    const o = r.overall;
    expect([o.verdictAccuracy, o.balancedAccuracy, o.errorDetection.precision, o.errorDetection.recall]).toEqual([0.5, 0.5, 0.5, 1]);
    expect(o.errorDetection.f1).toBeCloseTo(2 / 3, 12);
    expect([o.accuracyAfter, o.fixed, o.broken, o.breakRate, o.revised]).toEqual([0, 0, 4, 1, 8]);
  });

  it("self-critique asks each solution's own model, as critic and as actor", async () => {
    const m = roles("oracle", "gold");
    const r = await evaluateCritic(solutions, { critic: { model: m.critic, self: true }, actor: { model: m.critic, self: true } });
    expect(r.setting).toMatchObject({ mode: "self", label: "self-critique", critic: "self", actor: "self" });
    for (const s of solutions) {
      const asked = server.requests.filter((q) => q.prompt.includes(s.question));
      expect(asked.length).toBe(s.correct ? 1 : 2);
      for (const q of asked) expect(q.model).toBe(s.model);
    }
    expect(r.overall.accuracyAfter).toBe(1);
  });

  it("iterative critique goes on from the latest revision and reports accuracy per round", async () => {
    const m = roles("oracle", "gold-second");
    const r = await evaluateCritic(solutions, { critic: { model: m.critic }, actor: { model: m.actor }, rounds: 3 });
    expect(r.setting.label).toBe("iterative cross-critique (3 rounds)");
    // Round 1 revises into a wrong answer, round 2 into the gold one, round 3 passes it.
    expect(r.overall.accuracyPerRound).toEqual([0.5, 0.5, 1, 1]);
    expect(r.overall.calls).toEqual({ critic: 4 + 4 * 3, actor: 4 * 2 });
    expect([r.overall.fixed, r.overall.broken]).toEqual([4, 0]);
  });

  it("keeps going when a critique cannot be read or the actor fails, and counts them", async () => {
    const m = roles("oracle", "gold");
    const scripted = server.respond;
    server.respond = (req) => {
      const user = req.messages.find((x) => x.role === "user")?.content ?? "";
      if (user.includes("math problem 1:")) return "I am not sure.";
      if (user.includes("arc problem 3:") && user.includes("## Critique")) return { status: 400, message: "bad request" };
      return scripted(req);
    };
    const r = await evaluateCritic(solutions, { critic: { model: m.critic }, actor: { model: m.actor } });
    const o = r.overall;
    expect(o.errors).toBe(2);
    expect(o.verdicts.noneCorrect).toBe(1);
    expect([o.fixed, o.broken, o.accuracyAfter]).toEqual([3, 0, 7 / 8]);
    const bad = r.outcomes.find((x) => x.id === "gmath1")!;
    expect(bad.rounds[0]).toMatchObject({ verdict: null, revised: false, correct: true });
    expect(bad.critic.calls).toBe(3); // the judge asked again twice
    expect(r.outcomes.find((x) => x.id === "garc3")!.rounds[0]!.error).toMatch(/^actor: .*400/);
  });

  it("is saved in the store as versions of a name", async () => {
    const m = roles("oracle", "gold");
    const r = await evaluateCritic(solutions, { critic: { model: m.critic }, actor: { model: m.actor } });
    const store = await openStore({ path: ":memory:" });
    try {
      await saveCriticEval(store, { project: "p", name: "oracle", description: "scripted", result: r });
      await saveCriticEval(store, { project: "p", name: "oracle", result: { ...r, overall: { ...r.overall, fixed: 99 } } });
      const list = await listCriticEvals(store, "p");
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ name: "oracle", version: 2, fixed: 99, accuracyBefore: 0.5, accuracyAfter: 1, solutions: 8, tasks: ["arc", "math"] });
      expect((await getCriticEval(store, "p", "oracle", 1)).result.overall.fixed).toBe(4);
      await expect(getCriticEval(store, "p", "nope")).rejects.toThrow(/saved: oracle/);
      await expect(getCriticEval(store, "other", "oracle")).rejects.toThrow(/no saved critic evaluation/);
    } finally {
      await store.close();
    }
  });

  it("refuses bad options before asking anything", async () => {
    const m = roles("oracle", "gold");
    await expect(evaluateCritic(solutions, { critic: { model: m.critic }, actor: { model: m.actor }, rounds: 0 })).rejects.toThrow(/rounds/);
    await expect(evaluateCritic([], { critic: { model: m.critic }, actor: { model: m.actor } })).rejects.toThrow(/no solutions/);
    expect(server.requests).toHaveLength(0);
  });
});
