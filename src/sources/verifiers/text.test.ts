import { describe, expect, it } from "vitest";
import { ValidationError } from "../../errors.js";
import { VerificationValue } from "../../feedback/index.js";
import {
  compositeVerifier,
  containsVerifier,
  createVerifier,
  exactMatchVerifier,
  excludesVerifier,
  jsonSchemaVerifier,
  lengthVerifier,
  normalizedMatchVerifier,
  parseVerifierSpec,
  regexVerifier,
  registerVerifier,
  toVerificationValue,
  tokenF1,
  verificationFeedback,
  verifierSpecs,
  type Verifier,
} from "./index.js";

describe("text verifiers", () => {
  it("exact match: trimmed, case-sensitive unless told, against the reference or a fixed list", async () => {
    const v = exactMatchVerifier();
    expect((await v.verify({ completion: " Paris\n", reference: "Paris" })).passed).toBe(true);
    expect((await v.verify({ completion: "paris", reference: "Paris" })).passed).toBe(false);
    expect((await exactMatchVerifier({ caseSensitive: false }).verify({ completion: "paris", reference: "Paris" })).passed).toBe(true);
    expect((await exactMatchVerifier({ expected: ["yes", "y"] }).verify({ completion: "y" })).details.matched).toBe("y");
    await expect(v.verify({ completion: "x" })).rejects.toThrow(/reference/);
  });

  it("normalised match ignores case, punctuation and articles; partial credit is token F1", async () => {
    const v = normalizedMatchVerifier();
    expect((await v.verify({ completion: "The Eiffel Tower!", reference: "eiffel tower" })).passed).toBe(true);
    const partial = await normalizedMatchVerifier({ partialCredit: true }).verify({ completion: "the tall Eiffel Tower", reference: "Eiffel Tower" });
    expect(partial.passed).toBe(false);
    expect(partial.score).toBeCloseTo(tokenF1("tall eiffel tower", "eiffel tower"));
    expect(partial.score).toBeCloseTo(0.8);
  });

  it("regex: search or full match, with named groups", async () => {
    const v = regexVerifier({ pattern: "answer: (?<n>\\d+)", flags: "i" });
    const r = await v.verify({ completion: "... ANSWER: 42" });
    expect(r).toMatchObject({ passed: true, score: 1, details: { groups: { n: "42" } } });
    expect((await regexVerifier({ pattern: "\\d+", mode: "full" }).verify({ completion: "12a" })).passed).toBe(false);
    expect(() => regexVerifier({ pattern: "(" })).toThrow(/pattern: not a valid regular expression/);
  });

  it("regex: user patterns run in linear time, so a catastrophic pattern cannot stall the process", async () => {
    // A backtracking engine needs about 2^n steps here (n = 40: hours); a linear-time one, microseconds.
    const evil = "a".repeat(40) + "!";
    expect((await regexVerifier({ pattern: "^(a+)+$" }).verify({ completion: evil })).passed).toBe(false);
    expect((await regexVerifier({ pattern: "(x+x+)+y", mode: "full" }).verify({ completion: "x".repeat(5000) })).passed).toBe(false);
    const sloppy = regexVerifier({ pattern: "^(\\w+\\s?)*$" });
    expect((await sloppy.verify({ completion: "an answer that ends badly!".repeat(20) })).passed).toBe(false);
    expect((await sloppy.verify({ completion: "an answer that ends well" })).passed).toBe(true);
  });

  it("regex: what a linear-time engine cannot run is a validation error naming the field", () => {
    const issue = (spec: unknown) => {
      try {
        parseVerifierSpec(spec);
      } catch (e) {
        return (e as ValidationError).issues[0];
      }
      return undefined;
    };
    expect(issue({ type: "regex", pattern: "(a)\\1" })).toMatchObject({ path: "pattern", message: expect.stringMatching(/backreferences/) });
    expect(issue({ type: "regex", pattern: "(?<q>a)\\k<q>" })).toMatchObject({ path: "pattern", message: expect.stringMatching(/backreferences/) });
    expect(issue({ type: "regex", pattern: "foo(?=bar)" })).toMatchObject({ path: "pattern", message: expect.stringMatching(/lookahead/) });
    expect(issue({ type: "regex", pattern: "(?<!no )yes" })).toMatchObject({ path: "pattern", message: expect.stringMatching(/lookbehind/) });
    expect(issue({ type: "regex", pattern: "a{1001}" })).toMatchObject({ path: "pattern", message: expect.stringMatching(/repeat count/) });
    expect(issue({ type: "regex", pattern: "a".repeat(5000) })).toMatchObject({ path: "pattern", message: expect.stringMatching(/at most 2000/) });
    expect(issue({ type: "regex", pattern: "a", flags: "y" })).toMatchObject({ path: "flags" });
    expect(issue({ type: "composite", members: [{ verifier: { type: "regex", pattern: "(?=x)" } }] })).toMatchObject({ path: "pattern" });
    expect(() => regexVerifier({ pattern: "(a)\\1" })).toThrow(ValidationError);
    // JavaScript syntax keeps working: escapes, classes, \u, named groups, flags.
    const ok = regexVerifier({ pattern: "^\\u00e9t\\u00e9 (?<year>\\d{4})[/.-]?$", flags: "im" });
    return ok.verify({ completion: "x\nÉté 2024/" }).then((r) => expect(r).toMatchObject({ passed: true, details: { groups: { year: "2024" } } }));
  });

  it("JSON schema: valid JSON that fits, found in a fence or in text; issues reported", async () => {
    const schema = { type: "object", properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } }, required: ["name"] };
    const v = jsonSchemaVerifier({ schema });
    expect((await v.verify({ completion: '{"name": "Ada", "age": 36}' })).passed).toBe(true);
    expect((await v.verify({ completion: 'Sure:\n```json\n{"name": "Ada"}\n```' })).passed).toBe(true);
    const bad = await v.verify({ completion: '{"age": -1}' });
    expect(bad.passed).toBe(false);
    expect(bad.details.issues).toHaveLength(2);
    expect((await v.verify({ completion: "not json" })).details.error).toMatch(/not JSON/);
    expect((await jsonSchemaVerifier({ strict: true }).verify({ completion: 'x {"a":1}' })).passed).toBe(false);
    expect((await jsonSchemaVerifier().verify({ completion: "[1, 2]" })).passed).toBe(true);
    // the schema may come with the input
    expect((await jsonSchemaVerifier().verify({ completion: "3", reference: { type: "string" } })).passed).toBe(false);
  });

  it("contains and excludes", async () => {
    const c = containsVerifier({ all: ["alpha", "beta"], any: ["x", "y"] });
    const r = await c.verify({ completion: "Alpha and y" });
    expect(r).toMatchObject({ passed: false, score: 0.5, details: { missing: ["beta"] } });
    expect((await c.verify({ completion: "alpha beta y" })).passed).toBe(true);
    expect((await c.verify({ completion: "alpha beta" })).score).toBe(0);
    const e = excludesVerifier({ none: ["as an ai"] });
    expect((await e.verify({ completion: "As an AI, I cannot" })).details.found).toEqual(["as an ai"]);
    expect((await e.verify({ completion: "Sure." })).passed).toBe(true);
  });

  it("length limits in characters, words and lines", async () => {
    const v = lengthVerifier({ maxWords: 3, minChars: 2, maxLines: 1 });
    expect((await v.verify({ completion: "one two three" })).passed).toBe(true);
    const r = await v.verify({ completion: "one two\nthree four" });
    expect(r.passed).toBe(false);
    expect(r.details.error).toBe("4 words > 3; 2 lines > 1");
  });
});

describe("composite", () => {
  const fixed = (name: string, passed: boolean, score: number): Verifier => ({ name, type: "fixed", verify: async () => ({ passed, score, details: { error: passed ? undefined : `${name} failed` } }) });

  it("scores the weighted mean; passes when every member passes, or at a threshold", async () => {
    const members = [{ verifier: fixed("a", true, 1), weight: 3 }, { verifier: fixed("b", false, 0), weight: 1 }];
    const r = await compositeVerifier({ members }).verify({ completion: "" });
    expect(r.score).toBeCloseTo(0.75);
    expect(r.passed).toBe(false);
    expect(r.details).toMatchObject({ testsRun: 2, testsFailed: 1, error: "b: b failed" });
    expect((await compositeVerifier({ members, threshold: 0.7 }).verify({ completion: "" })).passed).toBe(true);
  });

  it("a required member is a gate: failing it fails the composite with score 0", async () => {
    const members = [{ verifier: fixed("a", true, 1), weight: 3 }, { verifier: fixed("b", false, 0.2), required: true }];
    const r = await compositeVerifier({ members, threshold: 0.5 }).verify({ completion: "" });
    expect(r).toMatchObject({ passed: false, score: 0 });
  });

  it("hands each member its own reference when keyed, and turns member errors into failures", async () => {
    const v = compositeVerifier({
      keyedReferences: true,
      members: [{ verifier: createVerifier("math") }, { verifier: jsonSchemaVerifier({ name: "shape" }) }, { verifier: exactMatchVerifier({ name: "exact" }) }],
    });
    const r = await v.verify({ completion: '{"answer": 4}', reference: { math: "4", shape: { type: "object" } } });
    const members = r.details.members as Array<{ name: string; passed: boolean; details: { error?: string } }>;
    expect(members.map((m) => m.passed)).toEqual([true, true, false]);
    expect(members[2]!.details.error).toMatch(/reference/);
    expect(r.score).toBeCloseTo(2 / 3);
  });

  it("rejects bad weights", () => {
    expect(() => compositeVerifier({ members: [{ verifier: fixed("a", true, 1), weight: -1 }] })).toThrow(/weight/);
    expect(() => compositeVerifier({ members: [{ verifier: fixed("a", true, 1), weight: 0 }] })).toThrow(/sum to 0/);
  });
});

describe("registry and feedback", () => {
  it("builds verifiers from names and JSON specs, composites included", async () => {
    expect(Object.keys(verifierSpecs())).toEqual(expect.arrayContaining(["math", "exact", "normalized", "json", "python", "javascript", "humaneval"]));
    const v = createVerifier({
      type: "composite",
      name: "answer-and-format",
      members: [
        { verifier: "math", weight: 2 },
        { verifier: { type: "regex", pattern: "\\\\boxed\\{" }, weight: 1 },
        { verifier: { type: "length", maxWords: 50 }, required: true },
      ],
      threshold: 0.6,
    });
    expect(v.name).toBe("answer-and-format");
    const r = await v.verify({ completion: "So $x = \\boxed{4}$.", reference: "4" });
    expect(r).toMatchObject({ passed: true, score: 1 });
    const r2 = await v.verify({ completion: "So x = 4.", reference: "4" });
    expect(r2.score).toBeCloseTo(0.75); // (2 * 1 + 1 * 0 + 1 * 1) / 4
    expect(r2.passed).toBe(true);
  });

  it("validates specs and names, and registers new ones", async () => {
    expect(() => parseVerifierSpec({ type: "regex" })).toThrow(/pattern/);
    expect(() => parseVerifierSpec({ type: "nope" })).toThrow();
    expect(() => parseVerifierSpec({ type: "composite", members: [{ verifier: { type: "length", maxWords: -1 } }] })).toThrow(/member 1.*maxWords/);
    expect(() => createVerifier("no-such")).toThrow(/no verifier "no-such"/);
    registerVerifier("yes-no", { type: "regex", pattern: "^(yes|no)$", mode: "full", flags: "i" });
    const v = createVerifier("yes-no");
    expect(v.name).toBe("yes-no");
    expect((await v.verify({ completion: "Yes" })).passed).toBe(true);
    registerVerifier("loop", { type: "composite", members: [{ verifier: "loop" }] });
    expect(() => createVerifier("loop")).toThrow(/contains itself/);
  });

  it("results are verification values and make valid feedback records", async () => {
    const r = await createVerifier("math").verify({ completion: "$\\boxed{3}$", reference: "3" });
    expect(VerificationValue.safeParse(toVerificationValue(r)).success).toBe(true);
    const f = verificationFeedback({ id: "fb-1", target: "gen-1", verifier: { name: "math", type: "math" }, result: r });
    expect(f).toMatchObject({ kind: "verification", targets: ["gen-1"], source: { type: "verifier", id: "math" }, value: { passed: true, score: 1 } });
  });
});
