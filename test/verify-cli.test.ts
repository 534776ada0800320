/**
 * `rlxf verify` end to end, in-process as a user runs it (test/support/cli.ts), and once as the built binary.
 * The checks on the shared data (Math-Verify's cases, HumanEval) are in verify-cli.data.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ATTACK_TASKS, JS_ATTACKS, JS_TASK, PYTHON_ATTACKS } from "./support/code-attacks.js";
import { rlxf, rlxfBinary } from "./support/cli.js";
import { RewardSpecs, saveRewardSpec } from "../src/rewards/index.js";
import { openStore } from "../src/store/index.js";

const tmp = mkdtempSync(join(tmpdir(), "rlxf-verify-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

describe("rlxf verify", () => {
  it("math --gold --pred says whether they are equivalent and what it read", async () => {
    // The built binary, as a user runs it; in-process below.
    const yes = await rlxfBinary(["verify", "math", "--gold", "\\frac{1}{2}", "--pred", "So the answer is $0.5$."]);
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stdout).toMatch(/^equivalent/);
    expect(yes.stdout).toContain("0.5  [answer-phrase]");
    const no = await rlxf(["verify", "math", "--gold", "3", "--pred", "\\boxed{4}", "--json"]);
    expect(JSON.parse(no.stdout)).toMatchObject({ equivalent: false, goldAnswer: "3", predAnswer: "4" });
    const missing = await rlxf(["verify", "math", "--gold", "3"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--pred/);
  });

  it("math --explain says what was read from each side and which rule decided", async () => {
    const text = await rlxf(["verify", "math", "--gold", "2x+z=1", "--pred", "so the answer is \\boxed{1}", "--explain"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^not equivalent \(rule: equation\)/);
    expect(text.stdout).toContain("a value is not an equation");
    expect(text.stdout).toContain('prediction: "1"  [boxed]');
    expect(text.stdout).toContain("read as number 1");
    const json = await rlxf(["verify", "math", "--gold", "\\frac{1}{3}", "--pred", "$0.33$", "--json", "--explain"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ equivalent: true, explanation: { verdict: "equivalent", rule: "rounded-decimal", prediction: { extracted: "0.33" } } });
  });

  it("math --input: a line that cannot be checked is that line's failure, and the batch goes on", async () => {
    const input = join(tmp, "hostile.jsonl");
    const deep = `\\boxed{${"\\frac{1}{".repeat(3000)}2${"}".repeat(3000)}}`;
    writeFileSync(input, jsonl([{ gold: "1", pred: deep }, { pred: "2" }, { gold: "4", pred: "x".repeat(2_000_001) }, { gold: "4", pred: "\\boxed{4}" }]));
    const r = await rlxf(["verify", "math", "--input", input, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { equivalent: boolean; error?: string });
    expect(lines.map((l) => l.equivalent)).toEqual([false, false, false, true]);
    expect(lines[1]!.error).toBe('line 2 lacks a string "gold"');
    expect(lines[2]!.error).toMatch(/2000001 characters long/);
    expect(r.stderr).toContain("4 pairs, 1 equivalent, 3 not compared");
  });

  it("check runs any verifier, by name or spec file, over a JSONL", async () => {
    const input = join(tmp, "answers.jsonl");
    writeFileSync(input, jsonl([{ completion: "so $\\boxed{4}$", reference: "4" }, { completion: "it is 5", reference: "4" }]));
    const r = await rlxf(["verify", "check", "--verifier", "math", "--input", input, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(out.map((o) => o.verification.passed)).toEqual([true, false]);
    expect(r.stderr).toContain("math: 1/2 passed");
    const spec = join(tmp, "spec.json");
    writeFileSync(spec, JSON.stringify({ type: "composite", name: "boxed-math", members: [{ verifier: "math" }, { verifier: { type: "regex", pattern: "boxed" } }] }));
    const c = await rlxf(["verify", "check", "--verifier", spec, "--input", input]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain("boxed-math: 1/2 passed, mean score 0.500");
    const bad = await rlxf(["verify", "check", "--verifier", "nope", "--input", input]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no verifier "nope"/);
  });

  it("humaneval: reward hacks all fail through the CLI, each verified apart from the program; the honest solutions pass", async () => {
    const tasks = join(tmp, "attack-tasks.jsonl");
    writeFileSync(tasks, jsonl(ATTACK_TASKS));
    const honest = await rlxf(["verify", "humaneval", tasks, "--json", "--timeout", "5000"]);
    expect(honest.code, honest.stderr).toBe(0);
    expect(JSON.parse(honest.stdout)).toMatchObject({ samples: ATTACK_TASKS.length, passed: ATTACK_TASKS.length, separated: ATTACK_TASKS.length, inSandbox: 0 });
    const completions = join(tmp, "attacks.jsonl");
    writeFileSync(completions, jsonl(PYTHON_ATTACKS.map((a) => ({ task_id: a.task, completion: a.completion }))));
    const r = await rlxf(["verify", "humaneval", tasks, "--completions", completions, "--json", "--timeout", "5000"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { passed: number; separated: number; sandbox: { seccomp: boolean }; results: Array<{ passed: boolean; isolation: string; verdict: string }> };
    const passed = report.results.flatMap((x, i) => (x.passed ? [PYTHON_ATTACKS[i]!.id] : []));
    expect(passed).toEqual([]);
    expect(report).toMatchObject({ passed: 0, separated: PYTHON_ATTACKS.length, sandbox: { seccomp: true } });
    expect(report.results.every((x) => x.verdict === "host")).toBe(true);
  });

  it("check: JavaScript reward hacks fail through the CLI", async () => {
    const input = join(tmp, "js-attacks.jsonl");
    writeFileSync(input, jsonl([{ completion: JS_TASK.program, reference: { tests: JS_TASK.tests } }, ...JS_ATTACKS.map((a) => ({ completion: a.program, reference: { tests: JS_TASK.tests } }))]));
    const spec = join(tmp, "js-spec.json");
    writeFileSync(spec, JSON.stringify({ type: "code", name: "js", language: "javascript", extractFence: false, limits: { wallMs: 5000 } }));
    const r = await rlxf(["verify", "check", "--verifier", spec, "--input", input, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { verification: { passed: boolean; details: { isolation: string } } });
    expect(rows.map((x) => x.verification.passed)).toEqual([true, ...JS_ATTACKS.map(() => false)]);
    expect(rows.every((x) => x.verification.details.isolation === "separated")).toBe(true);
  });

  it("check --spec scores with a reward spec saved in the project, any version of it, read from the store", async () => {
    const db = join(tmp, "specs.db");
    const store = await openStore({ path: db });
    try {
      const specs = new RewardSpecs(store);
      // Version 1 needs the answer boxed as well as right; version 2 only right.
      await saveRewardSpec(store, specs, "lab", { name: "answer", spec: { type: "composite", name: "boxed-answer", members: [{ verifier: "math", required: true }, { verifier: { type: "regex", pattern: "boxed" } }] } });
      await saveRewardSpec(store, specs, "lab", { name: "answer", spec: { type: "composite", name: "right-answer", members: [{ verifier: "math" }] } });
    } finally {
      await store.close();
    }
    const input = join(tmp, "spec-answers.jsonl");
    writeFileSync(input, jsonl([{ completion: "so $\\boxed{4}$", reference: "4" }, { completion: "it is 4", reference: "4" }, { completion: "it is 5", reference: "4" }]));
    const latest = await rlxf(["verify", "check", "--spec", "answer", "--project", "lab", "--db", db, "--input", input, "--json"]);
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout.trim().split("\n").map((l) => JSON.parse(l).verification.score)).toEqual([1, 1, 0]);
    expect(latest.stderr).toContain("right-answer: 2/3 passed");
    const first = await rlxf(["verify", "check", "--spec", "answer@1", "--project", "lab", "--db", db, "--input", input, "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim().split("\n").map((l) => JSON.parse(l).verification.score)).toEqual([1, 0.5, 0]);
    // Saved specs are per project, and a name that resolves to nothing says what exists.
    const elsewhere = await rlxf(["verify", "check", "--spec", "answer", "--db", db, "--input", input]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/no reward spec "answer"/);
    const both = await rlxf(["verify", "check", "--spec", "answer", "--verifier", "math", "--db", db, "--input", input]);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/--verifier .* or --spec/);
  });
});
