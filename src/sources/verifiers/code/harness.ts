/**
 * The in-sandbox harnesses, for tests that cannot be verified apart from the program (see
 * `separated.ts`; results say `isolation: "in-sandbox"`): the program shares their process and can
 * reach them, so their verdicts are only as good as the program is honest. They load the
 * program, run each test in the program's namespace, and report on fd 3, one JSON line per event, each carrying the run's
 * nonce (read from the first line of stdin before the program runs). The program's own
 * output goes to stdout and stderr untouched. A result without the nonce is not a result:
 * a program that prints a fake report, exits early (`sys.exit(0)`, `os._exit(0)`,
 * `process.exit(0)`) or closes fd 3 does not pass.
 *
 * Events: `{"event":"start","test":i}` before test i (-1: loading the program),
 * `{"event":"end","test":i,"passed":bool,"kind":"assertion"|"error","error":...,"line":...,
 * "source":...}` after, `{"event":"done"}` at the end.
 */

export const PYTHON_HARNESS = String.raw`
import sys, os, json
def _rlxf_main():
    nonce = sys.stdin.buffer.readline().decode().strip()
    chan = os.fdopen(os.dup(3), "w", buffering=1)
    os.close(3)
    def emit(ev):
        ev["nonce"] = nonce
        chan.write(json.dumps(ev) + "\n")
        chan.flush()
    with open("/input/spec.json") as f:
        spec = json.load(f)
    with open("/input/program.py") as f:
        program = f.read()
    tests = [(t["name"], t["code"]) for t in spec.get("tests", [])]
    sources = {"<program>": program.splitlines()}
    for i, (name, code) in enumerate(tests):
        sources["<test %d>" % i] = code.splitlines()
    g = {"__name__": "__main__", "__builtins__": __builtins__}
    def where(tb):
        import traceback
        # The innermost frame in the tests, else in the program.
        found = None
        for fr in traceback.extract_tb(tb):
            if fr.filename in sources:
                if found is None or fr.filename.startswith("<test") or not found[0].startswith("<test"):
                    found = (fr.filename, fr.lineno)
        return found
    def report(i, e):
        import traceback
        tb = e.__traceback__
        loc = where(tb)
        # The traceback as the program's author would see it: without the harness's frames.
        frames = [fr for fr in traceback.extract_tb(tb) if fr.filename != "/input/harness.py"]
        text = "Traceback (most recent call last):\n" if frames else ""
        text += "".join(traceback.format_list(frames)).replace("  File \"<", "  File \"<") + "".join(traceback.format_exception_only(type(e), e))
        ev = {"event": "end", "test": i, "passed": False,
              "kind": "assertion" if isinstance(e, AssertionError) else "error",
              "error": ("%s: %s" % (type(e).__name__, e)) if str(e) else type(e).__name__,
              "traceback": text[-4000:]}
        if loc:
            ev["file"] = loc[0]
            ev["line"] = loc[1]
            lines = sources.get(loc[0], [])
            if loc[1] and 0 < loc[1] <= len(lines):
                ev["source"] = lines[loc[1] - 1].strip()
        sys.stderr.write(text)
        sys.stderr.flush()
        emit(ev)
    emit({"event": "start", "test": -1})
    try:
        exec(compile(program, "<program>", "exec"), g)
    except BaseException as e:
        report(-1, e)
        emit({"event": "done"})
        return
    emit({"event": "end", "test": -1, "passed": True})
    for i, (name, code) in enumerate(tests):
        emit({"event": "start", "test": i})
        try:
            exec(compile(code, "<test %d>" % i, "exec"), g)
        except BaseException as e:
            report(i, e)
            continue
        emit({"event": "end", "test": i, "passed": True})
    emit({"event": "done"})
_rlxf_main()
# Exit now: threads or atexit hooks the program left behind do not keep the run going.
for _s in (sys.stdout, sys.stderr):
    try:
        _s.flush()
    except BaseException:
        pass
os._exit(0)
`;

export const JAVASCRIPT_HARNESS = String.raw`
"use strict";
const fs = require("node:fs");
const vm = require("node:vm");
function readLine() {
  const buf = Buffer.alloc(1);
  let s = "";
  for (;;) {
    let n = 0;
    try { n = fs.readSync(0, buf, 0, 1, null); } catch (e) { if (e.code === "EAGAIN") continue; throw e; }
    if (n === 0 || buf[0] === 10) return s;
    s += String.fromCharCode(buf[0]);
  }
}
(async () => {
  const nonce = readLine().trim();
  const emit = (ev) => { ev.nonce = nonce; try { fs.writeSync(3, JSON.stringify(ev) + "\n"); } catch {} };
  const spec = JSON.parse(fs.readFileSync("/input/spec.json", "utf8"));
  const program = fs.readFileSync("/input/program.js", "utf8");
  const tests = (spec.tests || []).map((t) => [t.name, t.code]);
  const sources = { "program.js": program.split("\n") };
  tests.forEach(([, code], i) => { sources["test-" + i + ".js"] = code.split("\n"); });
  globalThis.require = require;
  globalThis.module = { exports: {} };
  globalThis.exports = globalThis.module.exports;
  globalThis.assert = require("node:assert");
  function locate(e) {
    const stack = String((e && e.stack) || "");
    let found;
    for (const m of stack.matchAll(/((?:program|test-\d+)\.js):(\d+)(?::\d+)?/g)) {
      if (!found || m[1].startsWith("test-") || !found[0].startsWith("test-")) found = [m[1], Number(m[2])];
      if (m[1].startsWith("test-")) break;
    }
    return found;
  }
  function report(i, e) {
    const isAssert = e && (e.code === "ERR_ASSERTION" || e.name === "AssertionError");
    const ev = { event: "end", test: i, passed: false, kind: isAssert ? "assertion" : "error",
      error: e instanceof Error ? e.name + ": " + e.message : "thrown: " + String(e),
      traceback: String((e && e.stack) || e).slice(-4000) };
    const loc = locate(e);
    if (loc) {
      ev.file = loc[0]; ev.line = loc[1];
      const lines = sources[loc[0]] || [];
      if (loc[1] > 0 && loc[1] <= lines.length) ev.source = lines[loc[1] - 1].trim();
    }
    process.stderr.write(ev.traceback + "\n");
    emit(ev);
  }
  async function run(code, filename) {
    // A test that awaits runs as an async function (scripts have no top-level await).
    const src = filename !== "program.js" && /\bawait\b/.test(code) ? "(async () => {" + code + "\n})()" : code;
    const r = vm.runInThisContext(src, { filename });
    if (r && typeof r.then === "function") await r;
  }
  emit({ event: "start", test: -1 });
  try { await run(program, "program.js"); } catch (e) { report(-1, e); emit({ event: "done" }); process.exit(0); }
  emit({ event: "end", test: -1, passed: true });
  for (let i = 0; i < tests.length; i++) {
    emit({ event: "start", test: i });
    try { await run(tests[i][1], "test-" + i + ".js"); } catch (e) { report(i, e); continue; }
    emit({ event: "end", test: i, passed: true });
  }
  emit({ event: "done" });
  // Let callbacks the program started finish, but exit after a grace period: a server or
  // timer the program left behind does not keep the run going.
  setTimeout(() => process.exit(0), 500).unref();
})().catch((e) => { process.stderr.write(String((e && e.stack) || e) + "\n"); process.exitCode = 70; });
`;
