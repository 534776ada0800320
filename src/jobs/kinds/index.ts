/**
 * Every job kind, loaded on first use: a worker thread running a judge task loads the judge's code, not the
 * lab's or the math verifier's.
 */
import { RlxfError, ValidationError } from "../../errors.js";
import { JOB_KIND_INFO, JOB_KIND_NAMES, type JobKindName, isJobKindName } from "../schema.js";
import type { JobKind } from "../types.js";

export const JOB_KINDS: readonly string[] = JOB_KIND_NAMES;

const LOADERS: Record<JobKindName, () => Promise<JobKind>> = {
  judge: async () => (await import("./judge.js")).judgeKind,
  verify: async () => (await import("./rewards.js")).verifyKind,
  reward: async () => (await import("./rewards.js")).rewardKind,
  leaderboard: async () => (await import("./leaderboard.js")).leaderboardKind,
  export: async () => (await import("./export.js")).exportKind,
  "rm-train": async () => (await import("./learn.js")).rmTrainKind,
  "lab-run": async () => (await import("./learn.js")).labRunKind,
  "lab-sweep": async () => (await import("./learn.js")).labSweepKind,
  loop: async () => (await import("./loop.js")).loopKind,
  queue: async () => (await import("./queue.js")).queueKind,
  rules: async () => (await import("./rules.js")).rulesKind,
};

function unknown(name: string): ValidationError {
  return new ValidationError([{ path: "kind", message: `unknown job kind "${name}"; use one of ${JOB_KIND_NAMES.join(", ")}` }], undefined, "job");
}

/** Who may submit a kind and what it does (without loading it); throws a ValidationError for an unknown kind. */
export function jobKindInfo(name: string): (typeof JOB_KIND_INFO)[JobKindName] & { name: JobKindName } {
  if (!isJobKindName(name)) throw unknown(name);
  return { name, ...JOB_KIND_INFO[name] };
}

const loaded = new Map<string, Promise<JobKind>>();

/** A kind's code. */
export function loadJobKind(name: string): Promise<JobKind> {
  if (!isJobKindName(name)) return Promise.reject(unknown(name));
  let p = loaded.get(name);
  if (!p) {
    p = LOADERS[name]().then((k) => {
      if (k.name !== name || k.roles.join() !== JOB_KIND_INFO[name].roles.join()) throw new RlxfError("internal_error", `job kind "${name}" does not match its entry in src/jobs/schema.ts`);
      return k;
    });
    loaded.set(name, p);
  }
  return p;
}
