/**
 * Every shipped judge against a real local OpenAI-compatible server whose
 * answers are scripted from the prompt.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { positionBiasRate } from "../eval/index.js";
import { createModel } from "../providers/index.js";
import { MemoryResponseCache } from "../providers/index.js";
import { type FakeRequest, type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { critique, critiqueSteps, gradeRubric, gradeWithReference, isSwapped, judgePair, splitSteps } from "./judge.js";
import { resolveJudge } from "./registry.js";

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.reset();
  server.respond = () => "ok";
});

const model = (opts: { provider?: "openai" | "anthropic" } = {}) =>
  createModel({ provider: opts.provider ?? "openai", baseUrl: opts.provider === "anthropic" ? server.url : server.baseUrl, model: "fake", maxRetries: 0 }, { cache: new MemoryResponseCache() });

/** Which output the default pairwise prompt shows as "m" (first). */
function shownAsM(r: FakeRequest, text: string): boolean {
  const at = r.prompt.indexOf(text);
  return at > r.prompt.indexOf("## Answer of m") && at < r.prompt.indexOf("## Answer of M");
}

/** A judge that prefers the output containing GOOD, with 90% of the mass on its token. */
const prefersGood = (r: FakeRequest) => (shownAsM(r, "GOOD") ? { text: "m", top: { m: 0.9, M: 0.1 } } : { text: "M", top: { M: 0.9, m: 0.1 } });

const pairs = Array.from({ length: 40 }, (_, i) => ({
  instruction: `task ${i}`,
  output_1: i % 2 ? `GOOD answer ${i}` : `weak answer ${i}`,
  output_2: i % 2 ? `weak answer ${i}` : `GOOD answer ${i}`,
}));

describe("pairwise judge (AlpacaEval 2 style, logprobs)", () => {
  it("reads the preference from the answer tokens' probabilities, whichever order the outputs are shown in", async () => {
    server.respond = prefersGood;
    const m = model();
    const judge = resolveJudge("pairwise");
    const js = await Promise.all(pairs.map((p) => judgePair(m, judge, p)));
    js.forEach((j, i) => {
      expect(j.ok).toBe(true);
      if (!j.ok) return;
      expect(j.preference).toBeCloseTo(i % 2 ? 1.1 : 1.9, 9);
      expect(j.verdicts).toHaveLength(1);
      expect(j.verdicts[0]!.fromLogprobs).toBe(true);
      expect(j.verdicts[0]!.swapped).toBe(isSwapped(pairs[i]!.instruction, 0));
    });
    // Seeded position randomization: both orders occur, and the request asked for one token with top logprobs.
    const swapped = js.filter((j) => j.ok && j.verdicts[0]!.swapped).length;
    expect(swapped).toBeGreaterThan(5);
    expect(swapped).toBeLessThan(35);
    expect(server.requests[0]!.body).toMatchObject({ max_tokens: 1, logprobs: true, top_logprobs: 5, temperature: 0 });
  });

  it("a judge that always answers 'first' shows a position bias near 1, and ties when asked both orders", async () => {
    server.respond = () => ({ text: "m", top: { m: 0.95, M: 0.05 } });
    const m = model();
    const judge = resolveJudge("pairwise");
    const random = await Promise.all(pairs.map((p) => judgePair(m, judge, p, { seed: 1 })));
    const presented = random.flatMap((j) => (j.ok ? j.verdicts.map((v) => (v.swapped ? 3 - v.preference : v.preference)) : []));
    expect(positionBiasRate(presented).rate).toBeCloseTo(0.95, 9);
    const both = await Promise.all(pairs.map((p) => judgePair(m, judge, p, { order: "both" })));
    for (const j of both) {
      expect(j.ok && j.preference).toBe(1.5);
      expect(j.ok && j.verdicts.map((v) => v.swapped)).toEqual([false, true]);
    }
  });

  it("falls back to the text where there are no logprobs (Anthropic)", async () => {
    server.respond = (r) => (shownAsM(r, "GOOD") ? "m" : "M");
    const j = await judgePair(model({ provider: "anthropic" }), resolveJudge("pairwise"), pairs[1]!);
    expect(j).toMatchObject({ ok: true, preference: 1 });
    expect(j.ok && j.verdicts[0]!.fromLogprobs).toBe(false);
  });

  it("asks again when an answer cannot be parsed, then fails with every raw answer", async () => {
    // A deterministic model: the same request always gets the same answer.
    server.respond = (r) => (r.messages.some((m) => m.content.startsWith("Your answer could not be read")) ? { text: "M", top: { M: 0.8, m: 0.2 } } : "I think both are fine.");
    const judge = resolveJudge("pairwise");
    const ok = await judgePair(model(), judge, pairs[0]!, { order: "fixed" });
    expect(ok).toMatchObject({ ok: true, preference: 1.8, attempts: 2 });
    expect(ok.ok && ok.verdicts[0]!.rawAll).toEqual(["I think both are fine.", "M"]);
    // The retry shows the model its unreadable answer and asks again.
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.messages.slice(-2)).toEqual([
      { role: "assistant", content: "I think both are fine." },
      { role: "user", content: expect.stringContaining('expected one of "m", "M"') },
    ]);

    server.respond = () => "Sorry, I can't compare these.";
    const bad = await judgePair(model(), judge, pairs[2]!, { order: "fixed" });
    expect(bad).toMatchObject({ ok: false, reason: "unparseable", attempts: 3 });
    expect(!bad.ok && bad.raw).toEqual(Array(3).fill("Sorry, I can't compare these."));
  });

  it("records a failed model call as a provider error, and never calls the model for identical outputs", async () => {
    server.respond = () => ({ status: 400, message: "context length exceeded" });
    const j = await judgePair(model(), resolveJudge("pairwise"), pairs[0]!);
    expect(j).toMatchObject({ ok: false, reason: "provider_error", raw: [] });
    expect(!j.ok && j.error).toContain("context length exceeded");
    server.reset();
    const same = await judgePair(model(), resolveJudge("pairwise"), { instruction: "x", output_1: "same", output_2: "same" });
    expect(same).toEqual({ ok: true, preference: 1.5, verdicts: [], attempts: 0, identical: true });
    expect(server.requests).toHaveLength(0);
  });
});

describe("other pairwise parsers", () => {
  it("pairwise-cot reads [[A]] / [[B]] / [[C]] after the reasoning", async () => {
    server.respond = (r) => {
      const a = r.prompt.indexOf("[Response A]");
      const good = r.prompt.indexOf("GOOD");
      return `A mentions [[B]] style... ${good > a && good < r.prompt.indexOf("[Response B]") ? "[[A]]" : "[[B]]"}`;
    };
    const judge = resolveJudge("pairwise-cot");
    const js = await Promise.all(pairs.slice(0, 6).map((p) => judgePair(model(), judge, p)));
    expect(js.map((j) => j.ok && j.preference)).toEqual([2, 1, 2, 1, 2, 1]);
    server.respond = () => "They are equally good. [[C]]";
    expect(await judgePair(model(), judge, pairs[0]!)).toMatchObject({ ok: true, preference: 1.5 });
  });

  it("pairwise-ranking reads AlpacaEval's ranking list", async () => {
    server.respond = (r) => {
      const goodFirst = r.prompt.indexOf("GOOD") < r.prompt.indexOf("weak");
      return `[{'model': 'model_1', 'rank': ${goodFirst ? 1 : 2}}, {'model': 'model_2', 'rank': ${goodFirst ? 2 : 1}}]`;
    };
    const js = await Promise.all(pairs.slice(0, 4).map((p) => judgePair(model(), resolveJudge("pairwise-ranking"), p)));
    expect(js.map((j) => j.ok && j.preference)).toEqual([2, 1, 2, 1]);
  });
});

describe("rubric and checklist grading", () => {
  it("grades the input's criteria with a rationale each and a weighted total", async () => {
    server.respond = () => '```json\n{"criteria": [{"id": 1, "score": 5, "rationale": "exact"}, {"id": 2, "score": 1, "rationale": "rambles"}]}\n```';
    const j = await gradeRubric(model(), resolveJudge("rubric"), {
      instruction: "Sum 2 and 2",
      output: "4",
      criteria: [{ name: "correct", weight: 3 }, "concise"],
    });
    expect(j).toMatchObject({
      ok: true,
      criteria: [
        { name: "correct", score: 5, maxScore: 5, weight: 3, rationale: "exact" },
        { name: "concise", score: 1, maxScore: 5, weight: 1, rationale: "rambles" },
      ],
    });
    expect(j.ok && j.total).toBeCloseTo((3 * 1 + 1 * 0.2) / 4);
    expect(server.requests[0]!.prompt).toContain("1. correct (0-5)\n2. concise (0-5)");
  });

  it("uses the config's own criteria when the input has none", async () => {
    server.respond = () => JSON.stringify({ criteria: [1, 2, 3, 4, 5].map((id) => ({ id, score: 5 })) });
    const j = await gradeRubric(model(), resolveJudge("rubric"), { instruction: "x", output: "y" });
    expect(j.ok && j.criteria.map((c) => c.name)).toEqual(["instruction following", "correctness", "completeness", "clarity", "concision"]);
    expect(j.ok && j.total).toBe(1);
  });

  it("writes an instruction-specific checklist first, then grades each item pass or fail", async () => {
    server.respond = (r) =>
      r.prompt.includes("Write a checklist")
        ? JSON.stringify({ checklist: ["Is it a haiku?", "Does it mention autumn?", "Is it in English?"] })
        : JSON.stringify({ criteria: [{ id: 1, passed: true }, { id: 2, passed: false, rationale: "it is about spring" }, { id: 3, passed: true }] });
    const judge = resolveJudge("checklist");
    const j = await gradeRubric(model(), judge, { instruction: "Write an autumn haiku", output: "Spring rain falls softly" }, { checklist: resolveJudge("checklist-generate") });
    expect(j).toMatchObject({
      ok: true,
      criteria: [
        { name: "Is it a haiku?", passed: true },
        { name: "Does it mention autumn?", passed: false, rationale: "it is about spring" },
        { name: "Is it in English?", passed: true },
      ],
      checklist: { items: ["Is it a haiku?", "Does it mention autumn?", "Is it in English?"] },
      attempts: 2,
    });
    expect(j.ok && j.total).toBeCloseTo(2 / 3);
    expect(server.requests[1]!.prompt).toContain("2. Does it mention autumn?");
  });

  it("fails (with the checklist's raw answer) when the checklist cannot be written", async () => {
    server.respond = () => "no idea";
    const j = await gradeRubric(model(), resolveJudge("checklist"), { instruction: "x", output: "y" }, { checklist: resolveJudge("checklist-generate") });
    expect(j).toMatchObject({ ok: false, reason: "unparseable", error: expect.stringContaining("writing the checklist") });
    expect(!j.ok && j.raw).toHaveLength(3);
  });
});

describe("critique, step-level critique, reference-guided grading", () => {
  it("critique: strengths, weaknesses, suggestions and a verdict in one structure", async () => {
    server.respond = () =>
      'Here is my review:\n{"summary": "Correct but terse.", "strengths": ["right answer"], "weaknesses": ["no explanation"], "suggestions": ["show the working"], "verdict": "fail"}';
    const j = await critique(model(), resolveJudge("critique"), { instruction: "2+2?", output: "4" });
    expect(j).toMatchObject({
      ok: true,
      text: "Correct but terse.",
      strengths: ["right answer"],
      weaknesses: ["no explanation"],
      suggestions: ["show the working"],
      verdict: "fail",
    });
  });

  it("steps: the first wrong step and why, with where it lies in the output", async () => {
    server.respond = (r) => (r.prompt.includes("Step 2: 3*4 = 13") ? '{"first_error_step": 2, "explanation": "3*4 is 12"}' : '{"first_error_step": null}');
    const judge = resolveJudge("steps");
    const output = "Step one: 2+1 = 3\n\n3*4 = 13\n\nSo the answer is 13";
    const j = await critiqueSteps(model(), judge, { instruction: "(2+1)*4?", output });
    expect(j).toMatchObject({ ok: true, firstErrorStep: 2, explanation: "3*4 is 12" });
    const step = j.ok ? j.steps[1]! : undefined;
    expect(output.slice(step!.start, step!.end)).toBe("3*4 = 13");
    const ok = await critiqueSteps(model(), judge, { instruction: "1+1?", output: "", steps: ["1+1 = 2", "So 2"] });
    expect(ok).toMatchObject({ ok: true, firstErrorStep: null });
    expect(splitSteps({ output: "a\nb\n\nc" }).steps.map((s) => s.text)).toEqual(["a\nb", "c"]);
    expect(splitSteps({ output: "a\nb" }).steps.map((s) => s.text)).toEqual(["a", "b"]);
  });

  it("reference: a 1-10 rating against the gold answer, or a correct/incorrect verdict", async () => {
    server.respond = (r) => (r.prompt.includes("rate the response from 1 to 10") ? "The response matches the reference. Rating: [[9]]" : '{"correct": false, "rationale": "says 5"}');
    const j = await gradeWithReference(model(), resolveJudge("reference"), { instruction: "2+2?", output: "4", reference: "4" });
    expect(j).toMatchObject({ ok: true, score: 9, scale: { min: 1, max: 10 } });
    const b = await gradeWithReference(model(), resolveJudge("reference-match"), { instruction: "2+2?", output: "5", reference: "4" });
    expect(b).toMatchObject({ ok: true, correct: false, rationale: "says 5" });
    expect(await gradeWithReference(model(), resolveJudge("reference"), { instruction: "x", output: "y" })).toMatchObject({ ok: false, reason: "invalid" });
    server.respond = () => "Rating: [[12]]";
    expect(await gradeWithReference(model(), resolveJudge("reference"), { instruction: "x", output: "y", reference: "z" })).toMatchObject({
      ok: false,
      reason: "unparseable",
      error: expect.stringContaining("outside the scale"),
    });
  });
});
