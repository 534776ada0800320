/**
 * Writing records out in training and evaluation formats, streaming.
 */
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { RlxfError } from "../errors.js";
import type { Feedback } from "../feedback/schema.js";
import { snapshotIterable } from "../store/index.js";
import type { ExportContext, Exporter } from "./export-helpers.js";
import { exportAlpacaEval } from "./formats/alpaca-eval.js";
import { exportOpenAiDpo } from "./formats/openai.js";
import { exportRlxf } from "./formats/rlxf.js";
import { exportTrlPreference, exportTrlUnpaired } from "./formats/trl.js";
import { EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportSource, type ExportStream, type SkipCount } from "./types.js";

const EXPORTERS: Record<ExportFormat, Exporter> = {
  "trl-preference": exportTrlPreference,
  "trl-unpaired": exportTrlUnpaired,
  "openai-dpo": exportOpenAiDpo,
  "alpaca-eval": exportAlpacaEval,
  rlxf: exportRlxf,
};

/**
 * Stream `src` out as `format`: JSON Lines (one piece per line), or for `alpaca-eval` the pieces of one JSON
 * array ("[\n", "{...},\n", ..., "]\n"). Every piece ends with "\n"; joined they are the file. Feedback the
 * format cannot carry (ties for preference formats, kinds without a mapping) is counted in `.skipped` and
 * passed to `opts.onSkip`.
 *
 * - trl-preference: `{prompt, chosen, rejected}` from non-tie pairwise feedback; conversational when the item
 *   prompt is chat messages (completions as `[{role: "assistant", content}]`).
 * - trl-unpaired: `{prompt, completion, label}`: pairwise → chosen true + rejected false; binary → ok;
 *   verification → passed; critique with a verdict → verdict === "pass".
 * - openai-dpo: OpenAI preference fine-tuning rows.
 * - alpaca-eval: AlpacaEval annotations from pairwise feedback (ties kept as 1.5).
 * - rlxf: every item, then every generation, then every feedback record.
 *
 * The whole export reads one snapshot of a store (see `readSnapshot` in rlxf/store): records written
 * while it streams are left out of it entirely, so feedback never names a generation the file lacks.
 */
export function exportRecords(format: ExportFormat, src: ExportSource, opts: ExportOptions = {}): ExportStream {
  const exporter = EXPORTERS[format];
  if (!exporter) throw new RlxfError("unknown_format", `unknown export format "${String(format)}"; supported: ${EXPORT_FORMATS.join(", ")}`);
  let records = 0;
  let skips = new Map<string, number>();
  const ctx: ExportContext = {
    metadataColumns: opts.metadataColumns ?? true,
    skip(reason: string, feedback: Feedback) {
      skips.set(reason, (skips.get(reason) ?? 0) + 1);
      opts.onSkip?.(reason, feedback);
    },
    count(n = 1) {
      records += n;
      opts.onRecords?.(n);
    },
  };
  return {
    format,
    get records() {
      return records;
    },
    get skipped(): SkipCount[] {
      return [...skips].map(([reason, count]) => ({ reason, count }));
    },
    [Symbol.asyncIterator]() {
      records = 0;
      skips = new Map();
      return snapshotIterable({ [Symbol.asyncIterator]: () => exporter(src, ctx) })[Symbol.asyncIterator]();
    },
  };
}

/** Counts of one finished export. */
export interface ExportReport {
  format: ExportFormat;
  records: number;
  skipped: SkipCount[];
}

/**
 * Export to a file (gzip-compressed when the path ends in ".gz"). Written to a temporary file beside it and
 * renamed at the end, so a failed export leaves no partial file.
 */
export async function writeExportFile(path: string, format: ExportFormat, src: ExportSource, opts: ExportOptions = {}): Promise<ExportReport> {
  const stream = exportRecords(format, src, opts);
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    const input = Readable.from(stream);
    if (path.endsWith(".gz")) await pipeline(input, createGzip(), createWriteStream(tmp));
    else await pipeline(input, createWriteStream(tmp));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return { format, records: stream.records, skipped: stream.skipped };
}

/** The whole export as one string (for small exports and tests). */
export async function exportToString(format: ExportFormat, src: ExportSource, opts: ExportOptions = {}): Promise<string> {
  const parts: string[] = [];
  for await (const piece of exportRecords(format, src, opts)) parts.push(piece);
  return parts.join("");
}
