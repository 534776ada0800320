/**
 * Solutions to critique: a question with its gold answer, one model's solution to it, and whether that solution
 * is correct. Read from any import batch (RealCritic files, or rlxf records) or from the store: items with a
 * reference, their generations, and a `verification` (or `binary`) label on each generation.
 */
import { RlxfError } from "../errors.js";
import type { Feedback, Generation, Item } from "../feedback/schema.js";
import { mergeBatches, readImportFile } from "../io/index.js";
import type { ImportOptions } from "../io/index.js";
import { promptText } from "../io/index.js";
import type { Store } from "../store/index.js";
import { type AnswerKind, answerKindOf } from "./answers.js";

export interface CriticSolution {
  /** The solution's generation id. */
  id: string;
  itemId: string;
  /** The item's dataset (RealCritic: the task). */
  task: string;
  kind: AnswerKind;
  question: string;
  gold: string;
  solution: string;
  /** The policy that wrote the solution (self-critique asks it). */
  model: string;
  /** The label: whether the solution is correct. */
  correct: boolean;
}

export interface SolutionSet {
  solutions: CriticSolution[];
  /** Generations left out, by reason. */
  skipped: Array<{ reason: string; count: number }>;
}

function labelOf(f: Feedback): boolean | undefined {
  if (f.kind === "verification") return f.value.passed;
  if (f.kind === "binary") return f.value.ok;
  return undefined;
}

/** Solutions from records: each generation of an item with a reference and a correctness label. */
export function solutionsFrom(records: { items: Iterable<Item>; generations: Iterable<Generation>; feedback: Iterable<Feedback> }): SolutionSet {
  const items = new Map<string, Item>();
  for (const i of records.items) items.set(i.id, i);
  const labels = new Map<string, boolean[]>();
  for (const f of records.feedback) {
    const l = labelOf(f);
    if (l === undefined || f.targets.length !== 1) continue;
    const list = labels.get(f.targets[0]!);
    if (list) list.push(l);
    else labels.set(f.targets[0]!, [l]);
  }
  const skipped = new Map<string, number>();
  const skip = (reason: string) => skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
  const solutions: CriticSolution[] = [];
  for (const g of records.generations) {
    const item = items.get(g.itemId);
    if (!item) {
      skip("its item is missing");
      continue;
    }
    if (item.reference === undefined || item.reference === "") {
      skip("its item has no reference (gold answer)");
      continue;
    }
    const l = labels.get(g.id);
    if (!l || l.length === 0) {
      skip("no correctness label (verification or binary feedback)");
      continue;
    }
    if (l.some((x) => x !== l[0])) {
      skip("correctness labels that disagree");
      continue;
    }
    const question = promptText(item.prompt);
    const task = item.dataset ?? (typeof item.metadata?.task === "string" ? item.metadata.task : "default");
    solutions.push({
      id: g.id,
      itemId: item.id,
      task,
      kind: answerKindOf(task, item.reference, question),
      question,
      gold: item.reference,
      solution: g.output,
      model: g.policy,
      correct: l[0]!,
    });
  }
  return { solutions, skipped: [...skipped].map(([reason, count]) => ({ reason, count })) };
}

/** Solutions from files in any import format (RealCritic's, or rlxf records). */
export async function readSolutions(files: readonly string[], opts: ImportOptions = {}): Promise<SolutionSet> {
  if (files.length === 0) throw new RlxfError("missing_option", "no solution files given (e.g. ../shared/data/realcritic/*.jsonl.gz)");
  const batches = [];
  for (const f of files) batches.push(await readImportFile(f, opts));
  return solutionsFrom(mergeBatches(batches));
}

/** Solutions from a project of the store (optionally only items of some datasets). */
export async function solutionsFromStore(store: Store, project: string, opts: { datasets?: readonly string[] } = {}): Promise<SolutionSet> {
  const items: Item[] = [];
  for await (const i of store.iterateItems({ project })) if (!opts.datasets || (i.dataset !== undefined && opts.datasets.includes(i.dataset))) items.push(i);
  const keep = new Set(items.map((i) => i.id));
  const generations: Generation[] = [];
  for await (const g of store.iterateGenerations({ project })) if (keep.has(g.itemId)) generations.push(g);
  const genIds = new Set(generations.map((g) => g.id));
  const feedback: Feedback[] = [];
  for await (const f of store.iterateFeedback({ project, kind: ["verification", "binary"] })) if (genIds.has(f.targets[0]!)) feedback.push(f);
  return solutionsFrom({ items, generations, feedback });
}
