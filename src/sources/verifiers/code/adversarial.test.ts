/**
 * Reward hacking: wrong programs that try to pass anyway (see test/support/code-attacks.ts).
 * Every one fails, with the tests verified apart from the program (`isolation: "separated"`);
 * the canonical solutions pass. Run the old way (tests in the program's process), several of
 * them do pass: the corpus has teeth, and that way is labelled `in-sandbox`.
 */
import { describe, expect, it } from "vitest";
import { ATTACK_TASKS, JS_ATTACKS, JS_TASK, PYTHON_ATTACKS } from "../../../../test/support/code-attacks.js";
import { codeVerifier, runCode, runHumanEval } from "./index.js";

const LIMITS = { wallMs: 5000, cpuSeconds: 3 };

describe("reward hacking, Python", () => {
  it("the canonical solutions of the attacked tasks pass, verified separated", async () => {
    const report = await runHumanEval(ATTACK_TASKS, { concurrency: 2, limits: LIMITS });
    expect(report.results.map((r) => [r.task_id, r.passed, r.result.isolation, r.result.verdict])).toEqual(ATTACK_TASKS.map((t) => [t.task_id, true, "separated", "host"]));
    // the post-check ran the trusted helper of attack/root
    expect(report.results.find((r) => r.task_id === "attack/root")!.result.checks).toMatchObject({ total: 12, passed: 12, post: 12 });
  });

  it("every attack fails, and nothing decided its verdict in its sandbox", async () => {
    const samples = PYTHON_ATTACKS.map((a) => ({ task_id: a.task, completion: a.completion }));
    const report = await runHumanEval(ATTACK_TASKS, { samples, concurrency: 2, limits: LIMITS });
    const passed = report.results.flatMap((r, i) => (r.passed ? [PYTHON_ATTACKS[i]!.id] : []));
    expect(passed).toEqual([]);
    for (const [i, r] of report.results.entries()) {
      expect(r.result.isolation, PYTHON_ATTACKS[i]!.id).toBe("separated");
      expect(r.result.verdict, PYTHON_ATTACKS[i]!.id).toBe("host");
      expect(r.error, PYTHON_ATTACKS[i]!.id).toBeTruthy();
    }
    const byId = new Map(report.results.map((r, i) => [PYTHON_ATTACKS[i]!.id, r]));
    expect(byId.get("always-equal-object")!.error).toMatch(/object of type AlwaysEqual, not plain data/);
    // a float subclass is read as the float it holds: its lying __sub__, __abs__ and __eq__ never run outside
    expect(byId.get("lying-float-subclass")!.result.failing?.traceback).toContain("(the program gave 42.0)");
    expect(byId.get("print-fake-records")!.error).toMatch(/record out of place/);
    expect(byId.get("read-tests-from-disk")!.failingLine).toBe("assert candidate(1) == 2654435761");
  });

  it("the same attacks against tests in the program's process: several pass, and the result says where the verdict came from", async () => {
    const passed: string[] = [];
    for (const a of PYTHON_ATTACKS.filter((x) => x.kind !== "limits")) {
      const task = ATTACK_TASKS.find((t) => t.task_id === a.task)!;
      const r = await runCode({ language: "python", program: task.prompt + a.completion, tests: [{ code: `${task.test}\n\ncheck(${task.entry_point})\n` }], limits: LIMITS, isolation: "in-sandbox" });
      expect(r).toMatchObject({ isolation: "in-sandbox", verdict: "in-sandbox" });
      if (r.passed) passed.push(a.id);
    }
    expect(passed).toEqual(expect.arrayContaining(["always-equal-object", "patch-builtins-abs", "shadow-abs-global", "patch-math-fabs", "shadow-trusted-helper", "patch-builtins-compile", "patch-json-dumps", "frame-walk"]));
  });

  it("a verifier that requires separation refuses tests it cannot split instead of scoring them", async () => {
    // a loop over the program's own values cannot be split
    const tests = "def check(candidate):\n    for x in candidate(3):\n        assert x >= 0\n";
    const strict = codeVerifier({ prependPrompt: true, entryPoint: "digits", isolation: "required" });
    await expect(strict.verify({ prompt: "def digits(n):\n", completion: "    return [n]\n", reference: { tests } })).rejects.toThrow(/cannot be verified apart from the program/);
    const lenient = codeVerifier({ prependPrompt: true, entryPoint: "digits" });
    const r = await lenient.verify({ prompt: "def digits(n):\n", completion: "    return [n]\n", reference: { tests } });
    expect(r).toMatchObject({ passed: true, details: { isolation: "in-sandbox", verdict: "in-sandbox", fallbackReason: expect.stringContaining("For statement") } });
  });
});

describe("reward hacking, JavaScript", () => {
  it("the honest program passes; every attack fails, verified separated", async () => {
    const ok = await runCode({ language: "javascript", program: JS_TASK.program, tests: JS_TASK.tests, limits: LIMITS });
    expect(ok).toMatchObject({ passed: true, isolation: "separated", verdict: "host", checks: { total: 4, passed: 4 } });
    const passed: string[] = [];
    const oldWay: string[] = [];
    for (const a of JS_ATTACKS) {
      const r = await runCode({ language: "javascript", program: a.program, tests: JS_TASK.tests, limits: LIMITS });
      expect(r.isolation, a.id).toBe("separated");
      if (r.passed) passed.push(a.id);
      const old = await runCode({ language: "javascript", program: a.program, tests: JS_TASK.tests, limits: LIMITS, isolation: "in-sandbox" });
      if (old.passed) oldWay.push(a.id);
    }
    expect(passed).toEqual([]);
    expect(oldWay).toEqual(expect.arrayContaining(["js-patch-writesync", "js-patch-assert"]));
  });
});
