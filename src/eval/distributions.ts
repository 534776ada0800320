/**
 * Distributions of stored feedback, as a dashboard plots them: ratings per dimension, and the lengths of
 * preferred vs rejected outputs (a length bias shows as preferred outputs being longer).
 */
import { RlxfError } from "../errors.js";
import type { FeedbackKind, SourceType } from "../feedback/index.js";
import type { Store } from "../store/index.js";
import type { Distributions } from "./schema.js";
import { mean, median } from "./stats.js";

function summary(xs: number[]): { n: number; mean: number | null; median: number | null } {
  return { n: xs.length, mean: xs.length ? mean(xs) : null, median: xs.length ? median(xs) : null };
}

/** Which stored feedback a distribution counts. */
export interface DistributionFilter {
  /** Only feedback on items of this dataset. */
  dataset?: string;
  /** Only feedback submitted through this queue (as the store marked it when the queue wrote it, not as metadata says). */
  queueId?: string;
  /** Only feedback from this kind of source. */
  sourceType?: SourceType;
  /** Length histogram bins (default 10). */
  bins?: number;
}

/** Rating histograms per dimension and scale, and lengths of preferred vs rejected outputs in pairwise feedback. */
export async function feedbackDistributions(
  store: Store,
  project: string,
  q: DistributionFilter = {},
  opts: { maxRows?: number; tooMany?: (max: number) => Error } = {},
): Promise<Distributions> {
  const max = opts.maxRows ?? Infinity;
  let read = 0;
  const ratings = new Map<string, { name: string; scale: { min: number; max: number }; scores: Map<number, number>; all: number[] }>();
  const preferred: number[] = [];
  const rejected: number[] = [];
  let ties = 0;
  let longerPreferred = 0;
  let comparable = 0;
  const filter = { project, kind: ["rating", "pairwise"] as FeedbackKind[], ...(q.sourceType ? { sourceType: q.sourceType } : {}), ...(q.queueId !== undefined ? { queueId: q.queueId } : {}) };
  for await (const rf of store.iterateResolvedFeedback(filter)) {
    // Every record read counts, kept or not: the work is the reading.
    if (++read > max) throw opts.tooMany?.(max) ?? new RlxfError("over_ceiling", `the distributions read more than ${max} feedback records`, { field: "maxRows" });
    if (q.dataset !== undefined && rf.item.dataset !== q.dataset) continue;
    const f = rf.feedback;
    if (f.kind === "rating") {
      const name = f.value.dimension ?? "rating";
      const key = `${name}\u0000${f.value.scale.min}\u0000${f.value.scale.max}`;
      let e = ratings.get(key);
      if (!e) ratings.set(key, (e = { name, scale: { min: f.value.scale.min, max: f.value.scale.max }, scores: new Map(), all: [] }));
      e.scores.set(f.value.score, (e.scores.get(f.value.score) ?? 0) + 1);
      e.all.push(f.value.score);
    } else if (f.kind === "pairwise") {
      if (f.value.choice === "tie") {
        ties++;
        continue;
      }
      const [a, b] = rf.targets;
      const win = f.value.choice === "first" ? a! : b!;
      const lose = f.value.choice === "first" ? b! : a!;
      preferred.push(win.output.length);
      rejected.push(lose.output.length);
      if (win.output.length !== lose.output.length) {
        comparable++;
        if (win.output.length > lose.output.length) longerPreferred++;
      }
    }
  }
  const nBins = q.bins ?? 10;
  const top = Math.max(1, ...preferred, ...rejected);
  const width = Math.ceil(top / nBins);
  const bins = Array.from({ length: nBins }, (_, i) => ({ from: i * width, to: (i + 1) * width, preferred: 0, rejected: 0 }));
  const binOf = (x: number) => Math.min(nBins - 1, Math.floor(x / width));
  for (const x of preferred) bins[binOf(x)]!.preferred++;
  for (const x of rejected) bins[binOf(x)]!.rejected++;
  return {
    ratings: [...ratings.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.scale.min - b.scale.min))
      .map((e) => ({
        name: e.name,
        scale: e.scale,
        n: e.all.length,
        mean: mean(e.all),
        histogram: [...e.scores].sort((a, b) => a[0] - b[0]).map(([value, count]) => ({ value, count })),
      })),
    lengths: {
      unit: "characters (UTF-16 code units)",
      pairs: preferred.length,
      ties,
      preferred: summary(preferred),
      rejected: summary(rejected),
      /** Among pairs of different lengths, how often the longer output was preferred. */
      longerPreferred: comparable ? longerPreferred / comparable : null,
      bins,
    },
  };
}
