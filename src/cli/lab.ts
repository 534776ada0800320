/** `rlxf lab ...`: compare methods that learn from feedback on real AlpacaEval outputs (an AlpacaFarm-style lab). */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import {
  type CurvePoint,
  type LabEnvironment,
  type LabMethodResult,
  type LabRunOptions,
  type LabRunResult,
  type MethodSettings,
  type SweepRow,
  LAB_FEEDBACK_SOURCES,
  LAB_METHODS,
  type LabFeedbackSource,
  checkRunOptions,
  environmentSummary,
  loadLabEnvironment,
  saveLabResult,
  parseMethods,
  runLab,
  runSweep,
} from "../lab/index.js";
import { ValidationError } from "../errors.js";
import { Id } from "../feedback/schema.js";
import { badKeyString } from "../store/index.js";
import { number01 } from "./model-options.js";
import { submitLab } from "./jobs.js";
import { progress } from "./progress.js";
import { type DbOptions, dbOption, info, int, out, table, withStore } from "./shared.js";

interface CommonLabOptions {
  methods: string;
  feedback?: LabFeedbackSource;
  lengthBias?: number;
  instructions?: number;
  models?: string;
  exclude?: string;
  testFraction: number;
  steps?: number;
  lr?: number;
  beta?: number;
  kl?: number;
  batch?: number;
  group?: number;
  bestOfN?: number;
  rounds?: number;
  evalEvery?: number;
  lc: boolean;
  includeConstant?: boolean;
  json?: boolean;
  /** Keep the result in the store under this name (the web app plots it). */
  save?: string;
  description?: string;
  project: string;
  db?: string;
}

export interface LabRunCliOptions extends CommonLabOptions {
  rmSeeds: number;
  pFlip?: number;
  labels: number;
  seed: number;
  curves: string;
}

export interface LabSweepCliOptions extends CommonLabOptions {
  pFlip: number[];
  labels: number[];
  seeds: number[];
  out?: string;
}

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number`);
  return n;
};
const intList = (name: string) => (v: string) =>
  v.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be comma-separated non-negative integers`);
    return n;
  });
const pList = (v: string) =>
  v.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isFinite(n) || n < 0 || n > 0.5) throw new InvalidArgumentError("--p-flip must be comma-separated numbers from 0 to 0.5");
    return n;
  });

function settingsOf(o: CommonLabOptions): Partial<MethodSettings> {
  const s: Partial<MethodSettings> = {};
  if (o.steps !== undefined) s.steps = o.steps;
  if (o.lr !== undefined) s.lr = o.lr;
  if (o.beta !== undefined) s.beta = o.beta;
  if (o.kl !== undefined) s.klCoef = o.kl;
  if (o.batch !== undefined) s.batch = o.batch;
  if (o.group !== undefined) s.group = o.group;
  if (o.bestOfN !== undefined) s.bestOfN = o.bestOfN;
  if (o.rounds !== undefined) s.rounds = o.rounds;
  if (o.evalEvery !== undefined) s.evalEvery = o.evalEvery;
  return s;
}

const listOf = (v: string) => v.split(",").map((m) => m.trim()).filter(Boolean);

async function environment(paths: string[], o: CommonLabOptions, seed: number): Promise<LabEnvironment> {
  const bar = progress("loading the environment");
  bar.tick(0, "reading, featurizing, fitting instruction difficulty");
  const env = await loadLabEnvironment(paths, {
    seed,
    testFraction: o.testFraction,
    ...(o.instructions !== undefined ? { maxInstructions: o.instructions } : {}),
    ...(o.models ? { models: listOf(o.models) } : {}),
    ...(o.exclude ? { excludeModels: listOf(o.exclude) } : {}),
    difficulty: o.lc,
    ...(o.includeConstant ? { includeConstant: true } : {}),
  });
  bar.done(`${env.instructions.length} instructions`);
  if (env.constant.leftOut.length) info(`left out as constant outputs (one string for every instruction): ${env.constant.leftOut.join(", ")}; --include-constant keeps them\n`);
  return env;
}

const RUN_COLUMNS = [
  { key: "method" },
  { key: "winRate", title: "win_rate", digits: 2 },
  { key: "lcWinRate", title: "lc_win_rate", digits: 2 },
  { key: "constantShare", title: "on_constant_%", digits: 1 },
  { key: "length", title: "avg_length", digits: 0 },
  { key: "kl", title: "kl", digits: 3 },
  { key: "proxyReward", title: "proxy_reward", digits: 3 },
  { key: "labels" },
  { key: "seconds", title: "time_s", digits: 2 },
];

/** The curves of a run as CSV: method, step, win rate, length, KL, proxy reward. */
export function curvesCsv(run: Pick<LabRunResult, "methods">): string {
  const lines = ["method,step,win_rate,avg_length,kl,proxy_reward"];
  for (const m of run.methods) {
    for (const c of m.curve as CurvePoint[]) lines.push([m.method, c.step, c.winRate, c.length, c.kl, c.proxyReward ?? ""].join(","));
  }
  return lines.join("\n") + "\n";
}

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

export async function runLabRunCommand(paths: string[], o: LabRunCliOptions): Promise<LabRunResult> {
  const methods = parseMethods(o.methods);
  const runOptions: LabRunOptions = {
    methods,
    ...(o.feedback ? { feedback: o.feedback } : {}),
    ...(o.pFlip !== undefined ? { pFlip: o.pFlip } : {}),
    ...(o.lengthBias !== undefined ? { lengthBias: o.lengthBias } : {}),
    labels: o.labels,
    seed: o.seed,
    settings: settingsOf(o),
    lengthControlled: o.lc,
    proxySeeds: o.rmSeeds,
  };
  checkRunOptions(runOptions);
  const env = await environment(paths, o, o.seed);
  const bar = progress("lab run", methods.length);
  let result: LabRunResult;
  try {
    result = await runLab(env, { ...runOptions, onMethod: (m, k) => bar.tick(k === 0 ? 0 : 1, m) });
  } finally {
    bar.done();
  }
  if (o.curves !== "-") {
    const curves = o.curves.endsWith(".csv") ? curvesCsv(result) : JSON.stringify({ ...describeRun(result), methods: result.methods.map((m) => ({ method: m.method, curve: m.curve })) }, null, 2) + "\n";
    writeFile(o.curves, curves);
    info(`curves written to ${o.curves}\n`);
  }
  if (o.save) await save(o, { type: "run", run: result });
  if (o.json) {
    out(JSON.stringify(result) + "\n");
    return result;
  }
  const e = result.environment;
  out(
    `${e.instructions} instructions (${e.train} train, ${e.test} test), ${e.models} models + the reference, ${e.candidates} candidates\n` +
      `feedback ${result.feedback}${result.feedback === "gold" ? "" : ` (p-flip ${result.pFlip}${result.lengthBias ? `, length bias ${result.lengthBias}` : ""})`}, ` +
      `${result.labels} labels, seed ${result.seed}` +
      (result.proxy ? `; proxy reward model: ${proxyAccuracy(result.proxy)} gold pairwise accuracy on test, ${result.proxy.seconds.toFixed(2)} s` : "") +
      "\n\n",
  );
  const columns = result.methods.some((m) => m.constantShare !== undefined) ? RUN_COLUMNS : RUN_COLUMNS.filter((c) => c.key !== "constantShare");
  out(table(result.methods.map(rowOf), columns));
  if (result.constant?.kept.length) out(`\non_constant_%: the policy's probability on ${result.constant.kept.join(", ")}, one string for every instruction that games the judge\n`);
  out(`\nwin rates in % against the reference on test instructions, exact under each policy; time includes the proxy's training where used; total ${result.seconds.toFixed(1)} s\n`);
  return result;
}

const rowOf = (m: LabMethodResult): Record<string, unknown> => ({ ...m, curve: undefined });

/** "71.3% ± 1.2 (sd over 3 seeds; 72.0% for the proxy used)", or one figure with one seed. */
export function proxyAccuracy(p: NonNullable<LabRunResult["proxy"]>): string {
  const a = p.accuracy;
  if (!a || a.seeds < 2) return `${(100 * p.testAccuracy).toFixed(1)}% (one seed)`;
  return `${(100 * a.mean).toFixed(1)}% ± ${(100 * a.sd).toFixed(1)} (mean ± sd over ${a.seeds} seeds; ${(100 * p.testAccuracy).toFixed(1)}% for the proxy the methods used)`;
}

function describeRun(r: LabRunResult) {
  return { feedback: r.feedback, pFlip: r.pFlip, lengthBias: r.lengthBias, labels: r.labels, seed: r.seed, settings: r.settings, environment: r.environment };
}

const SWEEP_COLUMNS = [
  { key: "method" },
  { key: "pFlip", title: "p_flip", digits: 2 },
  { key: "labels" },
  { key: "seed" },
  { key: "winRate", title: "win_rate", digits: 2 },
  { key: "lcWinRate", title: "lc_win_rate", digits: 2 },
  { key: "length", title: "avg_length", digits: 0 },
  { key: "kl", digits: 3 },
  { key: "seconds", title: "time_s", digits: 2 },
];

export function sweepCsv(rows: readonly SweepRow[]): string {
  const cols = ["method", "pFlip", "labels", "seed", "winRate", "lcWinRate", "length", "kl", "labelsUsed", "seconds"] as const;
  return [cols.join(","), ...rows.map((r) => cols.map((c) => r[c] ?? "").join(","))].join("\n") + "\n";
}

export async function runLabSweepCommand(paths: string[], o: LabSweepCliOptions): Promise<SweepRow[]> {
  const methods = parseMethods(o.methods);
  const t0 = performance.now();
  const env = await environment(paths, o, o.seeds[0] ?? 0);
  const total = o.pFlip.length * o.labels.length * o.seeds.length * methods.length;
  const bar = progress("lab sweep", total);
  let shown = 0;
  let rows: SweepRow[];
  const grid = {
    methods,
    ...(o.feedback ? { feedback: o.feedback } : {}),
    ...(o.lengthBias !== undefined ? { lengthBias: o.lengthBias } : {}),
    pFlips: o.pFlip,
    labels: o.labels,
    seeds: o.seeds,
  };
  try {
    rows = await runSweep(env, {
      ...grid,
      settings: settingsOf(o),
      lengthControlled: o.lc,
      onProgress: (done, _total, note) => {
        bar.tick(done - shown, note);
        shown = done;
      },
    });
  } finally {
    bar.done();
  }
  if (o.save) await save(o, { type: "sweep", grid: { ...grid, environment: environmentSummary(env) }, rows, seconds: (performance.now() - t0) / 1000 });
  if (o.out) {
    writeFile(o.out, o.out.endsWith(".csv") ? sweepCsv(rows) : JSON.stringify(rows, null, 2) + "\n");
    info(`results written to ${o.out}\n`);
  }
  if (o.json) out(JSON.stringify(rows) + "\n");
  else out(table(rows as unknown as Record<string, unknown>[], SWEEP_COLUMNS));
  return rows;
}

/** Checks `--save` before anything slow runs: a bad name would otherwise fail after the whole run. */
function checkSave(o: CommonLabOptions): void {
  for (const [flag, v] of [["--save", o.save], ["--project", o.project]] as const) {
    if (v === undefined) continue;
    const r = Id.safeParse(v);
    const bad = r.success ? badKeyString(v) : r.error.issues[0]?.message;
    if (bad) throw new ValidationError([{ path: flag, message: `${JSON.stringify(v)} is not a valid name: ${bad}` }]);
  }
}

async function save(o: CommonLabOptions & DbOptions, result: Parameters<typeof saveLabResult>[1]["result"]): Promise<void> {
  const saved = await withStore(o, (store) =>
    saveLabResult(store, { project: o.project, name: o.save!, ...(o.description !== undefined ? { description: o.description } : {}), result }),
  );
  info(`saved as ${saved.name}@${saved.version} in project "${saved.project}" (rlxf serve shows it at /lab/${encodeURIComponent(saved.name)})\n`);
}

function commonOptions(cmd: Command): Command {
  return cmd
    .argument("<paths...>", "AlpacaEval annotation files, or directories of them (e.g. ../shared/data/alpaca_eval/annotations)")
    .option("--methods <list>", `comma-separated: ${LAB_METHODS.join(", ")}; or all`, "all")
    .addOption(new Option("--feedback <source>", "gold, simulated (annotator with label-flip noise), or rm (a reward model trained on the annotator's labels)").choices([...LAB_FEEDBACK_SOURCES]))
    .option("--length-bias <b>", "share of simulated judgements decided by length alone (longer wins)", number01("--length-bias"))
    .option("--instructions <n>", "use only the first n instructions", int("--instructions"))
    .option("--models <list>", "use only these models' outputs (comma-separated file names without .json.gz; the reference is always a candidate)")
    .option("--exclude <list>", "leave out these models' outputs")
    .option("--include-constant", "keep models whose output is one string for every instruction (AlpacaEval's NullModel, which games the judge); left out by default")
    .option("--test-fraction <f>", "share of instructions held out for measurement", number01("--test-fraction"), 0.2)
    .option("--steps <n>", "optimisation steps per method (default 200)", int("--steps"))
    .option("--lr <x>", "Adam learning rate on the policy (default 0.02)", positive("--lr"))
    .option("--beta <x>", "beta of DPO, IPO, cDPO, LiPO and online DPO (default 0.1)", positive("--beta"))
    .option("--kl <x>", "KL penalty to the reference of the policy-gradient methods; 0 removes it (default 0.05)", positive("--kl"))
    .option("--batch <n>", "instructions per policy-gradient step (default 32)", int("--batch"))
    .option("--group <n>", "samples per instruction (default 4)", int("--group"))
    .option("--best-of-n <n>", "n of best-of-n (default 16)", int("--best-of-n"))
    .option("--rounds <n>", "rounds of expert iteration and online DPO (default 5)", int("--rounds"))
    .option("--eval-every <n>", "curve resolution in steps (default 10)", int("--eval-every"))
    .option("--no-lc", "skip the length-controlled win rate (and its instruction-difficulty fit)")
    .option("--save <name>", "keep the result in the store under this name (a new version each time); the web app plots it")
    .option("--description <text>", "a note saved with the result")
    .option("--project <name>", "project the result is saved in", "default")
    .option("--submit", "enqueue it as a background job (workers read the same paths; prints the job id)")
    .addOption(dbOption());
}

export function register(program: Command): void {
  const lab = program.command("lab").description("compare methods that learn from feedback, on real AlpacaEval outputs and judgements (AlpacaFarm-style)");
  commonOptions(
    lab
      .command("run")
      .description("train each method from one feedback source and label budget; print an AlpacaFarm-like table and write the curves"),
  )
    .option("--p-flip <p>", "label-flip probability of the simulated annotator (default 0.25 for simulated and rm)", number01("--p-flip", 0.5))
    .option("--labels <n>", "label budget: pairs labelled by the annotator", int("--labels"), 1000)
    .option("--seed <n>", "seed of the split, the labelled pairs, the noise and the methods", int("--seed"), 0)
    .option("--rm-seeds <n>", "seeds the proxy reward model's accuracy is reported over (mean ± sd; the methods use the first)", int("--rm-seeds"), 3)
    .option("--curves <file>", "where to write the curves (.json or .csv; - for nowhere)", "lab-curves.json")
    .option("--json", "print the run (with curves) as JSON on stdout")
    .action(async (paths: string[], o: LabRunCliOptions & { submit?: boolean }) => {
      checkSave(o);
      if (o.submit) await submitLab("lab-run", paths, o as never);
      else await runLabRunCommand(paths, o);
    });
  commonOptions(lab.command("sweep").description("run a grid of methods x label noise x label budget (x seeds), with a progress bar"))
    .option("--p-flip <list>", "noise levels (comma-separated; 0 = gold labels)", pList, [0, 0.25])
    .option("--labels <list>", "label budgets (comma-separated)", intList("--labels"), [300, 1000])
    .option("--seeds <list>", "seeds (comma-separated)", intList("--seeds"), [0])
    .option("--out <file>", "also write the rows (.csv or .json)")
    .option("--json", "print the rows as JSON on stdout")
    .action(async (paths: string[], o: LabSweepCliOptions & { submit?: boolean }) => {
      checkSave(o);
      if (o.submit) await submitLab("lab-sweep", paths, o as never);
      else await runLabSweepCommand(paths, o);
    });
}
