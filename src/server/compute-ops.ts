/**
 * What the compute pool (compute.ts) runs, with inputs and outputs that cross a thread boundary: a reward
 * batch scored by the reward service, and a leaderboard read from the store and fitted.
 */
import { type GenerationInfo, alpacaEvalLeaderboard, bradleyTerryLeaderboard } from "../eval/index.js";
import type { Feedback } from "../feedback/schema.js";
import { alpacaEvalRows } from "../jobs/kinds/leaderboard.js";
import { type ModelSettings, StoreResponseCache, createModel } from "../providers/index.js";
import type { ChatModel } from "../providers/types.js";
import type { VerificationResult } from "../sources/verifiers/index.js";
import type { Store } from "../store/index.js";
import { type RewardComponent, RewardService } from "./reward.js";

export interface RewardSampleArgs {
  prompt?: string;
  completion: string;
  reference?: unknown;
  spec: unknown;
  specPath: string;
}

/** A scored sample as it crosses threads. */
export interface ScoredWire {
  result: VerificationResult;
  components: RewardComponent[];
  cached: boolean;
  verifier: { name: string; type: string };
  key: string;
}

export interface LeaderboardArgs {
  project: string;
  method: "bt" | "alpaca-eval";
  baseline?: string;
  bootstrap: number;
  seed: number;
}

export interface ComputeOps {
  reward(args: { project: string; samples: RewardSampleArgs[] }): Promise<ScoredWire[]>;
  leaderboard(args: LeaderboardArgs): Promise<{ method: string; baseline?: string; rows: unknown[] }>;
}

export type OpArgs<K extends keyof ComputeOps> = Parameters<ComputeOps[K]>[0];
export type OpResult<K extends keyof ComputeOps> = Awaited<ReturnType<ComputeOps[K]>>;

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
    async leaderboard(q) {
      if (q.method === "alpaca-eval") {
        const { rows, baseline } = await alpacaEvalRows(store, q.project, q.baseline);
        return { method: "alpaca-eval", ...(baseline ? { baseline } : {}), rows: rows.length ? alpacaEvalLeaderboard(rows) : [] };
      }
      const feedback: Feedback[] = [];
      const generations = new Map<string, GenerationInfo>();
      for await (const rf of store.iterateResolvedFeedback({ project: q.project, kind: ["pairwise", "ranking", "rating"] })) {
        feedback.push(rf.feedback);
        for (const g of rf.targets) generations.set(g.id, { policy: g.policy, itemId: g.itemId });
      }
      return { method: "bt", rows: bradleyTerryLeaderboard(feedback, generations, { rounds: q.bootstrap, seed: q.seed }) };
    },
  };
}
