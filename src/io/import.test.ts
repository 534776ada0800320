import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { RlxfError, ValidationError } from "../errors.js";
import { parseFeedback, parseGeneration, parseItem } from "../feedback/index.js";
import {
  NULL_PREFERENCE,
  detectFormat,
  isGzipFile,
  mergeBatches,
  readImportFile,
  readImportStream,
  type ImportBatch,
} from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-io-import-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Write `content` (string, or records joined as JSONL) to a fresh temp file. */
function file(name: string, content: string | unknown[], gzip = false): string {
  const text = typeof content === "string" ? content : content.map((r) => JSON.stringify(r)).join("\n") + "\n";
  const path = join(dir, `${n++}-${name}`);
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return path;
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

/** Every record of the batch passes the feedback room's parsers unchanged. */
function expectValid(b: ImportBatch): void {
  for (const i of b.items) expect(parseItem(i)).toEqual(i);
  for (const g of b.generations) expect(parseGeneration(g)).toEqual(g);
  for (const f of b.feedback) expect(parseFeedback(f)).toEqual(f);
  expect(b.labels.items).toHaveLength(b.items.length);
  expect(b.labels.generations).toHaveLength(b.generations.length);
  expect(b.labels.feedback).toHaveLength(b.feedback.length);
}

const alpacaRow = (over: Record<string, unknown> = {}) => ({
  dataset: "helpful_base",
  instruction: "Name a colour.",
  output_1: "Blue.",
  generator_1: "baseline",
  output_2: "Red.",
  generator_2: "model",
  annotator: "judge_v1",
  preference: 1.25,
  ...over,
});

describe("reading files", () => {
  it("detects gzip by magic bytes, whatever the name", async () => {
    const rows = [{ prompt: "p", chosen: "a", rejected: "b" }];
    const gzNoExt = file("data.jsonl", rows, true);
    const plainGzName = file("data.jsonl.gz", rows, false);
    const gz = file("data.jsonl.gz", rows, true);
    expect(await isGzipFile(gzNoExt)).toBe(true);
    expect(await isGzipFile(plainGzName)).toBe(false);
    for (const p of [gzNoExt, plainGzName, gz]) {
      const b = await readImportFile(p);
      expect(b.format).toBe("trl-preference");
      expect(b.feedback).toHaveLength(1);
    }
    const a = await readImportFile(gzNoExt);
    const b = await readImportFile(plainGzName);
    expect(a.feedback).toEqual(b.feedback);
  });

  it("reads JSON arrays and JSON Lines (blank lines, CRLF, BOM)", async () => {
    const rows = [
      { prompt: "p1", chosen: "a", rejected: "b" },
      { prompt: "p2", chosen: "c", rejected: "d" },
    ];
    const arr = await readImportFile(file("a.json", JSON.stringify(rows, null, 2)));
    const lines = await readImportFile(file("b.jsonl", "\uFEFF" + rows.map((r) => JSON.stringify(r)).join("\r\n\r\n") + "\r\n"));
    expect(arr.feedback).toEqual(lines.feedback);
    expect(arr.labels.feedback[1]).toMatch(/a\.json index 1$/);
    expect(lines.labels.feedback[1]).toMatch(/b\.jsonl line 3$/);
  });

  it("reads from a stream (gzip detected there too)", async () => {
    const text = JSON.stringify({ prompt: "p", chosen: "a", rejected: "b" }) + "\n";
    async function* chunks(buf: Buffer) {
      for (let i = 0; i < buf.length; i += 7) yield buf.subarray(i, i + 7);
    }
    const a = await readImportStream(chunks(Buffer.from(text)), "stdin");
    const b = await readImportStream(chunks(gzipSync(text)), "stdin");
    expect(a.feedback).toHaveLength(1);
    expect(b.feedback).toEqual(a.feedback);
    expect(a.labels.feedback[0]).toBe("stdin line 1");
  });

  it("a corrupt or truncated gzip file is a clear error", async () => {
    const gz = gzipSync(JSON.stringify({ prompt: "p", chosen: "a", rejected: "b" }).repeat(50));
    for (const bytes of [gz.subarray(0, gz.length - 20), Buffer.concat([gz.subarray(0, 12), Buffer.alloc(40, 7)])]) {
      const p = join(dir, `${n++}-broken.jsonl.gz`);
      writeFileSync(p, bytes);
      const e = await errorOf(readImportFile(p));
      expect(e).toBeInstanceOf(RlxfError);
      expect(e.message).toContain("broken.jsonl.gz");
    }
  });

  it("an unknown format name is refused with the supported list", async () => {
    const p = file("t.jsonl", [{ prompt: "p", chosen: "a", rejected: "b" }]);
    const e = await errorOf(readImportFile(p, { format: "csv" as never }));
    expect((e as RlxfError).code).toBe("unknown_format");
    expect(e.message).toContain("alpaca-eval");
  });

  it("names a missing file", async () => {
    const e = await errorOf(readImportFile(join(dir, "nope.jsonl")));
    expect(e).toBeInstanceOf(RlxfError);
    expect(e.message).toContain("nope.jsonl");
  });

  it("rejects bad JSON naming the file and the line", async () => {
    const p = file("bad.jsonl", '{"prompt":"p","chosen":"a","rejected":"b"}\n\n{"prompt": oops}\n');
    const e = await errorOf(readImportFile(p));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toContain("bad.jsonl line 3");
    expect(e.message).toContain("not valid JSON");
  });

  it("rejects a broken JSON array naming the file", async () => {
    const e = await errorOf(readImportFile(file("bad.json", '[{"instruction": "x",\n "output_1": }]')));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toContain("bad.json");
    expect(e.message).toContain("line 2");
  });
});

describe("format detection", () => {
  it("tells each format from its first record", () => {
    expect(detectFormat(alpacaRow())).toBe("alpaca-eval");
    expect(detectFormat({ prompt: "p", chosen: "a", rejected: "b" })).toBe("trl-preference");
    expect(detectFormat({ chosen: "The sky is blue", rejected: "The sky is green" })).toBe("trl-preference");
    expect(
      detectFormat({ chosen: [{ role: "user", content: "hi" }, { role: "assistant", content: "a" }], rejected: [] }),
    ).toBe("trl-preference");
    expect(detectFormat({ chosen: "\n\nHuman: hi\n\nAssistant: a", rejected: "\n\nHuman: hi\n\nAssistant: b" })).toBe(
      "anthropic-hh",
    );
    expect(detectFormat({ id: "i1", prompt: "p" })).toBe("rlxf");
    expect(detectFormat({ id: "g1", itemId: "i1", policy: "m", output: "o" })).toBe("rlxf");
    expect(detectFormat({ id: "f1", kind: "binary", targets: ["g1"], source: { type: "user", id: "u" }, value: { ok: true } })).toBe(
      "rlxf",
    );
    expect(detectFormat({ question: "q", answer: "a" })).toBeUndefined();
    expect(detectFormat([1, 2])).toBeUndefined();
  });

  it("detects formats of whole files, skipping leading blank lines", async () => {
    expect((await readImportFile(file("a.json", JSON.stringify([alpacaRow()])))).format).toBe("alpaca-eval");
    expect((await readImportFile(file("t.jsonl", "\n\n" + JSON.stringify({ prompt: "p", chosen: "a", rejected: "b" })))).format).toBe(
      "trl-preference",
    );
    const hh = { chosen: "\n\nHuman: hi\n\nAssistant: a", rejected: "\n\nHuman: hi\n\nAssistant: b" };
    expect((await readImportFile(file("hh.jsonl", [hh]))).format).toBe("anthropic-hh");
    expect((await readImportFile(file("r.jsonl", [{ id: "i1", prompt: "p" }]))).format).toBe("rlxf");
  });

  it("an unknown format throws a clear error listing the supported formats", async () => {
    const e = await errorOf(readImportFile(file("qa.jsonl", [{ question: "q", answer: "a" }])));
    expect(e).toBeInstanceOf(RlxfError);
    expect((e as RlxfError).code).toBe("unknown_format");
    for (const s of ["qa.jsonl", '"question"', "alpaca-eval", "trl-preference", "anthropic-hh", "rlxf"]) expect(e.message).toContain(s);
  });

  it("an empty file has no format to detect, but reads as empty with one given", async () => {
    const p = file("empty.jsonl", "\n \n");
    expect(await errorOf(readImportFile(p))).toBeInstanceOf(RlxfError);
    const b = await readImportFile(p, { format: "rlxf" });
    expect(b.items).toEqual([]);
    expect(b.feedback).toEqual([]);
  });
});

describe("alpaca-eval", () => {
  it("maps rows to items, generations and pairwise feedback", async () => {
    const b = await readImportFile(file("ann.json", JSON.stringify([alpacaRow()])));
    expectValid(b);
    expect(b.items).toEqual([
      { id: expect.stringMatching(/^it_[0-9a-f]{24}$/), project: "default", prompt: "Name a colour.", dataset: "helpful_base" },
    ]);
    expect(b.generations.map((g) => [g.policy, g.output, g.itemId])).toEqual([
      ["baseline", "Blue.", b.items[0]!.id],
      ["model", "Red.", b.items[0]!.id],
    ]);
    const f = b.feedback[0]!;
    expect(f).toMatchObject({
      kind: "pairwise",
      itemId: b.items[0]!.id,
      targets: [b.generations[0]!.id, b.generations[1]!.id],
      source: { type: "judge", id: "judge_v1" },
      value: { choice: "first", pSecond: 0.25 },
    });
    expect(f.metadata).toBeUndefined();
  });

  it("reads numeric-string preferences, draws (1.5 and 0) and extra columns", async () => {
    const rows = [
      alpacaRow({ preference: "1.0000001827" }),
      alpacaRow({ output_2: "Green.", preference: 1.5 }),
      alpacaRow({ output_2: "Pink.", preference: 0 }),
      alpacaRow({ output_2: "Grey.", preference: 2, raw_completion: "m" }),
      alpacaRow({ output_2: "Teal.", preference: "1.75" }),
    ];
    const b = await readImportFile(file("ann.json", JSON.stringify(rows)));
    expectValid(b);
    expect(b.feedback.map((f) => f.value)).toEqual([
      { choice: "first", pSecond: 1.0000001827 - 1 },
      { choice: "tie", pSecond: 0.5 },
      { choice: "tie", pSecond: 0.5 },
      { choice: "second", pSecond: 1 },
      { choice: "second", pSecond: 0.75 },
    ]);
    expect(b.feedback[3]!.metadata).toEqual({ raw_completion: "m" });
    expect(b.items).toHaveLength(1);
    expect(b.generations).toHaveLength(6); // one shared baseline output + five model outputs
  });

  it("a null preference makes the item and generations but no feedback, counted in skipped", async () => {
    const rows = [alpacaRow({ preference: null }), alpacaRow({ output_2: "Green.", preference: "NaN" }), alpacaRow({ output_2: "Pink." })];
    const b = await readImportFile(file("ann.json", JSON.stringify(rows)));
    expect(b.feedback).toHaveLength(1);
    expect(b.generations).toHaveLength(4);
    expect(b.skipped).toEqual([{ reason: NULL_PREFERENCE, count: 2 }]);
  });

  it("rejects bad preferences and missing fields, naming the index and the field", async () => {
    const bad = async (row: Record<string, unknown>, field: string) => {
      const e = await errorOf(readImportFile(file("ann.json", JSON.stringify([alpacaRow(), row]))));
      expect(e).toBeInstanceOf(ValidationError);
      expect(e.message).toContain("ann.json index 1");
      expect(e.message).toContain(field);
      expect((e as ValidationError).issues[0]!.path).toBe(field);
    };
    await bad(alpacaRow({ preference: 2.5 }), "preference");
    await bad(alpacaRow({ preference: "better" }), "preference");
    await bad(alpacaRow({ preference: true }), "preference");
    await bad(alpacaRow({ preference: undefined }), "preference");
    await bad(alpacaRow({ output_2: 3 }), "output_2");
    await bad(alpacaRow({ generator_1: "" }), "generator_1");
    await bad(alpacaRow({ instruction: undefined }), "instruction");
  });

  it("one instruction is one item and one output one generation across files", async () => {
    const a = await readImportFile(file("m1.json", JSON.stringify([alpacaRow({ generator_2: "m1", output_2: "Red." })])));
    const b = await readImportFile(file("m2.json", JSON.stringify([alpacaRow({ generator_2: "m2", output_2: "Green." })])));
    expect(a.items[0]!.id).toBe(b.items[0]!.id);
    expect(a.generations[0]!.id).toBe(b.generations[0]!.id); // the shared baseline
    const m = mergeBatches([a, b]);
    expect(m.items).toHaveLength(1);
    expect(m.generations).toHaveLength(3);
    expect(m.feedback).toHaveLength(2);
  });

  it("keeps both sides distinct when a row compares an output with itself", async () => {
    const b = await readImportFile(file("ann.json", JSON.stringify([alpacaRow({ output_2: "Blue.", generator_2: "baseline", preference: 1.5 })])));
    expectValid(b);
    expect(b.generations).toHaveLength(2);
    expect(new Set(b.feedback[0]!.targets).size).toBe(2);
  });

  it("a source option sets the type and fills a missing annotator", async () => {
    const b = await readImportFile(file("ann.json", JSON.stringify([alpacaRow({ annotator: undefined })])), {
      source: { type: "human", id: "crowd" },
      project: "p1",
    });
    expect(b.feedback[0]!.source).toEqual({ type: "human", id: "crowd" });
    expect(b.feedback[0]!.project).toBe("p1");
    expect(b.items[0]!.project).toBe("p1");
  });
});

describe("trl-preference", () => {
  it("reads the standard form with default source, extra columns to metadata", async () => {
    const b = await readImportFile(file("t.jsonl", [{ prompt: "The sky is", chosen: " blue.", rejected: " green.", margin: 0.5, id: "r1" }]));
    expectValid(b);
    expect(b.items[0]!.prompt).toBe("The sky is");
    expect(b.generations.map((g) => [g.output, g.policy])).toEqual([
      [" blue.", "unknown"],
      [" green.", "unknown"],
    ]);
    expect(b.feedback[0]).toMatchObject({
      kind: "pairwise",
      source: { type: "human", id: "import" },
      value: { choice: "first" },
      metadata: { margin: 0.5, id: "r1" },
    });
  });

  it("reads the conversational form", async () => {
    const row = {
      prompt: [{ role: "user", content: "What colour is the sky?" }],
      chosen: [{ role: "assistant", content: "Blue." }],
      rejected: [{ role: "assistant", content: "Green." }],
    };
    const b = await readImportFile(file("c.jsonl", [row]), { source: { type: "user", id: "u1" }, policy: "m" });
    expectValid(b);
    expect(b.items[0]!.prompt).toEqual(row.prompt);
    expect(b.generations.map((g) => [g.output, g.policy, g.metadata])).toEqual([
      ["Blue.", "m", undefined],
      ["Green.", "m", undefined],
    ]);
    expect(b.feedback[0]!.source).toEqual({ type: "user", id: "u1" });
  });

  it("splits an implicit prompt off strings and conversations", async () => {
    const b = await readImportFile(
      file("i.jsonl", [
        { chosen: "The sky is blue.", rejected: "The sky is green." },
        {
          chosen: [
            { role: "user", content: "hi" },
            { role: "assistant", content: "hello" },
          ],
          rejected: [
            { role: "user", content: "hi" },
            { role: "assistant", content: "go away" },
          ],
        },
      ]),
    );
    expectValid(b);
    expect(b.items.map((i) => i.prompt)).toEqual(["The sky is", [{ role: "user", content: "hi" }]]);
    expect(b.generations.map((g) => g.output)).toEqual([" blue.", " green.", "hello", "go away"]);
  });

  it("keeps multi-message completions whole in generation metadata", async () => {
    const chosen = [
      { role: "assistant", content: "Let me check.", tool_calls: [{ id: "c1" }] },
      { role: "tool", content: "42" },
      { role: "assistant", content: "It is 42." },
    ];
    const b = await readImportFile(file("m.jsonl", [{ prompt: [{ role: "user", content: "q" }], chosen, rejected: [{ role: "assistant", content: "No idea." }] }]));
    expectValid(b);
    expect(b.generations[0]!.output).toBe("It is 42.");
    expect(b.generations[0]!.metadata).toEqual({ messages: chosen });
  });

  it("a line missing `rejected` names the line and the field", async () => {
    const rows = [
      { prompt: "a", chosen: "x", rejected: "y" },
      { prompt: "b", chosen: "x", rejected: "y" },
      { prompt: "c", chosen: "x" },
    ];
    const e = await errorOf(readImportFile(file("missing.jsonl", rows)));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toContain("missing.jsonl line 3");
    expect(e.message).toContain("rejected");
    expect((e as ValidationError).issues[0]!.path).toBe("rejected");
  });

  it("names mistyped fields inside messages", async () => {
    const row = { prompt: [{ role: "user", content: "q" }], chosen: [{ role: "assistant", content: 1 }], rejected: "y" };
    const e = await errorOf(readImportFile(file("typed.jsonl", [row])));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toContain("line 1");
    expect((e as ValidationError).issues[0]!.path).toBe("chosen.0.content");
  });

  it("identical rows stay distinct feedback; identical sides stay distinct generations", async () => {
    const row = { prompt: "p", chosen: "same", rejected: "same" };
    const b = await readImportFile(file("dup.jsonl", [row, row]));
    expectValid(b);
    expect(b.feedback).toHaveLength(2);
    expect(b.feedback[0]!.id).not.toBe(b.feedback[1]!.id);
    expect(b.generations).toHaveLength(2);
    expect(b.feedback[0]!.targets).toEqual(b.feedback[1]!.targets);
  });
});

describe("anthropic-hh", () => {
  const dlg = (reply: string) =>
    `\n\nHuman: Hi there\n\nAssistant: Hello! How can I help?\n\nHuman: Tell me a joke.\n\nAssistant: ${reply}`;

  it("splits the shared dialogue into chat messages and the final replies", async () => {
    const b = await readImportFile(file("hh.jsonl", [{ chosen: dlg("Why did the chicken..."), rejected: dlg("No.") }]));
    expectValid(b);
    expect(b.format).toBe("anthropic-hh");
    expect(b.items[0]!.prompt).toEqual([
      { role: "user", content: "Hi there" },
      { role: "assistant", content: "Hello! How can I help?" },
      { role: "user", content: "Tell me a joke." },
    ]);
    expect(b.generations.map((g) => g.output)).toEqual(["Why did the chicken...", "No."]);
    expect(b.feedback[0]).toMatchObject({ source: { type: "human", id: "hh-rlhf" }, value: { choice: "first" } });
  });

  it("keeps duplicate rows and identical replies as distinct records", async () => {
    const row = { chosen: dlg("A"), rejected: dlg("B") };
    const same = { chosen: dlg("C"), rejected: dlg("C") };
    const b = await readImportFile(file("hh.jsonl", [row, row, same, same]));
    expectValid(b);
    expect(b.feedback).toHaveLength(4);
    expect(new Set(b.feedback.map((f) => f.id)).size).toBe(4);
    for (const f of b.feedback) expect(f.targets[0]).not.toBe(f.targets[1]);
    const again = await readImportFile(file("hh.jsonl", [row, row, same, same]));
    expect(again.feedback.map((f) => f.id)).toEqual(b.feedback.map((f) => f.id));
  });

  it("rejects dialogues that share no assistant turn", async () => {
    const e = await errorOf(
      readImportFile(file("hh.jsonl", [{ chosen: dlg("A"), rejected: dlg("B") }, { chosen: "\n\nHuman: a\n\nAssistant: b", rejected: "\n\nHuman: c\n\nAssistant: d" }])),
    );
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toContain("line 2");
    expect(e.message).toContain("chosen");
  });
});

describe("rlxf", () => {
  const records = [
    { id: "i1", prompt: "2+2?", dataset: "math" },
    { id: "g1", itemId: "i1", policy: "m1", output: "4" },
    { id: "g2", itemId: "i1", policy: "m2", output: "5" },
    { id: "f1", kind: "pairwise", targets: ["g1", "g2"], source: { type: "judge", id: "j" }, value: { choice: "first", pSecond: 0.1 } },
    { id: "f2", kind: "verification", targets: ["g2"], source: { type: "verifier", id: "exact" }, value: { passed: false } },
  ];

  it("reads each record by its fields", async () => {
    const b = await readImportFile(file("r.jsonl", records));
    expectValid(b);
    expect(b.items.map((i) => i.id)).toEqual(["i1"]);
    expect(b.generations.map((g) => g.id)).toEqual(["g1", "g2"]);
    expect(b.feedback.map((f) => f.id)).toEqual(["f1", "f2"]);
    expect(b.labels.generations).toEqual([expect.stringMatching(/line 2$/), expect.stringMatching(/line 3$/)]);
  });

  it("reports the schema's own field errors with the line", async () => {
    const bad = [...records.slice(0, 3), { ...records[3], value: { choice: "first", pSecond: 0.9 } }];
    const e = await errorOf(readImportFile(file("r.jsonl", bad)));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toContain("line 4");
    expect(e.message).toContain("value.pSecond");
  });

  it("rejects an id repeated with a different body", async () => {
    const e = await errorOf(readImportFile(file("r.jsonl", [records[0], { id: "i1", prompt: "other" }])));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toContain("line 2");
    expect(e.message).toContain("line 1");
  });

  it("gives records without ids deterministic ones", async () => {
    const noIds = [{ prompt: "q" }, { itemId: "i", policy: "m", output: "o" }];
    const a = await readImportFile(file("r.jsonl", noIds));
    const b = await readImportFile(file("r.jsonl", noIds));
    expect(a.items[0]!.id).toMatch(/^it_/);
    expect(a.generations[0]!.id).toMatch(/^gen_/);
    expect(b).toEqual({ ...a, labels: b.labels });
  });
});

describe("idempotent ids", () => {
  it("reading the same content twice gives the same records and ids", async () => {
    const rows = [alpacaRow(), alpacaRow({ instruction: "Name a fruit.", output_1: "Apple.", output_2: "Pear.", preference: 1.9 })];
    const a = await readImportFile(file("a.json", JSON.stringify(rows)));
    const b = await readImportFile(file("b.json.gz", JSON.stringify(rows), true));
    expect(b.items).toEqual(a.items);
    expect(b.generations).toEqual(a.generations);
    expect(b.feedback).toEqual(a.feedback);
  });

  it("ids depend on the project", async () => {
    const p = file("t.jsonl", [{ prompt: "p", chosen: "a", rejected: "b" }]);
    const a = await readImportFile(p);
    const b = await readImportFile(p, { project: "other" });
    expect(a.items[0]!.id).not.toBe(b.items[0]!.id);
    expect(a.feedback[0]!.id).not.toBe(b.feedback[0]!.id);
  });
});
