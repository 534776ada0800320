/**
 * Closed-loop critic evaluation on the 2,093 RealCritic solutions (../shared/data/realcritic, or RLXF_DATA), with
 * scripted critics and actors on a local OpenAI-compatible server: one loop over all of them, the others over a
 * quarter of every task's. Every metric is compared with a value computed here from the files' own labels and the
 * script's known behaviour, not by the code under test.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedData } from "../../test/support/data.js";
import { createModel } from "../providers/index.js";
import { type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { createVerifier } from "../sources/verifiers/index.js";
import { type CriticMetrics, type CriticSolution, answerVerifier, evaluateCritic, readSolutions } from "./index.js";
import { type ScriptedActor, type ScriptedCritic, scriptedCriticResponder } from "./testing/index.js";

const dir = sharedData("critic evaluation on RealCritic", "realcritic");
const CRITIC = { inputTokens: 700, outputTokens: 120 };
const ACTOR = { inputTokens: 900, outputTokens: 250 };
const PRICE = { inputPerMillion: 0.5, outputPerMillion: 1.5 };
const CHOICE = new Set(["arc-challenge", "gpqa", "mmlu_stem"]);

interface Row {
  task: string;
  question: string;
  gt: string;
  model: string;
  correct: boolean;
}

/** The labels straight from the files. */
function rawRows(): Row[] {
  const rows: Row[] = [];
  for (const f of readdirSync(dir!).filter((x) => x.endsWith(".jsonl.gz")).sort()) {
    const task = f.replace(".jsonl.gz", "");
    for (const line of gunzipSync(readFileSync(join(dir!, f))).toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { question: string; gt: string; model: string; previous_score: boolean[] };
      rows.push({ task, question: r.question, gt: r.gt, model: r.model, correct: r.previous_score[0] === true });
    }
  }
  return rows;
}

interface Expected {
  n: number;
  correct: number;
  wrong: number;
}

/** Solutions, right and wrong, per task and overall ("*"). */
function groupsOf(rows: readonly Row[]): Map<string, Expected> {
  const groups = new Map<string, Expected>();
  for (const r of rows) {
    for (const k of [r.task, "*"]) {
      const g = groups.get(k) ?? { n: 0, correct: 0, wrong: 0 };
      g.n++;
      if (r.correct) g.correct++;
      else g.wrong++;
      groups.set(k, g);
    }
  }
  return groups;
}

describe.skipIf(!dir)("critic evaluation on 2,093 RealCritic solutions", () => {
  let server: FakeServer;
  let solutions: CriticSolution[];
  let rows: Row[];
  let groups: Map<string, Expected>;
  /** Every fourth solution of each task (and their rows): the loops after the first run over these. */
  let slice: { solutions: CriticSolution[]; rows: Row[]; groups: Map<string, Expected> };

  beforeAll(async () => {
    rows = rawRows();
    solutions = (await readSolutions(readdirSync(dir!).filter((x) => x.endsWith(".jsonl.gz")).map((f) => join(dir!, f)))).solutions;
    groups = groupsOf(rows);
    const byQuestion = new Map(rows.map((r) => [r.question, r]));
    const seen = new Map<string, number>();
    const some = solutions.filter((s) => {
      const k = (seen.get(s.task) ?? 0) + 1;
      seen.set(s.task, k);
      return k % 4 === 1;
    });
    const someRows = some.map((s) => byQuestion.get(s.question)!);
    slice = { solutions: some, rows: someRows, groups: groupsOf(someRows) };
    server = await startFakeModelServer();
  }, 120_000);
  afterAll(async () => server?.close());

  async function run(critic: ScriptedCritic, actor: ScriptedActor, opts: { self?: boolean; rounds?: number; solutions?: CriticSolution[] } = {}) {
    const batch = opts.solutions ?? solutions;
    server.respond = scriptedCriticResponder(
      batch.map((s) => ({ question: s.question, gold: s.gold, solution: s.solution, correct: s.correct, kind: s.kind })),
      { critic, actor, usage: { critic: CRITIC, actor: ACTOR } },
    );
    server.reset();
    const model = createModel({ baseUrl: server.baseUrl, model: "critic-model", concurrency: 32, maxRetries: 0 });
    const actorModel = opts.self ? model : createModel({ baseUrl: server.baseUrl, model: "actor-model", concurrency: 32, maxRetries: 0 });
    try {
      return await evaluateCritic(batch, {
        critic: { model, self: !!opts.self, pricing: PRICE },
        actor: { model: actorModel, self: !!opts.self, pricing: PRICE },
        concurrency: 64,
        ...(opts.rounds ? { rounds: opts.rounds } : {}),
      });
    } finally {
      await model.close();
      await actorModel.close();
    }
  }

  const tokens = (criticCalls: number, actorCalls: number) => criticCalls * (CRITIC.inputTokens + CRITIC.outputTokens) + actorCalls * (ACTOR.inputTokens + ACTOR.outputTokens);
  const cost = (criticCalls: number, actorCalls: number) =>
    (criticCalls * (CRITIC.inputTokens * PRICE.inputPerMillion + CRITIC.outputTokens * PRICE.outputPerMillion) + actorCalls * (ACTOR.inputTokens * PRICE.inputPerMillion + ACTOR.outputTokens * PRICE.outputPerMillion)) / 1e6;

  function expectAll(result: { overall: CriticMetrics; tasks: Array<CriticMetrics & { task: string }> }, check: (m: CriticMetrics, e: Expected) => void, expected = groups) {
    expect(result.tasks.map((t) => t.task)).toEqual([...expected.keys()].filter((k) => k !== "*").sort());
    check(result.overall, expected.get("*")!);
    for (const t of result.tasks) check(t, expected.get(t.task)!);
  }

  it("reads every solution with its label", () => {
    expect(solutions).toHaveLength(2093);
    expect(groups.get("*")).toEqual({ n: 2093, correct: 1044, wrong: 1049 });
    const byQuestion = new Map(rows.map((r) => [r.question, r]));
    for (const s of solutions) {
      const r = byQuestion.get(s.question)!;
      expect([s.task, s.gold, s.correct, s.model, s.kind]).toEqual([r.task, r.gt, r.correct, r.model, CHOICE.has(r.task) ? "choice" : "math"]);
    }
  });

  it("an always-\"correct\" critic: accuracy of the labels' majority, no detection, nothing changes", async () => {
    const r = await run("always-pass", "gold");
    expectAll(r, (m, e) => {
      expect(m.solutions).toBe(e.n);
      expect(m.verdictAccuracy).toBeCloseTo(e.correct / e.n, 12);
      expect(m.balancedAccuracy).toBe(0.5);
      expect(m.errorDetection).toEqual({ precision: null, recall: 0, f1: 0 });
      expect([m.accuracyBefore, m.accuracyAfter]).toEqual([e.correct / e.n, e.correct / e.n]);
      expect([m.fixed, m.broken, m.fixRate, m.breakRate]).toEqual([0, 0, 0, 0]);
      expect(m.calls).toEqual({ critic: e.n, actor: 0 });
      expect(m.tokens.total).toBe(tokens(e.n, 0));
      expect(m.costUsd).toBeCloseTo(cost(e.n, 0), 12);
      expect([m.tokensPerFixed, m.costPerFixedUsd]).toEqual([null, null]);
    });
  });

  it("self-critique by an oracle critic with an actor that answers the gold: every wrong solution fixed, none broken", async () => {
    expect(slice.groups.get("*")!.wrong).toBeGreaterThan(0);
    expect(slice.groups.get("*")!.correct).toBeGreaterThan(0);
    const r = await run("oracle", "gold", { self: true, solutions: slice.solutions });
    expect(r.setting.label).toBe("self-critique");
    expectAll(r, (m, e) => {
      expect([m.verdictAccuracy, m.balancedAccuracy, m.errorDetection.precision, m.errorDetection.recall, m.errorDetection.f1]).toEqual([1, 1, 1, 1, 1]);
      expect([m.accuracyBefore, m.accuracyAfter]).toEqual([e.correct / e.n, 1]);
      expect([m.fixed, m.broken, m.fixRate, m.breakRate]).toEqual([e.wrong, 0, 1, 0]);
      expect(m.calls).toEqual({ critic: e.n, actor: e.wrong });
      expect(m.tokensPerFixed).toBeCloseTo(tokens(e.n, e.wrong) / e.wrong, 9);
      expect(m.costPerFixedUsd).toBeCloseTo(cost(e.n, e.wrong) / e.wrong, 12);
    }, slice.groups);
    // Each solution was critiqued and revised by its own model.
    const modelOf = new Map(rows.map((x) => [x.question, x.model]));
    const seen = new Set<string>();
    for (const q of server.requests) {
      const m = /^## Problem\n\n([\s\S]*?)\n\n## (?:Solution|Previous solution)\n\n/.exec(q.messages.find((x) => x.role === "user")!.content);
      expect(q.model).toBe(modelOf.get(m![1]!));
      seen.add(q.model!);
    }
    expect(seen.size).toBe(new Set(slice.rows.map((x) => x.model)).size);
  });

  it("a critic that flags everything with an actor that changes every answer to a wrong one breaks every right solution", async () => {
    const r = await run("flag-all", "wrong", { solutions: slice.solutions });
    expect(r.setting.label).toBe("cross-critique");
    expectAll(r, (m, e) => {
      expect(m.verdictAccuracy).toBeCloseTo(e.wrong / e.n, 12);
      expect(m.balancedAccuracy).toBe(0.5);
      expect(m.errorDetection.precision).toBeCloseTo(e.wrong / e.n, 12);
      expect(m.errorDetection.recall).toBe(1);
      expect(m.errorDetection.f1).toBeCloseTo((2 * e.wrong) / (e.wrong + e.n), 12);
      expect([m.accuracyAfter, m.fixed, m.broken, m.fixRate, m.breakRate]).toEqual([0, 0, e.correct, 0, 1]);
      expect(m.calls).toEqual({ critic: e.n, actor: e.n });
      expect(m.delta).toBeCloseTo(-e.correct / e.n, 12);
    }, slice.groups);
  });

  it("iterative critique: wrong at the first revision, fixed at the second, kept at the third", async () => {
    const r = await run("oracle", "gold-second", { rounds: 3, solutions: slice.solutions });
    expectAll(r, (m, e) => {
      expect(m.accuracyPerRound).toEqual([e.correct / e.n, e.correct / e.n, 1, 1]);
      expect([m.fixed, m.broken]).toEqual([e.wrong, 0]);
      expect(m.calls).toEqual({ critic: e.correct + 3 * e.wrong, actor: 2 * e.wrong });
    }, slice.groups);
  });

  it("every gold answer verifies against itself; rows where the math verifier alone does not are reported", async () => {
    const math = createVerifier("math");
    const rejected: string[] = [];
    for (const s of solutions) {
      expect((await answerVerifier(s.kind).verify({ completion: s.gold, reference: s.gold })).passed).toBe(true);
      if (s.kind === "math" && !(await math.verify({ completion: s.gold, reference: s.gold })).passed) rejected.push(`${s.task}: ${JSON.stringify(s.gold).slice(0, 60)}`);
    }
    console.log(`math verifier alone, gold against itself: ${rejected.length} of ${solutions.filter((s) => s.kind === "math").length} rejected${rejected.length ? `:\n  ${rejected.join("\n  ")}` : ""}`);
  });
});
