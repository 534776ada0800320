/**
 * Leaderboards of a project's stored feedback: AlpacaEval rows (every pairwise comparison) and the comparative feedback a Bradley-Terry leaderboard reads.
 */
import { type Feedback, type Generation, type Item, orderVerdictKey, withOrderVerdictsMerged } from "../feedback/index.js";
import type { ResolvedFeedback } from "../feedback/index.js";
import { alpacaEvalRow } from "../io/index.js";
import type { Store } from "../store/index.js";
import type { AlpacaEvalAnnotation } from "./alpaca-eval.js";
import { type GenerationInfo, toPairwise } from "./from-feedback.js";

/**
 * Stored pairwise feedback as AlpacaEval rows, each in the order it was stored: the leaderboard orients them
 * against its baseline (`defaultBaseline`, `orientToBaseline`), the same way for files and for the store.
 */
export async function alpacaEvalPairsFromStore(store: Store, project: string, opts: { comparisons?: "pairwise" | "all" } = {}): Promise<AlpacaEvalAnnotation[]> {
  if (opts.comparisons === "all") return allComparisonRows(store, project);
  const rows: AlpacaEvalAnnotation[] = [];
  const add = (rf: ResolvedFeedback) => {
    const row = alpacaEvalRow(rf, false);
    if (typeof row !== "string") rows.push(row);
  };
  // A judge's verdicts on both orders of a pair are one comparison: those wait to be merged.
  const perOrder: ResolvedFeedback[] = [];
  for await (const rf of store.iterateResolvedFeedback({ project, kind: "pairwise", latest: true })) {
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
  for await (const rf of store.iterateResolvedFeedback({ project, kind: ["pairwise", "ranking", "rating"], latest: true })) {
    opts.onRecord?.();
    feedback.push(rf.feedback);
    for (const g of rf.targets) generations.set(g.id, { policy: g.policy, itemId: g.itemId });
  }
  return { feedback: withOrderVerdictsMerged(feedback, (f) => f, (_, f) => f), generations };
}

/**
 * Every comparison the Bradley-Terry leaderboard reads, as AlpacaEval rows: pairwise verdicts as they are,
 * rankings as every pair they order, ratings of one item by one source (and dimension) as pairs.
 */
async function allComparisonRows(store: Store, project: string): Promise<AlpacaEvalAnnotation[]> {
  const feedback: Feedback[] = [];
  const generations = new Map<string, Generation>();
  const items = new Map<string, Item>();
  for await (const rf of store.iterateResolvedFeedback({ project, kind: ["pairwise", "ranking", "rating"], latest: true })) {
    feedback.push(rf.feedback);
    items.set(rf.item.id, rf.item);
    for (const g of rf.targets) generations.set(g.id, g);
  }
  const rows: AlpacaEvalAnnotation[] = [];
  for (const p of toPairwise(feedback, (g) => generations.get(g)?.itemId)) {
    const targets = p.targets.map((t) => generations.get(t));
    const item = items.get(p.itemId ?? targets[0]?.itemId ?? "");
    if (!item || targets.some((t) => t === undefined)) continue;
    const row = alpacaEvalRow({ feedback: p, item, targets: targets as Generation[] }, false);
    if (typeof row !== "string") rows.push(row);
  }
  return rows;
}
