// `npm run bench:regex`: the engines for user-supplied regular expressions, side by side in one run.
//
// - native: V8's backtracking RegExp (the baseline of every ratio);
// - re2js: the pure-JavaScript RE2 port rlxf runs user patterns on (through `compilePattern`);
// - re2: the native RE2 binding, when it can be loaded (`npm i --no-save re2@1.23` builds it from
//   source on Node 20; later majors need Node 22; or point RLXF_BENCH_RE2 at an installed copy).
//
// Two workloads: the catastrophic pattern `^(a+)+$` on "aaa…a!" (native time doubles with each
// character; the RE2 engines stay linear), and a normal one: the shipped judge parsers' patterns on
// judge answers and a `\boxed{...}` verifier pattern on completions. Knobs: BENCH_N (normal-workload
// texts, default 20000), BENCH_EVIL_MAX (longest input given to the native engine, default 25).
//
// Why RE2JS: both RE2 engines are linear; the native binding is faster on huge texts but pays a
// conversion per call that makes it slower than RE2JS on judge-sized answers, and on Node 20 it must
// be compiled from source (1.23.x; no prebuilt download without network access, later majors refuse Node 20).
import { createRequire } from "node:module";
import { compilePattern } from "../dist/sources/regex.js";
import { DEFAULT_JUDGES } from "../dist/sources/index.js";

const N = Number(process.env.BENCH_N ?? 20000);
const EVIL_MAX = Number(process.env.BENCH_EVIL_MAX ?? 25);

async function loadRe2() {
  const require = createRequire(import.meta.url);
  for (const where of [process.env.RLXF_BENCH_RE2, "re2"].filter(Boolean)) {
    try {
      return require(where);
    } catch {
      // try the next place
    }
  }
  return undefined;
}
const RE2 = await loadRe2();

/** Each engine as `compile(source, flags) => {matchAll(text) => count, test(text) => boolean}`. */
const engines = {
  native: (src, flags) => {
    const re = new RegExp(src, flags);
    const g = new RegExp(src, `${flags}g`);
    return { test: (t) => re.test(t), count: (t) => [...t.matchAll(g)].length };
  },
  re2js: (src, flags) => {
    const re = compilePattern(src, flags);
    return { test: (t) => re.test(t), count: (t) => [...re.matchAll(t)].length };
  },
  ...(RE2
    ? {
        re2: (src, flags) => {
          const re = new RE2(src, flags);
          const g = new RE2(src, `${flags}g`);
          return { test: (t) => re.test(t), count: (t) => [...t.matchAll(g)].length };
        },
      }
    : {}),
};

const ms = (f) => {
  const t = performance.now();
  const v = f();
  return { ms: performance.now() - t, v };
};
const fmt = (x) => (x < 10 ? x.toFixed(3) : x.toFixed(1));

console.log(`node ${process.version}; engines: ${Object.keys(engines).join(", ")}${RE2 ? "" : " (re2 native binding not installed: see the header of this file)"}`);

// ---------------------------------------------------------- catastrophic ---
console.log("\ncatastrophic: ^(a+)+$ on 'a' x n + '!' (ms per test)");
const evil = "^(a+)+$";
const rows = [];
for (const n of [16, 18, 20, 22, EVIL_MAX]) {
  const text = `${"a".repeat(n)}!`;
  const row = { n };
  for (const [name, make] of Object.entries(engines)) row[name] = ms(() => make(evil, "").test(text)).ms;
  rows.push(row);
}
for (const n of [27, 1000, 100_000]) {
  const text = `${"a".repeat(n)}!`;
  const row = { n, native: n === 27 ? (2 ** (27 - EVIL_MAX)) * rows[rows.length - 1].native : Infinity };
  for (const [name, make] of Object.entries(engines)) if (name !== "native") row[name] = ms(() => make(evil, "").test(text)).ms;
  rows.push(row);
}
for (const r of rows) {
  const cells = Object.keys(engines).map((e) => `${e} ${r[e] === Infinity ? "(years)" : `${fmt(r[e])}${r.n > EVIL_MAX && e === "native" ? " (extrapolated)" : ""}`}`);
  console.log(`  n=${String(r.n).padStart(6)}  ${cells.join("  ")}`);
}
const at27 = rows.find((r) => r.n === 27);
for (const e of Object.keys(engines)) if (e !== "native") console.log(`  n=27: ${e} is ${fmt(at27.native / at27[e])}x faster than native`);

// ---------------------------------------------------------------- normal ---
const words = "the of and to in is that for it as with was on be by this are or from at an which have not has but".split(" ");
const prose = (seed, n) => Array.from({ length: n }, (_, i) => words[(seed * 7 + i * 13) % words.length]).join(" ");
const answers = Array.from({ length: N }, (_, i) => `${prose(i, 50)}. Output (${i % 2 ? "a" : "b"}) is better. Rating: [[${1 + (i % 10)}]] ${i % 3 ? "[[A]]" : "[[B]]"}`);
const completions = Array.from({ length: N }, (_, i) => `${prose(i, 300)} so the answer is $\\boxed{${i % 97}}$. ${prose(i + 1, 20)}`);
const judgePatterns = DEFAULT_JUDGES.flatMap((j) => (j.parser.type === "regex" ? Object.values(j.parser.patterns).map((p) => [p, j.parser.flags ?? "i"]) : []));

console.log(`\nnormal workload: ${judgePatterns.length} shipped judge patterns x ${N} answers (~${Math.round(answers[0].length)} chars), and \\boxed{...} on ${N} completions (~${completions[0].length} chars)`);
const results = {};
for (const [name, make] of Object.entries(engines)) {
  const compiled = judgePatterns.map(([p, f]) => make(p, f));
  const boxed = make("\\\\boxed\\{([^{}]*)\\}", "");
  // Warm up, then time.
  for (let i = 0; i < 200; i++) for (const c of compiled) c.count(answers[i]);
  const judge = ms(() => {
    let hits = 0;
    for (const a of answers) for (const c of compiled) hits += c.count(a);
    return hits;
  });
  const verify = ms(() => {
    let hits = 0;
    for (const t of completions) hits += boxed.count(t);
    return hits;
  });
  const compile = ms(() => {
    for (let i = 0; i < 1000; i++) make(`answer:\\s*(\\d+)|final ${i}`, "i");
  });
  results[name] = { judge, verify, compile };
}
const base = results.native;
for (const [name, r] of Object.entries(results)) {
  if (r.judge.v !== base.judge.v || r.verify.v !== base.verify.v) throw new Error(`${name} found ${r.judge.v}/${r.verify.v} matches, native ${base.judge.v}/${base.verify.v}`);
  console.log(
    `  ${name.padEnd(7)} judge answers ${Math.round(N / (r.judge.ms / 1000)).toLocaleString("en")}/s (${fmt(r.judge.ms / base.judge.ms)}x native time)` +
      `  completions ${Math.round(N / (r.verify.ms / 1000)).toLocaleString("en")}/s (${fmt(r.verify.ms / base.verify.ms)}x)` +
      `  compile ${fmt(r.compile.ms / 1000)} ms/pattern (${fmt(r.compile.ms / base.compile.ms)}x)`,
  );
}
