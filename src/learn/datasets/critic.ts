/**
 * Critic-training datasets from solutions with correctness labels (RealCritic-style records: items with the gold
 * answer as reference, solution generations, `verification` or `binary` labels): one prompt per solution, asking
 * the critic to critique it (the critic config's prompt, `solution-critique` by default), with the ground truth
 * the critic rewards read (`critic-verdict`, `critic-refine`, `critic-dual`) as JSON text:
 * `{"correct", "gold", "question", "solution", "task", "kind"}`.
 *
 * | format | row |
 * |---|---|
 * | `verl` | `{data_source: task, prompt, ability: "critic", reward_model: {style: "rule", ground_truth}, extra_info}` (parquet) |
 * | `trl-prompt` | `{prompt, ground_truth}` (conversational prompt; TRL passes `ground_truth` to reward functions) |
 * | `openrlhf-prompt` | `{input, label}` (`--input_key input --label_key label`) |
 */
import { RlxfError } from "../../errors.js";
import type { Feedback, Generation, Item } from "../../feedback/schema.js";
import type { ChatMessage } from "../../providers/index.js";
import { type CriticSolution, resolveCriticJudge, solutionsFrom } from "../../critics/index.js";
import type { JudgeConfig } from "../../sources/index.js";
import { messagesOf } from "../../sources/index.js";
import { seededUnit } from "../../sources/index.js";
import { splitByItem } from "./filters.js";
import type { Row, VerlRow } from "./formats.js";

export const CRITIC_DATASET_FORMATS = ["verl", "trl-prompt", "openrlhf-prompt"] as const;
export type CriticDatasetFormat = (typeof CRITIC_DATASET_FORMATS)[number];

export interface CriticDatasetSource {
  items(): AsyncIterable<Item>;
  generations(): AsyncIterable<Generation>;
  /** Feedback; `verification` and `binary` records on one generation are its correctness label. */
  feedback(): AsyncIterable<Feedback>;
}

export interface CriticDatasetOptions {
  format: CriticDatasetFormat;
  /** The critic config whose prompt the rows carry (a name, a JSON file; default `solution-critique`). */
  critic?: string | JudgeConfig;
  /** Share of items held out as a test split (default 0). */
  testFraction?: number;
  seed?: number;
  /** Only items of these datasets (RealCritic: tasks). */
  tasks?: readonly string[];
  /** Drop solutions of the larger class (seeded) so correct and wrong ones are equally many. */
  balance?: boolean;
}

export interface BuiltCriticDataset {
  format: CriticDatasetFormat;
  train: Row[];
  test: Row[];
  report: { solutions: number; correct: number; wrong: number; dropped: number; skipped: Array<{ reason: string; count: number }> };
}

/** The ground truth of a solution, as the critic rewards read it. */
export function criticGroundTruth(s: CriticSolution): string {
  return JSON.stringify({ correct: s.correct, gold: s.gold, question: s.question, solution: s.solution, task: s.task, kind: s.kind });
}

/** The critic's prompt for a solution. */
export function criticPrompt(s: Pick<CriticSolution, "question" | "solution">, judge: JudgeConfig): ChatMessage[] {
  return messagesOf(judge, { instruction: s.question, output: s.solution });
}

function balanced(xs: CriticSolution[], seed: number): { kept: CriticSolution[]; dropped: number } {
  const right = xs.filter((s) => s.correct);
  const wrong = xs.filter((s) => !s.correct);
  const n = Math.min(right.length, wrong.length);
  const pick = (ys: CriticSolution[]) => new Set([...ys].sort((a, b) => seededUnit("critic-balance", seed, a.id) - seededUnit("critic-balance", seed, b.id)).slice(0, n).map((s) => s.id));
  const keep = new Set([...pick(right), ...pick(wrong)]);
  const kept = xs.filter((s) => keep.has(s.id));
  return { kept, dropped: xs.length - kept.length };
}

export async function buildCriticDataset(source: CriticDatasetSource, opts: CriticDatasetOptions): Promise<BuiltCriticDataset> {
  if (!(CRITIC_DATASET_FORMATS as readonly string[]).includes(opts.format)) {
    throw new RlxfError("unknown_format", `critic datasets come as ${CRITIC_DATASET_FORMATS.join(", ")}, not "${opts.format}"`);
  }
  const judge = typeof opts.critic === "object" ? opts.critic : resolveCriticJudge(opts.critic);
  const seed = opts.seed ?? 0;
  const items: Item[] = [];
  for await (const i of source.items()) if (!opts.tasks || (i.dataset !== undefined && opts.tasks.includes(i.dataset))) items.push(i);
  const keep = new Set(items.map((i) => i.id));
  const generations: Generation[] = [];
  for await (const g of source.generations()) if (keep.has(g.itemId)) generations.push(g);
  const genIds = new Set(generations.map((g) => g.id));
  const feedback: Feedback[] = [];
  for await (const f of source.feedback()) if ((f.kind === "verification" || f.kind === "binary") && genIds.has(f.targets[0]!)) feedback.push(f);
  const set = solutionsFrom({ items, generations, feedback });
  const projectOf = new Map(items.map((i) => [i.id, i.project]));
  let solutions = set.solutions.map((s) => ({ ...s, project: projectOf.get(s.itemId) ?? "default" }));
  let dropped = 0;
  if (opts.balance) {
    const b = balanced(solutions, seed);
    dropped = b.dropped;
    const ids = new Set(b.kept.map((s) => s.id));
    solutions = solutions.filter((s) => ids.has(s.id));
  }
  const split = (opts.testFraction ?? 0) > 0 ? splitByItem(solutions, opts.testFraction!, seed) : { train: solutions, test: [] };
  const rows = (xs: typeof solutions, side: "train" | "test"): Row[] =>
    xs.map((s, index) => {
      const prompt = criticPrompt(s, judge);
      const ground = criticGroundTruth(s);
      if (opts.format === "trl-prompt") return { prompt, ground_truth: ground };
      if (opts.format === "openrlhf-prompt") return { input: prompt, label: ground };
      const row: VerlRow = {
        data_source: s.task,
        prompt,
        ability: "critic",
        reward_model: { style: "rule", ground_truth: ground },
        extra_info: { split: side, index, item_id: s.itemId },
      };
      return row as unknown as Row;
    });
  const correct = solutions.filter((s) => s.correct).length;
  return {
    format: opts.format,
    train: rows(split.train, "train"),
    test: rows(split.test, "test"),
    report: { solutions: solutions.length, correct, wrong: solutions.length - correct, dropped, skipped: set.skipped },
  };
}
