import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../store/index.js";
import { MemoryResponseCache, StoreResponseCache, cacheKey } from "./cache.js";
import { resolveModelSettings, createModel } from "./config.js";
import { ProviderError } from "./errors.js";
import { virtualClock } from "./limits.js";
import { Model } from "./model.js";
import { OpenAIBackend, normalizeOpenAIBaseUrl } from "./openai.js";
import { normalizeAnthropicBaseUrl } from "./anthropic.js";
import { type FakeServer, inTurn, perPrompt, startFakeModelServer } from "./testing/index.js";

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeModelServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.respond = () => "ok";
  server.latencyMs = 0;
  server.reset();
});

const user = (content: string) => ({ messages: [{ role: "user" as const, content }] });

/** A model on the fake server with virtual time for the waits between retries. */
function model(extra: Partial<ConstructorParameters<typeof Model>[0]> = {}, provider: "openai" | "anthropic" = "openai") {
  const clock = virtualClock();
  const m = createModel(
    { provider, baseUrl: provider === "openai" ? server.baseUrl : server.url, model: "judge-1", apiKey: "sk-test", maxRetries: 3 },
    { clock, random: () => 0.5 },
  );
  // Rebuild with the extra options (limits, timeout...) on the same backend.
  const full = new Model({ backend: m.backend, model: "judge-1", maxRetries: 3, clock, random: () => 0.5, ...extra });
  return { m: full, clock };
}

describe("OpenAI-compatible chat", () => {
  it("sends the request in OpenAI's shape and reads text, logprobs and usage", async () => {
    server.respond = () => ({ text: "m", top: { m: 0.7, M: 0.2, x: 0.1 }, usage: { inputTokens: 120, outputTokens: 1 } });
    const { m } = model();
    const r = await m.chat({
      messages: [
        { role: "system", content: "be fair" },
        { role: "user", content: "which?" },
      ],
      temperature: 0,
      maxTokens: 1,
      topLogprobs: 2,
      seed: 7,
      stop: ["\n"],
      json: true,
    });
    expect(r.text).toBe("m");
    expect(r.usage).toEqual({ inputTokens: 120, outputTokens: 1 });
    expect(r.logprobs?.[0]?.top?.map((t) => t.token)).toEqual(["m", "M"]);
    expect(Math.exp(r.logprobs![0]!.top![0]!.logprob)).toBeCloseTo(0.7);
    expect(r.cached).toBe(false);
    expect(r.attempts).toBe(1);
    const req = server.requests[0]!;
    expect(req.path).toBe("/v1/chat/completions");
    expect(req.headers.authorization).toBe("Bearer sk-test");
    expect(req.body).toEqual({
      model: "judge-1",
      messages: [
        { role: "system", content: "be fair" },
        { role: "user", content: "which?" },
      ],
      temperature: 0,
      max_tokens: 1,
      seed: 7,
      stop: ["\n"],
      logprobs: true,
      top_logprobs: 2,
      response_format: { type: "json_object" },
    });
  });

  it("lets a request name another model and pass extra body fields", async () => {
    const { m } = model();
    await m.chat({ ...user("hi"), model: "other", extra: { guided_choice: ["a", "b"] } });
    expect(server.requests[0]!.body).toMatchObject({ model: "other", guided_choice: ["a", "b"] });
  });

  it("reads the legacy completions logprobs shape too", () => {
    const b = new OpenAIBackend({ baseUrl: "http://x/v1" });
    const r = b.parseChat({
      choices: [{ text: "M", logprobs: { tokens: ["M"], token_logprobs: [-0.1], top_logprobs: [{ M: -0.1, m: -2.4 }] } }],
    });
    expect(r.text).toBe("M");
    expect(r.logprobs?.[0]?.top).toEqual([
      { token: "M", logprob: -0.1 },
      { token: "m", logprob: -2.4 },
    ]);
  });

  it("normalises base URLs", () => {
    expect(normalizeOpenAIBaseUrl("http://127.0.0.1:8000")).toBe("http://127.0.0.1:8000/v1");
    expect(normalizeOpenAIBaseUrl("http://127.0.0.1:8000/v1/")).toBe("http://127.0.0.1:8000/v1");
    expect(normalizeOpenAIBaseUrl("http://localhost:11434/v1/chat/completions")).toBe("http://localhost:11434/v1");
    expect(normalizeOpenAIBaseUrl("https://gateway.example/openai/v1")).toBe("https://gateway.example/openai/v1");
    expect(() => normalizeOpenAIBaseUrl("localhost:8000")).toThrow(ProviderError);
    expect(normalizeAnthropicBaseUrl("https://api.anthropic.com/v1/messages")).toBe("https://api.anthropic.com");
  });
});

describe("Anthropic messages", () => {
  it("sends system apart, the key as x-api-key, and reads text and usage", async () => {
    server.respond = (r) => ({ text: `echo: ${r.messages.at(-1)!.content}`, usage: { inputTokens: 9, outputTokens: 3 } });
    const { m } = model({}, "anthropic");
    const r = await m.chat({ messages: [{ role: "system", content: "sys" }, { role: "user", content: "hello" }], temperature: 0.2 });
    expect(r.text).toBe("echo: hello");
    expect(r.usage).toEqual({ inputTokens: 9, outputTokens: 3 });
    expect(r.logprobs).toBeUndefined();
    const req = server.requests[0]!;
    expect(req.path).toBe("/v1/messages");
    expect(req.headers["x-api-key"]).toBe("sk-test");
    expect(req.headers["anthropic-version"]).toBe("2023-06-01");
    expect(req.body).toEqual({ model: "judge-1", max_tokens: 1024, system: "sys", messages: [{ role: "user", content: "hello" }], temperature: 0.2 });
  });

  it("reports Anthropic's error message and has no embeddings", async () => {
    server.respond = () => ({ status: 400, message: "max_tokens: too large" });
    const { m } = model({}, "anthropic");
    const e = await m.chat(user("x")).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProviderError);
    expect((e as ProviderError).message).toContain("max_tokens: too large");
    await expect(m.embed({ inputs: ["a"] })).rejects.toThrow(/no embeddings/);
  });
});

describe("embeddings", () => {
  it("returns one vector per input, in order, through the cache", async () => {
    const cache = new MemoryResponseCache();
    const { m } = model({ cache });
    const r = await m.embed({ inputs: ["alpha", "beta"], dimensions: 4 });
    expect(r.embeddings).toHaveLength(2);
    expect(r.embeddings[0]).toHaveLength(4);
    expect(r.usage?.inputTokens).toBeGreaterThan(0);
    expect(server.requests[0]!.body).toEqual({ model: "judge-1", input: ["alpha", "beta"], dimensions: 4 });
    const again = await m.embed({ inputs: ["alpha", "beta"], dimensions: 4 });
    expect(again.cached).toBe(true);
    expect(again.embeddings).toEqual(r.embeddings);
    expect(server.requests).toHaveLength(1);
  });
});

describe("retries", () => {
  it("honours Retry-After on 429 and then succeeds", async () => {
    server.respond = inTurn({ status: 429, retryAfter: 7, message: "slow down" }, "fine");
    const { m, clock } = model();
    const r = await m.chat(user("x"));
    expect(r.text).toBe("fine");
    expect(r.attempts).toBe(2);
    expect(clock.slept).toContain(7000);
    const s = m.stats();
    expect(s).toMatchObject({ calls: 1, requests: 2, retries: 1, failed: 0, errors: { "429": 1 } });
  });

  it("honours retry-after-ms too", async () => {
    server.respond = inTurn({ status: 429, retryAfterMs: 1234 }, "fine");
    const { m, clock } = model();
    await m.chat(user("x"));
    expect(clock.slept).toContain(1234);
  });

  it("caps a huge Retry-After", async () => {
    server.respond = inTurn({ status: 503, retryAfter: 86400 }, "fine");
    const { m, clock } = model({ maxRetryAfterMs: 5000 });
    await m.chat(user("x"));
    expect(clock.slept).toContain(5000);
  });

  it("backs off exponentially (with jitter) on 500s without Retry-After", async () => {
    server.respond = inTurn({ status: 500 }, { status: 502 }, "fine");
    const { m, clock } = model({ backoff: { initialMs: 1000 } });
    const r = await m.chat(user("x"));
    expect(r.text).toBe("fine");
    // random() = 0.5: d/2 + d/4 with d = 1000, then 2000.
    expect(clock.slept).toEqual([750, 1500]);
    expect(m.stats().errors).toEqual({ "500": 1, "502": 1 });
  });

  it("gives up after maxRetries with the last error", async () => {
    server.respond = () => ({ status: 500, message: "boom" });
    const { m } = model({ maxRetries: 2 });
    const e = (await m.chat(user("x")).catch((x: unknown) => x)) as ProviderError;
    expect(e).toBeInstanceOf(ProviderError);
    expect(e.status).toBe(500);
    expect(e.attempts).toBe(3);
    expect(e.message).toContain("boom");
    expect(server.requests).toHaveLength(3);
    expect(m.stats()).toMatchObject({ failed: 1, retries: 2 });
  });

  it("does not retry a 400", async () => {
    server.respond = () => ({ status: 400, message: "bad model" });
    const { m } = model();
    const e = (await m.chat(user("x")).catch((x: unknown) => x)) as ProviderError;
    expect(e.retryable).toBe(false);
    expect(e.attempts).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it("times out a hanging request and retries it", async () => {
    server.respond = inTurn({ hang: true }, "late but fine");
    const { m } = model({ timeoutMs: 150 });
    const r = await m.chat(user("x"));
    expect(r.text).toBe("late but fine");
    expect(m.stats().errors).toEqual({ timeout: 1 });
  });

  it("fails with a timeout error when every attempt hangs", async () => {
    server.respond = () => ({ hang: true });
    const { m } = model({ timeoutMs: 100, maxRetries: 1 });
    const e = (await m.chat(user("x")).catch((x: unknown) => x)) as ProviderError;
    expect(e.kind).toBe("timeout");
    expect(e.attempts).toBe(2);
  });

  it("retries dropped connections and garbled bodies", async () => {
    server.respond = inTurn({ drop: true }, { malformed: "<html>proxy error</html>" }, { malformed: '{"choices": []}' }, "fine");
    const { m } = model();
    const r = await m.chat(user("x"));
    expect(r.text).toBe("fine");
    expect(m.stats().errors).toEqual({ network: 1, protocol: 2 });
  });
});

describe("limits", () => {
  it("keeps at most `concurrency` requests in flight", async () => {
    server.latencyMs = 20;
    const { m } = model({ concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => m.chat(user(`q${i}`))));
    expect(server.requests).toHaveLength(12);
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
    expect(server.maxInFlight).toBeGreaterThanOrEqual(2);
  });

  it("waits for the requests-per-minute limit (virtual time)", async () => {
    const { m, clock } = model({ rpm: 120 }); // one request per 500 ms after a burst of 2
    for (let i = 0; i < 5; i++) await m.chat(user(`q${i}`));
    expect(clock.slept.reduce((s, x) => s + x, 0)).toBe(1500);
  });

  it("holds back other requests while a server's Retry-After runs", async () => {
    // A clock that only moves when the test says so.
    let t = 0;
    const sleepers: { at: number; wake: () => void }[] = [];
    const clock = {
      now: () => t,
      sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ at: t + ms, wake })),
    };
    const m = new Model({ backend: new OpenAIBackend({ baseUrl: server.baseUrl }), model: "judge-1", clock });
    server.respond = perPrompt({ status: 429, retryAfter: 5 }, "ok");
    const a = m.chat(user("a")); // gets the 429
    for (let i = 0; i < 400 && sleepers.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(sleepers).toHaveLength(1);
    server.respond = () => "ok";
    const b = m.chat(user("b")); // a fresh request: must wait for the pause, not hit the server
    for (let i = 0; i < 400 && sleepers.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(sleepers.map((s) => s.at)).toEqual([5000, 5000]);
    expect(server.requests).toHaveLength(1);
    t = 5000;
    for (const s of sleepers.splice(0)) s.wake();
    expect((await a).text).toBe("ok");
    expect((await b).text).toBe("ok");
    expect(server.requests).toHaveLength(3);
  });
});

describe("response cache", () => {
  it("answers a repeated request from the cache; a new sample or cache: false asks again", async () => {
    let n = 0;
    server.respond = () => `answer ${n++}`;
    const cache = new MemoryResponseCache();
    const { m } = model({ cache });
    const a = await m.chat(user("same"));
    const b = await m.chat(user("same"));
    expect(b).toMatchObject({ text: a.text, cached: true, attempts: 0 });
    const c = await m.chat({ ...user("same"), sample: 1 });
    expect(c.text).not.toBe(a.text);
    const d = await m.chat({ ...user("same"), cache: false });
    expect(d.cached).toBe(false);
    expect(server.requests).toHaveLength(3);
    expect(m.stats()).toMatchObject({ calls: 4, cacheHits: 1, requests: 3 });
  });

  it("sends identical requests in flight only once", async () => {
    server.latencyMs = 20;
    const { m } = model({ cache: new MemoryResponseCache() });
    const rs = await Promise.all(Array.from({ length: 5 }, () => m.chat(user("dup"))));
    expect(server.requests).toHaveLength(1);
    expect(rs.filter((r) => r.cached)).toHaveLength(4);
  });

  it("keys on the whole request: endpoint, body and sample", () => {
    const w1 = { path: "/chat/completions", body: { model: "a", messages: [{ role: "user", content: "x" }], temperature: 0 } };
    expect(cacheKey("openai", "http://h/v1", w1)).toBe(cacheKey("openai", "http://h/v1/", { ...w1, body: { ...w1.body } }));
    expect(cacheKey("openai", "http://h/v1", w1)).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey("openai", "http://h/v1", w1)).not.toBe(cacheKey("openai", "http://other/v1", w1));
    expect(cacheKey("openai", "http://h/v1", w1)).not.toBe(cacheKey("anthropic", "http://h/v1", w1));
    expect(cacheKey("openai", "http://h/v1", w1, 1)).not.toBe(cacheKey("openai", "http://h/v1", w1));
    expect(cacheKey("openai", "http://h/v1", w1)).not.toBe(cacheKey("openai", "http://h/v1", { ...w1, body: { ...w1.body, temperature: 1 } }));
  });

  it("persists in the store across models (and store handles)", async () => {
    const store = await openStore({ path: ":memory:" });
    try {
      const first = model({ cache: new StoreResponseCache(store.responseCache, { project: "p" }) }).m;
      server.respond = () => "stored answer";
      await first.chat(user("persist me"));
      await first.close();
      expect(await store.responseCache.count()).toBe(1);
      expect(await store.responseCache.count({ model: "judge-1" })).toBe(1);
      server.respond = () => "a different answer";
      const second = model({ cache: new StoreResponseCache(store.responseCache, { project: "p" }) }).m;
      const r = await second.chat(user("persist me"));
      expect(r).toMatchObject({ text: "stored answer", cached: true });
      expect(server.requests).toHaveLength(1);
      expect(await store.responseCache.clear({ model: "judge-1" })).toBe(1);
      expect(await store.responseCache.count()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("keeps each project's responses to itself, and counts the tokens cached answers once cost as reused, not spent", async () => {
    const store = await openStore({ path: ":memory:" });
    try {
      server.respond = () => ({ text: "project a's answer", usage: { inputTokens: 30, outputTokens: 12 } });
      const a = model({ cache: new StoreResponseCache(store.responseCache, { project: "a" }) }).m;
      await a.chat(user("shared prompt"));
      await a.close();
      server.respond = () => ({ text: "project b's answer", usage: { inputTokens: 30, outputTokens: 7 } });
      const b = model({ cache: new StoreResponseCache(store.responseCache, { project: "b" }) }).m;
      const rb = await b.chat(user("shared prompt"));
      expect(rb).toMatchObject({ text: "project b's answer", cached: false });
      expect(b.stats()).toMatchObject({ cacheHits: 0, inputTokens: 30, outputTokens: 7, cachedInputTokens: 0 });
      await b.close();
      expect(server.requests).toHaveLength(2);
      expect(await store.responseCache.count()).toBe(2);
      const again = model({ cache: new StoreResponseCache(store.responseCache, { project: "a" }) }).m;
      const ra = await again.chat(user("shared prompt"));
      expect(ra).toMatchObject({ text: "project a's answer", cached: true });
      expect(again.stats()).toMatchObject({ calls: 1, cacheHits: 1, inputTokens: 0, outputTokens: 0, cachedInputTokens: 30, cachedOutputTokens: 12 });
      expect(server.requests).toHaveLength(2);
    } finally {
      await store.close();
    }
  });
});

describe("accounting and configuration", () => {
  it("adds up tokens, cost and latency", async () => {
    server.respond = () => ({ text: "x", usage: { inputTokens: 1000, outputTokens: 500 } });
    const { m } = model({ pricing: { inputPerMillion: 2, outputPerMillion: 8 } });
    await m.chat(user("a"));
    await m.chat(user("b"));
    const s = m.stats();
    expect(s.inputTokens).toBe(2000);
    expect(s.outputTokens).toBe(1000);
    expect(s.costUsd).toBeCloseTo((2000 * 2 + 1000 * 8) / 1e6);
    expect(s.latency.n).toBe(2);
    expect(s.latency.maxMs).toBeGreaterThanOrEqual(s.latency.p50Ms);
  });

  it("takes settings from the environment, and never sends a provider's own key elsewhere", () => {
    const env = { RLXF_BASE_URL: "http://127.0.0.1:9/v1", RLXF_MODEL: "m1", OPENAI_API_KEY: "sk-openai" };
    expect(resolveModelSettings({}, env)).toEqual({ provider: "openai", baseUrl: "http://127.0.0.1:9/v1", model: "m1" });
    expect(resolveModelSettings({}, { ...env, RLXF_API_KEY: "k" }).apiKey).toBe("k");
    expect(resolveModelSettings({ model: "gpt-4o-mini" }, { OPENAI_API_KEY: "sk-openai" })).toMatchObject({
      baseUrl: "https://api.openai.com/v1",
      apiKey: "sk-openai",
    });
    expect(resolveModelSettings({ baseUrl: "https://api.anthropic.com", model: "claude" }, { ANTHROPIC_API_KEY: "a" })).toMatchObject({
      provider: "anthropic",
      apiKey: "a",
    });
    expect(resolveModelSettings({ model: "x", baseUrl: "http://h" }, { RLXF_MODEL: "y" }).model).toBe("x");
    expect(() => resolveModelSettings({}, {})).toThrow(/RLXF_MODEL/);
    expect(() => resolveModelSettings({ provider: "nope" as never, model: "x" }, {})).toThrow(/unknown provider/);
  });
});
