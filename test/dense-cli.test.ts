/**
 * Dense rewards end to end, in process, on a temporary SQLite store: `rlxf rm train --type segments` from stored
 * spans (choosing the combination on stored preferences), `rlxf rm score`, `rlxf dense score|eval`, and
 * `rlxf spans from-critiques` on critiques a judge wrote through a local OpenAI-compatible server.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { program } from "../src/cli/program.js";
import { syntheticQa } from "../src/learn/dense/testing/index.js";
import { type FakeServer, startFakeModelServer } from "../src/providers/testing/index.js";
import { openStore } from "../src/store/index.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-dense-cli-"));
const db = join(dir, "dense.db");
let server: FakeServer;

async function rlxf(args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  try {
    const p = program();
    const quiet = (c: Command): void => {
      c.exitOverride();
      c.commands.forEach(quiet);
    };
    quiet(p);
    await p.parseAsync(["node", "rlxf", ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { out: out.join(""), err: err.join("") };
}
const lines = (s: string) => s.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

const world = syntheticQa({ n: 90, seed: 5, firstOnly: true });

beforeAll(async () => {
  // The judge quotes the first sentence about another entity (an irrelevant one) when there is one.
  server = await startFakeModelServer({
    respond: (r) => {
      const answer = r.prompt.split("## Response")[1] ?? "";
      const quote = /The main rival of [^.]+\./.exec(answer)?.[0];
      return JSON.stringify({ summary: "ok", strengths: [], weaknesses: quote ? [`"${quote}" is irrelevant to the question.`, "It leaves out the founding city."] : [], suggestions: [], verdict: quote ? "fail" : "pass" });
    },
  });
  const store = await openStore({ path: db });
  try {
    const items = new Map<string, { prompt: string; passages: unknown }>();
    for (const a of world.answers) items.set(a.itemId, { prompt: a.prompt, passages: a.passages.map((p) => [p.title!, ...p.sentences]) });
    await store.write({
      items: [...items].map(([id, x]) => ({ id, prompt: x.prompt, metadata: { passages: x.passages } })),
      generations: world.answers.map((a) => ({ id: a.generationId, itemId: a.itemId, policy: "sampler", output: a.response })),
      feedback: [
        ...world.examples.map((e) => ({ id: e.id, itemId: e.itemId, kind: "spans", targets: [e.generationId], source: { type: "human", id: "ann" }, value: { spans: e.spans } })),
        ...world.pairs.map((p, i) => ({
          id: `pw-${i}`,
          itemId: p.itemId,
          kind: "pairwise",
          targets: [world.pairIds[i]!.chosen, world.pairIds[i]!.rejected],
          source: { type: "human", id: "ann" },
          value: { choice: p.pChosen === 0.5 ? "tie" : "first" },
        })),
      ],
    });
  } finally {
    await store.close();
  }
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("rlxf rm train --type segments, rm score, dense score and eval", () => {
  it("trains from stored spans, beats flagging everything on held-out items, and prefers answers with fewer errors", async () => {
    const { out } = await rlxf(["rm", "train", "--type", "segments", "--name", "qa-dense", "--test-fraction", "0.3", "--seed", "1", "--json", "--db", db]);
    const s = JSON.parse(out);
    expect(s).toMatchObject({ name: "qa-dense", version: 1, type: "segments", level: "sentence" });
    expect(s.types.map((t: { name: string }) => t.name).sort()).toEqual(["Irrelevant", "Redundant", "Unverifiable"]);
    for (const t of s.types) expect(t.test.f1, t.name).toBeGreaterThan(t.test.alwaysFlagF1);
    expect(s.pairs.test.accuracy).toBeGreaterThan(0.7);
    const list = JSON.parse((await rlxf(["rm", "list", "--json", "--db", db])).out);
    expect(list[0]).toMatchObject({ name: "qa-dense", summary: { type: "segments", featurizer: "segment-features", level: "sentence" } });
    expect(list[0].summary.segmentTypes.sort()).toEqual(["Irrelevant", "Redundant", "Unverifiable"]);
    const text = (await rlxf(["rm", "train", "--type", "segments", "--name", "qa-dense", "--test-fraction", "0.3", "--no-save", "--db", db])).out;
    expect(text).toMatch(/trained segment reward model qa-dense \(not saved\) on \d+ outputs with spans/);
    expect(text).toMatch(/always-flag F1/);
  });

  it("scores stored generations per segment (rm score) and writes TRL stepwise rows (dense score)", async () => {
    const scored = lines((await rlxf(["rm", "score", "--model", "qa-dense", "--db", db])).out);
    expect(scored).toHaveLength(world.answers.length);
    const row = scored.find((r) => r.generationId === "gen-0-0")!;
    const output = world.answers.find((a) => a.itemId === "item-0")!.response;
    expect(row.segments.map((x: { start: number; end: number }) => output.slice(x.start, x.end))).toEqual(row.segments.map((x: { text: string }) => x.text));
    expect(typeof row.reward).toBe("number");

    const file = join(dir, "steps.jsonl");
    await rlxf(["dense", "score", "--model", "qa-dense", "--format", "trl-stepwise", "--out", file, "--db", db]);
    const steps = lines(readFileSync(file, "utf8"));
    expect(steps).toHaveLength(world.answers.length);
    expect(Object.keys(steps[0]!).sort()).toEqual(["completions", "labels", "prompt"]);
    expect(steps.some((r) => r.labels.includes(false))).toBe(true);

    const input = join(dir, "in.jsonl");
    const a = world.answers[1]!;
    writeFileSync(input, `${JSON.stringify({ id: "x1", prompt: a.prompt, response: a.response, passages: a.passages.map((p) => [p.title, ...p.sentences]) })}\n`);
    const [one] = lines((await rlxf(["dense", "score", "--model", "qa-dense", "--in", input, "--db", db])).out);
    expect(one).toMatchObject({ id: "x1", prompt: a.prompt });
    expect(one!.segments[0]).toEqual(expect.objectContaining({ start: 0, rewards: expect.any(Object), flagged: expect.any(Array) }));
    writeFileSync(input, `${JSON.stringify({ prompt: a.prompt, response: a.response, passages: "not a list" })}\n`);
    await expect(rlxf(["dense", "score", "--model", "qa-dense", "--in", input, "--db", db])).rejects.toThrow(/line 1: passages must be a list/);
  });

  it("evaluates detection and pairwise accuracy on the held-out items", async () => {
    const e = JSON.parse((await rlxf(["dense", "eval", "--model", "qa-dense", "--json", "--db", db])).out);
    expect(e.split).toBe("test");
    expect(e.outputs).toBeGreaterThan(10);
    for (const d of e.detection) expect(d.f1, d.type).toBeGreaterThan(d.alwaysFlagF1);
    expect(e.pairs.accuracy).toBeGreaterThan(0.7);
    // rm eval reads the items' passages for a segment model too.
    const r = JSON.parse((await rlxf(["rm", "eval", "--model", "qa-dense", "--split", "test", "--kinds", "pairwise", "--json", "--db", db])).out);
    expect(r.accuracy).toBeCloseTo(e.pairs.accuracy, 1);
    expect(r.accuracy).toBeGreaterThan(0.7);
  });

  it("says what is wrong with the request", async () => {
    await expect(rlxf(["rm", "train", "--type", "segments", "--name", "x", "--kinds", "pairwise", "--db", db])).rejects.toThrow(/--kinds, --from, --robust and --cv do not apply/);
    await expect(rlxf(["rm", "train", "--type", "segments", "--name", "x", "--groups", "nolabels", "--db", db])).rejects.toThrow(/expected NAME=LABEL/);
    await expect(rlxf(["rm", "train", "--type", "segments", "--name", "x", "--project", "empty", "--db", db])).rejects.toThrow(/no span feedback in project "empty"/);
    await expect(rlxf(["dense", "score", "--db", db])).rejects.toThrow(/name a model/);
  });
});

describe("rlxf spans from-critiques", () => {
  it("aligns a judge's critiques with the outputs and stores spans with provenance, once", async () => {
    const input = join(dir, "outputs.jsonl");
    const chosen = world.answers.filter((a) => a.itemId === "item-3" || a.itemId === "item-4");
    writeFileSync(input, chosen.map((a) => JSON.stringify({ instruction: a.prompt, output: a.response })).join("\n") + "\n");
    await rlxf(["judge", "critique", "--input", input, "--project", "crit", "--db", db, "--base-url", server.baseUrl, "--model", "critic", "--api-key", "sk-local"]);
    const first = JSON.parse((await rlxf(["spans", "from-critiques", "--project", "crit", "--json", "--db", db])).out);
    const withRival = chosen.filter((a) => /The main rival of/.test(a.response));
    expect(first).toMatchObject({ critiques: chosen.length, derived: withRival.length, spans: withRival.length, written: withRival.length });
    expect(first.skippedPhrases["missing content"]).toBe(withRival.length);
    const again = JSON.parse((await rlxf(["spans", "from-critiques", "--project", "crit", "--json", "--db", db])).out);
    expect(again).toMatchObject({ written: 0, existing: withRival.length });
    const store = await openStore({ path: db });
    try {
      const spans = [];
      for await (const r of store.iterateResolvedFeedback({ project: "crit", kind: ["spans"] })) spans.push(r);
      expect(spans).toHaveLength(withRival.length);
      for (const r of spans) {
        const out = r.targets[0]!.output;
        const v = r.feedback.value as { spans: Array<{ start: number; end: number; label: string; score: number }> };
        expect(v.spans).toHaveLength(1);
        expect(out.slice(v.spans[0]!.start, v.spans[0]!.end)).toMatch(/^The main rival of .+\.$/);
        expect(v.spans[0]).toMatchObject({ label: "irrelevant", score: -1 });
        expect(r.feedback.metadata).toMatchObject({ derivedFrom: { kind: "critique" }, aligner: { name: "rlxf-critique-align" } });
        expect(r.feedback.source.type).toBe("critic");
      }
    } finally {
      await store.close();
    }
  });
});
