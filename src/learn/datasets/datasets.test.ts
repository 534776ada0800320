import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { afterAll, describe, expect, it } from "vitest";
import { linearSynthetic } from "../synthetic.js";
import { buildDataset, writeDatasetFile } from "./build.js";
import { type PreferencePair, collectExamples, splitSteps } from "./examples.js";
import { aggregateVotes, filterPairs, foldsByItem, longerChosenShare, pairMargin, splitByItem } from "./filters.js";
import { DATASET_FORMATS, type DatasetFormat } from "./formats.js";
import { bestResponses, buildC3po, chainOfHindsight, generateC3po, parseList } from "./hindsight.js";
import { fixture } from "./fixture.contract.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-ds-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const byDerivation = (pairs: PreferencePair[], d: string) => pairs.filter((p) => p.derivation === d);

describe("examples from every feedback kind", () => {
  it("pairs from pairwise, rankings, ratings, corrections, refinements and verifier results", async () => {
    const fx = fixture();
    const skipped: string[] = [];
    const ex = await collectExamples(fx.source, { onSkip: (r) => skipped.push(r) });
    const pw = byDerivation(ex.pairs, "pairwise");
    expect(pw).toHaveLength(4);
    expect(pw.find((p) => p.id === "pw2")).toMatchObject({ chosen: { generationId: "g1a" }, rejected: { generationId: "g1b" }, strength: 0.5, sources: ["human:ann2"] });
    expect(pw.find((p) => p.id === "pw4")).toMatchObject({ chosen: { generationId: "g1a" }, pChosen: 0.8, sources: ["judge:gpt"] });
    const rk = byDerivation(ex.pairs, "ranking");
    expect(rk.map((p) => [p.chosen.generationId, p.rejected.generationId])).toEqual([
      ["g2a", "g2b"],
      ["g2a", "g2c"],
      ["g2c", "g2b"],
    ]);
    expect(rk[0]!.strength).toBe(1);
    // The haiku prompt is a conversation: the completion keeps plain text, the prompt its messages.
    expect(rk[0]!.prompt).toEqual([{ role: "user", content: "Write a haiku about rain." }]);
    const [rating] = byDerivation(ex.pairs, "rating");
    expect(rating).toMatchObject({ chosen: { generationId: "g3a" }, rejected: { generationId: "g3b" }, feedbackIds: ["rt1", "rt2"] });
    expect(rating!.strength).toBeCloseTo(7 / 9, 12);
    const [corr] = byDerivation(ex.pairs, "correction");
    expect(corr).toMatchObject({ chosen: { text: "4" }, rejected: { generationId: "g1b" }, feedbackText: "2+2 is 4" });
    expect(corr!.chosen.generationId).toBeUndefined();
    const [ver] = byDerivation(ex.pairs, "verification");
    expect(ver).toMatchObject({ chosen: { generationId: "g4a" }, rejected: { generationId: "g4b" }, feedbackText: "3 + 1 != 3", sources: ["verifier:sympy"] });
    const [ref] = byDerivation(ex.pairs, "refinement");
    expect(ref).toMatchObject({ chosen: { generationId: "g3c" }, rejected: { generationId: "g3b" }, feedbackIds: ["cr1"] });
    expect(ref!.feedbackText).toContain("Gravity attracts; it is not magnetism.");
    expect(ref!.feedbackText).toContain("Weaknesses:\n- wrong mechanism");
    expect(ex.pairs).toHaveLength(11);
    expect(ex.pairs.every((p) => p.pChosen > 0.5)).toBe(true);
    expect(skipped.sort()).toEqual(["signal feedback has no conversion to a preference or label", "tie"]);
    expect(ex.skipped).toEqual(expect.arrayContaining([{ reason: "tie", count: 1 }]));
  });

  it("labelled outputs from ratings, rubrics, verifiers, binary feedback and critiques; steps from spans", async () => {
    const ex = await collectExamples(fixture().source);
    const lab = Object.fromEntries(ex.labelled.map((l) => [l.feedbackId, l]));
    expect(Object.keys(lab).sort()).toEqual(["bi1", "cr1", "rt1", "rt2", "ru1", "vf1", "vf2"]);
    expect(lab.rt2).toMatchObject({ label: false, derivation: "rating", feedbackText: "wrong physics" });
    expect(lab.ru1).toMatchObject({ label: true, derivation: "rubric", score: 0.75, feedbackText: "correct: accurate" });
    expect(lab.vf2).toMatchObject({ label: false, score: 0, feedbackText: "3 + 1 != 3" });
    expect(lab.bi1).toMatchObject({ label: false, feedbackText: "not a haiku" });
    expect(lab.cr1).toMatchObject({ label: false, derivation: "critique" });
    expect(ex.steps).toEqual([
      expect.objectContaining({ itemId: "i3", steps: ["Gravity pushes things away.", "It is caused by magnets."], labels: [true, false], feedbackId: "sp1" }),
    ]);
  });

  it("keeps ties on request, restricts derivations and source types", async () => {
    const fx = fixture();
    const ties = await collectExamples(fx.source, { includeTies: true, pairsFrom: ["pairwise"] });
    expect(ties.pairs).toHaveLength(5);
    expect(ties.pairs.find((p) => p.id === "pw5")!.pChosen).toBe(0.5);
    const judges = await collectExamples(fx.source, { sourceTypes: ["judge"] });
    expect(judges.pairs.map((p) => p.id)).toEqual(["pw4"]);
    const verifiers = await collectExamples(fx.source, { sourceTypes: ["verifier"], pairsFrom: ["verification"] });
    expect(verifiers.pairs).toHaveLength(1);
  });

  it("splits outputs into steps: metadata.steps, else paragraphs, else lines", () => {
    const g = (output: string, metadata?: Record<string, unknown>) => ({ id: "g", project: "default", itemId: "i", policy: "p", output, ...(metadata ? { metadata } : {}) });
    expect(splitSteps(g("a\nb\n\nc")).map((s) => s.text)).toEqual(["a\nb", "c"]);
    expect(splitSteps(g("a\n b\n")).map((s) => [s.text, s.start, s.end])).toEqual([
      ["a", 0, 1],
      ["b", 3, 4],
    ]);
    expect(splitSteps(g("x = 1; y = 2", { steps: ["x = 1;", "y = 2"] })).map((s) => [s.start, s.end])).toEqual([
      [0, 6],
      [7, 12],
    ]);
  });
});

describe("filters and splits", () => {
  it("merges repeated judgements and measures agreement", async () => {
    const ex = await collectExamples(fixture().source, { pairsFrom: ["pairwise"] });
    const merged = aggregateVotes(ex.pairs);
    const g1 = merged.find((p) => p.votes === 3)!;
    expect(g1).toMatchObject({ chosen: { generationId: "g1a" }, rejected: { generationId: "g1b" }, votes: 3 });
    expect(g1.agreement).toBeCloseTo(2 / 3, 12);
    expect(g1.pChosen).toBeCloseTo(2 / 3, 12);
    expect(g1.sources.sort()).toEqual(["human:ann1", "human:ann2", "human:ann3"]);
    expect(filterPairs(ex.pairs, { minAgreement: 0.7 }).pairs.map((p) => p.votes)).toEqual([1]);
    const r = filterPairs(ex.pairs, { minAgreement: 0.5, minVotes: 2 });
    expect(r.pairs).toHaveLength(1);
    expect(r.report.dropped).toEqual(expect.arrayContaining([{ reason: "merged repeated judgements", count: 2 }, { reason: "fewer than 2 votes", count: 1 }]));
  });

  it("drops close calls, duplicates and identical outputs", async () => {
    const ex = await collectExamples(fixture().source);
    const strong = filterPairs(ex.pairs, { minMargin: 0.7 });
    expect(strong.pairs.every((p) => pairMargin(p) >= 0.7)).toBe(true);
    expect(strong.pairs.map((p) => p.id)).not.toContain("pw2"); // strength 0.5
    expect(strong.pairs.map((p) => p.id)).not.toContain("pw4"); // 2·0.8 − 1 = 0.6
    const dup = [...ex.pairs, { ...ex.pairs[0]!, id: "copy" }, { ...ex.pairs[0]!, id: "same", rejected: ex.pairs[0]!.chosen }];
    const d = filterPairs(dup);
    // The copy, and pw2 and the correction "4" over "5", which hold the same texts as pw1.
    expect(d.report.dropped).toEqual(expect.arrayContaining([{ reason: "duplicate", count: 3 }, { reason: "identical outputs", count: 1 }]));
    expect(d.pairs.length).toBe(ex.pairs.length - 2);
  });

  it("length balancing removes the length signal", () => {
    const syn = linearSynthetic({ n: 400, seed: 3 });
    const skewed = syn.pairs.map((p, i) => (i % 4 === 0 ? p : { ...p, chosen: { ...p.chosen, text: `${p.chosen.text} and some more words` } }));
    expect(longerChosenShare(skewed)).toBeGreaterThan(0.7);
    const { pairs, report } = filterPairs(skewed, { lengthBalance: true, seed: 1 });
    expect(longerChosenShare(pairs)).toBeCloseTo(0.5, 12);
    expect(report.dropped[0]!.reason).toBe("length balance");
    expect(filterPairs(skewed, { lengthBalance: true, seed: 1 }).pairs.map((p) => p.id)).toEqual(pairs.map((p) => p.id));
  });

  it("splits by item: no item on both sides; folds cover every item once", () => {
    const syn = linearSynthetic({ n: 500, seed: 4 });
    const many = [...syn.pairs, ...syn.pairs.map((p) => ({ ...p, id: `${p.id}b` }))];
    const { train, test } = splitByItem(many, 0.25, 7);
    const testItems = new Set(test.map((p) => p.itemId));
    expect(train.some((p) => testItems.has(p.itemId))).toBe(false);
    expect(test.length / many.length).toBeGreaterThan(0.18);
    expect(test.length / many.length).toBeLessThan(0.32);
    const folds = foldsByItem(many, 5, 1);
    const fold = new Map<string, number>();
    many.forEach((p, i) => {
      if (fold.has(p.itemId)) expect(fold.get(p.itemId)).toBe(folds[i]);
      fold.set(p.itemId, folds[i]!);
    });
    const sizes = [0, 1, 2, 3, 4].map((f) => [...fold.values()].filter((x) => x === f).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });
});

describe("Chain of Hindsight and C3PO", () => {
  it("writes outputs with feedback of either polarity as text, in both orders", async () => {
    const ex = await collectExamples(fixture().source);
    const rows = chainOfHindsight(ex.pairs, ex.labelled, { seed: 2 });
    expect(rows).toHaveLength(ex.pairs.length + ex.labelled.length);
    const pairRows = rows.slice(0, ex.pairs.length);
    expect(pairRows.some((r) => r.prompt.endsWith("A good answer:"))).toBe(true);
    expect(pairRows.some((r) => r.prompt.endsWith("A bad answer:"))).toBe(true);
    const first = pairRows[0]!;
    const p = ex.pairs[0]!;
    expect(first.prompt.startsWith("What is 2+2?\n\n")).toBe(true);
    expect(first.completion).toContain(p.chosen.text);
    expect(first.completion).toContain(p.rejected.text);
    const bad = rows.find((r) => r.completion.includes("Feedback: not a haiku"))!;
    expect(bad.prompt).toBe("Write a haiku about rain.\n\nA bad answer:");
    expect(bad.completion).toBe(" Rain is wet.\n\nFeedback: not a haiku");
    const custom = chainOfHindsight(ex.pairs.slice(0, 1), [], { templates: { good: "Helpful:", bad: "Unhelpful:" } });
    expect(custom[0]!.prompt).toMatch(/(Helpful|Unhelpful):$/);
  });

  it("picks the best output per item for supervised targets", async () => {
    const ex = await collectExamples(fixture().source);
    const best = bestResponses(ex.pairs, ex.labelled);
    const by = Object.fromEntries(best.map((d) => [d.itemId, d.completion.text]));
    expect(by.i2).toBe("Rain falls softly / on the quiet roof at night / puddles hold the moon");
    expect(by.i4).toBe("x = 2");
    expect(by.i1).toBe("4");
  });

  it("builds C3PO sets: in-scope pairs, out-of-scope targets", () => {
    const set = buildC3po({
      feedback: "Do not use emojis in emails to my boss.",
      inScope: [
        { prompt: "Email my boss about the delay.", baseline: "Hi! Running late 😅", revised: "Hello, I am running late." },
        { prompt: "Thank my boss.", baseline: "Thank you.", revised: "Thank you." },
      ],
      outOfScope: [{ prompt: "Text my friend happy birthday.", baseline: "Happy birthday 🎉" }],
      nearScope: [{ prompt: "Email my sister.", baseline: "Hey sis 😊" }],
    });
    expect(set.pairs).toHaveLength(1); // unchanged revisions are not preferences
    expect(set.pairs[0]).toMatchObject({ chosen: { text: "Hello, I am running late." }, rejected: { text: "Hi! Running late 😅" }, derivation: "c3po", dataset: "c3po" });
    expect(set.sft.map((d) => d.origin)).toEqual(["c3po:out-of-scope", "c3po:near-scope"]);
    expect(set.sft[0]!.completion.text).toBe("Happy birthday 🎉");
    expect(() => buildC3po({ feedback: " ", inScope: [], outOfScope: [] })).toThrow(/feedback/);
  });

  it("generates a C3PO set with any text model", async () => {
    const prompts: string[] = [];
    const fake = async (p: string) => {
      prompts.push(p);
      if (p.includes("to which this feedback applies")) return "1. Email my boss about Monday\n2. Ask my boss for leave";
      if (p.includes("unrelated topics")) return "Here you go:\n- Plan a picnic\n- Name a cat\n- Cook rice";
      if (p.startsWith("Request:")) return "Revised: no emojis.";
      return `Answer to ${p} 🙂`;
    };
    const set = await generateC3po("No emojis for my boss.", fake, { inScope: 2, outOfScope: 2 });
    expect(set.pairs.map((p) => p.prompt)).toEqual(["Email my boss about Monday", "Ask my boss for leave"]);
    expect(set.pairs[0]!.chosen.text).toBe("Revised: no emojis.");
    expect(set.pairs[0]!.rejected.text).toBe("Answer to Email my boss about Monday 🙂");
    expect(set.sft.map((d) => d.prompt)).toEqual(["Plan a picnic", "Name a cat"]);
    expect(parseList("1) a\n2. b\n* c\nnot this")).toEqual(["a", "b", "c"]);
    await expect(generateC3po("x", async () => "no list here")).rejects.toThrow(/numbered list/);
  });
});

async function readJsonl(path: string): Promise<Array<Record<string, unknown>>> {
  const buf = readFileSync(path);
  const text = (path.endsWith(".gz") ? gunzipSync(buf) : buf).toString("utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("dataset exports, written and read back", () => {
  const build = (format: DatasetFormat, extra: Record<string, unknown> = {}) => buildDataset(fixture().source, { format, ...extra });

  it("every format produces rows", async () => {
    for (const format of DATASET_FORMATS) {
      const d = await build(format);
      expect(d.train.length, format).toBeGreaterThan(0);
    }
  });

  it("TRL preference (standard and conversational, with margin) and unpaired", async () => {
    const d = await build("trl-preference", { marginColumn: true });
    const path = join(dir, "pref.jsonl.gz");
    await writeDatasetFile(path, "trl-preference", d.train);
    const rows = await readJsonl(path);
    expect(rows).toHaveLength(d.train.length);
    expect(rows.every((r) => "prompt" in r && "chosen" in r && "rejected" in r && typeof r.margin === "number")).toBe(true);
    const text = rows.find((r) => r.prompt === "Solve x + 1 = 3.")!;
    expect(text).toMatchObject({ chosen: "x = 2", rejected: "x = 4", margin: 1 });
    const conv = rows.find((r) => Array.isArray(r.prompt))!;
    expect(conv.prompt).toEqual([{ role: "user", content: "Write a haiku about rain." }]);
    expect(conv.chosen).toEqual([{ role: "assistant", content: expect.any(String) }]);

    const u = await build("trl-unpaired");
    const upath = join(dir, "kto.jsonl");
    await writeDatasetFile(upath, "trl-unpaired", u.train);
    const urows = await readJsonl(upath);
    expect(urows.every((r) => typeof r.label === "boolean" && "completion" in r)).toBe(true);
    expect(urows.filter((r) => r.label === true).length).toBeGreaterThan(0);
    expect(urows.filter((r) => r.label === false).length).toBeGreaterThan(0);
    expect(urows).toContainEqual({ prompt: "Solve x + 1 = 3.", completion: "x = 4", label: false });
  });

  it("TRL prompt-only (GRPO/RLOO) and stepwise (PRM)", async () => {
    const p = await build("trl-prompt");
    const path = join(dir, "prompts.jsonl");
    await writeDatasetFile(path, "trl-prompt", p.train);
    const rows = await readJsonl(path);
    expect(rows).toHaveLength(5); // every item, with or without feedback
    expect(rows).toContainEqual({ prompt: "What is 2+2?", ground_truth: "4" });
    expect(rows).toContainEqual({ prompt: "An item nobody gave feedback on." });

    const s = await build("trl-stepwise");
    const spath = join(dir, "prm.jsonl");
    await writeDatasetFile(spath, "trl-stepwise", s.train);
    expect(await readJsonl(spath)).toEqual([
      { prompt: "Explain gravity.", completions: ["Gravity pushes things away.", "It is caused by magnets."], labels: [true, false] },
    ]);
  });

  it("OpenRLHF preference and prompt JSONL", async () => {
    const d = await build("openrlhf-preference");
    const path = join(dir, "orlhf.jsonl");
    await writeDatasetFile(path, "openrlhf-preference", d.train);
    const rows = await readJsonl(path);
    for (const r of rows) {
      expect(Array.isArray(r.prompt) && Array.isArray(r.chosen) && Array.isArray(r.rejected)).toBe(true);
      expect((r.chosen as Array<{ role: string }>)[0]!.role).toBe("assistant");
    }
    expect(rows[0]!.prompt).toEqual([{ role: "user", content: "What is 2+2?" }]);
    const p = await build("openrlhf-prompt");
    const ppath = join(dir, "orlhf-prompts.jsonl");
    await writeDatasetFile(ppath, "openrlhf-prompt", p.train);
    expect(await readJsonl(ppath)).toContainEqual({ input: [{ role: "user", content: "Solve x + 1 = 3." }], label: "x = 2" });
  });

  it("verl of a rule-scored ability refuses prompts without ground truth, naming how many; skip and keep say what they did", async () => {
    const kept = await build("verl", { ability: "general" });
    const gt = kept.report.groundTruth!;
    expect(gt.with).toBeGreaterThan(0);
    expect(gt.without).toBeGreaterThan(0);
    await expect(build("verl", { ability: "math" })).rejects.toThrow(new RegExp(`${gt.without} of ${gt.with + gt.without} prompts have no reference answer`));
    const skipped = await build("verl", { ability: "math", missingGroundTruth: "skip" });
    expect(skipped.report.groundTruth).toEqual({ with: gt.with, without: 0, skipped: gt.without });
    expect(skipped.train.every((r) => (r as { reward_model: { ground_truth: unknown } }).reward_model.ground_truth !== null)).toBe(true);
    expect((await build("verl", { ability: "math", missingGroundTruth: "keep" })).train).toHaveLength(gt.with + gt.without);
  });

  it("says which types of source the examples came from", async () => {
    const d = await build("trl-preference");
    const total = Object.values(d.report.sources).reduce((a, b) => a + b, 0);
    expect(total).toBe(d.train.length);
    expect(Object.keys(d.report.sources).length).toBeGreaterThan(1);
    const judges = await build("trl-preference", { sourceTypes: ["judge"] });
    expect(Object.keys(judges.report.sources)).toEqual(["judge"]);
    expect((await build("verl", { missingGroundTruth: "keep" })).report.sources).toEqual({});
  });

  it("verl parquet with nested prompt messages and reward_model / extra_info structs", async () => {
    const d = await build("verl", { ability: "math", testFraction: 0.4, seed: 3, missingGroundTruth: "keep" });
    expect(d.train.length + d.test.length).toBe(5);
    expect(d.test.length).toBeGreaterThan(0);
    const path = join(dir, "train.parquet");
    await writeDatasetFile(path, "verl", d.train);
    const buf = readFileSync(path);
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const rows = (await parquetReadObjects({ file })) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(d.train.length);
    const norm = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === "bigint" ? Number(x) : x)));
    expect(norm(rows)).toEqual(norm(d.train));
    for (const r of rows) {
      expect(r.ability).toBe("math");
      expect(Array.isArray(r.prompt)).toBe(true);
      expect((r.prompt as Array<{ role: string; content: string }>)[0]).toEqual({ role: "user", content: expect.any(String) });
      expect((r.extra_info as { split: string }).split).toBe("train");
    }
    const math = rows.find((r) => (r.reward_model as { ground_truth: string | null }).ground_truth !== null);
    if (math) expect(math).toMatchObject({ data_source: "math", reward_model: { style: "rule" } });
    const open = rows.find((r) => (r.reward_model as { ground_truth: string | null }).ground_truth === null);
    if (open) expect((open.reward_model as { style: string }).style).toBe("model");
    // Real nested parquet types (what pyarrow / pandas / datasets read as lists of dicts and dicts).
    const schema = parquetMetadata(file).schema;
    const el = (name: string) => schema.find((s) => s.name === name)!;
    expect(el("prompt")).toMatchObject({ converted_type: "LIST", num_children: 1 });
    expect(el("list")).toMatchObject({ repetition_type: "REPEATED", num_children: 1 });
    expect(el("element")).toMatchObject({ num_children: 2 });
    expect(el("reward_model")).toMatchObject({ num_children: 2 });
    expect(el("reward_model").type).toBeUndefined();
    expect(el("extra_info")).toMatchObject({ num_children: 3 });
    expect(el("index")).toMatchObject({ type: "INT64" });
  });

  it("OpenAI SFT and DPO JSONL, and Chain-of-Hindsight rows", async () => {
    const sft = await build("openai-sft");
    const path = join(dir, "sft.jsonl");
    await writeDatasetFile(path, "openai-sft", sft.train);
    const rows = await readJsonl(path);
    expect(rows).toContainEqual({ messages: [{ role: "user", content: "Solve x + 1 = 3." }, { role: "assistant", content: "x = 2" }] });
    const dpo = await build("openai-dpo");
    const dpath = join(dir, "dpo.jsonl");
    await writeDatasetFile(dpath, "openai-dpo", dpo.train);
    for (const r of await readJsonl(dpath)) {
      expect(r).toMatchObject({ input: { messages: expect.any(Array), tools: [], parallel_tool_calls: true } });
      expect((r.preferred_output as Array<{ role: string }>)[0]!.role).toBe("assistant");
      expect((r.non_preferred_output as Array<{ role: string }>)[0]!.role).toBe("assistant");
    }
    const coh = await build("chain-of-hindsight");
    const cpath = join(dir, "coh.jsonl");
    await writeDatasetFile(cpath, "chain-of-hindsight", coh.train);
    const crow = await readJsonl(cpath);
    expect(crow.every((r) => typeof r.prompt === "string" && typeof r.completion === "string")).toBe(true);
  });

  it("filters and splits apply before formatting; reports say what was dropped", async () => {
    const d = await build("trl-preference", { minAgreement: 0.6, lengthBalance: true, testFraction: 0.5, seed: 1 });
    expect(d.report.filter.dropped.map((x) => x.reason)).toContain("merged repeated judgements");
    expect(d.train.length + d.test.length).toBe(d.report.pairs);
    expect(d.report.skipped).toEqual(expect.arrayContaining([{ reason: "tie", count: 1 }]));
  });
});
