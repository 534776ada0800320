/**
 * Running a program against tests in the sandbox, and reading the outcome:
 * `passed` (every test passed), `failed` (a test's assertion failed), `timeout` (wall-clock or
 * CPU limit), `crashed` (the program raised an error, was killed, exceeded a limit or exited
 * before its tests finished). The failing test, the error and the interpreter's traceback
 * come back with the captured output: feedback a model can learn from.
 */
import { RlxfError } from "../../../errors.js";
import { JAVASCRIPT_HARNESS, PYTHON_HARNESS } from "./harness.js";
import { type Language, type LimitHit, type SandboxLimits, newNonce, runSandboxed } from "./sandbox.js";

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
}

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

/** Runs `spec.program` and its tests in the sandbox. */
export async function runCode(spec: CodeRunSpec): Promise<CodeRunResult> {
  const tests = normaliseTests(spec.tests);
  const names = tests.map((t, i) => t.name ?? `test ${i + 1}`);
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
  if (events.length === 0 && run.limit === undefined && /^(bwrap|prlimit|setpriv): /m.test(run.stderr)) {
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
  };
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
