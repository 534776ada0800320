// Where the benchmarks read the shared data sets: `--data DIR`, else $RLXF_DATA, else ../shared/data beside the
// checkout. A missing file or folder ends the run with one line naming it and how to point at the data.
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";

/** The data folder: `--data DIR` (or `--data=DIR`), else $RLXF_DATA, else ../shared/data. */
export function dataDir(argv = process.argv.slice(2), env = process.env) {
  const i = argv.findIndex((a) => a === "--data" || a.startsWith("--data="));
  if (i >= 0) {
    const v = argv[i] === "--data" ? argv[i + 1] : argv[i].slice("--data=".length);
    if (!v) fail("--data needs a folder: --data DIR");
    return resolve(v);
  }
  if (env.RLXF_DATA) return resolve(env.RLXF_DATA);
  return resolve(import.meta.dirname, "..", "..", "shared", "data");
}

/** `parts` under the data folder; when it is missing, one line on stderr and exit code 2. */
export function needData(...parts) {
  const dir = dataDir();
  const path = join(dir, ...parts);
  if (!existsSync(path)) {
    const bench = basename(process.argv[1] ?? "bench", ".mjs");
    fail(`bench:${bench}: ${path} is missing: point --data or RLXF_DATA at the shared data folder (now ${dir})`);
  }
  return path;
}

function fail(line) {
  process.stderr.write(`${line}\n`);
  process.exit(2);
}
