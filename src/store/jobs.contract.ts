/**
 * Contract of durable jobs and shared rate limits (src/store/jobs.ts), registered once per engine.
 */
import { describe, expect, it } from "vitest";
import { ConflictError } from "../errors.js";
import { freshStores } from "./support.contract.js";
import type { Store } from "./types.js";
import type { UnitCommit } from "./jobs.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Unit `u` of a job judging pairs: an item, two generations and one pairwise feedback record (whose id depends on the verdict). */
function judged(u: number, seq: number, verdict: "first" | "second"): UnitCommit {
  const item = { id: `i${u}`, prompt: `q${u}` };
  const gens = [
    { id: `i${u}-a`, itemId: `i${u}`, policy: "a", output: "A" },
    { id: `i${u}-b`, itemId: `i${u}`, policy: "b", output: "B" },
  ];
  const fb = { id: `f${u}-${verdict}`, kind: "pairwise", targets: [`i${u}-a`, `i${u}-b`], source: { type: "judge", id: "j" }, value: { choice: verdict } };
  return { unit: u, seq, failed: false, outcome: verdict, recordId: fb.id, records: { items: [item], generations: gens, feedback: [fb] } };
}

export function jobsContract(name: string, factory: () => Promise<Store>, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`jobs contract: ${name}`, () => {
    const fresh = freshStores(factory);

    it("creates a job split into chunk tasks, lists it newest first per project, and pages", async () => {
      const s = await fresh();
      const a = await s.jobs.create({ id: "j1", project: "p", kind: "judge", input: { judge: "pairwise" }, maxAttempts: 3, phase: "units", chunks: [[1, 2], [3]] });
      expect(a).toMatchObject({ id: "j1", project: "p", kind: "judge", state: "queued", progress: { done: 0, total: 3, failed: 0 }, tasks: { total: 2, done: 0, failed: 0 }, attempts: 0, maxAttempts: 3, cancelRequested: false });
      expect(await s.jobs.chunk("j1", 1)).toEqual({ firstUnit: 2, units: [3] });
      await s.jobs.create({ id: "j2", project: "p", kind: "export", input: {}, maxAttempts: 1, phase: "whole" });
      await s.jobs.create({ id: "j3", project: "other", kind: "export", input: {}, maxAttempts: 1, phase: "whole" });
      expect(await s.jobs.get("j3", "p")).toBeUndefined();
      const page1 = await s.jobs.list({ project: "p", limit: 1 });
      expect(page1.jobs.map((j) => j.id)).toEqual(["j2"]);
      const page2 = await s.jobs.list({ project: "p", limit: 1, cursor: page1.nextCursor! });
      expect(page2.jobs.map((j) => j.id)).toEqual(["j1"]);
      expect(page2.nextCursor).toBeUndefined();
      expect((await s.jobs.list({ project: "p", kind: "judge" })).jobs.map((j) => j.id)).toEqual(["j1"]);
      expect((await s.jobs.tasks("j1")).map((t) => [t.seq, t.state, t.phase])).toEqual([[0, "queued", "units"], [1, "queued", "units"]]);
    });

    it("commits each unit exactly once with its records, even when attempts race", async () => {
      const s = await fresh();
      await s.jobs.create({ id: "j", kind: "judge", input: {}, maxAttempts: 3, phase: "units", chunks: [[0, 1, 2, 3]] });
      expect(await s.jobs.commitUnits("j", [judged(0, 0, "first"), judged(1, 0, "second")])).toEqual([0, 1]);
      // A second attempt that judged differently commits nothing for units already committed.
      expect(await s.jobs.commitUnits("j", [judged(0, 0, "second"), judged(1, 0, "first"), judged(2, 0, "first")])).toEqual([2]);
      // Two attempts at once: each unit goes to one of them.
      const [x, y] = await Promise.all([s.jobs.commitUnits("j", [judged(3, 0, "first")]), s.jobs.commitUnits("j", [judged(3, 0, "second")])]);
      expect([...x, ...y]).toEqual([3]);
      expect((await s.counts()).feedback).toBe(4);
      expect((await s.listFeedback({ itemId: "i0" })).records.map((f) => f.id)).toEqual(["f0-first"]);
      expect([...(await s.jobs.committedUnits("j", 0, 10))].sort()).toEqual([0, 1, 2, 3]);
      const job = await s.jobs.get("j");
      expect(job!.progress).toMatchObject({ done: 4, total: 4, failed: 0 });
      expect(Object.values(await s.jobs.outcomes("j")).reduce((a, b) => a + b, 0)).toBe(4);
    });

    it("runs tasks to the end: the job succeeds with its units' outcomes; a stale attempt changes nothing", async () => {
      const s = await fresh();
      await s.jobs.create({ id: "j", kind: "judge", input: {}, maxAttempts: 2, phase: "units", chunks: [[0], [1]] });
      const claimed = await s.jobs.claimLocal({ worker: "w1", kinds: ["judge"], n: 5 });
      expect(claimed.map((t) => [t.seq, t.state, t.attempts, t.worker])).toEqual([[0, "running", 1, "w1"], [1, "running", 1, "w1"]]);
      expect((await s.jobs.get("j"))!.state).toBe("running");
      expect(await s.jobs.heartbeat("w1", [{ jobId: "j", seq: 0 }])).toEqual(new Set());
      await s.jobs.commitUnits("j", [{ unit: 0, seq: 0, failed: false, outcome: "first" }]);
      await s.jobs.commitUnits("j", [{ unit: 1, seq: 1, failed: true, error: "unparseable answer" }]);
      expect(await s.jobs.finishTask("j", 0, { worker: "w2", attempt: 1, outcome: "succeeded" })).toBe("stale");
      expect(await s.jobs.finishTask("j", 0, { worker: "w1", attempt: 1, outcome: "succeeded" })).toBe("ok");
      expect((await s.jobs.get("j"))!.state).toBe("running");
      expect(await s.jobs.finishTask("j", 1, { worker: "w1", attempt: 1, outcome: "succeeded" })).toBe("ok");
      const done = (await s.jobs.get("j"))!;
      expect(done).toMatchObject({ state: "succeeded", progress: { done: 2, failed: 1 }, tasks: { total: 2, done: 2, failed: 0 }, attempts: 2, result: { outcomes: { first: 1, failed: 1 } } });
      expect(done.finishedAt).toBeDefined();
      expect(await s.jobs.unitFailures("j")).toEqual([{ unit: 1, error: "unparseable answer" }]);
    });

    it("hands on the task of a silent worker, fails it when attempts run out, and retries the job", async () => {
      const s = await fresh();
      await s.jobs.create({ id: "j", kind: "export", input: {}, maxAttempts: 2, phase: "whole" });
      const [t1] = await s.jobs.claimLocal({ worker: "dead", kinds: ["export"], n: 1 });
      expect(t1!.attempts).toBe(1);
      await sleep(30);
      const reaped = await s.jobs.reap(10);
      expect(reaped.map((r) => [r.jobId, r.retry, r.state])).toEqual([["j", true, "queued"]]);
      expect(await s.jobs.finishTask("j", 0, { worker: "dead", attempt: 1, outcome: "succeeded" })).toBe("stale");
      // Its worker went away (not its fault): another worker takes it up at once.
      const [next] = await s.jobs.claimLocal({ worker: "w", kinds: ["export"], n: 1 });
      expect(next).toMatchObject({ seq: 0, attempts: 2, worker: "w" });
      expect(await s.jobs.startTask("j", 0, { worker: "w3" })).toEqual({ status: "gone" });
      expect(await s.jobs.finishTask("j", 0, { worker: "w", attempt: 2, outcome: "failed", error: "disk full" })).toBe("ok");
      const failed = (await s.jobs.get("j"))!;
      expect(failed).toMatchObject({ state: "failed", error: "disk full", tasks: { failed: 1 } });
      expect((await s.jobs.attemptErrors("j")).map((e) => [e.attempt, e.error.slice(0, 10)])).toEqual([[2, "disk full"], [1, "the worker"]]);
      const again = (await s.jobs.retry("j", undefined))!;
      expect(again).toMatchObject({ state: "queued", tasks: { total: 1, done: 0, failed: 0 } });
      expect(again.error).toBeUndefined();
      await expect(s.jobs.retry("j", undefined)).rejects.toThrow(ConflictError);
    });

    it("cancels waiting tasks at once and running ones at their next heartbeat", async () => {
      const s = await fresh();
      await s.jobs.create({ id: "j", kind: "judge", input: {}, maxAttempts: 1, phase: "units", chunks: [[0], [1], [2]] });
      const [run] = await s.jobs.claimLocal({ worker: "w", kinds: ["judge"], n: 1 });
      const c = (await s.jobs.cancel("j", "elsewhere"));
      expect(c).toBeUndefined();
      const j = (await s.jobs.cancel("j", "default"))!;
      expect(j.state).toBe("running");
      expect(j.cancelRequested).toBe(true);
      expect((await s.jobs.tasks("j")).map((t) => t.state)).toEqual(["running", "cancelled", "cancelled"]);
      expect(await s.jobs.heartbeat("w", [{ jobId: "j", seq: run!.seq }])).toEqual(new Set(["j"]));
      await s.jobs.finishTask("j", run!.seq, { worker: "w", attempt: 1, outcome: "cancelled" });
      expect((await s.jobs.get("j"))!.state).toBe("cancelled");
      const retried = (await s.jobs.retry("j", "default"))!;
      expect(retried.state).toBe("queued");
      expect((await s.jobs.tasks("j")).every((t) => t.state === "queued")).toBe(true);
    });

    it("retries failed units only: they leave the counts and their tasks run again", async () => {
      const s = await fresh();
      await s.jobs.create({ id: "j", kind: "verify", input: {}, maxAttempts: 1, phase: "units", chunks: [[0, 1], [2]] });
      for (const t of await s.jobs.claimLocal({ worker: "w", kinds: ["verify"], n: 2 })) {
        const units = t.seq === 0 ? [{ unit: 0, seq: 0, failed: false }, { unit: 1, seq: 0, failed: true, error: "boom" }] : [{ unit: 2, seq: 1, failed: false }];
        await s.jobs.commitUnits("j", units);
        await s.jobs.finishTask("j", t.seq, { worker: "w", attempt: 1, outcome: "succeeded" });
      }
      expect((await s.jobs.get("j"))!.progress).toMatchObject({ done: 3, failed: 1 });
      const r = (await s.jobs.retry("j", undefined))!;
      expect(r.progress).toMatchObject({ done: 2, failed: 0 });
      expect((await s.jobs.tasks("j")).map((t) => t.state)).toEqual(["queued", "succeeded"]);
      expect([...(await s.jobs.committedUnits("j", 0, 3))].sort()).toEqual([0, 2]);
    });

    it("caps the tasks one project runs at once", async () => {
      const s = await fresh();
      await s.jobs.create({ id: "a", project: "pa", kind: "judge", input: {}, maxAttempts: 1, phase: "units", chunks: [[0], [1], [2]] });
      await s.jobs.create({ id: "b", project: "pb", kind: "judge", input: {}, maxAttempts: 1, phase: "units", chunks: [[0]] });
      const got = await s.jobs.claimLocal({ worker: "w", kinds: ["judge"], n: 4, projectCap: 1 });
      expect(got.map((t) => t.project).sort()).toEqual(["pa", "pb"]);
      expect(await s.jobs.startTask("a", 2, { worker: "w2", projectCap: 1 })).toEqual({ status: "busy" });
      expect((await s.jobs.startTask("a", 2, { worker: "w2", projectCap: 2 })).status).toBe("started");
    });

    it("keeps files in parts and reads them back in order", async () => {
      const s = await fresh();
      await s.jobs.create({ id: "j", kind: "export", input: {}, maxAttempts: 1, phase: "whole" });
      await s.jobs.putFilePart("j", 0, Buffer.from("hello "));
      await s.jobs.putFilePart("j", 1, new TextEncoder().encode("wörld\n"));
      const parts: Buffer[] = [];
      for await (const p of s.jobs.fileParts("j")) parts.push(p);
      expect(Buffer.concat(parts).toString("utf8")).toBe("hello wörld\n");
      expect(await s.jobs.fileSize("j")).toBe(Buffer.byteLength("hello wörld\n"));
      await s.jobs.clearFile("j");
      expect(await s.jobs.fileSize("j")).toBe(0);
    });

    it("prunes finished jobs past their retention, with their files, and leaves the others", async () => {
      const s = await fresh();
      for (const id of ["old", "live"]) await s.jobs.create({ id, kind: "export", input: {}, maxAttempts: 1, phase: "whole" });
      const [t] = await s.jobs.claimLocal({ worker: "w", kinds: ["export"], n: 1 });
      await s.jobs.putFilePart(t!.jobId, 0, Buffer.from("x"));
      await s.jobs.finishTask(t!.jobId, 0, { worker: "w", attempt: 1, outcome: "succeeded", result: { file: "x.jsonl" } });
      expect(await s.jobs.prune(Date.now() - 60_000)).toBe(0);
      await sleep(5);
      expect(await s.jobs.prune(Date.now() + 1)).toBe(1);
      expect(await s.jobs.get(t!.jobId)).toBeUndefined();
      expect(await s.jobs.fileSize(t!.jobId)).toBe(0);
      expect((await s.jobs.list({})).jobs.map((j) => j.state)).toEqual(["queued"]);
    });

    it("rate limits: a bucket empties, refills with time, and a pause holds everyone back", async () => {
      const s = await fresh();
      // One unit a second, five at most: generous margins for a slow machine.
      expect(await s.rateLimits.take("k", 5, 60, 5)).toBe(0);
      const wait = await s.rateLimits.take("k", 5, 60, 5);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(5000);
      await sleep(1100);
      expect(await s.rateLimits.take("k", 1, 60, 5)).toBe(0);
      await s.rateLimits.pause("k", 10_000);
      const paused = await s.rateLimits.take("k", 1, 60, 5);
      expect(paused).toBeGreaterThan(5000);
      expect(await s.rateLimits.pausedFor("k")).toBeGreaterThan(5000);
      // Another key is not paused; a slow bucket says how long until a unit is there, and a unit given back is there at once.
      expect(await s.rateLimits.take("slow", 1, 6, 1)).toBe(0);
      const slow = await s.rateLimits.take("slow", 1, 6, 1);
      expect(slow).toBeGreaterThan(0);
      expect(slow).toBeLessThanOrEqual(10_000);
      await s.rateLimits.adjust("slow", -1, 6, 1);
      expect(await s.rateLimits.take("slow", 1, 6, 1)).toBe(0);
    });
  });
}
