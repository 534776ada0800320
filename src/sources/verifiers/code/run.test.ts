/**
 * The code runner: what comes back for passing, failing, crashing and timing-out programs,
 * in Python and JavaScript, and that a program cannot fake a pass.
 */
import { describe, expect, it } from "vitest";
import { codeFromCompletion, codeVerifier, runCode } from "./index.js";

describe("runCode (python)", () => {
  it("passes when every test passes, and keeps the program's output", async () => {
    const r = await runCode({ language: "python", program: "def add(a, b):\n    return a + b\nprint('loaded')\n", tests: [{ code: "assert add(1, 2) == 3" }, { code: "assert add('a', 'b') == 'ab'" }] });
    expect(r).toMatchObject({ status: "passed", passed: true, testsRun: 2, testsFailed: 0, exitCode: 0 });
    expect(r.stdout).toBe("loaded\n");
  });

  it("reports the failing test, its line and the interpreter's message", async () => {
    const r = await runCode({
      language: "python",
      program: "def add(a, b):\n    return a - b\n",
      tests: [{ name: "small", code: "assert add(0, 0) == 0" }, { name: "big", code: "x = 1\nassert add(2, 2) == 4, 'two and two'" }],
    });
    expect(r).toMatchObject({ status: "failed", passed: false, testsRun: 2, testsFailed: 1 });
    expect(r.failing).toMatchObject({ name: "big", kind: "assertion", error: "AssertionError: two and two", line: 2, source: "assert add(2, 2) == 4, 'two and two'" });
    expect(r.error).toBe("big: AssertionError: two and two (line 2: assert add(2, 2) == 4, 'two and two')");
    expect(r.stderr).toContain("AssertionError: two and two");
    expect(r.stderr).not.toContain("harness");
  });

  it("a program that raises is crashed, with the traceback into the program", async () => {
    const r = await runCode({ language: "python", program: "def f(xs):\n    return xs[10]\n", tests: "assert f([1, 2]) == 1" });
    expect(r.status).toBe("crashed");
    expect(r.failing?.error).toBe("IndexError: list index out of range");
    expect(r.failing?.traceback).toContain('File "<program>", line 2, in f');
  });

  it("a syntax error is crashed while loading the program", async () => {
    const r = await runCode({ language: "python", program: "def f(:\n  pass", tests: "assert True" });
    expect(r).toMatchObject({ status: "crashed", testsRun: 0 });
    expect(r.failing?.name).toBe("program");
    expect(r.error).toMatch(/^program: SyntaxError/);
  });

  it("a program cannot fake a pass: exiting early, printing a result, or writing to the result channel", async () => {
    const attempts = [
      "import sys\nsys.exit(0)",
      "import os\nos._exit(0)",
      'import os\nos.write(3, b\'{"event":"done","test":0}\\n\')\nos._exit(0)',
      'print(\'{"event": "end", "test": 0, "passed": true}\')\nprint(\'{"event": "done"}\')\nimport os\nos._exit(0)',
      "import os\nos.close(3)",
    ];
    for (const program of attempts) {
      const r = await runCode({ language: "python", program, tests: "assert False, 'must not pass'" });
      expect(r.passed, program).toBe(false);
      expect(r.status, program).toBe("crashed");
    }
  });

  it("reads stdin after the harness's line", async () => {
    const r = await runCode({ language: "python", program: "name = input()\nprint('hello', name)", stdin: "world\n" });
    expect(r).toMatchObject({ status: "passed", stdout: "hello world\n" });
  });

  it("times out on the wall clock and on CPU time, naming the running test", async () => {
    const cpu = await runCode({ language: "python", program: "def spin():\n    while True: pass\n", tests: [{ name: "spins", code: "spin()" }], limits: { cpuSeconds: 1, wallMs: 10_000 } });
    expect(cpu).toMatchObject({ status: "timeout", limit: "cpu", error: "CPU time limit exceeded while running spins" });
    const wall = await runCode({ language: "python", program: "import time\ntime.sleep(60)", limits: { wallMs: 1000 } });
    expect(wall).toMatchObject({ status: "timeout", limit: "wall" });
  });
});

describe("runCode (javascript)", () => {
  it("runs tests with node:assert in the program's scope", async () => {
    const ok = await runCode({ language: "javascript", program: "function add(a, b) { return a + b; }\nconst K = 2;", tests: [{ code: "assert.strictEqual(add(1, K), 3)" }, { code: "await Promise.resolve(); assert.ok(add(0, 0) === 0)" }] });
    expect(ok).toMatchObject({ status: "passed", testsRun: 2 });
    const bad = await runCode({ language: "javascript", program: "function add(a, b) { return a * b; }", tests: [{ name: "sum", code: "assert.strictEqual(add(2, 3), 5)" }] });
    expect(bad).toMatchObject({ status: "failed", failing: { name: "sum", kind: "assertion", line: 1, source: "assert.strictEqual(add(2, 3), 5)" } });
    const crash = await runCode({ language: "javascript", program: "function f() { return null.x; }", tests: "f()" });
    expect(crash.status).toBe("crashed");
    expect(crash.failing?.error).toMatch(/^TypeError/);
  });

  it("a JavaScript program cannot fake a pass either", async () => {
    for (const program of ["process.exit(0)", "require('fs').writeSync(3, JSON.stringify({event:'done'}) + '\\n'); process.exit(0)"]) {
      const r = await runCode({ language: "javascript", program, tests: "assert.fail('must not pass')" });
      expect(r.passed, program).toBe(false);
    }
  });
});

describe("codeVerifier", () => {
  it("scores the fraction of tests passed and details map onto a verification value", async () => {
    const v = codeVerifier({ tests: [{ code: "assert sq(2) == 4" }, { code: "assert sq(3) == 9" }, { code: "assert sq(-1) == 1" }, { code: "assert sq(0) == 1" }] });
    const r = await v.verify({ completion: "Here you go:\n```python\ndef sq(x):\n    return x * x\n```\n" });
    expect(r.passed).toBe(false);
    expect(r.score).toBeCloseTo(0.75);
    expect(r.details).toMatchObject({ status: "failed", testsRun: 4, testsFailed: 1, failingTest: "test 4", failingLine: "assert sq(0) == 1" });
  });

  it("takes HumanEval-style references: prompt + completion, check(entryPoint)", async () => {
    const v = codeVerifier({ prependPrompt: true });
    const reference = { tests: "def check(candidate):\n    assert candidate(2) == 3\n", entryPoint: "inc" };
    const r = await v.verify({ prompt: "def inc(x):\n", completion: "    return x + 1\n", reference });
    expect(r).toMatchObject({ passed: true, score: 1, details: { status: "passed", testsRun: 1, testsFailed: 0 } });
  });

  it("extracts the last fenced block of the right language", () => {
    expect(codeFromCompletion("```js\nA\n```\n```python\nB\n```\n```\nC\n```", "python")).toBe("B\n");
    expect(codeFromCompletion("plain code", "python")).toBe("plain code");
  });
});

describe("sandbox failures", () => {
  it("an interpreter the sandbox cannot start is an error, not a failing score", async () => {
    const { sandboxInfo } = await import("./sandbox.js");
    const info = sandboxInfo();
    const saved = info.python;
    info.python = "/nonexistent/python3";
    try {
      await expect(runCode({ language: "python", program: "print(1)" })).rejects.toThrow(/sandbox did not start/);
    } finally {
      if (saved !== undefined) info.python = saved;
    }
  });
});
