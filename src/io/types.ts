/**
 * Public types of the io room: what importers return and exporters read.
 */
import type { Feedback, Generation, Item, ResolvedFeedback, SourceType } from "../feedback/schema.js";

/** File formats `readImportFile` understands. */
export const IMPORT_FORMATS = ["alpaca-eval", "trl-preference", "anthropic-hh", "rlxf", "realcritic", "qa-feedback"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** File formats `exportRecords` writes. */
export const EXPORT_FORMATS = ["trl-preference", "trl-unpaired", "openai-dpo", "alpaca-eval", "rlxf"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** How many input (or output) records were left out, and why. */
export interface SkipCount {
  reason: string;
  count: number;
}

export interface ImportOptions {
  /** Skip detection and read the file as this format. */
  format?: ImportFormat;
  /** Project of every record made (rlxf records that name their own project keep it). Default "default". */
  project?: string;
  /**
   * Who gave the feedback. trl-preference defaults to {type: "human", id: "import"}, anthropic-hh to
   * {type: "human", id: "hh-rlhf"}, realcritic to {type: "verifier", id: "realcritic"}, qa-feedback to
   * {type: "human", id: "qa-feedback"}; for alpaca-eval the row's `annotator` stays the id (this only sets the
   * type, default "judge", and the id of rows without an annotator); for rlxf it fills feedback without a source.
   */
  source?: { type: SourceType; id: string };
  /** Policy named on generations of formats that do not say who produced the outputs (trl, hh, qa-feedback). Default "unknown". */
  policy?: string;
}

/** Everything read from one file, validated, with a label per record for error messages. */
export interface ImportBatch {
  format: ImportFormat;
  items: Item[];
  generations: Generation[];
  feedback: Feedback[];
  /** `labels.items[i]` says where `items[i]` came from, e.g. "data.jsonl line 17" (its first occurrence). */
  labels: { items: string[]; generations: string[]; feedback: string[] };
  /** Input rows that produced no feedback (e.g. AlpacaEval rows with a null preference). */
  skipped: SkipCount[];
}

/** What exporters read: streams of records, as a store (or `memorySource`) gives them. */
export interface ExportSource {
  resolvedFeedback(): AsyncIterable<ResolvedFeedback>;
  items(): AsyncIterable<Item>;
  generations(): AsyncIterable<Generation>;
}

export interface ExportOptions {
  /** Called once per feedback record (or generation pair) the format cannot carry. */
  onSkip?: (reason: string, feedback: Feedback) => void;
  /**
   * Write feedback metadata entries as extra columns (trl-preference, trl-unpaired, alpaca-eval), so extra
   * columns read on import come back. Keys that collide with the format's own columns are left out. Default true.
   */
  metadataColumns?: boolean;
  /** Called as records are written, with how many were just written. */
  onRecords?: (n: number) => void;
}

/**
 * The exported text: iterate it for the pieces (each ends with "\n"; joined they are the file). After (or while)
 * iterating, `records` and `skipped` count what was written and what was left out. Iterating again starts over.
 */
export interface ExportStream extends AsyncIterable<string> {
  readonly format: ExportFormat;
  /** Records written so far (rows of the target format). */
  readonly records: number;
  /** Feedback left out so far, by reason. */
  readonly skipped: SkipCount[];
}
