/**
 * Worker thread of {@link alpacaEvalBoardThreaded}: fits length-controlled GLMs and folds of the instruction
 * difficulty's joint fit. Messages carry numbers only (typed arrays), never annotations.
 */
import { parentPort } from "node:worker_threads";
import { type FactorDesign, factorFoldPath } from "./logistic-factor.js";
import { type LengthControlledProblem, solveLengthControlled } from "./length-controlled.js";

export type LcTask =
  | { kind: "lc"; fit: NonNullable<LengthControlledProblem["fit"]> }
  | { kind: "fold"; X: FactorDesign; y: Float64Array; folds: Int32Array; Cs: number[]; fold: number; tol: number };

function run(task: LcTask): unknown {
  if (task.kind === "lc") return solveLengthControlled(task.fit);
  return factorFoldPath(task.X, task.y, undefined, task.folds, task.fold, task.Cs, { tol: task.tol });
}

parentPort?.on("message", (msg: { id: number; task: LcTask }) => {
  try {
    parentPort!.postMessage({ id: msg.id, result: run(msg.task) });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
