/**
 * Rules that judge live traffic (tables `rules` and `rule_evaluations`): a rule names a judge or a verifier and
 * a filter over new generations (dataset, policy, metadata, a sampling rate). When generations are written, the
 * write's own transaction adds one pending evaluation per (rule, generation) it matches, or per new pair of one
 * item's generations for a pairwise judge (rule-match.ts), so an acknowledged generation is never left
 * unevaluated by a crash. Workers claim pending evaluations (at most a rule's evaluations per hour), run them,
 * and complete each in one transaction with its verdict, stored as feedback under an id derived from the rule
 * and the targets: a retried evaluation never stores a second verdict.
 */
import { createHash, randomUUID } from "node:crypto";
import { type ColumnType, type Kysely, type Migration, sql } from "kysely";
import { ConflictError, RlxfError, ValidationError } from "../errors.js";
import { DEFAULT_PROJECT, type Feedback, Id } from "../feedback/schema.js";
import { badKeyString, isoOf, num } from "./codec.js";
import type { Database, Engine } from "./tables.js";
import { writeBatch } from "./write.js";

type BigIntColumn = ColumnType<number | string, number, number>;

export interface RulesTable {
  project: string;
  id: string;
  name: string;
  enabled: number;
  /** 1: the rule judges pairs of one item's generations. */
  pairwise: number;
  /** The rest of the rule as JSON: what runs, the filter, the sampling rate, the hourly ceiling. */
  body: string;
  created_at: BigIntColumn;
  updated_at: BigIntColumn;
}

export const EVALUATION_STATES = ["pending", "running", "done", "failed"] as const;
export type EvaluationState = (typeof EVALUATION_STATES)[number];

export interface RuleEvaluationsTable {
  project: string;
  rule_id: string;
  /** The generation id, or a JSON array of the pair's two ids. */
  subject: string;
  item_id: string;
  /** JSON array of the generation ids judged. */
  generation_ids: string;
  state: string;
  attempts: number;
  claimed_by: string | null;
  claimed_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  feedback_id: string | null;
  error: string | null;
  created_at: BigIntColumn;
  finished_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

export const rulesMigration = (engine: Engine): Migration => ({
  async up(db: Kysely<any>) {
    const text = engine === "postgres" ? sql`text collate "C"` : sql`text`;
    const big = sql`bigint`;
    await db.schema
      .createTable("rules")
      .addColumn("project", text, (c) => c.notNull())
      .addColumn("id", text, (c) => c.notNull())
      .addColumn("name", text, (c) => c.notNull())
      .addColumn("enabled", sql`integer`, (c) => c.notNull())
      .addColumn("pairwise", sql`integer`, (c) => c.notNull())
      .addColumn("body", sql`text`, (c) => c.notNull())
      .addColumn("created_at", big, (c) => c.notNull())
      .addColumn("updated_at", big, (c) => c.notNull())
      .addPrimaryKeyConstraint("rules_pk", ["project", "id"])
      .execute();
    await db.schema.createIndex("rules_enabled").on("rules").columns(["project", "enabled"]).execute();
    await db.schema
      .createTable("rule_evaluations")
      .addColumn("project", text, (c) => c.notNull())
      .addColumn("rule_id", text, (c) => c.notNull())
      .addColumn("subject", text, (c) => c.notNull())
      .addColumn("item_id", text, (c) => c.notNull())
      .addColumn("generation_ids", sql`text`, (c) => c.notNull())
      .addColumn("state", text, (c) => c.notNull())
      .addColumn("attempts", sql`integer`, (c) => c.notNull().defaultTo(0))
      .addColumn("claimed_by", text)
      .addColumn("claimed_at", big)
      .addColumn("feedback_id", text)
      .addColumn("error", sql`text`)
      .addColumn("created_at", big, (c) => c.notNull())
      .addColumn("finished_at", big)
      .addPrimaryKeyConstraint("rule_evaluations_pk", ["project", "rule_id", "subject"])
      .execute();
    await db.schema.createIndex("rule_evaluations_state").on("rule_evaluations").columns(["state", "project", "rule_id", "created_at"]).execute();
    await db.schema.createIndex("rule_evaluations_rule").on("rule_evaluations").columns(["project", "rule_id", "state"]).execute();
    await db.schema.createIndex("rule_evaluations_finished").on("rule_evaluations").columns(["project", "rule_id", "finished_at"]).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable("rule_evaluations").execute();
    await db.schema.dropTable("rules").execute();
  },
});

/** Which new generations a rule evaluates: all of `dataset`, `policy` and `metadata` that are given must match. */
export interface RuleFilter {
  /** The item's dataset. */
  dataset?: string;
  policy?: string;
  /** Keys of the generation's metadata and the values they must have (compared as text). */
  metadata?: Record<string, string>;
}

export interface RuleRecord {
  project: string;
  id: string;
  name: string;
  description?: string;
  enabled: boolean;
  /** The rule judges new pairs of one item's generations (a pairwise judge). */
  pairwise: boolean;
  /** A shipped judge name or a judge config. */
  judge?: string | Record<string, unknown>;
  /** A reward spec: a saved spec by name (`name` or `name@N`) or a verifier name. */
  verifier?: string;
  /** The model a judge (or a judge inside a reward spec) asks. */
  model?: Record<string, unknown>;
  filter: RuleFilter;
  /** The share of matching generations evaluated, 0..1, decided from each generation's id (rule-match.ts). */
  sampleRate: number;
  /** Evaluations finished per rolling hour, at most; the rest wait (pending) until the hour allows. */
  maxPerHour: number;
  createdAt: string;
  updatedAt: string;
}

export interface RuleInput {
  project?: string;
  id?: string;
  name: string;
  description?: string;
  enabled?: boolean;
  pairwise: boolean;
  judge?: string | Record<string, unknown>;
  verifier?: string;
  model?: Record<string, unknown>;
  filter?: RuleFilter;
  sampleRate?: number;
  maxPerHour: number;
}

/** A create that would take a project past the most rules it may hold (`create`'s `maxPerProject`). */
export class RuleCeilingError extends RlxfError {
  constructor(
    readonly project: string,
    readonly held: number,
    readonly max: number,
  ) {
    super("over_ceiling", `project "${project}" holds ${held} rules, the most it may hold (${max})`);
    this.name = "RuleCeilingError";
  }
}

export type RulePatch = Partial<Pick<RuleInput, "name" | "description" | "enabled" | "pairwise" | "judge" | "verifier" | "model" | "filter" | "sampleRate" | "maxPerHour">>;

export interface RuleCounts {
  /** Evaluations the rule's filter and sampling made (one per generation, or per pair). */
  matched: number;
  /** Evaluations that stored a verdict. */
  evaluated: number;
  /** Evaluations that failed for good (the judge's answer never parsed, the provider kept failing). */
  failed: number;
  /** Evaluations waiting or running: the backlog. */
  pending: number;
  /** Evaluations finished in the last hour (what the hourly ceiling counts). */
  lastHour: number;
}

export interface ClaimedEvaluation {
  project: string;
  ruleId: string;
  subject: string;
  itemId: string;
  generationIds: string[];
  attempts: number;
}

export type CompleteOutcome =
  | { feedback: Feedback }
  /** `retry`: the failure may pass (a provider error): back to pending while attempts remain. */
  | { error: string; retry?: boolean };

export interface RuleStore {
  /**
   * Store a new rule. With `maxPerProject`, a project already holding that many is refused (RuleCeilingError),
   * checked in the transaction that writes the rule, so concurrent creates cannot pass the ceiling together.
   * Idempotent by id: a rule of that id with the same definition is answered as it is (`created: false`: a
   * retried create), one with another definition is a ConflictError.
   */
  create(input: RuleInput, opts?: { maxPerProject?: number }): Promise<RuleRecord & { created: boolean }>;
  get(project: string, id: string): Promise<RuleRecord | undefined>;
  list(project?: string): Promise<RuleRecord[]>;
  update(project: string, id: string, patch: RulePatch): Promise<RuleRecord | undefined>;
  /** Delete a rule and its evaluations (the verdicts it stored stay); false when there was none. */
  remove(project: string, id: string): Promise<boolean>;
  /** Counts per rule id of a project. */
  counts(project: string): Promise<Map<string, RuleCounts>>;
  /**
   * Claim up to `n` pending evaluations (and running ones whose claim is older than `leaseMs`) of enabled rules,
   * oldest first, within each rule's hourly ceiling.
   */
  claim(opts: { project?: string; worker: string; n: number; leaseMs: number; now?: number }): Promise<ClaimedEvaluation[]>;
  /**
   * Finish a claimed evaluation in one transaction: its verdict stored (unless one is already there) and the
   * evaluation marked done, or its failure kept. `existing`: it was finished already (nothing written).
   */
  complete(ev: ClaimedEvaluation, outcome: CompleteOutcome, opts?: { maxAttempts?: number }): Promise<"stored" | "existing" | "failed" | "retry" | "gone">;
  /** Hand back the running evaluations `worker` claimed (an earlier attempt of the same job died): pending again. */
  release(worker: string): Promise<number>;
  /** Per project, evaluations a worker could claim now (enabled rules with room in their hour). */
  backlog(opts: { leaseMs: number; now?: number; project?: string }): Promise<Map<string, number>>;
}

const HOUR_MS = 3_600_000;

/** The verdict's id: the same rule on the same targets always gives the same id (a retry stores nothing new). */
export function ruleFeedbackId(ruleId: string, targets: readonly string[]): string {
  return `fb_rule_${createHash("sha256").update(JSON.stringify([ruleId, ...targets])).digest("hex").slice(0, 32)}`;
}

/** A claim older than this is presumed lost (its worker died) and is claimed again. */
export const RULE_CLAIM_LEASE_MS = 5 * 60_000;
const MAX_RULES_LIST = 1000;

function checkId(path: string, value: unknown): asserts value is string {
  const r = Id.safeParse(value);
  const bad = r.success ? badKeyString(value as string) : r.error.issues[0]?.message;
  if (bad) throw new ValidationError([{ path, message: bad }], undefined, "rule");
}

type RuleRow = { project: string; id: string; name: string; enabled: number; pairwise: number; body: string; created_at: number | string; updated_at: number | string };

interface RuleBody {
  description?: string;
  judge?: string | Record<string, unknown>;
  verifier?: string;
  model?: Record<string, unknown>;
  filter: RuleFilter;
  sampleRate: number;
  maxPerHour: number;
}

export function ruleFromRow(r: RuleRow): RuleRecord {
  const b = JSON.parse(r.body) as RuleBody;
  return {
    project: r.project,
    id: r.id,
    name: r.name,
    ...(b.description !== undefined ? { description: b.description } : {}),
    enabled: Number(r.enabled) === 1,
    pairwise: Number(r.pairwise) === 1,
    ...(b.judge !== undefined ? { judge: b.judge } : {}),
    ...(b.verifier !== undefined ? { verifier: b.verifier } : {}),
    ...(b.model !== undefined ? { model: b.model } : {}),
    filter: b.filter ?? {},
    sampleRate: b.sampleRate,
    maxPerHour: b.maxPerHour,
    createdAt: isoOf(r.created_at),
    updatedAt: isoOf(r.updated_at),
  };
}

function bodyOf(r: Omit<RuleInput, "project" | "id" | "name" | "enabled" | "pairwise">): string {
  const b: RuleBody = {
    ...(r.description !== undefined ? { description: r.description } : {}),
    ...(r.judge !== undefined ? { judge: r.judge } : {}),
    ...(r.verifier !== undefined ? { verifier: r.verifier } : {}),
    ...(r.model !== undefined ? { model: r.model } : {}),
    filter: r.filter ?? {},
    sampleRate: r.sampleRate ?? 1,
    maxPerHour: r.maxPerHour,
  };
  return JSON.stringify(b);
}

function checkRule(r: RuleInput): void {
  const issues: { path: string; message: string }[] = [];
  if ((r.judge === undefined) === (r.verifier === undefined)) issues.push({ path: "judge", message: "give either a judge or a verifier (a reward spec)" });
  const rate = r.sampleRate ?? 1;
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) issues.push({ path: "sampleRate", message: "must be a number from 0 to 1" });
  if (!Number.isInteger(r.maxPerHour) || r.maxPerHour < 1) issues.push({ path: "maxPerHour", message: "must be a positive integer" });
  if (typeof r.name !== "string" || r.name.length < 1 || r.name.length > 200) issues.push({ path: "name", message: "must be a string of 1 to 200 characters" });
  if (issues.length) throw new ValidationError(issues, undefined, "rule");
}

type InTransaction = <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;

const CLAIMABLE = ["pending", "running"] as const;

export function ruleStore(engine: Engine, db: () => Kysely<Database>, inTransaction: InTransaction): RuleStore {
  const getRow = (d: Kysely<Database>, project: string, id: string) =>
    d.selectFrom("rules").selectAll().where("project", "=", project).where("id", "=", id).executeTakeFirst();

  /** Evaluations of a rule finished in the hour before `t`, plus those running under a live claim. */
  const used = async (d: Kysely<Database>, project: string, ruleId: string, t: number, leaseMs: number): Promise<number> => {
    const r = await d
      .selectFrom("rule_evaluations")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .where("project", "=", project)
      .where("rule_id", "=", ruleId)
      .where((eb) => eb.or([eb("finished_at", ">=", t - HOUR_MS), eb.and([eb("state", "=", "running"), eb("claimed_at", ">=", t - leaseMs)])]))
      .executeTakeFirst();
    return num(r?.n ?? 0);
  };

  return {
    async create(input, opts = {}) {
      const project = input.project ?? DEFAULT_PROJECT;
      checkId("project", project);
      const id = input.id ?? `rule_${randomUUID()}`;
      checkId("id", id);
      checkRule(input);
      const t = Date.now();
      const row: RuleRow = { project, id, name: input.name, enabled: input.enabled === false ? 0 : 1, pairwise: input.pairwise ? 1 : 0, body: bodyOf(input), created_at: t, updated_at: t };
      const had = await inTransaction(async (d) => {
        // PostgreSQL: one create per project at a time, so the count below is the one the insert adds to
        // (SQLite's writers are serial anyway).
        if (engine === "postgres") await sql`select pg_advisory_xact_lock(hashtext(${`rlxf-rules:${project}`}))`.execute(d);
        const had = await getRow(d, project, id);
        if (had) {
          if (had.name !== row.name || Number(had.enabled) !== row.enabled || Number(had.pairwise) !== row.pairwise || had.body !== row.body) {
            throw new ConflictError(`rule "${id}" already exists with another definition: change it with PATCH /v1/rules/${id}, or create it under another id`);
          }
          return had;
        }
        if (opts.maxPerProject !== undefined) {
          const r = await d.selectFrom("rules").select((eb) => eb.fn.countAll<number | string>().as("n")).where("project", "=", project).executeTakeFirstOrThrow();
          if (num(r.n) >= opts.maxPerProject) throw new RuleCeilingError(project, num(r.n), opts.maxPerProject);
        }
        await d.insertInto("rules").values({ ...row, created_at: t, updated_at: t }).execute();
        return undefined;
      });
      return had ? { ...ruleFromRow(had), created: false } : { ...ruleFromRow(row), created: true };
    },

    async get(project, id) {
      const r = await getRow(db(), project, id);
      return r ? ruleFromRow(r) : undefined;
    },

    async list(project) {
      const rows = await db().selectFrom("rules").selectAll().where("project", "=", project ?? DEFAULT_PROJECT).orderBy("created_at").orderBy("id").limit(MAX_RULES_LIST).execute();
      return rows.map(ruleFromRow);
    },

    async update(project, id, patch) {
      return inTransaction(async (d) => {
        const row = await getRow(d, project, id);
        if (!row) return undefined;
        const cur = ruleFromRow(row);
        const merged: RuleInput = {
          project,
          id,
          name: patch.name ?? cur.name,
          enabled: patch.enabled ?? cur.enabled,
          pairwise: patch.pairwise ?? cur.pairwise,
          filter: patch.filter ?? cur.filter,
          sampleRate: patch.sampleRate ?? cur.sampleRate,
          maxPerHour: patch.maxPerHour ?? cur.maxPerHour,
          ...((patch.description ?? cur.description) !== undefined ? { description: patch.description ?? cur.description } : {}),
          ...((patch.model ?? cur.model) !== undefined ? { model: patch.model ?? cur.model } : {}),
        };
        // What runs is replaced whole: a judge given drops the verifier and the other way round.
        if (patch.judge !== undefined) merged.judge = patch.judge;
        else if (patch.verifier !== undefined) merged.verifier = patch.verifier;
        else if (cur.judge !== undefined) merged.judge = cur.judge;
        else if (cur.verifier !== undefined) merged.verifier = cur.verifier;
        checkRule(merged);
        const t = Math.max(Date.now(), num(row.updated_at));
        const next: RuleRow = { ...row, name: merged.name, enabled: merged.enabled ? 1 : 0, pairwise: merged.pairwise ? 1 : 0, body: bodyOf(merged), updated_at: t };
        await d.updateTable("rules").set({ name: next.name, enabled: next.enabled, pairwise: next.pairwise, body: next.body, updated_at: t }).where("project", "=", project).where("id", "=", id).execute();
        return ruleFromRow(next);
      });
    },

    async remove(project, id) {
      return inTransaction(async (d) => {
        await d.deleteFrom("rule_evaluations").where("project", "=", project).where("rule_id", "=", id).execute();
        const r = await d.deleteFrom("rules").where("project", "=", project).where("id", "=", id).executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      });
    },

    async counts(project) {
      const t = Date.now();
      const rows = await db()
        .selectFrom("rule_evaluations")
        .select((eb) => [
          "rule_id",
          "state",
          eb.fn.countAll<number | string>().as("n"),
          eb.fn.sum<number | string | null>(eb.case().when("finished_at", ">=", t - HOUR_MS).then(1).else(0).end()).as("recent"),
        ])
        .where("project", "=", project)
        .groupBy(["rule_id", "state"])
        .execute();
      const out = new Map<string, RuleCounts>();
      for (const r of rows) {
        let c = out.get(r.rule_id);
        if (!c) out.set(r.rule_id, (c = { matched: 0, evaluated: 0, failed: 0, pending: 0, lastHour: 0 }));
        const n = num(r.n);
        c.matched += n;
        c.lastHour += num(r.recent ?? 0);
        if (r.state === "done") c.evaluated += n;
        else if (r.state === "failed") c.failed += n;
        else c.pending += n;
      }
      return out;
    },

    async claim(opts) {
      const t = opts.now ?? Date.now();
      return inTransaction(async (d) => {
        let rq = d.selectFrom("rules").selectAll().where("enabled", "=", 1);
        if (opts.project !== undefined) rq = rq.where("project", "=", opts.project);
        // The rules with claimable work, oldest work first.
        const waiting = await d
          .selectFrom("rule_evaluations")
          .select(["project", "rule_id"])
          .where("state", "in", CLAIMABLE as unknown as string[])
          .where((eb) => eb.or([eb("state", "=", "pending"), eb("claimed_at", "<", t - opts.leaseMs)]))
          .$if(opts.project !== undefined, (q) => q.where("project", "=", opts.project!))
          .groupBy(["project", "rule_id"])
          .execute();
        if (waiting.length === 0) return [];
        const want = new Set(waiting.map((w) => `${w.project}\u0000${w.rule_id}`));
        const out: ClaimedEvaluation[] = [];
        for (const rule of await rq.orderBy("project").orderBy("id").execute()) {
          if (out.length >= opts.n) break;
          if (!want.has(`${rule.project}\u0000${rule.id}`)) continue;
          // Claimers of one rule take turns (PostgreSQL), so its hourly ceiling holds over every worker.
          if (engine === "postgres") await d.selectFrom("rules").select("id").where("project", "=", rule.project).where("id", "=", rule.id).forUpdate().execute();
          const max = ruleFromRow(rule).maxPerHour;
          const room = Math.min(opts.n - out.length, max - (await used(d, rule.project, rule.id, t, opts.leaseMs)));
          if (room <= 0) continue;
          let q = d
            .selectFrom("rule_evaluations")
            .select(["project", "rule_id", "subject", "item_id", "generation_ids", "attempts"])
            .where("project", "=", rule.project)
            .where("rule_id", "=", rule.id)
            .where((eb) => eb.or([eb("state", "=", "pending"), eb.and([eb("state", "=", "running"), eb("claimed_at", "<", t - opts.leaseMs)])]))
            .orderBy("created_at")
            .orderBy("subject")
            .limit(room);
          if (engine === "postgres") q = q.forUpdate().skipLocked();
          const rows = await q.execute();
          for (const r of rows) {
            await d
              .updateTable("rule_evaluations")
              .set({ state: "running", claimed_by: opts.worker, claimed_at: t, attempts: r.attempts + 1 })
              .where("project", "=", r.project)
              .where("rule_id", "=", r.rule_id)
              .where("subject", "=", r.subject)
              .execute();
            out.push({ project: r.project, ruleId: r.rule_id, subject: r.subject, itemId: r.item_id, generationIds: JSON.parse(r.generation_ids) as string[], attempts: r.attempts + 1 });
          }
        }
        return out;
      });
    },

    async complete(ev, outcome, opts = {}) {
      const maxAttempts = opts.maxAttempts ?? 3;
      return inTransaction(async (d) => {
        let q = d
          .selectFrom("rule_evaluations")
          .select(["state", "attempts"])
          .where("project", "=", ev.project)
          .where("rule_id", "=", ev.ruleId)
          .where("subject", "=", ev.subject);
        // Two finishers of one evaluation (a claim taken over after its lease) take turns here.
        if (engine === "postgres") q = q.forUpdate();
        const row = await q.executeTakeFirst();
        if (!row) return "gone";
        if (row.state === "done" || row.state === "failed") return "existing";
        const t = Date.now();
        const upd = (set: { state: EvaluationState; feedback_id?: string; finished_at?: number; error: string | null; claimed_by: null; claimed_at?: null }) =>
          d.updateTable("rule_evaluations").set(set).where("project", "=", ev.project).where("rule_id", "=", ev.ruleId).where("subject", "=", ev.subject).execute();
        if ("feedback" in outcome) {
          const fb = outcome.feedback;
          const there = await d.selectFrom("feedback").select("id").where("project", "=", fb.project).where("id", "=", fb.id).executeTakeFirst();
          if (!there) await writeBatch({ engine, inTransaction: (fn) => fn(d) }, { feedback: [fb] }, { parsed: true });
          await upd({ state: "done", feedback_id: fb.id, finished_at: t, error: null, claimed_by: null });
          return there ? "existing" : "stored";
        }
        if (outcome.retry && row.attempts < maxAttempts) {
          await upd({ state: "pending", error: outcome.error.slice(0, 2000), claimed_by: null, claimed_at: null });
          return "retry";
        }
        await upd({ state: "failed", error: outcome.error.slice(0, 2000), finished_at: t, claimed_by: null });
        return "failed";
      });
    },

    async release(worker) {
      return inTransaction(async (d) => {
        const r = await d.updateTable("rule_evaluations").set({ state: "pending", claimed_by: null, claimed_at: null }).where("claimed_by", "=", worker).where("state", "=", "running").executeTakeFirst();
        return Number(r.numUpdatedRows);
      });
    },

    async backlog(opts) {
      const t = opts.now ?? Date.now();
      const d = db();
      const rows = await d
        .selectFrom("rule_evaluations")
        .innerJoin("rules", (j) => j.onRef("rules.project", "=", "rule_evaluations.project").onRef("rules.id", "=", "rule_evaluations.rule_id"))
        .select((eb) => ["rules.project", "rules.id", "rules.body", eb.fn.countAll<number | string>().as("n")])
        .where("rules.enabled", "=", 1)
        .$if(opts.project !== undefined, (q) => q.where("rule_evaluations.project", "=", opts.project!))
        .where((eb) => eb.or([eb("rule_evaluations.state", "=", "pending"), eb.and([eb("rule_evaluations.state", "=", "running"), eb("rule_evaluations.claimed_at", "<", t - opts.leaseMs)])]))
        .groupBy(["rules.project", "rules.id", "rules.body"])
        .execute();
      const out = new Map<string, number>();
      for (const r of rows) {
        const max = (JSON.parse(r.body) as RuleBody).maxPerHour;
        const room = max - (await used(d, r.project, r.id, t, opts.leaseMs));
        const n = Math.min(num(r.n), Math.max(0, room));
        if (n > 0) out.set(r.project, (out.get(r.project) ?? 0) + n);
      }
      return out;
    },
  };
}
