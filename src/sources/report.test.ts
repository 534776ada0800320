/** Judge reports over a store holding human labels and three scripted judges. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModel } from "../providers/index.js";
import { type FakeRequest, type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { type Store, openStore } from "../store/index.js";
import { pairRow } from "./inputs.js";
import { feedbackRecord, pairTargets } from "./records.js";
import { MAJORITY, WEIGHTED, judgeReport, routePairs } from "./report.js";
import { runPairwise } from "./run.js";

let server: FakeServer;
let store: Store;

const pad = " with a much longer and more careful explanation of every step";
const rows = Array.from({ length: 24 }, (_, i) =>
  pairRow({ instruction: `q${i}`, output_1: i % 2 ? `GOOD ${i}${pad}` : `meh ${i}`, output_2: i % 2 ? `meh ${i}` : `GOOD ${i}${pad}` }, `line ${i + 1}`),
);
const goodIs = (i: number) => (i % 2 ? 1 : 2);

const shownAsM = (r: FakeRequest, t: string) => {
  const at = r.prompt.indexOf(t);
  return at > r.prompt.indexOf("## Answer of m") && at < r.prompt.indexOf("## Answer of M");
};

beforeAll(async () => {
  server = await startFakeModelServer({
    respond: (r) => {
      if (r.model === "always-first") return { text: "m", top: { m: 0.99, M: 0.01 } };
      return shownAsM(r, "GOOD") ? { text: "m", top: { m: 0.9, M: 0.1 } } : { text: "M", top: { M: 0.9, m: 0.1 } };
    },
  });
  store = await openStore({ path: ":memory:" });
  // Three humans: h1 and h2 always prefer GOOD, h3 only on every other pair.
  const human = rows.flatMap((row, i) => {
    const { item, generations } = pairTargets("default", row);
    return ["h1", "h2", "h3"].map((h) => {
      const pref = h === "h3" && i % 4 >= 2 ? 3 - goodIs(i) : goodIs(i);
      return {
        item,
        generations,
        fb: feedbackRecord({
          project: "default",
          itemId: item.id,
          kind: "pairwise",
          targets: generations.map((g) => g.id),
          source: { type: "human", id: h },
          value: { choice: pref === 1 ? "first" : "second" },
        }),
      };
    });
  });
  await store.write({
    items: [...new Map(human.map((h) => [h.item.id, h.item])).values()],
    generations: [...new Map(human.flatMap((h) => h.generations).map((g) => [g.id, g])).values()],
    feedback: human.map((h) => h.fb),
  });
  const good = createModel({ baseUrl: server.baseUrl, model: "good" });
  const first = createModel({ baseUrl: server.baseUrl, model: "always-first" });
  await runPairwise(rows, "pairwise", { model: good, store });
  await runPairwise(rows, "pairwise", { model: first, store });
  await runPairwise(rows, "pairwise", { model: first, store, sourceId: "always-first-swapped" }, { order: "both" });
  await good.close();
  await first.close();
});
afterAll(async () => {
  await store.close();
  await server.close();
});

describe("judgeReport", () => {
  it("measures agreement with the humans (leave-one-out) and between judges", async () => {
    const r = await judgeReport(store);
    const row = (id: string) => r.judges.find((j) => j.judge === id)!;
    expect(r.humans).toMatchObject({ annotators: 3, pairs: 24, pairsLeaveOneOut: 24 });
    const good = row("pairwise/good");
    expect(good).toMatchObject({ type: "judge", n: 24, nWithHumans: 24, accuracy: 1, kappa: 1, failures: 0 });
    // Humans: h1, h2 always right; h3 wrong on half. Held out, h3 disagrees with the (h1, h2) majority half the time.
    expect(good.humanAgreement).toBeGreaterThan(good.humanBaseline);
    const first = row("pairwise/always-first");
    expect(first.accuracy).toBeCloseTo(0.5, 1);
    expect(row(MAJORITY).type).toBe("ensemble");
    // Weighted by accuracy against the humans, the good judge outvotes the position-biased ones.
    expect(row(WEIGHTED)).toMatchObject({ type: "ensemble", n: 24, accuracy: 1 });
    expect(row(MAJORITY).accuracy).toBeLessThan(1);
    expect(r.between.find((b) => b.a === "pairwise/always-first" && b.b === "pairwise/good")!.n).toBe(24);
  });

  it("finds the position bias of a judge that always answers 'first', and its ties with both orders", async () => {
    const r = await judgeReport(store);
    const row = (id: string) => r.judges.find((j) => j.judge === id)!;
    expect(row("pairwise/always-first").position.rate).toBeCloseTo(0.99, 9);
    expect(row("pairwise/always-first").position.n).toBe(24);
    expect(row("always-first-swapped").ties).toBe(1);
    expect(row("always-first-swapped").position).toEqual({ rate: expect.closeTo(0.99, 9), n: 48 });
    expect(row("pairwise/good").position.rate).toBeCloseTo(0.5, 9);
    // GOOD is always the longer output: the good judge "prefers the longer" with its confidence.
    expect(row("pairwise/good").length).toEqual({ rate: expect.closeTo(0.9, 9), n: 24 });
    expect(row("h1")).toMatchObject({ type: "human", n: 24, length: { rate: 1 } });
  });

  it("routes the pairs where judges disagree most to humans", async () => {
    const routed = await routePairs(store, { budget: 5, includeLabelled: true });
    expect(routed).toHaveLength(5);
    expect(routed[0]!.disagreement).toBeGreaterThan(0.3);
    expect(Object.keys(routed[0]!.judges).sort()).toEqual(["always-first-swapped", "pairwise/always-first", "pairwise/good"]);
    expect(routed[0]).toHaveProperty("instruction");
    // Every pair already has human labels, so by default nothing is routed.
    expect(await routePairs(store, { budget: 5 })).toEqual([]);
  });
});
