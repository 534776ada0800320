/**
 * The io room: reading preference/feedback files (AlpacaEval annotations, TRL preference datasets,
 * Anthropic HH-RLHF, RealCritic solutions, Fine-Grained RLHF QA feedback, rlxf JSONL) into validated records, and streaming records out in training and
 * evaluation formats (TRL, OpenAI DPO, AlpacaEval, rlxf).
 */
export * from "./types.js";
export { readImportFile, readImportStream, importRawRecords, mergeBatches, DEFAULT_POLICY } from "./import.js";
export { exportRecords, exportToString, writeExportFile, type ExportReport } from "./export.js";
export { ExportFilters, ExportRequest } from "./schema.js";
export { memorySource, type MemoryRecords } from "./memory.js";
export { detectFormat, FORMAT_SIGNATURES } from "./detect.js";
export { readRawRecords, isGzipFile, type RawRecord } from "./records.js";
export { contentHash, itemIdFor, generationIdFor, feedbackIdFor } from "./ids.js";
export { readPreference, NULL_PREFERENCE, alpacaEvalRow, type AlpacaEvalRow } from "./formats/alpaca-eval.js";
export { hhTurns, splitHhPair } from "./formats/anthropic-hh.js";
export { REALCRITIC_SOURCE, REALCRITIC_ITEM_FIELDS, readPreviousScore, taskFromFileName } from "./formats/realcritic.js";
export { QA_FEEDBACK_SOURCE, QA_FEEDBACK_DATASET, EMPTY_SPAN, EMPTY_CORRECTION, codePointToUtf16, explanationPhrase, preferencePairs } from "./formats/qa-feedback.js";
export { promptText, promptMessages } from "./export-helpers.js";
