/**
 * `rlxf verify` on the shared data: Math-Verify's cases and HumanEval, in-process as a user runs it. All 164
 * HumanEval programs are run once, in src/sources/verifiers/code/humaneval.data.test.ts; here a few.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { rlxf } from "./support/cli.js";
import { sharedData } from "./support/data.js";

const cases = sharedData("rlxf verify on Math-Verify's cases", "math-verify", "cases.jsonl");
const humaneval = sharedData("rlxf verify on HumanEval", "human-eval", "HumanEval.jsonl.gz");

const tmp = mkdtempSync(join(tmpdir(), "rlxf-verify-cli-data-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

describe("rlxf verify on the shared data", () => {
  it.skipIf(!cases)("math --input --json writes a line out per line in, adding `equivalent`", async () => {
    const r = await rlxf(["verify", "math", "--input", cases!, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { gold: string; expected: boolean; equivalent: boolean });
    const input = readFileSync(cases!, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { gold: string });
    expect(lines).toHaveLength(input.length);
    lines.forEach((l, i) => {
      expect(l.gold).toBe(input[i]!.gold);
      expect(typeof l.equivalent).toBe("boolean");
    });
    const agree = lines.filter((l) => l.equivalent === l.expected).length;
    expect(agree / lines.length).toBeGreaterThanOrEqual(0.95);
    expect(r.stderr).toMatch(/agreement with "expected": \d+\/63/);
  });

  it.skipIf(!humaneval)("humaneval with completions prints pass@1 and per-task results", async () => {
    const samples = join(tmp, "samples.jsonl");
    writeFileSync(
      samples,
      jsonl([
        { task_id: "HumanEval/0", completion: "    return False\n" },
        { task_id: "HumanEval/2", completion: "    return number % 1.0\n" },
        { task_id: "HumanEval/2", completion: "    return numbr\n" },
      ]),
    );
    const r = await rlxf(["verify", "humaneval", humaneval!, "--completions", samples, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ tasks: 2, samples: 3, passed: 1, passAt1: 0.25 });
    expect(report.results[0]).toMatchObject({ task_id: "HumanEval/0", passed: false, status: "failed" });
    expect(report.results[0].failingLine).toMatch(/^assert candidate/);
    expect(report.results[2]).toMatchObject({ status: "crashed", error: expect.stringContaining("NameError") });
    const text = await rlxf(["verify", "humaneval", humaneval!, "--completions", samples]);
    expect(text.stdout).toContain("1/3 samples passed over 2 tasks; pass@1 25.00%");
  });

  it.skipIf(!humaneval)("humaneval without completions runs the canonical solutions", async () => {
    const rows = gunzipSync(readFileSync(humaneval!)).toString("utf8").trim().split("\n").slice(0, 4);
    const few = join(tmp, "few.jsonl");
    writeFileSync(few, rows.join("\n") + "\n");
    const r = await rlxf(["verify", "humaneval", few, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ source: "canonical solutions", tasks: 4, samples: 4, passed: 4, passAt1: 1 });
  });

});
