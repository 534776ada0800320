/**
 * The shipped examples, run as a newcomer would before setting anything up: one line saying what to set, a failing
 * exit code, never a stack trace. (Their happy path runs against a real server in test/server/serve.test.ts.)
 */
import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");

function example(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = { ...process.env, RLXF_URL: "", RLXF_API_KEY: "", ...env };
  return new Promise((done) =>
    execFile(process.execPath, [join(ROOT, "examples", "send-feedback.mjs")], { cwd: ROOT, env: clean, timeout: 60_000 }, (e, stdout, stderr) =>
      done({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("examples/send-feedback.mjs", () => {
  it("without RLXF_API_KEY says to set it (and RLXF_URL) in one line and exits non-zero", async () => {
    const r = await example({});
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/RLXF_API_KEY is not set/);
    expect(r.stderr).toContain("RLXF_URL");
    expect(r.stderr).toContain("rlxf keys create");
  });

  it("with no server at RLXF_URL names RLXF_URL and the address in one line and exits non-zero", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await example({ RLXF_URL: url, RLXF_API_KEY: "rlxf_not_a_key" });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`cannot reach an rlxf server at RLXF_URL=${url}`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 90_000);
});
