/**
 * The report of a stored loop run: its configuration, its metrics recomputed from the stored steps, and per task
 * the attempts with their outputs (read from the stored generations) and what the feedback said.
 */
import { NotFoundError } from "../errors.js";
import type { LoopRun } from "../store/index.js";
import type { Store } from "../store/index.js";
import { type LoopSummary, loopMetrics } from "./metrics.js";
import type { ReportedAttempt, ReportedTask } from "./schema.js";

export type { ReportedAttempt, ReportedTask };

export interface LoopRunReport {
  run: LoopRun;
  summary: LoopSummary;
  tasks: ReportedTask[];
}

export async function loopRunReport(store: Store, runId: string, opts: { project?: string; outputs?: boolean } = {}): Promise<LoopRunReport> {
  const project = opts.project ?? "default";
  const run = await store.loops.get(project, runId);
  if (!run) {
    const recent = (await store.loops.list({ project, limit: 5 })).map((r) => r.id);
    throw new NotFoundError(`no loop run "${runId}" in project "${project}"${recent.length ? `; recent runs: ${recent.join(", ")}` : ""}`);
  }
  const steps = await store.loops.steps(project, runId);
  const summary = loopMetrics(run.loop, steps);
  const tasks = new Map<string, ReportedTask>();
  for (const s of steps) {
    let t = tasks.get(s.taskId);
    if (!t) tasks.set(s.taskId, (t = { taskId: s.taskId, solved: false, stop: "running", attempts: 0, tokens: 0, costUsd: 0, steps: [] }));
    const d = s.data;
    if (d.role === "end") {
      t.solved = d.solved === true;
      t.stop = String(d.stop);
      t.attempts = Number(d.attempts ?? 0);
      t.tokens = Number(d.tokens ?? 0);
      t.costUsd = Number(d.costUsd ?? 0);
      if (typeof d.error === "string") t.error = d.error;
      continue;
    }
    if (d.role === "selected") {
      for (const a of t.steps) if (a.turn === s.turn && a.role === "candidate") a.selected = true;
      continue;
    }
    const a: ReportedAttempt = { turn: s.turn, role: String(d.role) };
    if (s.generationId) a.generationId = s.generationId;
    if (typeof d.correct === "boolean") a.correct = d.correct;
    if (typeof d.passed === "boolean") a.passed = d.passed;
    if (typeof d.score === "number") a.score = d.score;
    if (typeof d.feedback === "string") a.feedback = d.feedback;
    else if (typeof d.text === "string") a.feedback = d.text;
    if (opts.outputs !== false && s.generationId) a.output = (await store.getGeneration(project, s.generationId))?.output;
    t.steps.push(a);
  }
  return { run, summary, tasks: [...tasks.values()] };
}
