import { availableParallelism } from "node:os";
import { relative } from "node:path";
import { configDefaults, defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Four projects; a test file's path and name decide which one it belongs to (`npm run test:<project>` runs one):
 * - data: `*.data.test.ts` anywhere: reads the shared data sets (test/support/data.ts; RLXF_DATA says where they
 *   are, RLXF_REQUIRE_DATA=1 turns a missing file into a failure).
 * - browser: `test/web/**`: the web app in Chromium against a real server.
 * - integration: the rest of `test/**` (the CLI, the HTTP server, processes and signals), and anywhere
 *   `*.postgres.test.ts` (a PostgreSQL database), `*.integration.test.ts` (real processes, workers, servers) and
 *   the code sandbox's tests (src/sources/verifiers/code: every one runs programs in bubblewrap).
 * - unit: the rest of `src/**\/*.test.ts`: fast, in one process, no shared data, no database server.
 * `npm test` (vitest without `--project`) runs all of them as one project, "all": vitest gives each project
 * workers of its own and replaces a worker whose next file belongs to another project, so four projects started
 * about four times as many workers, each loading the library again (a fifth of the suite's CPU time).
 * Files share their workers' module graphs (`isolate: false`: the library loads once per worker rather than once
 * per file, which was half the unit files' CPU time, a quarter of the integration files' and a fifth of the data
 * and browser files'), so a test leaves no global state behind: an environment variable, the sandbox's
 * configuration or a mock it changes is restored in `finally`/`afterAll`, and what it opens (stores, servers,
 * jobs, processes) it closes.
 * A heavy check on the full data runs once, in one data file; other tests use a slice or a fixture.
 */
const DATA = "**/*.data.test.ts";
const SKIP = configDefaults.exclude;
const INTEGRATION_ANYWHERE = ["**/*.postgres.test.ts", "**/*.integration.test.ts", "src/sources/verifiers/code/**/*.test.ts"];
/**
 * Test files run side by side, twice as many as there are cores (at least three, at most eight; VITEST_MAX_WORKERS
 * overrides it): most integration files wait on servers, worker processes, PostgreSQL or Chromium rather than
 * compute, so one file per core would leave the cores idle. No test depends on how fast the machine is.
 */
const WORKERS = Number.parseInt(process.env.VITEST_MAX_WORKERS ?? "", 10) || Math.min(8, Math.max(3, 2 * availableParallelism()));

/**
 * The order files start in. The files that take longest, most of it waiting on worker processes, servers, timers
 * or Chromium, start first (in this order), so that their waiting overlaps the other files' work instead of ending
 * the run alone. The rest go project by project (integration, data, browser, unit: the waiting kinds before the
 * computing ones), each in vitest's order (the longest first where it has timed them, else the largest).
 */
const FIRST = [/^test\/jobs\/(rate|responsive|api|kill)\./, /^test\/jobs\//, /^src\/lab\/lab\.data\./, /^test\/web\/(traps|workflow|screens|annotate)\./, /^test\/server\/(reward-code|serve|crash|fuzz)\./, /^test\/web\//];
const PROJECTS = ["integration", "data", "browser", "unit"];
/** The project of a test file (its path relative to the root): the same rules as the projects' globs below. */
function projectOf(path: string): string {
  if (path.endsWith(".data.test.ts")) return "data";
  if (path.startsWith("test/web/")) return "browser";
  if (path.startsWith("test/") || /\.(postgres|integration)\.test\.ts$/.test(path) || path.startsWith("src/sources/verifiers/code/")) return "integration";
  return "unit";
}
/** Without `--project`, every file in one project, so that any worker can take any file next (above). */
const ONE_POOL = !process.argv.some((a) => a === "--project" || a.startsWith("--project="));

class LongWaitsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const path = relative(this.ctx.config.root, f.moduleId);
      const i = FIRST.findIndex((re) => re.test(path));
      if (i >= 0) return i;
      const p = PROJECTS.indexOf(projectOf(path));
      return FIRST.length + (p < 0 ? PROJECTS.length : p);
    };
    const sorted = await super.sort(files);
    return sorted
      .map((f, i) => ({ f, i, r: rank(f) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.f);
  }
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: WORKERS,
    sequence: { sequencer: LongWaitsFirst },
    projects: ONE_POOL
      ? [{ extends: true, test: { name: "all", include: ["src/**/*.test.ts", "test/**/*.test.ts"], exclude: SKIP, isolate: false } }]
      : [
          {
            extends: true,
            test: { name: "unit", include: ["src/**/*.test.ts"], exclude: [...SKIP, DATA, ...INTEGRATION_ANYWHERE], isolate: false },
          },
          {
            extends: true,
            test: { name: "integration", include: ["test/**/*.test.ts", ...INTEGRATION_ANYWHERE], exclude: [...SKIP, DATA, "test/web/**"], isolate: false },
          },
          {
            extends: true,
            test: { name: "data", include: [DATA], exclude: SKIP, isolate: false },
          },
          {
            extends: true,
            test: { name: "browser", include: ["test/web/**/*.test.ts"], exclude: [...SKIP, DATA], isolate: false },
          },
        ],
  },
});
