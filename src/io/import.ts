/**
 * Reading preference/feedback files into validated rlxf records.
 */
import { Readable, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { DEFAULT_PROJECT } from "../feedback/schema.js";
import { RlxfError } from "../errors.js";
import { BatchBuilder } from "./batch.js";
import { detectFormat, unknownFormatError } from "./detect.js";
import { alpacaEvalImporter } from "./formats/alpaca-eval.js";
import { anthropicHhImporter } from "./formats/anthropic-hh.js";
import { qaFeedbackImporter } from "./formats/qa-feedback.js";
import { realCriticImporter } from "./formats/realcritic.js";
import { rlxfImporter } from "./formats/rlxf.js";
import { trlPreferenceImporter } from "./formats/trl.js";
import type { ImportContext, RecordImporter } from "./import-context.js";
import { rawRecordsFromChunks, readRawRecords, type RawRecord } from "./records.js";
import { IMPORT_FORMATS, type ImportBatch, type ImportFormat, type ImportOptions } from "./types.js";

const IMPORTERS: Record<ImportFormat, (ctx: ImportContext) => RecordImporter> = {
  "alpaca-eval": alpacaEvalImporter,
  "trl-preference": trlPreferenceImporter,
  "anthropic-hh": anthropicHhImporter,
  rlxf: rlxfImporter,
  realcritic: realCriticImporter,
  "qa-feedback": qaFeedbackImporter,
};

export const DEFAULT_POLICY = "unknown";

/** Import records from raw records (already parsed JSON values with labels). All or nothing: throws on the first bad record. */
export async function importRawRecords(
  records: AsyncIterable<RawRecord> | Iterable<RawRecord>,
  name: string,
  opts: ImportOptions = {},
): Promise<ImportBatch> {
  if (opts.format !== undefined && !(IMPORT_FORMATS as readonly string[]).includes(opts.format)) {
    throw new RlxfError("unknown_format", `unknown import format "${opts.format}"; supported: ${IMPORT_FORMATS.join(", ")}`);
  }
  const builder = new BatchBuilder();
  const ctx: ImportContext = {
    builder,
    name,
    project: opts.project ?? DEFAULT_PROJECT,
    projectGiven: opts.project !== undefined,
    source: opts.source,
    policy: opts.policy ?? DEFAULT_POLICY,
  };
  let format = opts.format;
  let importer: RecordImporter | undefined;
  for await (const rec of records) {
    if (!importer) {
      format ??= detectFormat(rec.value);
      if (!format) throw unknownFormatError(name, rec.value, rec.label);
      importer = IMPORTERS[format](ctx);
    }
    importer(rec.value, rec.label);
  }
  if (!format) throw new RlxfError("unknown_format", `cannot tell the format of ${name}: it holds no records`);
  return builder.build(format);
}

/**
 * Read a file (gzip or not, detected by its magic bytes; a JSON array or JSON Lines) in one of the import
 * formats, detected from its first record unless `opts.format` says. Every record is validated; a malformed
 * one throws `ValidationError` naming the file, its line (or array index) and the field, and nothing is returned.
 */
export async function readImportFile(path: string, opts: ImportOptions = {}): Promise<ImportBatch> {
  return importRawRecords(readRawRecords(path), path, opts);
}

/** Like `readImportFile` for bytes from elsewhere (stdin, an upload); `name` is used in labels. */
export async function readImportStream(
  chunks: AsyncIterable<Buffer | Uint8Array>,
  name: string,
  opts: ImportOptions = {},
): Promise<ImportBatch> {
  return importRawRecords(rawRecordsFromChunks(maybeGunzip(chunks), name), name, opts);
}

async function* maybeGunzip(chunks: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<Buffer> {
  const it = chunks[Symbol.asyncIterator]();
  let first = await it.next();
  while (!first.done && first.value.length === 0) first = await it.next();
  if (first.done) return;
  let head = Buffer.from(first.value);
  if (head.length < 2) {
    const second = await it.next();
    if (!second.done) head = Buffer.concat([head, Buffer.from(second.value)]);
  }
  const rest = async function* () {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield Buffer.from(r.value);
  };
  if (head[0] !== 0x1f || head[1] !== 0x8b) {
    yield* rest();
    return;
  }
  const gunzip = createGunzip();
  pipeline(Readable.from(rest()), gunzip, () => {});
  yield* gunzip as AsyncIterable<Buffer>;
}

/**
 * Merge batches (e.g. of several files) into one, keeping the first copy of each id.
 * The format is the first batch's; skip counts are added up.
 */
export function mergeBatches(batches: ImportBatch[]): ImportBatch {
  if (batches.length === 0) throw new RlxfError("no_data", "mergeBatches needs at least one batch");
  const out: ImportBatch = {
    format: batches[0]!.format,
    items: [],
    generations: [],
    feedback: [],
    labels: { items: [], generations: [], feedback: [] },
    skipped: [],
  };
  const keys = ["items", "generations", "feedback"] as const;
  const seen = { items: new Set<string>(), generations: new Set<string>(), feedback: new Set<string>() };
  const skips = new Map<string, number>();
  for (const b of batches) {
    for (const k of keys) {
      const recs = b[k] as Array<{ id: string; project: string }>;
      recs.forEach((r, i) => {
        const key = `${r.project}\u0000${r.id}`;
        if (seen[k].has(key)) return;
        seen[k].add(key);
        (out[k] as unknown[]).push(r);
        out.labels[k].push(b.labels[k][i]!);
      });
    }
    for (const s of b.skipped) skips.set(s.reason, (skips.get(s.reason) ?? 0) + s.count);
  }
  out.skipped = [...skips].map(([reason, count]) => ({ reason, count }));
  return out;
}
