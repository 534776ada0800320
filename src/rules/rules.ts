/**
 * Making and changing rules: what runs is checked before anything is stored (a judge resolves, a reward spec
 * exists), whether the rule judges pairs follows from its judge, and its hourly ceiling is held under the
 * operator's.
 */
import type { z } from "zod";
import { ValidationError } from "../errors.js";
import { RewardService } from "../rewards/index.js";
import { type JudgeConfig, defaultJudges, resolveJudge } from "../sources/index.js";
import type { RuleCounts, RuleInput, RulePatch, RuleRecord, Store } from "../store/index.js";
import type { CreateRuleBody, PatchRuleBody, Rule } from "./schema.js";

/** Evaluations per hour of a rule that names none, and the most any may ask for, unless the operator says otherwise. */
export const DEFAULT_RULE_MAX_PER_HOUR = 1000;
export const RULE_MAX_PER_HOUR_CEILING = 10_000;

export interface RuleCeilings {
  /** The most evaluations per hour a rule may ask for. */
  maxPerHour?: number;
  /** The most rules one project may hold (a create past it throws the store's RuleCeilingError). */
  perProject?: number;
}

/** A shipped judge by name, or a judge config object (never a file: rules come over the API). */
function judgeOf(ref: string | Record<string, unknown>): JudgeConfig {
  if (typeof ref === "string") {
    const found = defaultJudges().find((j) => j.name === ref);
    if (!found) throw new ValidationError([{ path: "judge", message: `no shipped judge "${ref}"; use one of ${defaultJudges().map((j) => j.name).join(", ")} or a judge config object` }], undefined, "rule");
    return found;
  }
  try {
    return resolveJudge(ref as never);
  } catch (e) {
    throw new ValidationError([{ path: "judge", message: (e as Error).message }], undefined, "rule");
  }
}

/** Whether the judge compares pairs; throws a ValidationError (path `judge`) for one that cannot run on a rule. */
function judgeKind(ref: string | Record<string, unknown>): { pairwise: boolean } {
  const judge = judgeOf(ref);
  if (judge.kind === "checklist") throw new ValidationError([{ path: "judge", message: "a checklist config writes checklists; use it as the checklist of a rubric judge" }], undefined, "rule");
  return { pairwise: judge.kind === "pairwise" };
}

async function checkVerifier(store: Store, project: string, spec: string): Promise<void> {
  await new RewardService(store).specs.check(project, spec, "verifier").catch((e: unknown) => {
    const issues = (e as { issues?: { path: string; message: string }[] }).issues;
    throw new ValidationError(issues?.length ? issues : [{ path: "verifier", message: (e as Error).message }], undefined, "rule");
  });
}

function ceilingOf(c: RuleCeilings): number {
  return c.maxPerHour ?? RULE_MAX_PER_HOUR_CEILING;
}

function checkMax(n: number | undefined, c: RuleCeilings): void {
  const max = ceilingOf(c);
  if (n !== undefined && n > max) throw new ValidationError([{ path: "maxPerHour", message: `must be at most ${max} (the server's ceiling ruleMaxPerHour)` }], undefined, "rule");
}

/**
 * Create a rule from an API body (already parsed by `CreateRuleBody`). A body with the id of a rule that exists
 * answers that rule (`created: false`) when the definitions are the same, and is a ConflictError otherwise.
 */
export async function createRule(store: Store, project: string, body: z.output<typeof CreateRuleBody>, ceilings: RuleCeilings = {}): Promise<RuleRecord & { created: boolean }> {
  checkMax(body.maxPerHour, ceilings);
  const pairwise = body.judge !== undefined ? judgeKind(body.judge).pairwise : false;
  if (body.verifier !== undefined) await checkVerifier(store, project, body.verifier);
  const input: RuleInput = {
    project,
    ...(body.id !== undefined ? { id: body.id } : {}),
    name: body.name,
    pairwise,
    maxPerHour: body.maxPerHour ?? Math.min(DEFAULT_RULE_MAX_PER_HOUR, ceilingOf(ceilings)),
    ...(body.description !== undefined ? { description: body.description } : {}),
    ...(body.judge !== undefined ? { judge: body.judge } : {}),
    ...(body.verifier !== undefined ? { verifier: body.verifier } : {}),
    ...(body.model !== undefined ? { model: body.model } : {}),
    ...(body.filter !== undefined ? { filter: body.filter } : {}),
    ...(body.sampleRate !== undefined ? { sampleRate: body.sampleRate } : {}),
    ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
  };
  return store.rules.create(input, ceilings.perProject !== undefined ? { maxPerProject: ceilings.perProject } : {});
}

/** Change a rule (fields given replace the rule's); undefined when there is none. */
export async function updateRule(store: Store, project: string, id: string, body: z.output<typeof PatchRuleBody>, ceilings: RuleCeilings = {}): Promise<RuleRecord | undefined> {
  checkMax(body.maxPerHour, ceilings);
  const patch: RulePatch = { ...body };
  if (body.judge !== undefined) patch.pairwise = judgeKind(body.judge).pairwise;
  if (body.verifier !== undefined) {
    await checkVerifier(store, project, body.verifier);
    patch.pairwise = false;
  }
  return store.rules.update(project, id, patch);
}

const NO_COUNTS: RuleCounts = { matched: 0, evaluated: 0, failed: 0, pending: 0, lastHour: 0 };

/** A rule as the API shows it, with its counts. */
export function ruleView(r: RuleRecord, counts: RuleCounts | undefined): Rule {
  return {
    id: r.id,
    name: r.name,
    ...(r.description !== undefined ? { description: r.description } : {}),
    enabled: r.enabled,
    pairwise: r.pairwise,
    ...(r.judge !== undefined ? { judge: r.judge } : {}),
    ...(r.verifier !== undefined ? { verifier: r.verifier } : {}),
    ...(r.model !== undefined ? { model: r.model } : {}),
    filter: r.filter,
    sampleRate: r.sampleRate,
    maxPerHour: r.maxPerHour,
    counts: { ...(counts ?? NO_COUNTS) },
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
