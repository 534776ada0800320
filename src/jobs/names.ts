/**
 * The job kinds by name, with who may submit them and what they do, without loading their code: a kind's
 * code (and the domain rooms it needs) loads when a job of it is submitted or run (kinds/index.ts).
 */
import type { Role } from "../store/index.js";

export const JOB_KIND_NAMES = ["judge", "verify", "reward", "leaderboard", "export", "rm-train", "lab-run", "lab-sweep", "loop", "queue"] as const;
export type JobKindName = (typeof JOB_KIND_NAMES)[number];

export interface JobKindInfo {
  /** Roles whose API keys may submit it (and cancel or retry it). */
  roles: readonly Role[];
  description: string;
}

export const JOB_KIND_INFO: Record<JobKindName, JobKindInfo> = {
  judge: { roles: ["admin"], description: "an LLM judge over rows sent with the job or a stored selection; each row's feedback is stored exactly once" },
  verify: { roles: ["admin", "ingest"], description: "a verifier (math, code, text checks) over a batch of samples; scores kept per sample, optionally stored as verification feedback" },
  reward: { roles: ["admin", "ingest", "read"], description: "rewards for a large batch of samples under a reward spec (verifiers, saved specs, reward models, judges, composites)" },
  leaderboard: { roles: ["admin", "read"], description: "a leaderboard on stored feedback with many bootstrap rounds or the length-controlled fit (Bradley-Terry or AlpacaEval win rates)" },
  export: { roles: ["admin", "read"], description: "a dataset file (TRL, OpenAI DPO, AlpacaEval, rlxf) from stored feedback, streamed into the database in parts" },
  "rm-train": { roles: ["admin"], description: "train a reward model on stored feedback and save it as the next version of its name" },
  "lab-run": { roles: ["admin"], description: "the lab: train each method from one feedback source and label budget, measured exactly; saved when named" },
  "lab-sweep": { roles: ["admin"], description: "the lab over a grid of methods x label noise x label budget (x seeds); saved when named" },
  loop: { roles: ["admin"], description: "a test-time loop over tasks, stored as a loop run (accuracy per turn, friction, stop reasons)" },
  queue: { roles: ["admin"], description: "an annotation queue from a (large) selection of stored outputs" },
};

export function isJobKindName(name: string): name is JobKindName {
  return (JOB_KIND_NAMES as readonly string[]).includes(name);
}
