/** The `rlxf` command line: one commander program; each command group lives in its own file. */
import { type Command, Option } from "commander";
import { dbOption, projectOption } from "./shared.js";
import { runDemo } from "./demo.js";
import { runExport } from "./export.js";
import { runImport } from "./import.js";
import { registerLeaderboard } from "./leaderboard.js";
import { baseProgram } from "./base.js";
import { runStats } from "./stats.js";
import { register as registerKeys } from "./keys.js";
import { register as registerServe } from "./serve.js";
import { register as registerJudge } from "./judge.js";
import { register as registerSimulate } from "./simulate.js";
import { register as registerVerify } from "./verify.js";
import { register as registerRm } from "./rm.js";
import { register as registerDataset } from "./dataset.js";
import { register as registerLoop } from "./loop.js";
import { register as registerMemory } from "./memory.js";
import { register as registerLab } from "./lab.js";
import { register as registerCritic } from "./critic.js";
import { register as registerDense } from "./dense.js";
import { register as registerWorker } from "./worker.js";
import { register as registerJobs, submitExport } from "./jobs.js";
import { register as registerRules } from "./rules.js";
import { EXPORT_FORMATS, IMPORT_FORMATS } from "../io/index.js";
import { SOURCE_TYPES } from "../feedback/index.js";

/** Command groups beyond the core ones: each file exports `register(program)`. */
const groups: Array<(p: Command) => void> = [registerServe, registerKeys, registerJudge, registerSimulate, registerVerify, registerRm, registerDataset, registerLab, registerLoop, registerMemory, registerCritic, registerDense, registerWorker, registerJobs, registerRules];

export function program(): Command {
  const p = baseProgram();

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

  p.command("export")
    .description("export stored feedback as a dataset (streams; never holds everything in memory)")
    .addOption(new Option("--format <format>", "output format").choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option("--out <file>", "write to a file instead of stdout (.gz compresses)")
    .addOption(projectOption("project to export"))
    .option("--submit", "enqueue it as a background job instead of running it here (prints the job id; follow it with rlxf jobs wait ID)")
    .addOption(dbOption())
    .action(async (opts) => (opts.submit ? void (await submitExport(opts)) : runExport(opts)));

  registerLeaderboard(p);

  p.command("stats")
    .description("count what the store holds")
    .addOption(projectOption("project"))
    .addOption(dbOption())
    .option("--json", "print JSON")
    .action(runStats);

  p.command("demo")
    .description("import the bundled example dataset into the store and print its leaderboard")
    .addOption(dbOption())
    .action(runDemo);

  for (const register of groups) register(p);
  return p;
}
