/** Saved critic evaluations over HTTP (`/v1/critics/results`) and through the client: what the web app plots. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rlxf } from "../../src/client/index.js";
import { saveCriticEval } from "../../src/critics/index.js";
import { createApp, listen } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { type SeededCritics, seedCriticResults } from "../support/critics.js";
import { type Caller, caller, expectErrorShape, keyOf } from "./helpers.js";

let store: Store;
let app: ReturnType<typeof createApp>;
let read: Caller;
let annotate: Caller;
let other: Caller;
let readKey: string;
let seeded: SeededCritics;

beforeAll(async () => {
  store = await openStore({ path: ":memory:" });
  app = createApp({ store, log: () => {} });
  readKey = await keyOf(store, "p1", "read");
  read = caller(app, readKey);
  annotate = caller(app, await keyOf(store, "p1", "annotate"));
  other = caller(app, await keyOf(store, "p2", "admin"));
  seeded = await seedCriticResults(store, "p1");
});
afterAll(async () => store?.close());

describe("saved critic evaluations", () => {
  it("lists the project's evaluations, newest first, with a summary of each", async () => {
    const r = await read("GET", "/v1/critics/results");
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: { name: string }) => x.name)).toEqual(["oracle-cross", "iterative"]);
    expect(r.body.results[0]).toMatchObject({
      name: "oracle-cross",
      version: 1,
      description: "scripted oracle critic",
      setting: { label: "cross-critique", critic: "critic-7b" },
      solutions: 15,
      tasks: ["arc-challenge", "gsm8k", "math"],
      accuracyBefore: 7 / 15,
      accuracyAfter: 1,
      verdictAccuracy: 1,
      fixed: 8,
      broken: 0,
    });
  });

  it("gives one evaluation's metrics per task, without the outcomes unless asked", async () => {
    const r = await read("GET", "/v1/critics/results/iterative");
    expect(r.status, r.text).toBe(200);
    expect(r.body.versions).toEqual([1]);
    expect(r.body.result.setting.label).toBe("iterative cross-critique (3 rounds)");
    expect(r.body.result.overall).toEqual(seeded.iterative.overall);
    expect(r.body.result.tasks).toEqual(seeded.iterative.tasks);
    expect(r.body.result.outcomes).toBeUndefined();
    const full = await read("GET", "/v1/critics/results/iterative?outcomes=true");
    expect(full.body.result.outcomes).toHaveLength(15);
    expect(full.body.result.outcomes[0]).toMatchObject({ task: "gsm8k", correct: true, rounds: [{ verdict: "pass", revised: false, correct: true }] });
  });

  it("serves older versions, and errors in the API's one shape", async () => {
    await saveCriticEval(store, { project: "p1", name: "iterative", result: { ...seeded.iterative, overall: { ...seeded.iterative.overall, fixed: 0 } } });
    const latest = await read("GET", "/v1/critics/results/iterative");
    expect([latest.body.version, latest.body.versions, latest.body.fixed]).toEqual([2, [2, 1], 0]);
    expect((await read("GET", "/v1/critics/results/iterative?version=1")).body.fixed).toBe(8);
    expectErrorShape(await read("GET", "/v1/critics/results/iterative?version=9"), 404, "not_found");
    expectErrorShape(await read("GET", "/v1/critics/results/iterative?version=x"), 400, "validation_failed");
    expectErrorShape(await read("GET", "/v1/critics/results/iterative?outcomes=maybe"), 400, "validation_failed");
    expectErrorShape(await annotate("GET", "/v1/critics/results"), 403, "forbidden");
    expect((await other("GET", "/v1/critics/results")).body.results).toEqual([]);
    expectErrorShape(await other("GET", "/v1/critics/results/iterative"), 404, "not_found");
  });

  it("is read by the client", async () => {
    const running = await listen(app, { port: 0, host: "127.0.0.1" });
    try {
      const rlxf = new Rlxf({ url: running.url, key: readKey });
      expect((await rlxf.criticResults()).map((x) => x.name)).toEqual(["iterative", "oracle-cross"]);
      const one = await rlxf.criticResult("oracle-cross", { outcomes: true });
      expect(one?.result.overall).toEqual(seeded.cross.overall);
      expect(one?.result.outcomes).toHaveLength(15);
      expect((await rlxf.criticResult("iterative", { version: 1 }))?.version).toBe(1);
      expect(await rlxf.criticResult("nope")).toBeUndefined();
      await rlxf.close();
    } finally {
      await running.close();
    }
  });
});
