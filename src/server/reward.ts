/**
 * The reward service: `POST /v1/reward` (a batch of samples, each scored by a reward spec)
 * and `POST /v1/reward/openrlhf` (OpenRLHF's remote reward-model protocol, so that
 * `--remote_rm_url` can point here).
 *
 * A reward spec is a verifier name or spec (see `createVerifier`), a stored reward model
 * (`{"type": "reward-model", "model": "name@N"}`, scored as σ(reward) in [0, 1]), or a
 * composite mixing them with weights. Results are cached in-process (LRU keyed by spec,
 * prompt, completion and reference); with `store: true` each sample is stored as an item,
 * a generation and a `verification` feedback record, all with content-hash ids.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { NotFoundError, RlxfError, ValidationError } from "../errors.js";
import type { FieldIssue } from "../errors.js";
import { contentHash, generationIdFor } from "../io/ids.js";
import { type RewardModel, loadRewardModel } from "../learn/reward/index.js";
import type { Store, StoredConfig } from "../store/index.js";
import type { ChatModel } from "../providers/types.js";
import { CriterionSpec, type JudgeConfig, type JudgeConfigInput } from "../sources/config.js";
import { judgeVerifier } from "../sources/judge-verifier.js";
import { defaultJudges, resolveJudge } from "../sources/registry.js";
import { type VerificationResult, type Verifier, compositeVerifier, createVerifier, parseVerifierSpec, verificationFeedback, verifierSpecs } from "../sources/verifiers/index.js";
import { jsonBody } from "./body.js";
import { type Env, type Settings, parseQuery, requireRole } from "./context.js";
import { ApiError, zodIssues } from "./errors.js";
import { OpenRlhfBody, OpenRlhfQuery, RewardBody, RewardSpecQuery, SaveRewardSpecBody } from "./spec.js";

export const DEFAULT_REWARD_SPEC = "math";
export const REWARD_ROLES = ["admin", "ingest", "read"] as const;
const CONCURRENCY = 16;

// ------------------------------------------------------------------ specs ---

const RewardModelSpec = z.strictObject({
  type: z.literal("reward-model"),
  name: z.string().min(1).optional(),
  model: z.string().min(1).max(200),
});
const JudgeRef = z.union([z.string().min(1).max(100), z.record(z.string(), z.unknown())]);
const JudgeSpec = z.strictObject({
  type: z.literal("judge"),
  /** A shipped judge name (`reference`, `rubric`, `critique`, `steps`, `pairwise`...) or a judge config object. */
  judge: JudgeRef,
  name: z.string().min(1).max(200).optional(),
  /** The model name to ask, on the server's judge endpoint (default: the judge config's, else the server's). */
  model: z.string().min(1).max(200).optional(),
  criteria: z.array(CriterionSpec).min(1).optional(),
  checklist: JudgeRef.optional(),
  threshold: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
});
const CompositeShape = z.strictObject({
  type: z.literal("composite"),
  name: z.string().min(1).optional(),
  members: z
    .array(z.strictObject({ verifier: z.union([z.string().min(1), z.record(z.string(), z.unknown())]), weight: z.number().min(0).optional(), required: z.boolean().optional() }))
    .min(1),
  threshold: z.number().min(0).max(1).optional(),
  keyedReferences: z.boolean().optional(),
});

/** The `kind` of reward specs in the store's configs. */
export const REWARD_SPEC_KIND = "reward-spec";

/** Whether building the spec needs the store or a model (saved specs, reward models, judges), so its build is per project and expires. */
function isDynamic(spec: unknown): boolean {
  if (typeof spec === "string") return !verifierNames().has(spec);
  if (!spec || typeof spec !== "object") return false;
  const o = spec as { type?: unknown; members?: unknown };
  if (o.type === "reward-model" || o.type === "judge") return true;
  return o.type === "composite" && Array.isArray(o.members) && o.members.some((m) => isDynamic((m as { verifier?: unknown })?.verifier));
}

function verifierNames(): Set<string> {
  return new Set(Object.keys(verifierSpecs()));
}

/** `name` or `name@3`. */
function parseSpecRef(ref: string): { name: string; version?: number } {
  const m = /^(.+)@(\d+)$/.exec(ref);
  return m ? { name: m[1]!, version: Number(m[2]) } : { name: ref };
}

/** The error of a bad spec, at `path` in the request. */
function specError(e: unknown, path: string): unknown {
  const at = (p: string) => [path, p].filter((x) => x !== "").join(".");
  if (e instanceof ValidationError) {
    const issues: FieldIssue[] = e.issues.map((i) => ({ path: at(i.path), message: i.message }));
    return new ApiError(400, "validation_failed", `invalid reward spec at ${path}: ${e.message}`, { issues });
  }
  if (e instanceof NotFoundError) return new ApiError(404, "not_found", `reward spec at ${path}: ${e.message}`, { issues: [{ path, message: e.message }] });
  if (e instanceof ApiError) return e;
  if (e instanceof RlxfError) return new ApiError(400, "validation_failed", `invalid reward spec at ${path}: ${e.message}`, { issues: [{ path, message: e.message }] });
  return e;
}

interface BuiltReward {
  verifier: Verifier;
  /** Identifies the spec (with resolved model and saved-spec versions) in cache keys and stored metadata. */
  key: string;
}

function rewardModelVerifier(model: RewardModel, ref: string, name: string): Verifier {
  return {
    name,
    type: "reward-model",
    async verify(input) {
      const [s] = await model.score([{ prompt: input.prompt ?? "", response: input.completion }]);
      const reward = s!.reward;
      const score = 1 / (1 + Math.exp(-reward));
      return { passed: score >= 0.5, score, details: { model: ref, version: model.meta.version, reward, ...(s!.std !== undefined ? { std: s!.std, mean: s!.mean } : {}) } };
    },
  };
}

/** Over HTTP a judge is a shipped name or an inline config: never a path on the server's disk. */
function judgeConfigOf(ref: unknown, path: string): JudgeConfig {
  if (typeof ref === "string") {
    const found = defaultJudges().find((j) => j.name === ref);
    if (!found) throw new ApiError(400, "validation_failed", `invalid reward spec at ${path}: no judge "${ref}"; use one of ${defaultJudges().map((j) => j.name).join(", ")} or a judge config object`, { issues: [{ path, message: `unknown judge "${ref}"` }] });
    return found;
  }
  return resolveJudge(ref as JudgeConfigInput);
}

/** Model access for judge members of reward specs: made on first use, so a server without one still serves everything else. */
export type JudgeModelFactory = () => ChatModel;

/**
 * Builds a spec's scorer. A spec is a shipped verifier name, a verifier spec, a project's saved
 * spec (`name` or `name@N`), a stored reward model, a judge, or a composite of any of these.
 */
export class RewardSpecs {
  readonly #store: Store;
  readonly #judgeModel: JudgeModelFactory | undefined;
  #model: ChatModel | undefined;
  readonly #built = new Map<string, { stamp: string; project: string; value: Promise<BuiltReward> }>();
  /** The project's saved specs and reward models as of now, looked up once per batch of concurrent calls. */
  readonly #stamps = new Map<string, Promise<string>>();
  constructor(store: Store, judgeModel?: JudgeModelFactory) {
    this.#store = store;
    this.#judgeModel = judgeModel;
  }

  async get(project: string, spec: unknown, path: string): Promise<BuiltReward> {
    const dynamic = isDynamic(spec);
    const k = contentHash([dynamic ? project : "", spec]);
    // A spec that reads the store is built again as soon as the project's saved specs or reward models change,
    // whichever server (or replica) changed them.
    const stamp = dynamic ? await this.#stamp(project) : "";
    const hit = this.#built.get(k);
    if (hit && hit.stamp === stamp) return hit.value;
    const value = this.#build(project, spec, path, []);
    value.catch(() => this.#built.delete(k));
    if (this.#built.size >= 256) this.#built.delete(this.#built.keys().next().value!);
    this.#built.set(k, { stamp, project, value });
    return value;
  }

  #stamp(project: string): Promise<string> {
    let p = this.#stamps.get(project);
    if (!p) {
      p = (async () => {
        const [specs, models] = await Promise.all([this.#store.configs.list({ project, kind: REWARD_SPEC_KIND }), this.#store.models.list({ project })]);
        return contentHash([specs.map((c) => `${c.name}@${c.version}`), models.map((m) => `${m.name}@${m.version}`)]);
      })();
      this.#stamps.set(project, p);
      const done = p;
      void p.finally(() => {
        if (this.#stamps.get(project) === done) this.#stamps.delete(project);
      }).catch(() => {});
    }
    return p;
  }

  /** Forget what was built for a project (its saved specs changed). */
  invalidate(project: string): void {
    for (const [k, v] of this.#built) if (v.project === project) this.#built.delete(k);
  }

  /** Checks that a spec builds (names resolve, models exist); judges are checked without asking the model. */
  async check(project: string, spec: unknown, path: string, saving?: string): Promise<void> {
    await this.#build(project, spec, path, saving ? [saving] : [], true);
  }

  #judgeChatModel(path: string, dryRun: boolean): ChatModel {
    if (dryRun) return { model: "(not asked)", chat: () => Promise.reject(new Error("not asked")) };
    if (!this.#judgeModel) {
      throw new ApiError(400, "validation_failed", `reward spec at ${path} has a judge, but this server has no judge model: start it with --judge-model (and --judge-base-url for your endpoint)`, {
        issues: [{ path, message: "no judge model configured on the server" }],
      });
    }
    try {
      this.#model ??= this.#judgeModel();
    } catch (e) {
      throw new ApiError(400, "validation_failed", `reward spec at ${path} has a judge, but the server's judge model is not usable: ${(e as Error).message}`, {
        issues: [{ path, message: "judge model not configured" }],
      });
    }
    return this.#model;
  }

  async #build(project: string, spec: unknown, path: string, seen: string[], dryRun = false): Promise<BuiltReward> {
    try {
      if (typeof spec === "string") {
        if (verifierNames().has(spec)) return { verifier: createVerifier(spec), key: contentHash({ spec }) };
        const ref = parseSpecRef(spec);
        if (seen.includes(ref.name)) throw new RlxfError("spec_cycle", `saved reward spec "${ref.name}" refers to itself (${[...seen, ref.name].join(" -> ")})`);
        const saved = await this.#store.configs.get(project, REWARD_SPEC_KIND, ref.name, ref.version);
        if (!saved) {
          const names = (await this.#store.configs.list({ project, kind: REWARD_SPEC_KIND })).map((c) => c.name);
          throw new RlxfError(
            "unknown_reward_spec",
            `no reward spec "${spec}": use a shipped verifier (${[...verifierNames()].join(", ")})${names.length ? `, a saved spec (${names.join(", ")})` : ""} or a spec object`,
          );
        }
        const inner = await this.#build(project, saved.body, path, [...seen, ref.name], dryRun);
        return { verifier: inner.verifier, key: contentHash({ saved: `${saved.name}@${saved.version}`, inner: inner.key }) };
      }
      const o = (spec ?? {}) as { type?: unknown };
      if (o.type === "reward-model") {
        const r = RewardModelSpec.safeParse(spec);
        if (!r.success) throw new ApiError(400, "validation_failed", `invalid reward spec at ${path}`, { issues: zodIssues(r.error, path) });
        const model = await loadRewardModel(this.#store, r.data.model, { project });
        if (!model.scalar) throw new RlxfError("not_scalar", `reward model "${r.data.model}" is a ${model.type} model: it compares pairs and gives no per-response reward`);
        const ref = `${model.meta.name}@${model.meta.version ?? "?"}`;
        return { verifier: rewardModelVerifier(model, ref, r.data.name ?? ref), key: contentHash({ spec, ref }) };
      }
      if (o.type === "judge") {
        const r = JudgeSpec.safeParse(spec);
        if (!r.success) throw new ApiError(400, "validation_failed", `invalid reward spec at ${path}`, { issues: zodIssues(r.error, path) });
        let judge = judgeConfigOf(r.data.judge, `${path}.judge`);
        if (r.data.model !== undefined) judge = { ...judge, completion: { ...judge.completion, model: r.data.model } };
        const checklist = r.data.checklist !== undefined ? judgeConfigOf(r.data.checklist, `${path}.checklist`) : undefined;
        const model = this.#judgeChatModel(path, dryRun);
        const verifier = judgeVerifier({
          model,
          judge,
          ...(r.data.name !== undefined ? { name: r.data.name } : {}),
          ...(r.data.criteria !== undefined ? { criteria: r.data.criteria } : {}),
          ...(checklist ? { checklist } : {}),
          ...(r.data.threshold !== undefined ? { threshold: r.data.threshold } : {}),
          ...(r.data.seed !== undefined ? { seed: r.data.seed } : {}),
        });
        // The key holds the whole judge config and the model asked, so editing either is a new cache entry.
        return { verifier, key: contentHash({ spec: { ...r.data, judge: undefined, checklist: undefined }, judge, checklist, model: judge.completion?.model ?? model.model }) };
      }
      if (o.type === "composite") {
        const r = CompositeShape.safeParse(spec);
        if (!r.success) throw new ApiError(400, "validation_failed", `invalid reward spec at ${path}`, { issues: zodIssues(r.error, path) });
        const members = await Promise.all(r.data.members.map((m, i) => this.#build(project, m.verifier, `${path}.members.${i}.verifier`, seen, dryRun)));
        const verifier = compositeVerifier({
          members: r.data.members.map((m, i) => ({
            verifier: members[i]!.verifier,
            ...(m.weight !== undefined ? { weight: m.weight } : {}),
            ...(m.required !== undefined ? { required: m.required } : {}),
          })),
          ...(r.data.name !== undefined ? { name: r.data.name } : {}),
          ...(r.data.threshold !== undefined ? { threshold: r.data.threshold } : {}),
          ...(r.data.keyedReferences !== undefined ? { keyedReferences: r.data.keyedReferences } : {}),
        });
        return { verifier, key: contentHash({ spec: { ...r.data, members: undefined }, members: members.map((m) => m.key) }) };
      }
      const parsed = parseVerifierSpec(spec, "reward spec");
      return { verifier: createVerifier(parsed), key: contentHash({ spec: parsed }) };
    } catch (e) {
      throw specError(e, path);
    }
  }
}

// ------------------------------------------------------------------ cache ---

/** A small LRU of results (a Map keeps insertion order: a hit moves to the end). */
export class ResultCache {
  readonly #max: number;
  readonly #map = new Map<string, VerificationResult>();
  constructor(max = 10_000) {
    this.#max = max;
  }
  get(k: string): VerificationResult | undefined {
    const v = this.#map.get(k);
    if (v !== undefined) {
      this.#map.delete(k);
      this.#map.set(k, v);
    }
    return v;
  }
  set(k: string, v: VerificationResult): void {
    this.#map.delete(k);
    this.#map.set(k, v);
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
  get size(): number {
    return this.#map.size;
  }
}

// ---------------------------------------------------------------- scoring ---

export interface RewardComponent {
  name: string;
  type: string;
  weight: number;
  passed: boolean;
  score: number;
}

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

async function mapLimit<T, R>(xs: readonly T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(xs.length);
  let next = 0;
  const worker = async () => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await fn(xs[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, xs.length) }, worker));
  return out;
}

interface Sample {
  prompt?: string;
  completion: string;
  reference?: unknown;
  spec: unknown;
  /** Where the spec sits in the request, for errors. */
  specPath: string;
}

export class RewardService {
  readonly specs: RewardSpecs;
  readonly cache: ResultCache;
  constructor(store: Store, opts: { cacheSize?: number; judgeModel?: JudgeModelFactory } = {}) {
    this.specs = new RewardSpecs(store, opts.judgeModel);
    const cacheSize = opts.cacheSize ?? 10_000;
    this.cache = new ResultCache(cacheSize);
  }

  async score(project: string, samples: readonly Sample[]): Promise<ScoredSample[]> {
    // Every spec first, so that a bad one fails the request before anything runs.
    const built = await Promise.all(samples.map((s) => this.specs.get(project, s.spec, s.specPath)));
    return mapLimit(samples, CONCURRENCY, async (s, i) => {
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

// ----------------------------------------------------------------- routes ---

/** The stored records of scored samples: content-hash ids, so a repeated request stores nothing new. */
function recordsOf(project: string, policy: string, samples: readonly Sample[], scored: ReadonlyArray<Pick<ScoredSample, "result" | "key"> & { verifier: Pick<Verifier, "name" | "type"> }>) {
  const items: unknown[] = [];
  const generations: unknown[] = [];
  const feedback: unknown[] = [];
  const ids: string[] = [];
  samples.forEach((s, i) => {
    const { result, verifier, key } = scored[i]!;
    const prompt = s.prompt ?? "";
    const reference = s.reference ?? undefined;
    const itemId = `it_${contentHash({ project, prompt, reference, via: "reward" })}`;
    items.push({
      id: itemId,
      project,
      prompt,
      ...(typeof reference === "string" ? { reference } : reference !== undefined && reference !== null ? { metadata: { reference } } : {}),
    });
    const gen = { project, itemId, policy, output: s.completion };
    const genId = generationIdFor(gen);
    generations.push({ id: genId, ...gen });
    const value = JSON.parse(JSON.stringify({ passed: result.passed, score: result.score, details: result.details ?? {} }));
    const fbId = `fb_${contentHash({ target: genId, source: verifier.name, spec: key, value })}`;
    feedback.push(verificationFeedback({ id: fbId, target: genId, verifier, result, project, itemId, metadata: { rewardSpec: key } }));
    ids.push(fbId);
  });
  return { batch: { items, generations, feedback }, ids };
}

export function rewardRoutes(app: Hono<Env>, s: Settings): void {
  const service = new RewardService(s.store, s.judgeModel ? { judgeModel: s.judgeModel } : {});
  const rewardBody = RewardBody(s.maxBatch);
  const openRlhfBody = OpenRlhfBody(s.maxBatch);

  app.post("/v1/reward", async (c) => {
    const key = requireRole(c, REWARD_ROLES, "compute rewards");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, rewardBody);
    if (b.store) requireRole(c, ["admin", "ingest"], "store rewards (store: true)");
    const samples: Sample[] = b.samples.map((x, i) => ({
      completion: x.completion,
      ...(x.prompt !== undefined ? { prompt: x.prompt } : {}),
      ...(x.reference !== undefined ? { reference: x.reference } : {}),
      spec: x.spec ?? b.spec ?? DEFAULT_REWARD_SPEC,
      specPath: x.spec !== undefined ? `samples.${i}.spec` : "spec",
    }));
    const scored = await s.compute.call("reward", { project: key.project, samples });
    let ids: string[] | undefined;
    if (b.store) {
      const recs = recordsOf(key.project, b.policy ?? "rlxf-reward", samples, scored);
      await s.store.write(recs.batch);
      ids = recs.ids;
    }
    return c.json({
      results: scored.map((r, i) => ({
        score: r.result.score,
        passed: r.result.passed,
        components: r.components,
        details: r.result.details,
        cached: r.cached,
        ...(ids ? { feedbackId: ids[i] } : {}),
      })),
    });
  });

  // ------------------------------------------------------ saved specs ---

  const specRecord = (x: StoredConfig) => ({
    name: x.name,
    version: x.version,
    spec: x.body,
    ...(x.description !== undefined ? { description: x.description } : {}),
    createdAt: x.createdAt,
  });

  app.post("/v1/reward/specs", async (c) => {
    const key = requireRole(c, ["admin"], "save reward specs");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, SaveRewardSpecBody);
    if (Object.hasOwn(verifierSpecs(), b.name)) {
      throw new ApiError(400, "validation_failed", `invalid body: name "${b.name}" is a shipped verifier; pick another name`, { issues: [{ path: "name", message: "is the name of a shipped verifier" }] });
    }
    await service.specs.check(key.project, b.spec, "spec", b.name);
    const saved = await s.store.configs.save({ project: key.project, kind: REWARD_SPEC_KIND, name: b.name, body: b.spec, ...(b.description !== undefined ? { description: b.description } : {}) });
    service.specs.invalidate(key.project);
    return c.json(specRecord(saved), 201);
  });

  app.get("/v1/reward/specs", async (c) => {
    const key = requireRole(c, REWARD_ROLES, "read reward specs");
    const specs = await s.store.configs.list({ project: key.project, kind: REWARD_SPEC_KIND });
    return c.json({ specs: specs.map(specRecord) });
  });

  app.get("/v1/reward/specs/:name", async (c) => {
    const key = requireRole(c, REWARD_ROLES, "read reward specs");
    const q = parseQuery(c, RewardSpecQuery);
    const name = c.req.param("name");
    const versions = await s.store.configs.list({ project: key.project, kind: REWARD_SPEC_KIND, name });
    const one = q.version === undefined ? versions[0] : versions.find((v) => v.version === q.version);
    if (!one) throw new ApiError(404, "not_found", `no saved reward spec "${name}"${q.version !== undefined ? ` version ${q.version}` : ""} in this project`);
    return c.json({ ...specRecord(one), versions: versions.map((v) => v.version) });
  });

  app.delete("/v1/reward/specs/:name", async (c) => {
    const key = requireRole(c, ["admin"], "delete reward specs");
    const q = parseQuery(c, RewardSpecQuery);
    const name = c.req.param("name");
    const deleted = await s.store.configs.remove(key.project, REWARD_SPEC_KIND, name, q.version);
    if (deleted === 0) throw new ApiError(404, "not_found", `no saved reward spec "${name}"${q.version !== undefined ? ` version ${q.version}` : ""} in this project`);
    service.specs.invalidate(key.project);
    return c.json({ deleted });
  });

  app.post("/v1/reward/openrlhf", async (c) => {
    const key = requireRole(c, REWARD_ROLES, "compute rewards");
    const q = parseQuery(c, OpenRlhfQuery);
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, openRlhfBody);
    const n = b.query.length;
    const issues: FieldIssue[] = [];
    if (b.prompts && b.prompts.length !== n) issues.push({ path: "prompts", message: `has ${b.prompts.length} entries for ${n} queries` });
    if (b.labels && b.labels.length !== n) issues.push({ path: "labels", message: `has ${b.labels.length} entries for ${n} queries` });
    if (issues.length) throw new ApiError(400, "validation_failed", `invalid body: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, { issues });
    const spec = b.spec ?? q.spec ?? DEFAULT_REWARD_SPEC;
    const samples: Sample[] = b.query.map((query, i) => {
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
    const scored = await s.compute.call("reward", { project: key.project, samples });
    const rewards = scored.map((r) => r.result.score);
    const extra: Record<string, number[]> = { passed: scored.map((r) => (r.result.passed ? 1 : 0)) };
    const first = scored[0]!.components;
    if (first.length > 1) {
      first.forEach((comp, j) => {
        let name = comp.name in extra ? `${comp.name}_${j}` : comp.name;
        if (name === "passed") name = `${name}_${j}`;
        extra[name] = scored.map((r) => r.components[j]?.score ?? 0);
      });
    }
    return c.json({ rewards, scores: rewards, extra_logs: extra });
  });
}
