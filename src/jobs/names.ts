/** The job kinds by name, without loading their code (the command line checks options against it). */
export const JOB_KIND_NAMES = ["judge", "verify", "reward", "leaderboard", "export", "rm-train", "lab-run", "lab-sweep", "loop", "queue"] as const;
export type JobKindName = (typeof JOB_KIND_NAMES)[number];
