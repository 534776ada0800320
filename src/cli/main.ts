#!/usr/bin/env node
import { RlxfError, ValidationError } from "../errors.js";
import { program } from "./program.js";

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
