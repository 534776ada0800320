/**
 * The reward service: POST /v1/reward, POST /v1/reward/openrlhf, and the HTTP contract the
 * verl and TRL shims in examples/ rely on (driven with python3 against a real listener).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linearSynthetic } from "../../src/learn/index.js";
import { saveRewardModel, trainRewardModel } from "../../src/learn/reward/index.js";
import { createApp, listen, openApiDocument } from "../../src/server/index.js";
import type { RunningServer } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { type Caller, ROOT, caller, expectErrorShape, keyOf } from "./helpers.js";

let store: Store;
let app: ReturnType<typeof createApp>;
let admin: Caller;
let read: Caller;
let annotate: Caller;
let ingest: Caller;
let readSecret: string;

beforeAll(async () => {
  store = await openStore({ path: ":memory:" });
  app = createApp({ store, log: () => {} });
  admin = caller(app, await keyOf(store, "p1", "admin"));
  readSecret = await keyOf(store, "p1", "read");
  read = caller(app, readSecret);
  ingest = caller(app, await keyOf(store, "p1", "ingest"));
  annotate = caller(app, await keyOf(store, "p1", "annotate", "ann"));
});
afterAll(async () => {
  await store.close();
});

describe("POST /v1/reward", () => {
  it("scores a batch with the default math spec, in order, and caches repeats", async () => {
    const body = {
      samples: [
        { prompt: "2+2?", completion: "The answer is \\boxed{4}", reference: "4" },
        { prompt: "2+2?", completion: "The answer is \\boxed{5}", reference: "4" },
        { completion: "so x = \\boxed{1/2}", reference: "0.5" },
      ],
    };
    const r = await read("POST", "/v1/reward", body);
    expect(r.status, r.text).toBe(200);
    expect(r.body.results.map((x: { score: number }) => x.score)).toEqual([1, 0, 1]);
    expect(r.body.results[0]).toMatchObject({ passed: true, cached: false, components: [{ name: "math", type: "math", weight: 1, passed: true, score: 1 }] });
    const again = await read("POST", "/v1/reward", body);
    expect(again.body.results.map((x: { cached: boolean }) => x.cached)).toEqual([true, true, true]);
    expect(again.body.results.map((x: { score: number }) => x.score)).toEqual([1, 0, 1]);
  });

  it("takes per-sample specs, inline specs and weighted composites with per-component details", async () => {
    const composite = {
      type: "composite",
      name: "mix",
      members: [
        { verifier: "exact", weight: 3 },
        { verifier: { type: "length", name: "short", maxChars: 5 }, weight: 1 },
      ],
    };
    const r = await ingest("POST", "/v1/reward", {
      spec: composite,
      samples: [
        { completion: "yes", reference: "yes" },
        { completion: "no, definitely", reference: "yes" },
        { completion: "yes", reference: "yes", spec: "exact" },
        { completion: "abc", spec: { type: "regex", pattern: "^a" } },
      ],
    });
    expect(r.status, r.text).toBe(200);
    const [a, b, c, d] = r.body.results;
    expect(a.score).toBe(1);
    expect(a.components).toEqual([
      { name: "exact", type: "exact", weight: 3, passed: true, score: 1 },
      { name: "short", type: "length", weight: 1, passed: true, score: 1 },
    ]);
    expect(b.score).toBe(0);
    expect(b.passed).toBe(false);
    expect(c.components).toHaveLength(1);
    expect(c.score).toBe(1);
    expect(d.score).toBe(1);
  });

  it("refuses bad specs, bad bodies and the annotate role with the error shape", async () => {
    expectErrorShape(await read("POST", "/v1/reward", { samples: [{ completion: "x", spec: "nope" }] }), 400, "validation_failed");
    const bad = await read("POST", "/v1/reward", { samples: [{ completion: "x" }], spec: { type: "regex" } });
    expectErrorShape(bad, 400, "validation_failed");
    expect(bad.body.error.issues[0].path).toMatch(/^spec/);
    expectErrorShape(await read("POST", "/v1/reward", { samples: [] }), 400, "validation_failed");
    expectErrorShape(await read("POST", "/v1/reward", { samples: [{ completion: 3 }] }), 400, "validation_failed");
    expectErrorShape(await read("POST", "/v1/reward", { samples: [{ completion: "x" }], extra: 1 }), 400, "validation_failed");
    expectErrorShape(await annotate("POST", "/v1/reward", { samples: [{ completion: "x" }] }), 403, "forbidden");
    expectErrorShape(await caller(app)("POST", "/v1/reward", { samples: [{ completion: "x" }] }), 401, "unauthorized");
    expectErrorShape(await read("POST", "/v1/reward", { samples: [{ completion: "x" }], spec: { type: "reward-model", model: "missing@1" } }), 404, "not_found");
    expectErrorShape(await read("GET", "/v1/reward"), 405, "method_not_allowed");
  });

  it("stores verification feedback on request, idempotently, and only for writing roles", async () => {
    const body = { store: true, spec: "exact", policy: "pol", samples: [{ prompt: "say yes", completion: "yes", reference: "yes" }] };
    expectErrorShape(await read("POST", "/v1/reward", body), 403, "forbidden");
    const r = await ingest("POST", "/v1/reward", body);
    expect(r.status, r.text).toBe(200);
    const id = r.body.results[0].feedbackId;
    expect(id).toMatch(/^fb_/);
    const again = await ingest("POST", "/v1/reward", body);
    expect(again.body.results[0].feedbackId).toBe(id);
    const fb = await admin("GET", `/v1/feedback/${id}`);
    expect(fb.status, fb.text).toBe(200);
    expect(fb.body).toMatchObject({ kind: "verification", source: { type: "verifier", id: "exact" }, value: { passed: true, score: 1 } });
    const g = await admin("GET", `/v1/generations/${fb.body.targets[0]}`);
    expect(g.body).toMatchObject({ policy: "pol", output: "yes" });
    const list = await admin("GET", "/v1/feedback?kind=verification");
    expect(list.body.records).toHaveLength(1);
  });

  it("scores with a stored reward model, as sigmoid(reward), mixed with a verifier", async () => {
    const syn = linearSynthetic({ n: 200, seed: 1 });
    const { model } = await trainRewardModel(syn.pairs, { seed: 1, name: "rm", project: "p1" });
    await saveRewardModel(store, model);
    const [pair] = syn.pairs;
    const [expected] = await model.score([{ prompt: pair!.prompt, response: pair!.chosen.text }]);
    const prompt = typeof pair!.prompt === "string" ? pair!.prompt : "";
    const r = await read("POST", "/v1/reward", {
      samples: [{ prompt, completion: pair!.chosen.text }],
      spec: { type: "reward-model", model: "rm@1" },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.results[0].score).toBeCloseTo(1 / (1 + Math.exp(-expected!.reward)), 9);
    expect(r.body.results[0].details.reward).toBeCloseTo(expected!.reward, 9);
    const mix = await read("POST", "/v1/reward", {
      samples: [{ prompt, completion: pair!.chosen.text, reference: "nope" }],
      spec: { type: "composite", threshold: 0, members: [{ verifier: { type: "reward-model", model: "rm", name: "rm" }, weight: 1 }, { verifier: "exact", weight: 1 }] },
    });
    expect(mix.status, mix.text).toBe(200);
    expect(mix.body.results[0].components.map((c: { name: string }) => c.name)).toEqual(["rm", "exact"]);
    expect(mix.body.results[0].score).toBeCloseTo(r.body.results[0].score / 2, 9);
  });
});

describe("POST /v1/reward/openrlhf", () => {
  it("speaks OpenRLHF's remote reward-model protocol", async () => {
    const r = await read("POST", "/v1/reward/openrlhf", {
      query: ["Q: 1+1? A: \\boxed{2}", "Q: 1+1? A: \\boxed{3}", "Q: 1+1? A: 2"],
      prompts: ["Q: 1+1? A:", "Q: 1+1? A:", "Q: 1+1? A:"],
      labels: ["2", "2", "2"],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ rewards: [1, 0, 1], scores: [1, 0, 1], extra_logs: { passed: [1, 0, 1] } });
  });

  it("takes the spec from the query, logs composite components, and checks lengths", async () => {
    const spec = encodeURIComponent("exact");
    const r = await read("POST", `/v1/reward/openrlhf?spec=${spec}`, { query: ["p yes", "p no"], prompts: ["p ", "p "], labels: ["yes", "yes"] });
    expect(r.body.rewards).toEqual([1, 0]);
    const mixed = await read("POST", "/v1/reward/openrlhf", {
      query: ["p yes", "p no"],
      prompts: ["p ", "p "],
      labels: ["yes", "yes"],
      spec: { type: "composite", members: [{ verifier: "exact" }, { verifier: { type: "contains", name: "has-y", any: ["y"] } }] },
    });
    expect(mixed.body).toEqual({ rewards: [1, 0], scores: [1, 0], extra_logs: { passed: [1, 0], exact: [1, 0], "has-y": [1, 0] } });
    expectErrorShape(await read("POST", "/v1/reward/openrlhf", { query: ["a", "b"], labels: ["x"] }), 400, "validation_failed");
    expectErrorShape(await read("POST", "/v1/reward/openrlhf?spec=nope", { query: ["a"] }), 400, "validation_failed");
    expectErrorShape(await annotate("POST", "/v1/reward/openrlhf", { query: ["a"] }), 403, "forbidden");
  });

  it("is in the OpenAPI document", () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    expect(doc.paths["/v1/reward"]?.post).toBeDefined();
    expect(doc.paths["/v1/reward/openrlhf"]?.post).toBeDefined();
    for (const s of ["RewardBody", "RewardResponse", "OpenRlhfBody", "OpenRlhfResponse"]) expect(doc.components.schemas).toHaveProperty(s);
  });
});

describe("the verl and TRL shims (examples/) over HTTP", () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await listen(app, { port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await running?.close();
  });

  const python = (code: string, env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        "/usr/bin/python3",
        ["-c", code],
        { cwd: join(ROOT, "examples"), timeout: 30_000, env: { PATH: process.env.PATH ?? "", PYTHONDONTWRITEBYTECODE: "1", RLXF_REWARD_URL: running.url, RLXF_API_KEY: readSecret, ...env } },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it("verl: compute_score returns the service's score as a float", async () => {
    const r = await python(
      "from verl_reward import compute_score as c; print(c('gsm8k', 'so \\\\boxed{4}', '4')); print(c('gsm8k', 'so \\\\boxed{5}', '4', {'prompt': '2+2'}))",
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual(["1.0", "0.0"]);
    const spec = await python("from verl_reward import compute_score as c; print(c('x', 'yes', 'yes', {'reward_spec': 'exact'}))", { RLXF_REWARD_SPEC: "math" });
    expect(spec.stdout.trim(), spec.stderr).toBe("1.0");
  });

  it("verl: a bad key is a clear error", async () => {
    const r = await python("from verl_reward import compute_score as c; c('x', 'y', 'z')", { RLXF_API_KEY: "rlxf_bad_key" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("answered 401");
  });

  it("TRL: rlxf_reward takes standard and conversational completions and a ground-truth column", async () => {
    const r = await python(
      [
        "from trl_grpo_reward import rlxf_reward as f",
        "print(f(['2+2?', '2+2?'], ['\\\\boxed{4}', '\\\\boxed{5}'], ground_truth=['4', '4']))",
        "print(f([[{'role': 'user', 'content': '2+2?'}]], [[{'role': 'assistant', 'content': 'It is \\\\boxed{4}'}]], answer=['4']))",
        "print(f([], []))",
      ].join("\n"),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual(["[1.0, 0.0]", "[1.0]", "[]"]);
    const exact = await python("from trl_grpo_reward import rlxf_reward as f\nprint(f(['q'], ['yes'], label=['yes']))", { RLXF_REWARD_SPEC: '{"type": "exact"}' });
    expect(exact.stdout.trim(), exact.stderr).toBe("[1.0]");
  });

  it("OpenRLHF over a real socket (what --remote_rm_url sends)", async () => {
    const res = await fetch(`${running.url}/v1/reward/openrlhf`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${readSecret}` },
      body: JSON.stringify({ query: ["Q A: \\boxed{7}"], prompts: ["Q A:"], labels: ["7"] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ rewards: [1], scores: [1], extra_logs: { passed: [1] } });
  });

  it("OpenRLHF without headers: the key may ride in the URL, and only on that endpoint", async () => {
    const body = JSON.stringify({ query: ["Q A: \\boxed{7}"], prompts: ["Q A:"], labels: ["7"] });
    const ok = await fetch(`${running.url}/v1/reward/openrlhf?key=${encodeURIComponent(readSecret)}&spec=math`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { rewards: number[] }).rewards).toEqual([1]);
    const bad = await fetch(`${running.url}/v1/reward/openrlhf?key=rlxf_nope_nope`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
    expect(bad.status).toBe(401);
    const elsewhere = await fetch(`${running.url}/v1/items?key=${encodeURIComponent(readSecret)}`);
    expect(elsewhere.status).toBe(401);
  });
});
