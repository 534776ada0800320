/**
 * Ceilings on what one math check may cost. Every input the verifier sees comes from a policy
 * being scored, so each stage is bounded: over a ceiling the check fails with a reason, it never
 * throws and never runs long.
 */
export interface MathLimits {
  /** Longest gold or prediction text read, in characters (longer: failed, "input too long"). */
  maxInputChars: number;
  /** Longest extracted answer that is parsed (a longer candidate is passed over). */
  maxAnswerChars: number;
  /** Deepest nesting of brackets, braces and operators in an answer. */
  maxDepth: number;
  /** Most elements of a set, tuple or matrix compared. */
  maxElements: number;
  /** Largest exact integer, in bits; beyond it arithmetic goes on in extended floating point. */
  maxExactBits: number;
  /** Largest exact fraction (numerator or denominator), in bits. */
  maxFractionBits: number;
  /** Most terms of a finite sum or product that are added up. */
  maxSeriesTerms: number;
  /** Units of work (evaluations, element comparisons) one comparison may spend. */
  maxWork: number;
}

export const MATH_LIMITS: Readonly<MathLimits> = Object.freeze({
  maxInputChars: 2_000_000,
  maxAnswerChars: 10_000,
  maxDepth: 100,
  maxElements: 400,
  maxExactBits: 131_072,
  maxFractionBits: 4_096,
  maxSeriesTerms: 10_000,
  maxWork: 50_000,
});

/** Thrown inside the verifier when a ceiling is reached; callers turn it into a failed result. */
export class LimitReached extends Error {
  constructor(
    readonly limit: keyof MathLimits,
    message: string,
  ) {
    super(message);
  }
}
