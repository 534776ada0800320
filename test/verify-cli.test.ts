/**
 * `rlxf verify` end to end: the built binary, as a user runs it.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { sharedFiles } from "./support/data.js";
import { ATTACK_TASKS, JS_ATTACKS, JS_TASK, PYTHON_ATTACKS } from "./support/code-attacks.js";
import { RewardSpecs, saveRewardSpec } from "../src/rewards/index.js";
import { openStore } from "../src/store/index.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const bin = join(root, "dist", "cli", "main.js");
const found = sharedFiles("rlxf verify", "math-verify/cases.jsonl", "human-eval/HumanEval.jsonl.gz");
const have = found !== undefined;
const [cases = "", humaneval = ""] = found ?? [];

const tmp = mkdtempSync(join(tmpdir(), "rlxf-verify-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function rlxf(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: { ...process.env, CI: "1" }, maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

describe("rlxf verify", () => {
  it("math --gold --pred says whether they are equivalent and what it read", async () => {
    const yes = await rlxf(["verify", "math", "--gold", "\\frac{1}{2}", "--pred", "So the answer is $0.5$."]);
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

  it.skipIf(!have)("math --input --json writes a line out per line in, adding `equivalent`", async () => {
    const r = await rlxf(["verify", "math", "--input", cases, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { gold: string; expected: boolean; equivalent: boolean });
    const input = readFileSync(cases, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { gold: string });
    expect(lines).toHaveLength(input.length);
    lines.forEach((l, i) => {
      expect(l.gold).toBe(input[i]!.gold);
      expect(typeof l.equivalent).toBe("boolean");
    });
    const agree = lines.filter((l) => l.equivalent === l.expected).length;
    expect(agree / lines.length).toBeGreaterThanOrEqual(0.95);
    expect(r.stderr).toMatch(/agreement with "expected": \d+\/63/);
  });

  it.skipIf(!have)("humaneval with completions prints pass@1 and per-task results", async () => {
    const samples = join(tmp, "samples.jsonl");
    writeFileSync(
      samples,
      jsonl([
        { task_id: "HumanEval/0", completion: "    return False\n" },
        { task_id: "HumanEval/2", completion: "    return number % 1.0\n" },
        { task_id: "HumanEval/2", completion: "    return numbr\n" },
      ]),
    );
    const r = await rlxf(["verify", "humaneval", humaneval, "--completions", samples, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ tasks: 2, samples: 3, passed: 1, passAt1: 0.25 });
    expect(report.results[0]).toMatchObject({ task_id: "HumanEval/0", passed: false, status: "failed" });
    expect(report.results[0].failingLine).toMatch(/^assert candidate/);
    expect(report.results[2]).toMatchObject({ status: "crashed", error: expect.stringContaining("NameError") });
    const text = await rlxf(["verify", "humaneval", humaneval, "--completions", samples]);
    expect(text.stdout).toContain("1/3 samples passed over 2 tasks; pass@1 25.00%");
  });

  it.skipIf(!have)("humaneval without completions runs the canonical solutions", async () => {
    const rows = gunzipSync(readFileSync(humaneval)).toString("utf8").trim().split("\n").slice(0, 4);
    const few = join(tmp, "few.jsonl");
    writeFileSync(few, rows.join("\n") + "\n");
    const r = await rlxf(["verify", "humaneval", few, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ source: "canonical solutions", tasks: 4, samples: 4, passed: 4, passAt1: 1 });
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
