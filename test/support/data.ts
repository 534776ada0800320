/**
 * Where the shared data sets are: `../shared/data` beside the repository, or the folder `RLXF_DATA` names.
 * A suite whose data is missing is skipped, unless `RLXF_REQUIRE_DATA=1`, which turns the skip into a failure.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..", "..");
export const DATA_DIR = process.env.RLXF_DATA ? resolve(process.env.RLXF_DATA) : resolve(ROOT, "..", "shared", "data");
export const dataRequired = process.env.RLXF_REQUIRE_DATA === "1";

/**
 * The paths of `files` (each relative to the data folder, "a/b.json.gz") when all exist; otherwise undefined (the
 * suite skips, naming what is missing), or an error with RLXF_REQUIRE_DATA=1.
 */
export function sharedFiles(suite: string, ...files: string[]): string[] | undefined {
  const paths = files.map((f) => join(DATA_DIR, ...f.split("/")));
  const missing = paths.filter((p) => !existsSync(p));
  if (!missing.length) return paths;
  if (dataRequired) throw new Error(`[${suite}] RLXF_REQUIRE_DATA=1 but ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing (set RLXF_DATA to the shared data folder)`);
  console.warn(`[${suite}] ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing: SKIPPING (set RLXF_DATA to the shared data folder)`);
  return undefined;
}

/** The path of `parts` under the data folder when it exists; otherwise undefined (the suite skips), or an error with RLXF_REQUIRE_DATA=1. */
export function sharedData(suite: string, ...parts: string[]): string | undefined {
  const path = join(DATA_DIR, ...parts);
  if (existsSync(path)) return path;
  if (dataRequired) throw new Error(`[${suite}] RLXF_REQUIRE_DATA=1 but ${path} is missing (set RLXF_DATA to the shared data folder)`);
  console.warn(`[${suite}] ${path} is missing: SKIPPING (set RLXF_DATA to the shared data folder)`);
  return undefined;
}

/**
 * For one test in a file whose other tests need no data: `skip` when a path is missing (and the data is not
 * required); `check()`, called first in the test, fails it naming the missing path under RLXF_REQUIRE_DATA=1.
 */
export function dataForTest(suite: string, paths: readonly string[]): { skip: boolean; check: () => void } {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length && !dataRequired) console.warn(`[${suite}] ${missing.join(", ")} missing: SKIPPING (set RLXF_DATA to the shared data folder)`);
  return {
    skip: missing.length > 0 && !dataRequired,
    check: () => {
      if (missing.length) throw new Error(`[${suite}] RLXF_REQUIRE_DATA=1 but ${missing.join(", ")} is missing (set RLXF_DATA to the shared data folder)`);
    },
  };
}

/**
 * A folder holding the AlpacaEval annotation files of `models` only (links to the shared files), for a test that
 * needs a few models rather than 20; removed when the process exits. Undefined when the data is missing (see
 * `sharedData`).
 */
export function alpacaEvalSlice(suite: string, models: readonly string[]): string | undefined {
  const annotations = sharedData(suite, "alpaca_eval", "annotations");
  if (!annotations) return undefined;
  const files = models.map((m) => sharedData(suite, "alpaca_eval", "annotations", `${m}.json.gz`));
  if (files.some((f) => !f)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "rlxf-alpaca-eval-slice-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  models.forEach((m, i) => symlinkSync(files[i]!, join(dir, `${m}.json.gz`)));
  return dir;
}
