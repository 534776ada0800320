/**
 * Memory of feedback: principles distilled from stored critiques and corrections (with scope and provenance),
 * retrieved only for in-scope inputs, injected into a loop's prompt, and over-generalisation measured, against a
 * real local OpenAI-compatible server playing the policy and the distilling model.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createModel } from "../providers/index.js";
import { type FakeRequest, type FakeServer, startFakeModelServer } from "../providers/testing/index.js";
import { createVerifier } from "../sources/verifiers/index.js";
import { openStore } from "../store/index.js";
import type { Store } from "../store/index.js";
import { verifierFeedback } from "./feedback.js";
import { refineLoop } from "./loops.js";
import { DISTILL_PROMPT, MemoryRetriever, distillMemory, embeddingSimilarity, isNoChangeCorrection, measureOvergeneralization } from "./memory.js";
import { openAiEmbedder } from "../learn/index.js";

const EMOJI = "\u{1F600}";
const system = (r: FakeRequest) => r.messages.find((m) => m.role === "system")?.content ?? "";
const lastUser = (r: FakeRequest) => [...r.messages].reverse().find((m) => m.role === "user")?.content ?? "";

function respond(r: FakeRequest) {
  if (r.model === "distiller") {
    return JSON.stringify({ principle: "Do not use emojis.", applies_when: "emails to my boss or to colleagues at work", does_not_apply_when: "birthday messages to friends and family" });
  }
  // The policy: adds an emoji unless a principle says not to.
  const u = lastUser(r);
  const noEmoji = /do not use emojis/i.test(system(r));
  if (/sum|add/i.test(u)) return system(r).includes("carry the one") ? "\\boxed{42}" : "\\boxed{41}";
  return `Here you go: ${u.slice(0, 30)}${noEmoji ? "" : ` ${EMOJI}`}`;
}

let server: FakeServer;
let store: Store;
const model = (name: string) => createModel({ baseUrl: server.baseUrl, model: name, maxRetries: 0 });

const BOSS = "Write an email to my boss asking for a day off on Friday";
const FRIEND = "Write a birthday message to my best friend Sam";

async function seed(s: Store) {
  await s.write({
    items: [
      { id: "boss", prompt: BOSS },
      { id: "sum", prompt: "What is 17 + 25?", reference: "42" },
      { id: "ok", prompt: "Say hi" },
    ],
    generations: [
      { id: "boss/g", itemId: "boss", policy: "p", output: `Hi boss ${EMOJI} can I have Friday off?` },
      { id: "sum/g", itemId: "sum", policy: "p", output: "41" },
      { id: "ok/g", itemId: "ok", policy: "p", output: "hi" },
    ],
    feedback: [
      { id: "crit", kind: "critique", targets: ["boss/g"], source: { type: "human", id: "ann" }, value: { text: "Too casual for a boss.", weaknesses: ["uses an emoji"], suggestions: ["Do not use emojis in emails to your boss."], verdict: "fail" } },
      { id: "corr", kind: "correction", targets: ["sum/g"], source: { type: "human", id: "ann" }, value: { output: "17 + 25 = 42: carry the one.", comment: "carry the one when the ones digits add past 9" } },
      { id: "fine", kind: "critique", targets: ["ok/g"], source: { type: "judge", id: "j" }, value: { text: "Fine.", weaknesses: [], verdict: "pass" } },
      { id: "bin", kind: "binary", targets: ["ok/g"], source: { type: "human", id: "ann" }, value: { ok: true } },
    ],
  });
}

beforeAll(async () => {
  server = await startFakeModelServer({ respond });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  store = await openStore({ path: ":memory:" });
  server.reset();
  return async () => store.close();
});

describe("distilling principles", () => {
  it("turns each critique and correction into a principle with a scope and provenance, once", async () => {
    await seed(store);
    const r = await distillMemory(store);
    // The passing critique teaches nothing; binary feedback is not distilled.
    expect(r).toMatchObject({ seen: 3, skipped: 1, inserted: 3 });
    const all = await store.memory.list();
    expect(all.map((e) => [e.id, e.kind])).toEqual([
      ["correction:corr", "correction"],
      ["principle:corr", "principle"],
      ["principle:crit", "principle"],
    ]);
    const p = all.find((e) => e.id === "principle:crit")!;
    expect(p.text).toBe("Do not use emojis in emails to your boss.");
    expect(p.scope.examples).toEqual([BOSS]);
    expect(p.provenance).toEqual({ feedbackIds: ["crit"], generationIds: ["boss/g"], itemIds: ["boss"] });
    expect(all.find((e) => e.id === "principle:corr")!.text).toBe("carry the one when the ones digits add past 9");
    expect(all.find((e) => e.id === "correction:corr")).toMatchObject({ text: "17 + 25 = 42: carry the one.", metadata: { original: "41" } });

    const again = await distillMemory(store);
    expect(again.inserted).toBe(0);
    expect(await store.memory.list()).toHaveLength(3);
  });

  it("skips corrections that change nothing and corrections a later answer superseded", async () => {
    await seed(store);
    await store.write({
      feedback: [
        // "No change needed": flagged by a queue, or simply equal to the output.
        { id: "same1", kind: "correction", targets: ["ok/g"], source: { type: "human", id: "ann" }, value: { output: "hi" }, metadata: { noChange: true } },
        { id: "same2", kind: "correction", targets: ["sum/g"], source: { type: "human", id: "bob" }, value: { output: "41", comment: "looks right" } },
        { id: "old", kind: "correction", targets: ["sum/g"], source: { type: "human", id: "cy" }, value: { output: "43" } },
        { id: "new", kind: "correction", targets: ["sum/g"], source: { type: "human", id: "cy" }, value: { output: "42" } },
      ],
    });
    await store.queues.create({ project: "default", id: "q", name: "q", annotatorsPerItem: 1, lockSeconds: 60, definition: {} }, [{ itemId: "sum", generationIds: ["sum/g"] }]);
    await store.queues.adjudicate("default", "q", "t1", { adjudicator: "cy", submissionId: "s", records: {}, feedbackIds: [], supersedes: [{ feedbackId: "old", byId: "new", reason: "revision" }], answers: {}, revision: 1, now: 1 });
    const r = await distillMemory(store);
    const ids = (await store.memory.list()).map((e) => e.id);
    expect(ids).toContain("correction:new");
    for (const gone of ["same1", "same2", "old"]) expect(ids.filter((id) => id.endsWith(`:${gone}`))).toEqual([]);
    // seen: crit, corr, fine, same1, same2, new; skipped: fine, same1, same2.
    expect(r).toMatchObject({ seen: 6, skipped: 3 });
  });

  it("skips corrections that change nothing: the same output up to whitespace, or a comment saying no change was needed", async () => {
    await store.write({
      items: [{ id: "q", prompt: "Name the capital of France." }],
      generations: [{ id: "q/g", itemId: "q", policy: "p", output: "The capital of France is Paris." }],
      feedback: [
        { id: "same", kind: "correction", targets: ["q/g"], source: { type: "human", id: "a" }, value: { output: "  The capital of  France\nis Paris. " } },
        { id: "said", kind: "correction", targets: ["q/g"], source: { type: "human", id: "b" }, value: { output: "The capital of France is Paris!", comment: "No change needed." } },
        { id: "lgtm", kind: "correction", targets: ["q/g"], source: { type: "human", id: "c" }, value: { output: "The capital is Paris.", comment: "LGTM" } },
        { id: "real", kind: "correction", targets: ["q/g"], source: { type: "human", id: "d" }, value: { output: "Paris.", comment: "no change to the facts, but answer in one word" } },
      ],
    });
    const r = await distillMemory(store);
    expect(r).toMatchObject({ seen: 4, skipped: 3, skippedBy: { "correction that changes nothing": 3 } });
    expect((await store.memory.list()).map((e) => e.id).sort()).toEqual(["correction:real", "principle:real"]);
    expect(isNoChangeCorrection({ output: "x", comment: "nothing to fix" }, "y")).toBe(true);
    expect(isNoChangeCorrection({ output: "x", comment: "fixed the sign" }, "y")).toBe(false);
  });

  it("lets a model write the principle and its scope (when it applies and when not)", async () => {
    await seed(store);
    const r = await distillMemory(store, { model: model("distiller"), sourceTypes: ["human"], limit: 1 });
    // Feedback comes in id order: the correction "corr" first, which gives a correction and a principle.
    expect(r).toMatchObject({ seen: 1, inserted: 2 });
    await distillMemory(store, { model: model("distiller"), sourceTypes: ["human"] });
    const e = await store.memory.get("default", "principle:crit");
    expect(e).toMatchObject({ id: "principle:crit", text: "Do not use emojis.", scope: { when: "emails to my boss or to colleagues at work", whenNot: "birthday messages to friends and family" } });
    const asked = server.requests.find((q) => q.model === "distiller" && q.prompt.includes("Too casual"))!;
    expect(asked.prompt).toContain(DISTILL_PROMPT.slice(0, 40));
    expect(asked.prompt).toContain("Suggestion: Do not use emojis in emails to your boss.");
  });
});

describe("retrieving memory for new inputs", () => {
  const principle = {
    id: "no-emoji",
    kind: "principle" as const,
    text: "Do not use emojis.",
    scope: { when: "emails to my boss", whenNot: "birthday messages to friends", examples: [BOSS], counterExamples: [FRIEND] },
    provenance: { feedbackIds: ["crit"], generationIds: ["boss/g"], itemIds: ["boss"] },
  };

  it("retrieves a scoped principle for in-scope inputs only, and never a retired one", async () => {
    await store.memory.put([principle]);
    const mem = new MemoryRetriever(store);
    expect((await mem.retrieve("Draft an email to my boss about the project deadline")).map((x) => x.id)).toEqual(["no-emoji"]);
    expect(await mem.retrieve("Write a birthday message to my sister Ana")).toEqual([]);
    expect(await mem.retrieve("What is the capital of France?")).toEqual([]);
    await store.memory.retire("default", "no-emoji");
    mem.refresh();
    expect(await mem.retrieve("Draft an email to my boss about the project deadline")).toEqual([]);
  });

  it("retrieves by embeddings when given an embedder", async () => {
    await store.memory.put([principle]);
    const mem = new MemoryRetriever(store, { similarity: embeddingSimilarity(openAiEmbedder({ baseUrl: server.baseUrl, model: "emb" })), minSimilarity: 0.999 });
    // The fake embedder maps equal texts to equal vectors.
    expect((await mem.retrieve(BOSS)).map((x) => x.id)).toEqual(["no-emoji"]);
    expect(await mem.retrieve(FRIEND)).toEqual([]);
    expect(server.requests.some((q) => q.api === "embeddings")).toBe(true);
  });

  it("measures over-generalisation: forced into every prompt it changes out-of-scope outputs; scoped retrieval does not", async () => {
    await store.memory.put([principle]);
    const report = await measureOvergeneralization({
      policy: { model: model("policy") },
      entry: principle,
      inScope: [BOSS, "Draft an email to my boss about the project deadline"],
      outOfScope: [FRIEND, "Write a birthday message to my sister Ana", "Write a birthday message to my best friend Leo"],
      retriever: new MemoryRetriever(store),
    });
    expect(report.forced).toEqual({ inScope: { n: 2, changed: 2, rate: 1 }, outOfScope: { n: 3, changed: 3, rate: 1 } });
    expect(report.retrieved).toEqual({ inScope: { n: 2, changed: 2, rate: 1, injected: 2 }, outOfScope: { n: 3, changed: 0, rate: 0, injected: 0 } });
    expect(report.overgeneralization).toBe(0);
    // Without scopes, retrieval by the principle's text alone spills over.
    const unscoped = await measureOvergeneralization({
      policy: { model: model("policy") },
      entry: principle,
      inScope: [BOSS],
      outOfScope: ["Do not use emojis in a birthday message to my best friend"],
      retriever: new MemoryRetriever(store, { unscoped: true }),
    });
    expect(unscoped.overgeneralization).toBe(1);
  });

  it("injects retrieved corrections and principles into a loop's prompt (DROC), recording which", async () => {
    await seed(store);
    await distillMemory(store);
    const tasks = [
      { id: "t1", prompt: "What is 17 + 25? Give the sum in \\boxed{}.", reference: "42" },
      { id: "t2", prompt: "Write an email to my boss asking for Monday off" },
    ];
    const r = await refineLoop([tasks[0]!], { store, policy: { model: model("policy") }, feedback: verifierFeedback(createVerifier("math")), budget: { rounds: 2 }, memory: new MemoryRetriever(store) });
    expect(r.tasks[0]).toMatchObject({ solved: true, attempts: 1 });
    const first = server.requests.find((q) => q.model === "policy")!;
    expect(system(first)).toContain("Earlier answers to similar requests were corrected");
    expect(system(first)).toContain("17 + 25 = 42: carry the one.");
    expect(system(first)).not.toContain("emoji");
    const steps = await store.loops.steps("default", r.runId);
    expect(steps[0]!.data.memory).toEqual(expect.arrayContaining(["correction:corr"]));
    expect((await store.getGeneration("default", `${r.runId}/t1/a0`))?.metadata?.memory).toEqual(steps[0]!.data.memory);
  });
});
