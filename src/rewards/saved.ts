/**
 * Saved reward specs: a project keeps specs under names, each save of a name its next version; samples,
 * the CLI and loops then name them (`name` for the latest, `name@N` for one). Specs are checked before they
 * are saved (names resolve, reward models exist, judges are known, no cycles).
 */
import { NotFoundError, ValidationError } from "../errors.js";
import type { Store, StoredConfig } from "../store/index.js";
import type { RewardSpecRecord, SaveRewardSpecBody } from "./schema.js";
import { REWARD_SPEC_KIND, type RewardSpecs, verifierNames } from "./specs.js";

function specRecord(x: StoredConfig): RewardSpecRecord {
  return {
    name: x.name,
    version: x.version,
    spec: x.body,
    ...(x.description !== undefined ? { description: x.description } : {}),
    createdAt: x.createdAt,
  };
}

const notSaved = (name: string, version?: number) =>
  new NotFoundError(`no saved reward spec "${name}"${version !== undefined ? ` version ${version}` : ""} in this project`);

/** Saves the next version of a named spec, after checking that it builds. */
export async function saveRewardSpec(store: Store, specs: RewardSpecs, project: string, b: SaveRewardSpecBody): Promise<RewardSpecRecord> {
  if (verifierNames().has(b.name)) {
    throw new ValidationError([{ path: "name", message: "is the name of a shipped verifier" }], undefined, "body", `invalid body: name "${b.name}" is a shipped verifier; pick another name`);
  }
  await specs.check(project, b.spec, "spec", b.name);
  const saved = await store.configs.save({ project, kind: REWARD_SPEC_KIND, name: b.name, body: b.spec, ...(b.description !== undefined ? { description: b.description } : {}) });
  specs.invalidate(project);
  return specRecord(saved);
}

/** The latest version of each saved spec, by name. */
export async function listRewardSpecs(store: Store, project: string): Promise<RewardSpecRecord[]> {
  return (await store.configs.list({ project, kind: REWARD_SPEC_KIND })).map(specRecord);
}

/** One saved spec (the latest, or version `version`) with every stored version, newest first. */
export async function getRewardSpec(store: Store, project: string, name: string, version?: number): Promise<RewardSpecRecord & { versions: number[] }> {
  const versions = await store.configs.list({ project, kind: REWARD_SPEC_KIND, name });
  const one = version === undefined ? versions[0] : versions.find((v) => v.version === version);
  if (!one) throw notSaved(name, version);
  return { ...specRecord(one), versions: versions.map((v) => v.version) };
}

/** Deletes every version of a saved spec, or one; how many were deleted. */
export async function deleteRewardSpec(store: Store, specs: RewardSpecs, project: string, name: string, version?: number): Promise<number> {
  const deleted = await store.configs.remove(project, REWARD_SPEC_KIND, name, version);
  if (deleted === 0) throw notSaved(name, version);
  specs.invalidate(project);
  return deleted;
}
