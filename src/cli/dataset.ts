/** `rlxf dataset ...`: preference and RL datasets from stored feedback, for TRL, OpenRLHF, verl and OpenAI. */
import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import { RlxfError } from "../errors.js";
import { FEEDBACK_KINDS, type FeedbackKind, SOURCE_TYPES, type SourceType } from "../feedback/index.js";
import {
  type C3poSpec,
  DATASET_FORMATS,
  type DatasetFormat,
  type DatasetSource,
  PAIR_DERIVATIONS,
  type PairDerivation,
  CRITIC_DATASET_FORMATS,
  type CriticDatasetFormat,
  buildC3po,
  buildCriticDataset,
  buildDataset,
  openAiDpoRow,
  openAiSftRow,
  trlPreferenceRow,
  trlSftRow,
  writeDatasetFile,
  writeJsonl,
} from "../learn/index.js";
import { type Store, readSnapshot } from "../store/index.js";
import { progress } from "./progress.js";
import { type DbOptions, dbOption, info, otherProjectsHint, out, withStore, projectOption } from "./shared.js";

/** A comma-separated list option whose values must come from `allowed`. */
export const listOf =
  <T extends string>(name: string, allowed: readonly T[]) =>
  (v: string): T[] => {
    const xs = v.split(",").map((s) => s.trim()).filter(Boolean);
    const bad = xs.filter((x) => !(allowed as readonly string[]).includes(x));
    if (bad.length) throw new InvalidArgumentError(`${name}: unknown ${bad.join(", ")}; choose from ${allowed.join(", ")}`);
    return xs as T[];
  };

/** A number option within [min, max]. */
export const num =
  (name: string, min = -Infinity, max = Infinity) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
    return n;
  };

export interface FeedbackQuery {
  project: string;
  kinds?: FeedbackKind[];
  /** Only feedback from this source type, or these. */
  sourceType?: SourceType | readonly SourceType[];
  from?: PairDerivation[];
}

/** `--source-type human,judge`: the source types to read (the store's types only). */
export const sourceTypeList = listOf("--source-type", SOURCE_TYPES);

/** The store's feedback (filtered), generations and items, as the learn room reads them. */
export function feedbackSource(store: Store, q: FeedbackQuery): DatasetSource {
  const types = q.sourceType === undefined ? undefined : typeof q.sourceType === "string" ? [q.sourceType] : q.sourceType;
  const filter = {
    project: q.project,
    ...(q.kinds ? { kind: q.kinds } : {}),
    ...(types?.length === 1 ? { sourceType: types[0]! } : {}),
  };
  return {
    resolvedFeedback: () =>
      types && types.length > 1
        ? (async function* () {
            for await (const rf of store.iterateResolvedFeedback(filter)) if (types.includes(rf.feedback.source.type)) yield rf;
          })()
        : store.iterateResolvedFeedback(filter),
    generations: () => store.iterateGenerations({ project: q.project }),
    items: () => store.iterateItems({ project: q.project }),
  };
}

/**
 * What the examples came from, by type of source: one line for every summary, so that human labels, judge
 * verdicts and simulated labels are never mixed without saying so.
 */
export function sourcesLine(counts: Record<string, number>, unit: string): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return `sources: none (${unit} are not made from feedback)`;
  const list = entries.map(([type, n]) => `${type} ${n.toLocaleString("en-US")}`).join(", ");
  return entries.length === 1
    ? `sources: all ${list} ${unit} from ${entries[0]![0]} feedback`
    : `sources: ${unit} from ${list}: mixed source types (--source-type ${entries.map(([t]) => t).filter((t) => !t.includes("+")).join(",")} picks some)`;
}

/** The data query as recorded in models and reports. */
export function queryRecord(q: FeedbackQuery): Record<string, unknown> {
  return {
    project: q.project,
    ...(q.kinds ? { kinds: q.kinds } : {}),
    ...(q.sourceType ? { sourceType: q.sourceType } : {}),
    ...(q.from ? { derivations: q.from } : {}),
  };
}

interface BuildCliOptions extends DbOptions {
  format: DatasetFormat;
  out: string;
  testOut?: string;
  testFraction?: number;
  project: string;
  kinds?: FeedbackKind[];
  sourceType?: SourceType[];
  missingGroundTruth?: "refuse" | "skip" | "keep";
  from?: PairDerivation[];
  minMargin?: number;
  minAgreement?: number;
  minVotes?: number;
  dedupe: boolean;
  lengthBalance?: boolean;
  ties?: boolean;
  margin?: boolean;
  ability?: string;
  dataSource?: string;
  seed: number;
  json?: boolean;
  task?: "critic";
  critic?: string;
  tasks?: string[];
  balance?: boolean;
}

/** `--task critic`: one critic prompt per labelled solution, with the ground truth the critic rewards read. */
async function runCriticBuild(opts: BuildCliOptions, testFraction: number): Promise<void> {
  if (!(CRITIC_DATASET_FORMATS as readonly string[]).includes(opts.format)) {
    throw new RlxfError("invalid_input", `--task critic writes ${CRITIC_DATASET_FORMATS.join(", ")}, not ${opts.format}`);
  }
  const built = await withStore(opts, (store) =>
    buildCriticDataset(
      { items: () => store.iterateItems({ project: opts.project }), generations: () => store.iterateGenerations({ project: opts.project }), feedback: () => store.iterateFeedback({ project: opts.project, kind: ["verification", "binary"] }) },
      {
        format: opts.format as CriticDatasetFormat,
        testFraction,
        seed: opts.seed,
        ...(opts.critic ? { critic: opts.critic } : {}),
        ...(opts.tasks ? { tasks: opts.tasks } : {}),
        ...(opts.balance ? { balance: true } : {}),
      },
    ),
  );
  if (built.train.length === 0) {
    throw new RlxfError("no_data", `no labelled solutions in project "${opts.project}" (items with a reference, generations with verification or binary feedback)${built.report.skipped.length ? `; skipped: ${built.report.skipped.map((s) => `${s.count} ${s.reason}`).join(", ")}` : ""}`);
  }
  await writeDatasetFile(opts.out, opts.format, built.train);
  if (opts.testOut && built.test.length) await writeDatasetFile(opts.testOut, opts.format, built.test);
  const summary = { task: "critic", format: opts.format, out: opts.out, rows: built.train.length, testRows: built.test.length, ...built.report };
  if (opts.json) {
    out(`${JSON.stringify(summary)}\n`);
    return;
  }
  info(`wrote ${built.train.length} critic ${opts.format} row(s) to ${opts.out} (${built.report.correct} correct and ${built.report.wrong} wrong solutions in all${built.report.dropped ? `, ${built.report.dropped} dropped to balance them` : ""})\n`);
  if (opts.testOut) info(`wrote ${built.test.length} test row(s) to ${opts.testOut}\n`);
  for (const s of built.report.skipped) info(`  skipped ${s.count}: ${s.reason}\n`);
}

async function runBuild(opts: BuildCliOptions): Promise<void> {
  const testFraction = opts.testFraction ?? (opts.testOut ? 0.1 : 0);
  if (testFraction > 0 && !opts.testOut) throw new RlxfError("missing_option", "--test-fraction needs --test-out FILE for the test split");
  if (opts.task === "critic") return runCriticBuild(opts, testFraction);
  const q: FeedbackQuery = { project: opts.project };
  if (opts.kinds) q.kinds = opts.kinds;
  if (opts.sourceType) q.sourceType = opts.sourceType;
  if (opts.from) q.from = opts.from;
  // One snapshot of the store: the dataset is one moment of it, whatever is written meanwhile.
  const bar = progress("reading feedback");
  const built = await withStore(opts, (store) =>
    readSnapshot(() => buildDataset(feedbackSource(store, q), {
      onRecord: () => bar.tick(),
      format: opts.format,
      testFraction,
      seed: opts.seed,
      dedupe: opts.dedupe,
      ...(opts.from ? { pairsFrom: opts.from } : {}),
      ...(opts.ties ? { includeTies: true, dropTies: false } : {}),
      ...(opts.minMargin !== undefined ? { minMargin: opts.minMargin } : {}),
      ...(opts.minAgreement !== undefined ? { minAgreement: opts.minAgreement } : {}),
      ...(opts.minVotes !== undefined ? { minVotes: opts.minVotes } : {}),
      ...(opts.lengthBalance ? { lengthBalance: true } : {}),
      ...(opts.margin ? { marginColumn: true } : {}),
      ...(opts.ability ? { ability: opts.ability } : {}),
      ...(opts.dataSource ? { dataSource: opts.dataSource } : {}),
      ...(opts.missingGroundTruth ? { missingGroundTruth: opts.missingGroundTruth } : {}),
    })).finally(() => bar.done()),
  );
  if (built.train.length === 0) {
    throw new RlxfError(
      "no_data",
      `no ${opts.format} rows from project "${opts.project}" (pairs ${built.report.pairs}, labelled outputs ${built.report.labelled}, step examples ${built.report.steps}, prompts ${built.report.prompts})${await withStore(opts, (store) => otherProjectsHint(store, opts.project))}`,
    );
  }
  await writeDatasetFile(opts.out, opts.format, built.train);
  if (opts.testOut && built.test.length) await writeDatasetFile(opts.testOut, opts.format, built.test);
  const summary = { format: opts.format, out: opts.out, rows: built.train.length, testRows: built.test.length, ...built.report };
  if (opts.json) {
    out(`${JSON.stringify(summary)}\n`);
    return;
  }
  info(`wrote ${built.train.length} ${opts.format} row(s) to ${opts.out}\n`);
  if (opts.testOut) info(`wrote ${built.test.length} test row(s) to ${opts.testOut}\n`);
  info(`  ${sourcesLine(built.report.sources, EXAMPLE_UNIT[opts.format])}\n`);
  const gt = built.report.groundTruth;
  if (gt) {
    info(`  ground truth: ${gt.with} prompt(s) with a reference${gt.without ? `, ${gt.without} without (ground_truth null: scored by a reward model, not by rule)` : ""}${gt.skipped ? `, ${gt.skipped} left out for lack of one` : ""}\n`);
  }
  for (const d of built.report.filter.dropped) info(`  dropped ${d.count}: ${d.reason}\n`);
  for (const s of built.report.skipped) info(`  skipped ${s.count}: ${s.reason}\n`);
}

/** What a format's rows are made of, for the sources line. */
const EXAMPLE_UNIT: Record<DatasetFormat, string> = {
  "trl-preference": "pairs",
  "openrlhf-preference": "pairs",
  "openai-dpo": "pairs",
  "trl-unpaired": "examples",
  "trl-sft": "examples",
  "openai-sft": "examples",
  "chain-of-hindsight": "examples",
  "trl-stepwise": "step examples",
  "trl-prompt": "prompts",
  "openrlhf-prompt": "prompts",
  verl: "prompts",
};

interface C3poCliOptions {
  spec: string;
  out: string;
  sftOut?: string;
  format: "trl-preference" | "openai-dpo";
  json?: boolean;
}

async function runC3po(opts: C3poCliOptions): Promise<void> {
  let spec: C3poSpec;
  try {
    spec = JSON.parse(await readFile(opts.spec, "utf8")) as C3poSpec;
  } catch (e) {
    throw new RlxfError("invalid_input", `cannot read the C3PO spec ${opts.spec}: ${(e as Error).message}`);
  }
  if (typeof spec.feedback !== "string" || !Array.isArray(spec.inScope) || !Array.isArray(spec.outOfScope)) {
    throw new RlxfError("invalid_input", `${opts.spec} must hold {feedback, inScope: [{prompt, baseline, revised}], outOfScope: [{prompt, baseline}]}`);
  }
  const set = buildC3po(spec);
  const pairRows = set.pairs.map((p) => (opts.format === "openai-dpo" ? openAiDpoRow(p) : trlPreferenceRow(p)));
  await writeJsonl(opts.out, pairRows);
  if (opts.sftOut) await writeJsonl(opts.sftOut, set.sft.map((d) => (opts.format === "openai-dpo" ? openAiSftRow(d) : trlSftRow(d))));
  const summary = { pairs: set.pairs.length, sft: set.sft.length, out: opts.out, ...(opts.sftOut ? { sftOut: opts.sftOut } : {}) };
  if (opts.json) out(`${JSON.stringify(summary)}\n`);
  else info(`wrote ${set.pairs.length} in-scope preference pair(s) to ${opts.out}${opts.sftOut ? ` and ${set.sft.length} out-of-scope target(s) to ${opts.sftOut}` : ""}\n`);
}

export function register(program: Command): void {
  const ds = program.command("dataset").description("build training datasets from stored feedback (TRL, OpenRLHF, verl, OpenAI)");

  ds.command("build")
    .description("draw examples from feedback of any kind, filter, split by item, and write one dataset file")
    .addOption(new Option("--format <format>", "dataset format").choices([...DATASET_FORMATS]).makeOptionMandatory())
    .requiredOption("--out <file>", "output file (verl: parquet; others: JSON Lines, .gz compresses)")
    .option("--test-out <file>", "also write a test split (items held out) here")
    .option("--test-fraction <share>", "share of items in the test split (default 0.1 with --test-out)", num("--test-fraction", 0, 0.99))
    .addOption(projectOption("project"))
    .option("--kinds <list>", `feedback kinds to read (${FEEDBACK_KINDS.join(", ")})`, listOf("--kinds", FEEDBACK_KINDS))
    .option("--source-type <list>", `only feedback from these source types, comma-separated (${SOURCE_TYPES.join(", ")})`, sourceTypeList)
    .option("--from <list>", `pair derivations to use (${PAIR_DERIVATIONS.join(", ")})`, listOf("--from", PAIR_DERIVATIONS))
    .option("--min-margin <m>", "drop pairs with a margin (strength, or 2·p − 1) below m", num("--min-margin", 0, 1))
    .option("--min-agreement <a>", "merge repeated judgements of a pair and drop those with agreement below a", num("--min-agreement", 0, 1))
    .option("--min-votes <n>", "with --min-agreement: drop pairs with fewer votes", num("--min-votes", 1))
    .option("--no-dedupe", "keep duplicate pairs and pairs of identical outputs")
    .option("--length-balance", "subsample so the chosen output is the longer one in half the pairs")
    .option("--ties", "keep ties (formats that carry them)")
    .option("--margin", "trl-preference: add a `margin` column")
    .option("--ability <name>", "verl: the ability column (default general)")
    .option("--data-source <name>", "verl: the data_source column (default the item's dataset, else the project)")
    .addOption(
      new Option("--missing-ground-truth <mode>", "verl: prompts without a reference answer: refuse (default for --ability math or code), skip them, or keep them with ground_truth null (default otherwise)").choices([
        "refuse",
        "skip",
        "keep",
      ]),
    )
    .option("--seed <n>", "seed of the split, length balance and orders", num("--seed"), 0)
    .addOption(new Option("--task <task>", "critic: critic-training prompts from labelled solutions (verl, trl-prompt, openrlhf-prompt), ground truth for the critic rewards").choices(["critic"]))
    .option("--critic <judge>", "--task critic: the critic config whose prompt the rows carry (default solution-critique)")
    .option("--tasks <list>", "--task critic: only items of these datasets (e.g. math,gsm8k)", (v: string) => v.split(",").map((x) => x.trim()).filter(Boolean))
    .option("--balance", "--task critic: as many correct as wrong solutions (seeded)")
    .addOption(dbOption())
    .option("--json", "print a JSON summary on stdout")
    .action(runBuild);

  ds.command("c3po")
    .description("C3PO: in-scope preference pairs and out-of-scope targets from one piece of verbal feedback")
    .requiredOption("--spec <file>", "JSON {feedback, inScope: [{prompt, baseline, revised}], outOfScope: [{prompt, baseline}], nearScope?}")
    .requiredOption("--out <file>", "preference pairs (JSON Lines)")
    .option("--sft-out <file>", "out-of-scope targets (JSON Lines)")
    .addOption(new Option("--format <format>", "row format").choices(["trl-preference", "openai-dpo"]).default("trl-preference"))
    .option("--json", "print a JSON summary on stdout")
    .action(runC3po);
}
