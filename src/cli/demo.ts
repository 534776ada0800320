import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RlxfError } from "../errors.js";
import { runImport } from "./import.js";
import { runLeaderboard } from "./leaderboard.js";
import { type DbOptions, commandHint, defaultProject, out } from "./shared.js";

/** The example dataset shipped with the package (examples/demo.jsonl). */
export function demoDatasetPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, "examples", "demo.jsonl");
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new RlxfError("not_found", "examples/demo.jsonl was not found beside the rlxf package (reinstall rlxf)");
}

/**
 * Import the bundled example into the default project (the one `rlxf serve` seeds and every command works in)
 * and print both leaderboards: win rate against the reference, and Bradley-Terry.
 */
export async function runDemo(opts: DbOptions): Promise<void> {
  const file = demoDatasetPath();
  const project = defaultProject();
  const o = { ...opts, project };
  out(`$ ${commandHint(`rlxf import ${file}`, o)}\n`);
  await runImport([file], o);
  out(`\n$ ${commandHint("rlxf leaderboard --method alpaca-eval --baseline reference-gpt", o)}   (win rate against reference-gpt, from the judge's pairwise verdicts)\n`);
  await runLeaderboard([], { ...o, method: "alpaca-eval", baseline: "reference-gpt", bootstrap: 0, seed: 0 });
  out(`\n$ ${commandHint("rlxf leaderboard --method bt", o)}   (Bradley-Terry over pairwise, ranking and rating feedback)\n`);
  await runLeaderboard([], { ...o, method: "bt", bootstrap: 200, seed: 0 });
}
