/**
 * The JavaScript runner of separated verification (see `separated.ts`): it runs in the
 * program's sandbox, loads `/input/program.js` as a script (its functions, `let` and `const`
 * are visible to the steps), evaluates the steps of `/input/steps.json` in order and writes each
 * value on fd 3 as plain data. It decides nothing: patching `fs.writeSync`, `JSON` or
 * `process.exit` only changes the values the host receives.
 *
 * Values cross as tagged JSON: strings, booleans and null as themselves, `["n","1.5"]` number
 * (`NaN`, `Infinity`, `-Infinity`, `-0` spelled out), `["u"]` undefined, `["bi","12"]` bigint,
 * `["a",...]` array, `["o",[k,v],...]` plain object (`["on",...]` without a prototype). Anything
 * else (functions, class instances, Map, Set, Date, promises, boxed primitives) is not plain data.
 */
export const JS_RUNNER = String.raw`
"use strict";
const fs = require("node:fs");
const vm = require("node:vm");
const write = fs.writeSync;
const exit = process.exit.bind(process);
const run = vm.runInThisContext;
const { isArray } = Array;
const { getPrototypeOf, keys, getOwnPropertyDescriptor, is } = Object;
const ObjectProto = Object.prototype, ArrayProto = Array.prototype;
const stringify = JSON.stringify;
const toStr = String;
class Unplain extends Error {}
function enc(v) {
  let count = 0;
  const go = (v, d) => {
    if (++count > 2000000 || d > 200) throw new Unplain("a value too large or too deeply nested");
    const t = typeof v;
    if (t === "string") return stringify(v);
    if (t === "boolean") return v ? "true" : "false";
    if (v === null) return "null";
    if (t === "undefined") return '["u"]';
    if (t === "number") return '["n","' + (is(v, -0) ? "-0" : toStr(v)) + '"]';
    if (t === "bigint") return '["bi","' + toStr(v) + '"]';
    if (t !== "object") throw new Unplain("a " + t);
    const proto = getPrototypeOf(v);
    if (isArray(v) && proto === ArrayProto) {
      const out = ['["a"'];
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) throw new Unplain("an array with holes");
        out.push(go(v[i], d + 1));
      }
      return out.join(",") + "]";
    }
    if (proto === ObjectProto || proto === null) {
      const out = [proto === null ? '["on"' : '["o"'];
      for (const k of keys(v)) {
        const desc = getOwnPropertyDescriptor(v, k);
        if (!desc || !("value" in desc)) throw new Unplain("an object with accessors");
        out.push("[" + stringify(k) + "," + go(desc.value, d + 1) + "]");
      }
      return out.join(",") + "]";
    }
    let name = "object";
    try { name = toStr((v.constructor && v.constructor.name) || "object"); } catch {}
    throw new Unplain("an object of type " + name.slice(0, 100));
  };
  return go(v, 0);
}
const emit = (s) => { try { write(3, s + "\n"); } catch {} };
function error(e) {
  let name = "Error", message = "", stack = "", line = 0;
  try {
    if (e instanceof Error || (e && typeof e === "object")) { name = toStr(e.name || "Error"); message = toStr(e.message ?? ""); stack = toStr(e.stack || ""); }
    else { name = "thrown"; message = toStr(e); }
  } catch {}
  const m = /program\.js:(\d+)/.exec(stack);
  if (m) line = Number(m[1]);
  // the names of the classes it is an instance of, nearest first
  const mro = [];
  try {
    for (let p = e !== null && typeof e === "object" ? getPrototypeOf(e) : null; p && mro.length < 50; p = getPrototypeOf(p)) {
      const d = getOwnPropertyDescriptor(p, "constructor");
      if (d && "value" in d && typeof d.value === "function") mro.push(stringify(toStr(d.value.name).slice(0, 200)));
    }
  } catch {}
  return ',"e":' + stringify(name.slice(0, 200)) + ',"m":' + stringify(message.slice(0, 2000)) + ',"tb":' + stringify(stack.slice(-4000)) + ',"line":' + line + ',"mro":[' + mro.join(",") + "]";
}
(async () => {
  const steps = JSON.parse(fs.readFileSync("/input/steps.json", "utf8")).steps;
  const program = fs.readFileSync("/input/program.js", "utf8");
  globalThis.require = require;
  globalThis.module = { exports: {} };
  globalThis.exports = globalThis.module.exports;
  const slots = {};
  try { run(program, { filename: "program.js" }); } catch (e) { emit('{"load":0' + error(e) + "}"); exit(0); return; }
  emit('{"load":1}');
  globalThis.__rlxf_s = slots;
  for (const [k, src, isAsync] of steps) {
    let v;
    try {
      v = run(isAsync ? "(async () => (" + src + "\n))()" : src, { filename: "test.js" });
      if (isAsync) v = await v;
    } catch (e) {
      emit('{"k":' + k + error(e) + "}");
      continue;
    }
    slots[k] = v;
    let out;
    try { out = '{"k":' + k + ',"v":' + enc(v) + "}"; }
    catch (e) { out = '{"k":' + k + ',"opaque":' + stringify(e instanceof Unplain ? e.message : "a value that could not be written out") + "}"; }
    emit(out);
  }
  emit('{"done":1}');
  exit(0);
})().catch(() => exit(70));
`;
