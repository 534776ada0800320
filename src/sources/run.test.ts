/** Runs over many examples into a real (SQLite) store, against the local fake server. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { withOrderVerdictsMerged } from "../feedback/index.js";
import { readImportFile } from "../io/index.js";
import { StoreResponseCache } from "../providers/index.js";
import { createModel } from "../providers/index.js";
import { type FakeRequest, type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { type Store, openStore } from "../store/index.js";
import { outputRow, pairRow, readPairs } from "./inputs.js";
import { pairTargets } from "./records.js";
import { resolvePool } from "./registry.js";
import { runOutputs, runPairwise, runSimulation } from "./run.js";

let server: FakeServer;
let store: Store;
const dir = mkdtempSync(join(tmpdir(), "rlxf-run-"));
beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  server.reset();
  await store?.close();
});

const fresh = async () => (store = await openStore({ path: ":memory:" }));
const model = (s: Store) => createModel({ baseUrl: server.baseUrl, model: "fake", maxRetries: 0 }, { cache: new StoreResponseCache(s.responseCache, { project: "default" }) });

const shownAsM = (r: FakeRequest, t: string) => {
  const at = r.prompt.indexOf(t);
  return at > r.prompt.indexOf("## Answer of m") && at < r.prompt.indexOf("## Answer of M");
};
/** Prefers GOOD; answers garbage for instructions containing BROKEN. */
const judgeAnswer = (r: FakeRequest) => (r.prompt.includes("BROKEN") ? "¯\\_(ツ)_/¯" : shownAsM(r, "GOOD") ? { text: "m", top: { m: 0.8, M: 0.2 } } : { text: "M", top: { M: 0.8, m: 0.2 } });

const rows = Array.from({ length: 30 }, (_, i) =>
  pairRow(
    {
      instruction: i === 7 ? "BROKEN prompt" : `question ${i}`,
      output_1: i % 2 ? `GOOD ${i}` : `meh ${i}`,
      output_2: i % 2 ? `meh ${i}` : `GOOD ${i}`,
      generator_1: "model-a",
      generator_2: "model-b",
    },
    `line ${i + 1}`,
  ),
);

describe("runPairwise into the store", () => {
  it("stores a feedback per parsed pair and a failure with raw text per unparseable one; results come in input order", async () => {
    const s = await fresh();
    server.respond = judgeAnswer;
    server.latencyMs = (r) => (r.index % 3) * 5; // answers arrive out of order
    const seen: number[] = [];
    const report = await runPairwise(rows, "pairwise", { model: model(s), store: s, concurrency: 8, batchSize: 7, onResult: (_r, i) => seen.push(i) });
    server.latencyMs = 0;
    expect(seen).toEqual(rows.map((_, i) => i));
    expect(report).toMatchObject({ judge: "pairwise", total: 30, parsed: 29, failed: 1, failures: { unparseable: 1 }, source: { type: "judge", id: "pairwise/fake" } });
    expect(report.outcomes.first! + report.outcomes.second!).toBe(29);
    expect(report.stored).toEqual({ feedback: { inserted: 29, existing: 0 }, failures: { inserted: 1, existing: 0 } });

    const fb = (await s.listFeedback({ kind: "pairwise", limit: 100 })).records;
    expect(fb).toHaveLength(29);
    for (const f of fb) {
      expect(f.source).toEqual({ type: "judge", id: "pairwise/fake" });
      const [g1] = await Promise.all(f.targets.map((t) => s.getGeneration("default", t)));
      const good1 = g1!.output.startsWith("GOOD");
      expect(f.kind === "pairwise" && f.value).toEqual({ choice: good1 ? "first" : "second", pSecond: good1 ? expect.closeTo(0.2, 9) : expect.closeTo(0.8, 9) });
      expect((f.metadata!.judge as { verdicts: unknown[] }).verdicts).toHaveLength(1);
    }
    const failures = (await s.judgementFailures.list()).records;
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ judge: "pairwise/fake", kind: "pairwise", reason: "unparseable", raw: Array(3).fill("¯\\_(ツ)_/¯"), attempts: 3 });
    expect(failures[0]!.targets).toEqual(pairTargets("default", rows[7]!).generations.map((g) => g.id));
    expect(await s.judgementFailures.countByJudge()).toEqual(new Map([["pairwise/fake", 1]]));
  });

  it("re-running is free and idempotent: stored verdicts are read back, failures answered from the store's cache", async () => {
    const s = await fresh();
    server.respond = judgeAnswer;
    await runPairwise(rows, "pairwise", { model: model(s), store: s });
    const requests = server.requests.length;
    const again = await runPairwise(rows, "pairwise", { model: model(s), store: s });
    expect(server.requests.length).toBe(requests);
    expect(again.reused).toBe(29);
    // Only the failed pair is asked again (its three attempts come from the cache).
    expect(again.model).toMatchObject({ requests: 0, cacheHits: 3 });
    expect(again.stored).toEqual({ feedback: { inserted: 0, existing: 0 }, failures: { inserted: 0, existing: 1 } });
    expect((await s.counts()).feedback).toBe(29);
  });

  it("lands on the same generations as `rlxf import` of the same pairs, even when the item is stored with more fields", async () => {
    const s = await fresh();
    const file = join(dir, "ae.json");
    writeFileSync(
      file,
      JSON.stringify(rows.slice(0, 3).map((r) => ({ instruction: r.instruction, output_1: r.output_1, output_2: r.output_2, generator_1: "model-a", generator_2: "model-b", annotator: "humans", preference: 1, dataset: "ds" }))),
    );
    const batch = await readImportFile(file);
    await s.write({ items: batch.items, generations: batch.generations, feedback: batch.feedback });
    server.respond = judgeAnswer;
    const report = await runPairwise(rows.slice(0, 3), "pairwise", { model: model(s), store: s });
    expect(report.parsed).toBe(3);
    const counts = await s.counts();
    expect(counts.generations).toBe(6); // no new generations
    expect(counts.items).toBe(3);
    expect((await s.getItem("default", pairTargets("default", rows[0]!).item.id))?.dataset).toBe("ds");
  });

  it("--swap style runs ask both orders and combine them", async () => {
    const s = await fresh();
    server.respond = () => ({ text: "m", top: { m: 0.9, M: 0.1 } });
    const out: Record<string, unknown>[] = [];
    const report = await runPairwise(rows.slice(0, 10), "pairwise", { model: model(s), store: s, sourceId: "first-lover", onResult: (r) => out.push(r) }, { order: "both" });
    expect(report.outcomes).toEqual({ tie: 10 });
    expect(out.every((r) => r.preference === 1.5 && (r.verdicts as unknown[]).length === 2)).toBe(true);
    // One record per order shown, which readers merge into one judgement per pair: a tie.
    const fb = (await s.listFeedback({ sourceId: "first-lover" })).records;
    expect(fb).toHaveLength(20);
    const merged = withOrderVerdictsMerged(fb, (f) => f, (_, f) => f);
    expect(merged).toHaveLength(10);
    expect(merged.every((f) => f.kind === "pairwise" && f.value.choice === "tie" && f.value.pSecond === 0.5)).toBe(true);
  });

  it("--swap after a run in one order reuses that order's verdict and stores only the other, under deterministic ids", async () => {
    const s = await fresh();
    server.respond = () => ({ text: "m", top: { m: 0.9, M: 0.1 } });
    const some = rows.slice(0, 12);
    const plain = await runPairwise(some, "pairwise", { model: model(s), store: s, sourceId: "first-lover" }, { seed: 5 });
    expect(plain.stored?.feedback.inserted).toBe(12);
    const firstIds = new Set((await s.listFeedback({ sourceId: "first-lover" })).records.map((f) => f.id));
    const asked = server.requests.length;
    const out: Record<string, unknown>[] = [];
    const swapped = await runPairwise(some, "pairwise", { model: model(s), store: s, sourceId: "first-lover", onResult: (r) => out.push(r) }, { order: "both" });
    // One new question per pair: the order the first run did not show.
    expect(server.requests.length - asked).toBe(12);
    expect(swapped.reused).toBe(12);
    expect(swapped.stored?.feedback).toEqual({ inserted: 12, existing: 0 });
    const all = (await s.listFeedback({ sourceId: "first-lover", limit: 100 })).records;
    expect(all).toHaveLength(24);
    expect(all.filter((f) => firstIds.has(f.id))).toHaveLength(12);
    // Each pair: one verdict per order, and the printed row combines both (a first-lover ties).
    expect(out.every((r) => r.preference === 1.5 && (r.feedback_ids as string[]).length === 2)).toBe(true);
    for (const r of out) expect((r.feedback_ids as string[]).filter((id) => firstIds.has(id))).toHaveLength(1);
    // Again: nothing asked, nothing stored; a fresh store gives the same ids.
    const again = await runPairwise(some, "pairwise", { model: model(s), store: s, sourceId: "first-lover" }, { order: "both" });
    expect(again.reused).toBe(24);
    expect(again.stored?.feedback).toEqual({ inserted: 0, existing: 0 });
    const other = await fresh();
    await runPairwise(some, "pairwise", { model: model(other), store: other, sourceId: "first-lover" }, { order: "both" });
    expect(new Set((await other.listFeedback({ sourceId: "first-lover", limit: 100 })).records.map((f) => f.id))).toEqual(new Set(all.map((f) => f.id)));
  });

  it("reads pairs from JSONL and names the line of a bad one", async () => {
    const file = join(dir, "pairs.jsonl");
    writeFileSync(file, '{"instruction": "a", "output_1": "x", "output_2": "y"}\n{"instruction": "b", "output_1": "x"}\n');
    await expect(readPairs(file)).rejects.toThrow(/line 2.*output_2/);
    writeFileSync(file, '{"instruction": "a", "input": "ctx", "output_1": "x", "output_2": "y"}\n');
    expect((await readPairs(file))[0]!.instruction).toBe("a\n\nctx");
  });
});

describe("runOutputs and runSimulation into the store", () => {
  it("stores rubric, critique, spans, rating and binary feedback with the right source types", async () => {
    const s = await fresh();
    server.respond = (r) => {
      const p = r.prompt;
      if (p.includes("Write a checklist")) return '{"checklist": ["Q1?", "Q2?"]}';
      if (p.includes("checklist question")) return '{"criteria": [{"id": 1, "passed": true}, {"id": 2, "passed": false}]}';
      if (p.includes("Grade the response against each criterion")) return '{"criteria": [{"id": 1, "score": 4}]}';
      if (p.includes("Critique the response")) return '{"strengths": ["a"], "weaknesses": [], "suggestions": [], "verdict": "pass"}';
      if (p.includes("step by step")) return '{"first_error_step": 2, "explanation": "wrong sum"}';
      if (p.includes("rate the response from 1 to 10")) return "Rating: [[7]]";
      return '{"correct": true}';
    };
    const input = (extra = {}) => [outputRow({ instruction: "2+3?", output: "First 2\n2+3 = 6\nSo 6", reference: "5", ...extra }, "line 1")];
    const m = model(s);
    const ctx = { model: m, store: s };
    expect((await runOutputs(input({ criteria: ["correct"] }), "rubric", ctx)).parsed).toBe(1);
    expect((await runOutputs(input(), "checklist", ctx)).parsed).toBe(1);
    expect((await runOutputs(input(), "critique", ctx)).parsed).toBe(1);
    expect((await runOutputs(input(), "steps", ctx)).parsed).toBe(1);
    expect((await runOutputs(input(), "reference", ctx)).parsed).toBe(1);
    expect((await runOutputs(input(), "reference-match", ctx)).parsed).toBe(1);
    const all = (await s.listFeedback({ limit: 100 })).records;
    const by = (id: string) => all.find((f) => f.source.id === `${id}/fake`)!;
    expect(by("rubric")).toMatchObject({ kind: "rubric", source: { type: "judge" }, value: { criteria: [{ name: "correct", score: 4, maxScore: 5 }], total: 0.8 } });
    expect(by("checklist")).toMatchObject({ kind: "rubric", value: { criteria: [{ name: "Q1?", passed: true }, { name: "Q2?", passed: false }], total: 0.5 } });
    expect((by("checklist").metadata!.judge as { checklist: { items: string[] } }).checklist.items).toEqual(["Q1?", "Q2?"]);
    expect(by("critique")).toMatchObject({ kind: "critique", source: { type: "critic" }, value: { verdict: "pass", strengths: ["a"] } });
    const steps = by("steps");
    expect(steps).toMatchObject({ kind: "spans", source: { type: "critic" }, value: { spans: [{ label: "first_error", comment: "wrong sum" }] } });
    const gen = await s.getGeneration("default", steps.targets[0]!);
    const span = steps.kind === "spans" ? steps.value.spans[0]! : undefined;
    expect(gen!.output.slice(span!.start, span!.end)).toBe("2+3 = 6");
    expect(by("reference")).toMatchObject({ kind: "rating", value: { score: 7, scale: { min: 1, max: 10 }, dimension: "reference" } });
    expect(by("reference-match")).toMatchObject({ kind: "binary", value: { ok: true } });
    await m.close();
  });

  it("stores simulated feedback with the pool as source and the annotator and noise in metadata", async () => {
    const s = await fresh();
    server.respond = (r) => (r.prompt.indexOf("GOOD") < r.prompt.indexOf("meh") ? "[[A]] Output (a) Preferred: Output (a) [{\"model\": \"model_1\", \"rank\": 1}, {\"model\": \"model_2\", \"rank\": 2}]" : "[[B]] Output (b) Preferred: Output (b) [{\"model\": \"model_1\", \"rank\": 2}, {\"model\": \"model_2\", \"rank\": 1}]");
    const clean = rows.filter((_, i) => i !== 7);
    const report = await runSimulation(clean, resolvePool("alpacafarm"), { model: model(s), store: s }, { pFlip: 0.25, seed: 3 });
    expect(report).toMatchObject({ kind: "pool", parsed: clean.length, failed: 0, source: { type: "simulated", id: "alpacafarm/fake" } });
    const fb = (await s.listFeedback({ sourceType: "simulated", limit: 100 })).records;
    expect(fb).toHaveLength(clean.length);
    const meta = fb.map((f) => f.metadata!.judge as { noisy: boolean; pFlip: number; seed: number; config: string });
    expect(meta.every((m) => m.pFlip === 0.25 && m.seed === 3)).toBe(true);
    expect(meta.some((m) => m.noisy)).toBe(true);
    expect(meta.some((m) => !m.noisy)).toBe(true);
  });
});
