/**
 * Scoring a batch of samples with reward specs, with an in-process cache of results.
 */
import { contentHash } from "../io/index.js";
import { type VerificationResult, type Verifier, mapLimit } from "../sources/verifiers/index.js";
import type { Store } from "../store/index.js";
import { ResultCache } from "./cache.js";
import type { RewardComponent } from "./schema.js";
import { type JudgeModelFactory, RewardSpecs } from "./specs.js";

const CONCURRENCY = 16;

export interface ScoredSample {
  result: VerificationResult;
  components: RewardComponent[];
  cached: boolean;
  verifier: Verifier;
  key: string;
}

function components(v: Verifier, r: VerificationResult): RewardComponent[] {
  const members = r.details.members;
  if (v.type === "composite" && Array.isArray(members)) {
    return members.map((m: { name: string; type: string; weight: number; passed: boolean; score: number }) => ({
      name: m.name,
      type: m.type,
      weight: m.weight,
      passed: m.passed,
      score: m.score,
    }));
  }
  return [{ name: v.name, type: v.type, weight: 1, passed: r.passed, score: r.score }];
}

/** A scored sample as it can cross a thread boundary: the scorer named by its name and type only. */
export type ScoredResult = Omit<ScoredSample, "verifier"> & { verifier: Pick<Verifier, "name" | "type"> };

/** What scores batches: a RewardService here, or one in a pool of threads (the server's). */
export interface RewardScorer {
  score(project: string, samples: readonly RewardSampleToScore[]): Promise<readonly ScoredResult[]>;
}

export interface RewardSampleToScore {
  prompt?: string;
  completion: string;
  reference?: unknown;
  spec: unknown;
  /** Where the spec sits in the request, for errors. */
  specPath: string;
}

/**
 * Scores batches of samples: each sample's spec is built first (a bad one fails the batch before anything
 * runs), then up to 16 samples are scored at once, each result cached in-process (LRU keyed by the project,
 * the spec's resolved key, prompt, completion and reference). A scorer that throws gives score 0 with the
 * error in `details`, and is not cached.
 */
export class RewardService implements RewardScorer {
  readonly specs: RewardSpecs;
  readonly cache: ResultCache;
  constructor(store: Store, opts: { cacheSize?: number; judgeModel?: JudgeModelFactory } = {}) {
    this.specs = new RewardSpecs(store, opts.judgeModel);
    const cacheSize = opts.cacheSize ?? 10_000;
    this.cache = new ResultCache(cacheSize);
  }

  async score(project: string, samples: readonly RewardSampleToScore[]): Promise<ScoredSample[]> {
    // Every spec first, so that a bad one fails the request before anything runs.
    const built = await Promise.all(samples.map((s) => this.specs.get(project, s.spec, s.specPath)));
    return mapLimit([...samples], CONCURRENCY, async (s, i) => {
      const { verifier, key } = built[i]!;
      const ck = contentHash([project, key, s.prompt ?? null, s.completion, s.reference ?? null]);
      const hit = this.cache.get(ck);
      if (hit) return { result: hit, components: components(verifier, hit), cached: true, verifier, key };
      let result: VerificationResult;
      let ok = true;
      try {
        result = await verifier.verify({
          completion: s.completion,
          ...(s.prompt !== undefined ? { prompt: s.prompt } : {}),
          ...(s.reference !== undefined && s.reference !== null ? { reference: s.reference } : {}),
        });
      } catch (e) {
        ok = false;
        result = { passed: false, score: 0, details: { error: (e as Error).message } };
      }
      if (ok) this.cache.set(ck, result);
      return { result, components: components(verifier, result), cached: false, verifier, key };
    });
  }
}

