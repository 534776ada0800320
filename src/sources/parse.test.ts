import { describe, expect, it } from "vitest";
import type { ValidationError } from "../errors.js";
import { parseJudgeConfig } from "./config.js";
import {
  extractJson,
  logprobMass,
  parseChecklist,
  parseCritique,
  parsePairwise,
  parseReference,
  parseRubric,
  parseSteps,
} from "./parse.js";
import { render } from "./template.js";

const text = (t: string) => ({ text: t });

describe("extractJson", () => {
  it("finds the first JSON value, in a fence or in prose, honouring strings", () => {
    expect(extractJson('```json\n{"a": 1}\n```')).toEqual({ a: 1 });
    expect(extractJson('Sure! Here it is: {"a": "x } y", "b": [1, {"c": 2}]} hope it helps')).toEqual({ a: "x } y", b: [1, { c: 2 }] });
    expect(extractJson("[1, 2] and {\"z\": 0}")).toEqual([1, 2]);
    expect(extractJson("{not json} then {\"ok\": true}")).toEqual({ ok: true });
    expect(extractJson("no json here")).toBeUndefined();
    expect(extractJson('{"unterminated": ')).toBeUndefined();
  });
});

describe("pairwise parsers", () => {
  const logprob = { type: "logprob" as const, tokens: { "1": ["m"], "2": ["M"] } };

  it("logprob: p = 1 + P(M) / (P(m) + P(M)), as AlpacaEval 2", () => {
    const r = parsePairwise(logprob, {
      text: "m",
      logprobs: [{ token: "m", logprob: Math.log(0.6), top: [{ token: "m", logprob: Math.log(0.6) }, { token: "M", logprob: Math.log(0.2) }, { token: "x", logprob: Math.log(0.2) }] }],
    });
    expect(r.ok && r.value.preference).toBeCloseTo(1.25);
    expect(r.ok && r.value.fromLogprobs).toBe(true);
  });

  it("logprob: skips leading whitespace tokens, counts the chosen token when the top list omits it, and can binarize", () => {
    const lp = [
      { token: " ", logprob: -0.01, top: [{ token: " ", logprob: -0.01 }] },
      { token: "M", logprob: Math.log(0.3), top: [{ token: " m", logprob: Math.log(0.7) }] },
    ];
    const r = parsePairwise(logprob, { text: " M", logprobs: lp });
    expect(r.ok && r.value.preference).toBeCloseTo(1.3);
    const b = parsePairwise({ ...logprob, binarize: true }, { text: " M", logprobs: lp });
    expect(b.ok && b.value.preference).toBe(1);
    expect(logprobMass([{ token: "Hello", logprob: -0.1, top: [{ token: "Hello", logprob: -0.1 }] }], logprob.tokens)).toBeUndefined();
  });

  it("logprob: falls back to the text without logprobs, and fails on anything else", () => {
    expect(parsePairwise(logprob, text(" M\n"))).toEqual({ ok: true, value: { preference: 2, fromLogprobs: false } });
    expect(parsePairwise(logprob, text("m"))).toEqual({ ok: true, value: { preference: 1, fromLogprobs: false } });
    expect(parsePairwise(logprob, text("Both are good")).ok).toBe(false);
    const withFallback = { ...logprob, fallback: { type: "regex" as const, patterns: { "1": "first", "2": "second" } } };
    expect(parsePairwise(withFallback, text("the second one")).ok && 2).toBe(2);
  });

  it("regex: the last verdict in the answer wins unless pick is first; ties allowed", () => {
    const p = { type: "regex" as const, patterns: { "1": "\\[\\[A\\]\\]", "2": "\\[\\[B\\]\\]", tie: "\\[\\[C\\]\\]" } };
    expect(parsePairwise(p, text("Unlike [[A]] suggests... final: [[B]]"))).toMatchObject({ ok: true, value: { preference: 2 } });
    expect(parsePairwise({ ...p, pick: "first" }, text("[[A]] then [[B]]"))).toMatchObject({ ok: true, value: { preference: 1 } });
    expect(parsePairwise(p, text("[[C]]"))).toMatchObject({ ok: true, value: { preference: 1.5 } });
    expect(parsePairwise(p, text("A is better")).ok).toBe(false);
  });

  it("regex: a config's patterns run in linear time (a catastrophic pattern on a long answer returns at once)", () => {
    const p = { type: "regex" as const, patterns: { "1": "^(a|a)+$", "2": "(b+)+c" } };
    expect(parsePairwise(p, text("a".repeat(60) + "!")).ok).toBe(false);
    expect(parsePairwise(p, text("b".repeat(5000))).ok).toBe(false);
    expect(parsePairwise(p, text("bbbc"))).toMatchObject({ ok: true, value: { preference: 2 } });
  });

  it("ranking: AlpacaEval's ranking answers, single or double quotes", () => {
    const p = { type: "ranking" as const };
    expect(parsePairwise(p, text("[{'model': 'model_2', 'rank': 1}, {'model': 'model_1', 'rank': 2}]"))).toMatchObject({ ok: true, value: { preference: 2 } });
    expect(parsePairwise(p, text('[{"model": "model_1", "rank": 1}, {"model": "model_2", "rank": 2}]'))).toMatchObject({ ok: true, value: { preference: 1 } });
    expect(parsePairwise(p, text('[{"model": "model_1", "rank": 1}]')).ok).toBe(false);
  });

  it("json: a named winner", () => {
    const p = { type: "json" as const };
    expect(parsePairwise(p, text('{"winner": "b"}'))).toMatchObject({ ok: true, value: { preference: 2 } });
    expect(parsePairwise(p, text('{"preference": 1.2}'))).toMatchObject({ ok: true, value: { preference: 1.2 } });
    expect(parsePairwise(p, text('{"preference": "both bad"}')).ok).toBe(false);
  });
});

describe("rubric, checklist, critique, steps and reference parsers", () => {
  const crit = [
    { name: "Correct", maxScore: 5 },
    { name: "Clear", maxScore: 5 },
  ];

  it("rubric: by id, by name or by position; every criterion graded; scores in range", () => {
    expect(parseRubric('{"criteria": [{"id": 2, "score": 3}, {"id": 1, "score": 5, "rationale": "right"}]}', crit, "score")).toEqual({
      ok: true,
      value: [{ score: 5, rationale: "right" }, { score: 3 }],
    });
    expect(parseRubric('[{"name": "clear", "passed": "yes"}, {"name": "Correct", "passed": false}]', crit, "pass")).toEqual({
      ok: true,
      value: [{ passed: false }, { passed: true }],
    });
    expect(parseRubric('[{"passed": true}, {"passed": false}]', crit, "pass")).toMatchObject({ ok: true });
    expect(parseRubric('{"criteria": [{"id": 1, "score": 5}]}', crit, "score")).toMatchObject({ ok: false, error: expect.stringContaining("criteria 2") });
    expect(parseRubric('{"criteria": [{"id": 1, "score": 9}, {"id": 2, "score": 1}]}', crit, "score")).toMatchObject({ ok: false, error: expect.stringContaining("outside") });
    expect(parseRubric('{"criteria": [{"id": 1, "passed": "maybe"}, {"id": 2, "passed": true}]}', crit, "pass").ok).toBe(false);
  });

  it("checklist: JSON list or lines, deduplicated and capped", () => {
    expect(parseChecklist({ type: "json" }, '{"checklist": ["Q1?", "Q2?", "Q1?"]}')).toEqual({ ok: true, value: ["Q1?", "Q2?"] });
    expect(parseChecklist({ type: "lines" }, "1. Is it short?\n- Is it kind?\n\n* [ ] Rhymes?", 2)).toEqual({ ok: true, value: ["Is it short?", "Is it kind?"] });
    expect(parseChecklist({ type: "json" }, "nothing").ok).toBe(false);
  });

  it("critique: the lists and a verdict are required", () => {
    expect(parseCritique('{"summary": "ok", "strengths": ["clear"], "weaknesses": [], "suggestions": "add an example", "verdict": "PASS"}')).toEqual({
      ok: true,
      value: { text: "ok", strengths: ["clear"], weaknesses: [], suggestions: ["add an example"], verdict: "pass" },
    });
    expect(parseCritique('{"strengths": [], "weaknesses": [], "suggestions": []}').ok).toBe(false);
    expect(parseCritique('{"verdict": "fail", "strengths": []}').ok).toBe(false);
  });

  it("steps: a step number within the chain, or none", () => {
    expect(parseSteps({ type: "json" }, '{"first_error_step": 2, "explanation": "2+2 is 4"}', 3)).toEqual({ ok: true, value: { firstErrorStep: 2, explanation: "2+2 is 4" } });
    expect(parseSteps({ type: "json" }, '{"first_error_step": null}', 3)).toEqual({ ok: true, value: { firstErrorStep: null } });
    expect(parseSteps({ type: "json" }, '{"first_error_step": -1}', 3)).toMatchObject({ ok: true, value: { firstErrorStep: null } });
    expect(parseSteps({ type: "json" }, '{"first_error_step": 7}', 3).ok).toBe(false);
    expect(parseSteps({ type: "json" }, '{"explanation": "fine"}', 3).ok).toBe(false);
    const re = { type: "regex" as const, patterns: { step: "First error: (\\d+|none)" } };
    expect(parseSteps(re, "First error: 3", 3)).toMatchObject({ ok: true, value: { firstErrorStep: 3 } });
    expect(parseSteps(re, "First error: none", 3)).toMatchObject({ ok: true, value: { firstErrorStep: null } });
  });

  it("reference: a score within the scale, or a verdict", () => {
    const re = { type: "regex" as const, patterns: { score: "Rating:\\s*\\[\\[(\\d+)\\]\\]" } };
    expect(parseReference(re, "Good. Rating: [[8]]", { min: 1, max: 10 })).toMatchObject({ ok: true, value: { score: 8 } });
    expect(parseReference(re, "Rating: [[11]]", { min: 1, max: 10 }).ok).toBe(false);
    expect(parseReference({ type: "json" }, '{"correct": false, "rationale": "off by one"}', { min: 1, max: 10 })).toEqual({
      ok: true,
      value: { correct: false, rationale: "off by one" },
    });
    expect(parseReference({ type: "json" }, '{"correct": "perhaps"}', { min: 1, max: 10 }).ok).toBe(false);
  });
});

describe("configs and templates", () => {
  it("renders {{placeholders}} in one pass and leaves single braces alone", () => {
    expect(render('Q: {{instruction}} A: {{ output }} {"json": 1}', { instruction: "say {{output}}", output: "x" })).toBe('Q: say {{output}} A: x {"json": 1}');
  });

  it("rejects unknown placeholders, wrong parsers and bad regexes, naming the field", () => {
    const base = { name: "j", kind: "pairwise", prompt: "{{instruction}} {{output_1}} {{output_2}}", parser: { type: "regex", patterns: { "1": "a", "2": "b" } } };
    expect(parseJudgeConfig(base).name).toBe("j");
    expect(() => parseJudgeConfig({ ...base, prompt: "{{output}}" })).toThrow(/\{\{output\}\} is not a pairwise placeholder/);
    expect(() => parseJudgeConfig({ ...base, parser: { type: "lines" } })).toThrow(/parser\.type/);
    expect(() => parseJudgeConfig({ ...base, parser: { type: "regex", patterns: { "1": "(", "2": "b" } } })).toThrow(/not a valid regular expression/);
    const issues = (c: unknown) => {
      try {
        parseJudgeConfig(c);
      } catch (e) {
        return (e as ValidationError).issues;
      }
      return [];
    };
    expect(issues({ ...base, parser: { type: "regex", patterns: { "1": "(a)\\1", "2": "b(?!c)" } } })).toEqual([
      { path: "parser.patterns.1", message: expect.stringMatching(/backreferences/) },
      { path: "parser.patterns.2", message: expect.stringMatching(/lookahead/) },
    ]);
    expect(issues({ ...base, parser: { type: "regex", patterns: { "1": "a", "2": "b" }, flags: "x" } })).toEqual([{ path: "parser.flags", message: expect.stringMatching(/flag "x"/) }]);
    const logprob = { type: "logprob", tokens: { "1": ["a"], "2": ["b"] }, fallback: { type: "regex", patterns: { "1": "(?<=x)a", "2": "b" } } };
    expect(issues({ ...base, parser: logprob })).toEqual([{ path: "parser.fallback.patterns.1", message: expect.stringMatching(/lookbehind/) }]);
    expect(() => parseJudgeConfig({ ...base, parser: { type: "regex", patterns: { "1": "a" } } })).toThrow(/needs patterns "1" and "2"/);
    expect(() => parseJudgeConfig({ ...base, name: "bad name" })).toThrow(/name/);
    expect(() => parseJudgeConfig({ ...base, temperature: 0 })).toThrow(/temperature/);
  });
});
