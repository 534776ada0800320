/**
 * One project, one store, as a newcomer meets them: `rlxf serve` in a fresh directory, a key from
 * `rlxf keys create`, then import, judge, rm train, lab run --save and a loop with the CLI's defaults. The web
 * app's key must see everything they stored, and every hint they print must work as printed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeServer, startFakeModelServer } from "../src/providers/testing/index.js";
import { rlxf } from "./support/cli.js";
import { startServer } from "./server/process.js";

const tmp = mkdtempSync(join(tmpdir(), "rlxf-story-"));
let model: FakeServer;
/** No store or project named by the environment: the defaults are under test. */
const CLEAN = { RLXF_DB: "", RLXF_DATABASE_URL: "", RLXF_PROJECT: "" };

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

/** A small AlpacaEval annotation folder: three models against a reference on 24 instructions. */
function annotations(dir: string): string {
  const ann = join(dir, "annotations");
  mkdirSync(ann, { recursive: true });
  for (const m of ["alpha", "beta", "gamma"]) {
    const rows = Array.from({ length: 24 }, (_, i) => {
      const good = (i + m.length) % 3 !== 0;
      return {
        instruction: `Question ${i}: explain topic ${i}`,
        output_1: `Reference answer ${i} with some detail`,
        generator_1: "gpt4_1106_preview",
        output_2: good ? `A careful answer from ${m} about topic ${i}, with the reasons spelled out` : `short ${m}`,
        generator_2: m,
        preference: good ? 2 : 1,
      };
    });
    writeFileSync(join(ann, `${m}.json`), JSON.stringify(rows));
  }
  return ann;
}

/** Inputs of each step, written into `dir`. */
function inputs(dir: string) {
  const prefs = join(dir, "prefs.jsonl");
  writeFileSync(
    prefs,
    jsonl(Array.from({ length: 30 }, (_, i) => ({ prompt: `How do I do task ${i}?`, chosen: `Step by step, task ${i} is done like this, carefully.`, rejected: `no ${i}` }))),
  );
  const pairs = join(dir, "pairs.jsonl");
  writeFileSync(pairs, jsonl(Array.from({ length: 4 }, (_, i) => ({ instruction: `Judge me ${i}`, output_1: `first answer ${i}`, output_2: `second answer ${i}` }))));
  const tasks = join(dir, "tasks.jsonl");
  writeFileSync(tasks, jsonl([{ id: "sum", prompt: "What is 17 + 25? Answer in \\boxed{}.", reference: "42" }]));
  return { prefs, pairs, tasks, ann: annotations(dir) };
}

beforeAll(async () => {
  // Judges answer "m" (the first output), the policy answers 42.
  model = await startFakeModelServer({ respond: (r) => (r.prompt.includes("17 + 25") ? "\\boxed{42}" : "m") });
});
afterAll(async () => {
  await model.close();
  rmSync(tmp, { recursive: true, force: true });
});

const modelFlags = () => ["--base-url", model.baseUrl, "--model", "fake"];

describe("one project story", () => {
  it("what the CLI stores with its defaults is what the web app's key sees, and the printed hints work", async () => {
    const dir = join(tmp, "fresh");
    mkdirSync(dir);
    const files = inputs(dir);
    const server = await startServer([], CLEAN, 30_000, dir);
    try {
      expect(server.stderr()).toContain('seeded project "default"');
      expect(server.stderr()).toContain("npx rlxf keys create --role admin\n");
      const cli = (args: string[]) => rlxf(args, { cwd: dir, env: CLEAN });

      const created = await cli(["keys", "create", "--role", "admin"]);
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr).toContain(`project "default"`);
      expect(created.stderr).toContain(join(dir, ".rlxf", "rlxf.db"));
      const key = created.stdout.trim();

      const imported = await cli(["import", files.prefs]);
      expect(imported.code, imported.stderr).toBe(0);
      const judged = await cli(["judge", "pairwise", "--input", files.pairs, ...modelFlags()]);
      expect(judged.code, judged.stderr).toBe(0);
      const trained = await cli(["rm", "train", "--name", "story-rm"]);
      expect(trained.code, trained.stderr).toBe(0);
      const lab = await cli(["lab", "run", files.ann, "--methods", "best-of-n", "--labels", "40", "--steps", "5", "--curves", "-", "--save", "story-lab"]);
      expect(lab.code, lab.stderr).toBe(0);
      expect(lab.stderr).toContain('the web app of `rlxf serve` shows it at /lab/story-lab to a key of project "default"');
      const loop = await cli(["loop", "retry", "--tasks", files.tasks, "--feedback", "math", "--rounds", "1", ...modelFlags()]);
      expect(loop.code, loop.stderr).toBe(0);
      const hint = /: (rlxf loop report \S+);/.exec(loop.stdout);
      expect(hint, loop.stdout).not.toBeNull();
      const runId = hint![1]!.split(" ")[3]!;
      // The hint as printed, run where it was printed.
      const report = await cli(hint![1]!.split(" ").slice(1));
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout).toContain(`run ${runId}`);

      const api = async (path: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      const items = await api("/v1/items?limit=1000");
      const prompts = items.body.records.map((r: { prompt: string }) => r.prompt);
      expect(prompts).toContain("What is the capital of Australia?"); // the seeded example
      expect(prompts).toContain("How do I do task 7?"); // rlxf import
      expect(prompts).toContain("Judge me 2"); // rlxf judge
      expect(prompts).toContain("What is 17 + 25? Answer in \\boxed{}."); // rlxf loop
      const judgeFeedback = await api("/v1/feedback?sourceType=judge&limit=100");
      expect(judgeFeedback.body.records.some((f: { source: { id: string } }) => f.source.id.startsWith("pairwise"))).toBe(true);
      expect((await api("/v1/lab/results")).body.results.map((r: { name: string }) => r.name)).toContain("story-lab");
      expect((await api("/v1/loops/runs")).body.runs.map((r: { id: string }) => r.id)).toContain(runId);
      const scored = await api("/v1/reward", { spec: { type: "reward-model", model: "story-rm" }, samples: [{ prompt: "How do I do task 3?", completion: "Step by step." }] });
      expect(scored.status, JSON.stringify(scored.body)).toBe(200);
    } finally {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
  });

  it("with --db and another project, hints carry both and work from another directory", async () => {
    const dir = join(tmp, "elsewhere");
    const other = join(tmp, "other-cwd");
    mkdirSync(dir);
    mkdirSync(other);
    const files = inputs(dir);
    const db = join(dir, "team.db");
    const cli = (args: string[], cwd = dir) => rlxf(args, { cwd, env: CLEAN });
    const loop = await cli(["loop", "retry", "--tasks", files.tasks, "--feedback", "math", "--rounds", "1", "--project", "team", "--db", db, ...modelFlags()]);
    expect(loop.code, loop.stderr).toBe(0);
    const hint = /: (rlxf loop report \S+ --project team --db \S+);/.exec(loop.stdout);
    expect(hint, loop.stdout).not.toBeNull();
    expect(loop.stdout).toContain(`the web app of \`rlxf serve --db ${db}\` shows it at /loops/`);
    expect(loop.stdout).toContain(`\`rlxf keys create --role read --project team --db ${db}\``);
    const report = await cli(hint![1]!.split(" ").slice(1), other);
    expect(report.code, report.stderr).toBe(0);

    // RLXF_PROJECT moves every default at once, the server's seed and key hint included.
    const env = { ...CLEAN, RLXF_PROJECT: "team" };
    const server = await startServer(["--db", join(dir, "seeded.db")], env, 30_000, dir);
    try {
      expect(server.stderr()).toContain('seeded project "team"');
      expect(server.stderr()).toContain(`npx rlxf keys create --role admin --db ${join(dir, "seeded.db")}\n`);
    } finally {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
    const listed = await rlxf(["loop", "list", "--db", db, "--json"], { cwd: other, env });
    expect(JSON.parse(listed.stdout).map((r: { project: string }) => r.project)).toEqual(["team"]);
    const bad = await rlxf(["stats", "--db", db], { cwd: other, env: { ...CLEAN, RLXF_PROJECT: "x".repeat(300) } });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("RLXF_PROJECT");
  });
});

describe("keys and the store they belong to", () => {
  it("keys create (and reading commands) refuse to make a store by mistake, naming where they looked", async () => {
    const dir = join(tmp, "no-store");
    mkdirSync(dir);
    const commands = [["keys", "create", "--role", "admin"], ["keys", "list"], ["stats"], ["rm", "list"], ["loop", "list"]];
    const results = await Promise.all(commands.map((args) => rlxf(args, { cwd: dir, env: CLEAN })));
    for (const [i, r] of results.entries()) {
      expect(r.code, commands[i]!.join(" ")).toBe(1);
      expect(r.stderr).toContain(`no SQLite store at ${join(dir, ".rlxf", "rlxf.db")}`);
      expect(r.stderr).toContain("--db");
      expect(r.stderr).toContain("RLXF_DATABASE_URL");
    }
    const viaEnv = await rlxf(["keys", "create", "--role", "admin"], { cwd: dir, env: { ...CLEAN, RLXF_DB: join(dir, "typo.db") } });
    expect(viaEnv.stderr).toContain("(from RLXF_DB)");
    expect(viaEnv.stderr).toContain("--create-store");
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(dir)).toEqual([]);

    const made = await rlxf(["keys", "create", "--role", "admin", "--create-store"], { cwd: dir, env: CLEAN });
    expect(made.code, made.stderr).toBe(0);
    expect(readdirSync(join(dir, ".rlxf"))).toContain("rlxf.db");
  });

  it("a key from another store gets a 401 that says what probably happened, and nothing about keys", async () => {
    const dir = join(tmp, "two-stores");
    mkdirSync(dir);
    const server = await startServer(["--db", join(dir, "server.db")], CLEAN, 30_000, dir);
    try {
      const made = await rlxf(["keys", "create", "--role", "admin", "--db", join(dir, "other.db"), "--create-store"], { cwd: dir, env: CLEAN });
      const res = await fetch(`${server.url}/v1/items`, { headers: { Authorization: `Bearer ${made.stdout.trim()}` } });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("unauthorized");
      expect(body.error.message).toContain("made against another store");
      expect(body.error.message).not.toContain(dir);
    } finally {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
  });
});
