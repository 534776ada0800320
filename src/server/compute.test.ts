import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../store/index.js";
import { ComputePool } from "./compute.js";

describe("compute pool threads", () => {
  const dir = mkdtempSync(join(tmpdir(), "rlxf-compute-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("time a call from when its thread is ready: a slow start-up is not a timeout, a slow call still is", async () => {
    const store = await openStore({ path: join(dir, "c.db") });
    // The thread takes 3 s to load (longer than the 2 s limit), then answers at once.
    const pool = new ComputePool(store, { threads: 1, timeoutMs: 2_000, thread: new URL("../../test/support/slow-compute-thread.mjs", import.meta.url) });
    try {
      expect(pool.threaded).toBe(true);
      await expect(pool.call("leaderboard", { project: "p", method: "bt", bootstrap: 0, seed: 1 })).resolves.toEqual({ echoed: "leaderboard" });
      expect(pool.counts.timedOut).toBe(0);
      await expect(pool.call("reward", { project: "hang", samples: [] })).rejects.toMatchObject({ code: "timed_out" });
      expect(pool.counts.timedOut).toBe(1);
    } finally {
      await pool.close();
      await store.close();
    }
  }, 30_000);
});
