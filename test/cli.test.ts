/**
 * End-to-end tests of the `rlxf` command line: the built binary, run as a
 * user would, against a fresh SQLite file (and PostgreSQL when available).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { DATA_DIR, sharedFiles } from "./support/data.js";
import { adminUrl, createTestDatabase, postgresRequired, warnIfNoPostgres } from "./support/postgres.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const bin = join(root, "dist", "cli", "main.js");
const hh = join(DATA_DIR, "hh-rlhf", "harmless-base-test.jsonl.gz");
const alpacaDir = join(DATA_DIR, "alpaca_eval", "annotations");
const hasData = sharedFiles("rlxf CLI", "hh-rlhf/harmless-base-test.jsonl.gz", "alpaca_eval/annotations") !== undefined;

warnIfNoPostgres("cli.test");

const tmp = mkdtempSync(join(tmpdir(), "rlxf-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDb = () => join(tmp, `db-${n++}.sqlite`);

async function rlxf(args: string[], db: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, RLXF_DB: db, RLXF_DATABASE_URL: "", CI: "1" },
      maxBuffer: 256 * 1024 * 1024,
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

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

  it.skipIf(!hasData)("imports the 2,312 HH pairs and exports them back as TRL preference rows", async () => {
    const db = freshDb();
    const imp = await rlxf(["import", hh, "--json"], db);
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ formats: ["anthropic-hh"], feedback: { inserted: 2312, existing: 0 } });
    const exp = await rlxf(["export", "--format", "trl-preference"], db);
    expect(exp.code, exp.stderr).toBe(0);
    const rows = exp.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows).toHaveLength(2312);
    for (const row of rows.slice(0, 50)) {
      expect(Array.isArray(row.prompt)).toBe(true);
      expect(row.chosen[0].role).toBe("assistant");
      expect(row.chosen[0].content).not.toBe(undefined);
    }
    // to a gzip file as well, and a second import of the same file changes nothing
    const out = join(tmp, "prefs.jsonl.gz");
    expect((await rlxf(["export", "--format", "openai-dpo", "--out", out], db)).code).toBe(0);
    expect(readFileSync(out).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const again = await rlxf(["import", hh, "--json"], db);
    expect(JSON.parse(again.stdout).feedback).toEqual({ inserted: 0, existing: 2312 });
  });

  it.skipIf(!hasData)("reproduces AlpacaEval's published leaderboard columns from the annotation files", async () => {
    const files = readdirSorted(alpacaDir).map((f) => join(alpacaDir, f));
    const r = await rlxf(["leaderboard", "--format", "alpaca-eval", "--json", ...files], freshDb());
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, number | string>[];
    const published = parseCsv(readFileSync(join(DATA_DIR, "alpaca_eval", "leaderboard.csv"), "utf8"));
    expect(rows).toHaveLength(published.length);
    const byModel = new Map(rows.map((row) => [row.model, row]));
    for (const p of published) {
      const row = byModel.get(p.model!);
      expect(row, `row for ${p.model}`).toBeDefined();
      for (const col of ["win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws", "n_total", "discrete_win_rate"]) {
        expect(Math.abs((row![col] as number) - Number(p[col])), `${p.model} ${col}`).toBeLessThan(1e-6);
      }
      expect(typeof row!.length_controlled_winrate).toBe("number");
    }
  });

  it.skipIf(!hasData)("scores one AlpacaEval file alone as the 20-file leaderboard does, says which difficulty it used, and skips LC on --no-lc", async () => {
    const file = join(alpacaDir, "alpaca-7b.json.gz");
    const all = JSON.parse((await rlxf(["leaderboard", "--format", "alpaca-eval", "--json", ...readdirSorted(alpacaDir).map((f) => join(alpacaDir, f))], freshDb())).stdout);
    const inAll = all.find((r: { model: string }) => r.model === "alpaca-7b");
    const alone = await rlxf(["leaderboard", "--json", file], freshDb());
    expect(alone.code, alone.stderr).toBe(0);
    const [row] = JSON.parse(alone.stdout);
    expect(row.length_controlled_winrate).toBeCloseTo(inAll.length_controlled_winrate, 9);
    expect(row.lc_standard_error).toBeGreaterThan(0.1);
    expect(alone.stderr).toMatch(/instruction difficulty shipped with rlxf for AlpacaEval's instructions, fitted on 20 models/);
    const text = await rlxf(["leaderboard", file, join(alpacaDir, "claude-2.1.json.gz")], freshDb());
    expect(text.stdout).toMatch(/lc_win_rate/);
    expect(text.stdout).toMatch(/LC: instruction difficulty shipped with rlxf/);
    expect(text.stderr).not.toContain("\r"); // no progress bar off a TTY
    const noLc = await rlxf(["leaderboard", "--no-lc", file, join(alpacaDir, "claude-2.1.json.gz")], freshDb());
    expect(noLc.code, noLc.stderr).toBe(0);
    expect(noLc.stdout).not.toMatch(/lc_win_rate|lc_se|instruction difficulty/);
    expect(noLc.stdout.split("\n")[2]).toMatch(/^claude-2\.1\s+15\.73/); // sorted by win rate
    const estimated = await rlxf(["leaderboard", "--difficulty", "estimate", file], freshDb());
    expect(estimated.code, estimated.stderr).toBe(0);
    expect(estimated.stderr).toMatch(/warning: instruction difficulty estimated from only 1 model/);
  });

  it.skipIf(!hasData || !existsSync("/usr/bin/script"))("shows progress on a terminal while it reads and fits 20 files", async () => {
    const files = readdirSorted(alpacaDir).map((f) => join(alpacaDir, f));
    // script(1) gives the command a pseudo-terminal; its output is the terminal's
    const cmd = [process.execPath, bin, "leaderboard", "--json", ...files].map((a) => `'${a}'`).join(" ");
    const { stdout } = await run("/usr/bin/script", ["-qec", cmd, "/dev/null"], { env: { ...process.env, CI: "", RLXF_DB: freshDb() }, maxBuffer: 64 * 1024 * 1024 });
    expect(stdout).toMatch(/reading \[#{20}\] 20\/20 100%/);
    expect(stdout).toMatch(/length-controlled win rates \[#{20}\] 20\/20 100%/);
  });

  it.skipIf(!hasData || !existsSync("/usr/bin/script"))("shows progress on a terminal for Bradley-Terry over 20 files and for export, and none off it", async () => {
    const files = readdirSorted(alpacaDir).map((f) => join(alpacaDir, f));
    const db = freshDb();
    expect((await rlxf(["import", hh], db)).code).toBe(0);
    const q = (args: string[]) => args.map((a) => `'${a}'`).join(" ");
    const cmd = `${q([process.execPath, bin, "leaderboard", "--method", "bt", "--bootstrap", "40", "--json", ...files])} > /dev/null; ${q([process.execPath, bin, "export", "--format", "trl-preference", "--out", join(tmp, "progress.jsonl")])}`;
    const { stdout } = await run("/usr/bin/script", ["-qec", cmd, "/dev/null"], { env: { ...process.env, CI: "", RLXF_DB: db, RLXF_DATABASE_URL: "" }, maxBuffer: 64 * 1024 * 1024 });
    expect(stdout).toMatch(/reading \[#{20}\] 20\/20 100%/);
    expect(stdout).toMatch(/Bradley-Terry bootstrap \[#{20}\] 40\/40 100%/);
    expect(stdout).toMatch(/exporting trl-preference 2312/);
    const plain = await rlxf(["export", "--format", "trl-preference", "--out", join(tmp, "plain.jsonl")], db);
    expect(plain.stderr).toBe("wrote 2312 trl-preference record(s) to " + join(tmp, "plain.jsonl") + "\n");
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

function readdirSorted(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".json.gz")).sort();
}

function parseCsv(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trim().split("\n");
  const cols = head!.split(",");
  return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [cols[i], v])));
}

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
