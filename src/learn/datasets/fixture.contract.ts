/**
 * Test fixture shared by the dataset and CLI tests: a small set of records with feedback of every kind.
 * (A .contract.ts file, like the store's contract: imported by tests, left out of the build.)
 */
import { parseFeedback, parseGeneration, parseItem } from "../../feedback/index.js";
import type { Feedback, Generation, Item } from "../../feedback/schema.js";
import { memorySource } from "../../io/index.js";
import type { DatasetSource } from "./build.js";

export interface Fixture {
  items: Item[];
  generations: Generation[];
  feedback: Feedback[];
  source: DatasetSource;
}

export function fixture(): Fixture {
  const items = [
    parseItem({ id: "i1", prompt: "What is 2+2?", reference: "4", dataset: "math" }),
    parseItem({ id: "i2", prompt: [{ role: "user", content: "Write a haiku about rain." }] }),
    parseItem({ id: "i3", prompt: "Explain gravity.", dataset: "science" }),
    parseItem({ id: "i4", prompt: "Solve x + 1 = 3.", reference: "x = 2", dataset: "math" }),
    parseItem({ id: "i5", prompt: "An item nobody gave feedback on." }),
  ];
  const g = (id: string, itemId: string, output: string, policy = "p", metadata?: Record<string, unknown>) =>
    parseGeneration({ id, itemId, policy, output, ...(metadata ? { metadata } : {}) });
  const generations = [
    g("g1a", "i1", "4"),
    g("g1b", "i1", "5", "q"),
    g("g1c", "i1", "The answer is four, since two plus two makes four."),
    g("g2a", "i2", "Rain falls softly / on the quiet roof at night / puddles hold the moon"),
    g("g2b", "i2", "Rain is wet."),
    g("g2c", "i2", "Drops on window glass / the grey sky hums / a cat dreams"),
    g("g3a", "i3", "Gravity is the attraction between masses.\n\nIt keeps planets in orbit."),
    g("g3b", "i3", "Gravity pushes things away.\n\nIt is caused by magnets."),
    g("g3c", "i3", "Gravity is the attraction between masses; it keeps planets in orbit around stars.", "reviser", { refinedFrom: "g3b" }),
    g("g4a", "i4", "x = 2"),
    g("g4b", "i4", "x = 4"),
  ];
  const human = { type: "human", id: "ann1" };
  const f = (x: Record<string, unknown>) => parseFeedback({ source: human, ...x });
  const feedback = [
    // pairwise: two annotators agree, one disagrees, on the same two outputs
    f({ id: "pw1", kind: "pairwise", targets: ["g1a", "g1b"], value: { choice: "first" } }),
    f({ id: "pw2", kind: "pairwise", targets: ["g1b", "g1a"], source: { type: "human", id: "ann2" }, value: { choice: "second", strength: 0.5 } }),
    f({ id: "pw3", kind: "pairwise", targets: ["g1a", "g1b"], source: { type: "human", id: "ann3" }, value: { choice: "second" } }),
    // a judge with a probability, and a tie
    f({ id: "pw4", kind: "pairwise", targets: ["g1c", "g1a"], source: { type: "judge", id: "gpt" }, value: { choice: "second", pSecond: 0.8 } }),
    f({ id: "pw5", kind: "pairwise", targets: ["g2a", "g2c"], value: { choice: "tie" } }),
    // ranking of three haikus
    f({ id: "rk1", kind: "ranking", targets: ["g2a", "g2b", "g2c"], value: { ranks: [1, 3, 2] } }),
    // ratings
    f({ id: "rt1", kind: "rating", targets: ["g3a"], value: { score: 9, scale: { min: 1, max: 10 } } }),
    f({ id: "rt2", kind: "rating", targets: ["g3b"], value: { score: 2, scale: { min: 1, max: 10 }, comment: "wrong physics" } }),
    // critique with a refinement of the criticised output
    f({ id: "cr1", kind: "critique", targets: ["g3b"], value: { text: "Gravity attracts; it is not magnetism.", weaknesses: ["wrong mechanism"], verdict: "fail" } }),
    // correction
    f({ id: "co1", kind: "correction", targets: ["g1b"], value: { output: "4", comment: "2+2 is 4" } }),
    // verification
    f({ id: "vf1", kind: "verification", targets: ["g4a"], source: { type: "verifier", id: "sympy" }, value: { passed: true } }),
    f({ id: "vf2", kind: "verification", targets: ["g4b"], source: { type: "verifier", id: "sympy" }, value: { passed: false, details: { error: "3 + 1 != 3" } } }),
    // binary
    f({ id: "bi1", kind: "binary", targets: ["g2b"], value: { ok: false, comment: "not a haiku" } }),
    // spans: an error in the second paragraph
    f({ id: "sp1", kind: "spans", targets: ["g3b"], value: { spans: [{ start: 30, end: 50, label: "error" }] } }),
    // rubric
    f({ id: "ru1", kind: "rubric", targets: ["g3a"], value: { criteria: [{ name: "correct", passed: true, rationale: "accurate" }, { name: "complete", score: 0.5 }] } }),
    // signal (no conversion)
    f({ id: "si1", kind: "signal", targets: ["g3a"], source: { type: "user", id: "u1" }, value: { signal: "copy", value: true } }),
  ];
  return { items, generations, feedback, source: memorySource({ items, generations, feedback }) };
}
