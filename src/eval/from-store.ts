/**
 * Leaderboards of a project's stored feedback: AlpacaEval rows (every pairwise comparison) and the comparative feedback a Bradley-Terry leaderboard reads.
 */
import type { Feedback } from "../feedback/index.js";
import { alpacaEvalRow } from "../io/index.js";
import type { Store } from "../store/index.js";
import type { AlpacaEvalAnnotation } from "./alpaca-eval.js";
import type { GenerationInfo } from "./from-feedback.js";

/**
 * Stored pairwise feedback as AlpacaEval rows, each in the order it was stored: the leaderboard orients them
 * against its baseline (`defaultBaseline`, `orientToBaseline`), the same way for files and for the store.
 */
export async function alpacaEvalPairsFromStore(store: Store, project: string): Promise<AlpacaEvalAnnotation[]> {
  const rows: AlpacaEvalAnnotation[] = [];
  for await (const rf of store.iterateResolvedFeedback({ project, kind: "pairwise" })) {
    const row = alpacaEvalRow(rf, false);
    if (typeof row !== "string") rows.push(row);
  }
  return rows;
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
