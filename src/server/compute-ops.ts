/**
 * What the compute pool (compute.ts) runs, with inputs and outputs that cross a thread boundary: a reward
 * batch scored by the reward service, and a leaderboard read from the store and fitted.
 */
import type { Leaderboard } from "../api/index.js";
import { alpacaEvalBoardFromPairsThreaded, alpacaEvalPairsFromStore, bradleyTerryLeaderboard, comparisonsFromStore } from "../eval/index.js";
import { type ChatModel, type ModelSettings, StoreResponseCache, createModel } from "../providers/index.js";
import { type RewardSampleToScore, RewardService, type ScoredResult } from "../rewards/index.js";
import type { Store } from "../store/index.js";

export interface LeaderboardArgs {
  project: string;
  method: "bt" | "alpaca-eval";
  baseline?: string;
  bootstrap: number;
  seed: number;
  /** alpaca-eval: compute the length-controlled win rate (default true). */
  lc?: boolean;
  /** alpaca-eval: where the LC's instruction difficulty comes from. */
  difficulty?: "auto" | "estimate" | "shipped";
}

export interface ComputeOps {
  reward(args: { project: string; samples: RewardSampleToScore[] }): Promise<ScoredResult[]>;
  leaderboard(args: LeaderboardArgs): Promise<Leaderboard>;
}

export type OpArgs<K extends keyof ComputeOps> = Parameters<ComputeOps[K]>[0];
export type OpResult<K extends keyof ComputeOps> = Awaited<ReturnType<ComputeOps[K]>>;

/** The leaderboard of a project's stored feedback (the length-controlled fits on threads of their own). */
export async function storeLeaderboard(store: Store, q: LeaderboardArgs): Promise<Leaderboard> {
  if (q.method === "alpaca-eval") {
    const board = await alpacaEvalBoardFromPairsThreaded(await alpacaEvalPairsFromStore(store, q.project), {
      minThreads: 1,
      ...(q.baseline !== undefined ? { baseline: q.baseline } : {}),
      ...(q.lc !== undefined ? { lengthControlled: q.lc } : {}),
      ...(q.difficulty !== undefined ? { difficulty: q.difficulty } : {}),
    });
    return { method: "alpaca-eval", ...board };
  }
  const { feedback, generations } = await comparisonsFromStore(store, q.project);
  return { method: "bt", rows: bradleyTerryLeaderboard(feedback, generations, { rounds: q.bootstrap, seed: q.seed }) };
}

/** The operations on `store`; judges in reward specs ask `judgeModel`, or a model made from `judge` settings. */
export function computeOps(store: Store, opts: { judgeModel?: () => ChatModel; judge?: ModelSettings } = {}): ComputeOps {
  const judge = opts.judge;
  const judgeModel = opts.judgeModel ?? (judge ? () => createModel(judge, { cache: new StoreResponseCache(store.responseCache) }) : undefined);
  let service: RewardService | undefined;
  return {
    async reward({ project, samples }) {
      service ??= new RewardService(store, judgeModel ? { judgeModel } : {});
      const scored = await service.score(project, samples);
      return scored.map((r) => ({ result: r.result, components: r.components, cached: r.cached, verifier: { name: r.verifier.name, type: r.verifier.type }, key: r.key }));
    },
    leaderboard: (q) => storeLeaderboard(store, q),
  };
}
