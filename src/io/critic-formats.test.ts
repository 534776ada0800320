/**
 * RealCritic solutions and Fine-Grained RLHF QA feedback: what each row becomes, offsets in UTF-16, detection,
 * errors that name the field, and import → rlxf JSONL → import giving the same records.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { parseFeedback, parseGeneration, parseItem } from "../feedback/index.js";
import { EMPTY_CORRECTION, EMPTY_SPAN, codePointToUtf16, detectFormat, exportToString, memorySource, readImportFile, taskFromFileName, type ImportBatch } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-io-critics-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string, gzip = false): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, gzip ? gzipSync(content) : content);
  return path;
}
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

async function errorOf(p: Promise<unknown>): Promise<ValidationError> {
  try {
    await p;
  } catch (e) {
    return e as ValidationError;
  }
  throw new Error("expected a rejection");
}

function expectValid(b: ImportBatch): void {
  for (const i of b.items) expect(parseItem(i)).toEqual(i);
  for (const g of b.generations) expect(parseGeneration(g)).toEqual(g);
  for (const f of b.feedback) expect(parseFeedback(f)).toEqual(f);
}

/** import → export rlxf JSONL → import: the same records, ids included. */
async function roundTrip(b: ImportBatch): Promise<void> {
  const text = await exportToString("rlxf", memorySource(b));
  const again = await readImportFile(file(`rt-${Math.random().toString(36).slice(2)}.jsonl`, text));
  expect(again.format).toBe("rlxf");
  expect(again.items).toEqual(b.items);
  expect(again.generations).toEqual(b.generations);
  expect(again.feedback).toEqual(b.feedback);
}

const solution = (over: Record<string, unknown> = {}) => ({
  idx: 3,
  question: "What is 2 + 3?",
  gt_cot: "2 + 3 = 5",
  gt: "5",
  level: "Level 1",
  pred: "6",
  reasoning: "2 + 3 = 6, so the answer is \\boxed{6}.",
  model: "tiny-math",
  previous_score: [false],
  ...over,
});

describe("RealCritic solutions", () => {
  it("make an item per question, a generation per solution and a verification of its correctness", async () => {
    const path = file("math.jsonl", jsonl([solution(), solution({ idx: 4, question: "What is 1 + 1?", gt: "2", pred: "2", reasoning: "\\boxed{2}", model: "big-math", previous_score: "[True]", extra_note: "x" })]));
    const b = await readImportFile(path);
    expect(b.format).toBe("realcritic");
    expectValid(b);
    expect(b.items).toHaveLength(2);
    expect(b.items[0]).toMatchObject({ prompt: "What is 2 + 3?", reference: "5", dataset: "math", metadata: { task: "math", gt_cot: "2 + 3 = 5", level: "Level 1" } });
    expect(b.generations[0]).toMatchObject({ itemId: b.items[0]!.id, policy: "tiny-math", output: "2 + 3 = 6, so the answer is \\boxed{6}.", metadata: { task: "math", idx: 3, pred: "6" } });
    expect(b.generations[1]!.metadata).toMatchObject({ extra_note: "x" });
    expect(b.feedback.map((f) => [f.kind, f.targets[0], f.source, f.value])).toEqual([
      ["verification", b.generations[0]!.id, { type: "verifier", id: "realcritic" }, { passed: false, score: 0, details: { pred: "6" } }],
      ["verification", b.generations[1]!.id, { type: "verifier", id: "realcritic" }, { passed: true, score: 1, details: { pred: "2" } }],
    ]);
    await roundTrip(b);
    // Reading the file again gives the same ids.
    const again = await readImportFile(path);
    expect(again.feedback.map((f) => f.id)).toEqual(b.feedback.map((f) => f.id));
    expect(again.generations.map((g) => g.id)).toEqual(b.generations.map((g) => g.id));
  });

  it("reads the task from the line, else the file name, else its folder", async () => {
    expect(taskFromFileName("../shared/data/realcritic/arc-challenge.jsonl.gz")).toBe("arc-challenge");
    expect(taskFromFileName("data/mix_data/gsm8k/test.jsonl")).toBe("gsm8k");
    expect(taskFromFileName("test.jsonl")).toBe("realcritic");
    const b = await readImportFile(file("mix/olympiad/test.jsonl.gz", jsonl([solution(), solution({ question: "Q2", task: "gpqa", gt: "C" })]), true));
    expect(b.items.map((i) => i.dataset)).toEqual(["olympiad", "gpqa"]);
  });

  it("takes the solution and prediction as lists of one, as RealCritic's evaluation code writes them", async () => {
    const b = await readImportFile(file("lists.jsonl", jsonl([solution({ reasoning: ["\\boxed{5}"], pred: ["5"], gt: 5, previous_score: [true] })])));
    expect(b.generations[0]).toMatchObject({ output: "\\boxed{5}", metadata: { pred: "5" } });
    expect(b.items[0]!.reference).toBe("5");
    const e = await errorOf(readImportFile(file("lists-bad.jsonl", jsonl([solution({ reasoning: ["a", "b"] })]))));
    expect(e.issues[0]).toEqual({ path: "reasoning", message: "must be a string (or a list of one), got a list of 2" });
  });

  it("reads previous_score as a boolean, 0/1, a list or its Python string form", async () => {
    const forms: Array<[unknown, boolean]> = [[true, true], [0, false], ["[False]", false], ["[True, True]", true], [[1], true], ["True", true]];
    const rows = forms.map(([s], i) => solution({ question: `Q${i}`, previous_score: s }));
    const b = await readImportFile(file("forms.jsonl", jsonl(rows)));
    expect(b.feedback.map((f) => (f.value as { passed: boolean }).passed)).toEqual(forms.map(([, c]) => c));
  });

  it("names the line and field of a bad row, and keeps nothing", async () => {
    const e = await errorOf(readImportFile(file("bad.jsonl", jsonl([solution(), solution({ question: "Q2", previous_score: "[True, False]" })]))));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toMatch(/line 2/);
    expect(e.issues[0]!.path).toBe("previous_score");
    expect(e.message).toMatch(/disagree/);
    const e2 = await errorOf(readImportFile(file("bad2.jsonl", jsonl([solution({ reasoning: 7 })]))));
    expect(e2.issues[0]).toEqual({ path: "reasoning", message: "must be a string, got number" });
    const e3 = await errorOf(readImportFile(file("bad3.jsonl", jsonl([solution({ previous_score: "maybe" })]))));
    expect(e3.issues[0]!.path).toBe("previous_score");
  });
});

const EMOJI_ANSWER = "Tea 🍵 is brewed. It came from 中国 in 🕰️ times. Coffee is unrelated.";

const question = (over: Record<string, unknown> = {}) => ({
  question: "Where does tea come from?",
  passages: [
    ["Tea", "Tea is an aromatic beverage.", "It originated in southwest China."],
    ["Camellia sinensis", "The plant is an evergreen shrub.", "It is native to East Asia."],
  ],
  gold: "Tea originated in southwest China.",
  "prediction 1": EMOJI_ANSWER,
  "prediction 2": "Tea comes from China.",
  "prediction 3": "Tea comes from India.",
  "prediction 4": "Tea comes from China.",
  feedback: {
    errors: [
      // Python offsets (code points) of "It came from 中国 in 🕰️ times." and "Coffee is unrelated."
      { "error type": "Unverifiable", explanation: "", start: 17, end: 45 },
      { "error type": "Irrelevant", explanation: "not asked", start: 46, end: 66 },
    ],
    "missing-info": [{ "error type": "Missing-Answer", passage_id: 1, sentence_id: [2] }],
    "corrected-prediction": "Tea originated in southwest China.",
  },
  preference: [2, 2, 2, 1, 0, 2],
  ...over,
});

describe("Fine-Grained RLHF QA feedback", () => {
  it("converts code-point offsets to UTF-16", () => {
    const map = codePointToUtf16(EMOJI_ANSWER);
    const cps = [...EMOJI_ANSWER];
    expect(cps.slice(17, 45).join("")).toBe("It came from 中国 in 🕰️ times.");
    expect(EMOJI_ANSWER.slice(map(17)!, map(45)!)).toBe("It came from 中国 in 🕰️ times.");
    expect(map(cps.length)).toBe(EMOJI_ANSWER.length);
    expect(map(cps.length + 1)).toBeUndefined();
    expect(codePointToUtf16("plain")(3)).toBe(3);
  });

  it("makes spans, a correction, a missing-information critique and six pairwise records with ties", async () => {
    const b = await readImportFile(file("qa.json", JSON.stringify([question()])));
    expect(b.format).toBe("qa-feedback");
    expectValid(b);
    expect(b.items).toHaveLength(1);
    expect(b.items[0]).toMatchObject({ prompt: "Where does tea come from?", reference: "Tea originated in southwest China.", dataset: "qa-feedback" });
    expect(b.items[0]!.metadata!.passages).toEqual(question().passages);
    expect(b.generations.map((g) => [g.output, g.metadata])).toEqual([1, 2, 3, 4].map((k) => [question()[`prediction ${k}` as "prediction 1"], { prediction: k }]));
    const [g1, g2, g3, g4] = b.generations.map((g) => g.id);
    const byKind = (k: string) => b.feedback.filter((f) => f.kind === k);

    const [spans] = byKind("spans");
    expect(spans!.targets).toEqual([g1]);
    const sp = (spans!.value as { spans: Array<{ start: number; end: number; label: string; comment?: string }> }).spans;
    expect(sp.map((s) => [EMOJI_ANSWER.slice(s.start, s.end), s.label, s.comment])).toEqual([
      ["It came from 中国 in 🕰️ times.", "Unverifiable", undefined],
      ["Coffee is unrelated.", "Irrelevant", "not asked"],
    ]);
    expect(byKind("correction").map((f) => [f.targets, f.value])).toEqual([[[g1], { output: "Tea originated in southwest China." }]]);
    const [crit] = byKind("critique");
    expect(crit!.value).toMatchObject({ weaknesses: ["Missing-Answer: It originated in southwest China."] });
    expect(crit!.metadata).toEqual({ missing: [{ type: "Missing-Answer", passage: 1, sentences: [2] }] });
    expect(byKind("pairwise").map((f) => [f.targets, (f.value as { choice: string }).choice, f.metadata?.comparison])).toEqual([
      [[g1, g2], "second", "1vs2"],
      [[g1, g3], "second", "1vs3"],
      [[g1, g4], "second", "1vs4"],
      [[g2, g3], "first", "2vs3"],
      [[g2, g4], "tie", "2vs4"],
      [[g3, g4], "second", "3vs4"],
    ]);
    for (const f of b.feedback) expect(f.source).toEqual({ type: "human", id: "qa-feedback" });
    // Predictions 2 and 4 have the same text but stay two generations.
    expect(g2).not.toBe(g4);
    await roundTrip(b);
  });

  it("skips zero-length spans and empty corrections with a count, and refuses spans outside the answer", async () => {
    const q = question();
    const b = await readImportFile(
      file("qa-skip.json", JSON.stringify([{ ...q, feedback: { ...q.feedback, errors: [{ "error type": "Redundant", start: 5, end: 5 }], "corrected-prediction": "", "missing-info": [] } }])),
    );
    expect(b.skipped).toEqual([
      { reason: EMPTY_SPAN, count: 1 },
      { reason: EMPTY_CORRECTION, count: 1 },
    ]);
    expect(b.feedback.filter((f) => f.kind === "spans").map((f) => f.value)).toEqual([{ spans: [] }]);
    expect(b.feedback.filter((f) => f.kind === "critique" || f.kind === "correction")).toHaveLength(0);

    const len = [...EMOJI_ANSWER].length;
    const e = await errorOf(readImportFile(file("qa-bad.json", JSON.stringify([{ ...q, feedback: { ...q.feedback, errors: [{ "error type": "Irrelevant", start: 10, end: len + 1 }] } }]))));
    expect(e.issues[0]!.path).toBe("feedback.errors.0.end");
    expect(e.message).toMatch(/index 0/);
    const e2 = await errorOf(readImportFile(file("qa-bad2.json", JSON.stringify([{ ...q, preference: [1, 2, 3, 0, 0, 0] }]))));
    expect(e2.issues[0]!.path).toBe("preference.2");
    const e3 = await errorOf(readImportFile(file("qa-bad3.json", JSON.stringify([{ ...q, feedback: { ...q.feedback, "missing-info": [{ "error type": "Missing-Answer", passage_id: 3, sentence_id: [1] }] } }]))));
    expect(e3.issues[0]!.path).toBe("feedback.missing-info.0.passage_id");
  });

  it("is told apart from the other formats by its fields", () => {
    expect(detectFormat(question())).toBe("qa-feedback");
    expect(detectFormat(solution())).toBe("realcritic");
    expect(detectFormat({ question: "q", gt: "1" })).toBeUndefined();
  });
});
