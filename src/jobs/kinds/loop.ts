/**
 * `loop`: a test-time loop (refine, retry, reflexion, best-of-n, multi-turn; src/loops) over tasks sent with
 * the job, stored as a loop run like `rlxf loop` stores it. Progress is tasks finished; a cancelled job stops
 * after the tasks in progress (the run is kept, marked failed, with what it did).
 */
import { z } from "zod";
import { ValidationError } from "../../errors.js";
import {
  type FeedbackSource,
  type LoopContext,
  type LoopReport,
  bestOfNLoop,
  feedbackFromSpec,
  multiTurnLoop,
  refineLoop,
  reflexionLoop,
  retryLoop,
  taskFrom,
  verifierFromSpec,
} from "../../loops/index.js";
import type { Model } from "../../providers/index.js";
import { ModelInputSchema } from "../models.js";
import type { JobKind } from "../types.js";

export const LOOPS = ["refine", "retry", "reflexion", "best-of-n", "multi-turn"] as const;

export const LoopInput = z.strictObject({
  loop: z.enum(LOOPS),
  tasks: z.array(z.unknown()).min(1).max(100_000),
  /** The policy's endpoint and model. */
  model: ModelInputSchema.default({}),
  /** A verifier, a shipped judge, rm:NAME[@V], human[:SECONDS] or user (see `rlxf loop --help`). */
  feedback: z.string().min(1).max(10_000),
  /** Model of judges and simulated users (default: the policy's settings). */
  feedbackModel: ModelInputSchema.optional(),
  check: z.string().min(1).max(10_000).optional(),
  rounds: z.number().int().min(1).max(100).default(3),
  taskTokens: z.number().int().positive().optional(),
  totalTokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(5).optional(),
  system: z.string().max(100_000).optional(),
  parallel: z.number().int().min(1).max(256).default(4),
  runId: z.string().min(1).max(200).optional(),
  // loop-specific
  lastOnly: z.boolean().optional(),
  temperatureStep: z.number().min(0).optional(),
  rejectPrevious: z.boolean().optional(),
  maxResamples: z.number().int().min(0).max(100).default(3),
  memorySize: z.number().int().min(1).max(100).default(3),
  aggregate: z.enum(["mean", "penalized"]).default("mean"),
  penalty: z.number().min(0).default(1),
  untilPass: z.boolean().optional(),
});
export type LoopInput = z.infer<typeof LoopInput>;

export const loopKind: JobKind<LoopInput> = {
  name: "loop",
  description: "a test-time loop over tasks, stored as a loop run (accuracy per turn, friction, stop reasons)",
  input: LoopInput,
  roles: ["admin"],
  maxAttempts: 1,
  check(input, env) {
    input.tasks.forEach((t, i) => taskFrom(t, `tasks.${i}`, i));
    if (env.origin === "api" && /[/\\]|\.json$/i.test(input.feedback) && !input.feedback.trim().startsWith("{")) {
      throw new ValidationError([{ path: "feedback", message: "over the API a judge is a shipped name, not a file on the workers' disk" }], undefined, "job input");
    }
    if (input.check !== undefined && !verifierFromSpec(input.check)) throw new ValidationError([{ path: "check", message: "not a verifier name or spec (e.g. math, exact, normalized)" }], undefined, "job input");
  },
  split: (input) => ({ input, split: { phase: "whole" } }),
  async runWhole(ctx) {
    const o = ctx.job.input;
    const tasks = o.tasks.map((t, i) => taskFrom(t, `tasks.${i}`, i));
    const check = o.check ? verifierFromSpec(o.check) : undefined;
    const models: Model[] = [];
    const policy = ctx.model(o.model);
    models.push(policy);
    try {
      const feedback: FeedbackSource = await feedbackFromSpec(o.feedback, {
        store: ctx.store,
        project: ctx.job.project,
        model: () => {
          const m = ctx.model(o.feedbackModel ?? o.model);
          models.push(m);
          return m;
        },
        ...(check ? { check } : {}),
      });
      const loop: LoopContext = {
        store: ctx.store,
        project: ctx.job.project,
        ...(o.runId ? { runId: o.runId } : {}),
        policy: { model: policy, ...(o.temperature !== undefined ? { temperature: o.temperature } : {}), ...(o.system ? { system: o.system } : {}) },
        feedback,
        ...(check ? { check } : {}),
        budget: { rounds: o.rounds, ...(o.taskTokens !== undefined ? { tokensPerTask: o.taskTokens } : {}), ...(o.totalTokens !== undefined ? { totalTokens: o.totalTokens } : {}) },
        concurrency: o.parallel,
        config: { job: ctx.job.id },
        onTaskDone: (done, total) => {
          ctx.progress(done, total);
          if (ctx.signal.aborted) throw ctx.signal.reason;
        },
      };
      ctx.progress(0, tasks.length);
      let report: LoopReport;
      switch (o.loop) {
        case "refine":
          report = await refineLoop(tasks, loop, { keepHistory: !o.lastOnly });
          break;
        case "retry":
          report = await retryLoop(tasks, loop, { ...(o.temperatureStep !== undefined ? { temperatureStep: o.temperatureStep } : {}), rejectPrevious: !!o.rejectPrevious, maxResamples: o.maxResamples });
          break;
        case "reflexion":
          report = await reflexionLoop(tasks, loop, { memorySize: o.memorySize });
          break;
        case "best-of-n":
          report = await bestOfNLoop(tasks, loop, { aggregate: o.aggregate, penalty: o.penalty, untilPass: !!o.untilPass, ...(o.temperature !== undefined ? { temperature: o.temperature } : {}) });
          break;
        case "multi-turn":
          report = await multiTurnLoop(tasks, loop);
          break;
      }
      return { runId: report.runId, loop: report.loop, summary: report.summary, tasks: report.tasks.length };
    } finally {
      for (const m of models) await m.close();
    }
  },
};
