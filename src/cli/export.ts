import { type ExportFormat, type ExportSource, exportRecords, writeExportFile } from "../io/index.js";
import type { Store } from "../store/index.js";
import { progress } from "./progress.js";
import { type DbOptions, info, withStore } from "./shared.js";

export interface ExportCliOptions extends DbOptions {
  format: ExportFormat;
  out?: string;
  project: string;
}

/** The store as an export source: everything streams a page at a time. */
export function storeSource(store: Store, project: string): ExportSource {
  return {
    resolvedFeedback: () => store.iterateResolvedFeedback({ project }),
    items: () => store.iterateItems({ project }),
    generations: () => store.iterateGenerations({ project }),
  };
}

export async function runExport(opts: ExportCliOptions): Promise<void> {
  await withStore(opts, async (store) => {
    const src = storeSource(store, opts.project);
    // Not over records printed to the same terminal.
    const bar = !opts.out && process.stdout.isTTY ? { tick() {}, done() {} } : progress(`exporting ${opts.format}`);
    const onRecords = (n: number) => bar.tick(n);
    if (opts.out) {
      const r = await writeExportFile(opts.out, opts.format, src, { onRecords }).finally(() => bar.done());
      info(`wrote ${r.records} ${opts.format} record(s) to ${opts.out}\n`);
      for (const s of r.skipped) info(`  skipped ${s.count}: ${s.reason}\n`);
      return;
    }
    const stream = exportRecords(opts.format, src, { onRecords });
    try {
      for await (const piece of stream) {
        if (!process.stdout.write(piece)) await new Promise((r) => process.stdout.once("drain", r));
      }
    } finally {
      bar.done();
    }
    for (const s of stream.skipped) info(`skipped ${s.count}: ${s.reason}\n`);
  });
}
