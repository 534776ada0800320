/**
 * The rewards room: scoring completions with reward specs, for RL trainers (the HTTP reward service,
 * OpenRLHF/verl/TRL) and for rlxf's own CLI and loops. A spec is a verifier, a saved spec of the project,
 * a stored reward model, a judge, or a weighted composite of them; see ./specs.ts. Shapes: ./schema.ts.
 */
export {
  DEFAULT_REWARD_SPEC,
  MAX_REWARD_TEXT,
  OpenRlhfBody,
  OpenRlhfQuery,
  OpenRlhfResponseSchema,
  RewardBody,
  RewardResponseSchema,
  RewardSpecListSchema,
  RewardSpecQuery,
  RewardSpecRecordSchema,
  RewardSpecSchema,
  SaveRewardSpecBody,
  type RewardComponent,
  type RewardResponse,
  type RewardResult,
  type RewardSpec,
  type RewardSpecRecord,
} from "./schema.js";
export { type BuiltReward, type JudgeModelFactory, REWARD_SPEC_KIND, RewardSpecError, RewardSpecs, parseSpecRef, verifierNames } from "./specs.js";
export { ResultCache } from "./cache.js";
export { type RewardSampleToScore, type RewardScorer, RewardService, type ScoredResult, type ScoredSample } from "./service.js";
export { deleteRewardSpec, getRewardSpec, listRewardSpecs, saveRewardSpec } from "./saved.js";
export { rewardRecords, scoreBatch, scoreOpenRlhf } from "./protocols.js";
export { rewardVerifier } from "./verifier.js";
