import { basename, dirname } from "node:path";
import { RlxfError } from "../errors.js";
import {
  type AlpacaEvalAnnotation,
  type GenerationInfo,
  alpacaEvalLeaderboard,
  bradleyTerryLeaderboard,
} from "../eval/index.js";
import type { Feedback } from "../feedback/index.js";
import { type ImportFormat, alpacaEvalRow, detectFormat, mergeBatches, readImportFile, readRawRecords } from "../io/index.js";
import { type DbOptions, out, table, withStore } from "./shared.js";
import { progress } from "./progress.js";

export interface LeaderboardCliOptions extends DbOptions {
  format?: ImportFormat;
  method?: "alpaca-eval" | "bt";
  baseline?: string;
  bootstrap: number;
  seed: number;
  project: string;
  json?: boolean;
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
 * The model a file of AlpacaEval annotations is about. AlpacaEval names a
 * model by where its results live (`results/<model>/<annotator>/annotations.json`),
 * not by `generator_2` (NullModel's rows say "example"), so a file holding one
 * generator is named after its own name, or after its model directory when it
 * is called annotations.json; files holding several generators keep `generator_2`.
 */
export function modelNameOfFile(path: string, generators: ReadonlySet<string>): string | undefined {
  if (generators.size !== 1) return undefined;
  const stem = basename(path).replace(/(\.json|\.jsonl)?(\.gz)?$/i, "");
  if (stem === "annotations") return basename(dirname(dirname(path))) || undefined;
  return stem || undefined;
}

async function alpacaEvalRowsFromFiles(files: string[]): Promise<AlpacaEvalAnnotation[]> {
  const rows: AlpacaEvalAnnotation[] = [];
  const bar = progress("reading", files.length);
  for (const file of files) {
    const fileRows: AlpacaEvalAnnotation[] = [];
    for await (const r of readRawRecords(file)) {
      if (detectFormat(r.value) !== "alpaca-eval") {
        throw new RlxfError("wrong_format", `${r.label} is not an AlpacaEval annotation (needs instruction, output_1, output_2, generator_2, preference)`);
      }
      fileRows.push(r.value as AlpacaEvalAnnotation);
    }
    const name = modelNameOfFile(file, new Set(fileRows.map((r) => r.generator_2)));
    for (const r of fileRows) rows.push(name ? { ...r, generator_2: name } : r);
    bar.tick(1, file);
  }
  bar.done();
  return rows;
}

/** AlpacaEval rows from stored pairwise feedback: every comparison with the baseline, baseline first. */
async function alpacaEvalRowsFromStore(opts: LeaderboardCliOptions): Promise<AlpacaEvalAnnotation[]> {
  return withStore(opts, async (store) => {
    const rows: AlpacaEvalAnnotation[] = [];
    for await (const rf of store.iterateResolvedFeedback({ project: opts.project, kind: "pairwise" })) {
      const row = alpacaEvalRow(rf, false);
      if (typeof row !== "string") rows.push(row as unknown as AlpacaEvalAnnotation);
    }
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.generator_1, (counts.get(r.generator_1) ?? 0) + 1);
    const baseline = opts.baseline ?? [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    if (baseline === undefined) return [];
    return rows.flatMap((r): AlpacaEvalAnnotation[] => {
      if (r.generator_1 === baseline && r.generator_2 !== baseline) return [r];
      if (r.generator_2 === baseline && r.generator_1 !== baseline) {
        const p = Number(r.preference);
        return [{ ...r, output_1: r.output_2, generator_1: r.generator_2, output_2: r.output_1, generator_2: r.generator_1, preference: Number.isFinite(p) && p >= 1 ? 3 - p : p }];
      }
      return [];
    });
  });
}

async function comparisonsFrom(files: string[], opts: LeaderboardCliOptions): Promise<{ feedback: Feedback[]; generations: Map<string, GenerationInfo> }> {
  const generations = new Map<string, GenerationInfo>();
  const feedback: Feedback[] = [];
  if (files.length > 0) {
    const batches = [];
    for (const file of files) batches.push(await readImportFile(file, { ...(opts.format ? { format: opts.format } : {}), project: opts.project }));
    const batch = mergeBatches(batches);
    for (const g of batch.generations) generations.set(g.id, { policy: g.policy, itemId: g.itemId });
    feedback.push(...batch.feedback);
    return { feedback, generations };
  }
  await withStore(opts, async (store) => {
    for await (const rf of store.iterateResolvedFeedback({ project: opts.project, kind: ["pairwise", "ranking", "rating"] })) {
      feedback.push(rf.feedback);
      for (const g of rf.targets) generations.set(g.id, { policy: g.policy, itemId: g.itemId });
    }
  });
  return { feedback, generations };
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
    const rows = files.length > 0 ? await alpacaEvalRowsFromFiles(files) : await alpacaEvalRowsFromStore(opts);
    if (rows.length === 0) throw new RlxfError("no_data", "no pairwise comparisons with a baseline were found");
    const board = alpacaEvalLeaderboard(rows);
    out(opts.json ? JSON.stringify(board) + "\n" : table(board as unknown as Record<string, unknown>[], ALPACA_COLUMNS));
    return;
  }
  const { feedback, generations } = await comparisonsFrom(files, opts);
  const board = bradleyTerryLeaderboard(feedback, generations, { rounds: opts.bootstrap, seed: opts.seed });
  if (board.length === 0) throw new RlxfError("no_data", "no comparative feedback (pairwise, ranking or ratings of one item) was found");
  out(opts.json ? JSON.stringify(board) + "\n" : table(board as unknown as Record<string, unknown>[], BT_COLUMNS));
}
