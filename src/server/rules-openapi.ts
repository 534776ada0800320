/** The OpenAPI entries of rules on live traffic (rules.ts), generated from the schemas that validate their requests. */
import type { z } from "zod";
import { CreateRuleBody, PatchRuleBody, RuleListSchema, RuleResponseSchema } from "../api/index.js";
import type { Op } from "./openapi.js";

export function ruleSchemas(): { inputs: Record<string, z.ZodType>; outputs: Record<string, z.ZodType> } {
  return {
    inputs: { CreateRuleBody, PatchRuleBody },
    outputs: { RuleResponse: RuleResponseSchema, RuleList: RuleListSchema },
  };
}

export function ruleOperations(): Op[] {
  return [
    {
      method: "post",
      path: "/v1/rules",
      summary: "Create a rule: a judge or a verifier on every new generation (or new pair) that matches its filter",
      description:
        "From then on, every generation written (POST /v1/generations, batches, imports, stored rewards) that matches the filter and falls in the sample (decided from its id) " +
        "gets a pending evaluation in the same transaction; workers run it and store the verdict as feedback (source: the judge or verifier; metadata.rule: the rule id), once. " +
        "maxPerHour is held under the server's ceiling ruleMaxPerHour; a project holds at most rulesPerProject rules. " +
        "Give an id to make retries safe: the same id with the same definition again answers that rule (200) rather than making another; with another definition it is a 409.",
      action: "rules.create",
      body: "CreateRuleBody",
      ok: { status: 201, also: 200, description: "the rule (201: made now; 200: a rule of that id and definition was there)", schema: "RuleResponse" },
      errors: [400, 401, 403, 409, 413, 415],
    },
    { method: "get", path: "/v1/rules", summary: "The project's rules with their counts (matched, evaluated, failed, pending)", action: "rules.read", ok: { status: 200, description: "every rule", schema: "RuleList" }, errors: [401, 403] },
    { method: "get", path: "/v1/rules/{id}", summary: "A rule with its counts", action: "rules.read", pathId: "id", ok: { status: 200, description: "the rule", schema: "RuleResponse" }, errors: [400, 401, 403, 404] },
    {
      method: "patch",
      path: "/v1/rules/{id}",
      summary: "Change a rule: enable or disable it, its filter, sampling, ceiling, judge or verifier",
      description: "Fields given replace the rule's. A disabled rule marks no new generations and runs none of its pending evaluations (they stay as backlog until it is enabled again).",
      action: "rules.update",
      pathId: "id",
      body: "PatchRuleBody",
      ok: { status: 200, description: "the rule", schema: "RuleResponse" },
      errors: [400, 401, 403, 404, 413, 415],
    },
    { method: "delete", path: "/v1/rules/{id}", summary: "Delete a rule and its pending evaluations (the verdicts it stored stay)", action: "rules.delete", pathId: "id", ok: { status: 200, description: "which rule was deleted" }, errors: [400, 401, 403, 404] },
  ];
}
