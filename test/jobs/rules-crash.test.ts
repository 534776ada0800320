/**
 * Judges on live traffic survive real crashes, on SQLite and PostgreSQL: `rlxf worker` processes (the built CLI)
 * evaluate new generations; one is killed (SIGKILL) while the judge is answering, and generations are written
 * while no worker runs at all. A worker started afterwards evaluates every one of them, with exactly one verdict
 * each.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { createRule } from "../../src/rules/index.js";
import { type Store, openStore } from "../../src/store/index.js";
import { postgresForFile } from "../support/postgres.js";
import { type WorkerProcess, startWorker, stopWorker } from "./workers.js";

const pg = postgresForFile("rules-crash");
const dir = mkdtempSync(join(tmpdir(), "rlxf-rules-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CRITIQUE = JSON.stringify({ summary: "ok", strengths: [], weaknesses: [], suggestions: [], verdict: "pass" });

const engines: [string, () => Promise<{ store: Store; env: NodeJS.ProcessEnv }>, boolean][] = [
  [
    "sqlite",
    async () => {
      const path = join(dir, `${Math.random().toString(36).slice(2)}.db`);
      return { store: await openStore({ path }), env: { RLXF_DB: path, RLXF_DATABASE_URL: "" } };
    },
    false,
  ],
  [
    "postgres",
    async () => {
      const url = await pg.fresh();
      return { store: await openStore({ url }), env: { RLXF_DATABASE_URL: url } };
    },
    !pg.available,
  ],
];

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const [name, open, skip] of engines) {
  describe.skipIf(skip)(`rules through crashes: ${name}`, () => {
    const closers: (() => Promise<unknown>)[] = [];
    afterEach(async () => {
      for (const c of closers.splice(0).reverse()) await c().catch(() => {});
    });

    it("a worker killed mid-evaluation, and generations written with no worker running, still end with one verdict each", async () => {
      const { store, env } = await open();
      closers.push(() => store.close());
      const model: FakeServer = await startFakeModelServer({ respond: () => CRITIQUE });
      closers.push(() => model.close());
      // The judge holds its first answers long enough for the worker to be killed meanwhile.
      let hold = true;
      model.latencyMs = () => (hold ? 60_000 : 0);
      const rule = await createRule(store, "p", { name: "crash", judge: "critique", model: { baseUrl: model.baseUrl, model: "judge", cache: false, timeoutMs: 120_000, maxRetries: 0 } });
      await store.write({ items: [{ id: "i", project: "p", prompt: "q" }], generations: [{ id: "g1", project: "p", itemId: "i", policy: "prod", output: "one" }] });

      const args = ["--concurrency", "1", "--lease", "2", "--kinds", "rules"];
      const first: WorkerProcess = await startWorker(args, env);
      closers.push(() => stopWorker(first, "SIGKILL"));
      await until(async () => model.requests.length >= 1, "the judge to be asked");
      first.proc.kill("SIGKILL");
      await first.exited;
      expect((await store.rules.counts("p")).get(rule.id)).toMatchObject({ matched: 1, evaluated: 0, pending: 1 });

      // Written while no worker runs: acknowledged, so evaluated later.
      await store.write({ generations: [{ id: "g2", project: "p", itemId: "i", policy: "prod", output: "two" }] });
      hold = false;
      const second = await startWorker(args, env);
      closers.push(() => stopWorker(second));
      await until(async () => (await store.rules.counts("p")).get(rule.id)?.evaluated === 2, "both evaluations after the crash");
      const fb = (await store.listFeedback({ project: "p" })).records;
      expect(fb.map((f) => f.targets[0]).sort()).toEqual(["g1", "g2"]);
      expect((await store.rules.counts("p")).get(rule.id)).toMatchObject({ matched: 2, evaluated: 2, failed: 0, pending: 0 });
      // g1 was asked twice (before and after the crash), its verdict stored once.
      expect(model.requests.filter((r) => r.prompt.includes("one")).length).toBeGreaterThanOrEqual(2);
    }, 180_000);
  });
}
