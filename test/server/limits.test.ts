/**
 * Server-side ceilings and rate limits (src/server/limits.ts): what one request may make the server do, and how
 * fast a key or a project may ask. Rate limits run on a clock the test moves, so nothing depends on timing.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type Limits, MemoryRateLimiter, createApp, parseLimits, resolveLimits } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { type Caller, caller, expectErrorShape, itemsAndGenerations, keyOf, pairwise } from "./helpers.js";

let exportDir = "";
beforeAll(() => {
  exportDir = mkdtempSync(join(tmpdir(), "rlxf-limits-exports-"));
  process.env.RLXF_EXPORT_DIR = exportDir;
});
afterAll(() => {
  delete process.env.RLXF_EXPORT_DIR;
  rmSync(exportDir, { recursive: true, force: true });
});

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A store with project "p" (items i0..i(n-1), generations a/b, one pairwise feedback each), an app with `limits` and a frozen clock. */
async function setup(limits: Partial<Limits> = {}, n = 3, wrap?: (s: Store) => Store) {
  const store = await openStore({ path: ":memory:" });
  open.push(store);
  const { items, generations } = itemsAndGenerations(n);
  await store.write({
    items: items.map((i) => ({ ...i, project: "p" })),
    generations: generations.map((g) => ({ ...g, project: "p" })),
    feedback: items.map((it, i) => ({ ...pairwise(`f${i}`, [`${it.id}-a`, `${it.id}-b`], i % 3 === 0 ? "second" : "first"), project: "p" })),
  });
  const clock = { t: 1_000_000 };
  const app = createApp({ store: wrap ? wrap(store) : store, limits, rateLimiter: new MemoryRateLimiter({ now: () => clock.t }), log: () => {} });
  const as = async (role: "admin" | "read" | "ingest" | "annotate", project = "p") => caller(app, await keyOf(store, project, role));
  return { store, app, clock, as };
}

/** Bytes of a job's file still stored. */
async function fileBytes(store: Store, jobId: string): Promise<number> {
  let n = 0;
  for await (const part of store.jobs.fileParts(jobId)) n += part.length;
  return n;
}

/** Cheap calls a key gets before its first 429 (at most `max`). */
async function cheapCalls(api: Caller, max = 5000): Promise<number> {
  for (let n = 0; n < max; n++) {
    const r = await api("GET", "/v1/me");
    if (r.status === 429) return n;
    expect(r.status).toBe(200);
  }
  return max;
}

describe("rate limits", () => {
  it("a burst from one key gets 429 with a sane Retry-After; another key and another project are unaffected; the bucket refills", async () => {
    const { as, clock } = await setup({ keyBurst: 20, keyRate: 2, projectBurst: 30, projectRate: 5 });
    const a = await as("read");
    expect(await cheapCalls(a)).toBe(20);
    const refused = await a("GET", "/v1/me");
    expectErrorShape(refused, 429, "rate_limited");
    // One unit at 2 a second: back in half a second, said in whole seconds.
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.body.error.message).toMatch(/keyRate/);
    // Another key of the project has its own bucket, but shares the project's (30, of which 20 are spent, and 1 refused).
    const b = await as("ingest");
    expect(await cheapCalls(b)).toBe(10);
    const projectFull = await b("GET", "/v1/me");
    expectErrorShape(projectFull, 429, "rate_limited");
    expect(projectFull.body.error.message).toMatch(/project "p".*projectRate/);
    // Another project is not touched.
    const c = await as("admin", "q");
    expect(await cheapCalls(c)).toBe(20);
    // Time passes: a key's bucket refills at its rate, after the Retry-After it was given.
    clock.t += 1000;
    expect(await cheapCalls(a)).toBe(2);
    clock.t += 60_000;
    expect(await cheapCalls(a)).toBe(20);
  });

  it("weighs a request by its work: one 2,000-round bootstrap costs like a hundred cheap calls, as do 1,000 reward samples", async () => {
    const limits = { keyBurst: 1000, keyRate: 1, projectBurst: 1_000_000, projectRate: 1_000_000 };
    const { as } = await setup(limits, 4);
    const baseline = await cheapCalls(await as("read"));
    expect(baseline).toBe(1000);

    // A leaderboard with 2,000 bootstrap rounds (a job: 202): 1 + costAnalysis + 2000 × costRound + 4 rows × costRow.
    const heavy = await as("read");
    expect((await heavy("GET", "/v1/leaderboard?bootstrap=2000")).status).toBe(202);
    const afterHeavy = await cheapCalls(heavy);
    const { costAnalysis, costRound, costRow, costSample } = DEFAULT_LIMITS;
    expect(Math.abs(afterHeavy - Math.floor(1000 - 1 - costAnalysis - 2000 * costRound - 4 * costRow))).toBeLessThanOrEqual(1);
    expect(baseline - afterHeavy).toBeGreaterThanOrEqual(100);
    // The default 200 rounds cost 90 units less.
    const light = await as("read");
    expect((await light("GET", "/v1/leaderboard")).status).toBe(200);
    expect((await cheapCalls(light)) - afterHeavy).toBeGreaterThanOrEqual(89);

    // 1,000 reward samples: 1 + 1000 × costSample.
    const scorer = await as("ingest");
    const samples = Array.from({ length: 1000 }, (_, i) => ({ completion: `\\boxed{${i % 7}}`, reference: "3" }));
    expect((await scorer("POST", "/v1/reward", { spec: "math", samples })).status).toBe(200);
    expect(Math.abs((await cheapCalls(scorer)) - Math.floor(1000 - 1 - 1000 * costSample))).toBeLessThanOrEqual(1);

    // A page weighs its size: limit=1000 costs 1 + 1000 × costRow.
    const lister = await as("read");
    expect((await lister("GET", "/v1/items?limit=1000")).status).toBe(200);
    expect(Math.abs((await cheapCalls(lister)) - Math.floor(1000 - 1 - 1000 * costRow))).toBeLessThanOrEqual(1);

    // With 50 units left, the 2,000-round leaderboard (about 110 units after its request) waits about a minute at 1 a second.
    const late = await as("read");
    for (let i = 0; i < 950; i++) expect((await late("GET", "/v1/me")).status).toBe(200);
    const wait = await late("GET", "/v1/leaderboard?bootstrap=2000");
    expectErrorShape(wait, 429, "rate_limited");
    expect(Number(wait.headers.get("retry-after"))).toBeGreaterThanOrEqual(55);
    expect(Number(wait.headers.get("retry-after"))).toBeLessThanOrEqual(70);
  });

  it("a request that costs more than a whole burst passes with a full bucket, then the key waits", async () => {
    const { as, clock } = await setup({ keyBurst: 100, keyRate: 10 });
    const greedy = await as("read");
    expect((await greedy("GET", "/v1/leaderboard?bootstrap=2000")).status).toBe(202);
    const again = await greedy("GET", "/v1/me");
    expectErrorShape(again, 429, "rate_limited");
    clock.t += 10_000;
    expect((await greedy("GET", "/v1/leaderboard?bootstrap=2000")).status).toBe(202);
  });

  it("limits can be turned off per bucket (a rate of off), for a trusted deployment", async () => {
    const { as } = await setup({ keyRate: Infinity, projectRate: Infinity, keyBurst: 5, projectBurst: 5 });
    expect(await cheapCalls(await as("read"), 200)).toBe(200);
  });
});

describe("ceilings", () => {
  it("bootstrap rounds: over the ceiling is a 400 naming the parameter and the ceiling; an operator raises it", async () => {
    const { as } = await setup();
    const read = await as("read");
    const r = await read("GET", "/v1/leaderboard?bootstrap=2001");
    expectErrorShape(r, 400, "validation_failed");
    expect(r.body.error.issues).toEqual([{ path: "bootstrap", message: "must be at most 2000 (the server's ceiling bootstrapRounds)" }]);
    // Within it: more than 200 rounds is a job (202), whose own input is checked against the same ceiling.
    expect((await read("GET", "/v1/leaderboard?bootstrap=2000")).status).toBe(202);
    expectErrorShape(await read("POST", "/v1/jobs", { kind: "leaderboard", input: { bootstrap: 2001 } }), 400, "validation_failed");
    const raised = await (await setup({ bootstrapRounds: 3000 })).as("read");
    expect((await raised("GET", "/v1/leaderboard?bootstrap=3000")).status).toBe(202);
    const lowered = await (await setup({ bootstrapRounds: 50 })).as("read");
    expect((await lowered("GET", "/v1/leaderboard")).body.error.issues[0]).toEqual({ path: "bootstrap", message: "must be at most 50 (the server's ceiling bootstrapRounds)" });
  });

  it("reward samples per request: over the ceiling is a 400 naming the samples and the ceiling, on both reward endpoints", async () => {
    const { as } = await setup({ rewardSamples: 3 });
    const ingest = await as("ingest");
    const four = Array.from({ length: 4 }, () => ({ completion: "\\boxed{1}", reference: "1" }));
    const r = await ingest("POST", "/v1/reward", { samples: four });
    expectErrorShape(r, 400, "validation_failed");
    expect(r.body.error.issues[0]).toMatchObject({ path: "samples", message: expect.stringContaining("at most 3") });
    expect((await ingest("POST", "/v1/reward", { samples: four.slice(0, 3) })).status).toBe(200);
    const o = await ingest("POST", "/v1/reward/openrlhf", { query: ["a", "b", "c", "d"] });
    expectErrorShape(o, 400, "validation_failed");
    expect(o.body.error.issues[0].path).toBe("query");
  });

  it("tasks per queue: a selection that makes more is a 400 naming the selection and the ceiling", async () => {
    const { as } = await setup({ queueTasks: 2 });
    const admin = await as("admin");
    const q = (selection: Record<string, unknown>) => ({ name: "q", selection, questions: [{ id: "ok", kind: "binary", prompt: "OK?" }] });
    const r = await admin("POST", "/v1/queues", q({ mode: "generations" }));
    expectErrorShape(r, 400, "validation_failed");
    expect(r.body.error.issues).toEqual([{ path: "selection", message: "makes more than 2 tasks (the ceiling of tasks per queue)" }]);
    expect((await admin("GET", "/v1/queues")).body.queues).toEqual([]);
    expect((await admin("POST", "/v1/queues", q({ mode: "generations", sample: { n: 2 } }))).status).toBe(201);
  });

  it("feedback rows a leaderboard, distribution or queue statistics request loads: over the ceiling is a 400 over_ceiling naming it", async () => {
    const { as, store } = await setup({ analysisRows: 3 }, 4);
    const read = await as("read");
    for (const path of ["/v1/leaderboard", "/v1/leaderboard?method=alpaca-eval", "/v1/analysis/distributions"]) {
      const r = await read("GET", path);
      expectErrorShape(r, 400, "over_ceiling");
      expect(r.body.error.issues).toEqual([{ path: "analysisRows", message: "over the server's ceiling of 3" }]);
    }
    // Narrowed under the ceiling, the distributions are computed.
    expect((await read("GET", "/v1/analysis/distributions?sourceType=judge")).status).toBe(200);
    // A queue with more claims than the ceiling: its statistics are refused before anything is read.
    const admin = await as("admin");
    expect((await admin("POST", "/v1/queues", { id: "big", name: "q", selection: { mode: "generations" }, questions: [{ id: "ok", kind: "binary", prompt: "OK?" }] })).status).toBe(201);
    const ann = await as("annotate");
    for (let i = 0; i < 4; i++) {
      const t = (await ann("POST", "/v1/queues/big/next")).body.task;
      expect((await ann("POST", `/v1/queues/big/tasks/${t.id}/skip`)).status).toBe(204);
    }
    expectErrorShape(await read("GET", "/v1/queues/big/stats"), 400, "over_ceiling");
    // A queue from the judges' most contested pairs reads every pairwise verdict: refused too, and nothing is made.
    const routed = await admin("POST", "/v1/queues/from-route", { id: "routed", name: "r", minJudges: 1 });
    expectErrorShape(routed, 400, "over_ceiling");
    expect((await admin("GET", "/v1/queues/routed")).status).toBe(404);
    expect((await store.counts("p")).feedback).toBe(4);
  });

  it("records an export writes: an unfiltered export over the ceiling is refused at once, a filtered one fails naming the ceiling", async () => {
    const { as } = await setup({ exportRows: 5 }, 3);
    const read = await as("read");
    const streamed = await read("GET", "/v1/export?format=rlxf");
    expectErrorShape(streamed, 400, "over_ceiling");
    expect(streamed.body.error.issues[0].path).toBe("exportRows");
    expectErrorShape(await read("POST", "/v1/exports", { format: "rlxf" }), 400, "over_ceiling");
    const small = await read("POST", "/v1/exports", { format: "rlxf", filters: { itemId: "i0" } });
    expect(small.status).toBe(202);
    expect((await waitFor(read, small.body.id)).body).toMatchObject({ status: "done", rows: 4 });
    const big = await read("POST", "/v1/exports", { format: "rlxf", filters: { sourceType: "human" } });
    const failed = (await waitFor(read, big.body.id)).body;
    expect(failed).toMatchObject({ status: "failed", error: expect.stringContaining("exportRows (5)") });
  });

  it("background exports: at most so many at once per key and per project (429), the newest files kept, each for so long", async () => {
    // Exports that wait for the test before reading anything, so "at once" does not depend on timing.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated = (s: Store): Store =>
      new Proxy(s, {
        get(target, prop, receiver) {
          if (prop === "iterateResolvedFeedback") {
            return async function* (...args: Parameters<Store["iterateResolvedFeedback"]>) {
              await gate;
              yield* target.iterateResolvedFeedback(...args);
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    const { as, store } = await setup({ exportsPerKey: 1, exportsPerProject: 2, exportFiles: 2, exportRetentionSeconds: 60 }, 2, gated);
    const [r1, r2, r3] = [await as("read"), await as("read"), await as("read")];
    const first = await r1("POST", "/v1/exports", { format: "trl-preference" });
    expect(first.status).toBe(202);
    const mine = await r1("POST", "/v1/exports", { format: "trl-preference" });
    expectErrorShape(mine, 429, "rate_limited");
    expect(mine.body.error.message).toMatch(/exportsPerKey/);
    expect(Number(mine.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await r2("POST", "/v1/exports", { format: "trl-preference" })).status).toBe(202);
    const project = await r3("POST", "/v1/exports", { format: "trl-preference" });
    expectErrorShape(project, 429, "rate_limited");
    expect(project.body.error.message).toMatch(/exportsPerProject/);
    release();
    expect((await waitFor(r1, first.body.id)).body.status).toBe("done");

    // Files: the newest exportFiles of the project are kept; an older one is gone (410).
    const ids = [first.body.id];
    for (let i = 0; i < 2; i++) {
      const r = await r1("POST", "/v1/exports", { format: "trl-preference" });
      expect(r.status, r.text).toBe(202);
      expect((await waitFor(r1, r.body.id)).body.status).toBe("done");
      ids.push(r.body.id);
    }
    expectErrorShape(await r1("GET", `/v1/exports/${ids[0]}/file`), 410, "gone");
    expectErrorShape(await r1("GET", `/v1/jobs/${ids[0]}/file`), 410, "gone");
    expect((await r1("GET", `/v1/exports/${ids[2]}/file`)).status).toBe(200);
    // The next export deletes the files no longer kept.
    expect((await r1("POST", "/v1/exports", { format: "trl-preference" })).status).toBe(202);
    expect(await fileBytes(store, ids[0])).toBe(0);
    // A file older than exportRetentionSeconds is gone, whether or not a sweep ran.
    const brief = createApp({ store, limits: { exportRetentionSeconds: 1 }, log: () => {} });
    await new Promise((r) => setTimeout(r, 1100));
    expectErrorShape(await caller(brief, await keyOf(store, "p", "read"))("GET", `/v1/exports/${ids[2]}/file`), 410, "gone");
  });
});

describe("jobs", () => {
  it("jobs queued or running at once: at most jobsPerKey per key (429), whatever their kind; another key is unaffected", async () => {
    // Jobs that wait for the test before reading anything, so "at once" does not depend on timing.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated = (s: Store): Store =>
      new Proxy(s, {
        get(target, prop, receiver) {
          if (prop === "iterateResolvedFeedback") {
            return async function* (...args: Parameters<Store["iterateResolvedFeedback"]>) {
              await gate;
              yield* target.iterateResolvedFeedback(...args);
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    const { as, store } = await setup({ jobsPerKey: 2, exportsPerKey: 5, exportsPerProject: 10 }, 2, gated);
    const [a, b] = [await as("read"), await as("read")];
    const exp = { kind: "export", input: { format: "trl-preference" } };
    expect((await a("POST", "/v1/jobs", exp)).status).toBe(202);
    expect((await a("POST", "/v1/exports", { format: "trl-preference" })).status).toBe(202);
    const third = await a("POST", "/v1/jobs", { kind: "leaderboard", input: {} });
    expectErrorShape(third, 429, "rate_limited");
    expect(third.body.error.message).toMatch(/jobsPerKey/);
    // A leaderboard that would become a job counts too.
    expectErrorShape(await a("GET", "/v1/leaderboard?bootstrap=2000"), 429, "rate_limited");
    expect((await b("POST", "/v1/jobs", exp)).status).toBe(202);
    release();
    await settled(store);
    expect((await a("POST", "/v1/jobs", exp)).status).toBe(202);
    await settled(store);
  });

  it("a batch job weighs its samples as the reward endpoints do", async () => {
    const { as, store } = await setup({ keyBurst: 100, keyRate: 1 });
    const admin = await as("admin");
    const samples = Array.from({ length: 1000 }, (_, i) => ({ completion: `\\boxed{${i % 7}}`, reference: "3" }));
    expect((await admin("POST", "/v1/jobs", { kind: "reward", input: { spec: "math", samples } })).status).toBe(202);
    // 1 + costAnalysis + 1,000 × costSample = 111 units: the bucket is empty now.
    expectErrorShape(await admin("GET", "/v1/me"), 429, "rate_limited");
    await settled(store);
  });
});

describe("configuration", () => {
  it("parses name=value lists (bytes with units, rates that are off) and JSON files, refusing unknown names and bad values by name", () => {
    expect(parseLimits("bootstrapRounds=5000, maxBodyBytes=2M,keyRate=off")).toEqual({ bootstrapRounds: 5000, maxBodyBytes: 2 * 1024 * 1024, keyRate: Infinity });
    const bad = (text: string, path: string) => {
      try {
        resolveLimits(parseLimits(text));
      } catch (e) {
        expect((e as { issues: { path: string }[] }).issues.map((i) => i.path)).toContain(path);
        return;
      }
      expect.fail(`${text} was accepted`);
    };
    bad("rounds=5", "rounds");
    bad("bootstrapRounds=0", "bootstrapRounds");
    bad("bootstrapRounds=1.5", "bootstrapRounds");
    bad("bootstrapRounds=off", "bootstrapRounds");
    bad("exportRows=5G", "exportRows");
    const dir = mkdtempSync(join(tmpdir(), "rlxf-limits-"));
    try {
      const f = join(dir, "limits.json");
      writeFileSync(f, JSON.stringify({ exportRetentionSeconds: 86400, projectRate: "off" }));
      expect(parseLimits(f)).toEqual({ exportRetentionSeconds: 86400, projectRate: Infinity });
      writeFileSync(f, JSON.stringify({ exportRetention: 1 }));
      expect(() => parseLimits(f)).toThrow(/exportRetention/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // A client may lower what it asks for, never the ceilings: createApp refuses a bad limit by name.
    expect(() => createApp({ store: open[0] ?? ({} as Store), limits: { analysisRows: -1 } })).toThrow(/analysisRows/);
  });

  it("the OpenAPI document states the ceilings in force and the 429", async () => {
    const { app } = await setup({ rewardSamples: 7 });
    const doc = (await caller(app)("GET", "/v1/openapi.json")).body;
    expect(doc.components.schemas.RewardBody.properties.samples.maxItems).toBe(7);
    expect(doc.paths["/v1/leaderboard"].get.responses["429"]).toBeDefined();
    expect(doc.info.description).toMatch(/429/);
  });
});

/** Waits until no job of the store is queued or running. */
async function settled(store: Store): Promise<void> {
  for (let i = 0; i < 800; i++) {
    const open = [...(await store.jobs.list({ state: "queued" })).jobs, ...(await store.jobs.list({ state: "running" })).jobs];
    if (open.length === 0) return;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error("jobs did not finish");
}

async function waitFor(api: Caller, id: string) {
  for (let i = 0; i < 400; i++) {
    const r = await api("GET", `/v1/exports/${id}`);
    if (r.body.status !== "running") return r;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`export ${id} did not finish`);
}
