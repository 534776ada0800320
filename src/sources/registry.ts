/** Finding judge and pool configs by name (shipped defaults) or path (a user's JSON file). */
import { existsSync } from "node:fs";
import { RlxfError } from "../errors.js";
import { type JudgeConfig, type JudgeConfigInput, type PoolConfig, parseJudgeConfig, parsePoolConfig, readConfigFile } from "./config.js";
import { DEFAULT_JUDGES, DEFAULT_POOLS } from "./defaults.js";

const defaults = new Map<string, JudgeConfig>();
function shipped(): Map<string, JudgeConfig> {
  if (defaults.size === 0) for (const c of DEFAULT_JUDGES) defaults.set(c.name, parseJudgeConfig(c, `shipped judge "${c.name}"`));
  return defaults;
}

/** The shipped judges and critics. */
export function defaultJudges(): JudgeConfig[] {
  return [...shipped().values()];
}

export function defaultPools(): PoolConfig[] {
  return DEFAULT_POOLS.map((p) => ({ ...p }));
}

/**
 * A judge config from a shipped name (`pairwise`, `rubric`...), a path to a
 * JSON file, or an object. Throws with the known names when nothing matches.
 */
export function resolveJudge(ref: string | JudgeConfigInput | JudgeConfig): JudgeConfig {
  if (typeof ref !== "string") return parseJudgeConfig(ref, `judge config "${(ref as { name?: string }).name ?? "?"}"`);
  const found = shipped().get(ref);
  if (found) return found;
  if (existsSync(ref)) {
    const raw = readConfigFile(ref);
    if ((raw as { kind?: unknown })?.kind === "pool") throw new RlxfError("invalid_config", `${ref} is a pool config; pass it to rlxf simulate --pool`);
    return parseJudgeConfig(raw, `judge config ${ref}`);
  }
  throw new RlxfError("unknown_name", `no judge "${ref}": use a path to a JSON config or one of ${[...shipped().keys()].join(", ")}`);
}

/** A pool config from a shipped name (`alpacafarm`), a path, or an object; its members resolved. */
export function resolvePool(ref: string | PoolConfig): { pool: PoolConfig; members: JudgeConfig[] } {
  let pool: PoolConfig;
  if (typeof ref !== "string") pool = parsePoolConfig(ref);
  else {
    const found = DEFAULT_POOLS.find((p) => p.name === ref);
    if (found) pool = found;
    else if (existsSync(ref)) pool = parsePoolConfig(readConfigFile(ref), `pool config ${ref}`);
    else throw new RlxfError("unknown_name", `no pool "${ref}": use a path to a JSON pool config or one of ${DEFAULT_POOLS.map((p) => p.name).join(", ")}`);
  }
  const members = pool.members.map((m) => resolveJudge(m as string | JudgeConfigInput));
  for (const m of members) {
    if (m.kind !== "pairwise") throw new RlxfError("invalid_config", `pool "${pool.name}": member "${m.name}" is a ${m.kind} judge; pools hold pairwise judges`);
  }
  const names = new Set<string>();
  for (const m of members) {
    if (names.has(m.name)) throw new RlxfError("invalid_config", `pool "${pool.name}": member "${m.name}" appears twice`);
    names.add(m.name);
  }
  return { pool, members };
}
