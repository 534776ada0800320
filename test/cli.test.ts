/**
 * End-to-end tests of the `rlxf` command line against a fresh SQLite file (and PostgreSQL when available), run
 * in-process as the binary runs it (test/support/cli.ts); the built binary itself for what is about the process:
 * its startup, every command group loading from dist, exit codes as the shell sees them.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/commands.js";
import { program } from "../src/cli/program.js";
import { listingProgram } from "../src/cli/run.js";
import { rlxf as run, rlxfBinary } from "./support/cli.js";
import { adminUrl, createTestDatabase, postgresRequired, warnIfNoPostgres } from "./support/postgres.js";

const root = resolve(import.meta.dirname, "..");

warnIfNoPostgres("cli.test");

const tmp = mkdtempSync(join(tmpdir(), "rlxf-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDb = () => join(tmp, `db-${n++}.sqlite`);

/** `rlxf ...args` in-process on the store `db` (as $RLXF_DB). */
const rlxf = (args: string[], db: string) => run(args, { env: { RLXF_DB: db } });

describe("rlxf CLI", () => {
  it("prints help", async () => {
    const r = await rlxf(["--help"], freshDb());
    expect(r.code).toBe(0);
    for (const cmd of ["import", "export", "leaderboard", "demo"]) expect(r.stdout).toContain(cmd);
  });

  it("demo imports the bundled dataset and ranks the helpful model above the tiny one", async () => {
    const db = freshDb();
    const r = await rlxf(["demo"], db);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/feedback:\s+23 new/);
    const lines = r.stdout.split("\n");
    const helpful = lines.findIndex((l) => l.startsWith("helpful-7b"));
    const tiny = lines.findIndex((l) => l.startsWith("tiny-chat"));
    expect(helpful).toBeGreaterThan(-1);
    expect(tiny).toBeGreaterThan(helpful);
    // running it again stores nothing new
    const again = await rlxf(["demo"], db);
    expect(again.stdout).toMatch(/feedback:\s+0 new, 23 already stored/);
  });

  it("refuses a malformed file, naming the line and the field, and writes nothing", async () => {
    const db = freshDb();
    const file = join(tmp, "bad.jsonl");
    writeFileSync(
      file,
      [
        JSON.stringify({ prompt: "a", chosen: "x", rejected: "y" }),
        JSON.stringify({ prompt: "b", chosen: "x", rejected: "y" }),
        JSON.stringify({ prompt: "c", chosen: "x" }),
      ].join("\n"),
    );
    const r = await rlxf(["import", file], db);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("line 3");
    expect(r.stderr).toContain("rejected");
    // Not even a store: files are read and checked before the store is opened.
    expect(existsSync(db)).toBe(false);
  });

  it("refuses a batch whose later file is malformed without writing the earlier one", async () => {
    const db = freshDb();
    const good = join(tmp, "good.jsonl");
    const bad = join(tmp, "bad2.jsonl");
    writeFileSync(good, JSON.stringify({ prompt: "a", chosen: "x", rejected: "y" }) + "\n");
    writeFileSync(bad, "{not json}\n");
    const r = await rlxf(["import", good, bad], db);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/bad2\.jsonl line 1/);
    expect(existsSync(db)).toBe(false);
  });

  it("AlpacaEval from the store: the default baseline is the policy compared with every other", async () => {
    const db = freshDb();
    const file = join(tmp, "ab-cb.jsonl");
    const lines: string[] = [];
    for (let i = 0; i < 10; i++) {
      lines.push(JSON.stringify({ id: `q${i}`, prompt: `made-up question ${i}` }));
      for (const p of ["A", "B", "C"]) lines.push(JSON.stringify({ id: `q${i}-${p}`, itemId: `q${i}`, policy: p, output: `${p} answers ${"at length ".repeat(i + (p === "A" ? 3 : 1))}` }));
      const pair = (id: string, a: string, b: string, pSecond: number) =>
        JSON.stringify({ id, kind: "pairwise", targets: [a, b], source: { type: "human", id: "h" }, value: { choice: pSecond > 0.5 ? "second" : "first", pSecond } });
      lines.push(pair(`ab${i}`, `q${i}-A`, `q${i}-B`, i % 3 ? 0.2 : 0.7)); // A first, B second
      lines.push(pair(`cb${i}`, `q${i}-C`, `q${i}-B`, i % 4 ? 0.6 : 0.3)); // C first, B second
    }
    writeFileSync(file, lines.join("\n") + "\n");
    expect((await rlxf(["import", file], db)).code).toBe(0);
    const r = await rlxf(["leaderboard", "--method", "alpaca-eval", "--json"], db);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ model: string; n_total: number; win_rate: number }>;
    expect(rows.map((x) => x.model).sort()).toEqual(["A", "C"]);
    expect(rows.every((x) => x.n_total === 10)).toBe(true);
    // A won 4 of 10 against B (stored with B second: 0.7 means B better, so A's win rate is 1 - mean(pSecond))
    expect(rows.find((x) => x.model === "A")!.win_rate).toBeCloseTo(100 * (1 - (4 * 0.7 + 6 * 0.2) / 10), 9);
    const bad = await rlxf(["leaderboard", "--method", "alpaca-eval", "--baseline", "Z"], db);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/baseline: no comparison involves "Z"; policies compared: A, B, C/);
  });

  it("says why a leaderboard ranks nothing: HH-RLHF pairs of policy unknown (named with import --policy), feedback in another project", async () => {
    const db = freshDb();
    const file = join(tmp, "trl.jsonl");
    writeFileSync(file, [0, 1, 2].map((i) => JSON.stringify({ prompt: `question ${i}`, chosen: `good ${i}`, rejected: `bad ${i}` })).join("\n") + "\n");
    expect((await rlxf(["import", "--format", "trl-preference", file], db)).code).toBe(0);
    for (const method of ["bt", "alpaca-eval"]) {
      const r = await rlxf(["leaderboard", "--method", method], db);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/all 3 comparison\(s\) are between generations whose policy is "unknown"/);
      expect(r.stderr).toContain("rlxf import --policy NAME");
      expect(r.stderr).not.toMatch(/no comparative feedback|no pairwise comparisons with a baseline/);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    // Feedback in another project: the commands say so instead of "nothing found".
    const elsewhere = freshDb();
    expect((await rlxf(["import", "--format", "trl-preference", "--project", "elsewhere", file], elsewhere)).code).toBe(0);
    for (const args of [["leaderboard", "--method", "bt"], ["leaderboard", "--method", "alpaca-eval"], ["rm", "train", "--name", "x"]]) {
      const r = await rlxf(args, elsewhere);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stderr, args.join(" ")).toContain(`project "default" holds no feedback, but project "elsewhere" (3) does: pass --project NAME`);
    }
    const named = freshDb();
    expect((await rlxf(["import", "--format", "trl-preference", "--policy", "my-model", file], named)).code).toBe(0);
    const exported = await rlxf(["export", "--format", "rlxf"], named);
    const policies = new Set(exported.stdout.trim().split("\n").map((l) => JSON.parse(l) as { policy?: string }).filter((r) => r.policy).map((r) => r.policy));
    expect([...policies]).toEqual(["my-model"]);
  });

  it("ranks models by Bradley-Terry from a file, reproducibly for a seed", async () => {
    const file = join(tmp, "bt.jsonl");
    const lines: string[] = [];
    // A beats B 8 of 10 times, B beats C 8 of 10 times (rlxf JSONL with explicit policies)
    lines.push(JSON.stringify({ id: "i", prompt: "p" }));
    for (const p of ["A", "B", "C"]) lines.push(JSON.stringify({ id: p, itemId: "i", policy: p, output: p }));
    const pair = (id: string, a: string, b: string, winner: "first" | "second") =>
      JSON.stringify({ id, kind: "pairwise", targets: [a, b], source: { type: "human", id: "h" }, value: { choice: winner } });
    for (let k = 0; k < 10; k++) {
      lines.push(pair(`ab${k}`, "A", "B", k < 8 ? "first" : "second"));
      lines.push(pair(`bc${k}`, "B", "C", k < 8 ? "first" : "second"));
    }
    writeFileSync(file, lines.join("\n") + "\n");
    const a = await rlxf(["leaderboard", "--method", "bt", "--seed", "7", "--json", file], freshDb());
    expect(a.code, a.stderr).toBe(0);
    const rows = JSON.parse(a.stdout);
    expect(rows.map((r: { model: string }) => r.model)).toEqual(["A", "B", "C"]);
    const b = await rlxf(["leaderboard", "--method", "bt", "--seed", "7", "--json", file], freshDb());
    expect(JSON.parse(b.stdout)).toEqual(rows);
  });

  it("rejects an unknown export format with the list of formats", async () => {
    const r = await rlxf(["export", "--format", "csv"], freshDb());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("trl-preference");
  });
});

describe("rlxf loads only the command it runs", () => {
  it("lists every command of the full program, as the full program's help does", () => {
    const full = program();
    expect(listingProgram().helpInformation()).toBe(full.helpInformation());
    expect(COMMANDS.map((c) => c.name)).toEqual(full.commands.map((c) => c.name()));
  });

  it("each command alone has the full program's help, options and subcommands", async () => {
    const full = program();
    for (const c of COMMANDS) {
      const fromFull = full.commands.find((x) => x.name() === c.name)!;
      const r = await run([c.name, "--help"]);
      expect(r.code, c.name).toBe(0);
      expect(r.stdout, c.name).toBe(fromFull.helpInformation());
    }
  });

  it("says what an unknown command or option is, with the exit code of a bad argument", async () => {
    const typo = await run(["leaderbord"]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/unknown command 'leaderbord'[\s\S]*Did you mean leaderboard\?/);
    const option = await run(["stats", "--nope"]);
    expect(option.code).toBe(1);
    expect(option.stderr).toMatch(/unknown option '--nope'/);
    const version = await run(["--version"]);
    expect(version).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
  });
});

describe("the built binary", () => {
  it("starts with the listing of every command, as in-process", async () => {
    const [bin, inProcess] = await Promise.all([rlxfBinary(["--help"]), run(["--help"])]);
    expect(bin.code, bin.stderr).toBe(0);
    expect(bin.stdout).toBe(inProcess.stdout);
  });

  it("loads every command group from dist: each one's help is the sources' help", async () => {
    // One process for every group (each a process of its own would only repeat Node's start).
    const script = `const { program } = await import(${JSON.stringify(join(root, "dist", "cli", "program.js"))});
      const p = program(); process.stdout.write(JSON.stringify(Object.fromEntries(p.commands.map((c) => [c.name(), c.helpInformation()]))));`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    const built = JSON.parse(stdout) as Record<string, string>;
    const full = program();
    expect(Object.keys(built)).toEqual(full.commands.map((c) => c.name()));
    for (const c of full.commands) expect(built[c.name()], c.name()).toBe(c.helpInformation());
  });

  it("runs a command end to end and exits with the code of its error", async () => {
    const db = freshDb();
    const demo = await rlxfBinary(["demo", "--db", db]);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/feedback:\s+23 new/);
    const bad = join(tmp, "bad-bin.jsonl");
    writeFileSync(bad, [{ prompt: "a", chosen: "x", rejected: "y" }, { prompt: "c", chosen: "x" }].map((r) => JSON.stringify(r)).join("\n") + "\n");
    const refused = await rlxfBinary(["import", bad, "--db", db]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/line 2.*rejected/);
    const unknown = await rlxfBinary(["leaderboard", "--method", "nope", "--db", db]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/--method.*nope/);
  });
});

describe.runIf(Boolean(adminUrl) || postgresRequired)("rlxf CLI on PostgreSQL", () => {
  it("imports, counts, ranks and exports through --db postgres://", async () => {
    const { url, drop } = await createTestDatabase("rlxf_cli");
    try {
      const file = join(root, "examples", "demo.jsonl");
      const imp = await rlxf(["import", file, "--db", url, "--json"], freshDb());
      expect(imp.code, imp.stderr).toBe(0);
      expect(JSON.parse(imp.stdout).feedback.inserted).toBe(23);
      const stats = await rlxf(["stats", "--db", url, "--json"], freshDb());
      expect(JSON.parse(stats.stdout)).toMatchObject({ items: 6, generations: 18, feedback: 23 });
      const bt = await rlxf(["leaderboard", "--method", "bt", "--db", url, "--json"], freshDb());
      expect(bt.code, bt.stderr).toBe(0);
      expect(JSON.parse(bt.stdout).at(-1).model).toBe("tiny-chat");
      const exp = await rlxf(["export", "--format", "rlxf", "--db", url], freshDb());
      expect(exp.stdout.trim().split("\n")).toHaveLength(6 + 18 + 23);
    } finally {
      await drop();
    }
  });
});
