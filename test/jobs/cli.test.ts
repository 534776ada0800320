/**
 * The command line's side of jobs, in-process with its output captured: `--submit` on judge, verify check and
 * export enqueues instead of running; `rlxf jobs list|show|cancel|retry|wait|file` follow, stop and rerun
 * them; a runner (what `rlxf worker` runs) does the work. One `rlxf worker` process is started from the built
 * CLI to show it stops cleanly on SIGTERM with nothing lost.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { program } from "../../src/cli/program.js";
import { type Jobs, openJobs } from "../../src/jobs/index.js";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { type Store, openStore } from "../../src/store/index.js";
import { startWorker, stopWorker, waitForJob } from "./workers.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-jobs-cli-"));
const db = join(dir, "rlxf.db");
const pairsFile = join(dir, "pairs.jsonl");
const answersFile = join(dir, "answers.jsonl");
let server: FakeServer;
let store: Store;

beforeAll(async () => {
  server = await startFakeModelServer({ respond: () => "M" });
  writeFileSync(pairsFile, Array.from({ length: 8 }, (_, i) => JSON.stringify({ instruction: `q${i}`, output_1: `a${i}`, output_2: `b${i}` })).join("\n") + "\n");
  writeFileSync(answersFile, ["4", "5", "\\boxed{4}"].map((c) => JSON.stringify({ completion: c, reference: "4" })).join("\n") + "\n");
  store = await openStore({ path: db });
});
afterAll(async () => {
  await store.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rlxf(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  let stdout = "";
  let stderr = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  const before = process.exitCode;
  process.exitCode = 0;
  let exitCode: number;
  try {
    const p = program();
    p.exitOverride();
    await p.parseAsync(["node", "rlxf", ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
    exitCode = Number(process.exitCode ?? 0);
    process.exitCode = before;
  }
  return { stdout, stderr, exitCode };
}

describe("jobs from the command line", () => {
  it("submits a judge job, cancels it, retries it, and waits for it while a runner works", async () => {
    const sub = await rlxf(["judge", "pairwise", "--input", pairsFile, "--base-url", server.baseUrl, "--model", "fake", "--order", "fixed", "--project", "cli", "--db", db, "--submit"]);
    const id = sub.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sub.stderr).toContain(`rlxf jobs wait ${id}`);
    // Nothing has run: submitting only enqueues.
    expect(server.requests).toHaveLength(0);
    const listed = await rlxf(["jobs", "list", "--project", "cli", "--json", "--db", db]);
    expect(JSON.parse(listed.stdout.trim())).toMatchObject({ id, kind: "judge", state: "queued", progress: { done: 0, total: 8 } });

    const cancelled = await rlxf(["jobs", "cancel", id, "--db", db]);
    expect(cancelled.stdout).toContain(`job ${id}: cancelled`);
    const retried = await rlxf(["jobs", "retry", id, "--db", db]);
    expect(retried.stdout).toContain(`job ${id}: queued again`);

    const jobs: Jobs = openJobs(store, { run: { concurrency: 2, pollMs: 100, heartbeatMs: 200 }, log: () => {} });
    try {
      const waited = await rlxf(["jobs", "wait", id, "--timeout", "60", "--db", db]);
      expect(waited.exitCode).toBe(0);
      expect(waited.stdout).toContain("succeeded");
      expect(waited.stdout).toContain("progress 8/8");
      const shown = JSON.parse((await rlxf(["jobs", "show", id, "--json", "--db", db])).stdout);
      expect(shown).toMatchObject({ state: "succeeded", retries: 1, result: { outcomes: { second: 8 } }, failures: [], unitFailures: [] });
      expect((await store.counts("cli")).feedback).toBe(8);

      // verify check --submit: scores per sample, stored as verification feedback.
      const v = (await rlxf(["verify", "check", "--verifier", "math", "--input", answersFile, "--project", "cli", "--db", db, "--submit"])).stdout.trim();
      const vj = await waitForJob(store, v, 60_000);
      expect(vj).toMatchObject({ state: "succeeded", progress: { done: 3, failed: 0 } });
      expect((await store.jobs.unitRecords(v)).map((u) => JSON.parse(u.outcome!).passed)).toEqual([true, false, true]);

      // export --submit, then the file.
      const x = (await rlxf(["export", "--format", "rlxf", "--project", "cli", "--db", db, "--submit"])).stdout.trim();
      expect((await rlxf(["jobs", "wait", x, "--db", db])).exitCode).toBe(0);
      const out = join(dir, "export.jsonl");
      await rlxf(["jobs", "file", x, "--out", out, "--db", db]);
      const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: string });
      expect(lines.length).toBe((await store.counts("cli")).items + (await store.counts("cli")).generations + (await store.counts("cli")).feedback);

      // A job that fails makes `jobs wait` exit 1, with the error shown.
      const bad = await jobs.submit({ kind: "rm-train", project: "empty", origin: "cli", input: { name: "rm" } });
      const failed = await rlxf(["jobs", "wait", bad.id, "--timeout", "60", "--db", db]);
      expect(failed.exitCode).toBe(1);
      expect(failed.stdout).toMatch(/failed[\s\S]*no preference pairs/);
    } finally {
      await jobs.close();
    }
  }, 120_000);

  it("rlxf worker (the built CLI) waits on an empty SQLite queue, runs a job submitted later and, stopped with SIGTERM, exits cleanly", async () => {
    // Started before there is any work, for every kind: on SQLite nothing but the worker itself keeps the process up.
    const w = await startWorker(["--db", db, "--concurrency", "1"], {});
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(w.proc.exitCode, w.output()).toBe(null);
      const sub = await rlxf(["judge", "pairwise", "--input", pairsFile, "--base-url", server.baseUrl, "--model", "other", "--project", "w", "--db", db, "--submit"]);
      const id = sub.stdout.trim();
      const exited = w.exited.then(({ code, signal }) => Promise.reject(new Error(`the worker exited (${code ?? signal}) with the job waiting:\n${w.output()}`)));
      const done = await Promise.race([waitForJob(store, id, 60_000), exited]);
      expect(done.state).toBe("succeeded");
    } finally {
      await stopWorker(w);
    }
    expect((await w.exited).code).toBe(0);
    expect(w.output()).toMatch(/stopped \(1 task\(s\) done/);
  }, 120_000);
});
