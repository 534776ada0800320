/** The core commands: import, export, stats and demo (`rlxf leaderboard` is in leaderboard.ts). */
import { type Command, Option } from "commander";
import { EXPORT_FORMATS, IMPORT_FORMATS } from "../io/index.js";
import { SOURCE_TYPES } from "../feedback/index.js";
import { runDemo } from "./demo.js";
import { runExport } from "./export.js";
import { runImport } from "./import.js";
import { dbOption, projectOption } from "./shared.js";
import { runStats } from "./stats.js";

export function registerImport(p: Command): void {
  p.command("import")
    .description("import feedback files into the store (.gz read transparently; format detected from content)")
    .argument("<files...>", "files to import")
    .addOption(new Option("--format <format>", "input format").choices([...IMPORT_FORMATS]))
    .addOption(projectOption("project the records belong to"))
    .addOption(new Option("--source-type <type>", "who gave the feedback, when the format does not say").choices([...SOURCE_TYPES]))
    .option("--source-id <id>", "id of the feedback source, when the format does not say")
    .option("--policy <name>", "policy (model) that wrote the outputs, when the format does not say (trl-preference, anthropic-hh, qa-feedback; default unknown)")
    .addOption(dbOption())
    .option("--json", "print the import report as JSON")
    .action(runImport);
}

export function registerExport(p: Command): void {
  p.command("export")
    .description("export stored feedback as a dataset (streams; never holds everything in memory)")
    .addOption(new Option("--format <format>", "output format").choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option("--out <file>", "write to a file instead of stdout (.gz compresses)")
    .addOption(projectOption("project to export"))
    .option("--submit", "enqueue it as a background job instead of running it here (prints the job id; follow it with rlxf jobs wait ID)")
    .addOption(dbOption())
    .action(async (opts) => (opts.submit ? void (await (await import("./jobs.js")).submitExport(opts)) : runExport(opts)));
}

export function registerStats(p: Command): void {
  p.command("stats")
    .description("count what the store holds")
    .addOption(projectOption("project"))
    .addOption(dbOption())
    .option("--json", "print JSON")
    .action(runStats);
}

export function registerDemo(p: Command): void {
  p.command("demo")
    .description("import the bundled example dataset into the store and print its leaderboard")
    .addOption(dbOption())
    .action(runDemo);
}
