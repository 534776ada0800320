/**
 * The `rlxf` command line on the shared data: HH-RLHF through import and export, and AlpacaEval's leaderboard from
 * its annotation files. The 20-file leaderboard runs once, as a user runs it on a terminal (the built binary under
 * script(1)): its progress, the published columns and the one-file LC are all checked on that one run.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, rlxf as run } from "./support/cli.js";
import { sharedData } from "./support/data.js";

const hh = sharedData("rlxf CLI on HH-RLHF", "hh-rlhf", "harmless-base-test.jsonl.gz");
const alpaca = sharedData("rlxf CLI on AlpacaEval", "alpaca_eval");
const alpacaDir = alpaca && join(alpaca, "annotations");
const hasScript = existsSync("/usr/bin/script");

const tmp = mkdtempSync(join(tmpdir(), "rlxf-cli-data-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDb = () => join(tmp, `db-${n++}.sqlite`);
const rlxf = (args: string[], db: string) => run(args, { env: { RLXF_DB: db } });

describe.skipIf(!hh)("rlxf CLI on HH-RLHF", () => {
  it("imports the 2,312 HH pairs and exports them back as TRL preference rows", async () => {
    const db = freshDb();
    const imp = await rlxf(["import", hh!, "--json"], db);
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
    const again = await rlxf(["import", hh!, "--json"], db);
    expect(JSON.parse(again.stdout).feedback).toEqual({ inserted: 0, existing: 2312 });
  });
});

describe.skipIf(!alpaca)("rlxf leaderboard on AlpacaEval's 20 annotation files", () => {
  const files = () => readdirSync(alpacaDir!).filter((f) => f.endsWith(".json.gz")).sort().map((f) => join(alpacaDir!, f));
  /** The 20-file board, as JSON rows, and what the terminal showed (with script(1); else run in-process). */
  let all: Record<string, number | string>[];
  let terminal: string;

  beforeAll(async () => {
    const args = ["leaderboard", "--format", "alpaca-eval", "--json", ...files()];
    if (hasScript) {
      // script(1) gives the command a pseudo-terminal; its output is the terminal's (stdout and stderr together)
      const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
      ({ stdout: terminal } = await promisify(execFile)("/usr/bin/script", ["-qec", cmd, "/dev/null"], { env: { ...process.env, CI: "", RLXF_DB: freshDb() }, maxBuffer: 64 * 1024 * 1024 }));
      all = JSON.parse(/^\[\{.*\}\]\r?$/m.exec(terminal)![0]);
    } else {
      const r = await rlxf(args, freshDb());
      expect(r.code, r.stderr).toBe(0);
      all = JSON.parse(r.stdout);
    }
  });

  it.skipIf(!hasScript)("shows progress on a terminal while it reads and fits 20 files", () => {
    expect(terminal).toMatch(/reading \[#{20}\] 20\/20 100%/);
    expect(terminal).toMatch(/length-controlled win rates \[#{20}\] 20\/20 100%/);
  });

  it("reproduces AlpacaEval's published leaderboard columns from the annotation files", () => {
    const published = parseCsv(readFileSync(join(alpaca!, "leaderboard.csv"), "utf8"));
    expect(all).toHaveLength(published.length);
    const byModel = new Map(all.map((row) => [row.model, row]));
    for (const p of published) {
      const row = byModel.get(p.model!);
      expect(row, `row for ${p.model}`).toBeDefined();
      for (const col of ["win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws", "n_total", "discrete_win_rate"]) {
        expect(Math.abs((row![col] as number) - Number(p[col])), `${p.model} ${col}`).toBeLessThan(1e-6);
      }
      expect(typeof row!.length_controlled_winrate).toBe("number");
    }
  });

  it("scores one AlpacaEval file alone as the 20-file leaderboard does, says which difficulty it used, and skips LC on --no-lc", async () => {
    const file = join(alpacaDir!, "alpaca-7b.json.gz");
    const inAll = all.find((r) => r.model === "alpaca-7b")!;
    const alone = await rlxf(["leaderboard", "--json", file], freshDb());
    expect(alone.code, alone.stderr).toBe(0);
    const [row] = JSON.parse(alone.stdout);
    expect(row.length_controlled_winrate).toBeCloseTo(inAll.length_controlled_winrate as number, 9);
    expect(row.lc_standard_error).toBeGreaterThan(0.1);
    expect(alone.stderr).toMatch(/instruction difficulty shipped with rlxf for AlpacaEval's instructions, fitted on 20 models/);
    const text = await rlxf(["leaderboard", file, join(alpacaDir!, "claude-2.1.json.gz")], freshDb());
    expect(text.stdout).toMatch(/lc_win_rate/);
    expect(text.stdout).toMatch(/LC: instruction difficulty shipped with rlxf/);
    expect(text.stderr).not.toContain("\r"); // no progress bar off a TTY
    const noLc = await rlxf(["leaderboard", "--no-lc", file, join(alpacaDir!, "claude-2.1.json.gz")], freshDb());
    expect(noLc.code, noLc.stderr).toBe(0);
    expect(noLc.stdout).not.toMatch(/lc_win_rate|lc_se|instruction difficulty/);
    expect(noLc.stdout.split("\n")[2]).toMatch(/^claude-2\.1\s+15\.73/); // sorted by win rate
    const estimated = await rlxf(["leaderboard", "--difficulty", "estimate", file], freshDb());
    expect(estimated.code, estimated.stderr).toBe(0);
    expect(estimated.stderr).toMatch(/warning: instruction difficulty estimated from only 1 model/);
  });
});

describe.skipIf(!alpaca || !hh || !hasScript)("progress of the Bradley-Terry leaderboard and of export", () => {
  it("shows progress on a terminal for Bradley-Terry over 20 files and for export, and none off it", async () => {
    const files = readdirSync(alpacaDir!).filter((f) => f.endsWith(".json.gz")).sort().map((f) => join(alpacaDir!, f));
    const db = freshDb();
    expect((await rlxf(["import", hh!], db)).code).toBe(0);
    const q = (args: string[]) => args.map((a) => `'${a}'`).join(" ");
    const cmd = `${q([process.execPath, BIN, "leaderboard", "--method", "bt", "--bootstrap", "40", "--json", ...files])} > /dev/null; ${q([process.execPath, BIN, "export", "--format", "trl-preference", "--out", join(tmp, "progress.jsonl")])}`;
    const { stdout } = await promisify(execFile)("/usr/bin/script", ["-qec", cmd, "/dev/null"], { env: { ...process.env, CI: "", RLXF_DB: db, RLXF_DATABASE_URL: "" }, maxBuffer: 64 * 1024 * 1024 });
    expect(stdout).toMatch(/reading \[#{20}\] 20\/20 100%/);
    expect(stdout).toMatch(/Bradley-Terry bootstrap \[#{20}\] 40\/40 100%/);
    expect(stdout).toMatch(/exporting trl-preference 2312/);
    const plain = await rlxf(["export", "--format", "trl-preference", "--out", join(tmp, "plain.jsonl")], db);
    expect(plain.stderr).toBe("wrote 2312 trl-preference record(s) to " + join(tmp, "plain.jsonl") + "\n");
  });
});

function parseCsv(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trim().split("\n");
  const cols = head!.split(",");
  return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [cols[i], v])));
}
