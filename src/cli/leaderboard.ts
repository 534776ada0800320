/**
 * `rlxf leaderboard`: AlpacaEval win rates (with length control) or Bradley-Terry ratings, from files or the
 * store. It imports only what the files path needs up front, so that it starts fast (see main.ts).
 */
/* eslint-disable rlxf/rooms -- the modules behind the eval and io doors, one by one: the doors would load every room they re-export */
import { type Command, Option } from "commander";
import { RlxfError } from "../errors.js";
import { type AlpacaEvalAnnotation, withOutputLengths } from "../eval/alpaca-eval.js";
import type { GenerationInfo } from "../eval/from-feedback.js";
import { DIFFICULTY_MODES, type DifficultyMode } from "../eval/instruction-difficulty.js";
import { alpacaEvalBoardFromPairsThreaded, alpacaEvalBoardThreaded } from "../eval/board-threads.js";
import { type AlpacaEvalBoard, alpacaEvalModelName } from "../eval/leaderboard.js";
import type { Feedback } from "../feedback/index.js";
import { detectFormat } from "../io/detect.js";
import { readRawRecords } from "../io/records.js";
import { IMPORT_FORMATS, type ImportFormat } from "../io/types.js";
import { type DbOptions, dbOption, info, int, otherProjectsHint, out, table, withStore, projectOption } from "./shared.js";
import { type Progress, progress } from "./progress.js";

export function registerLeaderboard(p: Command): void {
  p.command("leaderboard")
    .description("rank models from pairwise feedback in files or in the store")
    .argument("[files...]", "annotation files (read directly, not stored); the store when none are given")
    .addOption(new Option("--format <format>", "format of the files").choices([...IMPORT_FORMATS]))
    .addOption(new Option("--method <method>", "alpaca-eval: win rates against a baseline (with length control); bt: Bradley-Terry").choices(["alpaca-eval", "bt"]))
    .option("--baseline <policy>", "alpaca-eval method, from the store: the reference policy (default: the one compared most often)")
    .option("--no-lc", "alpaca-eval method: the win-rate columns alone, without the length-controlled win rate")
    .addOption(
      new Option(
        "--difficulty <mode>",
        "alpaca-eval method: instruction difficulty of the LC column; auto: rlxf's shipped estimate for AlpacaEval's instructions, else estimated from the annotations; estimate: always from the annotations",
      )
        .choices([...DIFFICULTY_MODES])
        .default("auto"),
    )
    .option("--threads <n>", "alpaca-eval method: worker threads for the length-controlled fits (default: one per core when estimating the instruction difficulty, else none)", int("--threads"))
    .option("--bootstrap <n>", "bt method: bootstrap rounds for confidence intervals", int("--bootstrap"), 200)
    .option("--seed <n>", "bt method: random seed", int("--seed"), 0)
    .addOption(projectOption("project, when reading the store"))
    .addOption(dbOption())
    .option("--json", "print a JSON array of rows and nothing else on stdout")
    .action(runLeaderboard);
}

export interface LeaderboardCliOptions extends DbOptions {
  format?: ImportFormat;
  method?: "alpaca-eval" | "bt";
  baseline?: string;
  bootstrap: number;
  seed: number;
  project: string;
  json?: boolean;
  /** `--no-lc` sets it false: the win-rate columns alone. */
  lc?: boolean;
  difficulty?: DifficultyMode;
  threads?: number;
}

const ALPACA_COLUMNS = [
  { key: "model" },
  { key: "win_rate", digits: 2 },
  { key: "standard_error", title: "se", digits: 2 },
  { key: "n_wins", title: "wins" },
  { key: "n_wins_base", title: "losses" },
  { key: "n_draws", title: "draws" },
  { key: "n_total", title: "n" },
  { key: "discrete_win_rate", title: "discrete", digits: 2 },
  { key: "avg_length", title: "avg_len", digits: 0 },
  { key: "length_controlled_winrate", title: "lc_win_rate", digits: 2 },
  { key: "lc_standard_error", title: "lc_se", digits: 2 },
];
const BT_COLUMNS = [
  { key: "model" },
  { key: "rating", digits: 1 },
  { key: "lower", title: "95% lower", digits: 1 },
  { key: "upper", title: "95% upper", digits: 1 },
  { key: "n_comparisons", title: "comparisons" },
  { key: "win_share", title: "win share", digits: 3 },
];

/**
 * A file's AlpacaEval annotations (any layout rlxf reads), each with its outputs' lengths in place of their texts:
 * the leaderboard needs no more, and 20 files' texts would otherwise stay in memory to be copied by every GC.
 */
async function readAlpacaEvalRecords(file: string): Promise<AlpacaEvalAnnotation[]> {
  const rows: AlpacaEvalAnnotation[] = [];
  for await (const r of readRawRecords(file)) {
    if (detectFormat(r.value) !== "alpaca-eval") {
      throw new RlxfError("wrong_format", `${r.label} is not an AlpacaEval annotation (needs instruction, output_1, output_2, generator_2, preference)`);
    }
    rows.push(withOutputLengths(r.value as AlpacaEvalAnnotation));
  }
  return rows;
}

async function alpacaEvalRowsFromFiles(files: string[]): Promise<AlpacaEvalAnnotation[]> {
  const bar = progress("reading", files.length);
  const perFile: AlpacaEvalAnnotation[][] = new Array(files.length);
  try {
    // A few at a time: files decompress on libuv's threads while this one parses those already decompressed.
    let next = 0;
    const reader = async () => {
      for (let k = next++; k < files.length; k = next++) {
        perFile[k] = await readAlpacaEvalRecords(files[k]!);
        bar.tick(1, files[k]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, files.length) }, reader));
  } finally {
    bar.done();
  }
  const rows: AlpacaEvalAnnotation[] = [];
  files.forEach((file, k) => {
    const fileRows = perFile[k]!;
    const name = alpacaEvalModelName(file, new Set(fileRows.map((r) => r.generator_2)));
    for (const r of fileRows) {
      if (name) r.generator_2 = name;
      rows.push(r);
    }
  });
  return rows;
}

/** Stored pairwise feedback as AlpacaEval rows (in whatever order each comparison was stored). */
async function alpacaEvalPairsFrom(opts: LeaderboardCliOptions): Promise<AlpacaEvalAnnotation[]> {
  const { alpacaEvalPairsFromStore } = await import("../eval/index.js");
  return withStore(opts, (store) => alpacaEvalPairsFromStore(store, opts.project));
}

/** Why the store gave the alpaca-eval method no comparison: the real cause, and what to do. */
async function whyNoPairs(opts: LeaderboardCliOptions): Promise<string> {
  const { comparisonsFromStore, noComparisonsReason } = await import("../eval/index.js");
  const { feedback, generations } = await withStore(opts, (store) => comparisonsFromStore(store, opts.project));
  const pairwise = feedback.filter((f) => f.kind === "pairwise");
  if (pairwise.length === 0) {
    return feedback.length
      ? `no pairwise feedback, only ${feedback.length} ranking or rating record(s): the alpaca-eval method reads pairwise feedback; --method bt also ranks from rankings and ratings`
      : `no pairwise feedback was found${await withStore(opts, (store) => otherProjectsHint(store, opts.project))}`;
  }
  return noComparisonsReason(pairwise, generations);
}

/** One line saying what the LC column's instruction difficulty is. */
export function difficultyNote(board: AlpacaEvalBoard): string | undefined {
  const d = board.difficulty;
  if (!d) return undefined;
  const cover = d.covered < d.instructions ? ` (${d.covered} of ${d.instructions} instructions)` : "";
  if (d.kind === "shipped") return `LC: instruction difficulty shipped with rlxf for AlpacaEval's instructions, fitted on ${d.models} models${cover}`;
  if (d.kind === "estimated") return `LC: instruction difficulty estimated from these ${d.models} model${d.models === 1 ? "" : "s"} (C = ${d.C?.toPrecision(3)})`;
  return `LC: instruction difficulty given${cover}`;
}

async function comparisonsFrom(files: string[], opts: LeaderboardCliOptions): Promise<{ feedback: Feedback[]; generations: Map<string, GenerationInfo> }> {
  const { mergeBatches, readImportFile } = await import("../io/index.js");
  const generations = new Map<string, GenerationInfo>();
  const feedback: Feedback[] = [];
  if (files.length > 0) {
    const batches = [];
    const bar = progress("reading", files.length);
    try {
      for (const file of files) {
        batches.push(await readImportFile(file, { ...(opts.format ? { format: opts.format } : {}), project: opts.project }));
        bar.tick(1, file);
      }
    } finally {
      bar.done();
    }
    const batch = mergeBatches(batches);
    for (const g of batch.generations) generations.set(g.id, { policy: g.policy, itemId: g.itemId });
    feedback.push(...batch.feedback);
    return { feedback, generations };
  }
  const { comparisonsFromStore } = await import("../eval/index.js");
  const bar = progress("reading feedback");
  try {
    return await withStore(opts, (store) => comparisonsFromStore(store, opts.project, { onRecord: () => bar.tick() }));
  } finally {
    bar.done();
  }
}

async function firstRecordFormat(file: string): Promise<ImportFormat | undefined> {
  for await (const r of readRawRecords(file)) return detectFormat(r.value);
  return undefined;
}

export async function runLeaderboard(files: string[], opts: LeaderboardCliOptions): Promise<void> {
  let method = opts.method;
  if (!method) {
    const format = opts.format ?? (files[0] ? await firstRecordFormat(files[0]) : undefined);
    method = format === "alpaca-eval" ? "alpaca-eval" : "bt";
  }
  if (method === "alpaca-eval") {
    if (files.length > 0 && opts.format && opts.format !== "alpaca-eval") {
      throw new RlxfError("wrong_format", `--method alpaca-eval reads AlpacaEval annotation files, not ${opts.format}`);
    }
    const withLC = opts.lc ?? true;
    const rows = files.length > 0 ? await alpacaEvalRowsFromFiles(files) : await alpacaEvalPairsFrom(opts);
    if (rows.length === 0) {
      throw new RlxfError("no_data", files.length ? "no pairwise comparisons with a baseline were found" : `project "${opts.project}": ${await whyNoPairs(opts)}`);
    }
    let bar: Progress | undefined;
    let shown = 0;
    const lcOptions = {
      lengthControlled: withLC,
      ...(opts.difficulty ? { difficulty: opts.difficulty } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      onProgress: (done: number, total: number, note: string) => {
        bar ??= progress("length-controlled win rates", total);
        bar.tick(done - shown, note);
        shown = done;
      },
    };
    let board: AlpacaEvalBoard;
    try {
      // Files are AlpacaEval's own (baseline first); stored comparisons may face either way.
      board =
        files.length > 0
          ? await alpacaEvalBoardThreaded(rows, lcOptions)
          : await alpacaEvalBoardFromPairsThreaded(rows, { ...lcOptions, ...(opts.baseline ? { baseline: opts.baseline } : {}) });
    } finally {
      bar?.done();
    }
    if (board.rows.length === 0) {
      throw new RlxfError("no_data", files.length ? "no pairwise comparisons with a baseline were found" : `project "${opts.project}": ${await whyNoPairs(opts)}`);
    }
    const note = difficultyNote(board);
    const columns = withLC ? ALPACA_COLUMNS : ALPACA_COLUMNS.filter((c) => !c.key.startsWith("length_controlled") && !c.key.startsWith("lc_"));
    if (opts.json) {
      out(JSON.stringify(board.rows) + "\n");
      if (note) info(`${note}\n`);
    } else {
      out(table(board.rows as unknown as Record<string, unknown>[], columns));
      if (note) out(`\n${note}\n`);
    }
    for (const w of board.warnings) info(`warning: ${w}\n`);
    return;
  }
  const { feedback, generations } = await comparisonsFrom(files, opts);
  const { bradleyTerryLeaderboard, noComparisonsReason } = await import("../eval/from-feedback.js");
  let bar: Progress | undefined;
  let board;
  try {
    board = bradleyTerryLeaderboard(feedback, generations, { rounds: opts.bootstrap, seed: opts.seed, onProgress: () => (bar ??= progress("Bradley-Terry bootstrap", opts.bootstrap)).tick() });
  } finally {
    bar?.done();
  }
  if (board.length === 0) {
    const where = files.length === 1 ? files[0] : files.length ? `${files.length} files` : `project "${opts.project}"`;
    const hint = files.length === 0 && feedback.length === 0 ? await withStore(opts, (store) => otherProjectsHint(store, opts.project)) : "";
    throw new RlxfError("no_data", `${where}: ${noComparisonsReason(feedback, generations)}${hint}`);
  }
  out(opts.json ? JSON.stringify(board) + "\n" : table(board as unknown as Record<string, unknown>[], BT_COLUMNS));
}
