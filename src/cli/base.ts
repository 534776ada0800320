/** The bare `rlxf` program every command is registered on. */
import { Command } from "commander";

export function baseProgram(): Command {
  return new Command("rlxf").description("Learning from feedback on the outputs of language models and agents.").version("0.1.0").showHelpAfterError();
}
