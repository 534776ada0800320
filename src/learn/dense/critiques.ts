/**
 * Span feedback from critique feedback (Text2Grad's annotation stage): each critique of one output is aligned with
 * that output (`alignCritique`) and becomes a `spans` record with its provenance in `metadata.derivedFrom` (the
 * critique's id) and `metadata.alignments` (each phrase, how it aligned and how confidently). Ids are content
 * hashes, so deriving twice writes nothing new.
 */
import type { Feedback, ResolvedFeedback } from "../../feedback/schema.js";
import { parseFeedback } from "../../feedback/index.js";
import { feedbackIdFor } from "../../io/index.js";
import { type AlignOptions, alignCritique, type PhraseAlignment } from "./align.js";

export const ALIGNER_NAME = "rlxf-critique-align";

export interface CritiqueSpansReport {
  critiques: number;
  /** Critiques that gave a spans record. */
  derived: number;
  spans: number;
  /** Phrases that gave no span, by reason ("missing content", "no match", "neutral", "praise"). */
  skippedPhrases: Record<string, number>;
  /** Critiques that gave no record, by reason. */
  skipped: Record<string, number>;
}

/** The spans record one critique gives, with what became of its phrases (no record when nothing aligned). */
export async function spansFromCritique(r: ResolvedFeedback, opts: AlignOptions & { embeddingModel?: string } = {}): Promise<{ feedback?: Feedback; phrases: PhraseAlignment[]; skipped?: string }> {
  const f = r.feedback;
  if (f.kind !== "critique") return { phrases: [], skipped: "not a critique" };
  if (r.targets.length !== 1) return { phrases: [], skipped: "critique of other than one output" };
  const g = r.targets[0]!;
  const { spans, phrases } = await alignCritique(g.output, f.value, opts);
  if (spans.length === 0) return { phrases, skipped: "no phrase aligned" };
  const { embedder: _e, embeddingModel, labels: _l, ...settings } = opts;
  const body: Record<string, unknown> = {
    project: f.project,
    itemId: r.item.id,
    kind: "spans",
    targets: [g.id],
    source: f.source,
    value: { spans: spans.map((s) => ({ start: s.start, end: s.end, label: s.label, score: s.score, comment: s.comment })) },
    metadata: {
      derivedFrom: { feedbackId: f.id, kind: "critique" },
      aligner: { name: ALIGNER_NAME, ...settings, ...(embeddingModel ? { embeddingModel } : {}), ...(opts.labels ? { labels: opts.labels.map((l) => l.label) } : {}) },
      alignments: spans.map((s) => ({ start: s.start, end: s.end, method: s.method, confidence: Number(s.confidence.toFixed(4)) })),
    },
  };
  return { feedback: parseFeedback({ id: feedbackIdFor(body), ...body }), phrases };
}

/** Spans records from every critique in `records`, with a report; `onRecord` sees each derived record. */
export async function spansFromCritiques(
  records: AsyncIterable<ResolvedFeedback> | Iterable<ResolvedFeedback>,
  opts: AlignOptions & { embeddingModel?: string; onRecord?: (f: Feedback) => void | Promise<void>; onProgress?: () => void } = {},
): Promise<{ feedback: Feedback[]; report: CritiqueSpansReport }> {
  const { onRecord, onProgress, ...align } = opts;
  const report: CritiqueSpansReport = { critiques: 0, derived: 0, spans: 0, skippedPhrases: {}, skipped: {} };
  const out: Feedback[] = [];
  for await (const r of records) {
    if (r.feedback.kind !== "critique") continue;
    report.critiques++;
    onProgress?.();
    const res = await spansFromCritique(r, align);
    for (const p of res.phrases) if (p.skipped) report.skippedPhrases[p.skipped] = (report.skippedPhrases[p.skipped] ?? 0) + 1;
    if (!res.feedback) {
      report.skipped[res.skipped!] = (report.skipped[res.skipped!] ?? 0) + 1;
      continue;
    }
    report.derived++;
    report.spans += (res.feedback.value as { spans: unknown[] }).spans.length;
    out.push(res.feedback);
    await onRecord?.(res.feedback);
  }
  return { feedback: out, report };
}
