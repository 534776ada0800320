import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
const key = readFileSync("/tmp/nd/key","utf8").trim();
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage();
page.on("response", r => r.url().includes("leaderboard") && console.log("RES", Date.now()%100000, r.url(), r.status()));
await page.goto(`http://127.0.0.1:8911/?key=${key}`);
await page.getByRole("heading", { name: "Annotation queues" }).waitFor();
await page.getByRole("link", { name: "Dashboard" }).click();
for (let i=0;i<8;i++){ console.log(Date.now()%100000, (await page.locator("main").innerText()).slice(0,250).replace(/\n/g," | ")); await page.waitForTimeout(400); }
await page.screenshot({path:"/tmp/nd/dash.png"});
await browser.close();
