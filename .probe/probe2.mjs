import { createApp, listen } from "/work/wt-workflow/dist/server/index.js";
import { openStore } from "/work/wt-workflow/dist/store/index.js";
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
const store = await openStore({ path: ":memory:" });
const recs = readFileSync("/work/wt-workflow/examples/demo.jsonl","utf8").trim().split("\n").map(l=>JSON.parse(l));
await store.write({ items: recs.filter(r=>"prompt" in r).map(r=>({...r,project:"demo"})), generations: recs.filter(r=>"output" in r && !("kind" in r)).map(r=>({...r,project:"demo"})), feedback: recs.filter(r=>"kind" in r).map(r=>({...r,project:"demo"})) });
const app = createApp({ store, webRoot: "/work/wt-workflow/dist/web", log: () => {} });
const running = await listen(app, { port: 0, host: "127.0.0.1" });
const { secret } = await store.keys.create({ project: "demo", role: "admin", name: "admin" });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage();
page.on("request", r => r.url().includes("leaderboard") && console.log("REQ", Date.now()%100000, r.url()));
page.on("response", r => r.url().includes("leaderboard") && console.log("RES", Date.now()%100000, r.url(), r.status()));
await page.goto(`${running.url}/dashboard?key=${secret}`);
await page.getByRole("img", { name: /Bradley-Terry/ }).waitFor();
for (let i=0;i<10;i++){ console.log(Date.now()%100000, (await page.locator("#lb-title").locator("..").innerText()).slice(0,300).replace(/\n/g," | ")); await page.waitForTimeout(300); }
await browser.close(); await running.close(); await store.close();
