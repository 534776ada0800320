/**
 * Critiques to spans: quotes, lexical and embedding alignment, repetition, missing content, provenance; span
 * precision/recall/F1; passages read from every accepted shape.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResolvedFeedback } from "../../feedback/schema.js";
import { type FakeServer, startFakeModelServer } from "../../providers/testing/index.js";
import { openAiEmbedder } from "../features/embedding.js";
import { alignCritique, critiquePhrases, findAll, labelCues, spanScores } from "./align.js";
import { spansFromCritiques } from "./critiques.js";
import { bestSupport, indexPassages, MAX_PASSAGE_SENTENCES, passagesOf, readPassages, tokenView } from "./grounding.js";

const OUTPUT =
  "Bloom is the second studio album by Troye Sivan, released on 31 August 2018. " +
  "The album features guest appearances from Gordi and Ariana Grande. " +
  "The lead single was released on 10 January 2018. " +
  "Bloom is the second studio album by Troye Sivan.";

describe("critiquePhrases", () => {
  it("reads weaknesses and strengths, labels by cue or Label: prefix, and sets polarity", () => {
    const ps = critiquePhrases({
      text: "ignored when lists are given",
      weaknesses: ['The sentence about "Gordi" is irrelevant to the question.', "Incorrect: the lead single came out in 2017.", "It leaves out the fourth single."],
      strengths: ["The release date is correct."],
    });
    expect(ps.map((p) => [p.from, p.polarity, p.label, p.missing])).toEqual([
      ["weakness", -1, "irrelevant", false],
      ["weakness", -1, "incorrect", false],
      ["weakness", -1, "error", true],
      ["strength", 1, "good", false],
    ]);
    expect(ps[0]!.quotes).toEqual(["Gordi"]);
  });

  it("cuts a plain critique into lines and sentences, leaving neutral ones unaligned", () => {
    const ps = critiquePhrases({ text: "- The answer repeats itself. It is long.\n- Well written overall." });
    expect(ps.map((p) => [p.text, p.polarity, p.label])).toEqual([
      ["The answer repeats itself.", -1, "redundant"],
      ["It is long.", 0, undefined],
      ["Well written overall.", 1, "good"],
    ]);
  });
});

describe("alignCritique", () => {
  it("takes quoted text exactly, ignoring case and spacing", async () => {
    expect(findAll(OUTPUT, "gordi and  ARIANA grande")).toEqual([[OUTPUT.indexOf("Gordi"), OUTPUT.indexOf("Grande") + 6]]);
    const { spans } = await alignCritique(OUTPUT, { text: "", weaknesses: ['Unsupported: "guest appearances from Gordi" is not in the passages.'] });
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ label: "unsupported", score: -1, method: "quote", confidence: 1 });
    expect(OUTPUT.slice(spans[0]!.start, spans[0]!.end)).toBe("guest appearances from Gordi");
  });

  it("aligns an unquoted phrase with the sentence whose words it shares, and skips what matches nothing", async () => {
    const { spans, phrases } = await alignCritique(OUTPUT, {
      text: "",
      weaknesses: ["The lead single date of 10 January 2018 is wrong.", "Something about penguins in Antarctica is incorrect.", "It is missing the track list."],
    });
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ label: "incorrect", method: "lexical" });
    expect(OUTPUT.slice(spans[0]!.start, spans[0]!.end)).toBe("The lead single was released on 10 January 2018.");
    expect(phrases.map((p) => p.skipped)).toEqual([undefined, "no match", "missing content"]);
  });

  it("marks the later copy of repeated content, not the first mention", async () => {
    const { spans } = await alignCritique(OUTPUT, { text: "", weaknesses: ['Redundant: repeats "Bloom is the second studio album by Troye Sivan"'] });
    expect(spans).toHaveLength(1);
    expect(spans[0]!.label).toBe("redundant");
    expect(spans[0]!.start).toBeGreaterThan(OUTPUT.indexOf("The lead single"));
    expect(OUTPUT.slice(spans[0]!.start, spans[0]!.end)).toBe("Bloom is the second studio album by Troye Sivan");
  });

  it("uses a taxonomy's own labels, by name or prefix", async () => {
    const labels = labelCues(["Irrelevant", "Wrong-Grounding"], { contradiction: ["Wrong-Grounding"] });
    const { spans } = await alignCritique(OUTPUT, { text: "", weaknesses: ["Wrong-Grounding: the passage says the lead single was released on 10 January 2017.", "The guest appearances from Gordi and Ariana Grande are irrelevant."] }, { labels });
    expect(spans.map((s) => [s.label, OUTPUT.slice(s.start, s.end)])).toEqual([
      ["Irrelevant", "The album features guest appearances from Gordi and Ariana Grande."],
      ["Wrong-Grounding", "The lead single was released on 10 January 2018."],
    ]);
  });

  describe("with embeddings from a local OpenAI-compatible server", () => {
    let server: FakeServer;
    // A bag-of-concepts embedding: synonyms share a dimension, so a paraphrase with no shared word still matches.
    const CONCEPTS = [/single|song|track/i, /january|winter/i, /guest|featur|appearance|collaborat/i, /album|record/i, /sivan|troye|singer/i];
    const embed = (t: string) => CONCEPTS.map((re) => (re.test(t) ? 1 : 0.01));
    beforeAll(async () => {
      server = await startFakeModelServer({ respond: (r) => ({ embeddings: (r.body.input as string[]).map(embed) }) });
    });
    afterAll(() => server.close());

    it("aligns a paraphrase that shares no content word with the output", async () => {
      const embedder = openAiEmbedder({ baseUrl: server.baseUrl, model: "concepts" });
      const weakness = "The collaborators named are wrong.";
      const lexOnly = await alignCritique(OUTPUT, { text: "", weaknesses: [weakness] });
      expect(lexOnly.spans).toEqual([]);
      const { spans } = await alignCritique(OUTPUT, { text: "", weaknesses: [weakness] }, { embedder });
      expect(spans).toHaveLength(1);
      expect(spans[0]!.method).toBe("embedding");
      expect(OUTPUT.slice(spans[0]!.start, spans[0]!.end)).toContain("guest appearances");
      expect(server.requests.filter((r) => r.api === "embeddings")).toHaveLength(1);
    });
  });
});

describe("spansFromCritiques", () => {
  it("turns a critique into a spans record with provenance and a content-hash id", async () => {
    const r: ResolvedFeedback = {
      item: { id: "it1", project: "default", prompt: "Tell me about Bloom." },
      targets: [{ id: "g1", project: "default", itemId: "it1", policy: "p", output: OUTPUT }],
      feedback: {
        id: "fb-c",
        project: "default",
        itemId: "it1",
        kind: "critique",
        targets: ["g1"],
        source: { type: "judge", id: "critique/m" },
        value: { text: "Mixed.", weaknesses: ['"Gordi and Ariana Grande" is irrelevant.', "It omits the tour."], verdict: "fail" },
      } as ResolvedFeedback["feedback"],
    };
    const { feedback, report } = await spansFromCritiques([r, { ...r, feedback: { ...r.feedback, id: "fb-x", kind: "binary", value: { ok: true } } as ResolvedFeedback["feedback"] }]);
    expect(report).toMatchObject({ critiques: 1, derived: 1, spans: 1, skippedPhrases: { "missing content": 1 } });
    const f = feedback[0]!;
    expect(f).toMatchObject({ kind: "spans", targets: ["g1"], source: { type: "judge", id: "critique/m" }, metadata: { derivedFrom: { feedbackId: "fb-c", kind: "critique" } } });
    expect((f.value as { spans: unknown[] }).spans).toEqual([{ start: OUTPUT.indexOf("Gordi"), end: OUTPUT.indexOf("Grande") + 6, label: "irrelevant", score: -1, comment: '"Gordi and Ariana Grande" is irrelevant.' }]);
    const again = await spansFromCritiques([r]);
    expect(again.feedback[0]!.id).toBe(f.id);
  });
});

describe("spanScores", () => {
  it("matches spans one to one by label and overlap", () => {
    const s = spanScores([
      { predicted: [{ start: 0, end: 5, label: "a" }, { start: 10, end: 12, label: "a" }], reference: [{ start: 3, end: 8, label: "a" }] },
      { predicted: [{ start: 0, end: 5, label: "b" }], reference: [{ start: 0, end: 5, label: "a" }, { start: 20, end: 30, label: "b" }] },
    ]);
    expect(s).toEqual({ predicted: 3, reference: 3, matched: 1, precision: 1 / 3, recall: 1 / 3, f1: 1 / 3 });
  });
});

describe("passages", () => {
  it("reads texts, title-first lists and objects; strips a title line; names a bad entry", () => {
    const ps = readPassages(["First one. Second one.", ["A Title", "A Title\n\nIts first sentence.", "Its second."], { title: "T", text: "One. Two." }, { sentences: ["x."] }]);
    expect(ps).toEqual([
      { sentences: ["First one.", "Second one."] },
      { title: "A Title", sentences: ["Its first sentence.", "Its second."] },
      { title: "T", sentences: ["One.", "Two."] },
      { sentences: ["x."] },
    ]);
    expect(() => readPassages("nope")).toThrow(/must be a list of passages/);
    expect(() => readPassages([["a", 3]])).toThrow(/passages\.0 must be a list of strings/);
    expect(() => readPassages([{ title: "x" }])).toThrow(/passages\.0 needs "text" or "sentences"/);
  });

  it("finds passages in a reference (list, object, JSON text) but not in a plain answer", () => {
    expect(passagesOf("42")).toBeUndefined();
    expect(passagesOf(undefined)).toBeUndefined();
    expect(passagesOf(["A b."])).toEqual([{ sentences: ["A b."] }]);
    expect(passagesOf({ passages: [["T", "Sentence one."]] })).toEqual([{ title: "T", sentences: ["Sentence one."] }]);
    expect(passagesOf(JSON.stringify({ passages: ["A b."], gold: "x" }))).toEqual([{ sentences: ["A b."] }]);
    expect(() => passagesOf({ passages: 3 })).toThrow(/reference\.passages/);
  });

  it("caps how much of the passages a request can make it read", () => {
    const many = readPassages([Array.from({ length: MAX_PASSAGE_SENTENCES + 50 }, (_, i) => `Sentence ${i}.`)]);
    expect(many[0]!.sentences).toHaveLength(MAX_PASSAGE_SENTENCES);
  });

  it("finds the sentence that best supports a segment", () => {
    const ix = indexPassages([{ sentences: ["Bloom was released on 31 August 2018.", "It has ten songs."] }, { sentences: ["Gordi is a singer."] }]);
    const b = bestSupport(tokenView("Bloom came out on 31 August 2018."), ix);
    expect(b.at).toBe(0);
    expect(b.precision).toBeCloseTo(4 / 6, 12); // bloom, 31, august, 2018 of bloom, came, out, 31, august, 2018
  });
});
