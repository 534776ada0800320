#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from "commander";
import { RlxfError, ValidationError } from "../errors.js";
import { runDemo } from "./demo.js";
import { runExport } from "./export.js";
import { runImport } from "./import.js";
import { runLeaderboard } from "./leaderboard.js";
import { runStats } from "./stats.js";
import { EXPORT_FORMATS, IMPORT_FORMATS } from "../io/index.js";
import { SOURCE_TYPES } from "../feedback/index.js";

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

const dbOption = () => new Option("--db <path-or-url>", "SQLite file or postgres:// URL (default: $RLXF_DATABASE_URL, $RLXF_DB, ./.rlxf/rlxf.db)");

export function program(): Command {
  const p = new Command("rlxf")
    .description("Learning from feedback on the outputs of language models and agents.")
    .version("0.1.0")
    .showHelpAfterError();

  p.command("import")
    .description("import feedback files into the store (.gz read transparently; format detected from content)")
    .argument("<files...>", "files to import")
    .addOption(new Option("--format <format>", "input format").choices([...IMPORT_FORMATS]))
    .option("--project <name>", "project the records belong to", "default")
    .addOption(new Option("--source-type <type>", "who gave the feedback, when the format does not say").choices([...SOURCE_TYPES]))
    .option("--source-id <id>", "id of the feedback source, when the format does not say")
    .addOption(dbOption())
    .option("--json", "print the import report as JSON")
    .action(runImport);

  p.command("export")
    .description("export stored feedback as a dataset (streams; never holds everything in memory)")
    .addOption(new Option("--format <format>", "output format").choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option("--out <file>", "write to a file instead of stdout (.gz compresses)")
    .option("--project <name>", "project to export", "default")
    .addOption(dbOption())
    .action(runExport);

  p.command("leaderboard")
    .description("rank models from pairwise feedback in files or in the store")
    .argument("[files...]", "annotation files (read directly, not stored); the store when none are given")
    .addOption(new Option("--format <format>", "format of the files").choices([...IMPORT_FORMATS]))
    .addOption(new Option("--method <method>", "alpaca-eval: win rates against a baseline (with length control); bt: Bradley-Terry").choices(["alpaca-eval", "bt"]))
    .option("--baseline <policy>", "alpaca-eval method: the reference policy (default: the one in the first position)")
    .option("--bootstrap <n>", "bt method: bootstrap rounds for confidence intervals", int("--bootstrap"), 200)
    .option("--seed <n>", "bt method: random seed", int("--seed"), 0)
    .option("--project <name>", "project, when reading the store", "default")
    .addOption(dbOption())
    .option("--json", "print a JSON array of rows and nothing else on stdout")
    .action(runLeaderboard);

  p.command("stats")
    .description("count what the store holds")
    .option("--project <name>", "project", "default")
    .addOption(dbOption())
    .option("--json", "print JSON")
    .action(runStats);

  p.command("demo")
    .description("import the bundled example dataset into the store and print its leaderboard")
    .addOption(dbOption())
    .action(runDemo);

  return p;
}

async function main(): Promise<void> {
  try {
    await program().parseAsync(process.argv);
  } catch (e) {
    if (e instanceof ValidationError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof RlxfError) {
      process.stderr.write(`error (${e.code}): ${e.message}\n`);
      process.exitCode = 1;
    } else {
      throw e;
    }
  }
}

await main();
