/**
 * Leaderboards of a project's stored feedback: AlpacaEval rows (every pairwise comparison) and the comparative feedback a Bradley-Terry leaderboard reads.
 */
import { type Feedback, orderVerdictKey, withOrderVerdictsMerged } from "../feedback/index.js";
import type { ResolvedFeedback } from "../feedback/index.js";
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
  const add = (rf: ResolvedFeedback) => {
    const row = alpacaEvalRow(rf, false);
    if (typeof row !== "string") rows.push(row);
  };
  // A judge's verdicts on both orders of a pair are one comparison: those wait to be merged.
  const perOrder: ResolvedFeedback[] = [];
  for await (const rf of store.iterateResolvedFeedback({ project, kind: "pairwise" })) {
    if (orderVerdictKey(rf.feedback) !== undefined) perOrder.push(rf);
    else add(rf);
  }
  for (const rf of withOrderVerdictsMerged(perOrder, (x) => x.feedback, (x, feedback) => ({ ...x, feedback }))) add(rf);
  return rows;
}

/** Stored comparative feedback (pairwise, rankings, ratings) with the policy and item of each generation it targets. */
export async function comparisonsFromStore(
  store: Store,
  project: string,
  opts: { onRecord?: () => void } = {},
): Promise<{ feedback: Feedback[]; generations: Map<string, GenerationInfo> }> {
  const feedback: Feedback[] = [];
  const generations = new Map<string, GenerationInfo>();
  for await (const rf of store.iterateResolvedFeedback({ project, kind: ["pairwise", "ranking", "rating"] })) {
    opts.onRecord?.();
    feedback.push(rf.feedback);
    for (const g of rf.targets) generations.set(g.id, { policy: g.policy, itemId: g.itemId });
  }
  return { feedback: withOrderVerdictsMerged(feedback, (f) => f, (_, f) => f), generations };
}
