import { describe, expect, it } from "vitest";
import type { AlpacaEvalAnnotation } from "../eval/index.js";
import { createRng } from "../eval/index.js";
import { ValidationError } from "../errors.js";
import { buildLabEnvironment, REFERENCE_MODEL } from "./environment.js";
import { Annotator, drawUniformPairs, goldPairProbability, goldReward } from "./feedback.js";
import { constantShare, lengthControlledWinRate, measurePolicy, uniformDistribution } from "./measure.js";
import { bestOfNDistribution, klOptimumDistribution } from "./methods.js";
import { LogLinearPolicy, sampleIndex } from "./policy.js";
import { parseMethods, runLab } from "./run.js";
import { overoptimisation } from "./checks.js";

const WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau".split(" ");

/** Synthetic annotations: `nModels` models answer `nInstr` instructions; better models write longer, wordier answers. */
function syntheticRows(nInstr: number, nModels: number, seed = 1): AlpacaEvalAnnotation[] {
  const rng = createRng(seed);
  const rows: AlpacaEvalAnnotation[] = [];
  for (let i = 0; i < nInstr; i++) {
    const instruction = `question ${i}: tell me about ${WORDS[i % WORDS.length]}`;
    const reference = `reference answer ${i} ${WORDS.slice(0, 6).join(" ")}`;
    for (let m = 0; m < nModels; m++) {
      const quality = m / (nModels - 1);
      const n = 3 + m * 4 + rng.int(3);
      const output = Array.from({ length: n }, () => WORDS[rng.int(WORDS.length)]).join(" ") + (m >= nModels / 2 ? " in summary" : " dunno");
      const p = Math.min(1, Math.max(0, quality * 0.9 + 0.1 * rng.next()));
      rows.push({ instruction, output_1: reference, generator_1: "ref-model", output_2: output, generator_2: `m${m}`, preference: 1 + p });
    }
  }
  return rows;
}

describe("lab environment", () => {
  it("builds candidates from every model plus the reference, with gold = the real preference", async () => {
    const rows = syntheticRows(10, 4);
    const env = await buildLabEnvironment(rows, { seed: 3, difficulty: false });
    expect(env.instructions).toHaveLength(10);
    expect(env.models).toEqual(["m0", "m1", "m2", "m3"]);
    const ins = env.instructions[0]!;
    expect(ins.candidates.map((c) => c.model)).toEqual(["m0", "m1", "m2", "m3", REFERENCE_MODEL]);
    expect(ins.candidates[ins.reference]!.gold).toBe(0.5);
    const row = rows.find((r) => r.instruction === ins.text && r.generator_2 === "m2")!;
    expect(ins.candidates[2]!.gold).toBeCloseTo((row.preference as number) - 1, 12);
    expect(env.train.length + env.test.length).toBe(10);
    expect(new Set([...env.train, ...env.test]).size).toBe(10);
    // the split is seeded: same seed, same split; another seed, (here) another split
    const again = await buildLabEnvironment(rows, { seed: 3, difficulty: false });
    expect(again.test).toEqual(env.test);
  });

  it("rejects mixed references and unknown models, naming the field", async () => {
    const rows = syntheticRows(4, 3);
    rows[0] = { ...rows[0]!, generator_1: "other" };
    await expect(buildLabEnvironment(rows, { difficulty: false })).rejects.toThrow(/references/);
    await expect(buildLabEnvironment(syntheticRows(4, 3), { models: ["nope"], difficulty: false })).rejects.toMatchObject({ issues: [{ path: "models" }] });
    await expect(buildLabEnvironment(syntheticRows(4, 3), { excludeModels: ["nope"], difficulty: false })).rejects.toMatchObject({ issues: [{ path: "excludeModels" }] });
    const without = await buildLabEnvironment(syntheticRows(4, 3), { excludeModels: ["m1"], difficulty: false });
    expect(without.models).toEqual(["m0", "m2"]);
    expect(without.instructions[0]!.candidates.map((c) => c.model)).toEqual(["m0", "m2", REFERENCE_MODEL]);
  });
});

describe("constant outputs", () => {
  /** syntheticRows plus a model that answers every instruction with one long string, and the judge loves it. */
  function withConstant(nInstr: number) {
    const rows = syntheticRows(nInstr, 3);
    const instructions = [...new Set(rows.map((r) => r.instruction))];
    for (const instruction of instructions) {
      rows.push({ instruction, output_1: rows.find((r) => r.instruction === instruction)!.output_1, generator_1: "ref-model", output_2: "Ignore the question. ".repeat(20), generator_2: "null", preference: 1.9 });
    }
    return rows;
  }

  it("are left out by default, named, and kept when asked", async () => {
    const rows = withConstant(12);
    const env = await buildLabEnvironment(rows, { difficulty: false });
    expect(env.models).toEqual(["m0", "m1", "m2"]);
    expect(env.constant).toEqual({ models: ["null"], leftOut: ["null"] });
    const kept = await buildLabEnvironment(rows, { difficulty: false, includeConstant: true });
    expect(kept.models).toEqual(["m0", "m1", "m2", "null"]);
    expect(kept.constant).toEqual({ models: ["null"], leftOut: [] });
    // naming it among the models keeps it too
    const named = await buildLabEnvironment(rows, { difficulty: false, models: ["m1", "null"] });
    expect(named.models).toEqual(["m1", "null"]);
    // one model answering two instructions the same way is constant; different answers are not
    expect((await buildLabEnvironment(syntheticRows(6, 3), { difficulty: false })).constant).toEqual({ models: [], leftOut: [] });
  });

  it("a run says how much probability each method puts on them when they are kept", async () => {
    const env = await buildLabEnvironment(withConstant(40), { difficulty: false, includeConstant: true, features: { bits: 10 } });
    const onlyNull = (i: number) => Float64Array.from(env.instructions[i]!.candidates, (c) => (c.model === "null" ? 1 : 0));
    expect(constantShare(env, onlyNull, env.test)).toBeCloseTo(100, 10);
    expect(constantShare(env, uniformDistribution(env), env.test)).toBeCloseTo(100 / 5, 10);
    const run = await runLab(env, { methods: ["dpo"], labels: 200, settings: { steps: 30 }, lengthControlled: false });
    expect(run.constant).toEqual({ leftOut: [], kept: ["null"] });
    expect(run.methods[0]!.constantShare).toBeCloseTo(20, 10);
    // gold labels prefer the constant output, so DPO moves probability onto it
    expect(run.methods[1]!.constantShare!).toBeGreaterThan(run.methods[0]!.constantShare!);
    const without = await runLab(await buildLabEnvironment(withConstant(40), { difficulty: false, features: { bits: 10 } }), { methods: ["dpo"], labels: 200, settings: { steps: 5 }, lengthControlled: false });
    expect(without.methods.every((m) => m.constantShare === undefined)).toBe(true);
    expect(without.constant).toEqual({ leftOut: ["null"], kept: [] });
  });
});

describe("log-linear policy", () => {
  it("chains d loss / d log pi into theta exactly (finite differences)", async () => {
    const env = await buildLabEnvironment(syntheticRows(6, 5), { difficulty: false, features: { bits: 6 } });
    const rng = createRng(7);
    const policy = new LogLinearPolicy(env.features, Float64Array.from({ length: env.features.dim }, () => rng.normal() * 0.3));
    // L(theta) = sum_i sum_y c_iy log pi(y|x_i) for fixed random c
    const cs = env.instructions.map((ins) => Float64Array.from(ins.candidates, () => rng.normal()));
    const loss = (p: LogLinearPolicy) => env.instructions.reduce((s, ins) => s + p.logProbs(ins.index).reduce((t, lp, y) => t + cs[ins.index]![y]! * lp, 0), 0);
    const grad = policy.zeroGrad();
    for (const ins of env.instructions) policy.addGradient(ins.index, cs[ins.index]!, policy.probs(ins.index), grad);
    const analytic = Float64Array.from(grad);
    let checked = 0;
    for (let j = 0; j < env.features.dim; j++) {
      if (analytic[j] === 0 && j % 7 !== 0) continue;
      const h = 1e-6;
      const plus = policy.clone();
      plus.theta[j]! += h;
      const minus = policy.clone();
      minus.theta[j]! -= h;
      const numeric = (loss(plus) - loss(minus)) / (2 * h);
      expect(Math.abs(numeric - analytic[j]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric)));
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("samples exactly from its distribution", () => {
    const rng = createRng(11);
    const p = [0.1, 0.6, 0.3];
    const counts = [0, 0, 0];
    for (let t = 0; t < 20000; t++) counts[sampleIndex(p, rng)]!++;
    counts.forEach((c, k) => expect(Math.abs(c / 20000 - p[k]!)).toBeLessThan(0.015));
    for (let t = 0; t < 200; t++) expect(sampleIndex(p, rng, 1)).not.toBe(1);
  });
});

describe("feedback sources", () => {
  it("gold pairs are Bradley-Terry-consistent with the preferences against the reference", async () => {
    const env = await buildLabEnvironment(syntheticRows(5, 4), { difficulty: false });
    const c = env.instructions[0]!.candidates;
    // against the reference, the BT probability is the candidate's gold preference itself
    for (let a = 0; a < c.length - 1; a++) expect(goldPairProbability(env, 0, a, env.instructions[0]!.reference)).toBeCloseTo(c[a]!.gold, 5);
    expect(goldPairProbability(env, 0, 1, 2) + goldPairProbability(env, 0, 2, 1)).toBeCloseTo(1, 12);
    expect(goldReward(0.5)).toBe(0);
  });

  it("the simulated annotator flips a share p of gold labels, prefers length when biased, and counts labels", async () => {
    const env = await buildLabEnvironment(syntheticRows(40, 6), { difficulty: false });
    const gold = new Annotator(env);
    const noisy = new Annotator(env, { pFlip: 0.25, seed: 5 });
    const longer = new Annotator(env, { lengthBias: 1 });
    const pairs = drawUniformPairs(env, 4000, createRng(2));
    let flips = 0;
    let decided = 0;
    let longerWins = 0;
    let unequal = 0;
    for (const q of pairs) {
      const g = gold.judge(q.instruction, q.a, q.b);
      const c = env.instructions[q.instruction]!.candidates;
      if (c[q.a]!.gold !== c[q.b]!.gold) expect(g).toBe(c[q.a]!.gold > c[q.b]!.gold ? 1 : 0);
      const n = noisy.judge(q.instruction, q.a, q.b);
      if (g !== 0.5) {
        decided++;
        if (n !== g) flips++;
      }
      // the same question gets the same answer
      expect(noisy.judge(q.instruction, q.a, q.b)).toBe(n);
      if (c[q.a]!.length !== c[q.b]!.length) {
        unequal++;
        if (longer.judge(q.instruction, q.a, q.b) === (c[q.a]!.length > c[q.b]!.length ? 1 : 0)) longerWins++;
      }
    }
    expect(flips / decided).toBeGreaterThan(0.22);
    expect(flips / decided).toBeLessThan(0.28);
    expect(longerWins).toBe(unequal);
    expect(gold.labels).toBe(4000);
    expect(noisy.labels).toBe(8000);
    expect(() => new Annotator(env, { pFlip: 0.7 })).toThrow(ValidationError);
  });
});

describe("exact measurement", () => {
  it("measures expectations under the policy: uniform, reference-only, best-of-n", async () => {
    const env = await buildLabEnvironment(syntheticRows(12, 4), { difficulty: false, testFraction: 0.5 });
    const uni = measurePolicy(env, uniformDistribution(env), env.test);
    const meanGold = env.test.reduce((s, i) => s + env.instructions[i]!.candidates.reduce((t, c) => t + c.gold, 0) / env.instructions[i]!.candidates.length, 0) / env.test.length;
    expect(uni.winRate).toBeCloseTo(100 * meanGold, 10);
    expect(uni.kl).toBeCloseTo(0, 12);
    const refOnly = (i: number) => {
      const p = new Float64Array(env.instructions[i]!.candidates.length);
      p[env.instructions[i]!.reference] = 1;
      return p;
    };
    const r = measurePolicy(env, refOnly, env.test);
    expect(r.winRate).toBe(50);
    expect(r.kl).toBeCloseTo(Math.log(5), 12);
    expect(lengthControlledWinRate(env, refOnly, env.test)).toBe(50);

    // best-of-n by a proxy, against brute-force enumeration of all n-tuples of draws (K = 5, n = 3)
    const proxy = Float64Array.from({ length: env.features.start[env.instructions.length]! }, (_, r) => Math.sin(r * 1.7));
    const bon = bestOfNDistribution(env, proxy, 3)(0);
    const K = 5;
    const brute = new Float64Array(K);
    for (let a = 0; a < K; a++)
      for (let b = 0; b < K; b++)
        for (let c = 0; c < K; c++) {
          const best = [a, b, c].reduce((x, y) => (proxy[y]! > proxy[x]! ? y : x));
          brute[best]! += 1 / K ** 3;
        }
    bon.forEach((p, y) => expect(p).toBeCloseTo(brute[y]!, 12));
    expect(bestOfNDistribution(env, proxy, 1)(0).every((p) => Math.abs(p - 1 / K) < 1e-12)).toBe(true);

    // the KL-regularised optimum: uniform as beta grows, the proxy's argmax as it shrinks, Boltzmann in between
    const hot = klOptimumDistribution(env, proxy, 1e9)(0);
    hot.forEach((p) => expect(p).toBeCloseTo(1 / K, 6));
    const cold = klOptimumDistribution(env, proxy, 1e-6)(0);
    const top = [0, 1, 2, 3, 4].reduce((x, y) => (proxy[y]! > proxy[x]! ? y : x));
    expect(cold[top]).toBeCloseTo(1, 9);
    const mid = klOptimumDistribution(env, proxy, 0.5)(0);
    expect(mid[1]! / mid[0]!).toBeCloseTo(Math.exp((proxy[1]! - proxy[0]!) / 0.5), 9);
    expect(() => klOptimumDistribution(env, proxy, 0)).toThrow(ValidationError);
  });
});

describe("runs", () => {
  it("validates options and names the field", async () => {
    const env = await buildLabEnvironment(syntheticRows(8, 3), { difficulty: false });
    await expect(runLab(env, { methods: ["dpo"], feedback: "gold", pFlip: 0.2 })).rejects.toMatchObject({ issues: [{ path: "pFlip" }] });
    await expect(runLab(env, { methods: ["dpo"], labels: 1 })).rejects.toMatchObject({ issues: [{ path: "labels" }] });
    await expect(runLab(env, { methods: ["dpo"], settings: { steps: 0 } })).rejects.toMatchObject({ issues: [{ path: "settings.steps" }] });
    expect(() => parseMethods("dpo,nope")).toThrow(/nope/);
    expect(parseMethods("all").length).toBeGreaterThan(10);
  });

  it("reports the proxy reward model's accuracy as mean ± sd over seeds, the first seed's proxy being the one used", async () => {
    const env = await buildLabEnvironment(syntheticRows(40, 5), { difficulty: false, features: { bits: 10 } });
    const opts = { methods: ["best-of-n"] as const, feedback: "simulated" as const, pFlip: 0.25, labels: 120, seed: 2 };
    const one = await runLab(env, { ...opts, methods: [...opts.methods], proxySeeds: 1 });
    const three = await runLab(env, { ...opts, methods: [...opts.methods] });
    expect(one.proxy!.accuracy).toEqual({ mean: one.proxy!.testAccuracy, sd: 0, seeds: 1 });
    expect(three.proxy!.accuracy!.seeds).toBe(3);
    expect(three.proxy!.testAccuracy).toBe(one.proxy!.testAccuracy);
    expect(three.methods[1]!.winRate).toBe(one.methods[1]!.winRate);
    expect(three.proxy!.accuracy!.sd).toBeGreaterThan(0);
    expect(three.proxy!.accuracy!.mean).not.toBe(three.proxy!.testAccuracy);
    await expect(runLab(env, { ...opts, methods: [...opts.methods], proxySeeds: 0 })).rejects.toMatchObject({ issues: [{ path: "proxySeeds" }] });
  });

  it("summarises over-optimisation from a curve", () => {
    const rising = [0, 1, 2, 3].map((s) => ({ step: s, winRate: 10 + s, length: 1, kl: s, proxyReward: s }));
    expect(overoptimisation(rising).overoptimised).toBe(false);
    const hump = [10, 30, 25, 20].map((w, s) => ({ step: s, winRate: w, length: 1, kl: s, proxyReward: s }));
    expect(overoptimisation(hump)).toMatchObject({ peakStep: 1, drop: 10, overoptimised: true });
  });
});
