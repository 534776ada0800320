/**
 * Where tests find the shared data: `$RLXF_DATA` when set, else `../shared/data` beside the
 * checkout. A missing folder skips the tests that need it, unless `RLXF_REQUIRE_DATA=1`, when
 * it is an error (so a CI run that should have the data cannot pass by skipping).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..", "..");

/** The shared data folder, or one inside it (`sharedData("realcritic")`); undefined when absent. */
export function sharedData(sub?: string): string | undefined {
  const base = process.env.RLXF_DATA ? resolve(process.env.RLXF_DATA) : resolve(root, "..", "shared", "data");
  const dir = sub ? resolve(base, sub) : base;
  if (existsSync(dir)) return dir;
  if (process.env.RLXF_REQUIRE_DATA === "1") throw new Error(`shared data not found at ${dir}: set RLXF_DATA to the data folder, or unset RLXF_REQUIRE_DATA to skip`);
  return undefined;
}
