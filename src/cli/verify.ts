/**
 * `rlxf verify`: verifiable feedback from the command line.
 *
 *   rlxf verify math --gold G --pred P             one comparison
 *   rlxf verify math --input cases.jsonl --json    a line out per line in, with `equivalent`
 *   rlxf verify humaneval HumanEval.jsonl.gz [--completions samples.jsonl] --json
 *   rlxf verify check --verifier NAME|spec.json --input FILE --json
 */
import { existsSync, readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { RlxfError } from "../errors.js";
import type { HumanEvalSample, MatchType, MathEquivalenceOptions } from "../sources/verifiers/index.js";
// The verifiers (and the CAS behind them) load only when a verify command runs, keeping every other command's start fast.
const verifiers = () => import("../sources/verifiers/index.js");
import { submitVerify } from "./jobs.js";
import { progress } from "./progress.js";
import { dbOption, info, int, out, table } from "./shared.js";

const positive = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number`);
  return n;
};

interface MathOpts {
  gold?: string;
  pred?: string;
  input?: string;
  json?: boolean;
  precision?: number;
  relTol?: number;
}

const matchTypes = (v: unknown): MatchType[] | undefined =>
  Array.isArray(v) && v.every((x) => x === "latex" || x === "expr") ? (v as MatchType[]) : undefined;

async function runMath(opts: MathOpts): Promise<void> {
  const { mathEquivalent, readJsonl } = await verifiers();
  const base: MathEquivalenceOptions = {};
  if (opts.precision !== undefined) base.precision = opts.precision;
  if (opts.relTol !== undefined) base.relTol = opts.relTol;
  if (opts.input === undefined) {
    if (opts.gold === undefined || opts.pred === undefined) throw new RlxfError("missing_argument", "give --gold and --pred, or --input FILE");
    const r = mathEquivalent(opts.gold, opts.pred, base);
    if (opts.json) {
      out(JSON.stringify({ gold: opts.gold, pred: opts.pred, equivalent: r.equivalent, goldAnswer: r.gold?.answer, predAnswer: r.pred?.answer, reason: r.reason }) + "\n");
    } else {
      out(`${r.equivalent ? "equivalent" : "not equivalent"} (${r.reason})\n`);
      out(`gold answer: ${r.gold ? `${r.gold.answer}  [${r.gold.method}]` : "(none)"}\n`);
      out(`predicted:   ${r.pred ? `${r.pred.answer}  [${r.pred.method}]` : "(none)"}\n`);
    }
    return;
  }
  if (opts.gold !== undefined || opts.pred !== undefined) throw new RlxfError("invalid_argument", "--input reads gold and pred from the file; do not also give --gold/--pred");
  const rows = await readJsonl<Record<string, unknown>>(opts.input);
  let withExpected = 0;
  let agree = 0;
  let equivalent = 0;
  rows.forEach((row, i) => {
    if (typeof row.gold !== "string" && typeof row.gold !== "number") throw new RlxfError("invalid_input", `${opts.input}: line ${i + 1} lacks a string "gold"`);
    if (typeof row.pred !== "string" && typeof row.pred !== "number") throw new RlxfError("invalid_input", `${opts.input}: line ${i + 1} lacks a string "pred"`);
    const o: MathEquivalenceOptions = { ...base };
    if (typeof row.precision === "number" && o.precision === undefined) o.precision = row.precision;
    const mt = matchTypes(row.match_types);
    if (mt) {
      o.goldMatch = mt;
      o.predMatch = mt;
    }
    const r = mathEquivalent(String(row.gold), String(row.pred), o);
    if (r.equivalent) equivalent++;
    if (typeof row.expected === "boolean") {
      withExpected++;
      if (row.expected === r.equivalent) agree++;
    }
    if (opts.json) out(JSON.stringify({ ...row, equivalent: r.equivalent }) + "\n");
  });
  const summary = `${rows.length} pairs, ${equivalent} equivalent` + (withExpected ? `; agreement with "expected": ${agree}/${withExpected} (${((100 * agree) / withExpected).toFixed(1)}%)` : "");
  if (opts.json) info(summary + "\n");
  else out(summary + "\n");
}

interface HumanEvalOpts {
  completions?: string;
  json?: boolean;
  concurrency: number;
  timeout?: number;
}

async function runHumanEvalCommand(file: string, opts: HumanEvalOpts): Promise<void> {
  const { loadHumanEval, readJsonl, runHumanEval } = await verifiers();
  const tasks = await loadHumanEval(file);
  let samples: HumanEvalSample[] | undefined;
  if (opts.completions) {
    const rows = await readJsonl<Record<string, unknown>>(opts.completions);
    samples = rows.map((r, i) => {
      if (typeof r.task_id !== "string" || typeof r.completion !== "string") throw new RlxfError("invalid_input", `${opts.completions}: line ${i + 1} needs "task_id" and "completion" strings`);
      return { task_id: r.task_id, completion: r.completion };
    });
  }
  const total = samples?.length ?? tasks.length;
  const bar = progress("humaneval", total);
  const report = await runHumanEval(tasks, {
    ...(samples ? { samples } : {}),
    concurrency: opts.concurrency,
    ...(opts.timeout ? { limits: { wallMs: opts.timeout } } : {}),
    onResult: () => bar.tick(),
  });
  bar.done();
  const results = report.results.map((r) => ({
    task_id: r.task_id,
    sample: r.sample,
    passed: r.passed,
    status: r.status,
    ...(r.error ? { error: r.error } : {}),
    ...(r.failingLine ? { failingLine: r.failingLine } : {}),
    ...(r.limit ? { limit: r.limit } : {}),
  }));
  const source = samples ? opts.completions : "canonical solutions";
  if (opts.json) {
    out(JSON.stringify({ source, tasks: report.tasks, samples: report.samples, passed: report.passed, passAt1: report.passAt1, perTask: report.perTask, results }) + "\n");
    return;
  }
  out(
    table(
      results.map((r) => ({ ...r, passed: r.passed ? "yes" : "no", error: r.error ? r.error.slice(0, 80) : "" })),
      [{ key: "task_id", title: "task" }, { key: "sample" }, { key: "passed" }, { key: "status" }, { key: "error" }],
    ),
  );
  out(`\n${source}: ${report.passed}/${report.samples} samples passed over ${report.tasks} tasks; pass@1 ${(100 * report.passAt1).toFixed(2)}%\n`);
}

interface CheckOpts {
  verifier: string;
  input: string;
  json?: boolean;
  concurrency: number;
}

async function runCheck(opts: CheckOpts): Promise<void> {
  const { createVerifier, mapLimit, parseVerifierSpec, readJsonl, toVerificationValue } = await verifiers();
  const ref = existsSync(opts.verifier) && opts.verifier.endsWith(".json") ? parseVerifierSpec(JSON.parse(readFileSync(opts.verifier, "utf8")), `verifier spec ${opts.verifier}`) : opts.verifier;
  const verifier = createVerifier(ref);
  const rows = await readJsonl<Record<string, unknown>>(opts.input);
  rows.forEach((r, i) => {
    if (typeof r.completion !== "string") throw new RlxfError("invalid_input", `${opts.input}: line ${i + 1} lacks a string "completion"`);
  });
  const bar = progress(verifier.name, rows.length);
  const results = await mapLimit(rows, opts.concurrency, async (r) => {
    const v = await verifier.verify({
      completion: r.completion as string,
      ...(typeof r.prompt === "string" ? { prompt: r.prompt } : {}),
      ...(r.reference !== undefined ? { reference: r.reference } : {}),
    });
    bar.tick();
    return v;
  });
  bar.done();
  const passed = results.filter((r) => r.passed).length;
  const mean = results.length ? results.reduce((a, r) => a + r.score, 0) / results.length : 0;
  if (opts.json) {
    rows.forEach((r, i) => out(JSON.stringify({ ...r, verification: toVerificationValue(results[i]!) }) + "\n"));
    info(`${verifier.name}: ${passed}/${rows.length} passed, mean score ${mean.toFixed(3)}\n`);
    return;
  }
  out(table(results.map((r, i) => ({ line: i + 1, passed: r.passed ? "yes" : "no", score: r.score, error: String(r.details.error ?? "").slice(0, 80) })), [{ key: "line" }, { key: "passed" }, { key: "score", digits: 3 }, { key: "error" }]));
  out(`\n${verifier.name}: ${passed}/${rows.length} passed, mean score ${mean.toFixed(3)}\n`);
}

export function register(program: Command): void {
  const verify = program.command("verify").description("verifiable feedback: math answers, code in a sandbox, text checks");

  verify
    .command("math")
    .description("is a free-form solution's final answer the gold answer?")
    .option("--gold <answer>", "the gold answer (LaTeX or plain)")
    .option("--pred <solution>", "the prediction: a free-form solution or an answer")
    .option("--input <file>", "JSONL of {gold, pred, ...} (.gz fine); optional match_types, precision, expected")
    .option("--precision <places>", "round numbers to this many decimal places before comparing", int("--precision"))
    .option("--rel-tol <x>", "relative tolerance for numbers (default 1e-9)", positive("--rel-tol"))
    .option("--json", "print JSON (with --input: each input line with `equivalent` added)")
    .action(runMath);

  verify
    .command("humaneval")
    .description("run HumanEval samples (or the canonical solutions) against their tests in the sandbox")
    .argument("<file>", "HumanEval.jsonl(.gz)")
    .option("--completions <file>", "JSONL of {task_id, completion} (human-eval's samples format); default: canonical solutions")
    .option("--concurrency <n>", "sandboxed runs at once", int("--concurrency"), 2)
    .option("--timeout <ms>", "wall-clock limit of one run in milliseconds", int("--timeout"))
    .option("--json", "print one JSON report: pass@1, per-task and per-sample results")
    .action(runHumanEvalCommand);

  verify
    .command("check")
    .description("run any verifier over a JSONL of {completion, prompt?, reference?}")
    .addOption(new Option("--verifier <name-or-file>", "a verifier name (math, exact, normalized, json, python, javascript, humaneval) or a JSON spec file").makeOptionMandatory())
    .requiredOption("--input <file>", "JSONL of {completion, prompt?, reference?} (.gz fine)")
    .option("--concurrency <n>", "checks at once", int("--concurrency"), 2)
    .option("--json", "print each input line with its `verification` value added")
    .option("--submit", "enqueue it as a background job (scores kept per sample and stored as verification feedback; prints the job id)")
    .option("--project <name>", "with --submit: project the job and its feedback belong to", "default")
    .addOption(dbOption())
    .action(async (opts: CheckOpts & { submit?: boolean; project: string; db?: string }) => (opts.submit ? void (await submitVerify(opts)) : runCheck(opts)));
}
