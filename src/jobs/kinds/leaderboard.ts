/**
 * `leaderboard`: the leaderboards of `GET /v1/leaderboard` with as much work as asked for (thousands of
 * bootstrap rounds, the length-controlled GLM fit of AlpacaEval), off the request path.
 *
 * With `aggregate` (the default for Bradley-Terry over many records), pairwise outcomes are counted in SQL
 * (one row per pair of policies and outcome, however many records there are) and the fit and its bootstrap
 * run on those counts: the bootstrap draws each count from a Poisson distribution around it, which for
 * large samples is the same as resampling the comparisons one by one (the "Poisson bootstrap").
 */
import { z } from "zod";
import {
  type GenerationInfo,
  alpacaEvalBoardFromPairsThreaded,
  alpacaEvalPairsFromStore,
  bradleyTerry,
  bradleyTerryLeaderboard,
  createRng,
  quantile,
  toElo,
} from "../../eval/index.js";
import type { Comparison, Feedback } from "../../feedback/index.js";
import type { Store } from "../../store/index.js";
import type { JobKind } from "../types.js";

/** Most bootstrap rounds a job may ask for. */
export const MAX_ROUNDS = 20_000;

export const LeaderboardInput = z.strictObject({
  method: z.enum(["bt", "alpaca-eval"]).default("bt"),
  bootstrap: z.number().int().min(1).max(MAX_ROUNDS).default(200),
  seed: z.number().int().min(0).default(0),
  baseline: z.string().min(1).max(256).optional(),
  /** alpaca-eval: compute the length-controlled win rate (default true). */
  lc: z.boolean().optional(),
  /** alpaca-eval: the LC's instruction difficulty: rlxf's shipped estimate where it covers the instructions, else estimated (auto). */
  difficulty: z.enum(["auto", "estimate", "shipped"]).optional(),
  /** Bradley-Terry on outcome counts aggregated in SQL (pairwise feedback only); default true. */
  aggregate: z.boolean().optional(),
});
export type LeaderboardInput = z.infer<typeof LeaderboardInput>;

/** Pairwise outcomes counted in SQL: one comparison per (first policy, second policy, P(second wins)) with its count. */
export async function pairwiseCounts(store: Store, project: string): Promise<Comparison[]> {
  const pg = store.engine === "postgres";
  const choice = pg ? "(f.body::jsonb -> 'value' ->> 'choice')" : "json_extract(f.body, '$.value.choice')";
  const pSecond = pg ? "(f.body::jsonb -> 'value' ->> 'pSecond')::double precision" : "json_extract(f.body, '$.value.pSecond')";
  const p = `round(coalesce(${pSecond}, case ${choice} when 'second' then 1.0 when 'first' then 0.0 else 0.5 end)${pg ? "::numeric" : ""}, 3)`;
  // Driven from the feedback rows, each target found by its primary key (lateral joins; `offset 0` keeps
  // PostgreSQL from flattening them into joins it might plan as quadratic loops on freshly loaded tables,
  // whose statistics autovacuum has not gathered yet): linear in the records whatever the statistics say.
  // SQLite (no LATERAL) always joins by nested loops over the primary keys anyway.
  const text = pg
    ? `
    select g1.policy as a, g2.policy as b, f.p as p, count(*) as n
      from (select f.id, ${p} as p from feedback f where f.project = $1 and f.kind = 'pairwise') f
      cross join lateral (select t.generation_id from feedback_targets t where t.project = $1 and t.feedback_id = f.id and t.position = 0 offset 0) t1
      cross join lateral (select t.generation_id from feedback_targets t where t.project = $1 and t.feedback_id = f.id and t.position = 1 offset 0) t2
      cross join lateral (select g.policy from generations g where g.project = $1 and g.id = t1.generation_id offset 0) g1
      cross join lateral (select g.policy from generations g where g.project = $1 and g.id = t2.generation_id offset 0) g2
     group by g1.policy, g2.policy, f.p`
    : `
    select g1.policy as a, g2.policy as b, ${p} as p, count(*) as n
      from feedback f
      join feedback_targets t1 on t1.project = f.project and t1.feedback_id = f.id and t1.position = 0
      join feedback_targets t2 on t2.project = f.project and t2.feedback_id = f.id and t2.position = 1
      join generations g1 on g1.project = t1.project and g1.id = t1.generation_id
      join generations g2 on g2.project = t2.project and g2.id = t2.generation_id
     where f.project = ? and f.kind = 'pairwise'
     group by g1.policy, g2.policy, ${p}`;
  const r = await store.jobs.withSql((tx) => tx.executeSql(text, [project]));
  return (r.rows as { a: string; b: string; p: number | string; n: number | string }[])
    .filter((x) => x.a !== x.b)
    .map((x) => ({ a: x.a, b: x.b, pB: Number(x.p), weight: Number(x.n) }));
}

/** Draw from Poisson(lambda): Knuth's method for small lambda, a normal approximation for large. */
function poisson(lambda: number, u: () => number): number {
  if (lambda < 30) {
    const l = Math.exp(-lambda);
    let k = 0;
    let prod = u();
    while (prod > l) {
      k++;
      prod *= u();
    }
    return k;
  }
  const z = Math.sqrt(-2 * Math.log(u() || 1e-300)) * Math.cos(2 * Math.PI * u());
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
}

export interface AggregatedRow {
  model: string;
  rating: number;
  lower: number;
  upper: number;
  n_comparisons: number;
  win_share: number;
}

/** Bradley-Terry ratings (Elo scale) with Poisson-bootstrap intervals from aggregated counts. */
export function aggregatedBradleyTerry(comparisons: readonly Comparison[], opts: { rounds: number; seed: number; alpha?: number; onRound?: (r: number) => void }): AggregatedRow[] {
  if (comparisons.length === 0) return [];
  const fit = bradleyTerry(comparisons, { scale: "elo" });
  const start = fit.logStrength;
  const rng = createRng(opts.seed);
  const u = () => rng.next();
  const draws = new Map<string, number[]>(fit.players.map((p) => [p, []]));
  for (let r = 0; r < opts.rounds; r++) {
    const resampled = comparisons.map((c) => ({ ...c, weight: poisson(c.weight ?? 1, u) })).filter((c) => c.weight > 0);
    const res = bradleyTerry(resampled, { players: fit.players, init: start });
    for (const p of fit.players) draws.get(p)!.push(toElo(res.logStrength.get(p) ?? 0));
    opts.onRound?.(r + 1);
  }
  const alpha = opts.alpha ?? 0.05;
  const n = new Map<string, number>();
  const won = new Map<string, number>();
  for (const c of comparisons) {
    const w = c.weight ?? 1;
    n.set(c.a, (n.get(c.a) ?? 0) + w);
    n.set(c.b, (n.get(c.b) ?? 0) + w);
    won.set(c.a, (won.get(c.a) ?? 0) + w * (1 - c.pB));
    won.set(c.b, (won.get(c.b) ?? 0) + w * c.pB);
  }
  return fit.players
    .map((model) => {
      const d = draws.get(model)!;
      return {
        model,
        rating: fit.scores.get(model)!,
        lower: d.length ? quantile(d, alpha / 2) : fit.scores.get(model)!,
        upper: d.length ? quantile(d, 1 - alpha / 2) : fit.scores.get(model)!,
        n_comparisons: n.get(model) ?? 0,
        win_share: (won.get(model) ?? 0) / (n.get(model) || 1),
      };
    })
    .sort((x, y) => y.rating - x.rating);
}

export const leaderboardKind: JobKind<LeaderboardInput> = {
  name: "leaderboard",
  description: "a leaderboard on stored feedback with many bootstrap rounds or the length-controlled fit (Bradley-Terry or AlpacaEval win rates)",
  input: LeaderboardInput,
  roles: ["admin", "read"],
  maxAttempts: 2,
  split: (input) => ({ input, split: { phase: "whole" } }),
  async runWhole(ctx) {
    const { store, job } = ctx;
    const q = job.input;
    if (q.method === "alpaca-eval") {
      ctx.progress(0, null, "reading pairwise feedback");
      const pairs = await alpacaEvalPairsFromStore(store, job.project);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      ctx.progress(pairs.length, pairs.length, "fitting win rates and the length-controlled model");
      const board = await alpacaEvalBoardFromPairsThreaded(pairs, {
        minThreads: 1,
        ...(q.baseline !== undefined ? { baseline: q.baseline } : {}),
        ...(q.lc !== undefined ? { lengthControlled: q.lc } : {}),
        ...(q.difficulty !== undefined ? { difficulty: q.difficulty } : {}),
      });
      return { method: "alpaca-eval", ...board };
    }
    if (q.aggregate !== false) {
      ctx.progress(0, q.bootstrap, "counting outcomes");
      const comparisons = await pairwiseCounts(store, job.project);
      const rows = aggregatedBradleyTerry(comparisons, {
        rounds: q.bootstrap,
        seed: q.seed,
        onRound: (r) => {
          if (r % 50 === 0) ctx.progress(r, q.bootstrap, "bootstrap");
        },
      });
      return { method: "bt", aggregated: true, rounds: q.bootstrap, rows };
    }
    const feedback: Feedback[] = [];
    const generations = new Map<string, GenerationInfo>();
    for await (const rf of store.iterateResolvedFeedback({ project: job.project, kind: ["pairwise", "ranking", "rating"] })) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      feedback.push(rf.feedback);
      for (const g of rf.targets) generations.set(g.id, { policy: g.policy, itemId: g.itemId });
      if (feedback.length % 5000 === 0) ctx.progress(feedback.length, null, "reading feedback");
    }
    ctx.progress(0, q.bootstrap, `bootstrap over ${feedback.length} records`);
    const rows = bradleyTerryLeaderboard(feedback, generations, { rounds: q.bootstrap, seed: q.seed });
    return { method: "bt", rounds: q.bootstrap, rows };
  },
};
