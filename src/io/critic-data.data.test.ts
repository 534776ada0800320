/**
 * The real RealCritic and Fine-Grained RLHF QA-feedback files (../shared/data, or RLXF_DATA): counts, labels,
 * offsets that land on the annotated text, and import → rlxf JSONL → import giving the same records.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sharedData } from "../../test/support/data.js";
import type { FeedbackOf } from "../feedback/schema.js";
import { exportToString, importRawRecords, mergeBatches, memorySource, readImportFile, type ImportBatch } from "./index.js";

const realcritic = sharedData("realcritic import", "realcritic");
const qaFile = sharedData("qa-feedback import", "fine-grained-rlhf", "qa-feedback-dev.json.gz");

const gz = (p: string) => gunzipSync(readFileSync(p)).toString("utf8");

async function roundTrip(b: ImportBatch): Promise<void> {
  const text = await exportToString("rlxf", memorySource(b));
  const records = text
    .split("\n")
    .filter(Boolean)
    .map((l, i) => ({ value: JSON.parse(l) as unknown, label: `line ${i + 1}` }));
  const again = await importRawRecords(records, "export.jsonl");
  expect(again.items).toEqual(b.items);
  expect(again.generations).toEqual(b.generations);
  expect(again.feedback).toEqual(b.feedback);
}

describe.skipIf(!realcritic)("RealCritic (8 tasks, 2,093 solutions)", () => {
  it("imports every solution with its task and correctness", async () => {
    const files = readdirSync(realcritic!).filter((f) => f.endsWith(".jsonl.gz")).sort();
    expect(files).toHaveLength(8);
    const batches: ImportBatch[] = [];
    let correct = 0;
    const perTask: Record<string, number> = {};
    for (const f of files) {
      const rows = gz(join(realcritic!, f)).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { previous_score: boolean[] });
      const b = await readImportFile(join(realcritic!, f));
      expect(b.format).toBe("realcritic");
      expect(b.feedback).toHaveLength(rows.length);
      const task = f.replace(".jsonl.gz", "");
      perTask[task] = rows.length;
      expect(new Set(b.items.map((i) => i.dataset))).toEqual(new Set([task]));
      // Labels as the file gives them, in order.
      expect(b.feedback.map((x) => (x.value as { passed: boolean }).passed)).toEqual(rows.map((r) => r.previous_score[0]));
      correct += rows.filter((r) => r.previous_score[0]).length;
      batches.push(b);
    }
    const all = mergeBatches(batches);
    expect(all.items).toHaveLength(2093);
    expect(all.generations).toHaveLength(2093);
    expect(all.feedback).toHaveLength(2093);
    expect(correct).toBe(1044);
    expect(perTask).toEqual({ "arc-challenge": 263, college_math: 279, gpqa: 190, gsm8k: 273, math: 268, minerva_math: 261, mmlu_stem: 292, olympiadbench: 267 });
    await roundTrip(all);
    const again = await readImportFile(join(realcritic!, files[0]!));
    expect(again.feedback.map((f) => f.id)).toEqual(batches[0]!.feedback.map((f) => f.id));
  });
});

describe.skipIf(!qaFile)("Fine-Grained RLHF QA feedback (500 questions)", () => {
  it("imports spans, corrections, missing-information critiques and 3,000 preferences", async () => {
    const rows = JSON.parse(gz(qaFile!)) as Array<Record<string, any>>;
    const b = await readImportFile(qaFile!);
    expect(b.format).toBe("qa-feedback");
    expect(b.items).toHaveLength(500);
    expect(b.generations).toHaveLength(2000);
    const of = <K extends string>(k: K) => b.feedback.filter((f) => f.kind === k);
    expect(of("spans")).toHaveLength(500);
    expect(of("pairwise")).toHaveLength(3000);
    const nonEmpty = rows.filter((r) => r.feedback["corrected-prediction"].trim() !== "").length;
    expect(of("correction")).toHaveLength(nonEmpty);
    expect(of("critique")).toHaveLength(rows.filter((r) => r.feedback["missing-info"].length > 0).length);
    expect(b.skipped).toEqual(nonEmpty < 500 ? [{ reason: "empty corrected prediction", count: 500 - nonEmpty }] : []);

    // Every span covers exactly the text the annotators marked (Python offsets → UTF-16).
    const gens = new Map(b.generations.map((g) => [g.id, g]));
    const spans = of("spans") as FeedbackOf<"spans">[];
    let n = 0;
    spans.forEach((f, i) => {
      const out = gens.get(f.targets[0]!)!.output;
      const cps = [...(rows[i]!["prediction 1"] as string)];
      expect(out).toBe(rows[i]!["prediction 1"]);
      const errs = rows[i]!.feedback.errors as Array<{ start: number; end: number; "error type": string }>;
      expect(f.value.spans.map((s) => [out.slice(s.start, s.end), s.label])).toEqual(errs.map((e) => [cps.slice(e.start, e.end).join(""), e["error type"]]));
      n += f.value.spans.length;
    });
    expect(n).toBe(1373);
    const ties = (of("pairwise") as FeedbackOf<"pairwise">[]).filter((f) => f.value.choice === "tie").length;
    expect(ties).toBe(rows.reduce((s, r) => s + (r.preference as number[]).filter((p) => p === 0).length, 0));
    expect(ties).toBe(384);
    await roundTrip(b);
  });
});
