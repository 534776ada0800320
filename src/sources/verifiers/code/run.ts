/**
 * Running a program against tests in the sandbox, and reading the outcome:
 * `passed` (every test passed), `failed` (a test's assertion failed), `timeout` (wall-clock or
 * CPU limit), `crashed` (the program raised an error, was killed, exceeded a limit or exited
 * before its tests finished). The failing test, the error and the interpreter's traceback
 * come back with the captured output: feedback a model can learn from.
 *
 * Tests are verified separated where their shape allows (`separated.ts`): the program only
 * answers calls, and the verdict is computed outside its sandbox (`isolation: "separated"`,
 * `verdict: "host"`). Other tests run in the program's own process, where the program can reach
 * them (`isolation: "in-sandbox"`, with `fallbackReason`); `isolation: "required"` refuses that.
 */
import { RlxfError } from "../../../errors.js";
import { JAVASCRIPT_HARNESS, PYTHON_HARNESS } from "./harness.js";
import { planJavaScript, runSeparatedJs } from "./jsplan.js";
import { RUNNER_PY } from "./python-side.js";
import { type PyValue, decodePy, pyTruthy } from "./pyvalue.js";
import { CheckError, type HostExpr, OpaqueValue, type Plan, type StepRecords, type StepValue, evalPy, planPython, pyRepr, readRecords, runPosts } from "./separated.js";
import { type Language, type LimitHit, type SandboxIsolation, type SandboxLimits, type SandboxRunResult, newNonce, runSandboxed } from "./sandbox.js";

export type CodeStatus = "passed" | "failed" | "timeout" | "crashed";

export interface CodeTest {
  /** A name to report (default `test i`). */
  name?: string;
  /** Code run after the program, in its namespace; it fails by raising (an assertion). */
  code: string;
}

export interface CodeRunSpec {
  language: Language;
  /** The program (for HumanEval: the prompt followed by the completion). */
  program: string;
  /** Tests run after the program in its namespace, in order; none: the program just runs. */
  tests?: CodeTest[] | string;
  stdin?: string;
  limits?: Partial<SandboxLimits>;
  signal?: AbortSignal;
  /**
   * HumanEval style: the tests call this function of the program `candidate` (their code defines
   * `check(candidate)` and ends with `check(<entryPoint>)`).
   */
  entryPoint?: string;
  /**
   * Trusted code the tests may use besides the program (HumanEval: the prompt, whose helpers such
   * as `poly` the tests call). Never the completion.
   */
  support?: string;
  /**
   * `auto` (default): separated where the tests allow it, else in the program's sandbox;
   * `required`: refuse (RlxfError `tests_not_separable`) rather than run tests where the program
   * can reach them; `in-sandbox`: the tests in the program's process, as before.
   */
  isolation?: "auto" | "required" | "in-sandbox";
}

/** Where the tests ran: apart from the program (`separated`), in its process (`in-sandbox`), or there were none. */
export type Isolation = "separated" | "in-sandbox" | "none";

export interface TestOutcome {
  name: string;
  passed: boolean;
  /** `assertion`: the test's check failed; `error`: something raised. */
  kind?: "assertion" | "error";
  error?: string;
  /** The line that failed (in the test, else in the program) and its source. */
  file?: string;
  line?: number;
  source?: string;
  traceback?: string;
}

export interface CodeRunResult {
  status: CodeStatus;
  passed: boolean;
  testsRun: number;
  testsFailed: number;
  tests: TestOutcome[];
  /** The first failing test, or the program when loading it failed. */
  failing?: TestOutcome;
  /** One line: what went wrong. */
  error?: string;
  /** The limit that ended the run. */
  limit?: LimitHit;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  outputTruncated: boolean;
  wallMs: number;
  isolation: Isolation;
  /**
   * Where pass or fail was decided: `host` (outside every sandbox, from plain values),
   * `in-sandbox` (by the harness in the program's process: reachable by the program), or
   * `exit-status` (no tests: the program ran and exited 0).
   */
  verdict: "host" | "in-sandbox" | "exit-status";
  /** Why the tests could not be separated. */
  fallbackReason?: string;
  /** Separated runs: the checks, how many held, and how many ran in the post-check sandbox. */
  checks?: { total: number; passed: number; post: number };
  /** Names of the program the tests use besides the entry point (the program defines them). */
  programNames?: string[];
  /** How the program's sandbox was contained. */
  sandbox: SandboxIsolation;
  /** Peak memory of the program's sandbox, where a control group measured it. */
  memoryPeakBytes?: number;
}

interface Event {
  nonce?: string;
  event: "start" | "end" | "done";
  test: number;
  passed?: boolean;
  kind?: "assertion" | "error";
  error?: string;
  file?: string;
  line?: number;
  source?: string;
  traceback?: string;
}

function normaliseTests(tests: CodeRunSpec["tests"]): CodeTest[] {
  if (tests === undefined) return [];
  if (typeof tests === "string") return tests.trim() === "" ? [] : [{ name: "tests", code: tests }];
  return tests;
}

const LIMIT_WORDS: Record<LimitHit, string> = {
  wall: "wall-clock time limit exceeded",
  cpu: "CPU time limit exceeded",
  memory: "memory limit exceeded",
  output: "output size limit exceeded",
  processes: "process limit reached",
  disk: "disk or file size limit exceeded",
};

/** The tests in the program's process (the harness in `harness.ts`): the program can reach them. */
async function runInSandbox(spec: CodeRunSpec, tests: CodeTest[], names: string[], isolation: Isolation, fallbackReason?: string): Promise<CodeRunResult> {
  const nonce = newNonce();
  const ext = spec.language === "python" ? "py" : "js";
  const run = await runSandboxed({
    language: spec.language,
    inputs: {
      [`harness.${ext}`]: spec.language === "python" ? PYTHON_HARNESS : JAVASCRIPT_HARNESS,
      [`program.${ext}`]: spec.program,
      "spec.json": JSON.stringify({ tests: tests.map((t, i) => ({ name: names[i], code: t.code })) }),
    },
    args: [`/input/harness.${ext}`],
    stdin: nonce + "\n" + (spec.stdin ?? ""),
    ...(spec.limits ? { limits: spec.limits } : {}),
    ...(spec.signal ? { signal: spec.signal } : {}),
  });

  // Only events carrying the nonce count.
  const events: Event[] = [];
  for (const line of run.channel.split("\n")) {
    if (!line.trim()) continue;
    try {
      const ev = JSON.parse(line) as Event;
      if (ev.nonce === nonce) events.push(ev);
    } catch {
      /* not ours */
    }
  }
  // No event at all and a complaint from the launcher: the sandbox itself failed (a bind it
  // cannot make, a missing interpreter). That is not the program's fault: throw, do not score.
  if (events.length === 0 && run.limit === undefined && LAUNCHER_FAILED.test(run.stderr)) {
    throw new RlxfError("sandbox_failed", `the sandbox did not start: ${run.stderr.trim().split("\n")[0]}`);
  }
  const outcomes: TestOutcome[] = [];
  let programOutcome: TestOutcome | undefined;
  let running: number | undefined;
  let done = false;
  for (const ev of events) {
    if (ev.event === "start") running = ev.test;
    else if (ev.event === "done") done = true;
    else if (ev.event === "end") {
      running = undefined;
      const o: TestOutcome = { name: ev.test < 0 ? "program" : names[ev.test] ?? `test ${ev.test + 1}`, passed: ev.passed === true };
      for (const k of ["kind", "error", "file", "line", "source", "traceback"] as const) if (ev[k] !== undefined) (o as unknown as Record<string, unknown>)[k] = ev[k];
      if (ev.test < 0) programOutcome = o;
      else outcomes[ev.test] = o;
    }
  }
  const result: CodeRunResult = {
    status: "crashed",
    passed: false,
    testsRun: outcomes.filter(Boolean).length,
    testsFailed: outcomes.filter((o) => o && !o.passed).length,
    tests: outcomes.filter(Boolean),
    exitCode: run.exitCode,
    signal: run.signal,
    stdout: run.stdout,
    stderr: run.stderr,
    outputTruncated: run.outputTruncated,
    wallMs: run.wallMs,
    isolation,
    verdict: tests.length ? "in-sandbox" : "exit-status",
    sandbox: run.isolation,
  };
  if (fallbackReason) result.fallbackReason = fallbackReason;
  if (run.memoryPeakBytes !== undefined) result.memoryPeakBytes = run.memoryPeakBytes;
  if (run.limit) result.limit = run.limit;
  const runningName = running === undefined ? undefined : running < 0 ? "program" : names[running];

  if (run.limit === "wall" || run.limit === "cpu") {
    result.status = "timeout";
    result.error = LIMIT_WORDS[run.limit] + (runningName ? ` while running ${runningName}` : "");
    if (running !== undefined && running >= 0) result.failing = { name: runningName!, passed: false, kind: "error", error: result.error };
    return result;
  }
  if (programOutcome && !programOutcome.passed) {
    result.failing = programOutcome;
    result.error = `program: ${programOutcome.error ?? "failed to load"}` + (programOutcome.source ? ` (line ${programOutcome.line}: ${programOutcome.source})` : "");
    if (run.limit) result.error += ` (${LIMIT_WORDS[run.limit]})`;
    return result;
  }
  const firstFailed = outcomes.find((o) => o && !o.passed);
  if (run.limit && !(done && run.limit === "output" && !firstFailed && run.exitCode === 0)) {
    result.error = LIMIT_WORDS[run.limit] + (runningName ? ` while running ${runningName}` : "");
    if (firstFailed) result.failing = firstFailed;
    else if (running !== undefined && running >= 0) result.failing = { name: runningName!, passed: false, kind: "error", error: result.error };
    return result;
  }
  if (!done || outcomes.filter(Boolean).length !== tests.length) {
    const how = run.signal ? `killed by ${run.signal}` : `exit code ${run.exitCode}`;
    result.error = `the program ended before its tests finished (${how})` + (runningName ? ` while running ${runningName}` : "");
    if (firstFailed) result.failing = firstFailed;
    else if (running !== undefined && running >= 0) result.failing = { name: runningName!, passed: false, kind: "error", error: result.error };
    return result;
  }
  if (firstFailed) {
    result.failing = firstFailed;
    result.error = `${firstFailed.name}: ${firstFailed.error ?? "failed"}` + (firstFailed.source ? ` (line ${firstFailed.line}: ${firstFailed.source})` : "");
    result.status = outcomes.some((o) => o && !o.passed && o.kind === "error") ? "crashed" : "failed";
    return result;
  }
  if (run.exitCode !== 0) {
    result.error = `the program exited with ${run.signal ? run.signal : `code ${run.exitCode}`} after its tests`;
    return result;
  }
  result.status = "passed";
  result.passed = true;
  return result;
}

/** The launcher's own complaints (bubblewrap, prlimit, setpriv, the control-group step): the sandbox did not start. */
const LAUNCHER_FAILED = /^(bwrap|prlimit|setpriv|rlxf-sandbox): /m;

/** Runs `spec.program` and its tests in the sandbox. */
export async function runCode(spec: CodeRunSpec): Promise<CodeRunResult> {
  const tests = normaliseTests(spec.tests);
  const names = tests.map((t, i) => t.name ?? `test ${i + 1}`);
  if (tests.length === 0) return runInSandbox(spec, tests, names, "none");
  if (spec.isolation === "in-sandbox") return runInSandbox(spec, tests, names, "in-sandbox", "in-sandbox was asked for");
  const codes = tests.map((t) => t.code);
  const plan =
    spec.language === "python"
      ? (await planPython([{ tests: codes, ...(spec.entryPoint ? { entry: spec.entryPoint } : {}), ...(spec.support ? { support: spec.support } : {}) }], spec.signal ? { signal: spec.signal } : {}))[0]!
      : planJavaScript(codes);
  if (!plan.ok) {
    if (spec.isolation === "required") throw new RlxfError("tests_not_separable", `these tests cannot be verified apart from the program: ${plan.reason}`);
    return runInSandbox(spec, tests, names, "in-sandbox", plan.reason);
  }
  return spec.language === "python" ? runSeparatedPy(spec, plan, names) : runSeparatedJs(spec, plan, names, tests);
}

/** Runs a planned Python suite: the steps in the program's sandbox, post-checks apart, the verdict here. */
async function runSeparatedPy(spec: CodeRunSpec, plan: Plan, names: string[]): Promise<CodeRunResult> {
  const steps = `ENTRY = ${spec.entryPoint ? JSON.stringify(spec.entryPoint) : "None"}\nSTEPS = ${JSON.stringify(plan.steps.map(([k, src]) => [k, src]))}\n`;
  const run = await runSandboxed({
    language: "python",
    inputs: { "runner.py": RUNNER_PY, "program.py": spec.program, "steps.py": steps },
    args: ["/input/runner.py"],
    ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
    ...(spec.limits ? { limits: spec.limits } : {}),
    ...(spec.signal ? { signal: spec.signal } : {}),
  });
  if (run.channel === "" && run.limit === undefined && LAUNCHER_FAILED.test(run.stderr)) {
    throw new RlxfError("sandbox_failed", `the sandbox did not start: ${run.stderr.trim().split("\n")[0]}`);
  }
  const records = readRecords(run.channel, plan.steps.length, decodePy);
  let posts = new Map<number, PyValue | CheckError>();
  if (plan.posts.length && records.loaded) posts = (await runPosts(plan, records.values, undefined, spec.signal)).values;
  const slot = slotReader(records.values);
  const evalCheck = (e: HostExpr) =>
    pyTruthy(
      evalPy(e, slot, (i) => {
        const v = posts.get(i);
        if (v === undefined) throw new CheckError("Error", "the post-check did not run");
        if (v instanceof CheckError) throw v;
        return v;
      }),
    );
  const observed = (e: HostExpr) => {
    const k = firstSlot(e);
    const v = k === undefined ? undefined : records.values.get(k);
    return v?.ok ? pyRepr(v.value) : undefined;
  };
  return assemble(spec, plan, names, run, records, evalCheck, observed, "Traceback (most recent call last):\n");
}

/** The first step a check reads (its observed value, for the message). */
function firstSlot(e: unknown): number | undefined {
  if (!Array.isArray(e)) return undefined;
  if (e[0] === "s" && typeof e[1] === "number") return e[1];
  if (e[0] === "k") return undefined;
  for (const x of typeof e[0] === "string" ? e.slice(1) : e) {
    const k = firstSlot(x);
    if (k !== undefined) return k;
  }
  return undefined;
}

/** A step's value for a check: its exception, or a refusal for a value that is not plain data. */
export function slotReader<V>(values: Map<number, StepValue<V>>): (k: number) => V {
  return (k) => {
    const v = values.get(k);
    if (!v) throw new CheckError("Error", "the program's value did not come back");
    if (v.ok) return v.value;
    if ("opaque" in v) throw new OpaqueValue("TypeError", `the program returned ${v.opaque}, not plain data: it cannot be compared outside the program's sandbox`);
    throw new CheckError(v.error.type, v.error.message, { ...(v.error.traceback ? { traceback: v.error.traceback } : {}), ...(v.error.line ? { programLine: v.error.line } : {}) });
  };
}

const errorText = (type: string, message: string) => (message ? `${type}: ${message}` : type);

/**
 * The outcome of a separated run, from the values that came back and the checks evaluated here.
 * A test passes when each of its steps gave a value (not an exception) and each check holds.
 */
export function assemble<V>(
  spec: CodeRunSpec,
  plan: Plan,
  names: string[],
  run: SandboxRunResult,
  records: StepRecords<V>,
  evalCheck: (e: HostExpr) => boolean,
  observed: (e: HostExpr) => string | undefined,
  tracebackHead: string,
): CodeRunResult {
  const testCodes = normaliseTests(spec.tests).map((t) => t.code.split("\n"));
  const programLines = spec.program.split("\n");
  const result: CodeRunResult = {
    status: "crashed",
    passed: false,
    testsRun: 0,
    testsFailed: 0,
    tests: [],
    exitCode: run.exitCode,
    signal: run.signal,
    stdout: run.stdout,
    stderr: run.stderr,
    outputTruncated: run.outputTruncated,
    wallMs: run.wallMs,
    isolation: "separated",
    verdict: "host",
    sandbox: run.isolation,
    checks: { total: plan.checks.length, passed: 0, post: plan.posts.length },
  };
  if (plan.programNames.length) result.programNames = plan.programNames;
  if (run.memoryPeakBytes !== undefined) result.memoryPeakBytes = run.memoryPeakBytes;
  if (run.limit) result.limit = run.limit;
  const ended = () => {
    if (run.limit) return LIMIT_WORDS[run.limit];
    if (records.protocol) return `the program's sandbox sent a record out of place (${records.protocol})`;
    return `the program ended before its tests finished (${run.signal ? `killed by ${run.signal}` : `exit code ${run.exitCode}`})`;
  };
  const timeout = run.limit === "wall" || run.limit === "cpu";

  if (records.loaded === false) {
    const e = records.loadError!;
    const o: TestOutcome = { name: "program", passed: false, kind: "error", error: errorText(e.type, e.message) };
    if (e.line) {
      o.file = "<program>";
      o.line = e.line;
      const src = programLines[e.line - 1]?.trim();
      if (src) o.source = src;
    }
    if (e.traceback) o.traceback = e.traceback;
    result.failing = o;
    result.error = `program: ${o.error}` + (o.source ? ` (line ${o.line}: ${o.source})` : "") + (run.limit ? ` (${LIMIT_WORDS[run.limit]})` : "");
    return result;
  }
  if (records.loaded === undefined) {
    result.status = timeout ? "timeout" : "crashed";
    result.error = `${ended()} while running program`;
    return result;
  }

  let running: string | undefined;
  let passedChecks = 0;
  const extraStderr: string[] = [];
  plan.tests.forEach((events, i) => {
    if (running !== undefined) return;
    const name = names[i] ?? `test ${i + 1}`;
    const code = testCodes[i] ?? [];
    const at = (line: number) => ({ file: `<test ${i + 1}>`, line, ...(code[line - 1]?.trim() ? { source: code[line - 1]!.trim() } : {}) });
    let outcome: TestOutcome = { name, passed: true };
    for (const [kind, n] of events) {
      if (kind === "s" || kind === "x") {
        const v = records.values.get(n);
        if (!v) {
          running = name;
          return;
        }
        if (kind === "s" && !v.ok && "error" in v) {
          const e = v.error;
          outcome = { name, passed: false, kind: "error", error: errorText(e.type, e.message), ...at(plan.steps[n]?.[2] ?? 0) };
          if (e.traceback) outcome.traceback = e.traceback;
          break;
        }
        continue;
      }
      const check = plan.checks[n]!;
      if (check.e[0] === "raises") {
        // ["raises", step, class names (empty: any), required]: the step had to raise one of them
        const [, k, names, required] = check.e as [string, number, string[], boolean];
        const v = records.values.get(k)!;
        if (!v.ok && "error" in v) {
          const e = v.error;
          const classes = e.classes.length ? e.classes : [e.type];
          if (names.length === 0 || names.some((c) => classes.includes(c))) {
            passedChecks++;
            continue;
          }
          outcome = { name, passed: false, kind: "error", error: errorText(e.type, e.message), ...at(check.line) };
          if (e.traceback) outcome.traceback = e.traceback;
          break;
        }
        if (!required) {
          passedChecks++;
          continue;
        }
        outcome = { name, passed: false, kind: "assertion", error: errorText("AssertionError", `expected ${names.length ? names.join(" or ") : "an exception"}, nothing was raised`), ...at(check.line) };
        break;
      }
      try {
        if (evalCheck(check.e)) {
          passedChecks++;
          continue;
        }
        const got = observed(check.e);
        outcome = { name, passed: false, kind: "assertion", error: errorText("AssertionError", check.msg ?? ""), ...at(check.line) };
        outcome.traceback = `${tracebackHead}  File "<test ${i + 1}>", line ${check.line}\n    ${check.source}\n${outcome.error}` + (got !== undefined ? `\n(the program gave ${got})` : "");
      } catch (err) {
        if (!(err instanceof CheckError)) throw err;
        outcome = { name, passed: false, kind: "error", error: errorText(err.type, err.message), ...at(check.line) };
        if (err.traceback) outcome.traceback = err.traceback;
      }
      break;
    }
    if (!outcome.passed && outcome.traceback) extraStderr.push(outcome.traceback.endsWith("\n") ? outcome.traceback : outcome.traceback + "\n");
    result.tests.push(outcome);
  });
  result.checks!.passed = passedChecks;
  result.testsRun = result.tests.length;
  result.testsFailed = result.tests.filter((t) => !t.passed).length;
  // The failures as the interpreter would have printed them, after what the program wrote.
  if (extraStderr.length) result.stderr += extraStderr.join("");
  const firstFailed = result.tests.find((t) => !t.passed);
  if (running !== undefined) {
    result.status = timeout ? "timeout" : "crashed";
    result.error = `${ended()} while running ${running}`;
    result.failing = firstFailed ?? { name: running, passed: false, kind: "error", error: result.error };
    return result;
  }
  if (firstFailed) {
    result.failing = firstFailed;
    result.error = `${firstFailed.name}: ${firstFailed.error ?? "failed"}` + (firstFailed.source ? ` (line ${firstFailed.line}: ${firstFailed.source})` : "");
    result.status = result.tests.some((t) => !t.passed && t.kind === "error") ? "crashed" : "failed";
    return result;
  }
  if (!records.done) {
    result.error = ended();
    return result;
  }
  result.status = "passed";
  result.passed = true;
  return result;
}
