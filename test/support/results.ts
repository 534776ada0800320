/**
 * Results for the tests that read them back (HTTP API, web app): a small lab run and sweep on a slice of the shared
 * AlpacaEval annotations, saved as a user's `rlxf lab ... --save` would, and a real retry-loop run against a local
 * OpenAI-compatible server with the math verifier as feedback.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type LabRunResult, type SweepRow, loadLabEnvironment, runLab, runSweep, saveLabResult } from "../../src/lab/index.js";
import { type LoopReport, retryLoop, verifierFeedback } from "../../src/loops/index.js";
import { createModel } from "../../src/providers/index.js";
import { startFakeModelServer } from "../../src/providers/testing/index.js";
import { createVerifier } from "../../src/sources/verifiers/index.js";
import type { Store } from "../../src/store/index.js";
import { DATA_DIR } from "./data.js";

const ANNOTATIONS = join(DATA_DIR, "alpaca_eval", "annotations");
const FILES = ["alpaca-7b", "claude-2.1", "gpt-3.5-turbo-1106", "falcon-7b-instruct"].map((m) => join(ANNOTATIONS, `${m}.json.gz`));
export const hasLabData = FILES.every((f) => existsSync(f));

const SETTINGS = { steps: 20, evalEvery: 5 };

export interface SeededLab {
  run: LabRunResult;
  sweep: SweepRow[];
}

/** Saves `small-run` (DPO, PPO and best-of-n from simulated labels, p = 0.25) and `small-sweep` (2 × 2 × 2 seeds). */
export async function seedLabResults(store: Store, project: string): Promise<SeededLab> {
  const env = await loadLabEnvironment(FILES, { seed: 0, maxInstructions: 80 });
  const run = await runLab(env, { methods: ["dpo", "ppo", "best-of-n"], feedback: "simulated", pFlip: 0.25, labels: 200, seed: 0, settings: SETTINGS });
  await saveLabResult(store, { project, name: "small-run", description: "three methods, p = 0.25", result: { type: "run", run } });
  const grid = { methods: ["dpo", "best-of-n"], pFlips: [0, 0.25], labels: [50, 200], seeds: [0, 1] };
  const sweep = await runSweep(env, { methods: ["dpo", "best-of-n"], pFlips: grid.pFlips, labels: grid.labels, seeds: grid.seeds, settings: SETTINGS, lengthControlled: false });
  await saveLabResult(store, { project, name: "small-sweep", result: { type: "sweep", grid, rows: sweep, seconds: 1 } });
  return { run, sweep };
}

const USAGE = { inputTokens: 20, outputTokens: 8 };

/**
 * A retry loop over four sums with the math verifier: the policy is right at once on "easy", right after one
 * "try again" on "carry" and "big", and never on "hard".
 */
export async function seedLoopRun(store: Store, project: string): Promise<LoopReport> {
  const tries = new Map<string, number>();
  const server = await startFakeModelServer({
    respond: (r) => {
      const first = r.messages.find((m) => m.role === "user")?.content ?? "";
      const n = tries.get(first) ?? 0;
      tries.set(first, n + 1);
      const right = /^easy/.test(first) || (n >= 1 && /^(carry|big)/.test(first));
      const [, a, b] = /what is (\d+) \+ (\d+)/.exec(first) ?? ["", "0", "0"];
      const answer = Number(a) + Number(b);
      return { text: `The answer is \\boxed{${right ? answer : answer + 1}}.`, usage: USAGE };
    },
  });
  try {
    const tasks = [
      ["easy", 2, 2],
      ["carry", 17, 25],
      ["big", 120, 35],
      ["hard", 99, 99],
    ].map(([id, a, b]) => ({ id: String(id), prompt: `${id}: what is ${a} + ${b}? Answer in \\boxed{}.`, reference: String(Number(a) + Number(b)) }));
    return await retryLoop(tasks, {
      store,
      project,
      policy: { model: createModel({ baseUrl: server.baseUrl, model: "tiny-math", maxRetries: 0 }) },
      feedback: verifierFeedback(createVerifier("math")),
      budget: { rounds: 3 },
    });
  } finally {
    await server.close();
  }
}
