/**
 * Critic-training rewards by name through the verifier registry: verdict correctness, refinement with a
 * discriminability term, and the dual reward, with revisions given in the reference or asked of an actor served
 * by a local OpenAI-compatible server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModel } from "../providers/index.js";
import { type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { createVerifier, parseVerifierSpec, verifierSpecs } from "../sources/verifiers/index.js";
import { parseCriticReference } from "./rewards.js";

const problem = { question: "What is 6 * 7?", solution: "6 * 7 = 48, so \\boxed{48}.", gold: "42" };
const wrongRef = { ...problem, correct: false };
const rightRef = { question: "What is 2 + 2?", solution: "\\boxed{4}", gold: "4", correct: true };

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => server?.close());

describe("critic-verdict", () => {
  const v = createVerifier("critic-verdict");

  it("is a named verifier everywhere names are accepted", () => {
    expect(Object.keys(verifierSpecs())).toEqual(expect.arrayContaining(["critic-verdict", "critic-refine", "critic-dual", "choice"]));
    expect(v.name).toBe("critic-verdict");
    expect(parseVerifierSpec({ type: "critic", reward: "refine", beta: 0.5 })).toMatchObject({ reward: "refine", beta: 0.5 });
    expect(() => parseVerifierSpec({ type: "critic", reward: "vibes" })).toThrow(/reward/);
    expect(() => parseVerifierSpec({ type: "critic", reward: "dual", samples: 100 })).toThrow(/samples/);
  });

  it("scores 1 when the verdict matches the solution's correctness", async () => {
    const score = async (completion: string, reference: unknown) => (await v.verify({ completion, reference })).score;
    expect(await score("Step 1 is wrong: 6*7 is 42. Verdict: fail", wrongRef)).toBe(1);
    expect(await score('{"verdict": "pass"}', wrongRef)).toBe(0);
    expect(await score("The solution is correct.", rightRef)).toBe(1);
    expect(await score("The solution is incorrect.", JSON.stringify(rightRef))).toBe(0);
    // Bare labels, as a trainer's label column may hold them.
    expect(await score("Verdict: fail", false)).toBe(1);
    expect(await score("Verdict: fail", "incorrect")).toBe(1);
    expect(await score("Verdict: fail", "[True]")).toBe(0);
    // Without a label, the solution is checked against the gold answer.
    expect(await score("Verdict: fail", { question: problem.question, solution: problem.solution, gold: "42" })).toBe(1);
  });

  it("gives nothing for a critique without a verdict, and says why", async () => {
    const r = await v.verify({ completion: "Hmm, interesting steps.", reference: wrongRef });
    expect(r).toMatchObject({ passed: false, score: 0, details: { verdict: null, correct: false } });
    expect(String(r.details.error)).toMatch(/no verdict/);
  });

  it("refuses a reference that does not say whether the solution is right", async () => {
    await expect(v.verify({ completion: "Verdict: pass", reference: { gold: "4" } })).rejects.toThrow(/reference.correct/);
    await expect(v.verify({ completion: "Verdict: pass" })).rejects.toThrow(/needs a reference/);
    expect(() => parseCriticReference("{not json")).toThrow(/not valid JSON/);
    expect(() => parseCriticReference({ correct: "perhaps" })).toThrow(/reference.correct/);
  });
});

describe("critic-refine and critic-dual", () => {
  it("score the revision the reference brings, with the discriminability term", async () => {
    const refine = createVerifier("critic-refine");
    const dual = createVerifier("critic-dual");
    const fixed = { ...wrongRef, revision: "6 * 7 = 42, so \\boxed{42}." };
    const notFixed = { ...wrongRef, revision: "\\boxed{48}" };
    // Right verdict, helpful critique: both terms.
    expect((await refine.verify({ completion: "Verdict: fail", reference: fixed })).score).toBe(1);
    expect((await dual.verify({ completion: "Verdict: fail", reference: fixed })).score).toBe(1);
    // Right verdict, revision still wrong: only the verdict term (β = 1: half).
    expect((await refine.verify({ completion: "Verdict: fail", reference: notFixed })).score).toBe(0.5);
    // Wrong verdict on a wrong solution: it stands, and it is wrong.
    const r = await refine.verify({ completion: "Verdict: pass", reference: fixed });
    expect(r.score).toBe(0);
    expect(r.details).toMatchObject({ rDis: 0, rRefine: 0, revisions: 0 });
    // A correct solution passed: r_refine = 1 with no revision.
    expect((await dual.verify({ completion: "The solution is correct.", reference: rightRef })).score).toBe(1);
    // β weighs the terms.
    const beta3 = createVerifier({ type: "critic", reward: "refine", beta: 3 });
    expect((await beta3.verify({ completion: "Verdict: fail", reference: notFixed })).score).toBe(0.75);
    expect((await createVerifier({ type: "critic", reward: "refine", beta: 0 }).verify({ completion: "Verdict: pass", reference: notFixed })).score).toBe(0);
  });

  it("ask the actor for revisions when none is given, and average several (RefCritic)", async () => {
    server.reset();
    // The actor follows the critique when it names the right answer.
    server.respond = (req) => ({ text: req.prompt.includes("should be 42") ? (req.body.temperature > 0 && req.index % 2 ? "\\boxed{41}" : "\\boxed{42}") : "\\boxed{48}" });
    const actor = createModel({ baseUrl: server.baseUrl, model: "actor", maxRetries: 0 });
    const ctx = { chatModel: () => actor };
    const refine = createVerifier("critic-refine", [], ctx);
    const helpful = await refine.verify({ completion: "Step 1 is wrong; 6 * 7 should be 42. Verdict: fail", reference: wrongRef });
    expect(helpful.score).toBe(1);
    expect(helpful.details).toMatchObject({ rDis: 1, rRefine: 1, actorCalls: 1 });
    const unhelpful = await refine.verify({ completion: "Something is off. Verdict: fail", reference: wrongRef });
    expect(unhelpful.score).toBe(0.5);
    const asked = server.requests.map((q) => q.prompt);
    expect(asked).toHaveLength(2);
    expect(asked[0]).toContain(problem.question);
    expect(asked[0]).toContain(problem.solution);
    // The actor sees the critique, never the gold answer.
    expect(asked[1]).toContain("Something is off.");
    expect(asked[1]).not.toContain("42");

    server.reset();
    const dual4 = createVerifier({ type: "critic", reward: "dual", samples: 4, model: "actor-big" }, [], ctx);
    const r = await dual4.verify({ completion: "Step 1: 6 * 7 should be 42. Verdict: fail", reference: wrongRef });
    expect(server.requests).toHaveLength(4);
    expect(server.requests.every((q) => q.model === "actor-big" && q.body.temperature === 1)).toBe(true);
    expect(r.details).toMatchObject({ revisions: 4, rDis: 1 });
    expect(r.score).toBe((1 + (r.details.rRefine as number)) / 2);
    expect(r.details.rRefine).toBe(0.5);
  });

  it("say what is missing when no actor can be asked", async () => {
    await expect(createVerifier("critic-refine").verify({ completion: "Verdict: fail", reference: wrongRef })).rejects.toThrow(/no actor model/);
    await expect(createVerifier("critic-dual").verify({ completion: "Verdict: fail", reference: { correct: false, gold: "4" } })).rejects.toThrow(/reference.question, reference.solution/);
  });
});
