/**
 * The judge, simulate and judge-report commands end to end: a real local
 * OpenAI-compatible server, a SQLite store in a temporary directory, the CLI
 * run in-process with its stdout captured.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { register as registerJudge } from "../src/cli/judge.js";
import { program } from "../src/cli/program.js";
import { register as registerSimulate } from "../src/cli/simulate.js";
import { type FakeRequest, type FakeServer, startFakeModelServer } from "../src/providers/testing/index.js";
import { openStore } from "../src/store/index.js";

let server: FakeServer;
const dir = mkdtempSync(join(tmpdir(), "rlxf-judge-cli-"));
const db = join(dir, "rlxf.db");
const pairsFile = join(dir, "pairs.jsonl");
const outputsFile = join(dir, "outputs.jsonl");

const shownAsM = (r: FakeRequest, t: string) => {
  const at = r.prompt.indexOf(t);
  return at > r.prompt.indexOf("## Answer of m") && at < r.prompt.indexOf("## Answer of M");
};

/** The model name picks the behaviour; the prompt says which judge is asking. */
function respond(r: FakeRequest) {
  const p = r.prompt;
  if (r.model === "always-first") return { text: "m", top: { m: 0.97, M: 0.03 } };
  if (p.includes("BROKEN")) return "As an AI language model I prefer not to say.";
  if (p.includes("## Answer of m")) return shownAsM(r, "GOOD") ? { text: "m", top: { m: 0.8, M: 0.2 } } : { text: "M", top: { M: 0.8, m: 0.2 } };
  if (p.includes("Write a checklist")) return '{"checklist": ["Does it answer?", "Is it short?"]}';
  if (p.includes("checklist question")) return '{"criteria": [{"id": 1, "passed": true, "rationale": "yes"}, {"id": 2, "passed": true}]}';
  if (p.includes("Grade the response against each criterion")) return JSON.stringify({ criteria: [1, 2, 3, 4, 5].map((id) => ({ id, score: 4 })) });
  if (p.includes("Critique the response")) return '{"summary": "fine", "strengths": ["short"], "weaknesses": ["no units"], "suggestions": ["add units"], "verdict": "pass"}';
  if (p.includes("step by step")) return '{"first_error_step": 2, "explanation": "7*6 is 42"}';
  if (p.includes("rate the response from 1 to 10")) return "Close to the reference. Rating: [[8]]";
  // Simulated annotators: prefer GOOD in each member's format.
  const goodFirst = p.indexOf("GOOD") < p.indexOf("plain");
  if (p.includes("model_1 output")) return `[{"model": "model_1", "rank": ${goodFirst ? 1 : 2}}, {"model": "model_2", "rank": ${goodFirst ? 2 : 1}}]`;
  if (p.includes("[Response A]")) return goodFirst ? "[[A]]" : "[[B]]";
  if (p.includes("Preferred:")) return goodFirst ? "Preferred: Output (a)" : "Preferred: Output (b)";
  return goodFirst ? "Output (a)" : "Output (b)";
}

beforeAll(async () => {
  server = await startFakeModelServer({ respond });
  const pairs = Array.from({ length: 20 }, (_, i) => ({
    instruction: i === 13 ? "BROKEN: a prompt the judge will not answer" : `Question ${i}?`,
    output_1: i % 2 ? `GOOD answer ${i}` : `plain answer ${i}`,
    output_2: i % 2 ? `plain answer ${i}` : `GOOD answer ${i}`,
    generator_1: "model-a",
    generator_2: "model-b",
  }));
  writeFileSync(pairsFile, pairs.map((p) => JSON.stringify(p)).join("\n") + "\n");
  writeFileSync(
    outputsFile,
    [
      { instruction: "What is 6*7?", output: "6*7 means 6 sevens.\n7*6 = 43.\nSo 43.", reference: "42", criteria: ["correct", "shows work"] },
      { instruction: "Name a prime.", steps: ["2 is divisible only by 1 and itself.", "So 2 is prime."], reference: "2" },
    ]
      .map((o) => JSON.stringify(o))
      .join("\n") + "\n",
  );
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Run `rlxf ...args` in-process; returns what it printed. */
async function rlxf(args: string[], opts: { full?: boolean } = {}): Promise<{ stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    let p: Command;
    if (opts.full) p = program();
    else {
      p = new Command("rlxf");
      registerJudge(p);
      registerSimulate(p);
    }
    p.exitOverride();
    await p.parseAsync(["node", "rlxf", ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { stdout, stderr };
}

const model = (name: string) => ["--db", db, "--base-url", server.baseUrl, "--model", name, "--api-key", "sk-local"];
const jsonLines = (s: string) => s.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe("rlxf judge pairwise", () => {
  it("adds AlpacaEval's preference and the raw verdicts to each pair, counts and stores the failures", async () => {
    const { stdout, stderr } = await rlxf(["judge", "pairwise", "--input", pairsFile, "--json", ...model("good")], { full: true });
    const rows = jsonLines(stdout);
    expect(rows).toHaveLength(20);
    rows.forEach((r, i) => {
      expect(r.instruction).toBeDefined();
      if (i === 13) {
        expect(r).toMatchObject({ preference: null, failure_reason: "unparseable", raw: Array(3).fill("As an AI language model I prefer not to say.") });
        return;
      }
      expect(r.preference).toBeCloseTo(i % 2 ? 1.2 : 1.8, 9);
      expect(r.annotator).toBe("pairwise/good");
      expect((r.verdicts as { raw: string }[])[0]!.raw).toMatch(/^[mM]$/);
    });
    expect(stderr).toContain("judged 20 pair(s) with pairwise/good");
    expect(stderr).toContain("19 parsed, 1 failed (unparseable 1)");
    expect(stderr).toContain("19 new feedback");
    expect(stderr).toContain("1 new failures");
    const s = await openStore({ path: db });
    try {
      expect((await s.counts()).byKind.pairwise).toBe(19);
      const f = (await s.judgementFailures.list()).records;
      expect(f).toMatchObject([{ judge: "pairwise/good", reason: "unparseable", raw: Array(3).fill("As an AI language model I prefer not to say.") }]);
    } finally {
      await s.close();
    }
    const failures = await rlxf(["judge", "failures", "--db", db, "--json"]);
    expect(jsonLines(failures.stdout)[0]).toMatchObject({ judge: "pairwise/good", attempts: 3 });
  });

  it("a second run is answered from the cache", async () => {
    const before = server.requests.length;
    const { stderr } = await rlxf(["judge", "pairwise", "--input", pairsFile, "--json", ...model("good")]);
    expect(server.requests.length).toBe(before);
    expect(stderr).toContain("0 requests");
    expect(stderr).toContain("reused: 19 verdict(s)");
    expect(stderr).toContain("0 new feedback");
  });

  it("a judge that always answers 'first': position bias near 1; with --swap, ties", async () => {
    await rlxf(["judge", "pairwise", "--input", pairsFile, "--json", "--seed", "3", ...model("always-first"), "--source-id", "first-fan"]);
    const swapped = await rlxf(["judge", "pairwise", "--input", pairsFile, "--json", "--swap", ...model("always-first"), "--source-id", "first-fan-swapped"]);
    const rows = jsonLines(swapped.stdout);
    expect(rows.every((r) => r.preference === 1.5 && r.choice === "tie")).toBe(true);
    expect(rows.every((r) => (r.verdicts as unknown[]).length === 2)).toBe(true);

    const report = JSON.parse((await rlxf(["judge-report", "--db", db, "--json"])).stdout) as { judges: { judge: string; ties: number; position: { rate: number; n: number } }[] };
    const row = (id: string) => report.judges.find((j) => j.judge === id)!;
    expect(row("first-fan").position.rate).toBeGreaterThan(0.95);
    expect(row("first-fan").position.n).toBe(20);
    expect(row("first-fan-swapped").ties).toBe(1);
    // A fair judge: near 0.5 (not exactly: the seeded orders need not be balanced on 19 pairs).
    expect(Math.abs(row("pairwise/good").position.rate - 0.5)).toBeLessThan(0.15);
    const text = (await rlxf(["judge-report", "--db", db])).stdout;
    expect(text).toMatch(/first-fan\s+judge\s+20/);
    expect(text).toContain("P(first)");
  });

  it("routes contested pairs to humans", async () => {
    const out = join(dir, "route.jsonl");
    await rlxf(["judge", "route", "--db", db, "--budget", "3", "--out", out]);
    const rows = jsonLines(readFileSync(out, "utf8"));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveProperty("output_1");
    expect(rows[0]!.disagreement as number).toBeGreaterThan(0);
  });

  it("routes contested pairs straight into an annotation queue, most contested first", async () => {
    const listed = jsonLines((await rlxf(["judge", "route", "--db", db, "--budget", "4", "--json"])).stdout);
    const { stdout } = await rlxf(["judge", "route", "--db", db, "--budget", "4", "--queue", "Contested pairs", "--queue-id", "contested", "--annotators-per-item", "2"]);
    expect(stdout).toContain('created queue "contested" (Contested pairs)');
    const store = await openStore({ path: db });
    try {
      const q = await store.queues.get("default", "contested");
      expect(q).toMatchObject({ name: "Contested pairs", annotatorsPerItem: 2 });
      expect((q!.definition as { questions: { kind: string }[] }).questions.map((x) => x.kind)).toEqual(["pairwise"]);
      const tasks = await store.queues.tasks("default", "contested");
      // The same pairs as the router lists, in its order.
      expect(tasks.map((t) => t.generationIds)).toEqual(listed.map((r) => [r.generation_1, r.generation_2]));
      expect(tasks).toHaveLength(4);
    } finally {
      await store.close();
    }
    // Nothing to route: a clear error, no queue.
    await expect(rlxf(["judge", "route", "--db", db, "--min-judges", "50", "--queue", "None"])).rejects.toThrow(/no pairs to route/);
  });

  it("rejects a judge of the wrong kind and an unknown judge", async () => {
    await expect(rlxf(["judge", "pairwise", "--input", pairsFile, "--judge", "critique", ...model("good")])).rejects.toThrow(/critique judge/);
    await expect(rlxf(["judge", "pairwise", "--input", pairsFile, "--judge", "nope", ...model("good")])).rejects.toThrow(/no judge "nope"/);
  });

  it("takes a user's judge config file", async () => {
    const cfg = join(dir, "mine.json");
    writeFileSync(
      cfg,
      JSON.stringify({
        name: "mine",
        kind: "pairwise",
        prompt: "Instruction: {{instruction}}\n\n## Answer of m\n{{output_1}}\n\n## Answer of M\n{{output_2}}\n\nAnswer m or M.",
        parser: { type: "regex", patterns: { "1": "^m$", "2": "^M$" }, flags: "" },
        completion: { temperature: 0, maxTokens: 1 },
        order: "fixed",
      }),
    );
    const { stdout } = await rlxf(["judge", "pairwise", "--input", pairsFile, "--judge", cfg, "--json", "--no-store", ...model("good")]);
    const rows = jsonLines(stdout);
    expect(rows[0]).toMatchObject({ annotator: "mine/good", preference: 2 });
    expect(rows[1]).toMatchObject({ preference: 1 });
  });
});

describe("rlxf judge rubric | checklist | critique | steps | reference", () => {
  it("grades each output and stores the feedback", async () => {
    const run = async (kind: string, extra: string[] = []) => jsonLines((await rlxf(["judge", kind, "--input", outputsFile, "--json", ...extra, ...model("grader")])).stdout);
    const rubric = await run("rubric");
    expect(rubric[0]).toMatchObject({ kind: "rubric", result: { criteria: [{ name: "correct", score: 4 }, { name: "shows work", score: 4 }] } });
    expect((rubric[1]!.result as { criteria: unknown[] }).criteria).toHaveLength(5); // the judge's own criteria
    const checklist = await run("checklist");
    expect(checklist[0]).toMatchObject({ kind: "rubric" });
    expect(checklist[0]!.checklist).toBeUndefined(); // the input brought its own criteria
    expect((checklist[1]!.checklist as string[])).toEqual(["Does it answer?", "Is it short?"]);
    expect(await run("critique")).toMatchObject([{ kind: "critique", result: { verdict: "pass", suggestions: ["add units"] } }, { kind: "critique" }]);
    const steps = await run("steps");
    expect(steps[0]).toMatchObject({ kind: "spans", first_error_step: 2, result: { spans: [{ label: "first_error", comment: "7*6 is 42" }] } });
    expect(await run("reference")).toMatchObject([{ kind: "rating", result: { score: 8 } }, { kind: "rating" }]);
    const text = (await rlxf(["judge", "steps", "--input", outputsFile, ...model("grader")])).stdout;
    expect(text).toContain("first wrong step: 2");
    expect(text).toContain("judged 2 output(s) with steps/grader");
  });
});

describe("rlxf simulate", () => {
  it("labels pairs with the AlpacaFarm pool, reproducibly from the seed", async () => {
    const args = ["simulate", "--input", pairsFile, "--pool", "alpacafarm", "--p-flip", "0.25", "--seed", "11", "--json", ...model("annotators")];
    const a = jsonLines((await rlxf(args)).stdout);
    const b = jsonLines((await rlxf(args)).stdout);
    expect(a).toHaveLength(20);
    expect(a.map((r) => [r.simulated_annotator, r.preference, r.noisy])).toEqual(b.map((r) => [r.simulated_annotator, r.preference, r.noisy]));
    expect(a.every((r) => r.annotator === "alpacafarm/annotators")).toBe(true);
    expect(a.some((r) => r.noisy === true)).toBe(true);
    const s = await openStore({ path: db });
    try {
      expect((await s.listFeedback({ sourceType: "simulated", limit: 100 })).records.length).toBeGreaterThan(15);
    } finally {
      await s.close();
    }
  });

  it("lists and shows the shipped configs", async () => {
    const list = JSON.parse((await rlxf(["judge", "list", "--json"])).stdout) as { name: string; kind: string }[];
    expect(list.map((j) => j.name)).toEqual(expect.arrayContaining(["pairwise", "rubric", "checklist", "critique", "steps", "reference", "alpacafarm"]));
    const cfg = JSON.parse((await rlxf(["judge", "show", "pairwise"])).stdout) as { parser: { type: string } };
    expect(cfg.parser.type).toBe("logprob");
  });
});
