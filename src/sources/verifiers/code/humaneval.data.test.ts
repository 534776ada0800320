/**
 * HumanEval in the sandbox: all 164 canonical solutions pass their tests; broken variants of
 * every task fail, each the way it is broken. The one run of all 164 programs in the suite; other tests take a few
 * tasks. Skipped without ../shared/data/human-eval (a failure with RLXF_REQUIRE_DATA=1).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { sharedData } from "../../../../test/support/data.js";
import { type HumanEvalSample, type HumanEvalTask, loadHumanEval, passAtK, runHumanEval } from "./index.js";

const found = sharedData("HumanEval", "human-eval", "HumanEval.jsonl.gz");
const have = found !== undefined;
const path = found ?? "";

/** Four ways to break a solution, one per task in turn. */
const BREAKS = ["syntax", "raise", "none", "swap"] as const;
function broken(tasks: HumanEvalTask[], i: number): HumanEvalSample {
  const t = tasks[i]!;
  const kind = BREAKS[i % BREAKS.length]!;
  const completion =
    kind === "syntax"
      ? t.canonical_solution.replace(/\n\s*$/, "") + " )(\n"
      : kind === "raise"
        ? "    raise RuntimeError('not implemented')\n"
        : kind === "none"
          ? "    return None\n"
          : tasks[(i + 1) % tasks.length]!.canonical_solution; // another task's solution
  return { task_id: t.task_id, completion };
}

describe.skipIf(!have)("HumanEval", () => {
  let tasks: HumanEvalTask[] = [];
  beforeAll(async () => {
    tasks = await loadHumanEval(path!);
  });

  it("all 164 canonical solutions pass their tests", async () => {
    const report = await runHumanEval(tasks, { concurrency: 3 });
    const failed = report.results.filter((r) => !r.passed).map((r) => `${r.task_id}: ${r.status} ${r.error ?? ""}`);
    const separated = report.results.filter((r) => r.result.isolation === "separated" && r.result.verdict === "host").length;
    console.log(`HumanEval canonical: ${report.passed}/${report.samples} passed, pass@1 ${report.passAt1}; ${separated} verified apart from the program`);
    expect(report.tasks).toBe(164);
    expect(failed).toEqual([]);
    expect(report.passAt1).toBe(1);
    // every task's tests split into calls and checks: none ran where the program could reach them
    expect(report.results.filter((r) => r.result.isolation !== "separated").map((r) => `${r.task_id}: ${r.result.fallbackReason}`)).toEqual([]);
  });

  it("a broken variant of every task fails, and says how", async () => {
    const samples = tasks.map((_, i) => broken(tasks, i));
    const report = await runHumanEval(tasks, { samples, concurrency: 3 });
    console.log(`HumanEval broken variants: ${report.samples - report.passed}/${report.samples} failed`);
    expect(report.samples).toBe(164);
    expect(report.results.every((r) => r.result.isolation === "separated")).toBe(true);
    expect(report.results.filter((r) => r.passed).map((r) => r.task_id)).toEqual([]);
    expect(report.passAt1).toBe(0);
    report.results.forEach((r, i) => {
      const kind = BREAKS[i % BREAKS.length];
      if (kind === "syntax") {
        expect(r.status, r.task_id).toBe("crashed");
        expect(r.error, r.task_id).toMatch(/^program: SyntaxError/);
      } else if (kind === "raise") {
        expect(r.status, r.task_id).toBe("crashed");
        expect(r.error, r.task_id).toMatch(/RuntimeError: not implemented/);
        expect(r.failingLine, r.task_id).toBeTruthy();
      } else {
        expect(["failed", "crashed"], r.task_id).toContain(r.status);
        expect(r.error, r.task_id).toBeTruthy();
      }
    });
  });

  it("pass@1 averages tasks; pass@k is the unbiased estimate", async () => {
    const t = tasks.slice(0, 2);
    const samples: HumanEvalSample[] = [
      { task_id: t[0]!.task_id, completion: t[0]!.canonical_solution },
      { task_id: t[0]!.task_id, completion: "    return None\n" },
      { task_id: t[1]!.task_id, completion: "    while True:\n        pass\n" },
    ];
    const report = await runHumanEval(tasks, { samples, limits: { cpuSeconds: 1 } });
    expect(report.perTask).toEqual([
      { task_id: t[0]!.task_id, n: 2, c: 1, passAt1: 0.5 },
      { task_id: t[1]!.task_id, n: 1, c: 0, passAt1: 0 },
    ]);
    expect(report.passAt1).toBe(0.25);
    expect(report.results[2]).toMatchObject({ status: "timeout", limit: "cpu" });
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3);
    expect(passAtK(10, 3, 5)).toBeCloseTo(1 - (7 * 6 * 5 * 4 * 3) / (10 * 9 * 8 * 7 * 6));
    expect(passAtK(5, 5, 3)).toBe(1);
    await expect(runHumanEval(tasks, { samples: [{ task_id: "nope", completion: "" }] })).rejects.toThrow(/no HumanEval task/);
  });
});
