/**
 * Separated verification: which test shapes are split (and still mean what they meant), which
 * fall back to the program's sandbox and say why, and how strictly the values are read.
 */
import { describe, expect, it } from "vitest";
import { planJavaScript, planPython, runCode } from "./index.js";
import { readRecords } from "./separated.js";
import { decodePy } from "./pyvalue.js";

const py = (program: string, tests: string, extra: Record<string, unknown> = {}) => runCode({ language: "python", program, tests: [{ code: tests }], ...extra });

describe("planning Python tests", () => {
  it("plain asserts on the program's functions: the calls run in the sandbox, the expected values never do", async () => {
    const [plan] = await planPython([{ tests: ["SECRET = 40 + 2\nassert answer(1) == SECRET\nassert answer(2) != SECRET + 1"] }]);
    expect(plan?.ok).toBe(true);
    if (!plan?.ok) return;
    expect(plan.steps.map((s) => s[1])).toEqual(["answer(1)", "answer(2)"]);
    expect(JSON.stringify(plan.steps)).not.toContain("42");
    expect(JSON.stringify(plan.checks)).toContain('["i","42"]');
    expect(plan.programNames).toEqual(["answer"]);
  });

  it("loops, local variables, random inputs and the tests' own helpers run in the planner", async () => {
    const tests = "import random\nrng = random.Random(3)\ndef expected(x):\n    return x * 2\nfor _ in range(5):\n    x = rng.randint(0, 100)\n    assert double(x) == expected(x)\n";
    const good = await py("def double(x):\n    return x + x\n", tests);
    expect(good).toMatchObject({ passed: true, isolation: "separated", checks: { total: 5, passed: 5 } });
    const bad = await py("def double(x):\n    return x * 3\n", tests);
    expect(bad).toMatchObject({ passed: false, status: "failed", isolation: "separated" });
  });

  it("an argument the program changes is read back from the program", async () => {
    const tests = "xs = [3, 1, 2]\nsort_in_place(xs)\nassert xs == [1, 2, 3]\n";
    expect(await py("def sort_in_place(xs):\n    xs.sort()\n", tests)).toMatchObject({ passed: true, isolation: "separated" });
    expect(await py("def sort_in_place(xs):\n    return sorted(xs)\n", tests)).toMatchObject({ passed: false, status: "failed", isolation: "separated" });
  });

  it("truthiness, identity with None, tolerances and isclose keep Python's meaning", async () => {
    const tests = "import math\nassert is_pos(3)\nassert not is_pos(-3)\nassert is_pos(0) is False\nassert nothing() is None\nassert math.isclose(third(), 1 / 3)\nassert abs(third() - 0.3333333) < 1e-6\nassert third() < 0.34 < 1\n";
    const program = "def is_pos(x):\n    return x > 0\ndef nothing():\n    pass\ndef third():\n    return 1 / 3\n";
    expect(await py(program, tests)).toMatchObject({ passed: true, isolation: "separated", checks: { total: 7, passed: 7 } });
    // truthiness is the program's to say, but only of its own value: a truthy object passes "assert is_pos(3)" and nothing else
    const r = await py("class T:\n    def __bool__(self):\n        return True\ndef is_pos(x):\n    return T()\ndef nothing():\n    return T()\ndef third():\n    return T()\n", tests);
    expect(r.passed).toBe(false);
    expect(r.checks!.passed).toBe(1);
  });

  it("a helper of the prompt is trusted in the checks; a stub of the prompt is the program's", async () => {
    const support = "def scale(x):\n    return x * 10\n\ndef solve(x):\n    \"\"\"The answer.\"\"\"\n";
    const tests = "def check(candidate):\n    assert scale(candidate(2)) == 40\n";
    const ok = await runCode({ language: "python", program: support + "    return 4\n", tests: [{ code: `${tests}\ncheck(solve)\n` }], entryPoint: "solve", support });
    expect(ok).toMatchObject({ passed: true, isolation: "separated", checks: { post: 1 } });
    const cheat = await runCode({ language: "python", program: support + "    return 0\n\ndef scale(x):\n    return 40\n", tests: [{ code: `${tests}\ncheck(solve)\n` }], entryPoint: "solve", support });
    expect(cheat).toMatchObject({ passed: false, isolation: "separated" });
  });

  it("shapes it cannot split fall back to the program's sandbox, and say why", async () => {
    const cases: Array<[string, RegExp]> = [
      ["try:\n    f(-1)\n    print('no')\nexcept ValueError:\n    pass\n", /Try statement/],
      ["try:\n    f(-1)\nexcept ValueError as e:\n    assert str(e) == 'x'\n", /Try statement/],
      ["assert sum([1, 2]) == 3\n", /named like a builtin/],
      ["for x in f(3):\n    assert x > 0\n", /For statement/],
      ["assert all(f(x) == x for x in range(3))\n", /bound inside the assertion/],
      ["class P:\n    pass\nassert f(P()) is not None\n", /not plain data/],
    ];
    for (const [tests, why] of cases) {
      const r = await py("def f(x):\n    return x\n", tests);
      expect(r.isolation, tests).toBe("in-sandbox");
      expect(r.verdict, tests).toBe("in-sandbox");
      expect(r.fallbackReason, tests).toMatch(why);
    }
  });

  it("an expected exception: the call must raise one of the classes caught (subclasses count), or the test fails", async () => {
    const tests = "try:\n    root(-1)\n    assert False, 'no error'\nexcept ValueError:\n    pass\nassert root(4) == 2\n";
    const good = await py("import math\ndef root(x):\n    if x < 0:\n        raise ValueError('negative')\n    return math.isqrt(x)\n", tests);
    expect(good).toMatchObject({ passed: true, isolation: "separated", checks: { total: 2, passed: 2 } });
    const sub = await py("import math\nclass Neg(ValueError):\n    pass\ndef root(x):\n    if x < 0:\n        raise Neg()\n    return math.isqrt(x)\n", tests);
    expect(sub).toMatchObject({ passed: true, isolation: "separated" });
    const silent = await py("import math\ndef root(x):\n    return math.isqrt(max(x, 0))\n", tests);
    expect(silent).toMatchObject({ passed: false, status: "failed", isolation: "separated", failing: { error: "AssertionError: expected ValueError, nothing was raised" } });
    const other = await py("def root(x):\n    raise KeyError(x)\n", tests);
    expect(other).toMatchObject({ passed: false, status: "crashed", failing: { error: "KeyError: -1" } });
  });

  it("big ints and plain-type subclasses cross as data", async () => {
    const r = await py("import math\nclass Big(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\ndef f(n):\n    return Big(math.factorial(n))\n", "import math\nassert f(2500) == math.factorial(2500)\nassert f(5) != 121\n");
    expect(r).toMatchObject({ passed: true, isolation: "separated" });
  });
});

describe("planning JavaScript tests", () => {
  it("supports literals, loops, bindings from the program and awaited calls", async () => {
    const tests = [
      "const cases = [[1, 2], [3, 4]];\nfor (const [a, b] of cases) assert.strictEqual(add(a, b), a + b);",
      "const r = add(2, 2);\nassert.ok(r === 4, 'four');\nassert.deepStrictEqual(pair(1), { a: 1, b: [1] });",
      "assert.strictEqual(await later(5), 5);\nassert.notStrictEqual(add(0.1, 0.2), 0.3);\nassert(Math.abs(add(0.1, 0.2) - 0.3) < 1e-9);",
    ];
    const plan = planJavaScript(tests);
    expect(plan.ok, plan.ok ? "" : plan.reason).toBe(true);
    const program = "function add(a, b) { return a + b; }\nconst pair = (a) => ({ a, b: [a] });\nasync function later(x) { return x; }";
    expect(await runCode({ language: "javascript", program, tests: tests.map((code) => ({ code })) })).toMatchObject({ passed: true, isolation: "separated", checks: { total: 7, passed: 7 } });
    const wrong = await runCode({ language: "javascript", program: program.replace("({ a, b: [a] })", "({ a, b: [a], c: 1 })"), tests: tests.map((code) => ({ code })) });
    expect(wrong).toMatchObject({ passed: false, isolation: "separated", failing: { name: "test 2", kind: "assertion" } });
  });

  it("assert.throws: the call must throw, an instance of the class given", async () => {
    const tests = "assert.throws(() => root(-1), RangeError);\nassert.throws(() => root(-2));\nassert.strictEqual(root(9), 3);";
    const good = await runCode({ language: "javascript", program: "function root(x) { if (x < 0) throw new RangeError('negative'); return Math.sqrt(x); }", tests });
    expect(good).toMatchObject({ passed: true, isolation: "separated", checks: { total: 3, passed: 3 } });
    const wrong = await runCode({ language: "javascript", program: "function root(x) { if (x < 0) throw new TypeError('negative'); return Math.sqrt(x); }", tests });
    expect(wrong).toMatchObject({ passed: false, isolation: "separated", failing: { error: "TypeError: negative" } });
    const silent = await runCode({ language: "javascript", program: "function root(x) { return Math.sqrt(Math.abs(x)); }", tests });
    expect(silent).toMatchObject({ passed: false, status: "failed", isolation: "separated" });
  });

  it("falls back where the tests need running", () => {
    for (const [tests, why] of [
      ["assert.throws(() => { const y = 1; f(y); });", /assert.throws/],
      ["assert.throws(() => f(-1), MyError);", /assert.throws/],
      ["let n = 0; n += f(1);", /not follow/],
      ["assert.strictEqual(f(1), new Date(0).getTime());", /not a literal|does not follow/],
    ] as const) {
      const plan = planJavaScript([tests]);
      expect(plan.ok, tests).toBe(false);
      if (!plan.ok) expect(plan.reason, tests).toMatch(why);
    }
  });
});

describe("reading the values", () => {
  const read = (lines: string[], steps = 2) => readRecords(lines.join("\n") + "\n", steps, decodePy);

  it("takes the load record, one record per step in order, and the end", () => {
    const r = read(['{"load":1}', '{"k":0,"v":["i","3"]}', '{"k":1,"e":"ValueError","m":"no","tb":"","line":2,"mro":["ValueError","Exception"]}', '{"done":1}']);
    expect(r).toMatchObject({ loaded: true, done: true });
    expect(r.protocol).toBeUndefined();
    expect(r.values.get(0)).toEqual({ ok: true, value: { t: "int", v: 3n } });
    expect(r.values.get(1)).toMatchObject({ ok: false, error: { type: "ValueError", message: "no", line: 2 } });
  });

  it("stops at anything out of place: a step twice, out of order, an extra field, an early end, a value that is not one", () => {
    const cases: string[][] = [
      ['{"k":0,"v":true}'],
      ['{"load":1}', '{"k":1,"v":true}'],
      ['{"load":1}', '{"k":0,"v":true}', '{"k":0,"v":false}'],
      ['{"load":1}', '{"k":0,"v":true,"passed":true}'],
      ['{"load":1}', '{"done":1}'],
      ['{"load":1}', '{"k":0,"v":["eq","anything"]}'],
      ['{"load":1}', "not json"],
      ['{"load":1}', '{"k":0,"v":true}', '{"k":1,"v":true}', '{"done":1}', '{"k":2,"v":true}'],
    ];
    for (const lines of cases) expect(read(lines).protocol, lines.join(" ")).toBeTruthy();
  });
});
