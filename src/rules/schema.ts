/**
 * Rules on live traffic, as the API takes and shows them (src/api re-exports these for the server, the client and
 * the web app). A rule runs a judge or a verifier on every new generation that matches its filter (or every new
 * pair of one item's generations, for a pairwise judge), on a deterministic sample, at most so many times an hour.
 */
import { z } from "zod";

const name = z.string().min(1).max(200);
const metaValue = z.union([z.string().max(500), z.number(), z.boolean()]).transform(String);

export const RuleFilterSchema = z
  .strictObject({
    dataset: name.optional().describe("only generations of items in this dataset"),
    policy: name.optional().describe("only generations of this policy"),
    metadata: z.record(z.string().min(1).max(200), metaValue).refine((m) => Object.keys(m).length <= 20, "at most 20 keys").optional().describe("keys of the generation's metadata and the values they must have (compared as text)"),
  })
  .describe("which new generations the rule evaluates (all that are given must match)");

/** Model settings for a judge: the endpoint and model name; the worker brings the credentials. */
export const RuleModelSchema = z
  .strictObject({
    provider: z.enum(["openai", "anthropic"]).optional(),
    baseUrl: z.string().url().max(2000).optional(),
    model: z.string().min(1).max(200).optional(),
    concurrency: z.number().int().min(1).max(256).optional(),
    rpm: z.number().positive().max(1e7).optional(),
    tpm: z.number().positive().max(1e10).optional(),
    timeoutMs: z.number().int().min(100).max(3_600_000).optional(),
    maxRetries: z.number().int().min(0).max(20).optional(),
    cache: z.boolean().optional(),
  })
  .describe("the model the judge (or a judge inside the reward spec) asks; the worker's credentials are used");

const fields = {
  name: name.describe("a name people read"),
  description: z.string().max(2000).optional(),
  judge: z.union([name, z.record(z.string(), z.unknown())]).optional().describe("a shipped judge name (pairwise, critique, rubric, reference...) or a judge config object"),
  verifier: z.string().min(1).max(300).optional().describe("a reward spec by name: a saved spec (`name` or `name@N`) or a verifier (math, code...)"),
  model: RuleModelSchema.optional(),
  filter: RuleFilterSchema.optional(),
  sampleRate: z.number().min(0).max(1).optional().describe("share of matching generations evaluated, 0..1 (default 1), decided from each generation's id: the same generation is always in or out"),
  maxPerHour: z.number().int().min(1).optional().describe("evaluations per rolling hour at most (default and ceiling: the server's); the rest wait as backlog"),
  enabled: z.boolean().optional().describe("default true; a disabled rule marks nothing new and runs nothing"),
};

export const CreateRuleBody = z
  .strictObject({
    id: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("the rule's id (default: a new random one); a create retried with the same id and definition answers the rule it made (200) instead of making another, with another definition a 409"),
    ...fields,
  })
  .refine((b) => (b.judge === undefined) !== (b.verifier === undefined), { message: "give either a judge or a verifier", path: ["judge"] });
export const PatchRuleBody = z
  .strictObject({ ...fields, name: fields.name.optional() })
  .refine((b) => b.judge === undefined || b.verifier === undefined, { message: "give a judge or a verifier, not both", path: ["judge"] })
  .refine((b) => Object.keys(b).length > 0, { message: "give at least one field to change", path: [] });

export const RuleCountsSchema = z.object({
  matched: z.number().int().describe("evaluations the filter and sampling made (one per generation, or per pair)"),
  evaluated: z.number().int().describe("evaluations that stored a verdict"),
  failed: z.number().int().describe("evaluations that failed for good"),
  pending: z.number().int().describe("evaluations waiting or running: the backlog"),
  lastHour: z.number().int().describe("evaluations finished in the last hour (what maxPerHour counts)"),
});

export const RuleSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  enabled: z.boolean(),
  pairwise: z.boolean().describe("the rule judges new pairs of one item's generations (of two policies)"),
  judge: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  verifier: z.string().optional(),
  model: z.record(z.string(), z.unknown()).optional(),
  filter: z.object({ dataset: z.string().optional(), policy: z.string().optional(), metadata: z.record(z.string(), z.string()).optional() }),
  sampleRate: z.number(),
  maxPerHour: z.number().int(),
  counts: RuleCountsSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const RuleResponseSchema = z.object({ rule: RuleSchema });
export const RuleListSchema = z.object({ rules: z.array(RuleSchema) });

export type CreateRuleBody = z.input<typeof CreateRuleBody>;
export type PatchRuleBody = z.input<typeof PatchRuleBody>;
export type Rule = z.infer<typeof RuleSchema>;
export type RuleCountsView = z.infer<typeof RuleCountsSchema>;
export type RuleList = z.infer<typeof RuleListSchema>;
