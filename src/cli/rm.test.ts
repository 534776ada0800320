/**
 * `rlxf rm` and `rlxf dataset` end to end, in process, on a temporary SQLite store.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { textKey } from "../learn/index.js";
import { linearSynthetic } from "../learn/index.js";
import { fixture } from "../learn/datasets/fixture.contract.js";
import { openStore } from "../store/index.js";
import { program } from "./program.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-cli-rm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  try {
    await program().parseAsync(["node", "rlxf", ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { out: out.join(""), err: err.join("") };
}

describe("rlxf rm", () => {
  const db = join(dir, "rm.db");
  const syn = linearSynthetic({ n: 300, seed: 1 });

  beforeAll(async () => {
    const store = await openStore({ path: db });
    try {
      await store.write({
        items: syn.pairs.map((p) => ({ id: p.itemId, prompt: p.prompt })),
        generations: syn.pairs.flatMap((p) => [
          { id: p.chosen.generationId!, itemId: p.itemId, policy: "a", output: p.chosen.text },
          { id: p.rejected.generationId!, itemId: p.itemId, policy: "b", output: p.rejected.text },
        ]),
        feedback: syn.pairs.map((p, i) => ({
          id: p.feedbackIds[0]!,
          kind: "pairwise",
          // Half the pairs list the preferred output second.
          targets: i % 2 ? [p.chosen.generationId!, p.rejected.generationId!] : [p.rejected.generationId!, p.chosen.generationId!],
          source: { type: "human", id: "ann" },
          value: { choice: i % 2 ? "first" : "second" },
        })),
      });
    } finally {
      await store.close();
    }
  });

  it("trains, stores versions, lists, evaluates and scores", async () => {
    const t = JSON.parse((await run(["rm", "train", "--name", "demo", "--db", db, "--seed", "1", "--cv", "3", "--json"])).out);
    expect(t).toMatchObject({ name: "demo", version: 1, type: "bradley-terry", pairs: 300, seed: 1 });
    expect(t.train + t.test).toBe(300);
    expect(t.metrics.test.accuracy).toBeGreaterThan(0.75);
    expect(t.cv.folds).toBe(3);
    expect(t.cv.accuracy).toBeGreaterThan(0.75);

    const e = JSON.parse((await run(["rm", "train", "--name", "demo", "--type", "ensemble", "--members", "3", "--db", db, "--json"])).out);
    expect(e).toMatchObject({ version: 2, type: "ensemble" });

    const list = JSON.parse((await run(["rm", "list", "--db", db, "--json"])).out) as Array<{ name: string; version: number; summary: Record<string, unknown> }>;
    expect(list.map((m) => `${m.name}@${m.version}`)).toEqual(["demo@2", "demo@1"]);
    expect(list[1]!.summary).toMatchObject({ type: "bradley-terry", featurizer: "hashed-ngrams", query: { project: "default" } });
    const table = (await run(["rm", "list", "--db", db])).out;
    expect(table).toContain("demo@1");

    // Evaluating on the held-out side of the training split reproduces the training run's test metrics.
    const ev = JSON.parse((await run(["rm", "eval", "--model", "demo@1", "--split", "test", "--db", db, "--json"])).out);
    expect(ev.pairs).toBe(t.test);
    expect(ev.accuracy).toBeCloseTo(t.metrics.test.accuracy, 12);
    expect(ev.logLoss).toBeCloseTo(t.metrics.test.logLoss, 12);
    const evText = (await run(["rm", "eval", "--model", "demo", "--db", db])).out;
    // By default on the held-out split of the model's own training run.
    expect(evText).toContain(`ensemble reward model demo@2 on ${e.test} pair(s), split test`);
    expect(evText).toContain("accuracy by |margin|");

    // Scores of stored generations (ensemble: mean, std, penalised).
    const scored = (await run(["rm", "score", "--model", "demo", "--db", db, "--policy", "a"])).out.trim().split("\n").map((l) => JSON.parse(l));
    expect(scored).toHaveLength(300);
    expect(scored[0]).toMatchObject({ policy: "a", reward: expect.any(Number), mean: expect.any(Number), std: expect.any(Number) });

    // Scores of a JSON Lines file: single responses, pairs, and sets.
    const input = join(dir, "in.jsonl");
    writeFileSync(
      input,
      [
        { id: 1, prompt: "q", response: "good0 good2 good4" },
        { id: 2, prompt: [{ role: "user", content: "q" }], first: "good0 good2", second: "bad1 bad3" },
        { id: 3, prompt: "q", responses: ["bad1 bad3", "good0 good2"] },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    const outFile = join(dir, "scores.jsonl");
    await run(["rm", "score", "--model", "demo@1", "--db", db, "--in", input, "--out", outFile]);
    const rows = readFileSync(outFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(rows[0]).toMatchObject({ id: 1, reward: expect.any(Number) });
    expect(rows[1]).toMatchObject({ id: 2, margin: expect.any(Number), pFirst: expect.any(Number) });
    expect(rows[1].pFirst).toBeGreaterThan(0.5);
    expect(rows[2].scores[1]).toBeGreaterThan(rows[2].scores[0]);
  });

  it("exports and imports model files; trains GPMs and noise-robust models", async () => {
    const file = join(dir, "demo1.json.gz");
    await run(["rm", "export", "--model", "demo@1", "--out", file, "--db", db]);
    await run(["rm", "import", file, "--name", "copy", "--db", db]);
    const list = JSON.parse((await run(["rm", "list", "--db", db, "--json"])).out) as Array<{ name: string; version: number }>;
    expect(list.map((m) => `${m.name}@${m.version}`)).toContain("copy@1");
    const a = JSON.parse((await run(["rm", "eval", "--model", "copy", "--db", db, "--json"])).out);
    const b = JSON.parse((await run(["rm", "eval", "--file", file, "--db", db, "--json"])).out);
    expect(a.accuracy).toBe(b.accuracy);

    const g = JSON.parse((await run(["rm", "train", "--name", "gpm", "--type", "gpm", "--dims", "2", "--db", db, "--json", "--no-calibrate"])).out);
    expect(g).toMatchObject({ type: "gpm", version: 1, temperature: 1 });
    await expect(run(["rm", "score", "--model", "gpm", "--db", db])).rejects.toThrow(/compares pairs/);

    const r = JSON.parse((await run(["rm", "train", "--name", "robust", "--robust", "peers", "--noise-rate", "0.1", "--db", db, "--json", "--no-save", "--out", join(dir, "r.json")])).out);
    expect(r.flagged).toBe(Math.round(0.1 * r.train));
    expect(r.version).toBeUndefined();
    expect(JSON.parse(readFileSync(join(dir, "r.json"), "utf8")).training.robust.method).toBe("peers");
  });

  it("trains and scores on embedding features from an OpenAI-compatible endpoint, cached in the store", async () => {
    let requests = 0;
    const server = createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      const { input } = JSON.parse(body) as { input: string[] };
      requests++;
      const embed = (t: string) => Array.from({ length: 8 }, (_, k) => t.split(" ").filter((w) => w.length % 8 === k).length + 0.1);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: input.map((t, index) => ({ index, embedding: embed(t) })) }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      const t = JSON.parse((await run(["rm", "train", "--name", "emb", "--embed-url", url, "--embed-model", "toy", "--db", db, "--json"])).out);
      expect(t).toMatchObject({ name: "emb", version: 1 });
      const store = await openStore({ path: db });
      try {
        expect((await store.models.get("default", "emb"))!.summary.featurizer).toBe("embedding");
        expect((await store.vectors.get("embedding:toy", [textKey(syn.pairs[0]!.chosen.text)])).size).toBe(1);
      } finally {
        await store.close();
      }
      const before = requests;
      const scored = (await run(["rm", "score", "--model", "emb", "--policy", "a", "--embed-url", url, "--embed-model", "toy", "--db", db])).out.trim().split("\n");
      expect(scored).toHaveLength(300);
      expect(requests).toBe(before); // every text was cached by training
      await expect(run(["rm", "score", "--model", "emb", "--db", db])).rejects.toThrow(/pass an embedder/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("explains what is missing", async () => {
    await expect(run(["rm", "eval", "--model", "nope", "--db", db])).rejects.toThrow(/no reward model "nope".*stored: /);
    await expect(run(["rm", "train", "--name", "x", "--kinds", "rating", "--db", db])).rejects.toThrow(/no preference pairs/);
    await expect(run(["rm", "train", "--name", "x", "--embed-url", "http://127.0.0.1:1/v1", "--db", db])).rejects.toThrow(/--embed-model/);
  });
});

describe("rlxf dataset", () => {
  const db = join(dir, "ds.db");

  beforeAll(async () => {
    const fx = fixture();
    const store = await openStore({ path: db });
    try {
      await store.write({ items: fx.items, generations: fx.generations, feedback: fx.feedback });
    } finally {
      await store.close();
    }
  });

  it("builds every format from the store, with a test split", async () => {
    const pref = join(dir, "pref.jsonl");
    const test = join(dir, "pref.test.jsonl");
    const s = JSON.parse(
      (await run(["dataset", "build", "--format", "trl-preference", "--out", pref, "--test-out", test, "--test-fraction", "0.5", "--seed", "2", "--db", db, "--json"])).out,
    );
    expect(s.rows + s.testRows).toBe(s.pairs);
    expect(readFileSync(pref, "utf8").trim().split("\n")).toHaveLength(s.rows);

    const verl = join(dir, "rl.parquet");
    // A rule-scored ability refuses prompts without ground truth, unless told to skip them.
    await expect(run(["dataset", "build", "--format", "verl", "--ability", "math", "--out", verl, "--db", db])).rejects.toThrow(/3 of 5 prompts have no reference answer/);
    await run(["dataset", "build", "--format", "verl", "--ability", "math", "--missing-ground-truth", "skip", "--out", verl, "--db", db]);
    const buf = readFileSync(verl);
    const rows = (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) })) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => (r.reward_model as { ground_truth: unknown }).ground_truth !== null)).toBe(true);
    expect(rows[0]).toMatchObject({ data_source: "math", prompt: [{ role: "user", content: "What is 2+2?" }], reward_model: { style: "rule", ground_truth: "4" } });

    const judged = join(dir, "judge.jsonl");
    const j = JSON.parse((await run(["dataset", "build", "--format", "openai-dpo", "--source-type", "judge", "--out", judged, "--db", db, "--json"])).out);
    expect(j.rows).toBe(1);

    const { err } = await run(["dataset", "build", "--format", "trl-preference", "--min-agreement", "0.9", "--out", join(dir, "agree.jsonl"), "--db", db]);
    expect(err).toMatch(/dropped \d+: agreement below 0.9/);

    await expect(run(["dataset", "build", "--format", "trl-stepwise", "--kinds", "pairwise", "--out", join(dir, "none.jsonl"), "--db", db])).rejects.toThrow(/no trl-stepwise rows/);
  });

  it("writes C3PO sets from a spec", async () => {
    const spec = join(dir, "c3po.json");
    writeFileSync(
      spec,
      JSON.stringify({
        feedback: "No emojis in emails to my boss.",
        inScope: [{ prompt: "Email my boss.", baseline: "Hi 😀", revised: "Hello." }],
        outOfScope: [{ prompt: "Text a friend.", baseline: "Hey 😀" }],
      }),
    );
    const out = join(dir, "c3po.pref.jsonl");
    const sft = join(dir, "c3po.sft.jsonl");
    const s = JSON.parse((await run(["dataset", "c3po", "--spec", spec, "--out", out, "--sft-out", sft, "--format", "openai-dpo", "--json"])).out);
    expect(s).toMatchObject({ pairs: 1, sft: 1 });
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({ preferred_output: [{ role: "assistant", content: "Hello." }] });
    expect(JSON.parse(readFileSync(sft, "utf8"))).toEqual({ messages: [{ role: "user", content: "Text a friend." }, { role: "assistant", content: "Hey 😀" }] });
  });
});
