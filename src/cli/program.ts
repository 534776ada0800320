/**
 * The whole `rlxf` command line as one commander program, every command group loaded; each group lives in its
 * own file. `rlxf` itself loads only the command it runs (run.ts, commands.ts).
 */
import type { Command } from "commander";
import { baseProgram } from "./base.js";
import type { Register } from "./commands.js";
import { registerDemo, registerExport, registerImport, registerStats } from "./core.js";
import { registerLeaderboard } from "./leaderboard.js";
import { register as registerKeys } from "./keys.js";
import { register as registerServe } from "./serve.js";
import { register as registerJudge } from "./judge.js";
import { register as registerSimulate } from "./simulate.js";
import { register as registerVerify } from "./verify.js";
import { register as registerRm } from "./rm.js";
import { register as registerDataset } from "./dataset.js";
import { register as registerLoop } from "./loop.js";
import { register as registerMemory } from "./memory.js";
import { register as registerLab } from "./lab.js";
import { register as registerCritic } from "./critic.js";
import { register as registerDense } from "./dense.js";
import { register as registerWorker } from "./worker.js";
import { register as registerJobs } from "./jobs.js";
import { register as registerRules } from "./rules.js";

/** Every command group, in the order `rlxf --help` lists them (as in commands.ts). */
const groups: Register[] = [
  registerImport,
  registerExport,
  registerLeaderboard,
  registerStats,
  registerDemo,
  registerServe,
  registerKeys,
  registerJudge,
  registerSimulate,
  registerVerify,
  registerRm,
  registerDataset,
  registerLab,
  registerLoop,
  registerMemory,
  registerCritic,
  registerDense,
  registerWorker,
  registerJobs,
  registerRules,
];

export function program(): Command {
  const p = baseProgram();
  for (const register of groups) register(p);
  return p;
}
