/**
 * The listener's graceful close, and `rlxf serve` / `rlxf keys` as a
 * newcomer runs them: an empty store gets the demo project, a key made with
 * the CLI works with plain HTTP, SIGTERM stops the server cleanly.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { afterAll, describe, expect, it, vi } from "vitest";
import { listen } from "../../src/server/index.js";
import { openStore } from "../../src/store/index.js";
import { rlxf } from "../support/cli.js";
import { ROOT, requireBuiltCli } from "./helpers.js";
import { startServer } from "./process.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-serve-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `rlxf serve` as the built binary (a server is a process); `rlxf keys` runs in-process (test/support/cli.ts). */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [requireBuiltCli(), ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("graceful close", () => {
  const slowApp = () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const app = new Hono();
    app.get("/slow", async (c) => {
      await gate;
      return c.text("done");
    });
    app.get("/fast", (c) => c.text("fast"));
    return { app, release };
  };

  it("finishes in-flight requests, refuses new connections, then resolves", async () => {
    const { app, release } = slowApp();
    const running = await listen(app, { port: 0 });
    // An idle keep-alive connection must not hold the close up.
    expect(await (await fetch(`${running.url}/fast`)).text()).toBe("fast");
    const inFlight = fetch(`${running.url}/slow`);
    await vi.waitFor(() => expect(running.inFlight()).toBe(1));
    let closed = false;
    const closing = running.close().then(() => (closed = true));
    await expect(fetch(`${running.url}/fast`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    expect(closed).toBe(false);
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("done");
    await closing;
    expect(running.inFlight()).toBe(0);
  });

  it("cuts requests still running at the deadline", async () => {
    const { app, release } = slowApp();
    const running = await listen(app, { port: 0, shutdownTimeoutMs: 100, log: () => {} });
    const inFlight = fetch(`${running.url}/slow`).then(
      () => "answered",
      () => "cut",
    );
    await vi.waitFor(() => expect(running.inFlight()).toBe(1));
    await running.close();
    expect(await inFlight).toBe("cut");
    release();
  });
});

describe("rlxf serve and rlxf keys", () => {
  it("serves an empty store with the example in the default project; a CLI key works with curl-style HTTP and the client; SIGTERM stops it", async () => {
    const db = join(dir, "newcomer.db");
    const server = await startServer(["--db", db]);
    try {
      expect(server.stderr()).toContain('seeded project "default"');
      expect(server.stderr()).toContain(`rlxf keys create --role admin --db ${db}`);

      const created = await rlxf(["keys", "create", "--role", "admin", "--name", "me", "--db", db]);
      expect(created.code, created.stderr).toBe(0);
      const key = created.stdout.trim();
      expect(key).toMatch(/^rlxf_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(created.stderr).toContain("shown this once");

      const auth = { Authorization: `Bearer ${key}` };
      const items = (await (await fetch(`${server.url}/v1/items?limit=100`, { headers: auth })).json()) as { records: { id: string }[] };
      expect(items.records.map((r) => r.id)).toContain("capital");
      const post = await fetch(`${server.url}/v1/feedback`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify({ id: "my-first", kind: "rating", targets: ["capital/tiny-chat"], source: { type: "human", id: "me" }, value: { score: 1, scale: { min: 1, max: 5 } } }),
      });
      expect(post.status).toBe(201);
      const board = (await (await fetch(`${server.url}/v1/leaderboard`, { headers: auth })).json()) as { rows: { model: string }[] };
      expect(board.rows.length).toBeGreaterThan(1);

      // The client example, twice: the second run stores nothing new.
      const example = (): Promise<string> =>
        new Promise((resolve, reject) =>
          execFile(process.execPath, [join(ROOT, "examples", "send-feedback.mjs")], { cwd: ROOT, env: { ...process.env, RLXF_URL: server.url, RLXF_API_KEY: key }, timeout: 20_000 }, (e, out, errOut) =>
            e ? reject(new Error(`${e.message}\n${errOut}`)) : resolve(out),
          ),
        );
      expect(await example()).toContain("inserted: 2");
      const second = await example();
      expect(second).toContain("existing: 2");
      expect(second).toContain("model-a");

    } finally {
      server.proc.kill("SIGTERM");
      const end = await server.exited;
      expect(end.code, server.stderr()).toBe(0);
    }
    expect(server.stderr()).toContain("SIGTERM: shutting down");
    // The store was closed cleanly and keeps everything.
    const store = await openStore({ path: db });
    expect(await store.getFeedback("default", "my-first")).toBeDefined();
    await store.close();
  });

  it("rlxf keys lists keys without their secrets and revokes them", async () => {
    const db = join(dir, "keys.db");
    const created = await rlxf(["keys", "create", "--project", "p", "--role", "read", "--name", "dash", "--db", db, "--create-store"]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    const [listed, unknownKey, badRole] = await Promise.all([
      rlxf(["keys", "list", "--json", "--db", db]),
      rlxf(["keys", "revoke", "0000000000000000", "--db", db]),
      rlxf(["keys", "create", "--project", "p", "--role", "root", "--db", db]),
    ]);
    expect(unknownKey.code).not.toBe(0);
    expect(unknownKey.stderr).toContain("no key");
    expect(badRole.code).not.toBe(0);
    const keys = JSON.parse(listed.stdout) as { id: string; name: string; role: string }[];
    expect(keys).toEqual([expect.objectContaining({ name: "dash", role: "read", project: "p" })]);
    expect(listed.stdout).not.toContain(key.slice(22));
    const revoked = await rlxf(["keys", "revoke", keys[0]!.id, "--db", db]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const store = await openStore({ path: db });
    expect(await store.keys.authenticate(key)).toBeUndefined();
    expect((await store.keys.list({ includeRevoked: true }))[0]?.revokedAt).toBeDefined();
    await store.close();
  });

  it("does not seed a store that holds data, nor with --no-demo", async () => {
    const db = join(dir, "empty.db");
    const server = await startServer(["--db", db, "--no-demo"]);
    server.proc.kill("SIGINT");
    expect((await server.exited).code).toBe(0);
    expect(server.stderr()).not.toContain("seeded");
    const store = await openStore({ path: db });
    expect(await store.projects()).toEqual([]);
    await store.close();
  });

  it("runs with --durability full by default (SQLite synchronous=FULL); normal on request; anything else is refused", async () => {
    const db = join(dir, "durable.db");
    const full = await startServer(["--db", db, "--no-demo"]);
    expect(full.stdout()).toMatch(/listening on \S+ \(SQLite \S+durable\.db, durability full\)/);
    full.proc.kill("SIGTERM");
    expect((await full.exited).code).toBe(0);
    const normal = await startServer(["--db", db, "--no-demo", "--durability", "normal"]);
    expect(normal.stdout()).toMatch(/durability normal\)/);
    normal.proc.kill("SIGTERM");
    expect((await normal.exited).code).toBe(0);
    const bad = await cli(["serve", "--port", "0", "--db", db, "--durability", "eventual"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--durability.*eventual.*full, normal/s);
  });

  it("takes ceilings and rate limits from --limits over $RLXF_LIMITS, and refuses a bad one by name before serving", async () => {
    const db = join(dir, "limits.db");
    const store = await openStore({ path: db });
    const key = (await store.keys.create({ project: "p", role: "read" })).secret;
    await store.close();
    const server = await startServer(["--db", db, "--no-demo", "--limits", "bootstrapRounds=10"], { RLXF_LIMITS: "bootstrapRounds=99,keyBurst=3,keyRate=0.001" });
    try {
      const get = (path: string) => fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${key}` } });
      const over = await get("/v1/leaderboard?bootstrap=11");
      expect(over.status).toBe(400);
      expect(((await over.json()) as { error: { issues: unknown[] } }).error.issues).toEqual([{ path: "bootstrap", message: "must be at most 10 (the server's ceiling bootstrapRounds)" }]);
      // The environment's rate limit holds: the bucket of 3 is spent (one request above, two here), then 429.
      expect((await get("/v1/me")).status).toBe(200);
      expect((await get("/v1/me")).status).toBe(200);
      const limited = await get("/v1/me");
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
    const bad = await cli(["serve", "--port", "0", "--db", db, "--limits", "bootstrapRounds=10,rounds=5"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/rounds: expected name=number/);
    const zero = await cli(["serve", "--port", "0", "--db", db, "--limits", "exportRows=0"]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/exportRows: must be positive/);
  });

  it("reports a port in use clearly", async () => {
    const db = join(dir, "busy.db");
    const first = await startServer(["--db", db, "--no-demo"]);
    try {
      const port = new URL(first.url).port;
      const second = await cli(["serve", "--port", port, "--db", db, "--no-demo"]);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toMatch(/EADDRINUSE|in use/);
    } finally {
      first.proc.kill("SIGTERM");
      await first.exited;
    }
  });
});
