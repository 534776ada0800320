import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MemoryResponseCache } from "../providers/index.js";
import { createModel } from "../providers/index.js";
import { type FakeRequest, type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { resolvePool } from "./registry.js";
import { chooseAnnotator, noisyLabel, simulatePair } from "./simulate.js";

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => server.reset());

const pairs = Array.from({ length: 400 }, (_, i) => ({
  instruction: `instruction ${i}`,
  output_1: i % 3 ? `GOOD ${i}` : `poor ${i}`,
  output_2: i % 3 ? `poor ${i}` : `GOOD ${i}`,
}));
const truth = (i: number) => (i % 3 ? 1 : 2);

/** Every pool member's prompt format, answered for the output containing GOOD. */
function goodAnnotator(r: FakeRequest): string {
  const p = r.prompt;
  const goodFirst = p.indexOf("GOOD") < p.indexOf("poor");
  if (p.includes("model_1 output")) return `[{"model": "model_1", "rank": ${goodFirst ? 1 : 2}}, {"model": "model_2", "rank": ${goodFirst ? 2 : 1}}]`;
  if (p.includes("[Response A]")) return goodFirst ? "A is better. [[A]]" : "B is better. [[B]]";
  if (p.includes("Preferred:")) return goodFirst ? "Preferred: Output (a)" : "Preferred: Output (b)";
  return goodFirst ? "Output (a)" : "Output (b)";
}

const model = () => createModel({ baseUrl: server.baseUrl, model: "fake", maxRetries: 0 }, { cache: new MemoryResponseCache() });

describe("simulated annotators (AlpacaFarm)", () => {
  it("chooses one pool member per example by a seeded hash: fixed per example, spread across examples", () => {
    const counts = [0, 0, 0, 0];
    for (const p of pairs) counts[chooseAnnotator(p.instruction, 0, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(60);
    expect(chooseAnnotator("x", 0, 4)).toBe(chooseAnnotator("x", 0, 4));
    const moved = pairs.filter((p) => chooseAnnotator(p.instruction, 0, 4) !== chooseAnnotator(p.instruction, 1, 4)).length;
    expect(moved).toBeGreaterThan(200);
  });

  it("replaces the label by a fair coin with probability 2p", () => {
    const many = Array.from({ length: 8000 }, (_, i) => ({ instruction: `i${i}`, output_1: "a", output_2: "b" }));
    const labels = many.map((p) => noisyLabel(p, 0.25, 7));
    const ones = labels.filter((l) => l === 1).length / many.length;
    const twos = labels.filter((l) => l === 2).length / many.length;
    expect(ones).toBeGreaterThan(0.22);
    expect(ones).toBeLessThan(0.28);
    expect(twos).toBeGreaterThan(0.22);
    expect(twos).toBeLessThan(0.28);
    expect(many.every((p) => noisyLabel(p, 0, 7) === undefined)).toBe(true);
    expect(() => noisyLabel(many[0]!, 0.6, 0)).toThrow(RangeError);
  });

  it("is reproducible from the seed, skips the model for noisy labels, and agrees with the truth about 1 - p", async () => {
    server.respond = goodAnnotator;
    const { members } = resolvePool("alpacafarm");
    const m = model();
    const run = () => Promise.all(pairs.map((p) => simulatePair(m, members, p, { pFlip: 0.25, seed: 42 })));
    const first = await run();
    const requests = server.requests.length;
    const second = await run();
    expect(second.map((j) => [j.annotator, j.ok && j.preference])).toEqual(first.map((j) => [j.annotator, j.ok && j.preference]));
    const noisy = first.filter((j) => j.noisy).length;
    expect(requests).toBe(pairs.length - noisy);
    expect(noisy / pairs.length).toBeGreaterThan(0.4);
    expect(noisy / pairs.length).toBeLessThan(0.6);
    expect(first.every((j) => j.ok)).toBe(true);
    const right = first.filter((j, i) => j.ok && j.preference === truth(i)).length / pairs.length;
    expect(right).toBeGreaterThan(0.68);
    expect(right).toBeLessThan(0.82);
    expect(first.filter((j) => !j.noisy).every((j, _) => j.ok)).toBe(true);
    expect(new Set(first.map((j) => j.annotator))).toEqual(new Set(["sim-direct", "sim-expert", "sim-cot", "sim-ranking"]));
    // Members sample at temperature 1, as AlpacaFarm's do.
    expect(server.requests.every((r) => r.body.temperature === 1)).toBe(true);
  });
});
