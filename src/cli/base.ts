/** The bare `rlxf` program every command is registered on. */
import { Command } from "commander";

/**
 * Commander's own errors (an unknown option, `--help`, `--version`) are thrown as `CommanderError`s carrying their
 * exit code rather than ending the process, here and in every command registered on it: run.ts turns them into the
 * exit code, and a program run in-process leaves its host running.
 */
export function baseProgram(): Command {
  return new Command("rlxf").description("Learning from feedback on the outputs of language models and agents.").version("0.1.0").showHelpAfterError().exitOverride();
}
