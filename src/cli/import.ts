import type { SourceType } from "../feedback/index.js";
import { type ImportBatch, type ImportFormat, mergeBatches, readImportFile } from "../io/index.js";
import { type DbOptions, info, out, withStore } from "./shared.js";
import { progress } from "./progress.js";

export interface ImportCliOptions extends DbOptions {
  format?: ImportFormat;
  project: string;
  sourceType?: SourceType;
  sourceId?: string;
  policy?: string;
  json?: boolean;
}

/**
 * Read and validate every file first, then write them in one transaction:
 * a malformed record anywhere means nothing is written.
 */
export async function runImport(files: string[], opts: ImportCliOptions): Promise<void> {
  const started = performance.now();
  const source = opts.sourceId || opts.sourceType ? { type: opts.sourceType ?? "human", id: opts.sourceId ?? "import" } : undefined;
  const bar = progress("reading", files.length);
  const batches: ImportBatch[] = [];
  for (const file of files) {
    batches.push(await readImportFile(file, { ...(opts.format ? { format: opts.format } : {}), project: opts.project, ...(source ? { source } : {}), ...(opts.policy ? { policy: opts.policy } : {}) }));
    bar.tick(1, file);
  }
  bar.done();
  const batch = mergeBatches(batches);
  const report = await withStore(opts, (store) =>
    store.write(
      { items: batch.items, generations: batch.generations, feedback: batch.feedback },
      { label: (kind, i) => (kind === "item" ? batch.labels.items[i] : kind === "generation" ? batch.labels.generations[i] : batch.labels.feedback[i]) ?? `${kind} ${i}` },
    ),
    { create: true },
  );
  const seconds = (performance.now() - started) / 1000;
  const summary = {
    files: files.length,
    formats: [...new Set(batches.map((b) => b.format))],
    items: { inserted: report.items.inserted, existing: report.items.existing },
    generations: { inserted: report.generations.inserted, existing: report.generations.existing },
    feedback: { inserted: report.feedback.inserted, existing: report.feedback.existing },
    skipped: batch.skipped,
    seconds: Number(seconds.toFixed(3)),
  };
  if (opts.json) {
    out(JSON.stringify(summary) + "\n");
    return;
  }
  const kinds = (k: { inserted: number; existing: number }) => `${k.inserted} new${k.existing ? `, ${k.existing} already stored` : ""}`;
  out(
    `imported ${files.length} file(s) (${summary.formats.join(", ")}) in ${seconds.toFixed(2)} s\n` +
      `  items:       ${kinds(summary.items)}\n` +
      `  generations: ${kinds(summary.generations)}\n` +
      `  feedback:    ${kinds(summary.feedback)}\n`,
  );
  for (const s of batch.skipped) info(`  skipped ${s.count}: ${s.reason}\n`);
}
