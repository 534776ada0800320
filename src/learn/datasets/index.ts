/**
 * Datasets from feedback for any trainer: preference pairs, labelled outputs and step examples drawn from
 * every feedback kind; filters (margin, agreement, dedupe, length balance) and splits by item; Chain of
 * Hindsight and C3PO sets; rows for TRL, OpenRLHF, verl (parquet) and OpenAI fine-tuning.
 */
export {
  type Completion,
  type ExampleOptions,
  type ExampleSource,
  type Examples,
  type LabelDerivation,
  type LabelledOutput,
  type PairDerivation,
  type PreferencePair,
  type StepExample,
  LABEL_DERIVATIONS,
  PAIR_DERIVATIONS,
  collectExamples,
  collectPairs,
  countSourceTypes,
  splitSteps,
} from "./examples.js";
export { type FilterReport, type PairFilterOptions, filterPairs, foldsByItem, itemUnit, splitByItem } from "./filters.js";
export {
  type C3poSet,
  type C3poSpec,
  type Complete,
  type GenerateC3poOptions,
  type HindsightTemplates,
  DEFAULT_HINDSIGHT_TEMPLATES,
  buildC3po,
  chainOfHindsight,
  generateC3po,
} from "./hindsight.js";
export {
  type DatasetFormat,
  type PromptExample,
  type Row,
  type VerlRow,
  DATASET_FORMATS,
  openAiDpoRow,
  openAiSftRow,
  trlPreferenceRow,
  trlSftRow,
} from "./formats.js";
export * from "./build.js";
export * from "./critic.js";
export { VERL_SCHEMA, toJsonl, verlParquetBuffer, writeJsonl, writeVerlParquet } from "./write.js";
