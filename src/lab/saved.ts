/**
 * Lab results kept in the store, so that others can read them back (the HTTP API, the web app's plots): a run (its
 * table and curves) or a sweep (its rows and grid), saved under a name as the next version of a project's config
 * of kind "lab-result".
 */
import { NotFoundError, ValidationError } from "../errors.js";
import type { StoredConfig, Store } from "../store/index.js";
import type { LabRunResult, SweepRow } from "./run.js";

export const LAB_RESULT_KIND = "lab-result";

export interface SweepGrid {
  methods: string[];
  feedback?: string;
  lengthBias?: number;
  pFlips: number[];
  labels: number[];
  seeds: number[];
  environment?: LabRunResult["environment"];
}

export type LabResultBody = { type: "run"; run: LabRunResult } | { type: "sweep"; grid: SweepGrid; rows: SweepRow[]; seconds: number };

export interface SavedLabResult {
  name: string;
  version: number;
  project: string;
  description?: string;
  createdAt: string;
  result: LabResultBody;
}

/** One line about a saved result, for lists. */
export interface LabResultSummary {
  name: string;
  version: number;
  type: "run" | "sweep";
  description?: string;
  createdAt: string;
  /** run: feedback source; sweep: "gold" / "simulated" per noise level. */
  feedback: string;
  /** run: [its p]; sweep: the noise levels. */
  pFlips: number[];
  /** run: [its budget]; sweep: the budgets. */
  labels: number[];
  seeds: number[];
  methods: string[];
  /** The best final test win rate (%) and its method (sweeps: the best mean over seeds of one cell). */
  best?: { method: string; winRate: number };
}

function fromConfig(c: StoredConfig): SavedLabResult {
  return {
    name: c.name,
    version: c.version,
    project: c.project,
    ...(c.description !== undefined ? { description: c.description } : {}),
    createdAt: c.createdAt,
    result: c.body as LabResultBody,
  };
}

/** Save a run or a sweep as the next version of `name` in the project. */
export async function saveLabResult(store: Store, input: { project?: string; name: string; description?: string; result: LabResultBody }): Promise<SavedLabResult> {
  const t = (input.result as { type?: unknown }).type;
  if (t !== "run" && t !== "sweep") throw new ValidationError([{ path: "result.type", message: `must be "run" or "sweep", got ${JSON.stringify(t)}` }], undefined, "lab result");
  const saved = await store.configs.save({
    ...(input.project !== undefined ? { project: input.project } : {}),
    kind: LAB_RESULT_KIND,
    name: input.name,
    body: input.result,
    ...(input.description !== undefined ? { description: input.description } : {}),
  });
  return fromConfig(saved);
}

/** A saved result (the latest version unless one is given); a NotFoundError lists the names there are. */
export async function getLabResult(store: Store, project: string, name: string, version?: number): Promise<SavedLabResult> {
  const c = await store.configs.get(project, LAB_RESULT_KIND, name, version);
  if (!c) {
    const names = (await store.configs.list({ project, kind: LAB_RESULT_KIND })).map((x) => x.name);
    const what = version === undefined ? `"${name}"` : `"${name}" version ${version}`;
    throw new NotFoundError(`no saved lab result ${what} in project "${project}"${names.length ? `; saved: ${names.slice(0, 10).join(", ")}` : " (save one with `rlxf lab run ... --save NAME`)"}`);
  }
  return fromConfig(c);
}

/** The latest version of each saved result of a project, newest first. */
export async function listLabResults(store: Store, project: string): Promise<LabResultSummary[]> {
  const all = await store.configs.list({ project, kind: LAB_RESULT_KIND });
  return all
    .map((c) => summarize(fromConfig(c)))
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.name.localeCompare(b.name)));
}

export function summarize(s: SavedLabResult): LabResultSummary {
  const base = { name: s.name, version: s.version, ...(s.description !== undefined ? { description: s.description } : {}), createdAt: s.createdAt };
  const r = s.result;
  if (r.type === "run") {
    const trained = r.run.methods.filter((m) => m.method !== "initial");
    const best = trained.reduce<(typeof trained)[number] | undefined>((b, m) => (!b || m.winRate > b.winRate ? m : b), undefined);
    return {
      ...base,
      type: "run",
      feedback: r.run.feedback,
      pFlips: [r.run.pFlip],
      labels: [r.run.labels],
      seeds: [r.run.seed],
      methods: trained.map((m) => m.method),
      ...(best ? { best: { method: best.method, winRate: best.winRate } } : {}),
    };
  }
  const cells = sweepMeans(r.rows).filter((c) => c.method !== "initial");
  const best = cells.reduce<(typeof cells)[number] | undefined>((b, c) => (!b || c.winRate > b.winRate ? c : b), undefined);
  return {
    ...base,
    type: "sweep",
    feedback: r.grid.feedback ?? (r.grid.pFlips.every((p) => p === 0) ? "gold" : "gold/simulated"),
    pFlips: r.grid.pFlips,
    labels: r.grid.labels,
    seeds: r.grid.seeds,
    methods: r.grid.methods,
    ...(best ? { best: { method: best.method, winRate: best.winRate } } : {}),
  };
}

export interface SweepCell {
  method: string;
  pFlip: number;
  labels: number;
  /** Seeds in the cell. */
  n: number;
  /** Mean test win rate over seeds (%), and its standard error (0 with one seed). */
  winRate: number;
  standardError: number;
  lcWinRate?: number;
  length: number;
  kl: number;
}

/** Sweep rows averaged over seeds: one cell per (method, noise, label budget), in the rows' order. */
export function sweepMeans(rows: readonly SweepRow[]): SweepCell[] {
  const groups = new Map<string, SweepRow[]>();
  for (const r of rows) {
    const k = `${r.method}\u0000${r.pFlip}\u0000${r.labels}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return [...groups.values()].map((g) => {
    const w = g.map((r) => r.winRate);
    const m = mean(w);
    const sd = g.length > 1 ? Math.sqrt(w.reduce((s, x) => s + (x - m) ** 2, 0) / (g.length - 1)) : 0;
    const lc = g.map((r) => r.lcWinRate).filter((x): x is number => x !== undefined);
    return {
      method: g[0]!.method,
      pFlip: g[0]!.pFlip,
      labels: g[0]!.labels,
      n: g.length,
      winRate: m,
      standardError: sd / Math.sqrt(g.length),
      ...(lc.length === g.length ? { lcWinRate: mean(lc) } : {}),
      length: mean(g.map((r) => r.length)),
      kl: mean(g.map((r) => r.kl)),
    };
  });
}
