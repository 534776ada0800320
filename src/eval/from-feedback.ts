/**
 * Leaderboards from feedback records of any kind: pairwise feedback is used
 * as is, rankings and ratings of one item are first turned into the pairwise
 * preferences they imply (the feedback room's conversions), then a
 * Bradley-Terry model ranks the players.
 */
import { ValidationError } from "../errors.js";
import type { Feedback, FeedbackOf } from "../feedback/index.js";
import { pairwiseToComparisons, rankingToPairwise, ratingsToPairwise } from "../feedback/index.js";
import {
  type BradleyTerryOptions,
  type BradleyTerryResult,
  bradleyTerry,
  bradleyTerryBootstrap,
} from "./bradley-terry.js";
import type { BradleyTerryRow } from "./schema.js";

/** What a leaderboard needs to know of a generation. */
export interface GenerationInfo {
  policy: string;
  itemId: string;
}

/**
 * Expand feedback into pairwise records: pairwise as is, rankings into every
 * pair, ratings of the same item (same source and dimension) into pairs.
 * Other kinds carry no comparison and are left out.
 */
export function toPairwise(feedback: Iterable<Feedback>, itemOf: (generationId: string) => string | undefined): FeedbackOf<"pairwise">[] {
  const out: FeedbackOf<"pairwise">[] = [];
  const ratings: FeedbackOf<"rating">[] = [];
  for (const f of feedback) {
    if (f.kind === "pairwise") out.push(f);
    else if (f.kind === "ranking") out.push(...rankingToPairwise(f));
    else if (f.kind === "rating") ratings.push(f);
  }
  if (ratings.length > 0) out.push(...ratingsToPairwise(ratings, { itemOf }));
  return out;
}

/** Bradley-Terry scores of any pairwise set; players are generations unless `playerOf` maps them (to policies, say). */
export function pairwiseToBradleyTerry(
  feedback: Iterable<Feedback>,
  opts: BradleyTerryOptions & { playerOf?: (generationId: string) => string | undefined } = {},
): BradleyTerryResult {
  return bradleyTerry(pairwiseToComparisons(feedback, opts.playerOf), opts);
}

export type { BradleyTerryRow };

/** The policy the importers give generations whose format does not say who wrote them. */
const UNNAMED_POLICY = "unknown";

/**
 * Why feedback ranks no policies, in one line that names the cause and what to do: no comparative feedback at all,
 * or comparisons that are all between two outputs of one policy, most often because the data never said which model
 * wrote each output (HH-RLHF and TRL preference files: every generation's policy is "unknown").
 */
export function noComparisonsReason(feedback: Iterable<Feedback>, generations: ReadonlyMap<string, GenerationInfo>): string {
  const all = [...feedback];
  const pairs = toPairwise(all, (g) => generations.get(g)?.itemId);
  if (all.length === 0) return "no comparative feedback (pairwise, ranking or ratings of one item) was found";
  if (pairs.length === 0) {
    return `none of the ${all.length} feedback record(s) compares two generations: a ranking needs two or more, and ratings compare only generations of the same item rated by the same source on the same dimension`;
  }
  const policies = new Map<string, number>();
  for (const p of pairs) for (const t of p.targets) {
    const policy = generations.get(t)?.policy ?? UNNAMED_POLICY;
    policies.set(policy, (policies.get(policy) ?? 0) + 1);
  }
  const named = [...policies.keys()].filter((p) => p !== UNNAMED_POLICY);
  if (named.length === 0) {
    return (
      `all ${pairs.length} comparison(s) are between generations whose policy is "${UNNAMED_POLICY}", so there are no models to rank: ` +
      `the imported format does not say which model wrote each output (HH-RLHF's chosen and rejected answers, TRL preference rows). ` +
      `A leaderboard needs generations that name their policy: rlxf records with a "policy" on each generation, AlpacaEval annotations, ` +
      `or \`rlxf import --policy NAME\` for a file that holds one model's outputs; to learn from these pairs instead, train a reward model (rlxf rm train)`
    );
  }
  const list = [...policies.keys()].map((p) => `"${p}"`).join(", ");
  return `all ${pairs.length} comparison(s) are between two outputs of the same policy (${list}): a leaderboard ranks policies, so it needs comparisons between generations of different policies`;
}

/**
 * A leaderboard of policies by Bradley-Terry rating with percentile bootstrap
 * intervals (as Chatbot Arena reports them), from feedback of any comparative kind.
 */
export function bradleyTerryLeaderboard(
  feedback: Iterable<Feedback>,
  generations: ReadonlyMap<string, GenerationInfo>,
  opts: { rounds?: number; seed?: number; alpha?: number; onProgress?: (done: number, total: number) => void } = {},
): BradleyTerryRow[] {
  const rounds = opts.rounds ?? 200;
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new ValidationError([{ path: "rounds", message: `bootstrap rounds must be a positive integer, got ${rounds}` }], undefined, "leaderboard options");
  }
  const alpha = opts.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new ValidationError([{ path: "alpha", message: `must lie in (0, 1), got ${alpha}` }], undefined, "leaderboard options");
  const info = (g: string) => generations.get(g);
  const pairs = toPairwise(feedback, (g) => info(g)?.itemId);
  const comparisons = pairwiseToComparisons(pairs, (g) => info(g)?.policy);
  if (comparisons.length === 0) return [];
  const boot = bradleyTerryBootstrap(comparisons, { rounds, seed: opts.seed ?? 0, alpha, scale: "elo", ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const n = new Map<string, number>();
  const won = new Map<string, number>();
  for (const c of comparisons) {
    n.set(c.a, (n.get(c.a) ?? 0) + 1);
    n.set(c.b, (n.get(c.b) ?? 0) + 1);
    won.set(c.a, (won.get(c.a) ?? 0) + (1 - c.pB));
    won.set(c.b, (won.get(c.b) ?? 0) + c.pB);
  }
  return boot.fit.players
    .map((model) => {
      const iv = boot.intervals.get(model)!;
      return {
        model,
        rating: iv.estimate,
        lower: iv.lower,
        upper: iv.upper,
        n_comparisons: n.get(model) ?? 0,
        win_share: (won.get(model) ?? 0) / (n.get(model) ?? 1),
      };
    })
    .sort((x, y) => y.rating - x.rating);
}
