/**
 * Datasets from feedback for any trainer: preference pairs, labelled outputs and step examples drawn from
 * every feedback kind; filters (margin, agreement, dedupe, length balance) and splits by item; Chain of
 * Hindsight and C3PO sets; rows for TRL, OpenRLHF, verl (parquet) and OpenAI fine-tuning.
 */
export * from "./examples.js";
export * from "./filters.js";
export * from "./hindsight.js";
export * from "./formats.js";
export * from "./build.js";
export * from "./critic.js";
export { VERL_SCHEMA, toJsonl, verlParquetBuffer, writeJsonl, writeVerlParquet } from "./write.js";
