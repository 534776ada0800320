/**
 * `rules`: judges on live traffic. Drains a project's pending rule evaluations (src/store/rules.ts): claims a few
 * at a time within each rule's hourly ceiling, runs the rule's judge (src/sources/run.ts) or reward spec
 * (src/rewards) on the stored generation, or pair of generations, and completes each evaluation in one
 * transaction with its verdict, stored as feedback whose id comes from the rule and the targets, so that a
 * retried evaluation never stores a second verdict. Evaluations left over (a rule at its ceiling) wait for the
 * next job, which workers submit while a backlog remains.
 */
import { z } from "zod";
import type { Feedback, Generation, Item } from "../../feedback/schema.js";
import { promptText } from "../../io/index.js";
import type { Model } from "../../providers/index.js";
import { RewardService } from "../../rewards/index.js";
import { type JudgeConfig, type JudgeRecords, type RecordSink, type SinkReport, outputRow, pairRow, runOutputs, runPairwise } from "../../sources/index.js";
import { verificationFeedback } from "../../sources/verifiers/index.js";
import { type ClaimedEvaluation, type CompleteOutcome, RULE_CLAIM_LEASE_MS, type RuleRecord, ruleFeedbackId } from "../../store/index.js";
import type { JobKind, TaskContext } from "../types.js";
import { judgeOf } from "./judge.js";

export const RulesInput = z.strictObject({
  /** Evaluations claimed (and run at once) per round. */
  batch: z.number().int().min(1).max(256).default(16),
  /** Stop after this many evaluations (the next job goes on). */
  maxEvaluations: z.number().int().min(1).max(1_000_000).default(10_000),
});
export type RulesInput = z.infer<typeof RulesInput>;

/** Keeps what the runner emits for the one row it is given. */
class Capture implements RecordSink {
  records: Partial<JudgeRecords> = {};
  readonly error: unknown = undefined;
  add(r: Partial<JudgeRecords>): void {
    this.records = r;
  }
  async flush(): Promise<SinkReport> {
    return { feedback: { inserted: 0, existing: 0 }, failures: { inserted: 0, existing: 0 } };
  }
}

const ruleMeta = (rule: RuleRecord) => ({ rule: rule.id, ruleName: rule.name });

async function judgeEvaluation(ctx: TaskContext<RulesInput>, rule: RuleRecord, judge: JudgeConfig, model: Model, item: Item, gens: Generation[]): Promise<CompleteOutcome> {
  const instruction = promptText(item.prompt);
  const reference = item.reference;
  const capture = new Capture();
  let row: Record<string, unknown> = {};
  const run = { model, sink: capture, project: ctx.job.project, concurrency: 1, onResult: (r: Record<string, unknown>) => void (row = r) };
  if (judge.kind === "pairwise") {
    const [a, b] = gens as [Generation, Generation];
    const input = pairRow({ instruction, output_1: a.output, output_2: b.output, generator_1: a.policy, generator_2: b.policy, ...(reference !== undefined ? { reference } : {}) }, "evaluation");
    await runPairwise([input], judge, run);
  } else {
    if (judge.kind === "reference" && reference === undefined) return { error: `item "${item.id}" has no reference, which judge "${judge.name}" needs` };
    const g = gens[0]!;
    const input = outputRow({ instruction, output: g.output, generator: g.policy, ...(reference !== undefined ? { reference } : {}) }, "evaluation", { needsReference: judge.kind === "reference" });
    await runOutputs([input], judge, run);
  }
  const fb = capture.records.feedback?.[0] as (Feedback & Record<string, unknown>) | undefined;
  if (!fb) {
    const reason = String(row.failure_reason ?? "invalid");
    return { error: `${reason}: ${String(row.error ?? "the judge gave no verdict")}`, retry: reason === "provider_error" };
  }
  const targets = gens.map((g) => g.id);
  const { id: _drop, ...body } = fb;
  void _drop;
  return {
    feedback: {
      ...body,
      id: ruleFeedbackId(rule.id, targets),
      project: ctx.job.project,
      itemId: item.id,
      targets,
      metadata: { ...((fb.metadata as Record<string, unknown> | undefined) ?? {}), ...ruleMeta(rule) },
    } as Feedback,
  };
}

async function verifyEvaluation(ctx: TaskContext<RulesInput>, rule: RuleRecord, service: RewardService, item: Item, g: Generation): Promise<CompleteOutcome> {
  const [r] = await service.score(ctx.job.project, [
    { completion: g.output, prompt: promptText(item.prompt), ...(item.reference !== undefined ? { reference: item.reference } : {}), spec: rule.verifier, specPath: "verifier" },
  ]);
  const error = typeof r!.result.details?.error === "string" && r!.result.score === 0 && !r!.result.passed ? (r!.result.details.error as string) : undefined;
  if (error !== undefined) return { error, retry: true };
  return {
    feedback: verificationFeedback({
      id: ruleFeedbackId(rule.id, [g.id]),
      target: g.id,
      verifier: r!.verifier,
      result: r!.result,
      project: ctx.job.project,
      itemId: item.id,
      metadata: { ...ruleMeta(rule), rewardSpec: r!.key },
    }),
  };
}

async function runWhole(ctx: TaskContext<RulesInput>): Promise<unknown> {
  const { store, job } = ctx;
  const input = job.input;
  const models = new Map<string, Model>();
  const services = new Map<string, RewardService>();
  const modelOf = (rule: RuleRecord) => {
    let m = models.get(rule.id);
    if (!m) models.set(rule.id, (m = ctx.model((rule.model ?? {}) as never)));
    return m;
  };
  const tally = { evaluated: 0, failed: 0, retried: 0, existing: 0, gone: 0 };
  let n = 0;
  const worker = `job:${job.id}`;
  // One attempt of a task runs at a time: claims this job still holds are an earlier attempt's, which died.
  const released = await store.rules.release(worker);
  if (released) ctx.log(`${released} evaluation(s) an earlier attempt had claimed are run again`);
  try {
    while (n < input.maxEvaluations && !ctx.signal.aborted) {
      const claimed = await store.rules.claim({ project: job.project, worker, n: Math.min(input.batch, input.maxEvaluations - n), leaseMs: RULE_CLAIM_LEASE_MS });
      if (claimed.length === 0) break;
      const rules = new Map<string, RuleRecord | undefined>();
      for (const id of new Set(claimed.map((c) => c.ruleId))) rules.set(id, await store.rules.get(job.project, id));
      await Promise.all(
        claimed.map(async (ev: ClaimedEvaluation) => {
          const rule = rules.get(ev.ruleId);
          let outcome: CompleteOutcome;
          try {
            if (!rule) return;
            const [item, ...gens] = await Promise.all([store.getItem(job.project, ev.itemId), ...ev.generationIds.map((id) => store.getGeneration(job.project, id))]);
            if (!item || gens.some((g) => g === undefined)) outcome = { error: "the item or a generation of this evaluation is no longer stored" };
            else if (rule.judge !== undefined) outcome = await judgeEvaluation(ctx, rule, judgeOf(rule.judge), modelOf(rule), item, gens as Generation[]);
            else {
              let service = services.get(rule.id);
              if (!service) services.set(rule.id, (service = new RewardService(store, { judgeModel: () => modelOf(rule) })));
              outcome = await verifyEvaluation(ctx, rule, service, item, gens[0]!);
            }
          } catch (e) {
            outcome = { error: (e as Error).message, retry: true };
          }
          const r = await store.rules.complete(ev, outcome);
          if (r === "stored") tally.evaluated++;
          else if (r === "failed") tally.failed++;
          else if (r === "retry") tally.retried++;
          else if (r === "existing") tally.existing++;
          else tally.gone++;
        }),
      );
      n += claimed.length;
      ctx.progress(n, null, `${tally.evaluated} evaluated, ${tally.failed} failed`);
    }
  } finally {
    await Promise.all([...models.values()].map((m) => m.close().catch(() => {})));
  }
  return tally;
}

export const rulesKind: JobKind<RulesInput> = {
  name: "rules",
  description: "judges on live traffic: run the pending evaluations of the project's rules (new generations matching a rule's filter)",
  input: RulesInput,
  roles: ["admin"],
  maxAttempts: 3,
  split(input) {
    return { input, split: { phase: "whole" } };
  },
  runWhole,
};
