/** Several verifiers as one: a weighted mean of their scores, with required members as gates. */
import { RlxfError } from "../../errors.js";
import type { VerificationResult, Verifier, VerifyInput } from "./types.js";

export interface CompositeMember {
  verifier: Verifier;
  /** Weight of the member's score (default 1). */
  weight?: number;
  /** A gate: when this member fails, the composite fails with score 0. */
  required?: boolean;
}

export interface CompositeOptions {
  name?: string;
  members: CompositeMember[];
  /**
   * Passed when the weighted score reaches this (and every required member passed).
   * Default: passed when every member passed.
   */
  threshold?: number;
  /**
   * Each member gets `reference[member name]` instead of the whole reference, so one input can
   * carry a gold answer for `math` and a schema for `json-schema`. Default false.
   */
  keyedReferences?: boolean;
}

export function compositeVerifier(opts: CompositeOptions): Verifier {
  const name = opts.name ?? "composite";
  if (opts.members.length === 0) throw new RlxfError("invalid_config", `verifier "${name}": a composite needs members`);
  for (const m of opts.members) {
    if (m.weight !== undefined && !(Number.isFinite(m.weight) && m.weight >= 0)) throw new RlxfError("invalid_config", `verifier "${name}": weight of "${m.verifier.name}" must be a non-negative number`);
  }
  const total = opts.members.reduce((a, m) => a + (m.weight ?? 1), 0);
  if (!(total > 0)) throw new RlxfError("invalid_config", `verifier "${name}": the weights sum to 0`);
  return {
    name,
    type: "composite",
    async verify(input: VerifyInput): Promise<VerificationResult> {
      const results = await Promise.all(
        opts.members.map(async (m) => {
          const sub: VerifyInput = { ...input };
          if (opts.keyedReferences) {
            const ref = input.reference as Record<string, unknown> | undefined;
            if (ref && typeof ref === "object" && m.verifier.name in ref) sub.reference = ref[m.verifier.name];
            else delete sub.reference;
          }
          try {
            return await m.verifier.verify(sub);
          } catch (e) {
            return { passed: false, score: 0, details: { error: `${(e as Error).message}` } } satisfies VerificationResult;
          }
        }),
      );
      const score = opts.members.reduce((a, m, i) => a + (m.weight ?? 1) * results[i]!.score, 0) / total;
      const requiredOk = opts.members.every((m, i) => !m.required || results[i]!.passed);
      const passed = requiredOk && (opts.threshold === undefined ? results.every((r) => r.passed) : score >= opts.threshold - 1e-12);
      const failed = opts.members.map((m, i) => ({ m, r: results[i]! })).filter(({ r }) => !r.passed);
      const details: VerificationResult["details"] = {
        members: opts.members.map((m, i) => ({
          name: m.verifier.name,
          type: m.verifier.type,
          weight: m.weight ?? 1,
          ...(m.required ? { required: true } : {}),
          passed: results[i]!.passed,
          score: results[i]!.score,
          details: results[i]!.details,
        })),
        testsRun: opts.members.length,
        testsFailed: failed.length,
      };
      if (failed.length) details.error = failed.map(({ m, r }) => `${m.verifier.name}: ${r.details.error ?? "failed"}`).join("; ");
      return { passed, score: requiredOk ? score : 0, details };
    },
  };
}
