/**
 * Real data: 5-fold cross-validated pairwise accuracy of the hashed Bradley-Terry model on Anthropic HH-RLHF
 * (harmless-base test split, 2,312 human preference pairs), beside the length baselines. Skipped when
 * ../shared/data is not there (a failure with RLXF_REQUIRE_DATA=1).
 */
import { describe, expect, it } from "vitest";
import { sharedData } from "../../../test/support/data.js";
import { memorySource, readImportFile } from "../../io/index.js";
import { collectPairs } from "../datasets/examples.js";
import { crossValidateRewardModel } from "./train.js";

const found = sharedData("HH-RLHF reward model", "hh-rlhf", "harmless-base-test.jsonl.gz");
const hhFile = found ?? "";

describe.skipIf(!found)("HH-RLHF harmless-base: hashed Bradley-Terry", () => {
  it("5-fold cross-validated accuracy beats always-shorter and always-longer", async () => {
    const pairs = await collectPairs(memorySource(await readImportFile(hhFile!)));
    expect(pairs).toHaveLength(2312);
    const t0 = performance.now();
    const cv = await crossValidateRewardModel(pairs, { folds: 5, seed: 0 });
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `[hh] 5-fold CV accuracy ${cv.metrics.accuracy.toFixed(4)} (folds ${cv.perFold.map((a) => a.toFixed(3)).join(", ")}), ` +
        `log-loss ${cv.metrics.logLoss.toFixed(4)}, ECE ${cv.metrics.ece.toFixed(4)}; always-shorter ${cv.baselines.shorter.toFixed(4)}, ` +
        `always-longer ${cv.baselines.longer.toFixed(4)}; ${seconds.toFixed(1)} s`,
    );
    expect(cv.metrics.pairs).toBe(2312);
    expect(cv.metrics.accuracy).toBeGreaterThan(0.61);
    expect(cv.metrics.accuracy).toBeGreaterThan(Math.max(cv.baselines.shorter, cv.baselines.longer) + 0.05);
    expect(cv.baselines.shorter).toBeGreaterThan(0.5); // in harmless-base, the chosen answer is more often the shorter one
    // Calibrated (temperature fitted inside each training fold): held-out ECE is small.
    expect(cv.metrics.ece).toBeLessThan(0.05);
    // Confident predictions are right more often.
    const b = cv.metrics.byMargin;
    expect(b[b.length - 1]!.accuracy).toBeGreaterThan(b[0]!.accuracy + 0.1);
  });
});
