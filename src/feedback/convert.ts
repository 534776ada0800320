/**
 * Conversions between feedback kinds. Each is a pure function: records in,
 * records out, no I/O. Derived records get deterministic ids built from the
 * record they came from, and `metadata.derivedFrom` names it, so running a
 * conversion twice yields the same records.
 */
import { RlxfError } from "../errors.js";
import type { Feedback, FeedbackOf, Generation, RubricCriterion } from "./schema.js";

export type PairwiseFeedback = FeedbackOf<"pairwise">;

function derivedMeta(f: Feedback, conversion: string, extra?: Record<string, unknown>): Record<string, unknown> {
  return { derivedFrom: f.id, conversion, ...extra };
}

function pairwise(
  from: Feedback,
  id: string,
  first: string,
  second: string,
  choice: "first" | "second" | "tie",
  conversion: string,
  extra: { strength?: number; pSecond?: number } = {},
): PairwiseFeedback {
  const value: PairwiseFeedback["value"] = { choice };
  if (extra.pSecond !== undefined) value.pSecond = extra.pSecond;
  if (extra.strength !== undefined) value.strength = extra.strength;
  const out: PairwiseFeedback = {
    id,
    project: from.project,
    kind: "pairwise",
    targets: [first, second],
    source: from.source,
    value,
    metadata: derivedMeta(from, conversion),
  };
  if (from.itemId !== undefined) out.itemId = from.itemId;
  if (from.createdAt !== undefined) out.createdAt = from.createdAt;
  return out;
}

/**
 * A ranking over n generations becomes the n(n-1)/2 pairwise preferences it
 * implies (the Plackett-Luce / LiPO view: a listwise label amortises reading
 * the prompt over many pairs). Equal ranks become ties; `includeTies: false` drops them.
 */
export function rankingToPairwise(f: FeedbackOf<"ranking">, opts: { includeTies?: boolean } = {}): PairwiseFeedback[] {
  const includeTies = opts.includeTies ?? true;
  const out: PairwiseFeedback[] = [];
  const { ranks } = f.value;
  const worst = Math.max(...ranks);
  const best = Math.min(...ranks);
  for (let i = 0; i < f.targets.length; i++) {
    for (let j = i + 1; j < f.targets.length; j++) {
      const ri = ranks[i]!;
      const rj = ranks[j]!;
      if (ri === rj && !includeTies) continue;
      const choice = ri < rj ? "first" : ri > rj ? "second" : "tie";
      const strength = worst > best ? Math.abs(ri - rj) / (worst - best) : 0;
      out.push(pairwise(f, `${f.id}:pair:${i}-${j}`, f.targets[i]!, f.targets[j]!, choice, "ranking->pairwise", { strength }));
    }
  }
  return out;
}

/**
 * Ratings of generations of the same item become pairwise preferences: for
 * every two rated generations of one item (by the same source and dimension
 * unless `acrossSources`), the higher rating wins; equal ratings tie unless
 * `minMargin` > 0 drops close calls. Strength is the margin over the scale's range.
 * `itemOf` maps a generation id to its item when `itemId` is absent on the record.
 */
export function ratingsToPairwise(
  ratings: FeedbackOf<"rating">[],
  opts: { itemOf?: (generationId: string) => string | undefined; acrossSources?: boolean; minMargin?: number; includeTies?: boolean } = {},
): PairwiseFeedback[] {
  const minMargin = opts.minMargin ?? 0;
  const includeTies = opts.includeTies ?? true;
  const groups = new Map<string, FeedbackOf<"rating">[]>();
  for (const r of ratings) {
    const target = r.targets[0]!;
    const item = r.itemId ?? opts.itemOf?.(target);
    if (item === undefined) {
      throw new RlxfError(
        "invalid_input",
        `rating ${r.id} has no itemId and no item is known for generation ${target}: pass opts.itemOf or set itemId`,
      );
    }
    const key = JSON.stringify([r.project, item, opts.acrossSources ? "" : `${r.source.type}:${r.source.id}`, r.value.dimension ?? ""]);
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const out: PairwiseFeedback[] = [];
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const a = group[i]!;
        const b = group[j]!;
        if (a.targets[0] === b.targets[0]) continue; // two ratings of one generation are not a comparison
        const range = Math.max(a.value.scale.max - a.value.scale.min, b.value.scale.max - b.value.scale.min);
        const norm = (r: FeedbackOf<"rating">) => (r.value.score - r.value.scale.min) / (r.value.scale.max - r.value.scale.min);
        const margin = norm(b) - norm(a);
        const absMargin = Math.abs(margin);
        if (absMargin === 0 && !includeTies) continue;
        if (absMargin > 0 && absMargin < minMargin) continue;
        const choice = margin > 0 ? "second" : margin < 0 ? "first" : "tie";
        const pw = pairwise(a, `${a.id}~${b.id}:pair`, a.targets[0]!, b.targets[0]!, choice, "ratings->pairwise", {
          strength: range > 0 ? Math.min(1, absMargin) : 0,
        });
        pw.metadata = { ...pw.metadata, derivedFrom: [a.id, b.id] };
        out.push(pw);
      }
    }
  }
  return out;
}

/**
 * A correction (an edited output) becomes a new generation holding the edit
 * and a pairwise preference of the corrected output over the original, as
 * learning from user edits and DROC-style corrections do.
 */
export function correctionToPairwise(
  f: FeedbackOf<"correction">,
  original: Generation,
): { generation: Generation; feedback: PairwiseFeedback } {
  if (original.id !== f.targets[0]) {
    throw new RlxfError("invalid_input", `correction ${f.id} targets ${f.targets[0]}, not generation ${original.id}`);
  }
  const generation: Generation = {
    id: `${f.id}:corrected`,
    project: f.project,
    itemId: original.itemId,
    policy: `correction:${f.source.type}:${f.source.id}`,
    output: f.value.output,
    metadata: derivedMeta(f, "correction->generation", { correctedFrom: original.id }),
  };
  if (f.createdAt !== undefined) generation.createdAt = f.createdAt;
  const feedback = pairwise(
    { ...f, itemId: f.itemId ?? original.itemId },
    `${f.id}:pair`,
    original.id,
    generation.id,
    original.output === f.value.output ? "tie" : "second",
    "correction->pairwise",
  );
  return { generation, feedback };
}

function binary(from: Feedback, ok: boolean, conversion: string): FeedbackOf<"binary"> {
  const out: FeedbackOf<"binary"> = {
    id: `${from.id}:binary`,
    project: from.project,
    kind: "binary",
    targets: [...from.targets],
    source: from.source,
    value: { ok },
    metadata: derivedMeta(from, conversion),
  };
  if (from.itemId !== undefined) out.itemId = from.itemId;
  if (from.createdAt !== undefined) out.createdAt = from.createdAt;
  return out;
}

/** A critique's verdict as binary feedback (pass = ok); `undefined` when the critique gives no verdict. */
export function critiqueToBinary(f: FeedbackOf<"critique">): FeedbackOf<"binary"> | undefined {
  if (f.value.verdict === undefined) return undefined;
  return binary(f, f.value.verdict === "pass", "critique->binary");
}

/** One criterion's score normalised to [0,1]: passed is 1/0, a score is divided by maxScore (default 1). */
export function criterionScore(c: RubricCriterion): number {
  if (c.score !== undefined) return Math.min(1, Math.max(0, c.score / (c.maxScore ?? 1)));
  return c.passed ? 1 : 0;
}

/**
 * A rubric as one scalar in [0,1]: the weighted mean of normalised criterion
 * scores (weights default to 1), as checklist rewards (RLCF) aggregate items.
 */
export function rubricToScalar(f: FeedbackOf<"rubric">): number {
  let num = 0;
  let den = 0;
  for (const c of f.value.criteria) {
    const w = c.weight ?? 1;
    num += w * criterionScore(c);
    den += w;
  }
  if (den === 0) throw new RlxfError("invalid_input", `rubric ${f.id}: all criterion weights are 0, so no total is defined`);
  return num / den;
}

/** A rubric as a rating on the [0,1] scale (see `rubricToScalar`). */
export function rubricToRating(f: FeedbackOf<"rubric">): FeedbackOf<"rating"> {
  const out: FeedbackOf<"rating"> = {
    id: `${f.id}:rating`,
    project: f.project,
    kind: "rating",
    targets: [...f.targets],
    source: f.source,
    value: { score: rubricToScalar(f), scale: { min: 0, max: 1 } },
    metadata: derivedMeta(f, "rubric->rating"),
  };
  if (f.itemId !== undefined) out.itemId = f.itemId;
  if (f.createdAt !== undefined) out.createdAt = f.createdAt;
  return out;
}

/** A verifier result as binary feedback (passed = ok). */
export function verificationToBinary(f: FeedbackOf<"verification">): FeedbackOf<"binary"> {
  return binary(f, f.value.passed, "verification->binary");
}

/**
 * A verifier result as a scalar: its score when it gives one, else the
 * fraction of tests passed when it ran tests, else 1 for passed and 0 for failed.
 */
export function verificationToScalar(f: FeedbackOf<"verification">): number {
  const { score, details, passed } = f.value;
  if (score !== undefined) return score;
  if (details?.testsRun !== undefined && details.testsRun > 0) {
    const failed = details.testsFailed ?? (passed ? 0 : details.testsRun);
    return (details.testsRun - failed) / details.testsRun;
  }
  return passed ? 1 : 0;
}

/** A pairwise comparison reduced to what a Bradley-Terry fit needs. */
export interface Comparison {
  a: string;
  b: string;
  /** Probability that b beats a: 1 = b won, 0 = a won, 0.5 = tie; any value in [0, 1]. */
  pB: number;
  /** Weight (e.g. number of identical comparisons); default 1. */
  weight?: number;
}

/** The probability that the second target is better: `pSecond` when given, else 1 / 0 / 0.5 from the choice. */
export function pSecondOf(v: PairwiseFeedback["value"]): number {
  if (v.pSecond !== undefined) return v.pSecond;
  return v.choice === "second" ? 1 : v.choice === "first" ? 0 : 0.5;
}

/**
 * Pairwise feedback as comparisons between players: generations by default,
 * or whatever `playerOf` maps a generation id to (its policy, for a leaderboard).
 * Comparisons of a player with itself are dropped.
 */
export function pairwiseToComparisons(
  feedback: Iterable<Feedback>,
  playerOf: (generationId: string) => string | undefined = (g) => g,
): Comparison[] {
  const out: Comparison[] = [];
  for (const f of feedback) {
    if (f.kind !== "pairwise") continue;
    const a = playerOf(f.targets[0]!);
    const b = playerOf(f.targets[1]!);
    if (a === undefined || b === undefined) {
      throw new RlxfError("invalid_input", `pairwise feedback ${f.id}: no player is known for one of its targets`);
    }
    if (a === b) continue;
    out.push({ a, b, pB: pSecondOf(f.value) });
  }
  return out;
}

/**
 * A pairwise judge asked about a pair in one order leaves one record per order it saw (`metadata.judge.shown`
 * "original" or "swapped", with `metadata.judge.key` naming its config), so that a later run in the other order
 * (`--swap`) reuses the first verdict instead of storing it twice. The key that groups the records of one
 * judgement: project, source, judge config and the pair (in either order); undefined for any other record.
 */
export function orderVerdictKey(f: Feedback): string | undefined {
  if (f.kind !== "pairwise") return undefined;
  const j = f.metadata?.judge as { shown?: unknown; key?: unknown } | undefined;
  if (!j || (j.shown !== "original" && j.shown !== "swapped") || typeof j.key !== "string") return undefined;
  return JSON.stringify([f.project, f.source.type, f.source.id, j.key, [...f.targets].sort()]);
}

/**
 * One judgement from a judge's verdicts on both orders of a pair: the mean preference (a judge that always picks
 * the output shown first gives a tie), oriented as the first record; the verdicts of all of them in its metadata.
 */
export function mergeOrderVerdicts(records: readonly FeedbackOf<"pairwise">[]): FeedbackOf<"pairwise"> {
  const first = records[0]!;
  if (records.length === 1) return first;
  const ps = records.map((r) => (r.targets[0] === first.targets[0] ? pSecondOf(r.value) : 1 - pSecondOf(r.value)));
  const p = ps.reduce((s, x) => s + x, 0) / ps.length;
  const judges = records.map((r) => (r.metadata?.judge ?? {}) as { verdicts?: unknown[] });
  return {
    ...first,
    value: { choice: p < 0.5 ? "first" : p > 0.5 ? "second" : "tie", pSecond: p },
    metadata: {
      ...first.metadata,
      judge: { ...judges[0], shown: "both", preference: 1 + p, verdicts: judges.flatMap((j) => j.verdicts ?? []) },
      mergedFrom: records.map((r) => r.id),
    },
  };
}

/**
 * `xs` with the single-order verdicts of each judgement (see {@link orderVerdictKey}) merged into one, at the place
 * of the first: what leaderboards, reports and datasets count, one judgement per judge and pair.
 */
export function withOrderVerdictsMerged<T>(xs: readonly T[], feedbackOf: (x: T) => Feedback, withFeedback: (x: T, f: Feedback) => T): T[] {
  const groups = new Map<string, T[]>();
  for (const x of xs) {
    const k = orderVerdictKey(feedbackOf(x));
    if (k === undefined) continue;
    const g = groups.get(k);
    if (g) g.push(x);
    else groups.set(k, [x]);
  }
  if (![...groups.values()].some((g) => g.length > 1)) return [...xs];
  const out: T[] = [];
  for (const x of xs) {
    const k = orderVerdictKey(feedbackOf(x));
    const g = k === undefined ? undefined : groups.get(k);
    if (!g || g.length === 1) out.push(x);
    else if (g[0] === x) out.push(withFeedback(x, mergeOrderVerdicts(g.map((y) => feedbackOf(y) as FeedbackOf<"pairwise">))));
  }
  return out;
}
