/**
 * Reward and preference models trained from feedback: Bradley-Terry, ensembles with uncertainty, general
 * preference models for cyclic preferences, noise-robust training, calibration and evaluation.
 */
export * from "./model.js";
export * from "./train.js";
export * from "./artifacts.js";
export { type RobustOptions, type RobustInput, type RobustResult, flagNoisyPairs } from "./robust.js";
export { type MarginBucket, type PairMetrics, fitTemperature, pairMetrics } from "./metrics.js";
export { type LogisticFit, type LogisticProblem, type Solver, fitLogistic, logisticObjective } from "./logistic.js";
export { type OptimizeOptions, type OptimizeResult, type SmoothObjective, lbfgs, newtonCg } from "./optimize.js";
export { type GpmFit, type GpmFitInput, type GpmHead, type GpmOptions, fitGpm, gpmEmbedder, gpmScore } from "./gpm.js";
export { type LinearHead, type PairDesign, headFromCompact, headScorer, pairDesign } from "./linear.js";
