/**
 * `verify` and `reward`: scoring a large batch of samples, in chunks shared by the workers. `verify` runs a
 * verifier (math, code in the sandbox, text checks; src/sources/verifiers); `reward` any reward spec the
 * reward service takes (a verifier, a saved spec, a reward model, a judge, a composite). Each sample is a
 * unit: its score is kept with it (`GET /v1/jobs/:id/units`) and, with `store`, its item, generation and
 * `verification` feedback are stored with the ids the reward endpoint gives them, exactly once.
 */
import { z } from "zod";
import { ValidationError } from "../../errors.js";
import { contentHash } from "../../io/index.js";
import { RewardService, rewardRecords } from "../../rewards/index.js";
import { type VerificationResult, type Verifier, createVerifier, parseVerifierSpec, verifierSpecs } from "../../sources/verifiers/index.js";
import type { UnitCommit } from "../../store/index.js";
import { ModelInputSchema } from "../models.js";
import type { JobKind, UnitsContext } from "../types.js";

const Sample = z.strictObject({
  prompt: z.string().max(1_000_000).optional(),
  completion: z.string().max(1_000_000),
  reference: z.unknown().optional(),
});
type Sample = z.infer<typeof Sample>;

const common = {
  samples: z.array(Sample).min(1).max(1_000_000),
  /** Also store each sample as an item, a generation and `verification` feedback. */
  store: z.boolean().default(false),
  /** The generations' policy when stored. */
  policy: z.string().min(1).max(200).default("rlxf-reward"),
  /** Samples scored at once per task. */
  concurrency: z.number().int().min(1).max(64).default(8),
  chunkSize: z.number().int().min(1).max(5000).optional(),
};

export const VerifyInput = z.strictObject({ verifier: z.union([z.string().min(1).max(200), z.record(z.string(), z.unknown())]), ...common });
export type VerifyInput = z.infer<typeof VerifyInput>;

export const RewardInput = z.strictObject({
  /** A reward spec: a verifier name or spec, a saved spec (`name` or `name@N`), a reward model, a judge or a composite. */
  spec: z.unknown().default("math"),
  /** The model judges in the spec ask. */
  judgeModel: ModelInputSchema.optional(),
  ...common,
});
export type RewardInput = z.infer<typeof RewardInput>;

async function mapLimit<T>(xs: readonly T[], limit: number, signal: AbortSignal, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < xs.length && !signal.aborted) {
      const i = next++;
      await fn(xs[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, xs.length) }, worker));
}

/** Score units with `score`, committing them every few dozen (and what is done when cancelled). */
async function scoreUnits(
  ctx: UnitsContext<{ store: boolean; policy: string; concurrency: number }>,
  units: readonly { unit: number; input: unknown }[],
  score: (s: Sample) => Promise<{ result: VerificationResult; verifier: Pick<Verifier, "name" | "type">; key: string; error?: string }>,
): Promise<void> {
  const input = ctx.job.input;
  let ready: UnitCommit[] = [];
  let chain = Promise.resolve();
  let failure: unknown;
  const drain = () => {
    const batch = ready;
    ready = [];
    if (batch.length) chain = chain.then(() => ctx.commit(batch).then(() => undefined)).catch((e: unknown) => void (failure ??= e));
  };
  await mapLimit(units, input.concurrency, ctx.signal, async (u) => {
    const s = Sample.parse(u.input);
    const r = await score(s);
    const outcome = JSON.stringify({ score: r.result.score, passed: r.result.passed });
    const commit: UnitCommit = { unit: u.unit, seq: ctx.seq, failed: r.error !== undefined, outcome, ...(r.error !== undefined ? { error: r.error } : {}) };
    if (input.store && r.error === undefined) {
      const rec = rewardRecords(ctx.job.project, input.policy, s, r);
      commit.recordId = rec.id;
      commit.records = rec.records;
    }
    ready.push(commit);
    if (ready.length >= 50) drain();
  });
  drain();
  await chain;
  if (failure !== undefined) throw failure;
}

function verifierOf(ref: string | Record<string, unknown>): Verifier {
  try {
    return typeof ref === "string" ? createVerifier(ref) : createVerifier(parseVerifierSpec(ref));
  } catch (e) {
    throw new ValidationError([{ path: "verifier", message: (e as Error).message }], undefined, "job input");
  }
}

export const verifyKind: JobKind<VerifyInput> = {
  name: "verify",
  description: "a verifier (math, code, text checks) over a batch of samples; scores kept per sample, optionally stored as verification feedback",
  input: VerifyInput,
  roles: ["admin", "ingest"],
  chunkSize: 100,
  check(input) {
    if (typeof input.verifier === "string" && !Object.hasOwn(verifierSpecs(), input.verifier)) {
      throw new ValidationError([{ path: "verifier", message: `no verifier "${input.verifier}"; use one of ${Object.keys(verifierSpecs()).join(", ")} or a verifier spec` }], undefined, "job input");
    }
    verifierOf(input.verifier);
  },
  split(input) {
    const { samples, ...rest } = input;
    return { input: rest, split: { phase: "units", units: samples } };
  },
  async runUnits(ctx, units) {
    const verifier = verifierOf(ctx.job.input.verifier);
    const key = contentHash({ spec: ctx.job.input.verifier });
    await scoreUnits(ctx, units, async (s) => {
      try {
        const result = await verifier.verify({ completion: s.completion, ...(s.prompt !== undefined ? { prompt: s.prompt } : {}), ...(s.reference !== undefined && s.reference !== null ? { reference: s.reference } : {}) });
        return { result, verifier, key };
      } catch (e) {
        return { result: { passed: false, score: 0, details: { error: (e as Error).message } }, verifier, key, error: (e as Error).message };
      }
    });
  },
};

export const rewardKind: JobKind<RewardInput> = {
  name: "reward",
  description: "rewards for a large batch of samples under a reward spec (verifiers, saved specs, reward models, judges, composites)",
  input: RewardInput,
  roles: ["admin", "ingest", "read"],
  chunkSize: 100,
  async check(input, env) {
    await new RewardService(env.store).specs.check(env.project, input.spec, "spec").catch((e: unknown) => {
      const issues = (e as { issues?: { path: string; message: string }[] }).issues;
      throw new ValidationError(issues?.length ? issues : [{ path: "spec", message: (e as Error).message }], undefined, "job input");
    });
  },
  split(input) {
    const { samples, ...rest } = input;
    return { input: rest, split: { phase: "units", units: samples } };
  },
  async runUnits(ctx, units) {
    const input = ctx.job.input;
    const judge = input.judgeModel;
    const service = new RewardService(ctx.store, judge ? { judgeModel: () => ctx.model(judge) } : {});
    await scoreUnits(ctx, units, async (s) => {
      const [r] = await service.score(ctx.job.project, [{ completion: s.completion, ...(s.prompt !== undefined ? { prompt: s.prompt } : {}), ...(s.reference !== undefined ? { reference: s.reference } : {}), spec: input.spec, specPath: "spec" }]);
      const error = typeof r!.result.details?.error === "string" && r!.result.score === 0 && !r!.result.passed ? (r!.result.details.error as string) : undefined;
      return { result: r!.result, verifier: r!.verifier, key: r!.key, ...(error !== undefined ? { error } : {}) };
    });
  },
};
