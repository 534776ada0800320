/**
 * A segment reward model behind POST /v1/reward: the total beside per-segment rewards with offsets, passages read
 * from the sample's reference; the OpenRLHF endpoint gives the totals.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { segmentRewardModel, trainSegmentModel } from "../../src/learn/dense/index.js";
import { syntheticQa } from "../../src/learn/dense/testing/index.js";
import { saveRewardModel } from "../../src/learn/reward/index.js";
import { createApp } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { type Caller, caller, keyOf } from "./helpers.js";

let store: Store;
let read: Caller;
const world = syntheticQa({ n: 60, seed: 9 });

beforeAll(async () => {
  store = await openStore({ path: ":memory:" });
  const r = await trainSegmentModel(world.examples, { testFraction: 0, l2: [1], pairs: world.pairs });
  const model = segmentRewardModel(r, { name: "qa-dense", project: "p1" });
  await saveRewardModel(store, model);
  read = caller(createApp({ store, log: () => {} }), await keyOf(store, "p1", "read"));
});
afterAll(async () => {
  await store.close();
});

describe("POST /v1/reward with a segment model", () => {
  const spec = { type: "reward-model", model: "qa-dense@1" };
  it("returns per-segment rewards with offsets beside the total", async () => {
    const clean = world.answers.find((a) => a.errors === 0)!;
    const bad = world.answers.find((a) => a.itemId === clean.itemId && a.errors >= 2) ?? world.answers.find((a) => a.errors >= 2)!;
    const sample = (a: typeof clean) => ({ prompt: a.prompt, completion: a.response, reference: { passages: a.passages.map((p) => [p.title, ...p.sentences]) } });
    const r = await read("POST", "/v1/reward", { spec, samples: [sample(clean), sample(bad)] });
    expect(r.status, r.text).toBe(200);
    const [x, y] = r.body.results;
    for (const [res, a] of [
      [x, clean],
      [y, bad],
    ] as const) {
      const segs = res.details.segments as Array<{ start: number; end: number; reward: number; rewards: Record<string, number>; flagged: string[] }>;
      expect(segs.length).toBeGreaterThan(0);
      expect(segs[0]!.start).toBe(0);
      expect(segs.at(-1)!.end).toBe(a.response.length);
      expect(Object.keys(segs[0]!.rewards).sort()).toEqual(["Irrelevant", "Redundant", "Unverifiable"]);
      expect(res.score).toBeCloseTo(1 / (1 + Math.exp(-res.details.reward)), 12);
    }
    expect(y.details.segments.some((s: { flagged: string[] }) => s.flagged.length > 0)).toBe(true);
    expect(x.score).toBeGreaterThan(y.score);
    // Without passages the grounding features are off, and the model still answers.
    const bare = await read("POST", "/v1/reward", { spec, samples: [{ prompt: clean.prompt, completion: clean.response }] });
    expect(bare.body.results[0].details.segments.length).toBe(x.details.segments.length);
    // Passages of the wrong shape are this sample's error.
    const wrong = await read("POST", "/v1/reward", { spec, samples: [{ prompt: clean.prompt, completion: clean.response, reference: { passages: [3] } }] });
    expect(wrong.body.results[0]).toMatchObject({ score: 0, passed: false, details: { error: expect.stringMatching(/reference\.passages\.0/) } });
  });

  it("gives OpenRLHF the totals (segments have no place in extra_logs)", async () => {
    const a = world.answers[0]!;
    const label = JSON.stringify({ passages: a.passages.map((p) => [p.title, ...p.sentences]) });
    const r = await read("POST", "/v1/reward/openrlhf", { query: [a.prompt + a.response], prompts: [a.prompt], labels: [label], spec });
    expect(r.status, r.text).toBe(200);
    const one = await read("POST", "/v1/reward", { spec, samples: [{ prompt: a.prompt, completion: a.response, reference: label }] });
    expect(r.body.rewards[0]).toBeCloseTo(one.body.results[0].score, 12);
    expect(Object.keys(r.body.extra_logs)).toEqual(["passed"]);
  });
});
