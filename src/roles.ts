/**
 * Roles of API keys and what each may do: the one table that the server's checks, the API document, the keys
 * command and the web app read. A key only ever acts in its own project. Imports nothing (the web app reads it).
 */

export const ROLES = ["admin", "ingest", "annotate", "read"] as const;
export type Role = (typeof ROLES)[number];

/** What each role is for, in a line. */
export const ROLE_SUMMARIES: Record<Role, string> = {
  admin: "everything in its project, including keys, assignments and queues",
  ingest: "write items, generations and feedback, and compute rewards with inline or saved specs (no reads of records or of saved specs: safe to ship inside an app)",
  annotate: "read the items assigned to its annotator (the key's name) and their generations, write feedback on them as a human, work on annotation queues",
  read: "read, list, leaderboards, statistics, export, compute rewards, read saved reward specs and results",
};

const ALL = ROLES;
const ADMIN = ["admin"] as const;
const READERS = ["admin", "read"] as const;
const WRITERS = ["admin", "ingest"] as const;

/**
 * Every action of the API: the roles that may do it (in the order a refusal names them) and what it is, as a
 * refusal says it ("a key with role "read" cannot create queues").
 */
export const PERMISSIONS = {
  "me.read": { roles: ALL, what: "read its own key" },
  "items.write": { roles: WRITERS, what: "write items" },
  "generations.write": { roles: WRITERS, what: "write generations" },
  "feedback.write": { roles: ["admin", "ingest", "annotate"], what: "write feedback" },
  "items.list": { roles: READERS, what: "list items" },
  "items.read": { roles: ["admin", "read", "annotate"], what: "read items" },
  "generations.read": { roles: ["admin", "read", "annotate"], what: "read generations" },
  "feedback.read": { roles: ["admin", "read", "annotate"], what: "read feedback" },
  "leaderboard.read": { roles: READERS, what: "read the leaderboard" },
  export: { roles: READERS, what: "export" },
  "exports.read": { roles: READERS, what: "read exports" },
  "exports.download": { roles: READERS, what: "download exports" },
  "keys.create": { roles: ADMIN, what: "create keys" },
  "keys.list": { roles: ADMIN, what: "list keys" },
  "keys.revoke": { roles: ADMIN, what: "revoke keys" },
  "assignments.create": { roles: ADMIN, what: "assign items" },
  "assignments.delete": { roles: ADMIN, what: "unassign items" },
  "assignments.read": { roles: ["admin", "read", "annotate"], what: "read assignments" },
  "queues.create": { roles: ADMIN, what: "create queues" },
  "queues.list": { roles: ["admin", "read", "annotate"], what: "list queues" },
  "queues.read": { roles: ["admin", "read", "annotate"], what: "read queues" },
  "queues.delete": { roles: ADMIN, what: "delete queues" },
  "queues.tasks": { roles: READERS, what: "list a queue's tasks" },
  "queues.stats": { roles: READERS, what: "read queue statistics" },
  "tasks.release": { roles: ADMIN, what: "release tasks" },
  "tasks.take": { roles: ["annotate", "admin"], what: "take tasks" },
  "tasks.read": { roles: ["annotate", "admin"], what: "read tasks" },
  "tasks.draft": { roles: ["annotate", "admin"], what: "save drafts" },
  "tasks.skip": { roles: ["annotate", "admin"], what: "skip tasks" },
  "tasks.submit": { roles: ["annotate", "admin"], what: "submit tasks" },
  "tasks.mine": { roles: ["annotate", "admin"], what: "list their submitted tasks" },
  "tasks.revise": { roles: ["annotate", "admin"], what: "revise submitted tasks" },
  "tasks.answers": { roles: READERS, what: "read every annotator's answers to a task" },
  "tasks.adjudicate": { roles: ADMIN, what: "adjudicate tasks" },
  "queues.suggestions": { roles: ADMIN, what: "set the suggestions of queues" },
  "items.search": { roles: READERS, what: "search items" },
  "distributions.read": { roles: READERS, what: "read distributions" },
  "reward.compute": { roles: ["admin", "ingest", "read"], what: "compute rewards" },
  "reward.store": { roles: WRITERS, what: "store rewards (store: true)" },
  "rewardSpecs.save": { roles: ADMIN, what: "save reward specs" },
  // Ingest keys score with a saved spec by name (reward.compute) but do not read its body.
  "rewardSpecs.read": { roles: READERS, what: "read reward specs" },
  "rewardSpecs.delete": { roles: ADMIN, what: "delete reward specs" },
  "lab.read": { roles: READERS, what: "read lab results" },
  "loops.read": { roles: READERS, what: "read loop runs" },
  "jobs.submit": { roles: ["admin", "ingest", "read"], what: "submit jobs" },
  "jobs.read": { roles: ["admin", "read", "ingest"], what: "read jobs" },
  "critics.read": { roles: READERS, what: "read critic evaluations" },
  "rules.create": { roles: ADMIN, what: "create rules" },
  "rules.update": { roles: ADMIN, what: "change rules" },
  "rules.delete": { roles: ADMIN, what: "delete rules" },
  "rules.read": { roles: READERS, what: "read rules" },
  /** Not a route: which fields of a stored record a conflicting write differs in (a 409 tells others only that the id is taken). */
  "conflicts.fields": { roles: READERS, what: "see which stored fields a conflicting write differs in" },
} as const satisfies Record<string, { roles: readonly Role[]; what: string }>;
export type Action = keyof typeof PERMISSIONS;

/** The roles that may do `action`. */
export function rolesFor(action: Action): readonly Role[] {
  return PERMISSIONS[action].roles;
}

/** Whether a key of `role` may do `action`. */
export function may(role: Role, action: Action): boolean {
  return (PERMISSIONS[action].roles as readonly Role[]).includes(role);
}

export function isRole(x: unknown): x is Role {
  return typeof x === "string" && (ROLES as readonly string[]).includes(x);
}
