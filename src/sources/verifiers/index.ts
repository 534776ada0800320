/**
 * Verifiable feedback (`rlxf/sources/verifiers`): checks with a right answer. Every verifier
 * has one shape, `verify({prompt?, completion, reference?}) => {passed, score, details}`, which
 * is a `verification` feedback value as it stands.
 *
 * - math: final-answer extraction, exact and extended-range arithmetic, equivalence with explanations;
 * - code: Python and JavaScript against tests in a bubblewrap sandbox, HumanEval;
 * - text: exact and normalised match, regex, JSON Schema, contains/excludes, length;
 * - composite: weighted mean of several, with required members;
 * - registry: verifiers by name or JSON spec.
 */
export * from "./types.js";
export * from "./math/index.js";
export * from "./code/index.js";
export * from "./text.js";
export * from "./composite.js";
export * from "./registry.js";
