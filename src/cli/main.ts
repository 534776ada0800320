#!/usr/bin/env node
import type { Command } from "commander";
import { RlxfError, ValidationError } from "../errors.js";

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

async function main(): Promise<void> {
  try {
    const lean = LEAN[process.argv[2] ?? ""];
    const p = lean ? await lean() : (await import("./program.js")).program();
    await p.parseAsync(process.argv);
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
