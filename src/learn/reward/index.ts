/**
 * Reward and preference models trained from feedback: Bradley-Terry, ensembles with uncertainty, general
 * preference models for cyclic preferences, noise-robust training, calibration and evaluation.
 */
export {
  type ModelMetadata,
  type PairInput,
  type PairPrediction,
  type RewardModelArtifact,
  type RewardModelType,
  type RewardScore,
  type TrainingRecord,
  REWARD_MODEL_TYPES,
  RewardModel,
} from "./model.js";
export {
  type CrossValidation,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  crossValidateRewardModel,
  evaluateRewardModel,
  trainRewardModel,
} from "./train.js";
export {
  REWARD_MODEL_KIND,
  getRewardModelArtifact,
  loadRewardModel,
  readRewardModelArtifact,
  readRewardModelFile,
  saveRewardModel,
  saveRewardModelArtifact,
  writeRewardModelFile,
} from "./artifacts.js";
export { type RobustOptions, type RobustInput, type RobustResult, flagNoisyPairs } from "./robust.js";
export { type MarginBucket, type PairMetrics, fitTemperature, pairMetrics } from "./metrics.js";
export { type LogisticFit, type LogisticProblem, type Solver, fitLogistic } from "./logistic.js";
export { type OptimizeOptions, type OptimizeResult, type SmoothObjective, lbfgs } from "./optimize.js";
export type { GpmHead, GpmOptions } from "./gpm.js";
export type { LinearHead } from "./linear.js";
