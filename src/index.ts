/**
 * rlxf: learning from feedback on the outputs of language models and agents.
 *
 * This entry point holds what every part shares: the feedback record (its kinds, schemas and conversions),
 * the typed errors and the roles of API keys. Each room has its own: `rlxf/store`, `rlxf/io`, `rlxf/eval`,
 * `rlxf/learn`, `rlxf/sources`, `rlxf/providers`, `rlxf/loops`, `rlxf/lab`, `rlxf/queues`, `rlxf/rewards`,
 * `rlxf/server`, `rlxf/client` (and `rlxf/testing`, a fake model server for tests).
 */
export * from "./errors.js";
export * from "./roles.js";
export * from "./feedback/index.js";
