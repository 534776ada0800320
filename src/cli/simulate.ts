/** `rlxf simulate`: cheap pairwise feedback at scale from an AlpacaFarm-style pool of simulated annotators. */
import type { Command } from "commander";
import { type RunReport, readPairs, resolvePool, runSimulation } from "../sources/index.js";
import { ResultPrinter, summaryText } from "./judge.js";
import { type ModelCliOptions, addModelOptions, number01, withJudgeResources } from "./model-options.js";
import { progress } from "./progress.js";
import { dbOption, info, int, out, projectOption } from "./shared.js";

export interface SimulateCliOptions extends ModelCliOptions {
  pool: string;
  input: string;
  pFlip?: number;
  seed: number;
  project: string;
  sourceId?: string;
  json?: boolean;
  out?: string;
  store: boolean;
}

export async function runSimulateCommand(opts: SimulateCliOptions): Promise<RunReport> {
  const pool = resolvePool(opts.pool);
  const pairs = await readPairs(opts.input);
  return withJudgeResources(opts, async ({ model, store, sink }) => {
    const printer = new ResultPrinter(opts);
    const bar = progress(`simulating (${pool.pool.name})`, pairs.length);
    let report: RunReport;
    try {
      report = await runSimulation(
        pairs,
        pool,
        {
          model,
          ...(store ? { store } : {}),
          ...(sink ? { sink } : {}),
          project: opts.project,
          ...(opts.sourceId ? { sourceId: opts.sourceId } : {}),
          concurrency: Math.max(64, 2 * model.concurrency),
          onResult: (row, i) => printer.row(row, i, pairs[i]!.label),
          onProgress: () => bar.tick(1),
        },
        { ...(opts.pFlip !== undefined ? { pFlip: opts.pFlip } : {}), seed: opts.seed },
      );
    } finally {
      bar.done();
      await printer.close();
    }
    const text = summaryText("pair(s)", report);
    if (opts.json) info(text);
    else out(text);
    return report;
  });
}

export function register(program: Command): void {
  const cmd = program
    .command("simulate")
    .description("simulated pairwise annotators (AlpacaFarm): one pool member per example by a seeded hash, label-flip noise, position randomization")
    .requiredOption("--input <file>", "JSONL of {instruction, output_1, output_2} (.gz fine)")
    .option("--pool <name-or-file>", "a shipped pool (alpacafarm) or a JSON pool config", "alpacafarm")
    .option("--p-flip <p>", "label-flip probability p: the label becomes a fair coin with probability 2p (default: the pool's)", number01("--p-flip", 0.5))
    .option("--seed <n>", "seed of the annotator choice, the noise and the position randomization", int("--seed"), 0)
    .addOption(projectOption("project the feedback goes to"))
    .option("--source-id <id>", "the feedback's source id (default: <pool>/<model>)")
    .option("--json", "one JSON result per line on stdout (the summary goes to stderr)")
    .option("--out <file>", "also write the JSON results to this file")
    .option("--no-store", "do not store feedback and failures")
    .addOption(dbOption());
  addModelOptions(cmd).action(async (opts: SimulateCliOptions) => {
    await runSimulateCommand(opts);
  });
}
