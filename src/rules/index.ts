/**
 * The rules room (`rlxf/rules`): judges on live traffic, as Langfuse's online evaluators run them. A rule names
 * a judge or a reward spec and a filter over new generations; the write that stores a matching generation also
 * stores its pending evaluation (src/store/rules.ts), and `rules` jobs (src/jobs/kinds/rules.ts) run them into
 * feedback, one verdict per generation (or pair) and rule.
 *
 *     const rule = await createRule(store, "demo", { name: "critique prod", judge: "critique", filter: { policy: "prod" }, sampleRate: 0.1 });
 *     await store.write({ generations });   // matching ones get a pending evaluation
 *     await jobs.kickRules("demo");          // or let the workers' sweep find them
 */
export * from "./schema.js";
export { DEFAULT_RULE_MAX_PER_HOUR, RULE_MAX_PER_HOUR_CEILING, type RuleCeilings, createRule, ruleView, updateRule } from "./rules.js";
export { ruleFeedbackId, sampledIn } from "../store/index.js";
