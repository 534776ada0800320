/**
 * Agreement with RealCritic's grader on 2,093 real model solutions over eight tasks (math, gsm8k,
 * college_math, minerva_math, olympiadbench, arc-challenge, gpqa, mmlu_stem): each solution
 * (`reasoning`) is checked against the gold answer (`gt`, with the row's `choices` when it has
 * them) and the verdict is compared with the grader's label (`previous_score`).
 *
 * The labels are not all right. The grader compares lists in order (`-6,-8,-10` is not
 * `-10,-8,-6` to it), misses scientific notation (`1.07\times10^{16}` is not `1.07e16`), accepts
 * numbers within 1e-4 or a factor of 100 of the gold, and labels some answers by a first line
 * it took for the answer; some gold answers lost their letters (`\frac{}{3b}`). So agreement has
 * a ceiling below 1 for a verifier that is right (about 95.7% here); what is asserted is the level it
 * reaches. docs/math-agreement.md lists every disagreement and why.
 * Data lives outside the repository (see test/support/data.ts); skipped without it.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sharedData } from "../../../../test/support/data.js";
import { mathEquivalent } from "./index.js";

const DIR = sharedData("math verifier on RealCritic", "realcritic");

interface Row {
  idx: number;
  gt: string;
  pred: string;
  reasoning: string;
  choices?: unknown;
  previous_score: boolean[] | string;
}

const label = (r: Row): boolean => {
  const v = Array.isArray(r.previous_score) ? r.previous_score[0] : /true/i.test(String(r.previous_score).split(",")[0] ?? "");
  return v === true;
};

function agreement(field: "reasoning" | "pred") {
  const perTask: Record<string, { n: number; agree: number }> = {};
  let n = 0;
  let agree = 0;
  for (const f of readdirSync(DIR!).filter((x) => x.endsWith(".jsonl.gz")).sort()) {
    const task = f.replace(/\.jsonl\.gz$/, "");
    const rows = gunzipSync(readFileSync(join(DIR!, f))).toString("utf8").trim().split("\n").map((l) => JSON.parse(l) as Row);
    const t = (perTask[task] = { n: 0, agree: 0 });
    for (const r of rows) {
      const v = mathEquivalent(String(r.gt), String(r[field]), r.choices !== undefined ? { choices: r.choices } : {});
      t.n++;
      if (v.equivalent === label(r)) t.agree++;
    }
    n += t.n;
    agree += t.agree;
  }
  return { perTask, n, agree, overall: agree / n };
}

describe.skipIf(!DIR)("math verifier against RealCritic's grader", () => {
  it("agrees with the labels per task and overall on the model solutions", () => {
    const r = agreement("reasoning");
    const lines = Object.entries(r.perTask).map(([task, t]) => `  ${task.padEnd(16)} ${t.agree}/${t.n} (${((100 * t.agree) / t.n).toFixed(1)}%)`);
    console.log(`RealCritic, solutions checked whole:\n${lines.join("\n")}\n  overall          ${r.agree}/${r.n} (${(100 * r.overall).toFixed(2)}%)`);
    expect(r.n).toBe(2093);
    expect(r.overall).toBeGreaterThanOrEqual(0.951);
    // The verifier reads every kind of task: none falls far behind.
    for (const t of Object.values(r.perTask)) expect(t.agree / t.n).toBeGreaterThanOrEqual(0.86);
  });

  it("agrees with the labels on RealCritic's own extracted answers too", () => {
    const r = agreement("pred");
    console.log(`RealCritic, extracted answers: ${r.agree}/${r.n} (${(100 * r.overall).toFixed(2)}%)`);
    expect(r.overall).toBeGreaterThanOrEqual(0.967);
  });
});
