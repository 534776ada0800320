/**
 * Where benchmarks and data tests look for the shared data. The benchmarks that read it, pointed at a folder without
 * it (RLXF_DATA or --data), each stop at once with one line naming the missing path and how to point at the data,
 * never a stack trace; the data tests look in RLXF_DATA too.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const empty = mkdtempSync(join(tmpdir(), "rlxf-bench-data-"));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

const BENCHES = ["import", "lab", "rm", "verify", "leaderboard", "critics", "dense"];

function bench(name: string, args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [join(root, "bench", `${name}.mjs`), ...args], { cwd: root, env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
}

describe("benchmarks without their data", () => {
  it.each(BENCHES)("bench:%s names the missing path in one line and exits 2", (name) => {
    const r = bench(name, [], { RLXF_DATA: empty });
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`bench:${name}: ${empty}/`);
    expect(lines[0]).toMatch(/is missing: point --data or RLXF_DATA at the shared data folder/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("--data overrides RLXF_DATA", () => {
    const r = bench("rm", ["--data", join(empty, "elsewhere")], { RLXF_DATA: "/nonexistent-rlxf-data" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(join(empty, "elsewhere", "hh-rlhf", "harmless-base-test.jsonl.gz"));
    expect(r.stderr).not.toContain("/nonexistent-rlxf-data");
  });
});

describe("data tests", () => {
  const FILES = [
    "src/loops/math.data.test.ts",
    "src/learn/reward/hh.data.test.ts",
    "src/io/real-data.data.test.ts",
    "src/eval/alpaca-eval.data.test.ts",
    "src/lab/lab.data.test.ts",
    "src/sources/verifiers/code/humaneval.data.test.ts",
  ];
  it("look in RLXF_DATA, and with RLXF_REQUIRE_DATA=1 fail naming the missing path", () => {
    const r = spawnSync(process.execPath, [join(root, "node_modules", "vitest", "vitest.mjs"), "run", "--maxWorkers", "1", ...FILES], {
      cwd: root,
      env: { ...process.env, RLXF_DATA: empty, RLXF_REQUIRE_DATA: "1", CI: "1", NO_COLOR: "1", FORCE_COLOR: "0" },
      encoding: "utf8",
      timeout: 240_000,
    });
    const output = r.stdout + r.stderr;
    expect(r.status, output).not.toBe(0);
    for (const missing of ["math-verify/cases.jsonl", "hh-rlhf/harmless-base-test.jsonl.gz", "alpaca_eval/annotations", "alpaca_eval/leaderboard.csv", "human-eval/HumanEval.jsonl.gz"]) {
      expect(output).toContain(join(empty, missing));
    }
    expect(output).toMatch(/Test Files\s+6 failed/);
  }, 300_000);
});
