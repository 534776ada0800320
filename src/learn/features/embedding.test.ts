/**
 * The embedding featurizer against a real HTTP server on 127.0.0.1 speaking the OpenAI embeddings API (no
 * mocked fetch): deterministic toy embeddings (bag of hashed characters), request counting, failures.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RlxfError } from "../../errors.js";
import { openStore } from "../../store/index.js";
import { linearSynthetic } from "../synthetic.js";
import { RewardModel } from "../reward/model.js";
import { trainRewardModel } from "../reward/train.js";
import { cachedEmbedder, embeddingFeaturizer, openAiEmbedder } from "./embedding.js";

const DIM = 16;

/** A toy embedding: counts of words hashed into DIM buckets (so related texts are close). */
function toyEmbedding(text: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  for (const w of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    let h = 7;
    for (let i = 0; i < w.length; i++) h = (h * 31 + w.charCodeAt(i)) >>> 0;
    v[h % DIM]! += 1;
  }
  v[DIM - 1]! += 0.5;
  return v;
}

const log: Array<{ auth?: string; inputs: number; model: string }> = [];
let failNext = 0;
let server: Server;
let baseUrl = "";

async function body(req: IncomingMessage): Promise<string> {
  let s = "";
  for await (const chunk of req) s += chunk;
  return s;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/embeddings") {
      res.writeHead(404).end("not found");
      return;
    }
    const json = JSON.parse(await body(req)) as { model: string; input: string[] };
    if (failNext > 0) {
      failNext--;
      res.writeHead(503, { "content-type": "application/json" }).end('{"error":"busy"}');
      return;
    }
    if (json.model === "bad-model") {
      res.writeHead(400, { "content-type": "application/json" }).end('{"error":{"message":"unknown model"}}');
      return;
    }
    log.push({ ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), inputs: json.input.length, model: json.model });
    // Answer in reverse order with explicit indices, as the API allows.
    const data = json.input.map((t, index) => ({ object: "embedding", index, embedding: toyEmbedding(t) })).reverse();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data, model: json.model }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  log.length = 0;
  failNext = 0;
});

describe("OpenAI-compatible embeddings", () => {
  it("embeds in batches, in input order, with the API key, retrying 5xx", async () => {
    const e = openAiEmbedder({ baseUrl, model: "toy", apiKey: "sk-test", batchSize: 2 });
    failNext = 1;
    const texts = ["alpha beta", "gamma", "alpha", "delta delta"];
    const out = await e.embed(texts);
    expect(out).toEqual(texts.map(toyEmbedding));
    expect(log.map((l) => l.inputs)).toEqual([2, 2]);
    expect(log.every((l) => l.auth === "Bearer sk-test" && l.model === "toy")).toBe(true);
  });

  it("reports client errors and unreachable servers clearly", async () => {
    await expect(openAiEmbedder({ baseUrl, model: "bad-model" }).embed(["x"])).rejects.toThrow(/400.*unknown model/);
    await expect(openAiEmbedder({ baseUrl: "http://127.0.0.1:1/v1", model: "toy", retries: 1 }).embed(["x"])).rejects.toBeInstanceOf(RlxfError);
  });

  it("caches embeddings in the store: a second pass calls the endpoint for new texts only", async () => {
    const store = await openStore({ path: ":memory:" });
    try {
      const inner = openAiEmbedder({ baseUrl, model: "toy" });
      const e = cachedEmbedder(inner, store.vectors, "embedding:toy");
      const first = await e.embed(["a b", "c", "a b"]);
      expect(log.map((l) => l.inputs)).toEqual([2]);
      const second = await e.embed(["c", "a b", "new text"]);
      expect(log.map((l) => l.inputs)).toEqual([2, 1]);
      expect(second[0]).toEqual(first[1]);
      expect(second[1]).toEqual(first[0]);
      // A fresh cached embedder over the same store finds everything.
      const again = cachedEmbedder(inner, store.vectors, "embedding:toy");
      await again.embed(["a b", "c", "new text"]);
      expect(again.calls).toBe(0);
      expect(log).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it("features combine prompt and response: [e(response), e(prompt) ⊙ e(response)], unit-scaled", async () => {
    const f = embeddingFeaturizer(openAiEmbedder({ baseUrl, model: "toy" }), { model: "toy" });
    const [x] = await f.featurize([{ prompt: [{ role: "user", content: "alpha" }], response: "alpha beta" }]);
    expect(f.spec).toEqual({ type: "embedding", model: "toy", dim: DIM, combine: "pair" });
    expect(f.dim).toBe(2 * DIM);
    const dense = new Array<number>(2 * DIM).fill(0);
    x!.index.forEach((j, k) => (dense[j] = x!.value[k]!));
    const unit = (v: number[]) => v.map((a) => a / Math.hypot(...v));
    const r = unit(toyEmbedding("alpha beta"));
    const p = unit(toyEmbedding("user: alpha".replace("user: ", "")));
    dense.slice(0, DIM).forEach((v, k) => expect(v).toBeCloseTo(r[k]!, 6));
    dense.slice(DIM).forEach((v, k) => expect(v).toBeCloseTo(p[k]! * r[k]!, 6));
    const only = embeddingFeaturizer(openAiEmbedder({ baseUrl, model: "toy" }), { model: "toy", combine: "response" });
    const [y] = await only.featurize([{ prompt: "zzz", response: "alpha beta" }]);
    expect(only.dim).toBe(DIM);
    expect(Math.max(...y!.index)).toBeLessThan(DIM);
  });

  it("trains and reloads a Bradley-Terry model on embedding features", async () => {
    const store = await openStore({ path: ":memory:" });
    try {
      const embedder = cachedEmbedder(openAiEmbedder({ baseUrl, model: "toy" }), store.vectors, "embedding:toy");
      const syn = linearSynthetic({ n: 300, seed: 3, words: 8 });
      const { model, metrics } = await trainRewardModel(syn.pairs, {
        featurizer: embeddingFeaturizer(embedder, { model: "toy" }),
        seed: 1,
        l2: 0.1,
      });
      expect(metrics.test!.accuracy).toBeGreaterThan(0.75);
      const calls = embedder.calls;
      const back = RewardModel.fromArtifact(JSON.parse(JSON.stringify(model.toArtifact())), { embedder });
      const probes = [{ prompt: "question 1", response: syn.pairs[0]!.chosen.text }];
      expect(await back.score(probes)).toEqual(await model.score(probes));
      // Every text was already cached: reloading and scoring made no new request.
      expect(embedder.calls).toBe(calls);
    } finally {
      await store.close();
    }
  });
});
