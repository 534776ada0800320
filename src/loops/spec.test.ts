/**
 * Feedback specs (what `--feedback` takes) resolve to the right kind of source, and what they say is stored as the
 * right kind of feedback; a loop also runs on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresForFile } from "../../test/support/postgres.js";
import type { PreferencePair } from "../learn/index.js";
import { saveRewardModel } from "../learn/index.js";
import { trainRewardModel } from "../learn/index.js";
import { createModel } from "../providers/index.js";
import { type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { RewardSpecs, saveRewardSpec } from "../rewards/index.js";
import { openStore } from "../store/index.js";
import type { Store } from "../store/index.js";
import { createVerifier } from "../sources/verifiers/index.js";
import { verifierFeedback } from "./feedback.js";
import { refineLoop } from "./loops.js";
import { feedbackFromSpec } from "./spec.js";

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeModelServer({
    respond: (r) =>
      r.prompt.includes("Critique the response")
        ? '{"summary": "Too short.", "strengths": [], "weaknesses": ["too short"], "suggestions": ["say more"], "verdict": "fail"}'
        : r.prompt.includes("## Feedback")
          ? "\\boxed{42}"
          : "\\boxed{41}",
  });
});
afterAll(async () => server.close());

const input = (store: Store, output: string) => ({ task: { id: "t", prompt: "What is 17 + 25?", reference: "42" }, output, generationId: "g", itemId: "i", project: "default", history: [], store });

describe("feedback specs", () => {
  it("resolves verifiers, judges, reward models, humans and simulated users", async () => {
    const store = await openStore({ path: ":memory:" });
    try {
      const model = () => createModel({ baseUrl: server.baseUrl, model: "critic" });
      const math = await feedbackFromSpec("math", { store });
      expect(math.source).toMatchObject({ type: "verifier", id: "math" });
      expect(await math.evaluate(input(store, "\\boxed{42}"))).toMatchObject({ passed: true, record: { kind: "verification" } });

      const regex = await feedbackFromSpec('{"type": "regex", "pattern": "4\\\\d"}', { store });
      expect((await regex.evaluate(input(store, "it is 43"))).passed).toBe(true);

      const critic = await feedbackFromSpec("critique", { store, model });
      expect(critic.source).toEqual({ type: "critic", id: "critique/critic" });
      const said = await critic.evaluate(input(store, "\\boxed{42}"));
      expect(said).toMatchObject({ passed: false, weaknesses: ["too short"], suggestions: ["say more"], record: { kind: "critique", value: { verdict: "fail" } } });
      expect(said.spend!.inputTokens).toBeGreaterThan(0);
      await expect(feedbackFromSpec("critique", { store })).rejects.toThrow(/needs a model/);

      expect((await feedbackFromSpec("human:5", { store })).source).toEqual({ type: "human", id: "human" });
      expect((await feedbackFromSpec("user", { store, model })).source.type).toBe("simulated");

      const pairs = Array.from({ length: 20 }, (_, i) => ({
        id: `p${i}`, project: "default", itemId: `i${i}`, prompt: `Q${i}?`, chosen: { text: `a careful full answer ${i}` }, rejected: { text: `no ${i}` },
        pChosen: 1, derivation: "pairwise", sources: ["human:a"], feedbackIds: [`f${i}`],
      })) as PreferencePair[];
      const { model: rm } = await trainRewardModel(pairs, { name: "helpful", seed: 1, calibrate: false });
      await saveRewardModel(store, rm);
      const byRm = await feedbackFromSpec("rm:helpful", { store });
      expect(byRm.source.id).toBe("rm:helpful@1");
      const good = await byRm.evaluate(input(store, "a careful full answer"));
      const bad = await byRm.evaluate(input(store, "no"));
      expect(good.score).toBeGreaterThan(bad.score);
      await expect(feedbackFromSpec("rm:missing", { store })).rejects.toThrow(/no reward model "missing"/);

      await expect(feedbackFromSpec("nonsense", { store })).rejects.toThrow(/unknown feedback "nonsense"/);
      await expect(feedbackFromSpec("{not json", { store })).rejects.toThrow(/not valid JSON/);
    } finally {
      await store.close();
    }
  });
});

describe("a saved reward spec as feedback", () => {
  it("reads spec:NAME from the project's saved specs and runs its judges on the feedback model", async () => {
    const store = await openStore({ path: ":memory:" });
    try {
      const model = () => createModel({ baseUrl: server.baseUrl, model: "critic" });
      await saveRewardSpec(store, new RewardSpecs(store), "lab", {
        name: "checked",
        spec: { type: "composite", name: "math-and-critic", members: [{ verifier: "math", required: true }, { verifier: { type: "judge", judge: "critique" } }] },
      });
      const fb = await feedbackFromSpec("spec:checked", { store, project: "lab", model });
      expect(fb.source).toMatchObject({ type: "verifier", id: "math-and-critic" });
      // The critic (the fake model) always fails the answer: a right answer scores half, a wrong one nothing.
      const right = await fb.evaluate(input(store, "\\boxed{42}"));
      expect(right).toMatchObject({ passed: false, score: 0.5, record: { kind: "verification" } });
      expect(server.requests.some((r) => r.prompt.includes("Critique the response"))).toBe(true);
      expect((await fb.evaluate(input(store, "\\boxed{41}"))).score).toBe(0);
      // Pinned versions and other projects: a spec is the project's own.
      expect((await feedbackFromSpec("spec:checked@1", { store, project: "lab", model })).source.id).toBe("math-and-critic");
      await expect(feedbackFromSpec("spec:checked", { store, model })).rejects.toThrow(/no reward spec "checked"/);
    } finally {
      await store.close();
    }
  });
});

const pg = postgresForFile("loops.spec.test");
describe.skipIf(!pg.available)("a loop on PostgreSQL", () => {
  it("stores the run, its steps, generations and feedback, and reports the same metrics", async () => {
    const store = await openStore({ url: await pg.fresh() });
    try {
      const tasks = [1, 2, 3].map((i) => ({ id: `t${i}`, prompt: `Problem ${i}: 17 + 25?`, reference: "42" }));
      const r = await refineLoop(tasks, { store, policy: { model: createModel({ baseUrl: server.baseUrl, model: "p" }) }, feedback: verifierFeedback(createVerifier("math")), budget: { rounds: 3 }, concurrency: 3 });
      expect(r.summary).toMatchObject({ tasks: 3, solved: 3, accuracyPerTurn: [0, 1], friction: { friction: 0 } });
      const steps = await store.loops.steps("default", r.runId);
      expect(steps.map((s) => s.seq)).toEqual([...steps.keys()]);
      expect((await store.counts()).generations).toBe(6);
      expect((await store.loops.get("default", r.runId))?.summary).toEqual(r.summary);
    } finally {
      await store.close();
    }
  });
});
