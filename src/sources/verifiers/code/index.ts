/**
 * The code verifier: runs a completion against tests in the sandbox. Score: the fraction of
 * tests that passed (0 when the program does not load or a limit ends it).
 */
import { RlxfError } from "../../../errors.js";
import type { VerificationResult, Verifier, VerifyInput } from "../types.js";
import { type CodeRunResult, type CodeTest, runCode } from "./run.js";
import type { Language, SandboxLimits } from "./sandbox.js";

export * from "./sandbox.js";
export * from "./run.js";
export * from "./humaneval.js";

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
  limits?: Partial<SandboxLimits>;
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
  const details: VerificationResult["details"] = { status: r.status, testsRun: r.testsRun, testsFailed: r.testsFailed };
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
      const program = opts.prependPrompt && input.prompt ? input.prompt + code : code;
      const run = await runCode({
        language,
        program,
        tests,
        ...(r.stdin !== undefined ? { stdin: r.stdin } : {}),
        ...(opts.limits ? { limits: opts.limits } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      const count = typeof tests === "string" ? (tests.trim() ? 1 : 0) : tests.length;
      return codeResultToVerification(run, count);
    },
  };
}
