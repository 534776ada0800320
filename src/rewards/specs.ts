/**
 * Reward specs: what scores a completion. A spec is a shipped verifier name or a verifier spec (see
 * `createVerifier`), a project's saved spec (`name` or `name@N`), a stored reward model
 * (`{"type": "reward-model", "model": "name@N"}`, scored as σ(reward) in [0, 1]), a judge, or a composite
 * mixing them with weights. `RewardSpecs` builds the scorer of a spec, once per spec (and project, for specs
 * that read the store), and checks specs before they are saved.
 */
import { z } from "zod";
import { type FieldIssue, NotFoundError, RlxfError, ValidationError, typedError, zodIssues } from "../errors.js";
import { contentHash } from "../io/index.js";
import { type RewardModel, loadRewardModel, passagesOf } from "../learn/index.js";
import type { ChatModel } from "../providers/index.js";
import { CriterionSpec, type JudgeConfig, type JudgeConfigInput, defaultJudges, judgeVerifier, resolveJudge } from "../sources/index.js";
import { type Verifier, type VerifierContext, compositeVerifier, createVerifier, parseVerifierSpec, verifierSpecs } from "../sources/verifiers/index.js";
import { registerCriticRewards } from "../critics/index.js";
import type { Store } from "../store/index.js";


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

/**
 * Whether building the spec needs the store or a model (saved specs, reward models, judges), so its build is per
 * project and is built again when the project's saved specs or reward models change.
 */
function isDynamic(spec: unknown): boolean {
  if (typeof spec === "string") return !verifierNames().has(spec);
  if (!spec || typeof spec !== "object") return false;
  const o = spec as { type?: unknown; members?: unknown };
  if (o.type === "reward-model" || o.type === "judge") return true;
  return o.type === "composite" && Array.isArray(o.members) && o.members.some((m) => isDynamic((m as { verifier?: unknown })?.verifier));
}

/** The names of the shipped verifiers (a saved spec may not take one). */
export function verifierNames(): Set<string> {
  return new Set(Object.keys(verifierSpecs()));
}

/** `name` or `name@3`. */
export function parseSpecRef(ref: string): { name: string; version?: number } {
  const m = /^(.+)@(\d+)$/.exec(ref);
  return m ? { name: m[1]!, version: Number(m[2]) } : { name: ref };
}

/** A spec that cannot be built, with the path of the offending part (in the request, or the saved spec). */
export class RewardSpecError extends ValidationError {
  constructor(path: string, message: string, issues: FieldIssue[] = [{ path, message }]) {
    super(issues, undefined, "reward spec", message);
    this.name = "RewardSpecError";
  }
}

/** The error of a bad spec, at `path`: invalid parts name their field, missing models and specs are not found. */
function specError(e: unknown, path: string): unknown {
  const at = (p: string) => [path, p].filter((x) => x !== "").join(".");
  if (e instanceof RewardSpecError) return e;
  if (e instanceof NotFoundError) return e.field !== undefined ? e : new NotFoundError(`reward spec at ${path}: ${e.message}`, { field: path });
  if (e instanceof ValidationError) {
    return new RewardSpecError(path, `invalid reward spec at ${path}: ${e.message}`, e.issues.map((i) => ({ path: at(i.path), message: i.message })));
  }
  if (typedError(e)?.category === "validation") return new RewardSpecError(path, `invalid reward spec at ${path}: ${(e as Error).message}`);
  return e;
}

export interface BuiltReward {
  verifier: Verifier;
  /** Identifies the spec (with resolved model and saved-spec versions) in cache keys and stored metadata. */
  key: string;
}

function rewardModelVerifier(model: RewardModel, ref: string, name: string): Verifier {
  return {
    name,
    type: "reward-model",
    async verify(input) {
      const passages = model.type === "segments" ? passagesOf(input.reference) : undefined;
      const [s] = await model.score([{ prompt: input.prompt ?? "", response: input.completion, ...(passages ? { passages } : {}) }]);
      const reward = s!.reward;
      const score = 1 / (1 + Math.exp(-reward));
      // A segment model (Fine-Grained RLHF) also gives each segment's reward, with its character offsets.
      const segments = s!.segments?.map(({ start, end, reward: r, rewards, flagged }) => ({ start, end, reward: r, rewards, flagged }));
      return { passed: score >= 0.5, score, details: { model: ref, version: model.meta.version, reward, ...(s!.std !== undefined ? { std: s!.std, mean: s!.mean } : {}), ...(segments ? { segments } : {}) } };
    },
  };
}

/** In a spec a judge is a shipped name or an inline config: never a path on disk (specs come over HTTP). */
function judgeConfigOf(ref: unknown, path: string): JudgeConfig {
  if (typeof ref === "string") {
    const found = defaultJudges().find((j) => j.name === ref);
    if (!found) {
      throw new RewardSpecError(path, `invalid reward spec at ${path}: no judge "${ref}"; use one of ${defaultJudges().map((j) => j.name).join(", ")} or a judge config object`, [
        { path, message: `unknown judge "${ref}"` },
      ]);
    }
    return found;
  }
  try {
    return resolveJudge(ref as JudgeConfigInput);
  } catch (e) {
    throw specError(e, path);
  }
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
    registerCriticRewards();
  }

  /** What verifiers that ask a model (critic rewards' actor) use: the judge model, made on first use. */
  #verifierContext(path: string, dryRun: boolean): VerifierContext {
    return {
      chatModel: () => {
        try {
          return this.#judgeChatModel(path, dryRun);
        } catch (e) {
          throw new RlxfError("missing_option", `the reward spec at ${path} asks a model (e.g. an actor revising from a critique), but ${(e as Error).message.replace(/^.*?, but /, "")}`);
        }
      },
    };
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
      void p
        .finally(() => {
          if (this.#stamps.get(project) === done) this.#stamps.delete(project);
        })
        .catch(() => {});
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
      throw new RewardSpecError(path, `reward spec at ${path} has a judge, but no judge model is configured: start the server with --judge-model (and --judge-base-url for your endpoint), or set RLXF_JUDGE_MODEL`, [
        { path, message: "no judge model configured" },
      ]);
    }
    try {
      this.#model ??= this.#judgeModel();
    } catch (e) {
      throw new RewardSpecError(path, `reward spec at ${path} has a judge, but the judge model is not usable: ${(e as Error).message}`, [
        { path, message: "judge model not configured" },
      ]);
    }
    return this.#model;
  }

  async #build(project: string, spec: unknown, path: string, seen: string[], dryRun = false): Promise<BuiltReward> {
    try {
      if (typeof spec === "string") {
        if (verifierNames().has(spec)) return { verifier: createVerifier(spec, [], this.#verifierContext(path, dryRun)), key: contentHash({ spec }) };
        const ref = parseSpecRef(spec);
        if (seen.includes(ref.name)) throw new RlxfError("invalid_config", `saved reward spec "${ref.name}" refers to itself (${[...seen, ref.name].join(" -> ")})`);
        const saved = await this.#store.configs.get(project, REWARD_SPEC_KIND, ref.name, ref.version);
        if (!saved) {
          const names = (await this.#store.configs.list({ project, kind: REWARD_SPEC_KIND })).map((c) => c.name);
          throw new RlxfError(
            "unknown_name",
            `no reward spec "${spec}": use a shipped verifier (${[...verifierNames()].join(", ")})${names.length ? `, a saved spec (${names.join(", ")})` : ""} or a spec object`,
          );
        }
        const inner = await this.#build(project, saved.body, path, [...seen, ref.name], dryRun);
        return { verifier: inner.verifier, key: contentHash({ saved: `${saved.name}@${saved.version}`, inner: inner.key }) };
      }
      const o = (spec ?? {}) as { type?: unknown };
      if (o.type === "reward-model") {
        const r = RewardModelSpec.safeParse(spec);
        if (!r.success) throw new RewardSpecError(path, `invalid reward spec at ${path}`, zodIssues(r.error, path));
        const model = await loadRewardModel(this.#store, r.data.model, { project });
        if (!model.scalar) throw new RlxfError("wrong_kind", `reward model "${r.data.model}" is a ${model.type} model: it compares pairs and gives no per-response reward`);
        const ref = `${model.meta.name}@${model.meta.version ?? "?"}`;
        return { verifier: rewardModelVerifier(model, ref, r.data.name ?? ref), key: contentHash({ spec, ref }) };
      }
      if (o.type === "judge") {
        const r = JudgeSpec.safeParse(spec);
        if (!r.success) throw new RewardSpecError(path, `invalid reward spec at ${path}`, zodIssues(r.error, path));
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
        if (!r.success) throw new RewardSpecError(path, `invalid reward spec at ${path}`, zodIssues(r.error, path));
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
      return { verifier: createVerifier(parsed, [], this.#verifierContext(path, dryRun)), key: contentHash({ spec: parsed }) };
    } catch (e) {
      throw specError(e, path);
    }
  }
}

