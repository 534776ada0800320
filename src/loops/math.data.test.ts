/**
 * End to end on real data: the math verifier as feedback on tasks built from the math-verify cases (gold answers as
 * ground truth). A scripted policy answers without a final answer first, then, told by the verifier that its answer
 * could not be checked, gives the case's prediction. Data lives outside the repository; skipped without it (a failure
 * with RLXF_REQUIRE_DATA=1).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedData } from "../../test/support/data.js";
import { createModel } from "../providers/index.js";
import { type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { createVerifier } from "../sources/verifiers/index.js";
import { openStore } from "../store/index.js";
import { verifierFeedback } from "./feedback.js";
import { refineLoop } from "./loops.js";
import { loopRunReport } from "./report.js";

const FILE = sharedData("refine on math-verify cases", "math-verify", "cases.jsonl");

interface Case {
  gold: string;
  pred: string;
  expected: boolean;
}

describe.skipIf(!FILE)("refine with the math verifier on math-verify cases", () => {
  let server: FakeServer;
  const cases: Case[] = FILE ? readFileSync(FILE, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Case) : [];
  beforeAll(async () => {
    server = await startFakeModelServer({
      respond: (r) => {
        const i = Number(/Problem (\d+)/.exec(r.prompt)?.[1]);
        const told = r.prompt.includes("## Feedback");
        return told ? cases[i]!.pred : "Let me think about it.";
      },
    });
  });
  afterAll(async () => server?.close());

  it("solves at the second turn exactly the tasks whose prediction the verifier accepts; the rest stop unchanged", async () => {
    const math = createVerifier("math");
    const tasks = cases.map((c, i) => ({ id: `case-${i}`, prompt: `Problem ${i}: give the final answer in \\boxed{}.`, reference: c.gold }));
    const accepted = await Promise.all(cases.map(async (c) => (await math.verify({ completion: c.pred, reference: c.gold })).passed));
    const store = await openStore({ path: ":memory:" });
    try {
      const r = await refineLoop(tasks, { store, policy: { model: createModel({ baseUrl: server.baseUrl, model: "policy" }) }, feedback: verifierFeedback(math), budget: { rounds: 3 } });
      expect(r.tasks.map((t) => t.solved)).toEqual(accepted);
      expect(r.tasks.map((t) => t.stop)).toEqual(accepted.map((a) => (a ? "satisfied" : "unchanged")));
      const nAccepted = accepted.filter(Boolean).length;
      // Most cases are equivalent pairs, so most tasks are solved.
      expect(nAccepted).toBeGreaterThan(cases.length / 2);
      expect(r.summary.accuracyPerTurn).toEqual([0, nAccepted / cases.length, nAccepted / cases.length]);
      expect(r.summary.friction).toMatchObject({ pointedAt: cases.length + (cases.length - nAccepted), fixed: nAccepted });
      // The first verdict names why the answer could not be checked; it reached the refinement prompt.
      const refinement = server.requests.find((q) => q.prompt.includes("Problem 0:") && q.prompt.includes("## Feedback"))!;
      expect(refinement.prompt).toContain("The answer could not be checked");
      const report = await loopRunReport(store, r.runId);
      expect(report.summary).toEqual(r.summary);
      expect(report.tasks[0]!.steps[0]!.output).toBe("Let me think about it.");
      // Two verdicts per task: an unchanged third answer is not sent to the verifier again.
      expect((await store.counts()).feedback).toBe(cases.length * 2);
    } finally {
      await store.close();
    }
  });
});
