/**
 * The writer thread. Its script is the built one (dist/sources/writer-worker.js):
 * `npm test` builds first; without a build this file is skipped.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RlxfError } from "../errors.js";
import { openStore } from "../store/index.js";
import { failureRecord, feedbackRecord, pairTargets } from "./records.js";
import { WorkerSink } from "./writer.js";

const workerUrl = new URL("../../dist/sources/writer-worker.js", import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "rlxf-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function records(n: number, offset = 0) {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    const { item, generations } = pairTargets("default", { instruction: `q${i}`, output_1: `a${i}`, output_2: `b${i}` });
    const targets = generations.map((g) => g.id);
    const source = { type: "judge" as const, id: "j" };
    return i % 5 === 4
      ? { items: [item], generations, failures: [failureRecord({ project: "default", itemId: item.id, kind: "pairwise", targets, source, failed: { ok: false, reason: "unparseable", error: "no verdict", raw: ["??"], attempts: 1 } })] }
      : { items: [item], generations, feedback: [feedbackRecord({ project: "default", itemId: item.id, kind: "pairwise", targets, source, value: { choice: "first", pSecond: 0.2 } })] };
  });
}

describe.skipIf(!WorkerSink.available(workerUrl))("WorkerSink", () => {
  it("writes records and cache entries from its own thread, in batches", async () => {
    const path = join(dir, "a.db");
    const store = await openStore({ path });
    const sink = new WorkerSink({ path }, { batchSize: 7, workerUrl });
    try {
      for (const r of records(30)) sink.add(r);
      const cache = sink.cacheStore(store.responseCache);
      expect(await cache.put([{ key: "k1", model: "m", body: "{}" }])).toBe(1);
      const report = await sink.flush();
      expect(report).toEqual({ feedback: { inserted: 24, existing: 0 }, failures: { inserted: 6, existing: 0 } });
      // This thread's handle sees what the writer thread wrote.
      expect((await store.counts()).feedback).toBe(24);
      expect((await store.judgementFailures.list()).records).toHaveLength(6);
      expect((await store.responseCache.get(["k1"])).get("k1")?.body).toBe("{}");
      // Idempotent: the same records again are "existing".
      for (const r of records(30)) sink.add(r);
      expect(await sink.flush()).toEqual({ feedback: { inserted: 24, existing: 24 }, failures: { inserted: 6, existing: 6 } });
    } finally {
      await sink.close();
      await store.close();
    }
  });

  it("reports a write error and stops writing", async () => {
    const path = join(dir, "b.db");
    const sink = new WorkerSink({ path }, { batchSize: 1, workerUrl });
    try {
      const [ok] = records(1);
      const bad = records(1, 1)[0]!;
      sink.add({ feedback: bad.feedback }); // its item and generations are missing
      const e = await sink.flush().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RlxfError);
      expect((e as Error).message).toMatch(/does not exist/);
      expect(sink.error).toBeDefined();
      sink.add(ok!);
      await expect(sink.flush()).rejects.toThrow(/does not exist/);
    } finally {
      await sink.close();
    }
  });
});
