/**
 * Policy-optimisation objectives: pure functions over per-sequence log-probabilities (policy and reference),
 * rewards and group structure that return a loss and its gradient with respect to the log-probabilities.
 * Preference losses (DPO, cDPO, IPO, SimPO, ORPO, LiPO-lambda), KL estimators, advantage estimators
 * (REINFORCE, RLOO, GRPO / Dr. GRPO, REINFORCE++, ReMax) and the REINFORCE / PPO-clip surrogates.
 */
export { dpoLoss, ipoLoss, simpoLoss, orpoLoss, lipoLambdaLoss } from "./preference.js";
export type { PairBatch, PairLoss, ListGroup, LipoOptions } from "./preference.js";
export {
  klPenalty,
  reinforceAdvantages,
  rlooAdvantages,
  grpoAdvantages,
  reinforcePlusPlusAdvantages,
  remaxAdvantages,
  policyGradientLoss,
  ppoClipLoss,
} from "./policy.js";
export type { KlEstimator, KlPenalty, PpoOptions, PpoLoss } from "./policy.js";
export { checkGradient } from "./gradcheck.js";
export type { GradientCheck } from "./gradcheck.js";
