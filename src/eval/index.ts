/**
 * Evaluation toolkit: AlpacaEval win rates and length-controlled win rates, Bradley-Terry ratings with bootstrap
 * intervals, inter-rater agreement, and the small statistics / PRNG helpers they share. All functions are pure.
 */

export {
  type AlpacaEvalAnnotation,
  type AlpacaEvalWinRate,
  alpacaEvalWinRate,
  averageOutputLength,
  codePointLength,
  isValidPreference,
  outputLength,
  parsePreference,
  withOutputLengths,
  preferenceToProbability,
} from "./alpaca-eval.js";
export {
  type AnnotationKeys,
  type GlmCvOptions,
  type InstructionDifficulty,
  type LengthControlledOptions,
  type LengthControlledResult,
  LC_REGULARIZE_TO_BASELINE_LAMBDA,
  type DifficultyProblem,
  estimateInstructionDifficulty,
  instructionDifficultyProblem,
  lengthControlledWinRate,
  lengthFeature,
} from "./length-controlled.js";
export {
  type AlpacaEvalBoard,
  type LeaderboardOptions,
  type LeaderboardRow,
  alpacaEvalBoard,
  alpacaEvalBoardFromPairs,
  alpacaEvalLeaderboard,
  alpacaEvalModelName,
  defaultBaseline,
  orientToBaseline,
  resolveBaseline,
} from "./leaderboard.js";
export { type ThreadOptions, alpacaEvalBoardFromPairsThreaded, alpacaEvalBoardThreaded } from "./board-threads.js";
export {
  type DifficultyMode,
  type DifficultySource,
  DIFFICULTY_MODES,
  MIN_MODELS_TO_ESTIMATE,
  chooseInstructionDifficulty,
  instructionHash,
  normalizeInstruction,
  shippedInstructionDifficulty,
} from "./instruction-difficulty.js";
export {
  type FactorCVFit,
  type FactorDesign,
  type FactorFit,
  type FactorFitOptions,
  FactorDesignBuilder,
  fitL1LogisticFactor,
  fitL1LogisticFactorCV,
} from "./logistic-factor.js";
export {
  type DesignMatrix,
  type L1LogisticCVFit,
  type L1LogisticCVOptions,
  type L1LogisticFit,
  type L1LogisticOptions,
  DesignBuilder,
  denseDesign,
  fitL1Logistic,
  fitL1LogisticCV,
  groupKFoldIds,
  linearPredictor,
  predictProba,
  softLogLoss,
} from "./logistic.js";
export {
  type BradleyTerryBootstrapOptions,
  type BradleyTerryBootstrapResult,
  type BradleyTerryInterval,
  type BradleyTerryOptions,
  type BradleyTerryResult,
  type BradleyTerryScale,
  type PairwiseComparison,
  bradleyTerry,
  bradleyTerryBootstrap,
  bradleyTerryWinProbability,
  toElo,
} from "./bradley-terry.js";
export {
  type AlphaLevel,
  type LabelledSpan,
  type RaterValue,
  cohenKappa,
  fleissKappa,
  krippendorffAlpha,
  matchSpans,
  ratingsToCounts,
  wordSimilarity,
} from "./agreement.js";
export {
  averageRanks,
  logspace,
  mean,
  median,
  pearson,
  quantile,
  sem,
  sigmoid,
  softplus,
  spearman,
  std,
  variance,
} from "./stats.js";
export { type Rng, createRng, fnv1a, mulberry32 } from "./random.js";
export { type BootstrapInterval, bootstrapMean } from "./bootstrap.js";
export {
  type BradleyTerryRow,
  type GenerationInfo,
  bradleyTerryLeaderboard,
  noComparisonsReason,
  pairwiseToBradleyTerry,
  toPairwise,
} from "./from-feedback.js";
export {
  type AgreementReport,
  type JudgeAgreement,
  type JudgePairAgreement,
  type JudgedPair,
  type Label,
  type PairLabel,
  type Rate,
  type RouteScore,
  type Vote,
  aggregateJudges,
  disagreementOf,
  discretize,
  hasList,
  judgeAgreement,
  lengthBiasRate,
  listBiasRate,
  majorityVote,
  positionBiasRate,
  routeToHumans,
} from "./judges.js";
export {
  type AnnotationAgreement,
  type Distributions,
  type JudgeAgreementWithHumans,
  type PairAgreement,
} from "./schema.js";
export { agreementMeasure, annotationAgreement, comparableWithJudges, levelOf, textAgreement, unitValues } from "./annotations.js";
export { type DistributionFilter, feedbackDistributions } from "./distributions.js";
export { alpacaEvalPairsFromStore, comparisonsFromStore } from "./from-store.js";
