/**
 * rlxf: learning from feedback on the outputs of language models and agents.
 * Each room has its own entry point (`rlxf/feedback`, `rlxf/store`, `rlxf/io`,
 * `rlxf/eval`, `rlxf/learn`); this one re-exports their public surface.
 */
export * from "./errors.js";
export * from "./feedback/index.js";
export * from "./store/index.js";
export * from "./io/index.js";
export * from "./eval/index.js";
export * from "./learn/index.js";
