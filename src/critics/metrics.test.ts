/** Discriminability, closed-loop accuracy, fixed/broken and cost per fix on outcomes written by hand. */
import { describe, expect, it } from "vitest";
import { type RoundOutcome, type SolutionOutcome, criticMetrics, criticReport } from "./metrics.js";

const spent = (tokens: number, cost = 0, calls = 1) => ({ inputTokens: tokens, outputTokens: 0, costUsd: cost, calls });
const outcome = (task: string, correct: boolean, rounds: RoundOutcome[], critic = 10, actor = 0): SolutionOutcome => ({
  id: `${task}-${Math.random()}`,
  task,
  model: "m",
  correct,
  rounds,
  critic: spent(critic, critic / 1000),
  actor: spent(actor, actor / 1000, actor ? 1 : 0),
});
const pass = (correct: boolean): RoundOutcome => ({ verdict: "pass", revised: false, correct });
const fail = (correct: boolean): RoundOutcome => ({ verdict: "fail", revised: true, correct });

describe("criticMetrics", () => {
  // 4 right, 4 wrong. Verdicts: right → pass, pass, fail (broken), none; wrong → fail (fixed), fail (still wrong), pass, fail (fixed).
  const outcomes = [
    outcome("a", true, [pass(true)]),
    outcome("a", true, [pass(true)]),
    outcome("a", true, [fail(false)], 10, 20),
    outcome("b", true, [{ verdict: null, revised: false, correct: true, error: "critic: unparseable" }]),
    outcome("b", false, [fail(true)], 10, 20),
    outcome("b", false, [fail(false)], 10, 20),
    outcome("b", false, [pass(false)]),
    outcome("b", false, [fail(true)], 10, 20),
  ];
  const m = criticMetrics(outcomes, 1, true);

  it("measures the verdicts against the labels", () => {
    expect(m.verdicts).toEqual({ passCorrect: 2, failWrong: 3, failCorrect: 1, passWrong: 1, noneCorrect: 1, noneWrong: 0 });
    expect(m.verdictAccuracy).toBe(5 / 8);
    expect(m.balancedAccuracy).toBe((3 / 4 + 2 / 4) / 2);
    expect(m.errorDetection.precision).toBe(3 / 4);
    expect(m.errorDetection.recall).toBe(3 / 4);
    expect(m.errorDetection.f1).toBeCloseTo(0.75, 12);
  });

  it("counts fixed and broken solutions and accuracy before and after", () => {
    expect([m.accuracyBefore, m.accuracyAfter, m.delta]).toEqual([0.5, 5 / 8, 1 / 8]);
    expect([m.fixed, m.broken, m.fixRate, m.breakRate]).toEqual([2, 1, 0.5, 0.25]);
    expect(m.accuracyPerRound).toEqual([0.5, 5 / 8]);
    expect([m.revised, m.errors]).toEqual([4, 1]);
  });

  it("adds up tokens and cost per fixed solution", () => {
    expect(m.tokens).toEqual({ critic: 80, actor: 80, total: 160 });
    expect(m.calls).toEqual({ critic: 8, actor: 4 });
    expect(m.tokensPerFixed).toBe(80);
    expect(m.costUsd).toBeCloseTo(0.16, 12);
    expect(m.costPerFixedUsd).toBeCloseTo(0.08, 12);
    expect(criticMetrics(outcomes, 1, false).costUsd).toBeNull();
  });

  it("gives F1 0 to a critic that detects nothing and no rates for an empty class", () => {
    const none = criticMetrics([outcome("a", true, [pass(true)]), outcome("a", false, [pass(false)])], 1, false);
    expect(none.errorDetection).toEqual({ precision: null, recall: 0, f1: 0 });
    expect(none.balancedAccuracy).toBe(0.5);
    expect(none.tokensPerFixed).toBeNull();
    const allRight = criticMetrics([outcome("a", true, [pass(true)])], 1, false);
    expect(allRight.errorDetection).toEqual({ precision: null, recall: null, f1: null });
    expect(allRight.balancedAccuracy).toBe(1);
    expect(allRight.fixRate).toBeNull();
  });

  it("carries a solution's last round forward and splits by task", () => {
    const it2 = [outcome("x", false, [fail(false), fail(true)]), outcome("x", true, [pass(true)]), outcome("y", false, [fail(false), pass(false)])];
    const r = criticReport(it2, 2, false);
    expect(r.overall.accuracyPerRound).toEqual([1 / 3, 1 / 3, 2 / 3]);
    expect(r.tasks.map((t) => [t.task, t.solutions, t.fixed])).toEqual([
      ["x", 2, 1],
      ["y", 1, 0],
    ]);
  });
});
