/** Every job kind, by name. */
import { RlxfError, ValidationError } from "../../errors.js";
import { JOB_KIND_NAMES } from "../names.js";
import type { JobKind } from "../types.js";
import { exportKind } from "./export.js";
import { judgeKind } from "./judge.js";
import { labRunKind, labSweepKind, rmTrainKind } from "./learn.js";
import { leaderboardKind } from "./leaderboard.js";
import { loopKind } from "./loop.js";
import { queueKind } from "./queue.js";
import { rewardKind, verifyKind } from "./rewards.js";

const ALL: JobKind[] = [judgeKind, verifyKind, rewardKind, leaderboardKind, exportKind, rmTrainKind, labRunKind, labSweepKind, loopKind, queueKind];

export const JOB_KINDS: readonly string[] = ALL.map((k) => k.name);
if (JOB_KINDS.join() !== JOB_KIND_NAMES.join()) throw new RlxfError("job_kinds", `src/jobs/names.ts lists ${JOB_KIND_NAMES.join(", ")} but the kinds are ${JOB_KINDS.join(", ")}`);

const BY_NAME = new Map(ALL.map((k) => [k.name, k]));

export function jobKind(name: string): JobKind {
  const k = BY_NAME.get(name);
  if (!k) throw new ValidationError([{ path: "kind", message: `unknown job kind "${name}"; use one of ${JOB_KINDS.join(", ")}` }], undefined, "job");
  return k;
}

export function jobKinds(): readonly JobKind[] {
  return ALL;
}
