// `npm run bench:critics`: closed-loop critic evaluation of all 2,093 RealCritic solutions (../shared/data/realcritic,
// or $RLXF_DATA/realcritic) with scripted critics and actors on a local OpenAI-compatible server, in three settings:
// an always-"correct" critic, an oracle critic (self-critique) with an actor that answers the gold, and a critic that
// flags everything with an actor that changes every answer to a wrong one. Each setting's metrics are printed and
// compared with values computed here from the files' labels; its time is printed beside a baseline measured in the
// same run: the same number of bare chat requests to the same server at the same concurrency (the ratio is what
// critiquing, revising, verifying and bookkeeping cost on top of the model calls).
// Knobs: BENCH_CONCURRENCY (default 64), BENCH_LATENCY_MS (server latency, default 0), BENCH_ROUNDS (default 3).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { needData } from "./data.mjs";

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 0);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const dir = needData("realcritic");
// rlxf loads after the data check: without the data, the run stops at once, naming what is missing.
const { evaluateCritic, readSolutions } = await import("../dist/critics/index.js");
const { scriptedCriticResponder } = await import("../dist/critics/testing/index.js");
const { createModel } = await import("../dist/providers/index.js");
const { startFakeModelServer } = await import("../dist/providers/testing/index.js");
const { createVerifier } = await import("../dist/sources/verifiers/registry.js");
const files = readdirSync(dir).filter((f) => f.endsWith(".jsonl.gz")).sort().map((f) => join(dir, f));

// The labels straight from the files, per task.
const groups = new Map();
for (const f of files) {
  const task = f.split("/").at(-1).replace(".jsonl.gz", "");
  for (const line of gunzipSync(readFileSync(f)).toString("utf8").split("\n")) {
    if (!line.trim()) continue;
    const correct = JSON.parse(line).previous_score[0] === true;
    for (const k of [task, "all"]) {
      const g = groups.get(k) ?? { n: 0, correct: 0, wrong: 0 };
      g.n++;
      g[correct ? "correct" : "wrong"]++;
      groups.set(k, g);
    }
  }
}

const t0 = performance.now();
const { solutions } = await readSolutions(files);
const readSeconds = (performance.now() - t0) / 1000;
const problems = solutions.map((s) => ({ question: s.question, gold: s.gold, solution: s.solution, correct: s.correct, kind: s.kind }));
const USAGE = { critic: { inputTokens: 700, outputTokens: 120 }, actor: { inputTokens: 900, outputTokens: 250 } };
const PRICE = { inputPerMillion: 0.5, outputPerMillion: 1.5 };
const tokens = (c, a) => c * (USAGE.critic.inputTokens + USAGE.critic.outputTokens) + a * (USAGE.actor.inputTokens + USAGE.actor.outputTokens);

const server = await startFakeModelServer({ latencyMs: LATENCY_MS });

/** What each setting must give, from the labels and the script alone. */
const SETTINGS = [
  {
    name: "always-correct critic",
    critic: "always-pass",
    actor: "gold",
    self: false,
    expect: (e) => ({ verdictAccuracy: e.correct / e.n, balancedAccuracy: 0.5, f1: 0, accuracyAfter: e.correct / e.n, fixed: 0, broken: 0, criticCalls: e.n, actorCalls: 0, tokensPerFixed: null }),
  },
  {
    name: "oracle critic, fixing actor",
    critic: "oracle",
    actor: "gold",
    self: true,
    expect: (e) => ({ verdictAccuracy: 1, balancedAccuracy: 1, f1: 1, accuracyAfter: 1, fixed: e.wrong, broken: 0, criticCalls: e.n, actorCalls: e.wrong, tokensPerFixed: tokens(e.n, e.wrong) / e.wrong }),
  },
  {
    name: "flag-all critic, wrong-answer actor",
    critic: "flag-all",
    actor: "wrong",
    self: false,
    expect: (e) => ({ verdictAccuracy: e.wrong / e.n, balancedAccuracy: 0.5, f1: (2 * e.wrong) / (e.wrong + e.n), accuracyAfter: 0, fixed: 0, broken: e.correct, criticCalls: e.n, actorCalls: e.n, tokensPerFixed: null }),
  },
];

const close = (a, b) => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));
function mismatches(m, e) {
  const got = { verdictAccuracy: m.verdictAccuracy, balancedAccuracy: m.balancedAccuracy, f1: m.errorDetection.f1, accuracyAfter: m.accuracyAfter, fixed: m.fixed, broken: m.broken, criticCalls: m.calls.critic, actorCalls: m.calls.actor, tokensPerFixed: m.tokensPerFixed };
  return Object.keys(e).filter((k) => !close(got[k], e[k])).map((k) => `${k} ${got[k]} != ${e[k]}`);
}

async function evaluate(s) {
  server.respond = scriptedCriticResponder(problems, { critic: s.critic, actor: s.actor, usage: USAGE });
  const critic = createModel({ baseUrl: server.baseUrl, model: "critic", concurrency: CONCURRENCY, maxRetries: 0 });
  const actor = s.self ? critic : createModel({ baseUrl: server.baseUrl, model: "actor", concurrency: CONCURRENCY, maxRetries: 0 });
  try {
    const t = performance.now();
    const r = await evaluateCritic(solutions, { critic: { model: critic, self: s.self, pricing: PRICE }, actor: { model: actor, self: s.self, pricing: PRICE }, concurrency: CONCURRENCY });
    return { r, seconds: (performance.now() - t) / 1000 };
  } finally {
    await critic.close();
    if (actor !== critic) await actor.close();
  }
}

/** The baseline: `n` bare chat requests to the same server at the same concurrency. */
async function baseline(n) {
  server.respond = () => ({ text: '{"verdict": "pass"}', usage: USAGE.critic });
  const model = createModel({ baseUrl: server.baseUrl, model: "baseline", concurrency: CONCURRENCY, maxRetries: 0 });
  try {
    const t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) {
          const i = next++;
          await model.chat({ messages: [{ role: "user", content: `request ${i}` }], maxTokens: 16 });
        }
      }),
    );
    return (performance.now() - t) / 1000;
  } finally {
    await model.close();
  }
}

const pct = (x) => (x === null ? "  n/a" : `${(100 * x).toFixed(1)}`.padStart(5));
console.log(`critic benchmark: ${solutions.length} RealCritic solutions over ${groups.size - 1} tasks (read in ${readSeconds.toFixed(2)} s), concurrency ${CONCURRENCY}, server latency ${LATENCY_MS} ms, ${ROUNDS} rounds each`);
let failed = 0;
try {
  await evaluate(SETTINGS[0]); // warm-up
  for (const s of SETTINGS) {
    const runs = [];
    let last;
    for (let k = 0; k < ROUNDS; k++) {
      const { r, seconds } = await evaluate(s);
      last = r;
      const calls = r.overall.calls.critic + r.overall.calls.actor;
      const base = await baseline(calls);
      runs.push({ seconds, base, ratio: seconds / base, calls });
    }
    const bad = [["all", last.overall], ...last.tasks.map((t) => [t.task, t])].flatMap(([task, m]) => mismatches(m, s.expect(groups.get(task))).map((x) => `${task}: ${x}`));
    failed += bad.length;
    const ratios = runs.map((x) => x.ratio).sort((a, b) => a - b);
    const median = ratios[Math.floor(ratios.length / 2)];
    const o = last.overall;
    console.log(`\n${s.name} (${last.setting.label})`);
    console.log(`  task           n     verdict-acc balanced  F1     before  after  fixed broken tokens/fixed`);
    for (const [task, m] of [...last.tasks.map((t) => [t.task, t]), ["all", o]]) {
      console.log(
        `  ${task.padEnd(13)} ${String(m.solutions).padStart(4)}  ${pct(m.verdictAccuracy)}       ${pct(m.balancedAccuracy)}    ${m.errorDetection.f1 === null ? " n/a " : m.errorDetection.f1.toFixed(3)}  ${pct(m.accuracyBefore)}  ${pct(m.accuracyAfter)}  ${String(m.fixed).padStart(5)} ${String(m.broken).padStart(6)} ${m.tokensPerFixed === null ? "n/a" : m.tokensPerFixed.toFixed(1)}`,
      );
    }
    console.log(`  cost: $${o.costUsd.toFixed(4)}${o.costPerFixedUsd !== null ? ` ($${o.costPerFixedUsd.toFixed(6)} per fixed)` : ""}; ${o.calls.critic} critic + ${o.calls.actor} actor calls`);
    console.log(`  every metric equals the value computed from the labels: ${bad.length ? `NO\n    ${bad.join("\n    ")}` : "yes"}`);
    for (const [k, x] of runs.entries()) console.log(`  round ${k + 1}: ${x.seconds.toFixed(2)} s (${(solutions.length / x.seconds).toFixed(0)} solutions/s); baseline ${x.calls} bare requests ${x.base.toFixed(2)} s; ratio ${x.ratio.toFixed(2)}`);
    console.log(`  median ratio ${median.toFixed(2)}, best ${ratios[0].toFixed(2)} (evaluation time / time of as many bare requests)`);
  }
  const math = createVerifier("math");
  const rejected = [];
  for (const s of solutions) if (s.kind === "math" && !(await math.verify({ completion: s.gold, reference: s.gold })).passed) rejected.push(`${s.task}: ${s.gold.slice(0, 50)}`);
  console.log(`\nmath verifier alone, gold answer against itself: ${rejected.length} of ${solutions.filter((s) => s.kind === "math").length} rejected (the evaluation's answer check also accepts the same answer text)`);
  for (const r of rejected) console.log(`  ${r}`);
} finally {
  await server.close();
}
if (failed) process.exitCode = 1;
