/**
 * `export`: a dataset file from stored feedback (any export format of the io room, narrowed by filters),
 * streamed a page of records at a time into parts kept in the database, so memory stays flat however many
 * rows there are and any server replica can serve the file. The job's result names the file; its bytes are
 * at `GET /v1/jobs/:id/file`.
 */
import { z } from "zod";
import { RlxfError } from "../../errors.js";
import type { FeedbackKind, ResolvedFeedback } from "../../feedback/index.js";
import { type ExportFilters, type ExportFormat, ExportRequest, type ExportSource, exportRecords } from "../../io/index.js";
import type { FeedbackFilter, Store } from "../../store/index.js";
import type { JobKind } from "../types.js";

export const ExportInput = ExportRequest.extend({
  /** Most records the export may read (items, generations and feedback together); a server sets its ceiling here. */
  maxRows: z.number().int().positive().optional(),
});
export type ExportInput = z.infer<typeof ExportInput>;

/** Bytes per stored part of the file. */
export const PART_BYTES = 1024 * 1024;

const EXT: Record<string, string> = { "alpaca-eval": "json" };

export function exportFileName(project: string, format: string, id: string): string {
  return `${project.replace(/[^A-Za-z0-9._-]/g, "_")}-${format}-${id.slice(0, 8)}.${EXT[format] ?? "jsonl"}`;
}

export function exportContentType(format: string): string {
  return EXT[format] === "json" ? "application/json; charset=utf-8" : "application/x-ndjson; charset=utf-8";
}

/** The store as an export source, narrowed by `filters` (rlxf exports then hold only the records the feedback refers to). */
export function filteredSource(store: Store, project: string, filters: ExportFilters = {}): ExportSource {
  const ff: FeedbackFilter = {
    project,
    ...(filters.kind ? { kind: filters.kind as FeedbackKind[] } : {}),
    ...(filters.sourceType ? { sourceType: filters.sourceType } : {}),
    ...(filters.sourceId ? { sourceId: filters.sourceId } : {}),
    ...(filters.policy ? { policy: filters.policy } : {}),
    ...(filters.itemId ? { itemId: filters.itemId } : {}),
    ...(filters.since ? { since: filters.since } : {}),
    ...(filters.until ? { until: filters.until } : {}),
    // The queue the store marked when the queue's submission wrote the record (metadata can say anything).
    ...(filters.queueId ? { queueId: filters.queueId } : {}),
  };
  const keep = (rf: ResolvedFeedback) => filters.dataset === undefined || rf.item.dataset === filters.dataset;
  async function* resolvedFeedback(): AsyncGenerator<ResolvedFeedback> {
    for await (const rf of store.iterateResolvedFeedback(ff)) if (keep(rf)) yield rf;
  }
  const filtered = Object.keys(filters).length > 0;
  let referenced: Promise<{ items: Set<string>; generations: Set<string> }> | undefined;
  const refs = () =>
    (referenced ??= (async () => {
      const items = new Set<string>();
      const generations = new Set<string>();
      for await (const rf of resolvedFeedback()) {
        items.add(rf.item.id);
        for (const g of rf.targets) generations.add(g.id);
      }
      return { items, generations };
    })());
  return {
    resolvedFeedback,
    async *items() {
      const r = filtered ? await refs() : undefined;
      for await (const it of store.iterateItems({ project })) if (!r || r.items.has(it.id)) yield it;
    },
    async *generations() {
      const r = filtered ? await refs() : undefined;
      for await (const g of store.iterateGenerations({ project })) if (!r || r.generations.has(g.id)) yield g;
    },
  };
}

/** Counts what an export reads (for progress), stops it when the job is cancelled, and past `max` records. */
function watched(src: ExportSource, counter: { n: number }, signal: AbortSignal, max = Infinity): ExportSource {
  const wrap = <T>(f: () => AsyncIterable<T>) =>
    async function* (): AsyncGenerator<T> {
      for await (const x of f()) {
        if (signal.aborted) throw signal.reason;
        if (++counter.n > max) {
          throw new RlxfError("over_ceiling", `the export reads more records than the ceiling exportRows (${max}); narrow its filters`, { field: "maxRows" });
        }
        yield x;
      }
    };
  return { resolvedFeedback: wrap(() => src.resolvedFeedback()), items: wrap(() => src.items()), generations: wrap(() => src.generations()) };
}

export const exportKind: JobKind<ExportInput> = {
  name: "export",
  description: "a dataset file (TRL, OpenAI DPO, AlpacaEval, rlxf) from stored feedback, streamed into the database in parts",
  input: ExportInput,
  roles: ["admin", "read"],
  maxAttempts: 2,
  split: (input) => ({ input, split: { phase: "whole" } }),
  async runWhole(ctx) {
    const { store, job } = ctx;
    const counter = { n: 0 };
    const stream = exportRecords(job.input.format as ExportFormat, watched(filteredSource(store, job.project, job.input.filters), counter, ctx.signal, job.input.maxRows));
    // Parts of an earlier attempt are replaced from the first one on.
    await store.jobs.clearFile(job.id);
    const encoder = new TextEncoder();
    let part = 0;
    let bytes = 0;
    let pending: Uint8Array[] = [];
    let size = 0;
    const put = async () => {
      if (size === 0) return;
      const buf = Buffer.concat(pending, size);
      pending = [];
      size = 0;
      await store.jobs.putFilePart(job.id, part++, buf);
      bytes += buf.length;
      ctx.progress(stream.records, null, `${counter.n} records read, ${stream.records} rows written`);
    };
    for await (const piece of stream) {
      const b = encoder.encode(piece);
      pending.push(b);
      size += b.length;
      if (size >= PART_BYTES) await put();
    }
    await put();
    ctx.progress(stream.records, stream.records);
    return {
      format: job.input.format,
      rows: stream.records,
      bytes,
      parts: part,
      file: exportFileName(job.project, job.input.format, job.id),
      contentType: exportContentType(job.input.format),
      ...(stream.skipped.length ? { skipped: stream.skipped } : {}),
      ...(job.input.filters ? { filters: job.input.filters } : {}),
    };
  },
};
