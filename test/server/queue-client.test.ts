/**
 * The TypeScript client's queue, dashboard and export methods against a real listening server, including a
 * submission whose response is lost: the client retries under the same submissionId and the feedback is
 * stored once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rlxf } from "../../src/client/index.js";
import { createApp, listen, type RunningServer } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { keyOf } from "./helpers.js";

let store: Store;
let running: RunningServer;
const errors: string[] = [];

const exportDir = mkdtempSync(join(tmpdir(), "rlxf-exports-client-"));
process.env.RLXF_EXPORT_DIR = exportDir;

beforeAll(async () => {
  store = await openStore({ path: ":memory:" });
  running = await listen(createApp({ store, log: (l) => errors.push(l) }), { port: 0 });
  const items = ["i0", "i1"].map((id) => ({ id, project: "c", prompt: `prompt ${id}` }));
  await store.write({ items, generations: items.flatMap((it) => ["a", "b"].map((p) => ({ id: `${it.id}-${p}`, project: "c", itemId: it.id, policy: p, output: `${p} says ${it.id}` }))) });
});
afterAll(async () => {
  await running.close();
  await store.close();
  rmSync(exportDir, { recursive: true, force: true });
  expect(errors).toEqual([]);
});

describe("client: queues", () => {
  it("creates a queue, annotates through it, survives a lost submit response, and exports in the background", async () => {
    const admin = new Rlxf({ url: running.url, key: await keyOf(store, "c", "admin"), flushOnExit: false });
    const queue = await admin.createQueue({
      id: "cq",
      name: "Pairs",
      selection: { mode: "pairs" },
      questions: [{ id: "pref", kind: "pairwise", prompt: "Better?" }],
    });
    expect(queue.progress).toMatchObject({ tasks: 2, needed: 2 });
    expect((await admin.queues()).map((q) => q.id)).toEqual(["cq"]);
    expect(await admin.queue("nope")).toBeUndefined();

    // The first submit reaches the server, but its response is lost on the way back.
    let submits = 0;
    const lossy = (async (input: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(input, init);
      if (String(input).endsWith("/submit") && ++submits === 1) {
        await res.body?.cancel();
        throw new TypeError("fetch failed: connection reset");
      }
      return res;
    }) as typeof fetch;
    const alice = new Rlxf({ url: running.url, key: await keyOf(store, "c", "annotate", "alice"), fetch: lossy, backoffMs: 1, flushOnExit: false });
    const task = (await alice.nextTask("cq"))!;
    expect(task.generations).toHaveLength(2);
    await alice.saveDraft("cq", task.id, { pref: { choice: "tie" } });
    expect((await alice.nextTask("cq"))?.draft).toEqual({ pref: { choice: "tie" } });
    const r = await alice.submitTask("cq", task.id, { pref: { choice: "first" } });
    expect(submits).toBe(2);
    expect(r.replayed).toBe(true);
    expect(r.feedback).toEqual([`queue:cq:${task.id}:alice:pref`]);
    expect((await store.counts("c")).feedback).toBe(1);

    const next = (await alice.nextTask("cq"))!;
    await alice.skipTask("cq", next.id);
    expect(await alice.nextTask("cq")).toBeNull();

    const stats = (await admin.queueStats("cq")) as { progress: { submitted: number; skipped: number } };
    expect(stats.progress).toMatchObject({ submitted: 1, skipped: 1 });
    const dist = (await admin.distributions()) as { lengths: { pairs: number } };
    expect(dist.lengths.pairs).toBe(1);

    const job = await admin.startExport("rlxf", { queueId: "cq" });
    const done = await admin.waitForExport(job.id, { intervalMs: 20 });
    expect(done).toMatchObject({ status: "done", rows: 1 + 2 + 1 });
    const lines = (await admin.exportFile(job.id)).trim().split("\n").map((l) => JSON.parse(l) as { id: string });
    expect(lines.at(-1)?.id).toBe(`queue:cq:${task.id}:alice:pref`);
  });

  it("lists a queue's tasks, releases a lock and deletes the queue", async () => {
    const admin = new Rlxf({ url: running.url, key: await keyOf(store, "c", "admin", "admin2"), flushOnExit: false });
    await admin.createQueue({ id: "rq", name: "Rate", selection: { mode: "generations" }, questions: [{ id: "ok", kind: "binary", prompt: "OK?" }] });
    const bob = new Rlxf({ url: running.url, key: await keyOf(store, "c", "annotate", "bob"), flushOnExit: false });
    const held = (await bob.nextTask("rq"))!;
    const page = await admin.queueTasks("rq", { limit: 2 });
    expect(page.total).toBe(4);
    expect(page.tasks).toHaveLength(2);
    expect(page.tasks[0]).toMatchObject({ id: held.id, claims: [{ annotator: "bob", status: "locked", hasDraft: false }] });
    expect(await admin.releaseTask("rq", held.id, "bob")).toBe(1);
    expect((await admin.queueTasks("rq", { limit: 1 })).tasks[0]!.claims[0]!.status).toBe("expired");
    expect(await admin.deleteQueue("rq")).toEqual({ queue: "rq", tasks: 4, claims: 1 });
    expect(await admin.queue("rq")).toBeUndefined();
  });
});
