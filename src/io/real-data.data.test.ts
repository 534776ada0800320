/**
 * Checks on the real data in ../shared/data (skipped when it is not there; a failure with RLXF_REQUIRE_DATA=1).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sharedData } from "../../test/support/data.js";
import { parseFeedback, parseGeneration, parseItem } from "../feedback/index.js";
import { exportRecords, exportToString, memorySource, mergeBatches, readImportFile, type ImportBatch } from "./index.js";

const alpacaFound = sharedData("AlpacaEval import", "alpaca_eval", "annotations");
const hhFound = sharedData("HH-RLHF import", "hh-rlhf", "harmless-base-test.jsonl.gz");
const alpacaDir = alpacaFound ?? "";
const hhFile = hhFound ?? "";

const readGzJson = (p: string) => JSON.parse(gunzipSync(readFileSync(p)).toString("utf8")) as Array<Record<string, unknown>>;

describe.skipIf(!alpacaFound)("AlpacaEval annotations (20 files)", () => {
  const files = alpacaFound ? readdirSync(alpacaDir).filter((f) => f.endsWith(".json.gz")).sort() : [];

  it("file → import → export gives back the original rows", async () => {
    for (const name of ["claude-2.1.json.gz", "falcon-40b-instruct.json.gz", "NullModel.json.gz"]) {
      const path = join(alpacaDir, name);
      const original = readGzJson(path);
      const batch = await readImportFile(path);
      expect(batch.format).toBe("alpaca-eval");
      const rows = JSON.parse(await exportToString("alpaca-eval", memorySource(batch))) as Array<Record<string, unknown>>;
      expect(rows).toHaveLength(original.length);
      rows.forEach((row, i) => {
        const o = original[i]!;
        const { preference, ...rest } = row;
        const { preference: op, ...orest } = o;
        expect(rest).toEqual(orest);
        expect(Math.abs((preference as number) - Number(op))).toBeLessThanOrEqual(1e-12);
      });
    }
  });

  it("20 files make one item per instruction and one generation per distinct output", async () => {
    const t0 = performance.now();
    const batches: ImportBatch[] = [];
    for (const f of files) batches.push(await readImportFile(join(alpacaDir, f)));
    const ms = performance.now() - t0;
    console.log(`read ${files.length} AlpacaEval files in ${ms.toFixed(0)} ms`);
    expect(files).toHaveLength(20);
    const rows = batches.reduce((s, b) => s + b.feedback.length + b.skipped.reduce((k, x) => k + x.count, 0), 0);
    expect(rows).toBe(16099); // 19 files of 805 rows and one of 804
    const m = mergeBatches(batches);
    expect(m.items).toHaveLength(805);
    expect(m.generations).toHaveLength(805 + 16099); // the shared gpt4_1106_preview outputs once, each model output once
    expect(m.feedback).toHaveLength(16099);
    const again = await readImportFile(join(alpacaDir, files[0]!));
    expect(again.feedback.map((f) => f.id)).toEqual(batches[0]!.feedback.map((f) => f.id));
  });
});

describe.skipIf(!hhFound)("HH-RLHF harmless-base test", () => {
  it("yields 2,312 pairwise records; trl export gives back the final replies", async () => {
    const t0 = performance.now();
    const batch = await readImportFile(hhFile);
    console.log(`read the HH file in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(batch.format).toBe("anthropic-hh");
    expect(batch.feedback).toHaveLength(2312);
    expect(new Set(batch.feedback.map((f) => f.id)).size).toBe(2312);
    for (const f of batch.feedback) {
      expect(f.kind).toBe("pairwise");
      expect(f.targets[0]).not.toBe(f.targets[1]);
    }
    for (const i of batch.items) parseItem(i);
    for (const g of batch.generations) parseGeneration(g);
    for (const f of batch.feedback) parseFeedback(f);

    const original = gunzipSync(readFileSync(hhFile))
      .toString("utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as { chosen: string; rejected: string });
    const stream = exportRecords("trl-preference", memorySource(batch));
    const lines: string[] = [];
    for await (const l of stream) lines.push(l);
    expect(lines).toHaveLength(2312);
    expect(stream.skipped).toEqual([]);
    lines.forEach((line, i) => {
      const row = JSON.parse(line) as { prompt: Array<{ role: string; content: string }>; chosen: [{ content: string }]; rejected: [{ content: string }] };
      const { chosen, rejected } = original[i]!;
      // The reply is what follows the shared dialogue (its last shared "\n\nAssistant:"), one leading space dropped.
      let k = 0;
      while (k < chosen.length && chosen[k] === rejected[k]) k++;
      const cut = chosen.lastIndexOf("\n\nAssistant:", k - 12) + 12;
      expect(row.chosen[0].content).toBe(chosen.slice(cut).replace(/^ /, ""));
      expect(row.rejected[0].content).toBe(rejected.slice(cut).replace(/^ /, ""));
      expect(row.prompt.at(-1)!.role).toBe("user");
    });
    const again = await readImportFile(hhFile);
    expect(again.feedback.map((f) => f.id)).toEqual(batch.feedback.map((f) => f.id));
  });
});
