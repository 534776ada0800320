/**
 * From stored feedback to a dataset file: draw examples, filter, split by item, format, write.
 */
import { RlxfError } from "../../errors.js";
import type { Item } from "../../feedback/schema.js";
import { type ExampleOptions, type ExampleSource, type Examples, collectExamples, countSourceTypes } from "./examples.js";
import { type FilterReport, type PairFilterOptions, filterPairs, splitByItem } from "./filters.js";
import {
  type DatasetFormat,
  DATASET_FORMATS,
  type PromptExample,
  type Row,
  type VerlRow,
  hindsightRow,
  openAiDpoRow,
  openAiSftRow,
  openRlhfPreferenceRow,
  openRlhfPromptRow,
  trlPreferenceRow,
  trlPromptRow,
  trlSftRow,
  trlStepwiseRow,
  trlUnpairedRows,
  verlRow,
} from "./formats.js";
import { type HindsightTemplates, bestResponses, chainOfHindsight } from "./hindsight.js";
import { writeJsonl, writeVerlParquet } from "./write.js";

export interface DatasetSource extends ExampleSource {
  /** All items (prompt-only formats take every item, with or without feedback). */
  items?(): AsyncIterable<Item>;
}

export interface BuildOptions extends ExampleOptions, PairFilterOptions {
  format: DatasetFormat;
  /** Share of items held out as a test split (default 0: everything in train). */
  testFraction?: number;
  /** Seed of the split, the length balance and the Chain-of-Hindsight orders (default 0). */
  seed?: number;
  /** trl-preference: add TRL's `margin` column (the pair's margin in [0, 1]). */
  marginColumn?: boolean;
  /** verl: `ability` of every row (default "general"), and `data_source` (default the item's dataset, else its project). */
  ability?: string;
  dataSource?: string;
  /** chain-of-hindsight: the feedback phrases. */
  hindsight?: Partial<HindsightTemplates>;
  /**
   * verl: prompts whose item has no reference answer (`ground_truth` null). `refuse` (the default for the
   * abilities verl scores by rule, {@link RULE_ABILITIES}) throws, naming how many; `skip` leaves them out;
   * `keep` (the default for other abilities) writes them with `reward_model.style` "model".
   */
  missingGroundTruth?: "refuse" | "skip" | "keep";
}

/** verl abilities whose rewards are computed by rule against `ground_truth`: a row without one cannot be scored. */
export const RULE_ABILITIES: readonly string[] = ["math", "code"];

export interface BuiltDataset {
  format: DatasetFormat;
  train: Row[];
  test: Row[];
  report: {
    pairs: number;
    labelled: number;
    steps: number;
    prompts: number;
    filter: FilterReport;
    /** Feedback records that yielded nothing, by reason. */
    skipped: Examples["skipped"];
    /** The examples the rows were made from, by type of source (see `countSourceTypes`); empty for prompt-only formats. */
    sources: Record<string, number>;
    /** verl: prompts with and without a reference answer, and those left out for lack of one. */
    groundTruth?: { with: number; without: number; skipped: number };
  };
}

function promptExample(i: Item): PromptExample {
  const x: PromptExample = { project: i.project, itemId: i.id, prompt: i.prompt };
  if (i.reference !== undefined) x.reference = i.reference;
  if (i.dataset !== undefined) x.dataset = i.dataset;
  return x;
}

/** Build a dataset in `opts.format` from `source` (see formats.ts for what each row holds). */
export async function buildDataset(source: DatasetSource, opts: BuildOptions): Promise<BuiltDataset> {
  if (!(DATASET_FORMATS as readonly string[]).includes(opts.format)) {
    throw new RlxfError("unknown_format", `unknown dataset format "${opts.format}"; supported: ${DATASET_FORMATS.join(", ")}`);
  }
  const seed = opts.seed ?? 0;
  const testFraction = opts.testFraction ?? 0;
  const ex = await collectExamples(source, { ...opts, includeTies: opts.includeTies ?? false });
  const filtered = filterPairs(ex.pairs, { ...opts, seed });
  const split = <T extends { project: string; itemId: string }>(xs: readonly T[]) =>
    testFraction > 0 ? splitByItem(xs, testFraction, seed) : { train: [...xs], test: [] as T[] };

  let prompts: PromptExample[] = [];
  if (opts.format === "trl-prompt" || opts.format === "openrlhf-prompt" || opts.format === "verl") {
    if (source.items) for await (const i of source.items()) prompts.push(promptExample(i));
    else prompts = [...ex.items.values()].map(promptExample);
  }

  let groundTruth: BuiltDataset["report"]["groundTruth"];
  if (opts.format === "verl") {
    const ability = opts.ability ?? "general";
    const mode = opts.missingGroundTruth ?? (RULE_ABILITIES.includes(ability) ? "refuse" : "keep");
    const without = prompts.filter((p) => p.reference === undefined).length;
    if (without > 0 && mode === "refuse") {
      throw new RlxfError(
        "no_reference",
        `verl rows of ability "${ability}" are scored by rule against their ground_truth, but ${without} of ${prompts.length} prompts have no reference answer ` +
          `(their ground_truth would be null): import items with a reference (reference, answer or gold), or leave those out (missingGroundTruth "skip", CLI --missing-ground-truth skip)`,
        { field: "missingGroundTruth" },
      );
    }
    if (mode === "skip") prompts = prompts.filter((p) => p.reference !== undefined);
    groundTruth = { with: prompts.filter((p) => p.reference !== undefined).length, without: mode === "skip" ? 0 : without, skipped: mode === "skip" ? without : 0 };
  }

  const pairs = split(filtered.pairs);
  const labelled = split(ex.labelled);
  const rowsOf = (side: "train" | "test"): Row[] => {
    switch (opts.format) {
      case "trl-preference":
        return pairs[side].map((p) => trlPreferenceRow(p, { marginColumn: opts.marginColumn ?? false }));
      case "trl-unpaired":
        return trlUnpairedRows(pairs[side], labelled[side]);
      case "trl-prompt":
        return split(prompts)[side].map(trlPromptRow);
      case "trl-stepwise":
        return split(ex.steps)[side].map(trlStepwiseRow);
      case "trl-sft":
        return bestResponses(pairs[side], labelled[side]).map(trlSftRow);
      case "chain-of-hindsight":
        return chainOfHindsight(pairs[side], labelled[side], { seed, ...(opts.hindsight ? { templates: opts.hindsight } : {}) }).map(hindsightRow);
      case "openrlhf-preference":
        return pairs[side].map(openRlhfPreferenceRow);
      case "openrlhf-prompt":
        return split(prompts)[side].map(openRlhfPromptRow);
      case "verl":
        return split(prompts)[side].map(
          (x, i): Row =>
            verlRow(x, i, {
              split: side,
              ...(opts.ability !== undefined ? { ability: opts.ability } : {}),
              ...(opts.dataSource !== undefined ? { dataSource: opts.dataSource } : {}),
            }),
        );
      case "openai-sft":
        return bestResponses(pairs[side], labelled[side]).map(openAiSftRow);
      case "openai-dpo":
        return pairs[side].map(openAiDpoRow);
    }
  };
  return {
    format: opts.format,
    train: rowsOf("train"),
    test: testFraction > 0 ? rowsOf("test") : [],
    report: {
      pairs: filtered.pairs.length,
      labelled: ex.labelled.length,
      steps: ex.steps.length,
      prompts: prompts.length,
      filter: filtered.report,
      skipped: ex.skipped,
      sources: countSourceTypes(usedExamples(opts.format, filtered.pairs, ex)),
      ...(groundTruth ? { groundTruth } : {}),
    },
  };
}

/** The examples a format's rows are made from (prompt-only formats use none). */
function usedExamples(format: DatasetFormat, pairs: Examples["pairs"], ex: Examples): Array<{ sources?: readonly string[]; source?: string }> {
  switch (format) {
    case "trl-preference":
    case "openrlhf-preference":
    case "openai-dpo":
      return pairs;
    case "trl-unpaired":
    case "trl-sft":
    case "openai-sft":
    case "chain-of-hindsight":
      return [...pairs, ...ex.labelled];
    case "trl-stepwise":
      return ex.steps;
    case "trl-prompt":
    case "openrlhf-prompt":
    case "verl":
      return [];
  }
}

/** Write rows of `format` to `path`: parquet for verl, JSON Lines otherwise (".gz" compresses). */
export async function writeDatasetFile(path: string, format: DatasetFormat, rows: readonly Row[]): Promise<void> {
  if (format === "verl") await writeVerlParquet(path, rows as unknown as VerlRow[]);
  else await writeJsonl(path, rows);
}
