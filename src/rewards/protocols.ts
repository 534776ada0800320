/**
 * The reward service's requests and answers: a batch of samples (`POST /v1/reward`, what verl's and TRL's
 * reward functions in examples/ send), optionally stored as records, and OpenRLHF's remote reward-model
 * protocol (`--remote_rm_url`: queries that start with their prompt, labels as ground truths).
 */
import { type FieldIssue, ValidationError } from "../errors.js";
import { contentHash, generationIdFor } from "../io/index.js";
import { verificationFeedback } from "../sources/verifiers/index.js";
import type { Store } from "../store/index.js";
import { DEFAULT_REWARD_SPEC, type OpenRlhfBody, type OpenRlhfResponse, type RewardBody, type RewardResponse } from "./schema.js";
import type { RewardSampleToScore, RewardScorer, ScoredResult } from "./service.js";

/**
 * The stored records of one scored sample: an item (by prompt and reference), a generation (of `policy`) and its
 * `verification` feedback, with content-hash ids, so storing it again (a repeated request, a retried job) stores
 * nothing new.
 */
export function rewardRecords(project: string, policy: string, s: Omit<RewardSampleToScore, "spec" | "specPath">, scored: Pick<ScoredResult, "result" | "verifier" | "key">) {
  const { result, verifier, key } = scored;
  const prompt = s.prompt ?? "";
  const reference = s.reference ?? undefined;
  const itemId = `it_${contentHash({ project, prompt, reference, via: "reward" })}`;
  const item = {
    id: itemId,
    project,
    prompt,
    ...(typeof reference === "string" ? { reference } : reference !== undefined && reference !== null ? { metadata: { reference } } : {}),
  };
  const gen = { project, itemId, policy, output: s.completion };
  const genId = generationIdFor(gen);
  const value = JSON.parse(JSON.stringify({ passed: result.passed, score: result.score, details: result.details ?? {} }));
  const fbId = `fb_${contentHash({ target: genId, source: verifier.name, spec: key, value })}`;
  const feedback = verificationFeedback({ id: fbId, target: genId, verifier, result, project, itemId, metadata: { rewardSpec: key } });
  return { id: fbId, records: { items: [item], generations: [{ id: genId, ...gen }], feedback: [feedback] } };
}

/** The stored records of scored samples: content-hash ids, so a repeated request stores nothing new. */
function recordsOf(project: string, policy: string, samples: readonly RewardSampleToScore[], scored: readonly ScoredResult[]) {
  const items: unknown[] = [];
  const generations: unknown[] = [];
  const feedback: unknown[] = [];
  const ids: string[] = [];
  samples.forEach((s, i) => {
    const r = rewardRecords(project, policy, s, scored[i]!);
    items.push(...r.records.items);
    generations.push(...r.records.generations);
    feedback.push(...r.records.feedback);
    ids.push(r.id);
  });
  return { batch: { items, generations, feedback }, ids };
}

/**
 * Scores a batch: each sample by its own spec, else the batch's, else "math". With `store`, each sample is
 * also stored as an item, a generation (of `policy`) and `verification` feedback, with content-hash ids.
 */
export async function scoreBatch(service: RewardScorer, store: Store, project: string, b: RewardBody): Promise<RewardResponse> {
  const samples: RewardSampleToScore[] = b.samples.map((x, i) => ({
    completion: x.completion,
    ...(x.prompt !== undefined ? { prompt: x.prompt } : {}),
    ...(x.reference !== undefined ? { reference: x.reference } : {}),
    spec: x.spec ?? b.spec ?? DEFAULT_REWARD_SPEC,
    specPath: x.spec !== undefined ? `samples.${i}.spec` : "spec",
  }));
  const scored = await service.score(project, samples);
  let ids: string[] | undefined;
  if (b.store) {
    const recs = recordsOf(project, b.policy ?? "rlxf-reward", samples, scored);
    await store.write(recs.batch);
    ids = recs.ids;
  }
  return {
    results: scored.map((r, i) => ({
      score: r.result.score,
      passed: r.result.passed,
      components: r.components,
      details: r.result.details,
      cached: r.cached,
      ...(ids ? { feedbackId: ids[i] } : {}),
    })),
  };
}

/**
 * OpenRLHF's remote reward model: `query` holds prompt + response (scored on the response when the query
 * starts with its prompt), `labels` the ground truths; the answer gives `rewards` (= `scores`) and, per
 * component of a composite spec, `extra_logs`.
 */
export async function scoreOpenRlhf(service: RewardScorer, project: string, b: OpenRlhfBody, querySpec?: string): Promise<OpenRlhfResponse> {
  const n = b.query.length;
  const issues: FieldIssue[] = [];
  if (b.prompts && b.prompts.length !== n) issues.push({ path: "prompts", message: `has ${b.prompts.length} entries for ${n} queries` });
  if (b.labels && b.labels.length !== n) issues.push({ path: "labels", message: `has ${b.labels.length} entries for ${n} queries` });
  if (issues.length) throw new ValidationError(issues, undefined, "body", `invalid body: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
  const spec = b.spec ?? querySpec ?? DEFAULT_REWARD_SPEC;
  const samples: RewardSampleToScore[] = b.query.map((query, i) => {
    const prompt = b.prompts?.[i];
    const completion = prompt !== undefined && prompt !== "" && query.startsWith(prompt) ? query.slice(prompt.length) : query;
    const label = b.labels?.[i];
    return {
      completion,
      ...(prompt !== undefined ? { prompt } : {}),
      ...(label !== undefined && label !== null ? { reference: label } : {}),
      spec,
      specPath: b.spec !== undefined ? "spec" : "spec (query)",
    };
  });
  const scored = await service.score(project, samples);
  const rewards = scored.map((r) => r.result.score);
  // Keyed by component names from the spec: no inherited keys (a component may be called "constructor").
  const extra: Record<string, number[]> = Object.assign(Object.create(null) as Record<string, number[]>, { passed: scored.map((r) => (r.result.passed ? 1 : 0)) });
  const first = scored[0]!.components;
  if (first.length > 1) {
    first.forEach((comp, j) => {
      let name = comp.name in extra ? `${comp.name}_${j}` : comp.name;
      if (name === "passed") name = `${name}_${j}`;
      extra[name] = scored.map((r) => r.components[j]?.score ?? 0);
    });
  }
  return { rewards, scores: rewards, extra_logs: extra };
}
