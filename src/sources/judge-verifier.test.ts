/** Judges as verifiers, against a real local OpenAI-compatible server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RlxfError } from "../errors.js";
import { createModel } from "../providers/index.js";
import { type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { judgeVerifier } from "./judge-verifier.js";
import { resolveJudge } from "./registry.js";

let fake: FakeServer;
let reply: (prompt: string) => string = () => "";
const model = () => createModel({ baseUrl: `${fake.url}/v1`, model: "m", maxRetries: 0 }, { env: {} });

beforeAll(async () => {
  fake = await startFakeModelServer({ respond: (r) => reply(r.prompt) });
});
afterAll(() => fake.close());

describe("judgeVerifier", () => {
  it("rubric: the weighted fraction of the criteria met, with the graded criteria", async () => {
    reply = () => JSON.stringify({ criteria: [{ id: 1, score: 5 }, { id: 2, score: 0 }, { id: 3, score: 5 }] });
    const v = judgeVerifier({ model: model(), judge: resolveJudge("rubric"), criteria: [{ name: "correct", weight: 2 }, "cites sources", "short"], threshold: 0.7 });
    const r = await v.verify({ prompt: "q", completion: "a" });
    // (2*1 + 1*0 + 1*1) / 4
    expect(r.score).toBe(0.75);
    expect(r.passed).toBe(true);
    expect(v.type).toBe("judge");
    expect(v.name).toBe("judge:rubric");
    expect((r.details.criteria as { name: string; score: number }[]).map((c) => [c.name, c.score])).toEqual([
      ["correct", 5],
      ["cites sources", 0],
      ["short", 5],
    ]);
  });

  it("steps: 1 when no step is wrong, else the share of steps before the first wrong one", async () => {
    const v = judgeVerifier({ model: model(), judge: resolveJudge("steps") });
    reply = () => JSON.stringify({ first_error_step: 3, explanation: "3 + 4 is not 8" });
    const wrong = await v.verify({ prompt: "q", completion: "step a\nstep b\nstep c\nstep d" });
    expect(wrong).toMatchObject({ passed: false, score: 0.5, details: { firstErrorStep: 3, steps: 4, explanation: "3 + 4 is not 8" } });
    reply = () => JSON.stringify({ first_error_step: null });
    expect(await v.verify({ prompt: "q", completion: "step a\nstep b" })).toMatchObject({ passed: true, score: 1 });
  });

  it("reference: a correct/incorrect judge gives 1 or 0", async () => {
    const v = judgeVerifier({ model: model(), judge: resolveJudge("reference-match") });
    reply = (p) => JSON.stringify({ correct: p.includes("[Response]\n42"), rationale: "compared" });
    expect(await v.verify({ prompt: "q", completion: "42", reference: 42 })).toMatchObject({ passed: true, score: 1, details: { correct: true } });
    expect(await v.verify({ prompt: "q", completion: "41", reference: 42 })).toMatchObject({ passed: false, score: 0 });
  });

  it("throws on a failed judgement and refuses checklist judges", async () => {
    reply = () => "no JSON here";
    const v = judgeVerifier({ model: model(), judge: resolveJudge("critique") });
    await expect(v.verify({ prompt: "q", completion: "a" })).rejects.toThrow(/gave no judgement \(unparseable\)/);
    expect(() => judgeVerifier({ model: model(), judge: resolveJudge("checklist-generate") })).toThrow(RlxfError);
  });
});
