/**
 * Reward specs with LLM judges as members (scored against a real local OpenAI-compatible server),
 * and specs saved per project by name (`POST /v1/reward/specs`), versioned and used by name or name@N.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModel } from "../../src/providers/index.js";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { createApp } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { type Caller, caller, expectErrorShape, keyOf } from "./helpers.js";
import { startServer } from "./process.js";

let fake: FakeServer;
let store: Store;
let admin: Caller;
let read: Caller;
let other: Caller;
let noJudge: Caller;
const asked: { model?: string; prompt: string }[] = [];

/** A judge model that grades by what the response says, and records what it was asked. */
function grader(prompt: string): string {
  const response = /\[Assistant's response\]\n([\s\S]*?)\n\[End of assistant's response\]/.exec(prompt)?.[1] ?? "";
  if (prompt.includes("Critique the response")) {
    const good = /\\boxed\{4\}/.test(prompt);
    return JSON.stringify({ summary: "", strengths: good ? ["correct"] : [], weaknesses: good ? [] : ["wrong sum"], suggestions: good ? [] : ["add again"], verdict: good ? "pass" : "fail" });
  }
  if (prompt.includes("COMPARE")) {
    // Inline pairwise judge: "(A) ... (B) ..." shown in a fixed order; prefers the output containing "good".
    const a = /\(A\) ([^\n]*)/.exec(prompt)?.[1] ?? "";
    return a.includes("good") ? "A" : "B";
  }
  if (response.includes("garbled")) return "I cannot decide.";
  if (response.includes("\\boxed{4}")) return "Exactly right. Rating: [[10]]";
  if (response.includes("four")) return "Right, in words. Rating: [[7]]";
  return "Wrong. Rating: [[1]]";
}

beforeAll(async () => {
  fake = await startFakeModelServer({
    respond: (r) => {
      asked.push({ ...(r.model !== undefined ? { model: r.model } : {}), prompt: r.prompt });
      return grader(r.prompt);
    },
  });
  store = await openStore({ path: ":memory:" });
  const judgeModel = () => createModel({ baseUrl: `${fake.url}/v1`, model: "judge-a", maxRetries: 0 }, { env: {} });
  const app = createApp({ store, log: () => {}, judgeModel });
  admin = caller(app, await keyOf(store, "p1", "admin"));
  read = caller(app, await keyOf(store, "p1", "read"));
  other = caller(app, await keyOf(store, "p2", "admin"));
  noJudge = caller(createApp({ store, log: () => {} }), await keyOf(store, "p1", "read", "nj"));
});
afterAll(async () => {
  await store.close();
  await fake.close();
});

const scores = (r: { body: { results: { score: number }[] } }) => r.body.results.map((x) => Math.round(x.score * 1000) / 1000);

describe("judges in reward specs", () => {
  it("scores with a reference-guided judge, rescaling its 1-10 rating to [0, 1], mixed with a verifier", async () => {
    const spec = {
      type: "composite",
      members: [
        { verifier: "math", weight: 1 },
        { verifier: { type: "judge", judge: "reference", name: "graded" }, weight: 1 },
      ],
    };
    const r = await read("POST", "/v1/reward", {
      spec,
      samples: [
        { prompt: "2+2?", completion: "so \\boxed{4}", reference: "4" },
        { prompt: "2+2?", completion: "four, or maybe five", reference: "4" },
        { prompt: "2+2?", completion: "so \\boxed{5}", reference: "4" },
      ],
    });
    expect(r.status, r.text).toBe(200);
    // math: 1, 0 (two answers, one wrong), 0; judge: 10 -> 1, 7 -> 6/9, 1 -> 0; equal weights.
    expect(scores(r)).toEqual([1, 0.333, 0]);
    expect(r.body.results[1].components).toEqual([
      { name: "math", type: "math", weight: 1, passed: false, score: 0 },
      { name: "graded", type: "judge", weight: 1, passed: true, score: 2 / 3 },
    ]);
    expect(r.body.results[1].details.members[1].details).toMatchObject({ judge: "reference", kind: "reference", rating: 7, scale: { min: 1, max: 10 } });
    expect(asked.at(-1)?.model).toBe("judge-a");
  });

  it("asks the model the spec names, and caches results per judge model", async () => {
    const before = asked.length;
    const spec = { type: "judge", judge: "reference", model: "judge-b" };
    const body = { spec, samples: [{ prompt: "1+3?", completion: "\\boxed{4}", reference: "4" }] };
    const r = await read("POST", "/v1/reward", body);
    expect(scores(r)).toEqual([1]);
    expect(asked.slice(before).map((a) => a.model)).toEqual(["judge-b"]);
    const again = await read("POST", "/v1/reward", body);
    expect(again.body.results[0].cached).toBe(true);
    expect(asked.length).toBe(before + 1);
    // Another model is another cache entry.
    await read("POST", "/v1/reward", { ...body, spec: { ...spec, model: "judge-c" } });
    expect(asked.slice(before).map((a) => a.model)).toEqual(["judge-b", "judge-c"]);
  });

  it("turns a critique verdict into 1 or 0, with the critique in the details", async () => {
    const r = await read("POST", "/v1/reward", {
      spec: { type: "judge", judge: "critique" },
      samples: [
        { prompt: "2+2?", completion: "\\boxed{4}" },
        { prompt: "2+2?", completion: "\\boxed{5}" },
      ],
    });
    expect(r.status, r.text).toBe(200);
    expect(scores(r)).toEqual([1, 0]);
    expect(r.body.results[1]).toMatchObject({ passed: false, details: { verdict: "fail", weaknesses: ["wrong sum"], suggestions: ["add again"] } });
  });

  it("scores a pairwise judge as the probability the completion beats the reference", async () => {
    const judge = {
      name: "vs-reference",
      kind: "pairwise",
      prompt: "COMPARE {{instruction}}\n(A) {{output_1}}\n(B) {{output_2}}\nWhich is better, A or B?",
      parser: { type: "regex", patterns: { "1": "^A", "2": "^B" } },
      order: "fixed",
    };
    const r = await read("POST", "/v1/reward", {
      spec: { type: "judge", judge },
      samples: [
        { prompt: "q", completion: "a good answer", reference: "a plain answer" },
        { prompt: "q", completion: "a plain answer!", reference: "a good answer" },
      ],
    });
    expect(r.status, r.text).toBe(200);
    // Shown as (A) reference, (B) completion: "B" means the completion won.
    expect(scores(r)).toEqual([1, 0]);
    const missing = await read("POST", "/v1/reward", { spec: { type: "judge", judge }, samples: [{ prompt: "q", completion: "x" }] });
    expect(missing.body.results[0].score).toBe(0);
    expect(missing.body.results[0].details.error).toMatch(/reference/);
  });

  it("reports a judgement that fails as an error with score 0, and does not cache it", async () => {
    const body = { spec: { type: "judge", judge: "reference" }, samples: [{ prompt: "2+2?", completion: "garbled", reference: "4" }] };
    const r = await read("POST", "/v1/reward", body);
    expect(r.status, r.text).toBe(200);
    expect(r.body.results[0]).toMatchObject({ score: 0, passed: false, cached: false });
    expect(r.body.results[0].details.error).toMatch(/judge "reference" gave no judgement/);
    expect((await read("POST", "/v1/reward", body)).body.results[0].cached).toBe(false);
  });

  it("refuses unknown judges, judge paths, checklist judges and bad fields, naming the field", async () => {
    const bad = async (spec: unknown, path: RegExp) => {
      const r = await read("POST", "/v1/reward", { spec, samples: [{ completion: "x" }] });
      expect(r.status, r.text).toBe(400);
      expectErrorShape(r, 400, "validation_failed");
      expect(r.body.error.issues.map((i: { path: string }) => i.path).join(" ")).toMatch(path);
    };
    await bad({ type: "judge", judge: "nope" }, /^spec\.judge$/);
    await bad({ type: "judge", judge: "/etc/passwd" }, /^spec\.judge$/);
    await bad({ type: "judge", judge: "checklist-generate" }, /^spec$/);
    await bad({ type: "judge", judge: "reference", threshold: 2 }, /spec\.threshold/);
    await bad({ type: "judge", judge: "reference", extra: 1 }, /spec/);
    await bad({ type: "composite", members: [{ verifier: { type: "judge", judge: "nope" } }] }, /^spec\.members\.0\.verifier\.judge$/);
  });

  it("says how to configure a judge model when the server has none", async () => {
    const r = await noJudge("POST", "/v1/reward", { spec: { type: "judge", judge: "reference" }, samples: [{ completion: "x", reference: "y" }] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/--judge-model/);
    // Everything else still works there.
    expect((await noJudge("POST", "/v1/reward", { spec: "exact", samples: [{ completion: "y", reference: "y" }] })).body.results[0].score).toBe(1);
  });
});

describe("saved reward specs", () => {
  it("saves versions, scores by name (latest) or name@N, and stores which version scored", async () => {
    const v1 = await admin("POST", "/v1/reward/specs", { name: "answer", spec: "exact", description: "exact match" });
    expect(v1.status, v1.text).toBe(201);
    expect(v1.body).toMatchObject({ name: "answer", version: 1, spec: "exact", description: "exact match" });
    const v2 = await admin("POST", "/v1/reward/specs", {
      name: "answer",
      spec: { type: "composite", members: [{ verifier: "normalized", weight: 1 }, { verifier: { type: "judge", judge: "reference" }, weight: 1 }] },
    });
    expect(v2.body.version).toBe(2);

    const sample = { prompt: "2+2?", completion: "four", reference: "Four" };
    const latest = await read("POST", "/v1/reward", { spec: "answer", samples: [sample] });
    expect(latest.status, latest.text).toBe(200);
    // normalized match: 1; judge: "four" -> 7 -> 2/3.
    expect(scores(latest)).toEqual([0.833]);
    const pinned = await read("POST", "/v1/reward", { spec: "answer@1", samples: [sample] });
    expect(scores(pinned)).toEqual([0]);

    const stored = await admin("POST", "/v1/reward", { spec: "answer@1", store: true, samples: [sample] });
    const stored2 = await admin("POST", "/v1/reward", { spec: "answer", store: true, samples: [sample] });
    const fb1 = await admin("GET", `/v1/feedback/${stored.body.results[0].feedbackId}`);
    const fb2 = await admin("GET", `/v1/feedback/${stored2.body.results[0].feedbackId}`);
    expect(fb1.body.metadata.rewardSpec).not.toBe(fb2.body.metadata.rewardSpec);
    expect(fb1.body.value.score).toBe(0);

    const one = await read("GET", "/v1/reward/specs/answer");
    expect(one.body).toMatchObject({ name: "answer", version: 2, versions: [2, 1] });
    expect((await read("GET", "/v1/reward/specs/answer?version=1")).body.spec).toBe("exact");
    const list = await read("GET", "/v1/reward/specs");
    expect(list.body.specs.map((s: { name: string; version: number }) => `${s.name}@${s.version}`)).toContain("answer@2");
  });

  it("serves OpenRLHF's protocol with a saved spec named in the URL", async () => {
    await admin("POST", "/v1/reward/specs", { name: "contains-yes", spec: { type: "contains", all: ["yes"] } });
    const r = await read("POST", "/v1/reward/openrlhf?spec=contains-yes", { query: ["Q: ok? A: yes", "Q: ok? A: no"], prompts: ["Q: ok? A:", "Q: ok? A:"] });
    expect(r.status, r.text).toBe(200);
    expect(r.body.rewards).toEqual([1, 0]);
  });

  it("sees a new version at once after saving through this server", async () => {
    await admin("POST", "/v1/reward/specs", { name: "flip", spec: "exact" });
    const s = { completion: "A", reference: "a" };
    expect(scores(await read("POST", "/v1/reward", { spec: "flip", samples: [s] }))).toEqual([0]);
    await admin("POST", "/v1/reward/specs", { name: "flip", spec: "normalized" });
    expect(scores(await read("POST", "/v1/reward", { spec: "flip", samples: [s] }))).toEqual([1]);
    expect((await admin("DELETE", "/v1/reward/specs/flip?version=2")).body).toEqual({ deleted: 1 });
    expect(scores(await read("POST", "/v1/reward", { spec: "flip", samples: [s] }))).toEqual([0]);
    expect((await admin("DELETE", "/v1/reward/specs/flip")).body).toEqual({ deleted: 1 });
    const gone = await read("POST", "/v1/reward", { spec: "flip", samples: [s] });
    expect(gone.status).toBe(400);
    expect(gone.body.error.message).toMatch(/no reward spec "flip"/);
    expect((await admin("DELETE", "/v1/reward/specs/flip")).status).toBe(404);
  });

  it("checks a spec before saving it and writes nothing when it is bad", async () => {
    const bad = async (body: unknown, status: number, path: RegExp) => {
      const r = await admin("POST", "/v1/reward/specs", body);
      expect(r.status, r.text).toBe(status);
      expect(r.body.error.issues.map((i: { path: string }) => i.path).join(" ")).toMatch(path);
    };
    await bad({ name: "math", spec: "exact" }, 400, /^name$/);
    await bad({ name: "a@2", spec: "exact" }, 400, /^name$/);
    await bad({ name: "x", spec: { type: "regex" } }, 400, /^spec/);
    await bad({ name: "x", spec: { type: "reward-model", model: "missing" } }, 404, /^spec$/);
    await bad({ name: "x", spec: { type: "judge", judge: "nope" } }, 400, /^spec\.judge$/);
    await bad({ name: "x", spec: "no-such-spec" }, 400, /^spec$/);
    expect((await read("GET", "/v1/reward/specs/x")).status).toBe(404);

    // A cycle through saved specs is refused when it would be created.
    expect((await admin("POST", "/v1/reward/specs", { name: "loop-a", spec: "exact" })).status).toBe(201);
    expect((await admin("POST", "/v1/reward/specs", { name: "loop-b", spec: { type: "composite", members: [{ verifier: "loop-a" }] } })).status).toBe(201);
    const cyc = await admin("POST", "/v1/reward/specs", { name: "loop-a", spec: { type: "composite", members: [{ verifier: "loop-b" }] } });
    expect(cyc.status).toBe(400);
    expect(cyc.body.error.message).toMatch(/loop-a -> loop-b -> loop-a/);
    expect((await read("GET", "/v1/reward/specs/loop-a")).body.versions).toEqual([1]);
  });

  it("runs regex specs in linear time and refuses what RE2 cannot express, naming the field", async () => {
    // `^(a+)+$` on 40 characters takes a backtracking engine hours; here it is one quick request.
    const evil = await read("POST", "/v1/reward", { spec: { type: "regex", pattern: "^(a+)+$" }, samples: [{ completion: `${"a".repeat(40)}!` }, { completion: "aaa" }] });
    expect(evil.status, evil.text).toBe(200);
    expect(evil.body.results.map((x: { passed: boolean }) => x.passed)).toEqual([false, true]);

    const refused = async (path: string, body: unknown, field: string, message: RegExp) => {
      const r = await admin("POST", path, body);
      expect(r.status, r.text).toBe(400);
      expectErrorShape(r, 400);
      expect(r.body.error.issues).toContainEqual({ path: field, message: expect.stringMatching(message) });
    };
    const sample = [{ completion: "yes yes" }];
    await refused("/v1/reward", { spec: { type: "regex", pattern: "(yes) \\1" }, samples: sample }, "spec.pattern", /backreferences/);
    await refused("/v1/reward", { spec: { type: "regex", pattern: "yes(?= )" }, samples: sample }, "spec.pattern", /lookahead/);
    await refused("/v1/reward", { spec: { type: "regex", pattern: "yes", flags: "y" }, samples: sample }, "spec.flags", /flag "y"/);
    await refused("/v1/reward", { samples: [{ completion: "x", spec: { type: "composite", members: [{ verifier: { type: "regex", pattern: "(?<!a)b" } }] } }] }, "samples.0.spec.members.0.verifier.pattern", /lookbehind/);
    await refused("/v1/reward/specs", { name: "re", spec: { type: "regex", pattern: "(a)\\1" } }, "spec.pattern", /backreferences/);
    const judge = { name: "j", kind: "reference", prompt: "{{output}}", parser: { type: "regex", patterns: { score: "(\\d+)(?=/10)" } } };
    await refused("/v1/reward/specs", { name: "re", spec: { type: "judge", judge } }, "spec.judge.parser.patterns.score", /lookahead/);
    expect((await read("GET", "/v1/reward/specs/re")).status).toBe(404);
  });

  it("keeps specs to their project and saving to admins", async () => {
    await admin("POST", "/v1/reward/specs", { name: "mine", spec: "exact" });
    expect((await other("POST", "/v1/reward", { spec: "mine", samples: [{ completion: "a", reference: "a" }] })).status).toBe(400);
    expect((await other("GET", "/v1/reward/specs/mine")).status).toBe(404);
    expect((await other("GET", "/v1/reward/specs")).body.specs).toEqual([]);
    const denied = await read("POST", "/v1/reward/specs", { name: "r", spec: "exact" });
    expect(denied.status).toBe(403);
    expect((await read("DELETE", "/v1/reward/specs/mine")).status).toBe(403);
  });
});

describe("rlxf serve --judge-model", () => {
  const dir = mkdtempSync(join(tmpdir(), "rlxf-judge-serve-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("serves judge members of reward specs from the endpoint it is given", async () => {
    const db = join(dir, "r.db");
    const s = await openStore({ path: db });
    const key = await keyOf(s, "demo", "admin");
    await s.close();
    const server = await startServer(["--db", db, "--no-demo", "--judge-model", "served-judge", "--judge-base-url", `${fake.url}/v1`], { RLXF_MODEL: "", RLXF_BASE_URL: "" });
    try {
      const before = asked.length;
      const res = await fetch(`${server.url}/v1/reward`, {
        method: "POST",
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body: JSON.stringify({ spec: { type: "judge", judge: "reference" }, samples: [{ prompt: "2+2?", completion: "\\boxed{4}", reference: "4" }] }),
      });
      const body = (await res.json()) as { results: { score: number }[] };
      expect(res.status).toBe(200);
      expect(body.results[0]!.score).toBe(1);
      expect(asked.slice(before).map((a) => a.model)).toEqual(["served-judge"]);
    } finally {
      server.proc.kill("SIGTERM");
      expect((await server.exited).code).toBe(0);
    }
  });
});
