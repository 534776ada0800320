/**
 * The loops against a real local OpenAI-compatible server playing scripted policies (the request's model name
 * picks the behaviour), a critic and a simulated user, with an in-memory store. Every loop, stopping rule and
 * metric is checked for the behaviour it must show.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createModel } from "../providers/index.js";
import { type FakeRequest, type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { resolveJudge } from "../sources/index.js";
import { createVerifier } from "../sources/verifiers/index.js";
import { openStore } from "../store/index.js";
import type { Store } from "../store/index.js";
import { trainRewardModel } from "../learn/index.js";
import type { PreferencePair } from "../learn/index.js";
import { humanFeedback, judgeFeedback, rewardModelFeedback, simulatedUserFeedback, verifierFeedback } from "./feedback.js";
import { bestOfNLoop, multiTurnLoop, refineLoop, reflexionLoop, retryLoop } from "./loops.js";
import { loopRunReport } from "./report.js";
import type { FeedbackSource, LoopContext, LoopTask, Policy } from "./types.js";

const USAGE = { inputTokens: 10, outputTokens: 5 };
const boxed = (x: string | number) => ({ text: `The answer is \\boxed{${x}}.`, usage: USAGE });

const lastUser = (r: FakeRequest) => [...r.messages].reverse().find((m) => m.role === "user")?.content ?? "";
const counters = new Map<string, number>();
const nth = (key: string) => {
  const n = counters.get(key) ?? 0;
  counters.set(key, n + 1);
  return n;
};

/** Policies (by model name), the critic and the simulated user. */
function respond(r: FakeRequest) {
  const p = r.prompt;
  const u = lastUser(r);
  // The critique judge: fails anything without 42 and names the error.
  if (p.includes("Critique the response")) {
    const response = p.slice(p.indexOf("## Response"));
    if (r.model === "harsh-critic" || !response.includes("{42}")) {
      return { text: JSON.stringify({ summary: "The sum is wrong.", strengths: ["clear"], weaknesses: ["The carry from the ones digit was dropped"], suggestions: ["Redo the addition and carry the one"], verdict: "fail" }), usage: USAGE };
    }
    return { text: JSON.stringify({ summary: "Correct.", strengths: ["right"], weaknesses: [], suggestions: [], verdict: "pass" }), usage: USAGE };
  }
  // The simulated user (MINT-style): satisfied by 42, otherwise points at the carry without giving the answer.
  if (p.includes("You play a user")) {
    const transcript = u.slice(u.lastIndexOf("Assistant:"));
    return transcript.includes("{42}") ? "SATISFIED" : "Hmm, that does not add up. Did you forget to carry the one?";
  }
  switch (r.model) {
    case "fixer": // wrong first; fixes the error only when the feedback names it
      return /carry/i.test(u) ? boxed(42) : boxed(41);
    case "ignorer": // ignores every piece of feedback
      return boxed(41);
    case "repeater": // gives the same wrong answer whatever it is told
      return boxed(7);
    case "listener": { // repeats itself unless told which answers it already gave
      if (!u.includes("You already gave these answers")) return boxed(7);
      const next = [9, 42].find((x) => !u.includes(`${x}`));
      return boxed(next ?? 7);
    }
    case "hot": // right only when sampled hot enough
      return boxed((r.body.temperature ?? 0) >= 0.6 ? 42 : 41);
    case "flipper": // right first, then gives in to any criticism
      return u.includes("Write an improved answer") ? boxed(41) : boxed(42);
    case "holder": // right first, and keeps its answer under criticism (in other words)
      return u.includes("Write an improved answer") ? { text: "I checked again: the answer is \\boxed{42}.", usage: USAGE } : boxed(42);
    case "reflector": {
      if (u.includes("diagnose why the answer failed")) return { text: "I dropped the carry. REMEMBER-CARRY next time.", usage: USAGE };
      return u.includes("REMEMBER-CARRY") ? boxed(42) : boxed(41);
    }
    case "sampler": // candidates in turn per prompt
      return boxed([41, 42, 40, 42][nth(`${r.model}:${u}`) % 4]!);
    case "talker": {
      const k = nth(`${r.model}:${u}`) % 3;
      return { text: ["Go away, figure it out yourself.", "Thank you kindly for asking, here is a careful answer.", "Meh."][k]!, usage: USAGE };
    }
    default:
      return "?";
  }
}

let server: FakeServer;
let store: Store;
const model = (name: string) => createModel({ baseUrl: server.baseUrl, model: name, maxRetries: 0 });
const policy = (name: string, extra: Partial<Policy> = {}): Policy => ({ model: model(name), ...extra });
const math = createVerifier("math");
const critic = (name = "critic") => judgeFeedback(model(name), resolveJudge("critique"));

const TASKS: LoopTask[] = [
  { id: "sum", prompt: "What is 17 + 25? Put the answer in \\boxed{}.", reference: "42" },
  { id: "sum2", prompt: "Add 19 and 23. Put the answer in \\boxed{}.", reference: "42" },
];

const ctx = (p: Policy, feedback: FeedbackSource, extra: Partial<LoopContext> = {}): LoopContext => ({ store, policy: p, feedback, budget: { rounds: 3 }, ...extra });

beforeAll(async () => {
  server = await startFakeModelServer({ respond });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  store = await openStore({ path: ":memory:" });
  server.reset();
  counters.clear();
  return async () => store.close();
});

const requestsOf = (name: string) => server.requests.filter((r) => r.model === name);

describe("critique -> refine", () => {
  it("carries the critique's weaknesses and suggestions into the refinement prompt; a policy that fixes named errors solves at turn 2", async () => {
    const r = await refineLoop(TASKS, ctx(policy("fixer"), critic()));
    expect(r.tasks.map((t) => [t.taskId, t.solved, t.stop, t.attempts])).toEqual([
      ["sum", true, "satisfied", 2],
      ["sum2", true, "satisfied", 2],
    ]);
    const refinement = requestsOf("fixer").filter((q) => lastUser(q).includes("Write an improved answer"));
    expect(refinement).toHaveLength(2);
    for (const q of refinement) {
      expect(lastUser(q)).toContain("The carry from the ones digit was dropped");
      expect(lastUser(q)).toContain("Redo the addition and carry the one");
      expect(lastUser(q)).toContain("\\boxed{41}");
    }
    expect(r.summary.accuracyPerTurn).toEqual([0, 1]);
    expect(r.summary.friction).toEqual({ pointedAt: 2, fixed: 2, fixRate: 1, friction: 0 });
    expect(r.summary.selfCorrection).toMatchObject({ wrongBefore: 2, becameCorrect: 2, critique: 1 });
    // Fixer: 2 calls per task, critic: 2 calls per task, 15 tokens each.
    expect(r.summary.tokens).toBe(2 * 4 * 15);
    expect(r.summary.tokensPerSolved).toBe(60);

    // The trace: every output a generation, every verdict a feedback record, with the run id.
    const gens = (await store.listGenerations({ policy: "fixer" })).records;
    expect(gens).toHaveLength(4);
    expect(gens.every((g) => g.metadata?.loopRun === r.runId)).toBe(true);
    const fb = (await store.listFeedback({ kind: "critique" })).records;
    expect(fb).toHaveLength(4);
    expect(fb.every((f) => f.source.type === "critic" && f.metadata?.loopRun === r.runId)).toBe(true);
    const run = await store.loops.get("default", r.runId);
    expect(run).toMatchObject({ loop: "refine", status: "done", summary: { solved: 2 } });
  });

  it("stops when the output stops changing, and measures friction as 1 for a policy that ignores feedback", async () => {
    const r = await refineLoop(TASKS, ctx(policy("ignorer"), critic(), { budget: { rounds: 5 } }));
    expect(r.tasks.map((t) => [t.stop, t.attempts, t.solved])).toEqual([
      ["unchanged", 2, false],
      ["unchanged", 2, false],
    ]);
    // The unchanged answer is not sent to the critic again.
    expect(server.requests.filter((q) => q.prompt.includes("Critique the response"))).toHaveLength(2);
    expect(r.summary.friction).toEqual({ pointedAt: 2, fixed: 0, fixRate: 0, friction: 1 });
    expect(r.summary.accuracyPerTurn).toEqual([0, 0]);
    expect(r.summary.tokensPerSolved).toBeNull();
  });

  it("stops at the round limit", async () => {
    const r = await refineLoop([TASKS[0]!], ctx(policy("fixer"), critic(), { budget: { rounds: 1 } }));
    expect(r.tasks[0]).toMatchObject({ stop: "rounds", attempts: 1, solved: false });
  });

  it("stops when the token or cost budget is spent", async () => {
    const tokens = await refineLoop([TASKS[0]!], ctx(policy("fixer"), critic(), { budget: { rounds: 5, tokensPerTask: 20 } }));
    // First answer (15) + critique (15) = 30 >= 20: no refinement is asked for.
    expect(tokens.tasks[0]).toMatchObject({ stop: "budget", attempts: 1, tokens: 30 });
    // A spent budget keeps the latest verdict: a correct answer the harsh critic rejected still counts as solved.
    const kept = await refineLoop([TASKS[0]!], ctx(policy("holder"), critic("harsh-critic"), { check: math, budget: { rounds: 5, tokensPerTask: 20 } }));
    expect(kept.tasks[0]).toMatchObject({ stop: "budget", attempts: 1, solved: true, final: "The answer is \\boxed{42}." });
    const cost = await refineLoop([TASKS[1]!], ctx(policy("fixer", { pricing: { inputPerMillion: 1000, outputPerMillion: 2000 } }), verifierFeedback(math), { budget: { rounds: 5, costPerTaskUsd: 0.01 } }));
    // One answer costs 10*0.001 + 5*0.002 = 0.02 USD >= 0.01.
    expect(cost.tasks[0]).toMatchObject({ stop: "budget", attempts: 1 });
    expect(cost.tasks[0]!.costUsd).toBeCloseTo(0.02, 10);
    const total = await refineLoop(TASKS, ctx(policy("fixer"), critic(), { budget: { rounds: 5, totalTokens: 30 }, concurrency: 1 }));
    expect(total.tasks.map((t) => t.stop)).toEqual(["budget", "budget"]);
    expect(total.tasks[1]!.attempts).toBe(0);
  });

  it("decomposes self-correction into confidence and critique with a harsh critic and a ground-truth check", async () => {
    const flip = await refineLoop([TASKS[0]!], ctx(policy("flipper"), critic("harsh-critic"), { check: math, budget: { rounds: 2 } }));
    expect(flip.summary.selfCorrection).toMatchObject({ correctBefore: 1, stayedCorrect: 0, confidence: 0 });
    expect(flip.summary.accuracyPerTurn).toEqual([1, 0]);
    const hold = await refineLoop([TASKS[0]!], ctx(policy("holder"), critic("harsh-critic"), { check: math, budget: { rounds: 2 } }));
    expect(hold.summary.selfCorrection).toMatchObject({ correctBefore: 1, stayedCorrect: 1, confidence: 1 });
    // The check is stored beside the critique.
    const checks = (await store.listFeedback({ kind: "verification" })).records.filter((f) => f.metadata?.loopRun === hold.runId);
    expect(checks).toHaveLength(2);
  });
});

describe("try again (unary feedback)", () => {
  it("shows only unary feedback, so a policy that needs the error named never fixes it", async () => {
    const r = await retryLoop([TASKS[0]!], ctx(policy("fixer"), verifierFeedback(math)));
    expect(r.tasks[0]).toMatchObject({ stop: "rounds", attempts: 3, solved: false });
    const followUps = requestsOf("fixer").slice(1).map(lastUser);
    expect(followUps.every((u) => u === "That is not right. Try again.")).toBe(true);
    expect(r.summary.friction).toMatchObject({ pointedAt: 2, fixed: 0, friction: 1 });
  });

  it("without rejection a repeating policy resubmits its answer; with rejection it is never resubmitted", async () => {
    const plain = await retryLoop([TASKS[0]!], ctx(policy("repeater"), verifierFeedback(math)));
    expect(plain.summary.resubmitted).toBe(2);
    expect(plain.tasks[0]!.stop).toBe("rounds");

    const strict = await retryLoop([TASKS[1]!], ctx(policy("repeater"), verifierFeedback(math)), { rejectPrevious: true, maxResamples: 2 });
    expect(strict.summary.resubmitted).toBe(0);
    expect(strict.summary.rejectedRepeats).toBe(3);
    expect(strict.tasks[0]).toMatchObject({ stop: "repeating", attempts: 1 });
    // The verifier saw "7" once: one verification record for the run.
    const verdicts = (await store.listFeedback({ kind: "verification" })).records.filter((f) => f.metadata?.loopRun === strict.runId);
    expect(verdicts).toHaveLength(1);
    // The policy was told which answers it gave.
    expect(lastUser(requestsOf("repeater").at(-1)!)).toContain("You already gave these answers, and they are wrong: 7");
  });

  it("telling the policy its earlier answers gets a listening policy past them", async () => {
    const plain = await retryLoop([TASKS[0]!], ctx(policy("listener"), verifierFeedback(math), { budget: { rounds: 4 } }));
    expect(plain.tasks[0]!.solved).toBe(false);
    const told = await retryLoop([TASKS[1]!], ctx(policy("listener"), verifierFeedback(math), { budget: { rounds: 4 } }), { rejectPrevious: true });
    expect(told.tasks[0]).toMatchObject({ solved: true, stop: "satisfied", attempts: 3 });
    expect(told.summary.accuracyPerTurn).toEqual([0, 0, 1]);
  });

  it("raises the temperature after each failure when asked (progressive temperature)", async () => {
    const flat = await retryLoop([TASKS[0]!], ctx(policy("hot"), verifierFeedback(math), { budget: { rounds: 3 } }));
    expect(flat.tasks[0]!.solved).toBe(false);
    server.reset();
    const hot = await retryLoop([TASKS[1]!], ctx(policy("hot"), verifierFeedback(math), { budget: { rounds: 4 } }), { temperatureStep: 0.3, startTemperature: 0 });
    expect(requestsOf("hot").map((q) => q.body.temperature)).toEqual([0, 0.3, 0.6]);
    expect(hot.tasks[0]).toMatchObject({ solved: true, attempts: 3 });
  });
});

describe("Reflexion", () => {
  it("stores a reflection after a failure and puts it in the next attempt's prompt", async () => {
    const r = await reflexionLoop([TASKS[0]!], ctx(policy("reflector"), verifierFeedback(math)));
    expect(r.tasks[0]).toMatchObject({ solved: true, stop: "satisfied", attempts: 2 });
    const attempts = requestsOf("reflector").filter((q) => !lastUser(q).includes("diagnose"));
    expect(attempts).toHaveLength(2);
    expect(lastUser(attempts[0]!)).not.toContain("REMEMBER-CARRY");
    expect(lastUser(attempts[1]!)).toContain("Reflections on your earlier attempts");
    expect(lastUser(attempts[1]!)).toContain("I dropped the carry. REMEMBER-CARRY next time.");
    // The reflection asks about the failure with the verifier's words.
    const ask = requestsOf("reflector").find((q) => lastUser(q).includes("diagnose"))!;
    expect(lastUser(ask)).toContain("The final answer 41 is not correct.");
    const reflections = (await store.listFeedback({ sourceType: "critic" })).records;
    expect(reflections).toHaveLength(1);
    expect(reflections[0]).toMatchObject({ kind: "critique", targets: [`${r.runId}/sum/a0`], value: { verdict: "fail" } });
    expect(r.summary.reflections).toBe(1);
  });
});

describe("best-of-n and rejection sampling", () => {
  it("keeps the candidate the verifier scores best", async () => {
    const r = await bestOfNLoop([TASKS[0]!], ctx(policy("sampler"), verifierFeedback(math), { budget: { rounds: 3 } }));
    expect(r.tasks[0]).toMatchObject({ solved: true, attempts: 3, final: "The answer is \\boxed{42}." });
    expect(r.summary.selection).toEqual({ selectedCorrect: 1, firstCorrect: 0, anyCorrect: 1 });
    expect(r.summary.accuracyPerTurn).toEqual([0, 1, 1]);
    const report = await loopRunReport(store, r.runId);
    expect(report.tasks[0]!.steps.filter((s) => s.selected).map((s) => s.turn)).toEqual([1]);
  });

  it("rejection sampling stops at the first candidate that passes", async () => {
    const r = await bestOfNLoop([TASKS[0]!], ctx(policy("sampler"), verifierFeedback(math), { budget: { rounds: 4 } }), { untilPass: true });
    expect(r.tasks[0]).toMatchObject({ solved: true, attempts: 2, stop: "satisfied" });
  });

  it("keeps the candidate a trained reward model scores best", async () => {
    const pairs: PreferencePair[] = Array.from({ length: 30 }, (_, i) => ({
      id: `p${i}`,
      project: "default",
      itemId: `i${i}`,
      prompt: `Question number ${i}?`,
      chosen: { text: `Thank you kindly for asking, here is a careful answer ${i}.` },
      rejected: { text: `Go away ${i}, figure it out yourself.` },
      pChosen: 1,
      derivation: "pairwise",
      sources: ["human:a"],
      feedbackIds: [`f${i}`],
    })) as PreferencePair[];
    const { model: rm } = await trainRewardModel(pairs, { seed: 1, calibrate: false });
    const r = await bestOfNLoop([TASKS[0]!], ctx(policy("talker"), rewardModelFeedback(rm), { budget: { rounds: 3 } }));
    expect(r.tasks[0]!.final).toBe("Thank you kindly for asking, here is a careful answer.");
  });

  it("ranks by mean or by mean minus penalty times spread", async () => {
    // A scripted reward source: the longest answer has the highest mean but a wide spread.
    const spread: FeedbackSource = {
      source: { type: "verifier", id: "scripted-ensemble" },
      async evaluate({ output }) {
        const mean = output.length > 40 ? 2 : 1;
        const std = output.length > 40 ? 3 : 0.1;
        return { passed: false, score: 0.5, reward: { mean, std }, text: "", record: { kind: "verification", value: { passed: false, score: 0.5 } } };
      },
    };
    const byMean = await bestOfNLoop([TASKS[0]!], ctx(policy("talker"), spread, { budget: { rounds: 3 } }), { aggregate: "mean" });
    expect(byMean.tasks[0]!.final).toBe("Thank you kindly for asking, here is a careful answer.");
    counters.clear();
    const penalised = await bestOfNLoop([TASKS[1]!], ctx(policy("talker"), spread, { budget: { rounds: 3 } }), { aggregate: "penalized", penalty: 1 });
    expect(penalised.tasks[0]!.final).not.toBe("Thank you kindly for asking, here is a careful answer.");
  });
});

describe("multi-turn with a simulated user", () => {
  it("puts the simulated user's words in the conversation as the next turn", async () => {
    const r = await multiTurnLoop([TASKS[0]!], ctx(policy("fixer"), simulatedUserFeedback(model("user-sim"))));
    expect(r.tasks[0]).toMatchObject({ solved: true, attempts: 2, stop: "satisfied" });
    const second = requestsOf("fixer")[1]!;
    expect(second.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(second.messages[2]!.content).toBe("Hmm, that does not add up. Did you forget to carry the one?");
    // The simulator sees the ground truth but is told not to reveal it.
    const sim = requestsOf("user-sim")[0]!;
    expect(sim.messages[0]!.content).toContain("The correct answer is: 42");
    const fb = (await store.listFeedback({ sourceType: "simulated" })).records;
    expect(fb.map((f) => (f.value as { verdict: string }).verdict)).toEqual(["fail", "pass"]);
  });
});

describe("human feedback over the store", () => {
  it("waits for feedback on the stored generation, then works on with it", async () => {
    const loop = refineLoop([TASKS[0]!], ctx(policy("fixer"), humanFeedback(store, { pollMs: 10, timeoutMs: 10_000 })));
    // A person answers each generation as it appears (what POST /v1/feedback does).
    const answered = new Set<string>();
    let done = false;
    const person = (async () => {
      while (!done) {
        for (const g of (await store.listGenerations({ policy: "fixer" })).records) {
          if (answered.has(g.id)) continue;
          answered.add(g.id);
          const ok = g.output.includes("{42}");
          await store.write({
            feedback: [
              ok
                ? { id: `h-${g.id}`, kind: "binary", targets: [g.id], source: { type: "human", id: "ann" }, value: { ok: true } }
                : { id: `h-${g.id}`, kind: "critique", targets: [g.id], source: { type: "human", id: "ann" }, value: { text: "Wrong sum.", weaknesses: ["You forgot to carry the one"], verdict: "fail" } },
            ],
          });
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const r = await loop;
    done = true;
    await person;
    expect(r.tasks[0]).toMatchObject({ solved: true, attempts: 2 });
    const steps = await store.loops.steps("default", r.runId);
    expect(steps.filter((s) => s.data.role === "attempt").map((s) => s.data.feedbackId)).toEqual([`h-${r.runId}/sum/a0`, `h-${r.runId}/sum/a1`]);
  });

  it("gives up on a task when no feedback comes in time", async () => {
    const r = await refineLoop([TASKS[0]!], ctx(policy("fixer"), humanFeedback(store, { pollMs: 5, timeoutMs: 50 })));
    expect(r.tasks[0]).toMatchObject({ solved: false, stop: "feedback-timeout", attempts: 1 });
    expect(r.summary.stops).toEqual({ "feedback-timeout": 1 });
  });
});

describe("runs", () => {
  it("refuses a run id already used and bad budgets, before calling any model", async () => {
    await refineLoop([TASKS[0]!], ctx(policy("fixer"), verifierFeedback(math), { runId: "r1" }));
    const n = server.requests.length;
    await expect(refineLoop([TASKS[0]!], ctx(policy("fixer"), verifierFeedback(math), { runId: "r1" }))).rejects.toThrow(/already exists/);
    await expect(refineLoop([TASKS[0]!], ctx(policy("fixer"), verifierFeedback(math), { budget: { rounds: 0 } }))).rejects.toThrow(/rounds must be a positive integer/);
    expect(server.requests.length).toBe(n);
  });
});
