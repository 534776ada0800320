/**
 * Running `rlxf` on an argument vector: the program with only the command asked for (or, for `rlxf --help` and
 * anything that is not a command, the listing of every command), errors turned into exit codes. It never ends the
 * process: main.ts sets the exit code it returns.
 */
import { type Command, CommanderError, Help } from "commander";
import { type ErrorCategory, ValidationError, typedError } from "../errors.js";
import { baseProgram } from "./base.js";
import { COMMANDS, type CommandEntry } from "./commands.js";

/**
 * Exit codes by category of error, in one place: 2 for input that fails validation record by record (files,
 * specs: the message names each field), 1 for any other error of what was asked (a bad or missing option, a
 * name or record that is not there, a conflict, a limit), 3 when a service it needs is unavailable (the store,
 * a model endpoint, the sandbox: retrying may help), 4 for a fault of rlxf itself.
 */
const EXIT_CODES: Record<ErrorCategory, number> = {
  validation: 1,
  unauthorized: 1,
  forbidden: 1,
  not_found: 1,
  conflict: 1,
  limit: 1,
  unavailable: 3,
  internal: 4,
};

/** The command `argv` runs (`rlxf NAME ...` or `rlxf help NAME`), if it names one. */
function commandOf(argv: readonly string[]): CommandEntry | undefined {
  const [first, second] = argv.slice(2);
  const named = (name: string | undefined) => COMMANDS.find((c) => c.name === name);
  return named(first) ?? (first === "help" ? named(second) : undefined);
}

/** Every command by name and description only: what `rlxf --help` shows, without loading any of them. */
export function listingProgram(): Command {
  const p = baseProgram();
  const terms = new Map(COMMANDS.map((c) => [c.name, c.term]));
  const help = new Help();
  p.configureHelp({ subcommandTerm: (c) => terms.get(c.name()) ?? help.subcommandTerm(c) });
  for (const c of COMMANDS) p.command(c.name).description(c.description);
  return p;
}

/** The program for `argv`: the command it names, alone; else the listing (help, version, an unknown command). */
export async function programFor(argv: readonly string[]): Promise<Command> {
  const entry = commandOf(argv);
  if (!entry) return listingProgram();
  const p = baseProgram();
  (await entry.load())(p);
  return p;
}

/**
 * Run `rlxf` on `argv` (`[node, script, ...args]`) and return its exit code. Errors go to stderr as one line;
 * only an error that is not one of rlxf's (a bug) is thrown.
 */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await (await programFor(argv)).parseAsync([...argv]);
    return 0;
  } catch (e) {
    // Commander has already printed its message (or the help, or the version).
    if (e instanceof CommanderError) return e.exitCode;
    const t = typedError(e);
    if (!t) throw e;
    const message = (e as Error).message;
    if (e instanceof ValidationError) {
      process.stderr.write(`error: ${message}\n`);
      return 2;
    }
    process.stderr.write(`error (${t.code}): ${message}${t.field !== undefined && !message.includes(t.field) ? ` [${t.field}]` : ""}\n`);
    return EXIT_CODES[t.category];
  }
}
