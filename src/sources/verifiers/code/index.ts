/**
 * The code verifier: runs a completion against tests in the sandbox. Score: the fraction of
 * tests that passed (0 when the program does not load or a limit ends it). Its details say where
 * each part ran: `isolation` (`separated`: the program only answered calls and the verdict was
 * computed outside its sandbox; `in-sandbox`: the tests ran in the program's process, where it
 * can reach them, with `fallbackReason`), `verdict`, `checks`, and the sandbox's containment.
 */
import { RlxfError } from "../../../errors.js";
import type { VerificationResult, Verifier, VerifyInput } from "../types.js";
import { type CodeRunResult, type CodeTest, runCode } from "./run.js";
import { type Language, type SandboxLimits, resolveSandboxLimits } from "./sandbox.js";

export * from "./sandbox.js";
export * from "./run.js";
export * from "./humaneval.js";
export { deniedSyscalls, seccompFilter } from "./seccomp.js";
export { type Plan, type PlanResult, type PlanSuite, planPython } from "./separated.js";
export { planJavaScript } from "./jsplan.js";
export { forkServerStats } from "./zygote.js";

/** What a code check runs: given when the verifier is built, or per input as `reference`. */
export interface CodeReference {
  /** Test code (one test), or a list of tests. */
  tests: string | CodeTest[];
  /** HumanEval style: the tests define `check(candidate)`, called with this function. */
  entryPoint?: string;
  language?: Language;
  stdin?: string;
}

export interface CodeVerifierOptions {
  name?: string;
  language?: Language;
  tests?: string | CodeTest[];
  entryPoint?: string;
  /** Put the prompt before the completion (HumanEval: the prompt holds the signature). Default false. */
  prependPrompt?: boolean;
  /** Take the code out of a Markdown fence (```python ... ```) when the completion has one. Default true. */
  extractFence?: boolean;
  /** Checked against the sandbox's ceilings when the verifier is built (a ValidationError at `limits.<name>`). */
  limits?: Partial<SandboxLimits>;
  /**
   * `auto` (default): tests apart from the program where their shape allows, else in its sandbox
   * (labelled); `required`: a test suite that cannot be separated is an error, never a score.
   */
  isolation?: "auto" | "required";
}

/** The last fenced code block of a Markdown answer, or the text itself. */
export function codeFromCompletion(text: string, language?: Language): string {
  const blocks = [...text.matchAll(/```([A-Za-z0-9_+-]*)[^\n]*\n([\s\S]*?)```/g)];
  if (blocks.length === 0) return text;
  const want = language === "javascript" ? /^(js|javascript|node|mjs)$/i : /^(py|python|python3)$/i;
  const tagged = blocks.filter((b) => want.test(b[1] ?? ""));
  const pick = (tagged.length ? tagged : blocks)[(tagged.length ? tagged : blocks).length - 1]!;
  return pick[2]!;
}

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) + `… [${s.length - n} more characters]` : s);

/** A code run as a `verification` result. */
export function codeResultToVerification(r: CodeRunResult, testCount: number): VerificationResult {
  const passedTests = r.tests.filter((t) => t.passed).length;
  const score = r.passed ? 1 : testCount > 0 && (r.status === "failed" || r.status === "crashed") && !r.limit ? passedTests / testCount : 0;
  const details: VerificationResult["details"] = { status: r.status, testsRun: r.testsRun, testsFailed: r.testsFailed, isolation: r.isolation, verdict: r.verdict };
  if (r.fallbackReason) details.fallbackReason = r.fallbackReason;
  if (r.checks) details.checks = r.checks;
  if (r.programNames) details.programNames = r.programNames;
  details.sandbox = { ...r.sandbox };
  if (r.error) details.error = r.error;
  if (r.failing) {
    details.failingTest = r.failing.name;
    if (r.failing.source) details.failingLine = r.failing.source;
    if (r.failing.traceback) details.traceback = clip(r.failing.traceback, 4000);
  }
  if (r.limit) details.limit = r.limit;
  if (r.stdout) details.stdout = clip(r.stdout, 2000);
  if (r.stderr) details.stderr = clip(r.stderr, 4000);
  details.wallMs = Math.round(r.wallMs);
  return { passed: r.passed, score: r.passed ? 1 : score, details };
}

export function codeVerifier(opts: CodeVerifierOptions = {}): Verifier {
  const name = opts.name ?? "code";
  // Over a ceiling: refused now, when the spec is read, not at the first sample.
  if (opts.limits) resolveSandboxLimits(opts.limits, "limits");
  return {
    name,
    type: "code",
    async verify(input: VerifyInput): Promise<VerificationResult> {
      const ref = (input.reference ?? {}) as Partial<CodeReference> | string;
      const r: Partial<CodeReference> = typeof ref === "string" ? { tests: ref } : ref;
      const language = r.language ?? opts.language ?? "python";
      let tests = r.tests ?? opts.tests;
      const entryPoint = r.entryPoint ?? opts.entryPoint;
      if (tests === undefined) throw new RlxfError("no_reference", `verifier "${name}": no tests (give them to the verifier or as reference.tests)`);
      if (entryPoint) {
        if (typeof tests !== "string") throw new RlxfError("invalid_input", `verifier "${name}": entryPoint needs the tests as one string defining check(candidate)`);
        tests = [{ name: `check(${entryPoint})`, code: `${tests}\n\ncheck(${entryPoint})\n` }];
      }
      const code = opts.extractFence === false ? input.completion : codeFromCompletion(input.completion, language);
      const withPrompt = opts.prependPrompt && input.prompt !== undefined;
      const program = withPrompt ? input.prompt + code : code;
      const run = await runCode({
        language,
        program,
        tests,
        ...(entryPoint ? { entryPoint } : {}),
        // The prompt is the problem, not the answer: helpers it defines are trusted in the checks.
        ...(withPrompt && language === "python" ? { support: input.prompt! } : {}),
        ...(opts.isolation ? { isolation: opts.isolation } : {}),
        ...(r.stdin !== undefined ? { stdin: r.stdin } : {}),
        ...(opts.limits ? { limits: opts.limits } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      const count = typeof tests === "string" ? (tests.trim() ? 1 : 0) : tests.length;
      return codeResultToVerification(run, count);
    },
  };
}
