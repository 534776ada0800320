import { createApp } from "/work/wt-workflow/dist/server/index.js";
import { openStore } from "/work/wt-workflow/dist/store/index.js";
import { readFileSync } from "node:fs";
const store = await openStore({ path: ":memory:" });
const recs = readFileSync("/work/wt-workflow/examples/demo.jsonl","utf8").trim().split("\n").map(l=>JSON.parse(l));
const mode = process.argv[2];
let fb = recs.filter(r=>"kind" in r);
if (mode === "nojudge") fb = fb.filter(r => r.kind !== "pairwise");
await store.write({ items: recs.filter(r=>"prompt" in r).map(r=>({...r,project:"demo"})), generations: recs.filter(r=>"output" in r && !("kind" in r)).map(r=>({...r,project:"demo"})), feedback: fb.map(r=>({...r,project:"demo"})) });
const app = createApp({ store, log: () => {} });
const { secret } = await store.keys.create({ project: "demo", role: "admin", name: "admin" });
const H = { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" };
const call = async (m, u, b) => { const r = await app.request(u, { method: m, headers: H, ...(b ? { body: JSON.stringify(b) } : {}) }); const t = await r.text(); return [r.status, t ? JSON.parse(t) : undefined]; };
if (mode === "nojudge" || mode === "queue") {
  console.log(await call("POST", "/v1/queues", { id: "q", name: "q", selection: { mode: "pairs", policies: process.argv[3] ? process.argv[3].split(",") : undefined }, questions: [{ id: "p", kind: "pairwise", prompt: "?" }] }));
  const { secret: ann } = await store.keys.create({ project: "demo", role: "annotate", name: "ann" });
  for (let i = 0; ; i++) {
    const r = await app.request("/v1/queues/q/next", { method: "POST", headers: { Authorization: `Bearer ${ann}` } });
    const t = (await r.json()).task; if (!t) break;
    await app.request(`/v1/queues/q/tasks/${t.id}/submit`, { method: "POST", headers: { Authorization: `Bearer ${ann}`, "Content-Type": "application/json" }, body: JSON.stringify({ submissionId: "s" + i, answers: { p: { choice: i % 2 ? "first" : "second" } } }) });
  }
}
for (const u of ["/v1/leaderboard?method=alpaca-eval", "/v1/leaderboard?method=bt&bootstrap=200&seed=0"]) console.log(u, JSON.stringify(await call("GET", u)).slice(0, 700));
