/**
 * `rlxf verify`: verifiable feedback from the command line.
 *
 *   rlxf verify math --gold G --pred P [--explain]  one comparison (and why)
 *   rlxf verify math --input cases.jsonl --json    a line out per line in, with `equivalent`
 *   rlxf verify humaneval HumanEval.jsonl.gz [--completions samples.jsonl] --json
 *   rlxf verify check --verifier NAME|spec.json --input FILE --json
 */
import { existsSync, readFileSync } from "node:fs";
import { type Command, InvalidArgumentError, Option } from "commander";
import { RlxfError } from "../errors.js";
import type { HumanEvalSample, MatchType, MathEquivalenceOptions, Verifier } from "../sources/verifiers/index.js";
// The verifiers (and the CAS behind them) load only when a verify command runs, keeping every other command's start fast.
const verifiers = () => import("../sources/verifiers/index.js");
import { submitVerify } from "./jobs.js";
import { progress } from "./progress.js";
import { judgeModelFrom } from "./model-options.js";
import { type DbOptions, dbOption, info, int, out, table, withStore } from "./shared.js";

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
  explain?: boolean;
  precision?: number;
  relTol?: number;
}

const matchTypes = (v: unknown): MatchType[] | undefined =>
  Array.isArray(v) && v.every((x) => x === "latex" || x === "expr") ? (v as MatchType[]) : undefined;

async function runMath(opts: MathOpts): Promise<void> {
  const { formatExplanation, mathEquivalent, readJsonl } = await verifiers();
  const base: MathEquivalenceOptions = {};
  if (opts.precision !== undefined) base.precision = opts.precision;
  if (opts.relTol !== undefined) base.relTol = opts.relTol;
  if (opts.input === undefined) {
    if (opts.gold === undefined || opts.pred === undefined) throw new RlxfError("missing_option", "give --gold and --pred, or --input FILE");
    const r = mathEquivalent(opts.gold, opts.pred, base);
    if (opts.json) {
      out(JSON.stringify({ gold: opts.gold, pred: opts.pred, equivalent: r.equivalent, goldAnswer: r.gold?.answer, predAnswer: r.pred?.answer, reason: r.reason, ...(opts.explain ? { explanation: r.explanation } : {}) }) + "\n");
    } else if (opts.explain) {
      out(formatExplanation(r.explanation));
    } else {
      out(`${r.equivalent ? "equivalent" : "not equivalent"} (${r.reason})\n`);
      out(`gold answer: ${r.gold ? `${r.gold.answer}  [${r.gold.method}]` : "(none)"}\n`);
      out(`predicted:   ${r.pred ? `${r.pred.answer}  [${r.pred.method}]` : "(none)"}\n`);
    }
    return;
  }
  if (opts.gold !== undefined || opts.pred !== undefined) throw new RlxfError("invalid_input", "--input reads gold and pred from the file; do not also give --gold/--pred");
  const rows = await readJsonl<Record<string, unknown>>(opts.input);
  let withExpected = 0;
  let agree = 0;
  let equivalent = 0;
  let failed = 0;
  rows.forEach((row, i) => {
    // One bad line is that line's failed result, never the end of the batch.
    let line: Record<string, unknown>;
    let explanation: unknown;
    let eq = false;
    if (typeof row.gold !== "string" && typeof row.gold !== "number") line = { ...row, equivalent: false, error: `line ${i + 1} lacks a string "gold"` };
    else if (typeof row.pred !== "string" && typeof row.pred !== "number") line = { ...row, equivalent: false, error: `line ${i + 1} lacks a string "pred"` };
    else {
      const o: MathEquivalenceOptions = { ...base };
      if (typeof row.precision === "number" && o.precision === undefined) o.precision = row.precision;
      if (row.choices !== undefined) o.choices = row.choices;
      const mt = matchTypes(row.match_types);
      if (mt) {
        o.goldMatch = mt;
        o.predMatch = mt;
      }
      const r = mathEquivalent(String(row.gold), String(row.pred), o);
      eq = r.equivalent;
      explanation = r.explanation;
      line = { ...row, equivalent: r.equivalent };
      if (r.explanation.verdict === "failed") line.error = r.reason;
      if (typeof row.expected === "boolean") {
        withExpected++;
        if (row.expected === r.equivalent) agree++;
      }
    }
    if (eq) equivalent++;
    if (line.error !== undefined) failed++;
    if (opts.json) out(JSON.stringify(opts.explain && explanation ? { ...line, explanation } : line) + "\n");
    else if (opts.explain) out(`line ${i + 1}: ${explanation ? formatExplanation(explanation as Parameters<typeof formatExplanation>[0]) : `failed: ${String(line.error)}\n`}`);
  });
  const summary =
    `${rows.length} pairs, ${equivalent} equivalent` +
    (failed ? `, ${failed} not compared (see "error")` : "") +
    (withExpected ? `; agreement with "expected": ${agree}/${withExpected} (${((100 * agree) / withExpected).toFixed(1)}%)` : "");
  if (opts.json) info(summary + "\n");
  else out(summary + "\n");
}

interface HumanEvalOpts {
  completions?: string;
  json?: boolean;
  concurrency: number;
  timeout?: number;
  isolation?: "auto" | "required" | "in-sandbox";
}

async function runHumanEvalCommand(file: string, opts: HumanEvalOpts): Promise<void> {
  const { configureSandbox, loadHumanEval, readJsonl, runHumanEval, sandboxConfig } = await verifiers();
  // Whoever runs the command sets its limits: a --timeout above the ceiling raises it.
  if (opts.timeout && opts.timeout > sandboxConfig().ceilings.wallMs) configureSandbox({ ceilings: { wallMs: opts.timeout } });
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
    ...(opts.isolation ? { isolation: opts.isolation } : {}),
    onResult: () => bar.tick(),
  });
  bar.done();
  const results = report.results.map((r) => ({
    task_id: r.task_id,
    sample: r.sample,
    passed: r.passed,
    status: r.status,
    isolation: r.result.isolation,
    verdict: r.result.verdict,
    ...(r.result.fallbackReason ? { fallbackReason: r.result.fallbackReason } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.failingLine ? { failingLine: r.failingLine } : {}),
    ...(r.limit ? { limit: r.limit } : {}),
  }));
  const source = samples ? opts.completions : "canonical solutions";
  const separated = results.filter((r) => r.isolation === "separated").length;
  const sandbox = report.results[0]?.result.sandbox;
  if (opts.json) {
    out(JSON.stringify({ source, tasks: report.tasks, samples: report.samples, passed: report.passed, passAt1: report.passAt1, separated, inSandbox: results.length - separated, ...(sandbox ? { sandbox } : {}), perTask: report.perTask, results }) + "\n");
    return;
  }
  out(
    table(
      results.map((r) => ({ ...r, passed: r.passed ? "yes" : "no", error: r.error ? r.error.slice(0, 80) : "" })),
      [{ key: "task_id", title: "task" }, { key: "sample" }, { key: "passed" }, { key: "status" }, { key: "error" }],
    ),
  );
  out(`\n${source}: ${report.passed}/${report.samples} samples passed over ${report.tasks} tasks; pass@1 ${(100 * report.passAt1).toFixed(2)}%\n`);
  out(`verified apart from the program: ${separated}/${results.length}` + (separated < results.length ? ` (the rest ran their tests in the program's sandbox, where it can reach them)` : "") + "\n");
}

interface CheckOpts extends DbOptions {
  verifier?: string;
  spec?: string;
  project: string;
  input: string;
  json?: boolean;
  concurrency: number;
}

async function runCheck(opts: CheckOpts): Promise<void> {
  if ((opts.verifier === undefined) === (opts.spec === undefined)) {
    throw new RlxfError("missing_option", "give --verifier (a verifier name or spec file) or --spec (a saved reward spec), not both", { field: "--verifier" });
  }
  if (opts.spec === undefined) {
    const { createVerifier, parseVerifierSpec } = await verifiers();
    const name = opts.verifier ?? "";
    const ref = existsSync(name) && name.endsWith(".json") ? parseVerifierSpec(JSON.parse(readFileSync(name, "utf8")), `verifier spec ${name}`) : name;
    return check(createVerifier(ref), opts);
  }
  // A saved reward spec of the project (`name` or `name@N`), read from the store; judges in it ask
  // $RLXF_JUDGE_MODEL (at $RLXF_JUDGE_BASE_URL), as those of `rlxf serve` do.
  const { rewardVerifier } = await import("../rewards/index.js");
  const spec = opts.spec;
  await withStore(opts, async (store) => {
    const judge = judgeModelFrom({}, store);
    try {
      await check(await rewardVerifier(store, opts.project, spec, { judgeModel: judge.factory, path: "--spec" }), opts);
    } finally {
      await judge.close();
    }
  });
}

async function check(verifier: Verifier, opts: CheckOpts): Promise<void> {
  const { mapLimit, readJsonl, toVerificationValue } = await verifiers();
  const rows = await readJsonl<Record<string, unknown>>(opts.input);
  rows.forEach((r, i) => {
    if (typeof r.completion !== "string") throw new RlxfError("invalid_input", `${opts.input}: line ${i + 1} lacks a string "completion"`);
  });
  const bar = progress(verifier.name, rows.length);
  const results = await mapLimit(rows, opts.concurrency, async (r) => {
    let v: Awaited<ReturnType<typeof verifier.verify>>;
    try {
      v = await verifier.verify({
        completion: r.completion as string,
        ...(typeof r.prompt === "string" ? { prompt: r.prompt } : {}),
        ...(r.reference !== undefined ? { reference: r.reference } : {}),
      });
    } catch (e) {
      // A line the verifier cannot check fails on its own; the batch goes on.
      v = { passed: false, score: 0, details: { error: e instanceof Error ? e.message : String(e) } };
    }
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
    .option("--explain", "say why: what was extracted from each side, how it was read, and which rule compared them (with --json: an `explanation` object)")
    .action(runMath);

  verify
    .command("humaneval")
    .description("run HumanEval samples (or the canonical solutions) against their tests in the sandbox")
    .argument("<file>", "HumanEval.jsonl(.gz)")
    .option("--completions <file>", "JSONL of {task_id, completion} (human-eval's samples format); default: canonical solutions")
    .option("--concurrency <n>", "sandboxed runs at once", int("--concurrency"), 2)
    .option("--timeout <ms>", "wall-clock limit of one run in milliseconds", int("--timeout"))
    .addOption(new Option("--isolation <mode>", "auto: tests apart from the program where they allow it; required: refuse tests that do not; in-sandbox: tests in the program's process").choices(["auto", "required", "in-sandbox"]))
    .option("--json", "print one JSON report: pass@1, per-task and per-sample results")
    .action(runHumanEvalCommand);

  verify
    .command("check")
    .description("run any verifier over a JSONL of {completion, prompt?, reference?}")
    .option("--verifier <name-or-file>", "a verifier name (math, exact, normalized, json, python, javascript, humaneval) or a JSON spec file")
    .option("--spec <name>", "a reward spec saved in the project (name, or name@N for one version; see POST /v1/reward/specs)")
    .option("--project <name>", "the project of --spec (with --submit: the project the job and its feedback belong to)", "default")
    .addOption(dbOption())
    .requiredOption("--input <file>", "JSONL of {completion, prompt?, reference?} (.gz fine)")
    .option("--concurrency <n>", "checks at once", int("--concurrency"), 2)
    .option("--json", "print each input line with its `verification` value added")
    .option("--submit", "enqueue it as a background job (scores kept per sample and stored as verification feedback, in the project of --project; prints the job id)")
    .action(async (opts: CheckOpts & { submit?: boolean }) => (opts.submit ? void (await submitVerify(opts)) : runCheck(opts)));
}
