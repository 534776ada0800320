/**
 * Shapes of the reward service: a reward spec as a request names it, a batch of samples to score, the
 * results, saved specs, and OpenRLHF's remote reward-model protocol. The only declaration of these shapes
 * (the API document is generated from them; the client takes their types); imports nothing that needs Node.
 */
import { z } from "zod";
import { Name } from "../feedback/schema.js";

/** The spec of samples (and requests) that name none. */
export const DEFAULT_REWARD_SPEC = "math";

/**
 * A reward spec: a shipped verifier name (math, exact, normalized, json, python, javascript,
 * humaneval), a verifier spec (`{"type": "regex", ...}`), a stored reward model
 * (`{"type": "reward-model", "model": "name@3"}`), or `{"type": "composite", "members":
 * [{"verifier": <reward spec>, "weight": 2}, ...]}` mixing them with weights. Checked in the handler.
 */
export const RewardSpecSchema = z
  .union([z.string().min(1).max(200), z.record(z.string(), z.unknown())])
  .describe(
    'a shipped verifier name (math, exact, normalized, json, python, javascript, humaneval; critic rewards critic-verdict, critic-refine, critic-dual; choice), a saved spec of the project ("name" or "name@N"), a verifier spec object, {"type": "reward-model", "model": "name@N"}, {"type": "judge", "judge": "reference"|"rubric"|"critique"|"steps"|"pairwise"|<judge config>, "model"?, "criteria"?, "threshold"?}, or {"type": "composite", "members": [{"verifier": <spec>, "weight": 1, "required": false}]} mixing them',
  );

export const SaveRewardSpecBody = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "use letters, digits, '.', '_' or '-' (no '@': name@N pins a version)")
    .max(100)
    .describe("the spec's name; saving it again makes the next version"),
  spec: RewardSpecSchema,
  description: z.string().max(2000).optional(),
});
export const RewardSpecRecordSchema = z.object({
  name: z.string(),
  version: z.number().int().describe("1, 2, ...: `name@N` pins one"),
  spec: z.unknown(),
  description: z.string().optional(),
  createdAt: z.string(),
  versions: z.array(z.number().int()).describe("every stored version, newest first (GET of one spec)").optional(),
});
export const RewardSpecListSchema = z.object({ specs: z.array(RewardSpecRecordSchema).describe("the latest version of each saved spec, by name") });
export const RewardSpecQuery = z.strictObject({ version: z.coerce.number().int().positive().describe("a stored version (default: the latest)").optional() });
export const MAX_REWARD_TEXT = 1_000_000;

export const RewardSample = z.strictObject({
  prompt: z.string().max(MAX_REWARD_TEXT).describe("the prompt (optional for most verifiers)").optional(),
  completion: z.string().max(MAX_REWARD_TEXT).describe("the model's output to score"),
  reference: z.unknown().describe("ground truth / label: a gold answer, or for code verifiers {tests, entryPoint?}").optional(),
  spec: RewardSpecSchema.optional().describe("this sample's reward spec (default: the request's `spec`)"),
});

export const RewardBody = (max: number) =>
  z.strictObject({
    samples: z.array(RewardSample).min(1, "send at least one sample").max(max, `at most ${max} samples per request; split it`),
    spec: RewardSpecSchema.optional().describe('the reward spec of samples that name none (default "math")'),
    store: z
      .boolean()
      .describe(
        "also store each sample as an item, a generation (policy `policy`) and a `verification` feedback record, with content-hash ids (idempotent); needs an admin or ingest key. Default false",
      )
      .optional(),
    policy: Name.describe('policy of stored generations (default "rlxf-reward")').optional(),
  });

export const RewardComponentSchema = z.object({
  name: z.string(),
  type: z.string(),
  weight: z.number(),
  passed: z.boolean(),
  score: z.number(),
});
export const RewardResultSchema = z.object({
  score: z.number().describe("the reward, in [0, 1] (reward models: sigmoid of the model's calibrated reward)"),
  passed: z.boolean(),
  components: z.array(RewardComponentSchema).describe("each member of the spec (one for a plain spec)"),
  details: z.record(z.string(), z.unknown()).describe("the verifier's details (reward models: the raw scalar `reward`)"),
  cached: z.boolean().describe("served from the in-process cache"),
  feedbackId: z.string().describe("with store: true, the stored verification feedback").optional(),
});
export const RewardResponseSchema = z.object({ results: z.array(RewardResultSchema).describe("one per sample, in request order") });

export const OpenRlhfQuery = z.strictObject({
  spec: z.string().min(1).max(200).describe('reward spec name (default "math")').optional(),
  key: z.string().min(1).max(512).describe("the API key, for callers that send no Authorization header (OpenRLHF's remote reward client)").optional(),
});
export const OpenRlhfBody = (max: number) =>
  z
    .object({
      query: z.array(z.string().max(MAX_REWARD_TEXT)).min(1).max(max).describe("prompt + response, as OpenRLHF sends them"),
      prompts: z.array(z.string().max(MAX_REWARD_TEXT)).describe("the prompts; a query starting with its prompt is scored on the rest").optional(),
      labels: z.array(z.unknown()).describe("ground truths, one per query").optional(),
      spec: RewardSpecSchema.optional(),
    })
    .describe("OpenRLHF's remote reward model request (other fields are ignored)");
export const OpenRlhfResponseSchema = z.object({
  rewards: z.array(z.number()),
  scores: z.array(z.number()),
  extra_logs: z.record(z.string(), z.array(z.number())).describe("per-component scores and `passed` (0/1), one per query"),
});

export type RewardSpec = z.infer<typeof RewardSpecSchema>;
export type RewardSampleInput = z.infer<typeof RewardSample>;
export type RewardBody = z.infer<ReturnType<typeof RewardBody>>;
export type RewardComponent = z.infer<typeof RewardComponentSchema>;
export type RewardResult = z.infer<typeof RewardResultSchema>;
export type RewardResponse = z.infer<typeof RewardResponseSchema>;
export type RewardSpecRecord = z.infer<typeof RewardSpecRecordSchema>;
export type SaveRewardSpecBody = z.infer<typeof SaveRewardSpecBody>;
export type OpenRlhfBody = z.infer<ReturnType<typeof OpenRlhfBody>>;
export type OpenRlhfResponse = z.infer<typeof OpenRlhfResponseSchema>;
