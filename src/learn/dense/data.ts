/**
 * What segment models train and are measured on, read from stored feedback: outputs with spans, and
 * preference pairs among outputs of the same items (with the items' passages, for scoring).
 */
import type { ResolvedFeedback } from "../../feedback/schema.js";
import { type ExampleSource, type PairDerivation, collectExamples } from "../datasets/examples.js";
import { collectSpanExamples, itemPassages, type SegmentPair, type SpanExample } from "./train.js";

/** Which span records to read: all, only those given by people or judges directly, or only those derived from critiques. */
export const DERIVED_SPANS = ["include", "exclude", "only"] as const;
export type DerivedSpans = (typeof DERIVED_SPANS)[number];

/** Whether a spans record was derived from a critique (by `spansFromCritiques`). */
export const isDerivedSpans = (metadata: Record<string, unknown> | undefined): boolean =>
  typeof (metadata?.derivedFrom as { feedbackId?: unknown } | undefined)?.feedbackId === "string";

export interface SegmentDataOptions {
  /** Derived spans (default include). */
  derived?: DerivedSpans;
  /** Pair derivations for choosing the combination (default pairwise and ranking: people's comparisons); [] reads none. */
  pairsFrom?: readonly PairDerivation[];
  onRecord?: () => void;
}

export interface SegmentData {
  examples: SpanExample[];
  pairs: SegmentPair[];
  skipped: Array<{ reason: string; count: number }>;
}

/**
 * Span examples from `spans` (read with the kinds filter the caller sets on `spans`) and preference pairs, ties
 * kept, from `pairs`.
 */
export async function collectSegmentData(
  source: { spans: { resolvedFeedback(): AsyncIterable<ResolvedFeedback> }; pairs?: ExampleSource },
  opts: SegmentDataOptions = {},
): Promise<SegmentData> {
  const derived = opts.derived ?? "include";
  const filtered = {
    async *resolvedFeedback() {
      for await (const r of source.spans.resolvedFeedback()) {
        if (r.feedback.kind !== "spans") continue;
        const d = isDerivedSpans(r.feedback.metadata);
        if ((derived === "exclude" && d) || (derived === "only" && !d)) continue;
        yield r;
      }
    },
  };
  const { examples, skipped } = await collectSpanExamples(filtered, opts.onRecord ? { onRecord: opts.onRecord } : {});
  const from = opts.pairsFrom ?? ["pairwise", "ranking"];
  const pairs: SegmentPair[] = [];
  if (source.pairs && from.length) {
    const ex = await collectExamples(source.pairs, { pairsFrom: from, includeTies: true, ...(opts.onRecord ? { onRecord: opts.onRecord } : {}) });
    const passages = new Map<string, ReturnType<typeof itemPassages>>();
    for (const p of ex.pairs) {
      if (!passages.has(p.itemId)) passages.set(p.itemId, itemPassages(ex.items.get(p.itemId)?.metadata));
      const ps = passages.get(p.itemId);
      pairs.push({ itemId: p.itemId, prompt: p.prompt, ...(ps ? { passages: ps } : {}), chosen: p.chosen.text, rejected: p.rejected.text, pChosen: p.pChosen });
    }
  }
  return { examples, pairs, skipped };
}
