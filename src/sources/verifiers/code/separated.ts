/**
 * Separated verification: the program under test never shares a process, a namespace, builtins
 * or a writable channel with what decides pass or fail, and the expected values never enter its
 * sandbox.
 *
 * 1. Plan (once per test suite, cached): the tests are split into what only the program can
 *    answer ("steps": calls into it, with their arguments as literals) and the verdict (an
 *    expression over the steps' values and the expected constants). For Python the planner runs
 *    the tests' own code in a sandbox of its own, without the program (`python-side.ts`); for
 *    JavaScript the tests are parsed on the host and only literals are evaluated (`jsplan.ts`).
 * 2. Run: the program's sandbox gets the program and the steps, and writes each step's value on
 *    fd 3 as plain data (tagged JSON: no object with its own `__eq__`, no subclass, no callable).
 * 3. Decide, outside: the host reads the values strictly (one record per step, in order; any
 *    other record ends the reading), then evaluates each check with the language's semantics on
 *    plain data (`pyvalue.ts` for Python). Where a check applies a trusted test helper to a value
 *    (HumanEval's `poly(xs, find_zero(xs))`), the helper runs in a third sandbox, with the tests'
 *    definitions and the values, never the program.
 *
 * Why this holds: whatever the program does in its sandbox (patch `abs`, `compile`, `json.dumps`
 * or `fs.writeSync`, walk frames or the garbage collector, exit early, print or write a fake
 * record to fd 3, return an always-equal object or a lying float subclass), what reaches the
 * host is at most a sequence of plain values, which the program could have returned honestly;
 * it passes only if those values are the expected ones, which it never sees. A forged record is
 * just a value; a missing or malformed one fails its test.
 *
 * What cannot be split runs the old way, with the tests in the program's process, and is labelled
 * `isolation: "in-sandbox"` with the reason (see `plan*` for the supported shapes).
 */
import { createHash } from "node:crypto";
import { RlxfError } from "../../../errors.js";
import { POST_PY, PLANNER_PY } from "./python-side.js";
import { PyError, type PyValue, decodePy, pyAbs, pyBinary, pyCall, pyCompare, pyFabs, pyIsclose, pyRepr, pyTruthy, pyUnary } from "./pyvalue.js";
import { type SandboxLimits, type SandboxRunResult, runSandboxed } from "./sandbox.js";

/** The verdict's expression over step values (`["s", k]`), post-checks (`["p", i]`) and constants (`["k", value]`). */
export type HostExpr = [string, ...unknown[]];

export interface PlanCheck {
  e: HostExpr;
  /** Line in its test, and that line's source. */
  line: number;
  source: string;
  /** The assertion's message, when it is a constant. */
  msg?: string;
}

export interface Plan {
  ok: true;
  /** [slot, source, line]: evaluated in order in the program's sandbox. */
  steps: Array<[number, string, number]>;
  checks: PlanCheck[];
  /**
   * Per test, in order: `["s", k]` (step k must not raise), `["x", k]` (step k may raise: a check
   * says what it must raise) and `["c", i]` (check i must hold).
   */
  tests: Array<Array<["s" | "x" | "c", number]>>;
  /** Trusted test code over values (`__rlxf_v[k]`), evaluated without the program. */
  posts: Array<{ src: string; slots: number[] }>;
  /** The tests' own definitions, for post-checks. */
  prelude?: string;
  /** Names of the program the tests use besides the entry point (helpers it defines). */
  programNames: string[];
  /** Steps that await (JavaScript). */
  async?: number[];
}

export type PlanResult = Plan | { ok: false; reason: string };

export interface PlanSuite {
  /** Each test's code. */
  tests: string[];
  /** HumanEval style: the function the tests call `candidate`. */
  entry?: string;
  /** Trusted code the tests may use (HumanEval: the prompt, which defines helpers such as `poly`). */
  support?: string;
}

// ------------------------------------------------------------------ plans ---

const PLAN_CACHE_SIZE = 2000;
/** Plans kept, at most, in bytes of JSON (a plan is at most 4 MiB). */
const PLAN_CACHE_BYTES = 64 * 1024 * 1024;
const planCache = new Map<string, Promise<PlanResult>>();
const planBytes = new Map<string, number>();
let cachedBytes = 0;
const suiteKey = (s: PlanSuite) => createHash("sha256").update(JSON.stringify(["py", s.tests, s.entry ?? null, s.support ?? null])).digest("hex");

function forget(key: string): void {
  planCache.delete(key);
  cachedBytes -= planBytes.get(key) ?? 0;
  planBytes.delete(key);
}

function remember(key: string, p: Promise<PlanResult>): void {
  forget(key);
  planCache.set(key, p);
  p.then(
    (plan) => {
      if (planCache.get(key) !== p) return;
      const n = JSON.stringify(plan).length;
      planBytes.set(key, n);
      cachedBytes += n;
      while ((cachedBytes > PLAN_CACHE_BYTES || planCache.size > PLAN_CACHE_SIZE) && planCache.size > 1) forget(planCache.keys().next().value!);
    },
    () => forget(key),
  );
  while (planCache.size > PLAN_CACHE_SIZE) forget(planCache.keys().next().value!);
}

function isPlan(x: unknown): x is PlanResult {
  if (!x || typeof x !== "object") return false;
  const p = x as Record<string, unknown>;
  if (p.ok === false) return typeof p.reason === "string";
  return p.ok === true && Array.isArray(p.steps) && Array.isArray(p.checks) && Array.isArray(p.tests) && Array.isArray(p.posts) && Array.isArray(p.programNames);
}

/** Runs the planner over suites in one sandbox; suites it did not answer (it was killed) are planned again alone. */
async function planBatch(suites: PlanSuite[], limits: Partial<SandboxLimits> | undefined, signal: AbortSignal | undefined, retry: boolean): Promise<PlanResult[]> {
  const run = await runSandboxed({
    language: "python",
    inputs: { "planner.py": PLANNER_PY, "suites.json": JSON.stringify({ suites }) },
    args: ["/input/planner.py"],
    ...(limits ? { limits } : {}),
    ...(signal ? { signal } : {}),
  });
  const out: PlanResult[] = [];
  for (const line of run.channel.split("\n")) {
    if (!line.trim() || out.length >= suites.length) continue;
    let p: unknown;
    try {
      p = JSON.parse(line);
    } catch {
      break;
    }
    if (!isPlan(p)) break;
    out.push(p);
  }
  if (out.length === suites.length) return out;
  if (out.length === 0 && run.limit === undefined && /^(bwrap|prlimit|setpriv|rlxf-sandbox): /m.test(run.stderr)) {
    throw new RlxfError("sandbox_failed", `the sandbox did not start: ${run.stderr.trim().split("\n")[0]}`);
  }
  const rest = suites.slice(out.length);
  if (retry && suites.length > 1) {
    // The suite being planned when the planner was killed fails alone; the others get their own run.
    const why = whyStopped(run);
    out.push({ ok: false, reason: `the planner ${why}` });
    for (const s of rest.slice(1)) out.push(...(await planBatch([s], limits, signal, false)));
    return out;
  }
  for (let i = 0; i < rest.length; i++) out.push({ ok: false, reason: `the planner ${whyStopped(run)}` });
  return out;
}

function whyStopped(run: SandboxRunResult): string {
  if (run.limit) return `hit the ${run.limit} limit`;
  return run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
}

/**
 * Plans Python test suites (cached by content). Suites given together are planned in one
 * sandbox: give together only suites from one source (one caller's dataset).
 */
export async function planPython(suites: PlanSuite[], opts: { limits?: Partial<SandboxLimits>; signal?: AbortSignal } = {}): Promise<PlanResult[]> {
  const keys = suites.map(suiteKey);
  const todo: number[] = [];
  keys.forEach((k, i) => {
    if (!planCache.has(k) && !todo.some((j) => keys[j] === k)) todo.push(i);
  });
  if (todo.length) {
    const batch = planBatch(
      todo.map((i) => suites[i]!),
      opts.limits,
      opts.signal,
      true,
    );
    todo.forEach((i, j) => {
      // a failure to start the sandbox is not remembered (remember forgets a rejected plan)
      remember(keys[i]!, batch.then((r) => r[j]!));
    });
  }
  const pending = keys.map((k) => planCache.get(k));
  // evicted meanwhile (a tiny cache): plan again
  if (pending.some((p) => p === undefined)) return planBatch(suites, opts.limits, opts.signal, true);
  return Promise.all(pending as Array<Promise<PlanResult>>);
}

// ------------------------------------------------------------- the run ---

/** What came back from the program's sandbox, read strictly. */
export interface StepRecords<V = PyValue> {
  /** `true` loaded; `false` with `loadError`; undefined: no word (it died first). */
  loaded?: boolean;
  loadError?: StepError;
  values: Map<number, StepValue<V>>;
  done: boolean;
  /** A record out of place: reading stopped there. */
  protocol?: string;
}

export interface StepError {
  type: string;
  /** The names of the classes the exception is an instance of (its own first). */
  classes: string[];
  message: string;
  traceback?: string;
  /** Line in the program where it was raised. */
  line?: number;
}

export type StepValue<V = PyValue> = { ok: true; value: V } | { ok: false; opaque: string } | { ok: false; error: StepError };

function stepError(r: Record<string, unknown>): StepError {
  const classes = Array.isArray(r.mro) ? r.mro.filter((x): x is string => typeof x === "string").slice(0, 50) : [];
  const e: StepError = { type: String(r.e).slice(0, 200), classes, message: typeof r.m === "string" ? r.m : "" };
  if (typeof r.tb === "string" && r.tb) e.traceback = r.tb;
  if (typeof r.line === "number" && r.line > 0) e.line = r.line;
  return e;
}

/** Reads the runner's records: `load`, then one per step in order, then `done`; nothing else. */
export function readRecords<V>(channel: string, steps: number, decode: (x: unknown) => V): StepRecords<V> {
  const values = new Map<number, StepValue<V>>();
  const out: StepRecords<V> = { values, done: false };
  let next = 0;
  const lines = channel.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
      if (!r || typeof r !== "object" || Array.isArray(r)) throw new Error("not an object");
    } catch {
      out.protocol = `record ${i + 1} is not a JSON object`;
      return out;
    }
    const keys = Object.keys(r).sort().join(",");
    if (out.loaded === undefined) {
      if (keys === "load" && r.load === 1) out.loaded = true;
      else if (r.load === 0 && keys === "e,line,load,m,mro,tb") {
        out.loaded = false;
        out.loadError = stepError(r);
        return out;
      } else {
        out.protocol = `record ${i + 1} should be the program's load status`;
        return out;
      }
      continue;
    }
    if (out.done) {
      out.protocol = `record ${i + 1} comes after the end`;
      return out;
    }
    if (keys === "done" && r.done === 1) {
      if (next !== steps) {
        out.protocol = `the end came after ${next} of ${steps} steps`;
        return out;
      }
      out.done = true;
      continue;
    }
    if (r.k !== next) {
      out.protocol = `record ${i + 1} is for step ${String(r.k)}, expected step ${next}`;
      return out;
    }
    if (keys === "k,v") {
      try {
        values.set(next, { ok: true, value: decode(r.v) });
      } catch (e) {
        out.protocol = `record ${i + 1}: ${(e as Error).message}`;
        return out;
      }
    } else if (keys === "k,opaque" && typeof r.opaque === "string") values.set(next, { ok: false, opaque: r.opaque.slice(0, 200) });
    else if (keys === "e,k,line,m,mro,tb") values.set(next, { ok: false, error: stepError(r) });
    else {
      out.protocol = `record ${i + 1} has fields ${keys}`;
      return out;
    }
    next++;
  }
  return out;
}

/** Why a check could not be evaluated, or the program's own exception. */
export class CheckError extends Error {
  readonly type: string;
  readonly traceback?: string;
  readonly programLine?: number;
  constructor(type: string, message: string, extra: { traceback?: string; programLine?: number } = {}) {
    super(message);
    this.type = type;
    if (extra.traceback !== undefined) this.traceback = extra.traceback;
    if (extra.programLine !== undefined) this.programLine = extra.programLine;
  }
}

/** A value that is not plain data: only its identity can be checked (it is not None, True or False). */
export class OpaqueValue extends CheckError {}

const OPAQUE = { t: "tuple" as const, items: [] as PyValue[] };

/** Evaluates a Python check's expression on the host. */
export function evalPy(e: HostExpr, slot: (k: number) => PyValue, post: (i: number) => PyValue): PyValue {
  const go = (x: HostExpr): PyValue => evalPy(x, slot, post);
  const items = (x: unknown) => (x as HostExpr[]).map(go);
  try {
    switch (e[0]) {
      case "k":
        return decodePy(e[1]);
      case "s":
        return slot(e[1] as number);
      case "p":
        return post(e[1] as number);
      case "cmp": {
        const ops = e[1] as string[];
        const xs = e[2] as HostExpr[];
        // "x is None" holds for no object that is not plain data: such a value may stand there as itself.
        const identity = ops.every((o) => o === "is" || o === "is not");
        const side = (x: HostExpr): PyValue => {
          try {
            return go(x);
          } catch (err) {
            if (identity && err instanceof OpaqueValue) return OPAQUE;
            throw err;
          }
        };
        let left = side(xs[0]!);
        for (let i = 0; i < ops.length; i++) {
          const right = side(xs[i + 1]!);
          if (!pyCompare(ops[i]!, left, right)) return false;
          left = right;
        }
        return true;
      }
      case "and":
      case "or": {
        let v: PyValue = null;
        for (const x of e[1] as HostExpr[]) {
          v = go(x);
          if (e[0] === "and" ? !pyTruthy(v) : pyTruthy(v)) return v;
        }
        return v;
      }
      case "not":
        return !pyTruthy(go(e[1] as HostExpr));
      case "neg":
      case "pos":
        return pyUnary(e[0], go(e[1] as HostExpr));
      case "bin":
        return pyBinary(e[1] as "+" | "-" | "*" | "/", go(e[2] as HostExpr), go(e[3] as HostExpr));
      case "abs":
        return pyAbs(go(e[1] as HostExpr));
      case "fabs":
        return pyFabs(go(e[1] as HostExpr));
      case "isclose":
        return pyIsclose(go(e[1] as HostExpr), go(e[2] as HostExpr), go(e[3] as HostExpr), go(e[4] as HostExpr));
      case "fn":
        return pyCall(e[1] as string, go(e[2] as HostExpr));
      case "tuple":
      case "list":
        return { t: e[0], items: items(e[1]) };
    }
  } catch (err) {
    if (err instanceof PyError) throw new CheckError(err.pyType, err.message);
    throw err;
  }
  throw new CheckError("Error", `unknown check expression ${JSON.stringify(e[0])}`);
}

export interface PostOutcome {
  values: Map<number, PyValue | CheckError>;
  run?: SandboxRunResult;
}

/** Evaluates the plan's post-checks in a sandbox without the program. */
export async function runPosts(plan: Plan, values: Map<number, StepValue>, limits: Partial<SandboxLimits> | undefined, signal?: AbortSignal): Promise<PostOutcome> {
  const out = new Map<number, PyValue | CheckError>();
  const known: Record<string, unknown> = {};
  const encode = (v: PyValue): unknown => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return v;
    switch (v.t) {
      case "int":
        // hexadecimal past Python's limit on decimal digits
        return v.v.toString().replace("-", "").length > 4000 ? ["ix", v.v.toString(16)] : ["i", v.v.toString()];
      case "float":
        return ["f", Number.isNaN(v.v) ? "nan" : v.v === Infinity ? "inf" : v.v === -Infinity ? "-inf" : String(v.v)];
      case "complex":
        return ["c", String(v.re), String(v.im)];
      case "list":
      case "tuple":
      case "set":
      case "frozenset":
        return [{ list: "l", tuple: "t", set: "s", frozenset: "fs" }[v.t], ...v.items.map(encode)];
      case "dict":
        return ["d", ...v.entries.map(([k, x]) => [encode(k), encode(x)])];
      case "bytes":
      case "bytearray":
        return [v.t === "bytes" ? "b" : "ba", v.hex];
    }
  };
  for (const [k, v] of values) if (v.ok) known[String(k)] = encode(v.value);
  // Only the posts whose values all came back.
  const wanted = plan.posts.map((p, i) => ({ p, i })).filter(({ p }) => p.slots.every((k) => String(k) in known));
  for (const { p, i } of plan.posts.map((p, i) => ({ p, i }))) {
    if (!p.slots.every((k) => String(k) in known)) out.set(i, new CheckError("Error", "a value this check needs did not come back from the program"));
  }
  if (!wanted.length) return { values: out };
  const run = await runSandboxed({
    language: "python",
    inputs: { "post.py": POST_PY, "post.json": JSON.stringify({ prelude: plan.prelude ?? "", values: known, posts: wanted.map(({ p }) => p.src) }) },
    args: ["/input/post.py"],
    ...(limits ? { limits } : {}),
    ...(signal ? { signal } : {}),
  });
  const lines = run.channel.split("\n").filter((l) => l.trim() !== "");
  wanted.forEach(({ i }, j) => {
    const line = lines[j];
    let r: { v?: unknown; e?: unknown; m?: unknown } | undefined;
    try {
      r = line === undefined ? undefined : (JSON.parse(line) as typeof r);
    } catch {
      r = undefined;
    }
    if (!r) out.set(i, new CheckError("Error", `the post-check sandbox ${whyStopped(run)} before this check`));
    else if ("v" in r) {
      try {
        out.set(i, decodePy(r.v));
      } catch (e) {
        out.set(i, new CheckError("Error", (e as Error).message));
      }
    } else out.set(i, new CheckError(String(r.e), String(r.m ?? "")));
  });
  return { values: out, run };
}

export { pyRepr };
