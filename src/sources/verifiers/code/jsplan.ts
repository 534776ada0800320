/**
 * Separated verification for JavaScript tests (see `separated.ts`). The tests are parsed here
 * (acorn) and never executed on the host: only literals are evaluated. A suite is separable when
 * each statement is one of
 *
 * - `assert(x)`, `assert.ok(x)`, `assert.equal / notEqual / strictEqual / notStrictEqual /
 *   deepEqual / notDeepEqual / deepStrictEqual / notDeepStrictEqual(a, b[, message])`,
 *   `assert.fail([message])`, where one side calls into the program (`f(1, [2])`, `await f(x)`,
 *   `obj.method(y)`, `JSON.stringify(f(x))`) and the other is a literal; inside `assert(...)`
 *   the comparison operators, `&& || ?? ! - +`, `+ - * / %` and `Math.abs` are evaluated here;
 * - `const / let / var` of literals (or of a call into the program, whose value is then read
 *   by later checks);
 * - `for (const x of [literals]) { ... }` (unrolled), blocks, and calls into the program for
 *   their effect (`f()`: it must not throw);
 * - `console.*(...)` and `await Promise.resolve()` (skipped).
 *
 * The checks run here on the values, rebuilt as plain JavaScript values, with `node:assert`'s own
 * functions and JavaScript's own operators: the semantics are Node's.
 */
import { AssertionError, strict as assertStrict } from "node:assert";
import assertLoose from "node:assert";
import { type Node as AcornNode, parse } from "acorn";
import { RlxfError } from "../../../errors.js";
import { JS_RUNNER } from "./js-side.js";
import { type CodeRunResult, type CodeRunSpec, type CodeTest, assemble, slotReader } from "./run.js";
import { CheckError, type HostExpr, type Plan, type PlanResult, readRecords } from "./separated.js";
import { runSandboxed } from "./sandbox.js";

// acorn's ESTree nodes, loosely typed
type N = AcornNode & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

class Unplannable extends Error {}

const LITERAL_GLOBALS = new Set(["undefined", "NaN", "Infinity"]);
/** Globals of the language (not the program's): calls through them fold into a step. */
const STANDARD = new Set(["Math", "JSON", "Number", "String", "Boolean", "Array", "Object", "BigInt", "parseInt", "parseFloat", "isNaN", "isFinite", "Promise", "console", "Symbol"]);
const ERRORS = new Set(["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError", "AggregateError"]);
const ASSERT_2 = new Set(["equal", "notEqual", "strictEqual", "notStrictEqual", "deepEqual", "notDeepEqual", "deepStrictEqual", "notDeepStrictEqual"]);
const LIMIT_STEPS = 20_000;

// -------------------------------------------------------------- js values ---

/** A JavaScript value as tagged JSON (what the runner writes), for constants. */
export function encodeJs(v: unknown, d = 0): unknown {
  if (d > 200) throw new Unplannable("a value nested too deeply");
  if (typeof v === "string" || typeof v === "boolean" || v === null) return v;
  if (v === undefined) return ["u"];
  if (typeof v === "number") return ["n", Object.is(v, -0) ? "-0" : String(v)];
  if (typeof v === "bigint") return ["bi", String(v)];
  if (Array.isArray(v)) return ["a", ...v.map((x) => encodeJs(x, d + 1))];
  if (typeof v === "object" && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    return [Object.getPrototypeOf(v) === null ? "on" : "o", ...Object.keys(v).map((k) => [k, encodeJs((v as Record<string, unknown>)[k], d + 1)])];
  }
  throw new Unplannable(`a constant of type ${typeof v} is not plain data`);
}

/** Tagged JSON to a fresh JavaScript value; throws on anything malformed. */
export function decodeJs(x: unknown, d = 0): unknown {
  if (d > 250) throw new Error("value nested too deeply");
  if (x === null || typeof x === "boolean" || typeof x === "string") return x;
  if (!Array.isArray(x) || typeof x[0] !== "string") throw new Error("malformed value");
  switch (x[0]) {
    case "u":
      if (x.length === 1) return undefined;
      break;
    case "n":
      if (x.length === 2 && typeof x[1] === "string") {
        if (x[1] === "-0") return -0;
        const n = Number(x[1]);
        if (!Number.isNaN(n) || x[1] === "NaN") return n;
      }
      break;
    case "bi":
      if (x.length === 2 && typeof x[1] === "string" && /^-?\d+$/.test(x[1])) return BigInt(x[1]);
      break;
    case "a":
      return x.slice(1).map((y) => decodeJs(y, d + 1));
    case "o":
    case "on": {
      const o: Record<string, unknown> = x[0] === "on" ? Object.create(null) : {};
      for (const e of x.slice(1)) {
        if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== "string") throw new Error("malformed object entry");
        Object.defineProperty(o, e[0], { value: decodeJs(e[1], d + 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
  }
  throw new Error(`malformed value (tag ${JSON.stringify(x[0])})`);
}

// --------------------------------------------------------------- planning ---

interface Scope {
  env: Map<string, unknown>;
  sym: Map<string, string>;
}

class Planner {
  steps: Plan["steps"] = [];
  checks: Plan["checks"] = [];
  events: Array<["s" | "x" | "c", number]> = [];
  programNames = new Set<string>();
  lines: string[] = [];
  code = "";
  at = 0;
  async = new Set<number>();

  /** Identifiers a node reads that belong to the program (or to its values). */
  dep(n: N, sc: Scope): boolean {
    let found = false;
    const visit = (x: unknown, parentKey?: string, parent?: N) => {
      if (found || !x || typeof x !== "object") return;
      if (Array.isArray(x)) return x.forEach((y) => visit(y, parentKey, parent));
      const node = x as N;
      if (typeof node.type !== "string") return;
      if (node.type === "Identifier") {
        const isKey = (parent?.type === "MemberExpression" && parentKey === "property" && !parent.computed) || (parent?.type === "Property" && parentKey === "key" && !parent.computed);
        if (isKey) return;
        const name = node.name as string;
        if (sc.sym.has(name) || (!sc.env.has(name) && !LITERAL_GLOBALS.has(name) && !STANDARD.has(name) && name !== "assert")) found = true;
        return;
      }
      for (const [k, v] of Object.entries(node)) if (k !== "type" && k !== "start" && k !== "end" && k !== "loc") visit(v, k, node);
    };
    visit(n);
    return found;
  }

  /** The value of a literal expression (with names bound to literals); throws Unplannable otherwise. */
  literal(n: N, sc: Scope): unknown {
    switch (n.type) {
      case "Literal":
        if (n.regex) throw new Unplannable(`line ${this.line(n)}: a regular expression`);
        return n.bigint !== undefined ? BigInt(n.bigint) : n.value;
      case "Identifier":
        if (n.name === "undefined") return undefined;
        if (n.name === "NaN") return NaN;
        if (n.name === "Infinity") return Infinity;
        if (sc.env.has(n.name)) return structuredClone(sc.env.get(n.name));
        break;
      case "TemplateLiteral":
        return n.quasis.map((q: N, i: number) => (q.value.cooked as string) + (i < n.expressions.length ? String(this.literal(n.expressions[i], sc)) : "")).join("");
      case "ArrayExpression": {
        const out: unknown[] = [];
        for (const e of n.elements as Array<N | null>) {
          if (e === null) throw new Unplannable(`line ${this.line(n)}: an array with holes`);
          if (e.type === "SpreadElement") {
            const v = this.literal(e.argument, sc);
            if (!Array.isArray(v)) throw new Unplannable(`line ${this.line(n)}: a spread of something else than an array`);
            out.push(...v);
          } else out.push(this.literal(e, sc));
        }
        return out;
      }
      case "ObjectExpression": {
        const o: Record<string, unknown> = {};
        for (const p of n.properties as N[]) {
          if (p.type === "SpreadElement") Object.assign(o, this.literal(p.argument, sc));
          else if (p.type === "Property" && p.kind === "init" && !p.method && !p.computed) {
            const key = p.key.type === "Identifier" ? p.key.name : String(p.key.value);
            if (key === "__proto__") throw new Unplannable(`line ${this.line(n)}: __proto__ in an object literal`);
            o[key] = this.literal(p.value, sc);
          } else throw new Unplannable(`line ${this.line(n)}: an object literal with computed keys or methods`);
        }
        return o;
      }
      case "UnaryExpression": {
        const v = this.literal(n.argument, sc);
        if (n.operator === "-") return -(v as number);
        if (n.operator === "+") return +(v as number);
        if (n.operator === "!") return !v;
        if (n.operator === "void") return undefined;
        if (n.operator === "typeof") return typeof v;
        break;
      }
      case "BinaryExpression": {
        const a = this.literal(n.left, sc) as number;
        const b = this.literal(n.right, sc) as number;
        const ops: Record<string, (x: number, y: number) => unknown> = { "+": (x, y) => x + y, "-": (x, y) => x - y, "*": (x, y) => x * y, "/": (x, y) => x / y, "%": (x, y) => x % y, "**": (x, y) => x ** y };
        const f = ops[n.operator as string];
        if (f) {
          const v = f(a, b);
          if (typeof v === "string" && v.length > 10_000_000) throw new Unplannable("a string constant too large");
          return v;
        }
        break;
      }
      case "MemberExpression":
        if (n.object.type === "Identifier" && n.object.name === "Math" && !n.computed && typeof (Math as unknown as Record<string, unknown>)[n.property.name] === "number") return (Math as unknown as Record<string, number>)[n.property.name];
        break;
      case "CallExpression":
        if (n.callee.type === "MemberExpression" && n.callee.object.type === "Identifier" && n.callee.object.name === "Math" && !n.callee.computed) {
          const f = (Math as unknown as Record<string, unknown>)[n.callee.property.name];
          if (typeof f === "function") return (f as (...a: number[]) => number)(...n.arguments.map((a: N) => this.literal(a, sc) as number));
        }
        break;
    }
    throw new Unplannable(`line ${this.line(n)}: ${this.src(n).slice(0, 80)} is not a literal the planner can evaluate`);
  }

  line(n: N): number {
    return (n.loc?.start.line as number | undefined) ?? 0;
  }
  src(n: N): string {
    return this.code.slice(n.start, n.end);
  }

  step(src: string, isAsync: boolean): number {
    if (this.steps.length >= LIMIT_STEPS) throw new Unplannable(`more than ${LIMIT_STEPS} calls into the program`);
    const k = this.steps.length;
    this.steps.push([k, src, this.at]);
    if (isAsync) this.async.add(k);
    this.events.push(["s", k]);
    return k;
  }

  leafable(n: N, sc: Scope): boolean {
    if (!this.dep(n, sc)) return false;
    switch (n.type) {
      case "Identifier":
        return true;
      case "AwaitExpression":
        return this.leafable(n.argument, sc);
      case "MemberExpression":
        return (this.leafable(n.object, sc) || this.standard(n.object)) && (!n.computed || this.argOk(n.property, sc));
      case "CallExpression":
        return (this.leafable(n.callee, sc) || this.standard(n.callee)) && (n.arguments as N[]).every((a) => this.argOk(a.type === "SpreadElement" ? a.argument : a, sc));
      default:
        return false;
    }
  }

  standard(n: N): boolean {
    if (n.type === "Identifier") return STANDARD.has(n.name);
    return n.type === "MemberExpression" && !n.computed && this.standard(n.object);
  }

  argOk(a: N, sc: Scope): boolean {
    if (!this.dep(a, sc)) {
      try {
        encodeJs(this.literal(a, sc));
        return true;
      } catch {
        return false;
      }
    }
    return this.leafable(a, sc);
  }

  /** Source of a step: the program's names as they are, names bound in the tests as literals. */
  render(n: N, sc: Scope): string {
    if (!this.dep(n, sc)) {
      if (this.standard(n)) return this.src(n);
      return this.lit(this.literal(n, sc));
    }
    switch (n.type) {
      case "Identifier":
        if (sc.sym.has(n.name)) return sc.sym.get(n.name)!;
        this.programNames.add(n.name);
        return n.name;
      case "AwaitExpression":
        return `(await ${this.render(n.argument, sc)})`;
      case "MemberExpression": {
        const obj = this.standard(n.object) ? this.src(n.object) : `(${this.render(n.object, sc)})`;
        return n.computed ? `${obj}[${this.render(n.property, sc)}]` : `${obj}${n.optional ? "?." : "."}${n.property.name}`;
      }
      case "CallExpression": {
        const callee = this.standard(n.callee) ? this.src(n.callee) : this.render(n.callee, sc);
        const args = (n.arguments as N[]).map((a) => (a.type === "SpreadElement" ? `...${this.render(a.argument, sc)}` : this.render(a, sc)));
        return `${callee}${n.optional ? "?." : ""}(${args.join(", ")})`;
      }
    }
    throw new Unplannable(`line ${this.line(n)}: cannot evaluate ${n.type} in the program's sandbox`);
  }

  /** JavaScript source that rebuilds a plain value (names it uses cannot be rebound: undefined, NaN, Infinity). */
  lit(v: unknown, d = 0): string {
    if (d > 200) throw new Unplannable("a value nested too deeply");
    if (v === undefined) return "undefined";
    if (typeof v === "number") return Object.is(v, -0) ? "-0" : Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : String(v);
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "string" || typeof v === "boolean" || v === null) return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map((x) => this.lit(x, d + 1)).join(", ")}]`;
    if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) return `({${Object.keys(v).map((k) => `${JSON.stringify(k)}: ${this.lit((v as Record<string, unknown>)[k], d + 1)}`).join(", ")}})`;
    throw new Unplannable("a value that is not plain data cannot be passed to the program");
  }

  hasAwait(n: N): boolean {
    let found = false;
    const visit = (x: unknown) => {
      if (found || !x || typeof x !== "object") return;
      if (Array.isArray(x)) return x.forEach(visit);
      if ((x as N).type === "AwaitExpression") found = true;
      else for (const v of Object.values(x)) visit(v);
    };
    visit(n);
    return found;
  }

  leaf(n: N, sc: Scope): HostExpr {
    return ["s", this.step(this.render(n, sc), this.hasAwait(n))];
  }

  decompose(n: N, sc: Scope): HostExpr {
    if (!this.dep(n, sc)) return ["k", encodeJs(this.literal(n, sc))];
    if (this.leafable(n, sc)) return this.leaf(n, sc);
    switch (n.type) {
      case "BinaryExpression":
        if (["===", "!==", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"].includes(n.operator)) return ["bin", n.operator, this.decompose(n.left, sc), this.decompose(n.right, sc)];
        break;
      case "LogicalExpression":
        return ["log", n.operator, this.decompose(n.left, sc), this.decompose(n.right, sc)];
      case "UnaryExpression":
        if (["!", "-", "+", "typeof"].includes(n.operator)) return ["un", n.operator, this.decompose(n.argument, sc)];
        break;
      case "CallExpression":
        if (n.callee.type === "MemberExpression" && !n.callee.computed && n.callee.object.type === "Identifier" && n.callee.object.name === "Math" && n.callee.property.name === "abs" && n.arguments.length === 1) {
          return ["abs", this.decompose(n.arguments[0], sc)];
        }
        break;
      case "ArrayExpression":
        if ((n.elements as Array<N | null>).every((e) => e && e.type !== "SpreadElement")) return ["arr", (n.elements as N[]).map((e) => this.decompose(e, sc))];
        break;
    }
    throw new Unplannable(`line ${this.line(n)}: ${this.src(n).slice(0, 80)} mixes the program's values in a way the planner does not follow`);
  }

  check(e: HostExpr, n: N, msg?: N, sc?: Scope): void {
    const line = this.line(n);
    const c: Plan["checks"][number] = { e, line, source: (this.lines[line - 1] ?? "").trim() };
    if (msg && sc && !this.dep(msg, sc)) {
      try {
        c.msg = String(this.literal(msg, sc)).slice(0, 2000);
      } catch {
        /* a message that is not a literal */
      }
    }
    this.checks.push(c);
    this.events.push(["c", this.checks.length - 1]);
  }

  assertCall(call: N, sc: Scope): boolean {
    const callee = call.callee as N;
    let method: string | undefined;
    if (callee.type === "Identifier" && callee.name === "assert") method = "ok";
    else if (callee.type === "MemberExpression" && !callee.computed && callee.object.type === "Identifier" && callee.object.name === "assert") method = callee.property.name;
    if (method === undefined) return false;
    const args = call.arguments as N[];
    if (args.some((a) => a.type === "SpreadElement")) throw new Unplannable(`line ${this.line(call)}: assert with spread arguments`);
    if (method === "throws" && args.length >= 1 && args.length <= 3) {
      // assert.throws(() => f(x)[, TypeError][, message]): the call must throw (an instance of that class)
      const fn = args[0]!;
      const body = fn.type === "ArrowFunctionExpression" && !fn.async && fn.params.length === 0 ? (fn.expression ? fn.body : fn.body.body.length === 1 && fn.body.body[0].type === "ExpressionStatement" ? fn.body.body[0].expression : undefined) : undefined;
      const cls = args.length >= 2 && args[1]!.type !== "Literal" ? args[1]! : undefined;
      if (!body || !this.leafable(body, sc) || this.hasAwait(body) || (cls && !(cls.type === "Identifier" && ERRORS.has(cls.name)))) throw new Unplannable(`line ${this.line(call)}: assert.throws the planner does not follow (an arrow function calling the program, and a built-in error class)`);
      const k = this.step(this.render(body, sc), false);
      this.events[this.events.length - 1] = ["x", k];
      this.check(["raises", k, cls ? [cls.name] : [], true], call, args.length === 3 ? args[2] : cls ? undefined : args[1], sc);
      return true;
    }
    if (method === "ok" && args.length >= 1) this.check(["ok", this.decompose(args[0]!, sc)], call, args[1], sc);
    else if (ASSERT_2.has(method) && args.length >= 2) this.check(["assert", method, this.decompose(args[0]!, sc), this.decompose(args[1]!, sc)], call, args[2], sc);
    else if (method === "fail" && args.every((a) => !this.dep(a, sc))) this.check(["k", false], call, args[0], sc);
    else throw new Unplannable(`line ${this.line(call)}: assert.${method} is not a check the planner follows`);
    return true;
  }

  bind(pattern: N, value: unknown, sc: Scope): void {
    if (pattern.type === "Identifier") {
      sc.env.set(pattern.name, value);
      sc.sym.delete(pattern.name);
    } else if (pattern.type === "ArrayPattern" && Array.isArray(value)) (pattern.elements as Array<N | null>).forEach((p, i) => p && this.bind(p, value[i], sc));
    else if (pattern.type === "ObjectPattern" && value && typeof value === "object") {
      for (const p of pattern.properties as N[]) {
        if (p.type !== "Property" || p.computed) throw new Unplannable(`line ${this.line(pattern)}: a destructuring the planner does not follow`);
        this.bind(p.value, (value as Record<string, unknown>)[p.key.type === "Identifier" ? p.key.name : String(p.key.value)], sc);
      }
    } else throw new Unplannable(`line ${this.line(pattern)}: a destructuring the planner does not follow`);
  }

  walk(body: N[], sc: Scope): void {
    for (const st of body) {
      this.at = this.line(st);
      switch (st.type) {
        case "EmptyStatement":
          continue;
        case "BlockStatement":
          this.walk(st.body, sc);
          continue;
        case "ExpressionStatement": {
          let e = st.expression as N;
          if (e.type === "AwaitExpression" && e.argument.type === "CallExpression" && this.assertCall(e.argument, sc)) continue;
          if (e.type === "CallExpression" && this.assertCall(e, sc)) continue;
          if (this.dep(e, sc)) {
            if (!this.leafable(e, sc)) throw new Unplannable(`line ${this.line(st)}: a statement the planner does not follow`);
            this.leaf(e, sc);
            continue;
          }
          if (e.type === "AwaitExpression") e = e.argument;
          const callee = e.type === "CallExpression" ? this.src(e.callee) : "";
          if (/^console\.\w+$/.test(callee) || callee === "Promise.resolve") continue;
          throw new Unplannable(`line ${this.line(st)}: a statement the planner does not follow`);
        }
        case "VariableDeclaration":
          for (const d of st.declarations as N[]) {
            if (!d.init) {
              if (d.id.type !== "Identifier") throw new Unplannable(`line ${this.line(st)}: a declaration the planner does not follow`);
              this.bind(d.id, undefined, sc);
            } else if (!this.dep(d.init, sc)) this.bind(d.id, this.literal(d.init, sc), sc);
            else if (d.id.type === "Identifier" && this.leafable(d.init, sc)) {
              const k = this.step(this.render(d.init, sc), this.hasAwait(d.init));
              sc.sym.set(d.id.name, `__rlxf_s[${k}]`);
              sc.env.delete(d.id.name);
            } else throw new Unplannable(`line ${this.line(st)}: a declaration from the program the planner does not follow`);
          }
          continue;
        case "ForOfStatement": {
          if (st.await || this.dep(st.right, sc)) throw new Unplannable(`line ${this.line(st)}: a loop over the program's values`);
          const items = this.literal(st.right, sc);
          if (!Array.isArray(items)) throw new Unplannable(`line ${this.line(st)}: a loop over something else than a literal array`);
          const target = st.left.type === "VariableDeclaration" ? st.left.declarations[0].id : st.left;
          const body = st.body.type === "BlockStatement" ? st.body.body : [st.body];
          for (const item of items) {
            this.bind(target, item, sc);
            this.walk(body, sc);
          }
          continue;
        }
      }
      throw new Unplannable(`line ${this.line(st)}: a ${st.type} the planner does not follow`);
    }
  }
}

/** Plans JavaScript tests: which steps run in the program's sandbox, and the checks. */
export function planJavaScript(tests: string[]): PlanResult {
  const p = new Planner();
  const sc: Scope = { env: new Map(), sym: new Map() };
  const out: Plan["tests"] = [];
  try {
    for (let i = 0; i < tests.length; i++) {
      p.code = tests[i]!;
      p.lines = p.code.split("\n");
      p.events = [];
      let ast: N;
      try {
        ast = parse(p.code, { ecmaVersion: "latest", sourceType: "script", allowAwaitOutsideFunction: true, locations: true }) as N;
      } catch (e) {
        return { ok: false, reason: `test ${i + 1} does not parse: ${(e as Error).message}` };
      }
      p.walk(ast.body, sc);
      out.push(p.events);
    }
  } catch (e) {
    if (e instanceof Unplannable) return { ok: false, reason: e.message };
    throw e;
  }
  return { ok: true, steps: p.steps, checks: p.checks, tests: out, posts: [], programNames: [...p.programNames], async: [...p.async] };
}

// --------------------------------------------------------------- checking ---

function evalJs(e: HostExpr, slot: (k: number) => unknown): unknown {
  const go = (x: unknown) => evalJs(x as HostExpr, slot);
  switch (e[0]) {
    case "k":
      return decodeJs(e[1]);
    case "s":
      return slot(e[1] as number);
    case "arr":
      return (e[1] as HostExpr[]).map(go);
    case "abs":
      return Math.abs(go(e[1]) as number);
    case "un": {
      const v = go(e[2]);
      return e[1] === "!" ? !v : e[1] === "-" ? -(v as number) : e[1] === "+" ? +(v as number) : typeof v;
    }
    case "log": {
      const a = go(e[2]);
      if (e[1] === "&&") return a ? go(e[3]) : a;
      if (e[1] === "||") return a ? a : go(e[3]);
      return a ?? go(e[3]);
    }
    case "bin": {
      const a = go(e[2]) as number;
      const b = go(e[3]) as number;
      try {
        switch (e[1]) {
          case "===":
            return a === b;
          case "!==":
            return a !== b;
          case "==":
            return a == b; // eslint-disable-line eqeqeq
          case "!=":
            return a != b; // eslint-disable-line eqeqeq
          case "<":
            return a < b;
          case "<=":
            return a <= b;
          case ">":
            return a > b;
          case ">=":
            return a >= b;
          case "+":
            return a + b;
          case "-":
            return a - b;
          case "*":
            return a * b;
          case "/":
            return a / b;
          case "%":
            return a % b;
        }
      } catch (err) {
        throw new CheckError((err as Error).name ?? "Error", (err as Error).message);
      }
      break;
    }
  }
  throw new CheckError("Error", `unknown check expression ${JSON.stringify(e[0])}`);
}

/** A check holds, or fails with node:assert's message. */
function checkJs(e: HostExpr, slot: (k: number) => unknown): { ok: boolean; message?: string } {
  if (e[0] === "k") return { ok: !!decodeJs(e[1]) };
  try {
    if (e[0] === "ok") assertStrict.ok(evalJs(e[1] as HostExpr, slot));
    else if (e[0] === "assert") {
      const method = e[1] as string;
      const fn = (assertLoose as unknown as Record<string, (a: unknown, b: unknown) => void>)[method];
      if (typeof fn !== "function") throw new CheckError("Error", `no assert.${method}`);
      fn(evalJs(e[2] as HostExpr, slot), evalJs(e[3] as HostExpr, slot));
    } else throw new CheckError("Error", `unknown check ${JSON.stringify(e[0])}`);
    return { ok: true };
  } catch (err) {
    if (err instanceof AssertionError) return { ok: false, message: err.message };
    throw err;
  }
}

/** Runs a planned JavaScript suite: the steps in the program's sandbox, the verdict here. */
export async function runSeparatedJs(spec: CodeRunSpec, plan: Plan, names: string[], _tests: CodeTest[]): Promise<CodeRunResult> {
  const isAsync = new Set(plan.async ?? []);
  const run = await runSandboxed({
    language: "javascript",
    inputs: {
      "runner.js": JS_RUNNER,
      "program.js": spec.program,
      "steps.json": JSON.stringify({ steps: plan.steps.map(([k, src]) => [k, src, isAsync.has(k)]) }),
    },
    args: ["/input/runner.js"],
    ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
    ...(spec.limits ? { limits: spec.limits } : {}),
    ...(spec.signal ? { signal: spec.signal } : {}),
  });
  if (run.channel === "" && run.limit === undefined && /^(bwrap|prlimit|setpriv|rlxf-sandbox): /m.test(run.stderr)) {
    throw new RlxfError("sandbox_failed", `the sandbox did not start: ${run.stderr.trim().split("\n")[0]}`);
  }
  const records = readRecords(run.channel, plan.steps.length, decodeJs);
  const slot = slotReader(records.values);
  const messages = new Map<HostExpr, string>();
  const evalCheck = (e: HostExpr) => {
    const r = checkJs(e, slot);
    if (!r.ok && r.message) messages.set(e, r.message);
    return r.ok;
  };
  const result = assemble(spec, plan, names, run, records, evalCheck, () => undefined, "");
  // node:assert's message says what differed: use it for assertion failures.
  for (const t of result.tests) {
    if (t.passed || t.kind !== "assertion") continue;
    const check = plan.checks.find((c) => c.line === t.line && messages.has(c.e));
    const m = check ? messages.get(check.e) : undefined;
    if (m && !t.error?.includes(":")) t.error = `AssertionError: ${m.split("\n").filter(Boolean).join(" ").slice(0, 500)}`;
  }
  if (result.failing && result.failing.kind === "assertion") {
    result.error = `${result.failing.name}: ${result.failing.error ?? "failed"}` + (result.failing.source ? ` (line ${result.failing.line}: ${result.failing.source})` : "");
  }
  return result;
}
