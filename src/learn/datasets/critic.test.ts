/**
 * Critic-training sets from labelled solutions: the critic's prompt and the ground truth the critic rewards read,
 * as verl parquet, TRL prompt-only and OpenRLHF rows; splits by item, task filters and class balance.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { afterAll, describe, expect, it } from "vitest";
import "../../critics/index.js";
import type { Feedback, Generation, Item } from "../../feedback/schema.js";
import { createVerifier } from "../../sources/verifiers/index.js";
import { buildCriticDataset, writeDatasetFile } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-critic-ds-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const items: Item[] = [];
const generations: Generation[] = [];
const feedback: Feedback[] = [];
// 6 math solutions (2 right), 2 arc ones (1 right), one unlabelled, one item without a gold answer.
for (let i = 0; i < 8; i++) {
  const task = i < 6 ? "math" : "arc-challenge";
  const correct = i < 6 ? i < 2 : i === 6;
  items.push({ id: `it${i}`, project: "p", prompt: `Problem ${i}?`, reference: task === "math" ? String(i) : "B", dataset: task });
  generations.push({ id: `g${i}`, project: "p", itemId: `it${i}`, policy: "m", output: `Solution ${i}: \\boxed{${correct ? (task === "math" ? i : "B") : "x"}}` });
  feedback.push({ id: `f${i}`, project: "p", kind: "verification", targets: [`g${i}`], source: { type: "verifier", id: "realcritic" }, value: { passed: correct } });
}
items.push({ id: "it8", project: "p", prompt: "Unlabelled?", reference: "1", dataset: "math" }, { id: "it9", project: "p", prompt: "No gold?", dataset: "math" });
generations.push({ id: "g8", project: "p", itemId: "it8", policy: "m", output: "?" }, { id: "g9", project: "p", itemId: "it9", policy: "m", output: "?" });
feedback.push({ id: "f9", project: "p", kind: "binary", targets: ["g9"], source: { type: "human", id: "a" }, value: { ok: true } });
async function* each<T>(xs: T[]) {
  yield* xs;
}
const source = { items: () => each(items), generations: () => each(generations), feedback: () => each(feedback) };

describe("buildCriticDataset", () => {
  it("writes verl parquet whose ground truth the critic rewards read", async () => {
    const d = await buildCriticDataset(source, { format: "verl" });
    expect(d.report).toMatchObject({ solutions: 8, correct: 3, wrong: 5, dropped: 0 });
    expect(d.report.skipped.map((s) => s.count).sort()).toEqual([1, 1]);
    const path = join(dir, "critic.parquet");
    await writeDatasetFile(path, "verl", d.train);
    const buf = readFileSync(path);
    const rows = (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) })) as Array<any>;
    expect(rows).toHaveLength(8);
    const first = rows[0];
    expect(first).toMatchObject({ data_source: "math", ability: "critic", reward_model: { style: "rule" }, extra_info: { split: "train", item_id: "it0" } });
    expect(first.prompt.map((m: { role: string }) => m.role)).toEqual(["system", "user"]);
    expect(first.prompt[1].content).toContain("## Problem\n\nProblem 0?\n\n## Solution\n\nSolution 0: \\boxed{0}");
    expect(first.prompt[1].content).not.toContain('"gold"');
    const truth = JSON.parse(first.reward_model.ground_truth);
    expect(truth).toEqual({ correct: true, gold: "0", question: "Problem 0?", solution: "Solution 0: \\boxed{0}", task: "math", kind: "math" });
    // The rewards score a critique against it.
    const verdict = createVerifier("critic-verdict");
    for (const r of rows) {
      const t = JSON.parse(r.reward_model.ground_truth);
      expect((await verdict.verify({ completion: `{"verdict": "${t.correct ? "pass" : "fail"}"}`, reference: r.reward_model.ground_truth })).score).toBe(1);
      expect((await verdict.verify({ completion: `{"verdict": "${t.correct ? "fail" : "pass"}"}`, reference: r.reward_model.ground_truth })).score).toBe(0);
    }
    const arc = rows.find((r) => r.data_source === "arc-challenge");
    expect(JSON.parse(arc.reward_model.ground_truth).kind).toBe("choice");
  });

  it("TRL and OpenRLHF rows, split by item, filtered by task, balanced", async () => {
    const trl = await buildCriticDataset(source, { format: "trl-prompt", tasks: ["math"] });
    expect(trl.train).toHaveLength(6);
    expect(Object.keys(trl.train[0]!).sort()).toEqual(["ground_truth", "prompt"]);
    const orl = await buildCriticDataset(source, { format: "openrlhf-prompt" });
    expect(Object.keys(orl.train[0]!).sort()).toEqual(["input", "label"]);
    const split = await buildCriticDataset(source, { format: "trl-prompt", testFraction: 0.5, seed: 1 });
    expect(split.train.length + split.test.length).toBe(8);
    expect(split.test.length).toBeGreaterThan(0);
    const bal = await buildCriticDataset(source, { format: "trl-prompt", balance: true, seed: 2 });
    const labels = bal.train.map((r) => JSON.parse(r.ground_truth as string).correct);
    expect(labels.filter(Boolean)).toHaveLength(3);
    expect(labels.filter((x) => !x)).toHaveLength(3);
    expect(bal.report.dropped).toBe(2);
    await expect(buildCriticDataset(source, { format: "trl-preference" as "verl" })).rejects.toThrow(/critic datasets come as/);
  });
});
