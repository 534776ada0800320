/**
 * Which tasks a queue's selection makes: one per generation, one per pair of an item's generations, or one
 * list per item, narrowed by dataset, items and policies, optionally a seeded random sample.
 */
import { createRng } from "../eval/index.js";
import { type FieldIssue, ValidationError } from "../errors.js";
import type { Generation } from "../feedback/index.js";
import type { Store, TaskInput } from "../store/index.js";
import type { Selection } from "./schema.js";

/** The most tasks one queue may have by default (every key is hostile: a selection is bounded before it is stored). */
export const MAX_TASKS = 100_000;

/** Fisher-Yates with the given source of integers in [0, n). */
export function shuffleInPlace<T>(xs: T[], next: (n: number) => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = next(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

const invalidBody = (issues: FieldIssue[]) =>
  new ValidationError(issues, undefined, "body", `invalid body: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);

/** The tasks a selection makes, in queue order; more than `maxTasks` is refused, naming the selection. */
export async function tasksOf(store: Store, project: string, sel: Selection, maxTasks = MAX_TASKS): Promise<TaskInput[]> {
  const MAX = maxTasks;
  const tooMany = () =>
    new ValidationError([{ path: "selection", message: `makes more than ${MAX} tasks (the ceiling of tasks per queue)` }], undefined, "body",
      `the selection makes more than ${MAX} tasks, the ceiling of tasks per queue; narrow it (dataset, itemIds, policies) or sample`);
  let allowedItems: Set<string> | undefined;
  if (sel.dataset !== undefined) {
    allowedItems = new Set();
    for await (const it of store.iterateItems({ project, dataset: sel.dataset })) allowedItems.add(it.id);
  }
  if (sel.itemIds) {
    const ids = new Set(sel.itemIds);
    allowedItems = allowedItems ? new Set([...allowedItems].filter((i) => ids.has(i))) : ids;
  }
  const policyRank = new Map((sel.policies ?? []).map((p, i) => [p, i]));
  const byPolicyThenId = (a: Generation, b: Generation) =>
    (policyRank.get(a.policy) ?? 0) - (policyRank.get(b.policy) ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  let tasks: TaskInput[] = [];
  const explicit = async (ids: string[], path: (i: number) => string): Promise<Generation[]> => {
    const out: Generation[] = [];
    const issues: FieldIssue[] = [];
    for (let i = 0; i < ids.length; i++) {
      const g = await store.getGeneration(project, ids[i]!);
      if (!g) issues.push({ path: path(i), message: `generation "${ids[i]}" does not exist` });
      else out.push(g);
    }
    if (issues.length) throw invalidBody(issues);
    return out;
  };
  if (sel.pairs) {
    const flat = sel.pairs.flat();
    const gens = await explicit(flat, (i) => `selection.pairs.${Math.floor(i / 2)}.${i % 2}`);
    const issues: FieldIssue[] = [];
    for (let i = 0; i < gens.length; i += 2) {
      const a = gens[i]!;
      const b = gens[i + 1]!;
      if (a.id === b.id) issues.push({ path: `selection.pairs.${i / 2}`, message: "a pair needs two different generations" });
      else if (a.itemId !== b.itemId) issues.push({ path: `selection.pairs.${i / 2}.1`, message: `answers item "${b.itemId}", not "${a.itemId}" like the first` });
      else if (!allowedItems || allowedItems.has(a.itemId)) tasks.push({ itemId: a.itemId, generationIds: [a.id, b.id] });
    }
    if (issues.length) throw invalidBody(issues);
  } else if (sel.generationIds) {
    const gens = await explicit(sel.generationIds, (i) => `selection.generationIds.${i}`);
    for (const g of gens) if (!allowedItems || allowedItems.has(g.itemId)) tasks.push({ itemId: g.itemId, generationIds: [g.id] });
  } else {
    const byItem = new Map<string, Generation[]>();
    const single = sel.policies?.length === 1 ? sel.policies[0] : undefined;
    let count = 0;
    for await (const g of store.iterateGenerations({ project, ...(single !== undefined ? { policy: single } : {}) })) {
      if (allowedItems && !allowedItems.has(g.itemId)) continue;
      if (sel.policies ? !policyRank.has(g.policy) : g.policy.startsWith("correction:")) continue;
      let list = byItem.get(g.itemId);
      if (!list) byItem.set(g.itemId, (list = []));
      list.push(g);
      if (++count > Math.max(MAX, MAX_TASKS) * 4) throw tooMany();
    }
    for (const [itemId, gens] of byItem) {
      gens.sort(byPolicyThenId);
      if (sel.mode === "generations") {
        for (const g of gens) tasks.push({ itemId, generationIds: [g.id] });
      } else if (sel.mode === "pairs") {
        for (let i = 0; i < gens.length; i++) {
          for (let j = i + 1; j < gens.length; j++) {
            if (sel.policies && gens[i]!.policy === gens[j]!.policy) continue;
            tasks.push({ itemId, generationIds: [gens[i]!.id, gens[j]!.id] });
          }
        }
      } else if (gens.length >= 2) {
        tasks.push({ itemId, generationIds: gens.map((g) => g.id) });
      }
      if (tasks.length > Math.max(MAX, MAX_TASKS) * 4) throw tooMany();
    }
  }
  if (sel.sample) {
    const rng = createRng(sel.sample.seed ?? 0);
    tasks = shuffleInPlace(tasks, (n) => rng.int(n)).slice(0, sel.sample.n);
  }
  if (tasks.length > MAX) throw tooMany();
  return tasks;
}
