/** The web app's mapping between what annotators fill in and the queue API's answers. */
import { describe, expect, it } from "vitest";
import { fromApiAnswers, isAnswered, slotsFor, toApiAnswers } from "../../web/src/answers.js";
import type { Task } from "../../web/src/types.js";

const task = (n: number, questions: Task["questions"]): Task => ({
  id: "t1",
  queueId: "q",
  item: { id: "i", prompt: "p" },
  generations: Array.from({ length: n }, (_, slot) => ({ slot, output: `output ${slot}` })),
  questions,
  lockedUntil: "2026-01-01T00:00:00Z",
});

describe("answers", () => {
  it("asks comparative questions once and the others of each shown response", () => {
    const t = task(2, [
      { id: "pref", kind: "pairwise", prompt: "Which?" },
      { id: "stars", kind: "rating", prompt: "Stars", min: 1, max: 5 },
    ]);
    expect(slotsFor(t).map((s) => s.key)).toEqual(["pref", "stars::0", "stars::1"]);
    expect(slotsFor(task(1, t.questions.slice(1))).map((s) => s.key)).toEqual(["stars"]);
  });

  it("sends per-response answers as an array by shown slot, null where unanswered, and leaves out empty questions", () => {
    const t = task(2, [
      { id: "pref", kind: "pairwise", prompt: "Which?", strength: true },
      { id: "stars", kind: "rating", prompt: "Stars", min: 1, max: 5, required: false },
      { id: "ok", kind: "binary", prompt: "OK?" },
    ]);
    const api = toApiAnswers(t, { pref: { choice: "second", strength: 2 / 3 }, "stars::1": { score: 4 } });
    expect(api).toEqual({ pref: { choice: "second", strength: 2 / 3 }, stars: [null, { score: 4 }] });
    // A tie carries no strength.
    expect(toApiAnswers(t, { pref: { choice: "tie", strength: 1 } })).toEqual({ pref: { choice: "tie" } });
  });

  it("turns a best-first order into ranks per shown response, and back", () => {
    const t = task(3, [{ id: "rank", kind: "ranking", prompt: "Rank" }]);
    const [slot] = slotsFor(t);
    expect(isAnswered(slot!, { order: [2, 0] })).toBe(false);
    const api = toApiAnswers(t, { rank: { order: [2, 0, 1] } });
    expect(api).toEqual({ rank: { ranks: [2, 3, 1] } });
    expect(fromApiAnswers(t, api)).toEqual({ rank: { order: [2, 0, 1] } });
  });

  it("rubrics: pass/fail criteria are booleans, scored ones scores; all are needed", () => {
    const t = task(1, [
      {
        id: "rub",
        kind: "rubric",
        prompt: "Check",
        criteria: [
          { id: "a", description: "A" },
          { id: "b", description: "B", maxScore: 4 },
        ],
      },
    ]);
    const [slot] = slotsFor(t);
    expect(isAnswered(slot!, { checks: { a: true } })).toBe(false);
    expect(isAnswered(slot!, { checks: { a: true, b: 3 } })).toBe(true);
    // A boolean for a scored criterion (or a number for a pass/fail one) is not an answer to it.
    expect(toApiAnswers(t, { rub: { checks: { a: 2, b: true } } })).toEqual({});
    const api = toApiAnswers(t, { rub: { checks: { a: false, b: 3 } } });
    expect(api).toEqual({ rub: { criteria: { a: false, b: { score: 3 } } } });
    expect(fromApiAnswers(t, api)).toEqual({ rub: { checks: { a: false, b: 3 } } });
  });

  it("critiques send lists line by line and drop empty parts; spans may be explicitly none", () => {
    const t = task(1, [
      { id: "c", kind: "critique", prompt: "Critique" },
      { id: "s", kind: "span", prompt: "Spans", labels: ["error"] },
    ]);
    const api = toApiAnswers(t, { c: { text: "  ok  ", strengths: "short\n\n clear \n", weaknesses: "", verdict: "pass" }, s: { spans: [], none: true } });
    expect(api).toEqual({ c: { text: "ok", strengths: ["short", "clear"], verdict: "pass" }, s: { spans: [] } });
    expect(toApiAnswers(t, { c: { text: "   " }, s: { spans: [] } })).toEqual({});
    expect(fromApiAnswers(t, api)).toMatchObject({ c: { strengths: "short\nclear", verdict: "pass" }, s: { spans: [], none: true } });
  });

  it("a correction keeps the edited text exactly, comment trimmed", () => {
    const t = task(1, [{ id: "fix", kind: "correction", prompt: "Fix" }]);
    expect(toApiAnswers(t, { fix: { output: "  Canberra.\n", comment: " capital " } })).toEqual({ fix: { output: "  Canberra.\n", comment: "capital" } });
    expect(isAnswered(slotsFor(t)[0]!, {})).toBe(false);
  });
});
