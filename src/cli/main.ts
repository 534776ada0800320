#!/usr/bin/env node
import type { Command } from "commander";
import { type ErrorCategory, ValidationError, typedError } from "../errors.js";

/**
 * Commands that start without loading the whole CLI (the server, verifiers, providers): the program holds only
 * them, so e.g. `rlxf leaderboard` on files does not pay for what it never uses.
 */
const LEAN: Record<string, () => Promise<Command>> = {
  leaderboard: async () => {
    const [{ baseProgram }, { registerLeaderboard }] = await Promise.all([import("./base.js"), import("./leaderboard.js")]);
    const p = baseProgram();
    registerLeaderboard(p);
    return p;
  },
};

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

async function main(): Promise<void> {
  try {
    const lean = LEAN[process.argv[2] ?? ""];
    const p = lean ? await lean() : (await import("./program.js")).program();
    await p.parseAsync(process.argv);
  } catch (e) {
    const t = typedError(e);
    if (!t) throw e;
    const message = (e as Error).message;
    if (e instanceof ValidationError) {
      process.stderr.write(`error: ${message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`error (${t.code}): ${message}${t.field !== undefined && !message.includes(t.field) ? ` [${t.field}]` : ""}\n`);
    process.exitCode = EXIT_CODES[t.category];
  }
}

await main();
