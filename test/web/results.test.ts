/**
 * The lab and loop screens in Chromium: saved lab runs and sweeps and a stored loop run, plotted; the numbers on
 * the page agree with the API's; no serious or critical axe-core violations; screenshots kept in test/artifacts/screens.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoopReport } from "../../src/loops/index.js";
import { type SeededLab, hasLabData, seedLabResults, seedLoopRun } from "../support/results.js";
import { type TestServer, axe, browserTestsEnabled, launchChromium, newPage, screenshot, serious, startServer } from "./browser.js";

const enabled = browserTestsEnabled("web lab and loops") && hasLabData;
if (!hasLabData) console.warn("shared AlpacaEval annotations not found beside the checkout: skipping the lab screens");

async function check(page: Page, name: string): Promise<void> {
  const violations = serious(await axe(page));
  expect(violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), `axe on ${name}`).toEqual([]);
  await screenshot(page, name);
}

/** The rows of a plot's data table (under its <details>), as text cells. */
async function plotData(page: Page, title: string): Promise<string[][]> {
  const figure = page.locator("figure.plot", { has: page.getByRole("img", { name: title }) });
  await figure.locator("summary").click();
  return figure.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...(tr as any).children].map((c: any) => String(c.textContent).trim())));
}

describe.skipIf(!enabled)("web app: lab results and loop runs", () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let lab: SeededLab;
  let loop: LoopReport;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    lab = await seedLabResults(server.store, "demo");
    loop = await seedLoopRun(server.store, "demo");
    ({ page } = await newPage(browser));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("lists saved lab results", async () => {
    await page.goto(`${server.url}/?key=${server.adminKey}`);
    await page.getByRole("link", { name: "Lab", exact: true }).click();
    await page.getByRole("heading", { name: "Lab results" }).waitFor();
    const table = page.getByRole("table", { name: "Saved lab results" });
    expect(await table.locator("tbody th a").allInnerTexts()).toEqual(["small-sweep", "small-run"]);
    const best = lab.run.methods.filter((m) => m.method !== "initial").sort((a, b) => b.winRate - a.winRate)[0]!;
    expect(await table.locator("tbody tr").nth(1).innerText()).toContain(`${best.winRate.toFixed(1)}% (${best.method})`);
    await check(page, "lab");
  });

  it("plots a run: final win rates, curves over training with the proxy reward, best-of-n against n", async () => {
    await page.getByRole("link", { name: "small-run" }).click();
    await page.getByRole("heading", { name: "small-run" }).waitFor();
    for (const title of ["Test win rate against the reference (%)", "Gold win rate over training (%)", "KL to the reference policy (nats)", "Proxy reward over training", "Best-of-n: gold win rate against n (%)"]) {
      await page.getByRole("img", { name: title }).waitFor();
    }
    // The method table shows the run's numbers.
    const rows = await page.getByRole("table", { name: "Method table" }).locator("tbody tr").allInnerTexts();
    expect(rows.map((r) => r.split("\t")[0])).toEqual(["initial", "dpo", "ppo", "best-of-n"]);
    for (const m of lab.run.methods) {
      const row = rows.find((r) => r.startsWith(`${m.method}\t`))!;
      expect(row.split("\t")[1]).toBe(m.winRate.toFixed(2));
    }
    // The curve plot's data are the run's curves: one line per trained method (best-of-n apart), every step.
    const curve = await plotData(page, "Gold win rate over training (%)");
    const dpo = lab.run.methods.find((m) => m.method === "dpo")!;
    expect(curve.map((r) => r[0])).toEqual(dpo.curve.map((c) => String(c.step)));
    expect(curve.map((r) => r[1])).toEqual(dpo.curve.map((c) => c.winRate.toFixed(2)));
    expect(await page.locator("figure.plot", { has: page.getByRole("img", { name: "Gold win rate over training (%)" }) }).locator("[data-series]").count()).toBe(2);
    const bon = await plotData(page, "Best-of-n: gold win rate against n (%)");
    expect(bon.map((r) => r[0])).toEqual(["1", "2", "4", "8", "16"]);
    await check(page, "lab-run");
  });

  it("plots a sweep: win rate against noise and against label budget, means over seeds", async () => {
    await page.getByRole("link", { name: "← Lab results" }).click();
    await page.getByRole("link", { name: "small-sweep" }).click();
    await page.getByRole("heading", { name: "small-sweep" }).waitFor();
    const noise = await plotData(page, "Win rate against label noise, 200 labels (%)");
    expect(noise.map((r) => r[0])).toEqual(["0", "0.25"]);
    const mean = (p: number, m: string) => {
      const xs = lab.sweep.filter((r) => r.pFlip === p && r.labels === 200 && r.method === m).map((r) => r.winRate);
      return (xs.reduce((s, x) => s + x, 0) / xs.length).toFixed(2);
    };
    expect(noise).toEqual([
      ["0", mean(0, "dpo"), mean(0, "best-of-n")],
      ["0.25", mean(0.25, "dpo"), mean(0.25, "best-of-n")],
    ]);
    for (const p of [0, 0.25]) await page.getByRole("img", { name: `Win rate against label budget, p = ${p} (%)` }).waitFor();
    await check(page, "lab-sweep");
  });

  it("lists loop runs and plots one: accuracy per turn, stop reasons, metrics", async () => {
    await page.getByRole("link", { name: "Loops", exact: true }).click();
    await page.getByRole("heading", { name: "Loop runs" }).waitFor();
    const list = page.getByRole("table", { name: "Loop runs" });
    expect(await list.locator("tbody tr").first().innerText()).toContain("3 (75.0%)");
    await check(page, "loops");
    await page.getByRole("link", { name: loop.runId }).click();
    await page.getByRole("heading", { name: loop.runId }).waitFor();
    const acc = await plotData(page, "Accuracy per turn (%)");
    expect(acc).toEqual(loop.summary.accuracyPerTurn.map((a, t) => [String(t + 1), (100 * a).toFixed(1)]));
    expect(acc.map((r) => r[1])).toEqual(["25.0", "75.0", "75.0"]);
    const metrics = await page.getByRole("list", { name: "Run metrics" }).innerText();
    expect(metrics).toContain("solved (3 of 4 tasks)");
    expect(metrics).toContain("critique: wrong becomes correct (2/4)");
    const tasks = await page.getByRole("table", { name: "Tasks" }).locator("tbody tr").allInnerTexts();
    expect(tasks.find((t) => t.startsWith("hard"))).toMatch(/^hard\tno\t3\trounds/);
    await check(page, "loop-run");
  });

  it("is not shown to annotators", async () => {
    const key = (await server.store.keys.create({ project: "demo", role: "annotate", name: "ann-lab" })).secret;
    const { page: p, context } = await newPage(browser);
    await p.goto(`${server.url}/lab/small-run?key=${key}`);
    await p.getByRole("heading", { name: "Not found" }).waitFor();
    expect(await p.getByRole("link", { name: "Lab", exact: true }).count()).toBe(0);
    await context.close();
  });
});
