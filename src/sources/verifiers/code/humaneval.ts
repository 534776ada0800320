/**
 * HumanEval: 164 Python problems, each a prompt (signature and docstring), a canonical
 * solution, a `check(candidate)` test and an entry point. A sample's program is the prompt
 * followed by the completion; it passes when `check(entry_point)` raises nothing.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { RlxfError } from "../../../errors.js";
import { type CodeRunResult, type CodeRunSpec, runCode } from "./run.js";
import type { SandboxLimits } from "./sandbox.js";
import { planPython } from "./separated.js";

export interface HumanEvalTask {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
}

export interface HumanEvalSample {
  task_id: string;
  completion: string;
}

/** Reads a JSONL file (`.gz` transparently), one object a line. */
export async function readJsonl<T = unknown>(path: string): Promise<T[]> {
  const stream = path.endsWith(".gz") ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  const rows: T[] = [];
  let n = 0;
  for await (const line of rl) {
    n++;
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as T);
    } catch (e) {
      throw new RlxfError("invalid_input", `${path}:${n}: not JSON (${(e as Error).message})`);
    }
  }
  return rows;
}

export async function loadHumanEval(path: string): Promise<HumanEvalTask[]> {
  const rows = await readJsonl<HumanEvalTask>(path);
  rows.forEach((r, i) => {
    for (const k of ["task_id", "prompt", "test", "entry_point"] as const) {
      if (typeof r[k] !== "string") throw new RlxfError("invalid_input", `${path}: line ${i + 1} lacks "${k}"`);
    }
  });
  return rows;
}

/** The sandbox run of one sample: prompt + completion, then `check(entry_point)`. */
export function humanEvalSpec(task: HumanEvalTask, completion: string, limits?: Partial<SandboxLimits>): CodeRunSpec {
  const spec: CodeRunSpec = {
    language: "python",
    program: task.prompt + completion,
    tests: [{ name: `check(${task.entry_point})`, code: `${task.test}\n\ncheck(${task.entry_point})\n` }],
    entryPoint: task.entry_point,
    // The prompt is the problem, not the answer: its helpers (HumanEval/32's `poly`) are trusted in the checks.
    support: task.prompt,
  };
  if (limits) spec.limits = limits;
  return spec;
}

/** The unbiased pass@k estimate from n samples of which c passed (Chen et al., 2021). */
export function passAtK(n: number, c: number, k: number): number {
  if (n - c < k) return 1;
  if (k === 1) return c / n;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/** Runs `fn` over `items` with at most `limit` at once, results in input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
  });
  await Promise.all(workers);
  return out;
}

export interface HumanEvalSampleResult {
  task_id: string;
  /** Index of the sample among the task's samples. */
  sample: number;
  passed: boolean;
  status: CodeRunResult["status"];
  error?: string;
  /** The failing line of the test, when there is one. */
  failingLine?: string;
  limit?: string;
  wallMs: number;
  result: CodeRunResult;
}

export interface HumanEvalReport {
  tasks: number;
  samples: number;
  passed: number;
  /** Mean over tasks of each task's pass@1 (c / n). */
  passAt1: number;
  perTask: Array<{ task_id: string; n: number; c: number; passAt1: number }>;
  results: HumanEvalSampleResult[];
}

export interface HumanEvalOptions {
  /** Samples to check; default: every task's canonical solution. */
  samples?: HumanEvalSample[];
  /** Sandboxed runs at once (default 2). */
  concurrency?: number;
  limits?: Partial<SandboxLimits>;
  /** See `CodeRunSpec.isolation` (default auto). */
  isolation?: CodeRunSpec["isolation"];
  /** Called after each sample, in completion order (progress). */
  onResult?: (r: HumanEvalSampleResult, done: number, total: number) => void;
  signal?: AbortSignal;
}

const PLAN_BATCH = 256;

/** Checks HumanEval samples (or the canonical solutions) in the sandbox. */
export async function runHumanEval(tasks: HumanEvalTask[], opts: HumanEvalOptions = {}): Promise<HumanEvalReport> {
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const samples = opts.samples ?? tasks.map((t) => ({ task_id: t.task_id, completion: t.canonical_solution }));
  const counter = new Map<string, number>();
  const jobs = samples.map((s) => {
    const task = byId.get(s.task_id);
    if (!task) throw new RlxfError("not_found", `no HumanEval task "${s.task_id}"`);
    if (typeof s.completion !== "string") throw new RlxfError("invalid_input", `sample of ${s.task_id}: "completion" must be a string`);
    const k = counter.get(s.task_id) ?? 0;
    counter.set(s.task_id, k + 1);
    return { task, completion: s.completion, sample: k };
  });
  // Plan each task's tests once, several tasks to a planner sandbox (they come from one dataset).
  const used = [...new Map(jobs.map((j) => [j.task.task_id, j.task])).values()];
  const suites = used.map((t) => {
    const spec = humanEvalSpec(t, "");
    return { tests: (spec.tests as Array<{ code: string }>).map((x) => x.code), entry: t.entry_point, support: t.prompt };
  });
  if (opts.isolation !== "in-sandbox") for (let i = 0; i < suites.length; i += PLAN_BATCH) await planPython(suites.slice(i, i + PLAN_BATCH), opts.signal ? { signal: opts.signal } : {});
  let done = 0;
  const results = await mapLimit(jobs, opts.concurrency ?? 2, async (job) => {
    const spec = humanEvalSpec(job.task, job.completion, opts.limits);
    if (opts.signal) spec.signal = opts.signal;
    if (opts.isolation) spec.isolation = opts.isolation;
    const r = await runCode(spec);
    const out: HumanEvalSampleResult = { task_id: job.task.task_id, sample: job.sample, passed: r.passed, status: r.status, wallMs: r.wallMs, result: r };
    if (r.error) out.error = r.error;
    if (r.failing?.source) out.failingLine = r.failing.source;
    if (r.limit) out.limit = r.limit;
    done++;
    opts.onResult?.(out, done, jobs.length);
    return out;
  });
  const perTaskMap = new Map<string, { n: number; c: number }>();
  for (const r of results) {
    const e = perTaskMap.get(r.task_id) ?? { n: 0, c: 0 };
    e.n++;
    if (r.passed) e.c++;
    perTaskMap.set(r.task_id, e);
  }
  const perTask = [...perTaskMap].map(([task_id, e]) => ({ task_id, n: e.n, c: e.c, passAt1: passAtK(e.n, e.c, 1) }));
  return {
    tasks: perTask.length,
    samples: results.length,
    passed: results.filter((r) => r.passed).length,
    passAt1: perTask.length ? perTask.reduce((a, t) => a + t.passAt1, 0) / perTask.length : 0,
    perTask,
    results,
  };
}
