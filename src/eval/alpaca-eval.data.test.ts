/**
 * End-to-end check against the published AlpacaEval 2 leaderboard: 20 models' annotations (805 instructions each,
 * judged by weighted_alpaca_eval_gpt4_turbo against gpt4_1106_preview) and the leaderboard CSV.
 * Data lives outside the repository (shared/data/alpaca_eval beside the checkout); the suite is skipped without it.
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { sharedFiles } from "../../test/support/data.js";
import { type AlpacaEvalAnnotation, parsePreference } from "./alpaca-eval.js";
import { type AlpacaEvalBoard, type LeaderboardRow, alpacaEvalBoard } from "./leaderboard.js";
import { median, spearman } from "./stats.js";

// RLXF_DATA (the shared data folder) says where the data is; ../shared/data beside the checkout otherwise.
const found = sharedFiles("AlpacaEval leaderboard", "alpaca_eval/leaderboard.csv", "alpaca_eval/annotations");
const DATA_DIR = found ? dirname(found[0]!) : undefined;

interface PublishedRow {
  model: string;
  win_rate: number;
  standard_error: number;
  n_wins: number;
  n_wins_base: number;
  n_draws: number;
  n_total: number;
  discrete_win_rate: number;
  avg_length: number;
  length_controlled_winrate: number;
  lc_standard_error: number | null;
}

function readPublished(dir: string): PublishedRow[] {
  const [header, ...lines] = readFileSync(join(dir, "leaderboard.csv"), "utf8").trim().split(/\r?\n/);
  const cols = header!.split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    const get = (name: string): string => cells[cols.indexOf(name)] ?? "";
    const num = (name: string): number => Number(get(name));
    return {
      model: get("model"),
      win_rate: num("win_rate"),
      standard_error: num("standard_error"),
      n_wins: num("n_wins"),
      n_wins_base: num("n_wins_base"),
      n_draws: num("n_draws"),
      n_total: num("n_total"),
      discrete_win_rate: num("discrete_win_rate"),
      avg_length: num("avg_length"),
      length_controlled_winrate: num("length_controlled_winrate"),
      lc_standard_error: get("lc_standard_error") === "" ? null : num("lc_standard_error"),
    };
  });
}

/** Load every annotation file; the file name is the model name (NullModel's rows say generator_2 = "example"). */
function readAnnotations(dir: string): AlpacaEvalAnnotation[] {
  const out: AlpacaEvalAnnotation[] = [];
  for (const file of readdirSync(join(dir, "annotations")).sort()) {
    if (!file.endsWith(".json.gz")) continue;
    const model = file.slice(0, -".json.gz".length);
    const rows = JSON.parse(gunzipSync(readFileSync(join(dir, "annotations", file))).toString("utf8")) as Record<
      string,
      unknown
    >[];
    for (const r of rows) {
      out.push({
        instruction: String(r.instruction),
        output_1: String(r.output_1 ?? ""),
        generator_1: String(r.generator_1),
        output_2: String(r.output_2 ?? ""),
        generator_2: model,
        annotator: String(r.annotator),
        dataset: String(r.dataset),
        preference: (() => {
          const p = parsePreference(r.preference);
          return Number.isNaN(p) ? null : p;
        })(),
      });
    }
  }
  return out;
}

/** The 20 files' annotations and their board (shipped difficulty): read and fitted once, for both suites below. */
let twenty: { annotations: AlpacaEvalAnnotation[]; board: AlpacaEvalBoard } | undefined;
function twentyModels(): { annotations: AlpacaEvalAnnotation[]; board: AlpacaEvalBoard } {
  if (!twenty) {
    const annotations = readAnnotations(DATA_DIR!);
    twenty = { annotations, board: alpacaEvalBoard(annotations) };
  }
  return twenty;
}

describe.skipIf(!DATA_DIR)("AlpacaEval 2 published leaderboard", () => {
  let published: PublishedRow[];
  let ours: Map<string, LeaderboardRow>;
  let rows: LeaderboardRow[];

  beforeAll(() => {
    published = readPublished(DATA_DIR!);
    rows = twentyModels().board.rows;
    ours = new Map(rows.map((r) => [r.model, r]));
  });

  it("has all 20 models, sorted by LC win rate", () => {
    expect(published).toHaveLength(20);
    expect(rows).toHaveLength(20);
    for (const p of published) expect(ours.has(p.model)).toBe(true);
    for (let i = 1; i < rows.length; i++)
      expect(rows[i - 1]!.length_controlled_winrate!).toBeGreaterThanOrEqual(rows[i]!.length_controlled_winrate!);
  });

  it("reproduces the seven win-rate columns within 1e-6", () => {
    for (const p of published) {
      const r = ours.get(p.model)!;
      expect(Math.abs(r.win_rate - p.win_rate), `${p.model} win_rate`).toBeLessThan(1e-6);
      expect(Math.abs(r.standard_error - p.standard_error), `${p.model} standard_error`).toBeLessThan(1e-6);
      expect(Math.abs(r.discrete_win_rate - p.discrete_win_rate), `${p.model} discrete_win_rate`).toBeLessThan(1e-6);
      expect(r.n_wins, `${p.model} n_wins`).toBe(p.n_wins);
      expect(r.n_wins_base, `${p.model} n_wins_base`).toBe(p.n_wins_base);
      expect(r.n_draws, `${p.model} n_draws`).toBe(p.n_draws);
      expect(r.n_total, `${p.model} n_total`).toBe(p.n_total);
    }
  });

  it("average output length is within 3% of the published (differently sourced) value", () => {
    for (const p of published) {
      const r = ours.get(p.model)!;
      expect(Math.abs(r.avg_length - p.avg_length) / p.avg_length, p.model).toBeLessThan(0.03);
    }
  });

  it("length-controlled win rate tracks the published one (Spearman >= 0.95, median |diff| <= 3)", () => {
    const lc = published.map((p) => ours.get(p.model)!.length_controlled_winrate!);
    const pub = published.map((p) => p.length_controlled_winrate);
    const absDiff = lc.map((x, i) => Math.abs(x - pub[i]!));
    const rho = spearman(lc, pub);
    const med = median(absDiff);
    const table = published
      .map((p, i) => {
        const r = ours.get(p.model)!;
        const se = p.lc_standard_error === null ? "  -  " : p.lc_standard_error.toFixed(3);
        return `${p.model.padEnd(31)} WR ${p.win_rate.toFixed(2).padStart(6)}  LC pub ${pub[i]!.toFixed(2).padStart(6)} ours ${lc[i]!.toFixed(2).padStart(6)}  |d| ${absDiff[i]!.toFixed(2).padStart(5)}  se pub ${se} ours ${r.lc_standard_error!.toFixed(3)}`;
      })
      .join("\n");
    console.log(`${table}\nSpearman ${rho.toFixed(4)}  median |diff| ${med.toFixed(3)}  max |diff| ${Math.max(...absDiff).toFixed(3)}`);
    expect(rho).toBeGreaterThanOrEqual(0.95);
    expect(med).toBeLessThanOrEqual(3);
    // LC standard errors: same order of magnitude as the published ones, where published
    for (const p of published) {
      if (p.lc_standard_error === null) continue;
      const ratio = ours.get(p.model)!.lc_standard_error! / p.lc_standard_error;
      expect(ratio, p.model).toBeGreaterThan(0.5);
      expect(ratio, p.model).toBeLessThan(2.5);
    }
  });
});

describe.skipIf(!DATA_DIR)("AlpacaEval 2 length-controlled win rate of a few models at a time", () => {
  let annotations: AlpacaEvalAnnotation[];
  let all: AlpacaEvalBoard;
  let lcOf: Map<string, number>;
  const models = () => all.rows.map((r) => r.model);
  const rowsOf = (...names: string[]) => annotations.filter((a) => names.includes(a.generator_2));

  beforeAll(() => {
    ({ annotations, board: all } = twentyModels());
    lcOf = new Map(all.rows.map((r) => [r.model, r.length_controlled_winrate!]));
  });

  it("the 20-model board uses the shipped instruction difficulty, which covers AlpacaEval's 805 instructions", () => {
    expect(all.rows).toHaveLength(20);
    expect(all.difficulty).toEqual({ kind: "shipped", models: 20, instructions: 805, covered: 805 });
    expect(all.warnings).toEqual([]);
  });

  it("scores each model alone within a point of its 20-model LC, with a real standard error", () => {
    const deviations: string[] = [];
    for (const m of models()) {
      const alone = alpacaEvalBoard(rowsOf(m));
      expect(alone.difficulty?.kind, m).toBe("shipped");
      const r = alone.rows[0]!;
      deviations.push(`${m} ${Math.abs(r.length_controlled_winrate! - lcOf.get(m)!).toFixed(4)}`);
      expect(Math.abs(r.length_controlled_winrate! - lcOf.get(m)!), m).toBeLessThan(1);
      expect(r.lc_standard_error!, m).toBeGreaterThan(0.1);
    }
    console.log(`|LC alone − LC in the 20-model board|:\n${deviations.join("\n")}`);
  });

  it("a model's LC does not depend on which other files are passed", () => {
    const a = alpacaEvalBoard(rowsOf("alpaca-7b", "claude-2.1", "vicuna-7b")).rows.find((r) => r.model === "alpaca-7b")!;
    const b = alpacaEvalBoard(rowsOf("alpaca-7b", "NullModel", "gpt-3.5-turbo-1106")).rows.find((r) => r.model === "alpaca-7b")!;
    expect(a.length_controlled_winrate).toBe(b.length_controlled_winrate);
    expect(a.lc_standard_error).toBe(b.lc_standard_error);
  });

  it("refitting the difficulty from the 20 files reproduces the shipped table's LC; from one file it warns", () => {
    const refit = alpacaEvalBoard(annotations, { difficulty: "estimate" });
    expect(refit.difficulty).toMatchObject({ kind: "estimated", models: 20, instructions: 805 });
    for (const r of refit.rows) expect(Math.abs(r.length_controlled_winrate! - lcOf.get(r.model)!), r.model).toBeLessThan(0.01);
    const one = alpacaEvalBoard(rowsOf("alpaca-7b"), { difficulty: "estimate" });
    expect(one.warnings.join("\n")).toMatch(/estimated from only 1 model/);
  });
});
