/**
 * Leaderboards of a project's stored feedback: AlpacaEval rows (every pairwise comparison with a baseline,
 * the baseline first) and the comparative feedback a Bradley-Terry leaderboard reads.
 */
import type { Feedback } from "../feedback/index.js";
import { alpacaEvalRow } from "../io/index.js";
import type { Store } from "../store/index.js";
import type { AlpacaEvalAnnotation } from "./alpaca-eval.js";
import type { GenerationInfo } from "./from-feedback.js";

/**
 * Pairwise comparisons of stored feedback against one baseline policy, baseline first (as AlpacaEval's
 * annotations are). The baseline defaults to the policy compared most often (ties: the first by name).
 */
export async function alpacaEvalRowsFromStore(store: Store, project: string, baseline?: string): Promise<{ rows: AlpacaEvalAnnotation[]; baseline?: string }> {
  const rows: AlpacaEvalAnnotation[] = [];
  for await (const rf of store.iterateResolvedFeedback({ project, kind: "pairwise" })) {
    const row = alpacaEvalRow(rf, false);
    if (typeof row !== "string") rows.push(row);
  }
  const counts = new Map<string, number>();
  for (const r of rows) {
    counts.set(r.generator_1, (counts.get(r.generator_1) ?? 0) + 1);
    counts.set(r.generator_2, (counts.get(r.generator_2) ?? 0) + 1);
  }
  const base = baseline ?? [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  if (base === undefined) return { rows: [] };
  const out = rows.flatMap((r): AlpacaEvalAnnotation[] => {
    if (r.generator_1 === base && r.generator_2 !== base) return [r];
    if (r.generator_2 === base && r.generator_1 !== base) {
      const p = Number(r.preference);
      return [{ ...r, output_1: r.output_2, generator_1: r.generator_2, output_2: r.output_1, generator_2: r.generator_1, preference: Number.isFinite(p) && p >= 1 ? 3 - p : p }];
    }
    return [];
  });
  return { rows: out, baseline: base };
}

/** Stored comparative feedback (pairwise, rankings, ratings) with the policy and item of each generation it targets. */
export async function comparisonsFromStore(store: Store, project: string): Promise<{ feedback: Feedback[]; generations: Map<string, GenerationInfo> }> {
  const feedback: Feedback[] = [];
  const generations = new Map<string, GenerationInfo>();
  for await (const rf of store.iterateResolvedFeedback({ project, kind: ["pairwise", "ranking", "rating"] })) {
    feedback.push(rf.feedback);
    for (const g of rf.targets) generations.set(g.id, { policy: g.policy, itemId: g.itemId });
  }
  return { feedback, generations };
}
