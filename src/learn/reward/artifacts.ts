/**
 * Reward models as versioned artifacts: in the store (`store.models`, kind "reward-model") and in files.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { gunzipSync, gzipSync } from "node:zlib";
import { NotFoundError, RlxfError } from "../../errors.js";
import type { ModelInfo, Store } from "../../store/index.js";
import type { Embedder } from "../features/embedding.js";
import { RewardModel, type RewardModelArtifact, parseArtifact } from "./model.js";

export const REWARD_MODEL_KIND = "reward-model";

/** "name" or "name@version". */
export function parseModelRef(ref: string): { name: string; version?: number } {
  const m = /^(.*)@(\d+)$/.exec(ref);
  if (!m) return { name: ref };
  return { name: m[1]!, version: Number(m[2]) };
}

/** The small summary the store keeps beside an artifact (listed without loading it). */
export function artifactSummary(a: RewardModelArtifact): Record<string, unknown> {
  const t = a.training;
  const test = a.metrics?.test;
  const train = a.metrics?.train;
  const featurizer = a.type === "ensemble" ? a.members?.[0]?.featurizer : a.featurizer;
  const seg = a.type === "segments" ? segmentSummary(a.segments) : undefined;
  return {
    type: a.type,
    ...(featurizer ? { featurizer: featurizer.type } : {}),
    ...(seg ?? {}),
    seed: a.seed,
    temperature: a.temperature,
    ...(t ? { trainPairs: t.trainPairs, testPairs: t.testPairs, query: t.query } : {}),
    ...(test ? { testAccuracy: test.accuracy, testLogLoss: test.logLoss, testEce: test.ece } : {}),
    ...(train ? { trainAccuracy: train.accuracy } : {}),
    ...(a.metrics?.cv ? { cvAccuracy: a.metrics.cv.accuracy } : {}),
  };
}

/** What the summary shows of a segment model: its features, error types and their held-out detection F1. */
function segmentSummary(body: Record<string, unknown> | undefined): Record<string, unknown> {
  const b = body as { featurizer?: { type?: string; level?: string }; types?: Array<{ name: string; metrics?: { test?: { f1?: number } } }> } | undefined;
  const types = Array.isArray(b?.types) ? b!.types : [];
  const f1 = Object.fromEntries(types.filter((t) => typeof t.metrics?.test?.f1 === "number").map((t) => [t.name, t.metrics!.test!.f1]));
  return {
    featurizer: b?.featurizer?.type ?? "segment-features",
    ...(b?.featurizer?.level ? { level: b.featurizer.level } : {}),
    segmentTypes: types.map((t) => t.name),
    ...(Object.keys(f1).length ? { testF1: f1 } : {}),
  };
}

/** Store an artifact (validated) as the next version of its name (or `as.name`, in `as.project`). */
export async function saveRewardModelArtifact(store: Store, raw: unknown, as: { name?: string; project?: string } = {}): Promise<ModelInfo> {
  const a = { ...parseArtifact(raw) };
  if (as.name) a.name = as.name;
  if (as.project) a.project = as.project;
  delete a.version;
  return store.models.save({ project: a.project, name: a.name, kind: REWARD_MODEL_KIND, body: a, summary: artifactSummary(a) });
}

/** Store the model as the next version of its name; sets `model.meta.version`. */
export async function saveRewardModel(store: Store, model: RewardModel): Promise<ModelInfo> {
  const info = await saveRewardModelArtifact(store, model.toArtifact());
  model.meta.version = info.version;
  return info;
}

/** The stored artifact of "name" (latest) or "name@3", with its version set. */
export async function getRewardModelArtifact(store: Store, ref: string, project = "default"): Promise<RewardModelArtifact> {
  const { name, version } = parseModelRef(ref);
  const stored = await store.models.get(project, name, version);
  if (!stored) {
    const known = (await store.models.list({ project, kind: REWARD_MODEL_KIND })).map((m) => `${m.name}@${m.version}`);
    throw new NotFoundError(
      `no reward model "${ref}" in project "${project}"${known.length ? `; stored: ${known.slice(0, 10).join(", ")}` : " (none stored yet: train one with `rlxf rm train`)"}`,
    );
  }
  if (stored.kind !== REWARD_MODEL_KIND) throw new RlxfError("wrong_kind", `model "${ref}" is a ${stored.kind}, not a reward model`);
  return { ...parseArtifact(stored.body), version: stored.version };
}

/** Load a stored reward model ("name" for the latest version, "name@3" for version 3). */
export async function loadRewardModel(
  store: Store,
  ref: string,
  opts: { project?: string; embedder?: Embedder } = {},
): Promise<RewardModel> {
  const a = await getRewardModelArtifact(store, ref, opts.project ?? "default");
  return RewardModel.fromArtifact(a, opts.embedder ? { embedder: opts.embedder } : {});
}

/** Write a model (or an artifact) as JSON (gzip when the path ends in .gz), atomically. */
export async function writeRewardModelFile(path: string, model: RewardModel | RewardModelArtifact): Promise<void> {
  const json = `${JSON.stringify(model instanceof RewardModel ? model.toArtifact() : model)}\n`;
  const data = path.endsWith(".gz") ? gzipSync(json) : Buffer.from(json, "utf8");
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Read a model artifact file (JSON, gzip detected), validated but not built (see `readRewardModelFile`). */
export async function readRewardModelArtifact(path: string): Promise<RewardModelArtifact> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`cannot read ${path}: no such file`);
    throw e;
  }
  const text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString("utf8");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new RlxfError("invalid_artifact", `${path} is not JSON: ${(e as Error).message}`);
  }
  return parseArtifact(raw);
}

/** Read a model artifact file and build the model (embedding models need an `embedder`). */
export async function readRewardModelFile(path: string, deps: { embedder?: Embedder } = {}): Promise<RewardModel> {
  return RewardModel.fromArtifact(await readRewardModelArtifact(path), deps);
}
