/**
 * {@link alpacaEvalBoard} with its fits on worker threads: the instruction difficulty's cross-validation folds and
 * each model's length-controlled GLM run in parallel, off the calling thread (a server's event loop stays free).
 * Results are the same numbers as {@link alpacaEvalBoard}'s. Where the compiled worker is not at hand (running
 * from TypeScript sources), the work runs on the calling thread.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { AlpacaEvalAnnotation } from "./alpaca-eval.js";
import type { DifficultySource } from "./instruction-difficulty.js";
import type { LcTask } from "./lc-worker.js";
import {
  type AlpacaEvalBoard,
  type LeaderboardOptions,
  boardUnits,
  estimatedSource,
  finishBoard,
  planBoard,
  resolveBaseline,
  orientToBaseline,
} from "./leaderboard.js";
import {
  DIFFICULTY_FOLD_TOL,
  difficultyFolds,
  difficultyFromPaths,
  instructionDifficultyProblem,
  lengthControlledFromFit,
  lengthControlledProblem,
  solveLengthControlled,
} from "./length-controlled.js";
import { factorFoldPath } from "./logistic-factor.js";

const WORKER = new URL("./lc-worker.js", import.meta.url);

/** A few worker threads running {@link LcTask}s, one at a time each. */
class LcPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ task: LcTask; resolve: (v: unknown) => void; reject: (e: Error) => void }> = [];
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly workers: Worker[] = [];
  private next = 0;

  constructor(size: number) {
    for (let k = 0; k < size; k++) {
      const w = new Worker(WORKER);
      w.on("message", (m: { id: number; result?: unknown; error?: string }) => {
        const p = this.pending.get(m.id)!;
        this.pending.delete(m.id);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.result);
        this.release(w);
      });
      w.on("error", (e) => this.fail(e));
      w.on("exit", (code) => {
        if (code !== 0) this.fail(new Error(`a length-controlled fit's worker thread exited with code ${code}`));
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  private failed: Error | undefined;

  /** A dead worker fails what it held and everything after it (the caller's board fails as a whole). */
  private fail(e: Error): void {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const q of this.queue.splice(0)) q.reject(e);
  }

  run<T>(task: LcTask): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ task, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  private release(w: Worker): void {
    this.idle.push(w);
    this.pump();
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const { task, resolve, reject } = this.queue.shift()!;
      const id = this.next++;
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, task });
    }
  }

  async close(): Promise<void> {
    this.failed ??= new Error("closed");
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export interface ThreadOptions {
  /**
   * Worker threads for the fits. By default, one per core (at most 4) when the instruction difficulty is estimated
   * from many rows, the one heavy fit; none otherwise: each model's own GLM takes milliseconds, and a thread's start
   * (loading and compiling the solver afresh) costs more than it saves. 0 runs everything on the calling thread.
   */
  threads?: number;
  /** At least this many threads whenever there is something to fit (a server passes 1 to keep its event loop free). */
  minThreads?: number;
}

/** Rows below which the difficulty's joint fit runs on the calling thread by default. */
const MIN_ROWS_FOR_THREADS = 4000;

function threadCount(opts: ThreadOptions, tasks: number, rows: number, estimate: boolean): number {
  if (tasks === 0 || !existsSync(fileURLToPath(WORKER))) return 0;
  let n = opts.threads ?? (estimate && rows >= MIN_ROWS_FOR_THREADS ? Math.min(availableParallelism(), 4) : 0);
  n = Math.max(n, opts.minThreads ?? 0);
  return Math.max(0, Math.min(n, tasks));
}

/** {@link alpacaEvalBoard}, its fits spread over worker threads. */
export async function alpacaEvalBoardThreaded(annotations: readonly AlpacaEvalAnnotation[], opts: LeaderboardOptions & ThreadOptions = {}): Promise<AlpacaEvalBoard> {
  const plan = planBoard(annotations, opts);
  if (!plan.withLC) return finishBoard(plan, undefined, [], opts.sortBy);
  const estimate = "estimate" in plan.difficulty!;
  const problem = estimate ? instructionDifficultyProblem(annotations, { ...plan.keys, ...plan.cv }) : undefined;
  const folds = problem ? difficultyFolds(problem) : 0;
  const total = boardUnits(plan, folds);
  const size = threadCount(opts, Math.max(folds, plan.groups.size), annotations.length, estimate);
  const pool = size > 0 ? new LcPool(size) : undefined;
  let done = 0;
  const tick = (note: string) => opts.onProgress?.(++done, total, note);
  try {
    let difficulty: ReadonlyMap<string, number>;
    let source: DifficultySource;
    if (problem) {
      const paths = await Promise.all(
        Array.from({ length: folds }, async (_, f) => {
          const task = { kind: "fold" as const, X: problem.X, y: problem.y, folds: problem.folds, Cs: problem.Cs, fold: f, tol: DIFFICULTY_FOLD_TOL };
          const path = pool
            ? await pool.run<ReturnType<typeof factorFoldPath>>(task)
            : factorFoldPath(problem.X, problem.y, undefined, problem.folds, f, problem.Cs, { tol: DIFFICULTY_FOLD_TOL });
          tick(`instruction difficulty: fold ${f + 1} of ${folds}`);
          return path;
        }),
      );
      const est = difficultyFromPaths(problem, paths);
      tick("instruction difficulty: refit");
      difficulty = est.difficulty;
      source = estimatedSource(est, (plan.difficulty as { models: number }).models);
    } else {
      const given = plan.difficulty as { given: ReadonlyMap<string, number>; source: DifficultySource };
      difficulty = given.given;
      source = given.source;
    }
    const lc = await Promise.all(
      [...plan.groups].map(async ([model, rows]) => {
        const p = lengthControlledProblem(rows, {
          ...plan.keys,
          ...plan.cv,
          instructionDifficulty: difficulty,
          ...(opts.gamedAnnotations ? { gamedAnnotations: opts.gamedAnnotations } : {}),
        });
        const solved = p.fit ? (pool ? await pool.run<{ coef: Float64Array; C: number }>({ kind: "lc", fit: p.fit }) : solveLengthControlled(p.fit)) : undefined;
        tick(model);
        return lengthControlledFromFit(p, solved);
      }),
    );
    return finishBoard(plan, source, lc, opts.sortBy);
  } finally {
    await pool?.close();
  }
}

/** {@link alpacaEvalBoardFromPairs}, its fits spread over worker threads. */
export async function alpacaEvalBoardFromPairsThreaded(
  pairs: readonly AlpacaEvalAnnotation[],
  opts: LeaderboardOptions & ThreadOptions & { baseline?: string } = {},
): Promise<AlpacaEvalBoard & { baseline?: string }> {
  const baseline = resolveBaseline(pairs, opts.baseline);
  if (baseline === undefined) return { rows: [], warnings: [] };
  return { baseline, ...(await alpacaEvalBoardThreaded(orientToBaseline(pairs, baseline), opts)) };
}
