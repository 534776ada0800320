/**
 * The leaderboard's fits on worker threads (the built package: the worker runs compiled JavaScript) give the
 * numbers of the calling-thread computation.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type { AlpacaEvalAnnotation } from "../src/eval/index.js";
import { alpacaEvalBoard, createRng, sigmoid } from "../src/eval/index.js";

const dist = resolve(import.meta.dirname, "..", "dist", "eval");
const built = existsSync(join(dist, "lc-worker.js"));

function comparisons(seed: number): AlpacaEvalAnnotation[] {
  const rng = createRng(seed);
  const ease = Array.from({ length: 300 }, () => rng.normal());
  const rows: AlpacaEvalAnnotation[] = [];
  for (const [m, quality, words] of [["a", 0.3, 30], ["b", -1, 90], ["c", -0.5, 50], ["d", 0.8, 20]] as const) {
    for (let x = 0; x < ease.length; x++) {
      const baseLen = 10 + rng.int(40);
      const len = Math.max(1, Math.round(words * (0.5 + rng.next())));
      const p = sigmoid(quality + ease[x]! + 0.03 * (len - baseLen));
      rows.push({ instruction: `question ${x}`, output_1: "b ".repeat(baseLen), generator_1: "base", output_2: "m ".repeat(len), generator_2: m, preference: 1 + Math.min(1, Math.max(0, p + 0.1 * (rng.next() - 0.5))) });
    }
  }
  return rows;
}

describe.runIf(built)("AlpacaEval board on worker threads", () => {
  it("gives the calling thread's numbers, estimating the difficulty and fitting each model in parallel", async () => {
    const { alpacaEvalBoardThreaded } = (await import(pathToFileURL(join(dist, "board-threads.js")).href)) as typeof import("../src/eval/board-threads.js");
    const rows = comparisons(1);
    const ticks: number[] = [];
    const threaded = await alpacaEvalBoardThreaded(rows, { threads: 2, onProgress: (d) => ticks.push(d) });
    const direct = alpacaEvalBoard(rows);
    expect(threaded.difficulty).toEqual(direct.difficulty);
    expect(threaded.warnings).toEqual(direct.warnings);
    threaded.rows.forEach((r, i) => {
      expect(r.model).toBe(direct.rows[i]!.model);
      expect(r.length_controlled_winrate).toBeCloseTo(direct.rows[i]!.length_controlled_winrate!, 12);
      expect(r.lc_standard_error).toBeCloseTo(direct.rows[i]!.lc_standard_error!, 12);
    });
    expect(ticks.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // 5 folds, the refit, 4 models
  });
});
