/**
 * The lab: compare methods that learn from feedback on real outputs, cheaply and exactly (after AlpacaFarm).
 * An environment of AlpacaEval instructions whose candidates are real models' outputs with their real judgements,
 * log-linear policies over those candidates, feedback sources (gold, simulated with noise, a proxy reward model),
 * the methods (best-of-n, expert iteration, the DPO family, online DPO, PPO, GRPO, RLOO, REINFORCE++, ReMax), and
 * exact measurement (win rate, length-controlled win rate, length, KL) with curves over training.
 *
 *     const env = await loadLabEnvironment(["annotations/"], { seed: 1 });
 *     const run = await runLab(env, { methods: ["dpo", "ppo"], feedback: "simulated", pFlip: 0.25, labels: 1000 });
 */
export {
  type CandidateFeatures,
  type EnvironmentOptions,
  type LabCandidate,
  type LabEnvironment,
  type LabInstruction,
  LAB_HASH_BITS,
  LAB_LENGTH_FEATURES,
  REFERENCE_MODEL,
  buildLabEnvironment,
  loadLabEnvironment,
  readLabAnnotations,
} from "./environment.js";
export { Adam, LogLinearPolicy, argmax, logSoftmax, sampleIndex } from "./policy.js";
export { type PolicyDistribution, type PolicyMeasurement, lengthControlledWinRate, measurePolicy, uniformDistribution } from "./measure.js";
export {
  type AnnotatorOptions,
  type LabFeedbackSource,
  type LabelledPair,
  type ProxyReward,
  Annotator,
  LAB_FEEDBACK_SOURCES,
  drawUniformPairs,
  goldPairProbability,
  goldReward,
  toPreferencePairs,
  trainProxyReward,
} from "./feedback.js";
export {
  type LabMethod,
  type MethodContext,
  type MethodOutcome,
  type MethodSettings,
  DEFAULT_SETTINGS,
  LAB_METHODS,
  PAIR_METHODS,
  REWARD_METHODS,
  bestOfNDistribution,
  klOptimumDistribution,
  runMethod,
} from "./methods.js";
export {
  type CurvePoint,
  type LabMethodResult,
  type LabRunOptions,
  type LabRunResult,
  type SweepOptions,
  type SweepRow,
  checkRunOptions,
  environmentSummary,
  parseMethods,
  runLab,
  runSweep,
} from "./run.js";
export { type Overoptimisation, overoptimisation } from "./checks.js";
export {
  type LabResultBody,
  type LabResultSummary,
  type SavedLabResult,
  type SweepCell,
  type SweepGrid,
  LAB_RESULT_KIND,
  getLabResult,
  listLabResults,
  saveLabResult,
  summarize as summarizeLabResult,
  sweepMeans,
} from "./saved.js";
