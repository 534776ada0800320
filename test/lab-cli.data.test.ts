/**
 * `rlxf lab run` and `rlxf lab sweep`, in-process as a user runs them (and once as the built binary), on a slice of
 * the shared AlpacaEval annotations: five models, NullModel among them. The lab on every model is checked once, in
 * src/lab/lab.data.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getLabResult, listLabResults } from "../src/lab/index.js";
import { openStore } from "../src/store/index.js";
import { rlxf as run, rlxfBinary } from "./support/cli.js";
import { alpacaEvalSlice } from "./support/data.js";

const slice = alpacaEvalSlice("rlxf lab", ["alpaca-7b", "claude-2.1", "gpt-3.5-turbo-1106", "falcon-7b-instruct", "NullModel"]);
const hasData = slice !== undefined;
const annotations = slice ?? "";

const tmp = mkdtempSync(join(tmpdir(), "rlxf-lab-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const rlxf = (args: string[]) => run(args, { cwd: tmp });

const SMALL = ["--instructions", "150", "--steps", "20", "--eval-every", "5"];

/** A run's JSON with every wall time set to 0. */
function withoutTimes(json: string): unknown {
  const r = JSON.parse(json);
  r.seconds = 0;
  if (r.proxy) r.proxy.seconds = 0;
  for (const m of r.methods) m.seconds = 0;
  return r;
}

describe.skipIf(!hasData)("rlxf lab", () => {
  it("run: two seeded runs print identical JSON (wall times aside) and write the curves", async () => {
    const args = ["lab", "run", annotations, ...SMALL, "--methods", "dpo,grpo,best-of-n", "--feedback", "simulated", "--p-flip", "0.25", "--labels", "200", "--seed", "3", "--json"];
    // The built binary once, in-process once: the same numbers.
    const a = await rlxfBinary([...args, "--curves", join(tmp, "a.csv")], { cwd: tmp });
    expect(a.code, a.stderr).toBe(0);
    const b = await rlxf([...args, "--curves", join(tmp, "b.json")]);
    expect(b.code, b.stderr).toBe(0);
    expect(withoutTimes(a.stdout)).toEqual(withoutTimes(b.stdout));
    const r = JSON.parse(a.stdout);
    expect(r.methods.map((m: { method: string }) => m.method)).toEqual(["initial", "dpo", "grpo", "best-of-n"]);
    expect(r).toMatchObject({ feedback: "simulated", pFlip: 0.25, labels: 200, seed: 3 });
    expect(r.environment.instructions).toBe(150);
    for (const m of r.methods.slice(1)) expect(m.winRate).toBeGreaterThan(r.methods[0].winRate);

    const csv = readFileSync(join(tmp, "a.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("method,step,win_rate,avg_length,kl,proxy_reward");
    // dpo: steps 0, 5, ..., 20; best-of-n: n = 1, 2, 4, 8, 16
    expect(csv.filter((l) => l.startsWith("dpo,")).map((l) => Number(l.split(",")[1]))).toEqual([0, 5, 10, 15, 20]);
    expect(csv.filter((l) => l.startsWith("best-of-n,")).map((l) => Number(l.split(",")[1]))).toEqual([1, 2, 4, 8, 16]);
    const curves = JSON.parse(readFileSync(join(tmp, "b.json"), "utf8"));
    expect(curves.methods.find((m: { method: string }) => m.method === "grpo").curve).toHaveLength(5);
  }, 300_000);

  it("run: prints an AlpacaFarm-like table", async () => {
    const r = await rlxf(["lab", "run", annotations, ...SMALL, "--methods", "ipo,rloo", "--labels", "100", "--curves", "-", "--include-constant"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    const head = lines.find((l) => l.startsWith("method"))!;
    for (const col of ["win_rate", "lc_win_rate", "avg_length", "kl", "labels", "time_s"]) expect(head).toContain(col);
    for (const m of ["initial", "ipo", "rloo"]) expect(lines.some((l) => l.startsWith(`${m} `))).toBe(true);
    expect(r.stdout).toMatch(/150 instructions \(\d+ train, \d+ test\), 5 models \+ the reference/);
    expect(r.stdout).toMatch(/feedback gold, 100 labels, seed 0/);
    expect(existsSync(join(tmp, "lab-curves.json"))).toBe(false);
  }, 300_000);

  it("sweep: one row per method and grid cell, written as CSV", async () => {
    const out = join(tmp, "sweep.csv");
    const db = join(tmp, "sweep.db");
    const r = await rlxf(["lab", "sweep", annotations, ...SMALL, "--methods", "dpo,best-of-n", "--p-flip", "0,0.25", "--labels", "100,200", "--no-lc", "--json", "--out", out, "--save", "grid", "--db", db]);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ method: string; pFlip: number; labels: number; winRate: number; labelsUsed: number }>;
    expect(rows).toHaveLength(2 * 2 * 3);
    expect(new Set(rows.map((x) => `${x.pFlip}/${x.labels}`)).size).toBe(4);
    for (const x of rows) expect(x.labelsUsed).toBe(x.method === "initial" ? 0 : x.labels);
    const csv = readFileSync(out, "utf8").trim().split("\n");
    expect(csv[0]).toBe("method,pFlip,labels,seed,winRate,lcWinRate,length,kl,labelsUsed,seconds");
    expect(csv).toHaveLength(13);
    expect(r.stderr).not.toContain("\r"); // no progress bar off a TTY
    // --save keeps the rows and the grid in the store, where the server and the web app read them.
    expect(r.stderr).toContain('saved as grid@1 in project "default"');
    const store = await openStore({ path: db });
    try {
      const saved = await getLabResult(store, "default", "grid");
      expect(saved.result.type).toBe("sweep");
      if (saved.result.type !== "sweep") return;
      expect(saved.result.rows).toEqual(rows);
      expect(saved.result.grid).toMatchObject({ methods: ["dpo", "best-of-n"], pFlips: [0, 0.25], labels: [100, 200], seeds: [0] });
      expect(saved.result.grid.environment?.instructions).toBe(150);
    } finally {
      await store.close();
    }
  }, 300_000);

  it("run --save: the stored run is the printed one, and each save is a new version", async () => {
    const db = join(tmp, "runs.db");
    const args = ["lab", "run", annotations, ...SMALL, "--methods", "dpo", "--labels", "100", "--curves", "-", "--json", "--db", db, "--project", "exp", "--save", "first"];
    const a = await rlxf([...args, "--description", "DPO on gold"]);
    expect(a.code, a.stderr).toBe(0);
    const b = await rlxf(args);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toContain('saved as first@2 in project "exp"');
    const store = await openStore({ path: db });
    try {
      const v1 = await getLabResult(store, "exp", "first", 1);
      expect(v1.description).toBe("DPO on gold");
      expect(v1.result).toEqual({ type: "run", run: JSON.parse(a.stdout) });
      const list = await listLabResults(store, "exp");
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ name: "first", version: 2, type: "run", methods: ["dpo"], labels: [100] });
    } finally {
      await store.close();
    }
    // A name the store would refuse is refused before the run starts.
    const bad = await rlxf(["lab", "run", annotations, "--methods", "dpo", "--curves", "-", "--db", db, "--save", ""]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--save: "" is not a valid name: must be a non-empty string/);
    expect(bad.stderr).not.toContain("loading");
  }, 300_000);

  it("refuses bad input, naming what to fix", async () => {
    const bad = await rlxf(["lab", "run", annotations, "--methods", "dpo,nope", "--curves", "-"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/methods: unknown method\(s\) nope/);
    const gold = await rlxf(["lab", "run", annotations, ...SMALL, "--methods", "dpo", "--p-flip", "0.2", "--curves", "-"]);
    expect(gold.code).not.toBe(0);
    expect(gold.stderr).toMatch(/pFlip: gold feedback has no noise/);
    const missing = await rlxf(["lab", "run", join(tmp, "no-such-dir"), "--curves", "-"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no such file or directory/);
  }, 300_000);
});
