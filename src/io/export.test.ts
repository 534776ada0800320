import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { Feedback, Generation, Item } from "../feedback/schema.js";
import { parseFeedback, parseGeneration, parseItem } from "../feedback/index.js";
import { exportRecords, exportToString, memorySource, readImportFile, writeExportFile, type ExportFormat } from "./index.js";
import { jsonErrorOffset } from "./records.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-io-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const src = (items: Item[], generations: Generation[], feedback: Feedback[]) => memorySource({ items, generations, feedback });
const jsonl = (text: string) =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const item = (id: string, prompt: Item["prompt"], dataset?: string): Item => ({ id, project: "default", prompt, ...(dataset ? { dataset } : {}) });
const gen = (id: string, itemId: string, policy: string, output: string): Generation => ({ id, project: "default", itemId, policy, output });
const judge = { type: "judge", id: "j1" } as const;
const pair = (id: string, itemId: string, t: [string, string], value: Extract<Feedback, { kind: "pairwise" }>["value"], metadata?: Record<string, unknown>): Feedback => ({
  id,
  project: "default",
  itemId,
  kind: "pairwise",
  targets: t,
  source: judge,
  value,
  ...(metadata ? { metadata } : {}),
});

// A small mixed store: a string-prompt item and a chat item, several kinds of feedback.
const items = [item("i1", "2+2?", "math"), item("i2", [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }])];
const gens = [gen("g1", "i1", "m1", "4"), gen("g2", "i1", "m2", "5"), gen("g3", "i2", "m1", "Hello."), gen("g4", "i2", "m2", "Go away.")];
const feedback: Feedback[] = [
  pair("f1", "i1", ["g1", "g2"], { choice: "first", pSecond: 0.2 }, { margin: 2 }),
  pair("f2", "i2", ["g4", "g3"], { choice: "second" }),
  pair("f3", "i1", ["g1", "g2"], { choice: "tie" }),
  { id: "f4", project: "default", kind: "binary", targets: ["g2"], source: { type: "user", id: "u" }, value: { ok: false } },
  { id: "f5", project: "default", kind: "verification", targets: ["g1"], source: { type: "verifier", id: "v" }, value: { passed: true } },
  { id: "f6", project: "default", kind: "critique", targets: ["g3"], source: judge, value: { text: "fine", verdict: "pass" } },
  { id: "f7", project: "default", kind: "critique", targets: ["g4"], source: judge, value: { text: "rude" } },
  { id: "f8", project: "default", kind: "rating", targets: ["g1"], source: judge, value: { score: 5, scale: { min: 1, max: 5 } } },
];
for (const f of feedback) parseFeedback(f);

describe("exportRecords", () => {
  it("trl-preference: standard and conversational rows, ties and other kinds skipped", async () => {
    const skips: string[] = [];
    const stream = exportRecords("trl-preference", src(items, gens, feedback), { onSkip: (r, f) => skips.push(`${f.id}:${r}`) });
    const pieces: string[] = [];
    for await (const p of stream) pieces.push(p);
    expect(pieces.every((p) => p.endsWith("\n"))).toBe(true);
    expect(pieces.map((p) => JSON.parse(p))).toEqual([
      { prompt: "2+2?", chosen: "4", rejected: "5", margin: 2 },
      { prompt: items[1]!.prompt, chosen: [{ role: "assistant", content: "Hello." }], rejected: [{ role: "assistant", content: "Go away." }] },
    ]);
    expect(stream.records).toBe(2);
    expect(stream.skipped).toEqual([
      { reason: "tie (no preferred output)", count: 1 },
      { reason: "kind binary not carried by trl-preference", count: 1 },
      { reason: "kind verification not carried by trl-preference", count: 1 },
      { reason: "kind critique not carried by trl-preference", count: 2 },
      { reason: "kind rating not carried by trl-preference", count: 1 },
    ]);
    expect(skips[0]).toBe("f3:tie (no preferred output)");
  });

  it("metadataColumns: false leaves the extra columns out", async () => {
    const rows = jsonl(await exportToString("trl-preference", src(items, gens, feedback), { metadataColumns: false }));
    expect(rows[0]).toEqual({ prompt: "2+2?", chosen: "4", rejected: "5" });
  });

  it("trl-unpaired: pairwise, binary, verification and critique verdicts become labels", async () => {
    const stream = exportRecords("trl-unpaired", src(items, gens, feedback));
    const rows = jsonl(await collect(stream));
    expect(rows).toEqual([
      { prompt: "2+2?", completion: "4", label: true, margin: 2 },
      { prompt: "2+2?", completion: "5", label: false, margin: 2 },
      { prompt: items[1]!.prompt, completion: [{ role: "assistant", content: "Hello." }], label: true },
      { prompt: items[1]!.prompt, completion: [{ role: "assistant", content: "Go away." }], label: false },
      { prompt: "2+2?", completion: "5", label: false },
      { prompt: "2+2?", completion: "4", label: true },
      { prompt: items[1]!.prompt, completion: [{ role: "assistant", content: "Hello." }], label: true },
    ]);
    expect(stream.records).toBe(7);
    expect(stream.skipped).toEqual([
      { reason: "tie (no preferred output)", count: 1 },
      { reason: "critique without verdict", count: 1 },
      { reason: "kind rating not carried by trl-unpaired", count: 1 },
    ]);
  });

  it("openai-dpo: the documented preference fine-tuning shape", async () => {
    const rows = jsonl(await exportToString("openai-dpo", src(items, gens, feedback)));
    expect(rows).toEqual([
      {
        input: { messages: [{ role: "user", content: "2+2?" }], tools: [], parallel_tool_calls: true },
        preferred_output: [{ role: "assistant", content: "4" }],
        non_preferred_output: [{ role: "assistant", content: "5" }],
      },
      {
        input: { messages: items[1]!.prompt, tools: [], parallel_tool_calls: true },
        preferred_output: [{ role: "assistant", content: "Hello." }],
        non_preferred_output: [{ role: "assistant", content: "Go away." }],
      },
    ]);
  });

  it("alpaca-eval: pieces of one JSON array, ties kept as 1.5", async () => {
    const stream = exportRecords("alpaca-eval", src(items, gens, feedback));
    const pieces: string[] = [];
    for await (const p of stream) pieces.push(p);
    expect(pieces[0]).toBe("[\n");
    expect(pieces.at(-1)).toBe("]\n");
    expect(pieces.slice(1, -2).every((p) => p.startsWith("{") && p.endsWith("},\n"))).toBe(true);
    expect(pieces.at(-2)).toMatch(/^\{.*\}\n$/);
    const rows = JSON.parse(pieces.join("")) as unknown[];
    expect(rows).toEqual([
      { dataset: "math", instruction: "2+2?", output_1: "4", generator_1: "m1", output_2: "5", generator_2: "m2", annotator: "j1", preference: 1.2, margin: 2 },
      { instruction: "system: Be brief.\n\nuser: Hi", output_1: "Go away.", generator_1: "m2", output_2: "Hello.", generator_2: "m1", annotator: "j1", preference: 2 },
      { dataset: "math", instruction: "2+2?", output_1: "4", generator_1: "m1", output_2: "5", generator_2: "m2", annotator: "j1", preference: 1.5 },
    ]);
    expect(stream.skipped.reduce((s, x) => s + x.count, 0)).toBe(5);
  });

  it("alpaca-eval: an empty export is an empty JSON array", async () => {
    expect(JSON.parse(await exportToString("alpaca-eval", src([], [], [])))).toEqual([]);
  });

  it("rlxf: items, generations, feedback, each parseable", async () => {
    const lines = jsonl(await exportToString("rlxf", src(items, gens, feedback)));
    expect(lines).toHaveLength(items.length + gens.length + feedback.length);
    expect(lines.slice(0, 2).map((l) => parseItem(l))).toEqual(items);
    expect(lines.slice(2, 6).map((l) => parseGeneration(l))).toEqual(gens);
    expect(lines.slice(6).map((l) => parseFeedback(l))).toEqual(feedback);
  });

  it("iterating again starts the counts over", async () => {
    const stream = exportRecords("trl-preference", src(items, gens, feedback));
    await collect(stream);
    await collect(stream);
    expect(stream.records).toBe(2);
    expect(stream.skipped[0]).toEqual({ reason: "tie (no preferred output)", count: 1 });
  });

  it("memorySource names a missing target", async () => {
    await expect(collect(exportRecords("trl-preference", src(items, gens.slice(1), feedback)))).rejects.toThrow(/g1/);
  });

  it("writeExportFile writes plain and gzip files", async () => {
    for (const name of ["out.jsonl", "out.jsonl.gz"]) {
      const path = join(dir, name);
      const report = await writeExportFile(path, "openai-dpo", src(items, gens, feedback));
      expect(report.records).toBe(2);
      const buf = readFileSync(path);
      const text = name.endsWith(".gz") ? gunzipSync(buf).toString() : buf.toString();
      expect(jsonl(text)).toHaveLength(2);
    }
  });

  it("writeExportFile leaves no file behind when the export fails", async () => {
    const path = join(dir, "broken.jsonl");
    await expect(writeExportFile(path, "trl-preference", src(items, gens.slice(1), feedback))).rejects.toThrow();
    expect(existsSync(path)).toBe(false);
  });
});

describe("round trips", () => {
  const write = (name: string, rows: unknown[]) => {
    const p = join(dir, name);
    writeFileSync(p, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    return p;
  };
  const roundTrip = async (path: string, format: ExportFormat) => jsonl(await exportToString(format, memorySource(await readImportFile(path))));

  it("trl-preference standard", async () => {
    const rows = [
      { prompt: "The sky is", chosen: " blue.", rejected: " green.", margin: 1.5 },
      { prompt: "The sky is", chosen: " blue.", rejected: " red." },
      { prompt: "Grass is", chosen: " green.", rejected: " green." },
      { prompt: "Grass is", chosen: " green.", rejected: " green." },
    ];
    expect(await roundTrip(write("std.jsonl", rows), "trl-preference")).toEqual(rows);
  });

  it("trl-preference conversational (multi-message completions kept)", async () => {
    const p = [{ role: "system", content: "Be kind." }, { role: "user", content: "Hi" }];
    const rows = [
      { prompt: p, chosen: [{ role: "assistant", content: "Hello!" }], rejected: [{ role: "assistant", content: "What?" }], id: "a1" },
      {
        prompt: p,
        chosen: [{ role: "assistant", content: "Checking." }, { role: "tool", content: "ok" }, { role: "assistant", content: "Hello!" }],
        rejected: [{ role: "assistant", content: "What?" }],
      },
    ];
    expect(await roundTrip(write("conv.jsonl", rows), "trl-preference")).toEqual(rows);
  });

  it("trl implicit prompt → explicit prompt with the same completions", async () => {
    const rows = [{ chosen: "Q: 2+2? A: 4", rejected: "Q: 2+2? A: 5" }];
    expect(await roundTrip(write("impl.jsonl", rows), "trl-preference")).toEqual([{ prompt: "Q: 2+2? A:", chosen: " 4", rejected: " 5" }]);
  });

  it("rlxf JSONL round trip is deep-equal", async () => {
    const lines = jsonl(await exportToString("rlxf", src(items, gens, feedback)));
    const path = write("records.jsonl", lines);
    const b = await readImportFile(path);
    expect(b.items).toEqual(items);
    expect(b.generations).toEqual(gens);
    expect(b.feedback).toEqual(feedback);
    expect(await roundTrip(path, "rlxf")).toEqual(lines);
  });
});

describe("jsonErrorOffset", () => {
  it("finds no error in valid JSON and the offset of the first one otherwise", () => {
    for (const ok of ['{"a":[1,-2.5e3,true,false,null,"x\\n\\u00e9"],"b":{}}', "[]", ' "s" ', "0"]) expect(jsonErrorOffset(ok)).toBe(-1);
    expect(jsonErrorOffset('[{"a": }]')).toBe(7);
    expect(jsonErrorOffset('[1,\n2,\n]')).toBe(7);
    expect(jsonErrorOffset('{"a":1} x')).toBe(8);
  });
});

async function collect(stream: AsyncIterable<string>): Promise<string> {
  const parts: string[] = [];
  for await (const p of stream) parts.push(p);
  return parts.join("");
}
