/**
 * Critic evaluations kept in the store (configs of kind "critic-eval", versioned by name like saved lab results),
 * so that the HTTP API and the web app can show them.
 */
import { NotFoundError, ValidationError } from "../errors.js";
import type { Store, StoredConfig } from "../store/index.js";
import type { CriticEvalResult, CriticEvalSetting } from "./evaluate.js";

export const CRITIC_EVAL_KIND = "critic-eval";

export interface SavedCriticEval {
  name: string;
  version: number;
  project: string;
  description?: string;
  createdAt: string;
  result: CriticEvalResult;
}

/** One line about a saved evaluation, for lists. */
export interface CriticEvalSummary {
  name: string;
  version: number;
  description?: string;
  createdAt: string;
  setting: CriticEvalSetting;
  solutions: number;
  tasks: string[];
  accuracyBefore: number;
  accuracyAfter: number;
  verdictAccuracy: number;
  balancedAccuracy: number;
  f1: number | null;
  fixed: number;
  broken: number;
  tokensPerFixed: number | null;
  costPerFixedUsd: number | null;
}

function fromConfig(c: StoredConfig): SavedCriticEval {
  return { name: c.name, version: c.version, project: c.project, ...(c.description !== undefined ? { description: c.description } : {}), createdAt: c.createdAt, result: c.body as CriticEvalResult };
}

export function summarizeCriticEval(s: SavedCriticEval): CriticEvalSummary {
  const o = s.result.overall;
  return {
    name: s.name,
    version: s.version,
    ...(s.description !== undefined ? { description: s.description } : {}),
    createdAt: s.createdAt,
    setting: s.result.setting,
    solutions: o.solutions,
    tasks: s.result.tasks.map((t) => t.task),
    accuracyBefore: o.accuracyBefore,
    accuracyAfter: o.accuracyAfter,
    verdictAccuracy: o.verdictAccuracy,
    balancedAccuracy: o.balancedAccuracy,
    f1: o.errorDetection.f1,
    fixed: o.fixed,
    broken: o.broken,
    tokensPerFixed: o.tokensPerFixed,
    costPerFixedUsd: o.costPerFixedUsd,
  };
}

/** Save an evaluation as the next version of `name` in the project. */
export async function saveCriticEval(store: Store, input: { project?: string; name: string; description?: string; result: CriticEvalResult }): Promise<SavedCriticEval> {
  const r = input.result as Partial<CriticEvalResult> | undefined;
  if (!r || typeof r !== "object" || !r.overall || !Array.isArray(r.tasks) || !r.setting) {
    throw new ValidationError([{ path: "result", message: "must be a critic evaluation (setting, overall, tasks)" }], undefined, "critic evaluation");
  }
  const saved = await store.configs.save({
    ...(input.project !== undefined ? { project: input.project } : {}),
    kind: CRITIC_EVAL_KIND,
    name: input.name,
    body: input.result,
    ...(input.description !== undefined ? { description: input.description } : {}),
  });
  return fromConfig(saved);
}

/** A saved evaluation (the latest version unless one is given); a NotFoundError lists the names there are. */
export async function getCriticEval(store: Store, project: string, name: string, version?: number): Promise<SavedCriticEval> {
  const c = await store.configs.get(project, CRITIC_EVAL_KIND, name, version);
  if (!c) {
    const names = (await store.configs.list({ project, kind: CRITIC_EVAL_KIND })).map((x) => x.name);
    const what = version === undefined ? `"${name}"` : `"${name}" version ${version}`;
    throw new NotFoundError(
      `no saved critic evaluation ${what} in project "${project}"${names.length ? `; saved: ${names.slice(0, 10).join(", ")}` : " (save one with `rlxf critic eval ... --save NAME`)"}`,
    );
  }
  return fromConfig(c);
}

/** The latest version of each saved evaluation of a project, newest first. */
export async function listCriticEvals(store: Store, project: string): Promise<CriticEvalSummary[]> {
  const all = await store.configs.list({ project, kind: CRITIC_EVAL_KIND });
  return all
    .map((c) => summarizeCriticEval(fromConfig(c)))
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.name.localeCompare(b.name)));
}
