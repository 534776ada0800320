/**
 * Which new generations the project's rules evaluate, decided inside the transaction that writes them: each
 * match becomes a pending evaluation (rules.ts), committed with the generation or not at all.
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Generation } from "../feedback/schema.js";
import { chunks } from "./codec.js";
import type { RuleFilter } from "./rules.js";
import type { Database } from "./tables.js";

/** A pairwise rule pairs a new generation with at most this many earlier ones of the same item (the latest). */
export const MAX_PAIR_PARTNERS = 4;

/**
 * Whether a generation is in a rule's sample: a point in [0, 1) from the SHA-256 of the generation id, below
 * `rate`. The same generation is always in or out, and a rule at 10% samples a subset of one at 50%.
 */
export function sampledIn(generationId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (!(rate > 0)) return false;
  const h = createHash("sha256").update(generationId).digest();
  // 48 bits are plenty for a uniform point.
  const u = h.readUIntBE(0, 6) / 2 ** 48;
  return u < rate;
}

/** Whether a generation (of an item in `dataset`) passes a rule's filter. */
export function matchesFilter(f: RuleFilter, g: { policy: string; metadata?: Record<string, unknown> | undefined }, dataset: string | null | undefined): boolean {
  if (f.policy !== undefined && g.policy !== f.policy) return false;
  if (f.dataset !== undefined && dataset !== f.dataset) return false;
  for (const [k, want] of Object.entries(f.metadata ?? {})) {
    const v = g.metadata && Object.hasOwn(g.metadata, k) ? g.metadata[k] : undefined;
    if (v === undefined || v === null || typeof v === "object") return false;
    if (String(v) !== want) return false;
  }
  return true;
}

interface ActiveRule {
  project: string;
  id: string;
  pairwise: boolean;
  filter: RuleFilter;
  sampleRate: number;
}

const keyOf = (project: string, id: string) => `${project}\u0000${id}`;

/**
 * Add the pending evaluations that `gens` (generations this transaction inserts) make for the enabled rules of
 * their projects. `batchDatasets` gives the datasets of items written in the same batch. Returns how many.
 */
export async function markForRules(db: Kysely<Database>, gens: readonly Generation[], batchDatasets: (project: string, itemId: string) => string | null | undefined, now: number): Promise<number> {
  if (gens.length === 0) return 0;
  const projects = [...new Set(gens.map((g) => g.project))];
  const rows = await db.selectFrom("rules").select(["project", "id", "pairwise", "body"]).where("project", "in", projects).where("enabled", "=", 1).execute();
  if (rows.length === 0) return 0;
  const rules: ActiveRule[] = rows.map((r) => {
    const b = JSON.parse(r.body) as { filter?: RuleFilter; sampleRate?: number };
    return { project: r.project, id: r.id, pairwise: Number(r.pairwise) === 1, filter: b.filter ?? {}, sampleRate: b.sampleRate ?? 1 };
  });
  const byProject = new Map<string, ActiveRule[]>();
  for (const r of rules) byProject.set(r.project, [...(byProject.get(r.project) ?? []), r]);
  const relevant = gens.filter((g) => byProject.has(g.project));

  // Datasets of the items of stored generations, when a rule filters on them.
  const datasets = new Map<string, string | null>();
  const needDataset = rules.some((r) => r.filter.dataset !== undefined);
  if (needDataset) {
    const missing = new Map<string, Set<string>>();
    for (const g of relevant) {
      const d = batchDatasets(g.project, g.itemId);
      if (d !== undefined) datasets.set(keyOf(g.project, g.itemId), d);
      else {
        let s = missing.get(g.project);
        if (!s) missing.set(g.project, (s = new Set()));
        s.add(g.itemId);
      }
    }
    for (const [project, ids] of missing) {
      for (const chunk of chunks([...ids], 1000)) {
        const found = await db.selectFrom("items").select(["id", "dataset"]).where("project", "=", project).where("id", "in", chunk).execute();
        for (const f of found) datasets.set(keyOf(project, f.id), f.dataset);
      }
    }
  }
  const datasetOf = (g: Pick<Generation, "project" | "itemId">) => datasets.get(keyOf(g.project, g.itemId)) ?? null;

  // Earlier generations of the same items, for pairwise rules (oldest first).
  const earlier = new Map<string, Generation[]>();
  if (rules.some((r) => r.pairwise)) {
    const fresh = new Set(relevant.map((g) => keyOf(g.project, g.id)));
    const items = new Map<string, Set<string>>();
    for (const g of relevant) {
      if (!byProject.get(g.project)!.some((r) => r.pairwise)) continue;
      let s = items.get(g.project);
      if (!s) items.set(g.project, (s = new Set()));
      s.add(g.itemId);
    }
    for (const [project, ids] of items) {
      for (const chunk of chunks([...ids], 1000)) {
        const stored = await db
          .selectFrom("generations")
          .select(["id", "item_id", "body"])
          .where("project", "=", project)
          .where("item_id", "in", chunk)
          .orderBy("recorded_at")
          .orderBy("created_at")
          .orderBy("id")
          .execute();
        for (const s of stored) {
          if (fresh.has(keyOf(project, s.id))) continue;
          const body = JSON.parse(s.body) as Omit<Generation, "id" | "project">;
          const k = keyOf(project, s.item_id);
          earlier.set(k, [...(earlier.get(k) ?? []), { ...body, id: s.id, project, itemId: s.item_id } as Generation]);
        }
      }
    }
  }

  const marks: { project: string; rule_id: string; subject: string; item_id: string; generation_ids: string; state: string; attempts: number; created_at: number }[] = [];
  const mark = (rule: ActiveRule, itemId: string, ids: string[]) =>
    marks.push({ project: rule.project, rule_id: rule.id, subject: ids.length === 1 ? ids[0]! : JSON.stringify(ids), item_id: itemId, generation_ids: JSON.stringify(ids), state: "pending", attempts: 0, created_at: now });
  for (const rule of rules) {
    const seen = new Map<string, Generation[]>();
    for (const g of relevant) {
      if (g.project !== rule.project || !matchesFilter(rule.filter, g, datasetOf(g))) continue;
      if (!rule.pairwise) {
        if (sampledIn(g.id, rule.sampleRate)) mark(rule, g.itemId, [g.id]);
        continue;
      }
      const k = keyOf(g.project, g.itemId);
      const before = [...(earlier.get(k) ?? []).filter((e) => matchesFilter(rule.filter, e, datasetOf(e))), ...(seen.get(k) ?? [])];
      seen.set(k, [...(seen.get(k) ?? []), g]);
      if (!sampledIn(g.id, rule.sampleRate)) continue;
      // The latest earlier generations of other policies: a pair compares two policies on one prompt.
      const partners = before.filter((e) => e.policy !== g.policy).slice(-MAX_PAIR_PARTNERS);
      for (const p of partners) mark(rule, g.itemId, [p.id, g.id]);
    }
  }
  for (const chunk of chunks(marks, 500)) {
    await db.insertInto("rule_evaluations").values(chunk).onConflict((oc) => oc.columns(["project", "rule_id", "subject"]).doNothing()).execute();
  }
  return marks.length;
}
