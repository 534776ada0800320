/**
 * The 63 shared Math-Verify cases (../shared/data/math-verify): the verifier agrees with every one. Skipped without
 * the data (a failure with RLXF_REQUIRE_DATA=1).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sharedData } from "../../../../test/support/data.js";
import { mathEquivalent, type MatchType, type MathEquivalenceOptions } from "./index.js";

interface Case {
  gold: string;
  pred: string;
  expected: boolean;
  match_types: MatchType[];
  precision?: number;
  allow_set_relation_comp?: boolean;
}

const options = (c: Case): MathEquivalenceOptions => ({
  goldMatch: c.match_types,
  predMatch: c.match_types,
  ...(c.precision !== undefined ? { precision: c.precision } : {}),
  ...(c.allow_set_relation_comp ? { allowSetRelation: true } : {}),
});

const SHARED = sharedData("Math-Verify expectations", "math-verify");

describe.skipIf(!SHARED)("the 63 shared Math-Verify cases", () => {
  it("all agree", () => {
    const lines = readFileSync(join(SHARED!, "cases.jsonl"), "utf8").trim().split("\n");
    const misses: string[] = [];
    for (const line of lines) {
      const c = JSON.parse(line) as Case;
      const r = mathEquivalent(c.gold, c.pred, options(c));
      if (r.equivalent !== c.expected) misses.push(`${line.slice(0, 160)} -> ${r.equivalent} (${r.reason})`);
    }
    expect(lines.length).toBe(63);
    expect(misses, misses.join("\n")).toEqual([]);
  });
});
