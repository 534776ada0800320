/**
 * The lab's checks on a small slice of the shared AlpacaEval annotations (the full data are in the note's runs):
 * every method learns from gold feedback, label noise lowers but does not erase the gains, removing the KL penalty
 * lets a proxy reward be over-optimised, and seeded runs are reproducible bit for bit.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { sharedData, sharedFiles } from "../../test/support/data.js";
import { lengthControlledWinRate as alpacaLc } from "../eval/index.js";
import type { AlpacaEvalAnnotation } from "../eval/index.js";
import { overoptimisation } from "./checks.js";
import { buildLabEnvironment, type LabEnvironment, readLabAnnotations, REFERENCE_MODEL } from "./environment.js";
import { lengthControlledWinRate } from "./measure.js";
import { LAB_METHODS } from "./methods.js";
import { type LabRunResult, runLab } from "./run.js";

const SUITE = "lab on AlpacaEval";
const hasData = sharedFiles(SUITE, "alpaca_eval/annotations/claude-2.1.json.gz", "alpaca_eval/annotations/alpaca-7b.json.gz") !== undefined;
const files = hasData ? [sharedData(SUITE, "alpaca_eval", "annotations")!] : [];

const SETTINGS = { steps: 50, evalEvery: 10 };
const strip = (r: LabRunResult) => JSON.stringify({ ...r, seconds: 0, proxy: r.proxy ? { ...r.proxy, seconds: 0 } : undefined, methods: r.methods.map((m) => ({ ...m, seconds: 0 })) });

describe.skipIf(!hasData)("lab on real AlpacaEval outputs (every model, the first 300 instructions)", () => {
  let env: LabEnvironment;
  let rows: AlpacaEvalAnnotation[];
  let gold: LabRunResult;
  beforeAll(async () => {
    rows = await readLabAnnotations(files);
    env = await buildLabEnvironment(rows, { seed: 1, maxInstructions: 300, includeConstant: true });
    gold = await runLab(env, { methods: LAB_METHODS, feedback: "gold", labels: 600, seed: 1, settings: SETTINGS, lengthControlled: false });
  }, 300_000);

  it("every method trained on gold feedback beats the uniform initial policy on test instructions", () => {
    const initial = gold.methods[0]!;
    expect(initial.method).toBe("initial");
    expect(gold.methods).toHaveLength(LAB_METHODS.length + 1);
    for (const m of gold.methods.slice(1)) {
      expect(m.winRate, m.method).toBeGreaterThan(initial.winRate + 2);
      expect(m.labels, m.method).toBe(600);
      expect(m.curve.length, m.method).toBeGreaterThan(1);
    }
  });

  it("label noise p = 0.25 lowers the gains but does not erase them", async () => {
    const noisy = await runLab(env, { methods: LAB_METHODS, feedback: "simulated", pFlip: 0.25, labels: 600, seed: 1, settings: SETTINGS, lengthControlled: false });
    const base = noisy.methods[0]!.winRate;
    expect(base).toBe(gold.methods[0]!.winRate);
    let gainGold = 0;
    let gainNoisy = 0;
    for (let k = 1; k < noisy.methods.length; k++) {
      expect(noisy.methods[k]!.winRate, noisy.methods[k]!.method).toBeGreaterThan(base);
      gainGold += gold.methods[k]!.winRate - base;
      gainNoisy += noisy.methods[k]!.winRate - base;
    }
    expect(gainNoisy).toBeLessThan(gainGold);
    expect(gainNoisy).toBeGreaterThan(0.3 * gainGold);
    expect(noisy.proxy!.testAccuracy).toBeLessThan(gold.proxy!.testAccuracy);
  }, 300_000);

  it("without the KL penalty, PPO over-optimises a proxy trained on few noisy labels; the penalty holds it back", async () => {
    const run = await runLab(env, {
      methods: ["ppo"],
      feedback: "simulated",
      pFlip: 0.25,
      labels: 300,
      seed: 1,
      settings: { klCoef: 0, lr: 0.01, steps: 150, evalEvery: 10 },
      lengthControlled: false,
    });
    const o = overoptimisation(run.methods[1]!.curve);
    expect(o.overoptimised, JSON.stringify(o)).toBe(true);
    expect(o.finalProxy).toBeGreaterThan(o.peakProxy);
    const withKl = await runLab(env, {
      methods: ["ppo"],
      feedback: "simulated",
      pFlip: 0.25,
      labels: 300,
      seed: 1,
      settings: { klCoef: 0.3, lr: 0.01, steps: 150, evalEvery: 10 },
      lengthControlled: false,
    });
    expect(withKl.methods[1]!.kl).toBeLessThan(run.methods[1]!.kl);
  }, 300_000);

  it("seeded runs are reproducible bit for bit (wall times aside)", async () => {
    const opts = { methods: ["dpo", "online-dpo", "grpo", "expert-iteration"] as const, feedback: "simulated" as const, pFlip: 0.25, labels: 200, seed: 4, settings: { steps: 30 } };
    const a = await runLab(env, { ...opts, methods: [...opts.methods] });
    const b = await runLab(env, { ...opts, methods: [...opts.methods] });
    expect(strip(a)).toBe(strip(b));
    const c = await runLab(env, { ...opts, methods: [...opts.methods], seed: 5 });
    expect(strip(c)).not.toBe(strip(a));
  }, 300_000);

  it("the exact length-controlled win rate of a policy that always answers like one model matches AlpacaEval's on that model's rows", () => {
    for (const model of ["claude-2.1", "alpaca-7b"]) {
      const pick = (i: number) => {
        const cands = env.instructions[i]!.candidates;
        const p = new Float64Array(cands.length);
        const y = cands.findIndex((c) => c.model === model);
        p[y >= 0 ? y : cands.findIndex((c) => c.model === REFERENCE_MODEL)] = 1;
        return p;
      };
      const all = env.instructions.map((ins) => ins.index).filter((i) => env.instructions[i]!.candidates.some((c) => c.model === model));
      const ours = lengthControlledWinRate(env, pick, all);
      const texts = new Set(all.map((i) => env.instructions[i]!.text));
      const modelRows = rows.filter((r) => r.generator_2 === model && texts.has(r.instruction));
      const difficulty = new Map(env.instructions.map((ins) => [ins.text, env.difficulty[ins.index]!]));
      const theirs = alpacaLc(modelRows, { instructionDifficulty: difficulty }).length_controlled_winrate;
      expect(Math.abs(ours - theirs), `${model}: ${ours} vs ${theirs}`).toBeLessThan(1.5);
    }
  });
});
