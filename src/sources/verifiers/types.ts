/**
 * The one shape every verifier has, so that a reward service (or anything else) can call any
 * of them the same way and store the result as `verification` feedback unchanged.
 */
import type { Feedback, FeedbackValue, Source } from "../../feedback/index.js";
import { parseFeedback } from "../../feedback/index.js";

/** What a verifier looks at. Which fields it needs depends on the verifier. */
export interface VerifyInput {
  /** The prompt the completion answers (code verifiers may prepend it: HumanEval). */
  prompt?: string;
  /** The model's output to check. */
  completion: string;
  /**
   * What the completion is checked against: a gold answer (math, exact match), or for code
   * verifiers `{ tests, entryPoint?, language? }`. Overrides what the verifier was built with.
   */
  reference?: unknown;
  /** Cancels the check (a sandboxed run is killed). */
  signal?: AbortSignal;
}

/** Details of a result; maps onto the `details` of a `verification` feedback value. */
export interface VerificationDetails {
  testsRun?: number;
  testsFailed?: number;
  error?: string;
  [key: string]: unknown;
}

/** The verdict: `passed`, a score in [0, 1], and details. Is a valid `verification` value. */
export interface VerificationResult {
  passed: boolean;
  score: number;
  details: VerificationDetails;
}

export interface Verifier {
  /** The verifier's name: the `source.id` of feedback it gives. */
  readonly name: string;
  /** Its type, e.g. `math`, `code`, `regex`, `composite`. */
  readonly type: string;
  verify(input: VerifyInput): Promise<VerificationResult>;
}

/** The `verification` feedback value of a result (drops details that are not JSON). */
export function toVerificationValue(r: VerificationResult): FeedbackValue<"verification"> {
  const details = JSON.parse(JSON.stringify(r.details ?? {})) as VerificationDetails;
  return { passed: r.passed, score: r.score, details };
}

/** A validated `verification` feedback record for one generation, with the verifier as source. */
export function verificationFeedback(args: {
  id: string;
  target: string;
  verifier: Pick<Verifier, "name" | "type">;
  result: VerificationResult;
  project?: string;
  itemId?: string;
  metadata?: Record<string, unknown>;
  createdAt?: string;
}): Feedback {
  const source: Source = { type: "verifier", id: args.verifier.name, metadata: { verifierType: args.verifier.type } };
  return parseFeedback({
    id: args.id,
    kind: "verification",
    targets: [args.target],
    source,
    value: toVerificationValue(args.result),
    ...(args.project !== undefined ? { project: args.project } : {}),
    ...(args.itemId !== undefined ? { itemId: args.itemId } : {}),
    ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
    ...(args.createdAt !== undefined ? { createdAt: args.createdAt } : {}),
  });
}
