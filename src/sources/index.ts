/**
 * The sources room (`rlxf/sources`): AI feedback. LLM judges and critics
 * defined by configs (prompt template, parser, settings), a shipped default
 * set, AlpacaFarm-style simulated annotators, and runners that judge many
 * examples and store feedback (and failures) with the judge as source.
 */
export * from "./config.js";
export { DEFAULT_JUDGES, DEFAULT_POOLS, DEFAULT_JUDGE_FOR } from "./defaults.js";
export { defaultJudges, defaultPools, resolveJudge, resolvePool } from "./registry.js";
export { seededUnit, seededIndex } from "./hash.js";
export { render, renderMessages, placeholders } from "./template.js";
export * from "./parse.js";
export * from "./judge.js";
export * from "./simulate.js";
export * from "./inputs.js";
export * from "./records.js";
export * from "./run.js";
export { type RecordSink, WorkerSink } from "./writer.js";
export * from "./report.js";
export * from "./judge-verifier.js";
/** The final answer of a free-form solution (the one extractor every room uses). */
export { extractAnswer, lastBoxed, type ExtractedAnswer, type ExtractionMethod } from "./verifiers/math/index.js";
