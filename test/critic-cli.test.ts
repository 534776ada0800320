/**
 * `rlxf import` of RealCritic and QA-feedback files, and `rlxf critic eval|list|show` end to end: a local
 * OpenAI-compatible server plays a scripted critic and actor; a SQLite store in a temporary directory; the CLI
 * runs in-process with its output captured.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { program } from "../src/cli/program.js";
import { scriptedCriticResponder } from "../src/critics/testing/index.js";
import { type FakeServer, startFakeModelServer } from "../src/providers/testing/index.js";
import { openStore } from "../src/store/index.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-critic-cli-"));
const db = join(dir, "rlxf.db");
const mathFile = join(dir, "math.jsonl");
const arcFile = join(dir, "arc-challenge.jsonl");
const qaFile = join(dir, "qa.json");

const rows = [
  { file: mathFile, question: "What is 3 + 4?", gt: "7", reasoning: "3 + 4 = 7. \\boxed{7}", model: "m1", correct: true },
  { file: mathFile, question: "What is 5 * 5?", gt: "25", reasoning: "5 * 5 = 20. \\boxed{20}", model: "m2", correct: false },
  { file: mathFile, question: "What is 9 - 2?", gt: "7", reasoning: "9 - 2 = 6. \\boxed{6}", model: "m1", correct: false },
  { file: arcFile, question: "Which is a mammal?\nAnswer Choices: (A) shark (B) whale (C) trout (D) eel", gt: "B", reasoning: "A whale. \\boxed{B}", model: "m2", correct: true },
];
let server: FakeServer;

beforeAll(async () => {
  for (const f of [mathFile, arcFile]) {
    writeFileSync(f, rows.filter((r) => r.file === f).map((r, i) => JSON.stringify({ idx: i, question: r.question, gt: r.gt, pred: "", reasoning: r.reasoning, model: r.model, previous_score: [r.correct] })).join("\n") + "\n");
  }
  writeFileSync(
    qaFile,
    JSON.stringify([
      {
        question: "Who wrote it?",
        passages: [["Book", "It was written by Ann."]],
        gold: "Ann wrote it.",
        "prediction 1": "Bob wrote it, I think.",
        "prediction 2": "Ann wrote it.",
        feedback: { errors: [{ "error type": "Wrong-Grounding", start: 0, end: 13, explanation: "" }], "missing-info": [], "corrected-prediction": "Ann wrote it." },
        preference: [2],
      },
    ]),
  );
  server = await startFakeModelServer({
    respond: scriptedCriticResponder(
      rows.map((r) => ({ question: r.question, gold: r.gt, solution: r.reasoning, correct: r.correct, kind: r.file === arcFile ? "choice" : "math" })),
      { critic: "oracle", actor: "gold" },
    ),
  });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rlxf(args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    const p = program();
    p.exitOverride();
    await p.parseAsync(["node", "rlxf", ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { stdout, stderr };
}

describe("rlxf import", () => {
  it("detects RealCritic and QA-feedback files, and a second import stores nothing new", async () => {
    const first = JSON.parse((await rlxf(["import", mathFile, arcFile, qaFile, "--db", db, "--json"])).stdout);
    expect(first.formats).toEqual(["realcritic", "qa-feedback"]);
    expect(first.items.inserted).toBe(5);
    expect(first.generations.inserted).toBe(6);
    // 4 verifications; spans, correction and one pairwise on the QA question.
    expect(first.feedback.inserted).toBe(7);
    const again = JSON.parse((await rlxf(["import", mathFile, arcFile, qaFile, "--db", db, "--json"])).stdout);
    expect([again.items.inserted, again.generations.inserted, again.feedback.inserted]).toEqual([0, 0, 0]);
    expect(again.feedback.existing).toBe(7);
  });
});

describe("rlxf dataset build --task critic", () => {
  it("writes critic-training prompts with the ground truth the critic rewards read", async () => {
    const out = join(dir, "critic.jsonl");
    const r = JSON.parse((await rlxf(["dataset", "build", "--task", "critic", "--format", "trl-prompt", "--out", out, "--db", db, "--json"])).stdout);
    expect(r).toMatchObject({ task: "critic", rows: 4, correct: 2, wrong: 2 });
    const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const truths = rows.map((x) => JSON.parse(x.ground_truth));
    expect(truths.map((t) => [t.task, t.correct]).sort()).toEqual([["arc-challenge", true], ["math", false], ["math", false], ["math", true]]);
    expect(rows[0].prompt[1].content).toContain("## Solution");
    const parquet = join(dir, "critic.parquet");
    const v = JSON.parse((await rlxf(["dataset", "build", "--task", "critic", "--format", "verl", "--tasks", "math", "--out", parquet, "--db", db, "--json"])).stdout);
    expect(v.rows).toBe(3);
    await expect(rlxf(["dataset", "build", "--task", "critic", "--format", "trl-preference", "--out", out, "--db", db])).rejects.toThrow(/--task critic writes verl, trl-prompt, openrlhf-prompt/);
  });
});

describe("rlxf critic", () => {
  it("eval: critiques, revises and checks every solution, prints the table and saves the result", async () => {
    const { stdout, stderr } = await rlxf(["critic", "eval", mathFile, arcFile, "--base-url", server.baseUrl, "--critic-model", "critic-x", "--actor-model", "actor-y", "--db", db, "--save", "tiny", "--price-input", "1", "--price-output", "2"]);
    expect(stderr).toContain('saved as tiny@1 in project "default"');
    expect(stdout).toContain("cross-critique: critic critic-x (solution-critique), actor actor-y; 4 solutions");
    expect(stdout).toMatch(/math\s+3\s+33\.3\s+100\.0\s+66\.7\s+2\s+0\s+100\.0\s+100\.0\s+1\.000/);
    expect(stdout).toMatch(/all\s+4\s+50\.0\s+100\.0\s+50\.0\s+2\s+0/);
    expect(stdout).toContain("in 4 critic and 2 actor calls");
    expect(server.requests.filter((q) => q.model === "critic-x")).toHaveLength(4);

    const list = JSON.parse((await rlxf(["critic", "list", "--db", db, "--json"])).stdout);
    expect(list).toMatchObject([{ name: "tiny", version: 1, solutions: 4, fixed: 2, broken: 0, accuracyBefore: 0.5, accuracyAfter: 1, tasks: ["arc-challenge", "math"] }]);
    const show = JSON.parse((await rlxf(["critic", "show", "tiny", "--db", db, "--json"])).stdout);
    expect(show.result.overall.calls).toEqual({ critic: 4, actor: 2 });
    expect(show.result.outcomes).toHaveLength(4);
  });

  it("eval --from-store critiques the imported solutions, self-critique asking each solution's model", async () => {
    server.reset();
    const { stdout } = await rlxf(["critic", "eval", "--from-store", "--base-url", server.baseUrl, "--critic-model", "self", "--db", db, "--json", "--no-cache"]);
    const r = JSON.parse(stdout);
    expect(r.setting).toMatchObject({ mode: "self", critic: "self", actor: "self" });
    expect([r.overall.solutions, r.overall.fixed, r.overall.accuracyAfter]).toEqual([4, 2, 1]);
    expect(new Set(server.requests.map((q) => q.model))).toEqual(new Set(["m1", "m2"]));
    const s = await openStore({ path: db });
    try {
      expect((await s.configs.list({ project: "default", kind: "critic-eval" })).map((c) => c.name)).toEqual(["tiny"]);
    } finally {
      await s.close();
    }
  });

  it("refuses unknown tasks and bad names before asking anything", async () => {
    server.reset();
    await expect(rlxf(["critic", "eval", mathFile, "--base-url", server.baseUrl, "--model", "c", "--tasks", "gsm8k", "--db", db])).rejects.toThrow(/--tasks: no solutions of gsm8k; the input has math/);
    await expect(rlxf(["critic", "eval", mathFile, "--base-url", server.baseUrl, "--model", "c", "--save", "bad\u0000name", "--db", db])).rejects.toThrow(/--save/);
    await expect(rlxf(["critic", "eval", mathFile, "--base-url", server.baseUrl, "--model", "c", "--critic", "pairwise", "--db", db])).rejects.toThrow(/kind critique/);
    expect(server.requests).toHaveLength(0);
  });
});
