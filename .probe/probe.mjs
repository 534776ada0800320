import { createApp, listen } from "/work/wt-workflow/dist/server/index.js";
import { openStore } from "/work/wt-workflow/dist/store/index.js";
import { readFileSync } from "node:fs";
const store = await openStore({ path: ":memory:" });
const recs = readFileSync("/work/wt-workflow/examples/demo.jsonl","utf8").trim().split("\n").map(l=>JSON.parse(l));
await store.write({ items: recs.filter(r=>"prompt" in r).map(r=>({...r,project:"demo"})), generations: recs.filter(r=>"output" in r && !("kind" in r)).map(r=>({...r,project:"demo"})), feedback: recs.filter(r=>"kind" in r).map(r=>({...r,project:"demo"})) });
const app = createApp({ store, log: () => {} });
const { secret } = await store.keys.create({ project: "demo", role: "admin", name: "admin" });
for (const u of ["/v1/leaderboard?method=alpaca-eval", "/v1/leaderboard?method=bt&bootstrap=200&seed=0"]) {
  const r = await app.request(u, { headers: { Authorization: `Bearer ${secret}` } });
  console.log(u, r.status, JSON.stringify(await r.json()).slice(0, 1500));
}
await store.close();
