/**
 * Critic-training rewards wherever reward specs are accepted: POST /v1/reward by name and inline, saved specs
 * and composites, OpenRLHF's endpoint with ground truths as JSON text, and the verl and TRL shims; the refinement
 * rewards ask the server's model (here a local OpenAI-compatible server) to act.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModel } from "../../src/providers/index.js";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { type RunningServer, createApp, listen } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { type Caller, ROOT, caller, keyOf } from "./helpers.js";

const wrong = { question: "What is 6 * 7?", solution: "6 * 7 = 48, so \\boxed{48}.", gold: "42", correct: false };
const right = { question: "What is 2 + 2?", solution: "\\boxed{4}", gold: "4", correct: true };

let store: Store;
let fake: FakeServer;
let admin: Caller;
let read: Caller;
let bare: Caller;
let readSecret: string;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  store = await openStore({ path: ":memory:" });
  // The actor revises into the right answer when the critique names it.
  fake = await startFakeModelServer({ respond: (r) => (r.prompt.includes("should be 42") ? "6 * 7 = 42, so \\boxed{42}." : "\\boxed{48}") });
  app = createApp({ store, log: () => {}, judgeModel: () => createModel({ baseUrl: fake.baseUrl, model: "actor", maxRetries: 0 }, { env: {} }) });
  admin = caller(app, await keyOf(store, "p1", "admin"));
  readSecret = await keyOf(store, "p1", "read");
  read = caller(app, readSecret);
  const noModel = createApp({ store, log: () => {} });
  bare = caller(noModel, await keyOf(store, "p1", "read"));
});
afterAll(async () => {
  await fake?.close();
  await store?.close();
});

const scores = (r: { body: { results: Array<{ score: number }> } }) => r.body.results.map((x) => x.score);

describe("critic rewards over HTTP", () => {
  it("critic-verdict scores the verdict against the label, the reference as an object or JSON text", async () => {
    const r = await read("POST", "/v1/reward", {
      spec: "critic-verdict",
      samples: [
        { completion: "Step 1 is wrong. Verdict: fail", reference: wrong },
        { completion: "Verdict: pass", reference: JSON.stringify(wrong) },
        { completion: "The solution is correct.", reference: right },
        { completion: "no idea", reference: right },
        { completion: "Verdict: fail", reference: false },
      ],
    });
    expect(r.status, r.text).toBe(200);
    expect(scores(r)).toEqual([1, 0, 1, 0, 1]);
    expect(r.body.results[0]).toMatchObject({ passed: true, components: [{ name: "critic-verdict", type: "critic", score: 1 }], details: { verdict: "fail", correct: false, rDis: 1 } });
    expect(r.body.results[3].details.error).toMatch(/no verdict/);
  });

  it("critic-refine and critic-dual ask the server's model to revise, and score the revision", async () => {
    fake.reset();
    const r = await read("POST", "/v1/reward", {
      samples: [
        { spec: "critic-refine", completion: "6 * 7 should be 42. Verdict: fail", reference: wrong },
        { spec: "critic-refine", completion: "Looks off. Verdict: fail", reference: wrong },
        { spec: { type: "critic", reward: "dual", samples: 2 }, completion: "6 * 7 should be 42. Verdict: fail", reference: wrong },
        { spec: "critic-dual", completion: "Verdict: pass", reference: right },
      ],
    });
    expect(r.status, r.text).toBe(200);
    expect(scores(r)).toEqual([1, 0.5, 1, 1]);
    expect(r.body.results[2].details).toMatchObject({ revisions: 2, revisionsRight: 2, actorCalls: 2 });
    expect(fake.requests).toHaveLength(4);
    expect(fake.requests.every((q) => q.model === "actor" && !q.prompt.includes("gold"))).toBe(true);
  });

  it("a saved spec may mix them, and names them in its components", async () => {
    const saved = await admin("POST", "/v1/reward/specs", {
      name: "critic-mix",
      spec: { type: "composite", members: [{ verifier: "critic-verdict", weight: 1 }, { verifier: { type: "critic", reward: "refine", beta: 0 }, weight: 3 }] },
    });
    expect(saved.status, saved.text).toBe(201);
    const r = await read("POST", "/v1/reward", { spec: "critic-mix", samples: [{ completion: "Looks off. Verdict: fail", reference: wrong }] });
    expect(r.status, r.text).toBe(200);
    expect(r.body.results[0].score).toBe(0.25);
    expect(r.body.results[0].components.map((c: { name: string; score: number }) => [c.name, c.score])).toEqual([
      ["critic-verdict", 1],
      ["critic-refine", 0],
    ]);
    const taken = await admin("POST", "/v1/reward/specs", { name: "critic-verdict", spec: "math" });
    expect(taken.status).toBe(400);
  });

  it("without a model, a refinement reward that must ask one scores 0 and says how to configure it", async () => {
    const r = await bare("POST", "/v1/reward", { spec: "critic-refine", samples: [{ completion: "Verdict: fail", reference: wrong }, { completion: "Verdict: fail", reference: { ...wrong, revision: "\\boxed{42}" } }] });
    expect(r.status, r.text).toBe(200);
    expect(scores(r)).toEqual([0, 1]);
    expect(r.body.results[0].details.error).toMatch(/--judge-model/);
  });

  it("OpenRLHF's endpoint takes the labels as JSON text", async () => {
    const r = await read("POST", "/v1/reward/openrlhf?spec=critic-verdict", {
      query: ["Critique: step 1 is wrong. Verdict: fail", "Critique: fine. Verdict: pass"],
      prompts: ["Critique: ", "Critique: "],
      labels: [JSON.stringify(wrong), JSON.stringify(wrong)],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.rewards).toEqual([1, 0]);
  });
});

describe("the verl and TRL shims with critic rewards", () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await listen(app, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => running?.close());

  const python = (code: string, env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        "/usr/bin/python3",
        ["-c", code],
        { cwd: join(ROOT, "examples"), timeout: 30_000, env: { PATH: process.env.PATH ?? "", PYTHONDONTWRITEBYTECODE: "1", RLXF_REWARD_URL: running.url, RLXF_API_KEY: readSecret, ...env } },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it("verl's compute_score and TRL's reward function score critiques against ground_truth", async () => {
    const gt = JSON.stringify(JSON.stringify(wrong));
    const verl = await python(`from verl_reward import compute_score as c\nprint(c('realcritic', 'Verdict: fail', ${gt}))\nprint(c('realcritic', 'Verdict: pass', ${gt}))`, { RLXF_REWARD_SPEC: "critic-verdict" });
    expect(verl.code, verl.stderr).toBe(0);
    expect(verl.stdout.trim().split("\n")).toEqual(["1.0", "0.0"]);
    const trl = await python(`from trl_grpo_reward import rlxf_reward as f\nprint(f(['p', 'p'], ['Verdict: fail', 'The solution is correct.'], ground_truth=[${gt}, ${gt}]))`, { RLXF_REWARD_SPEC: "critic-verdict" });
    expect(trl.code, trl.stderr).toBe(0);
    expect(trl.stdout.trim()).toBe("[1.0, 0.0]");
  });
});
