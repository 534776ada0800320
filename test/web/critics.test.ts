/**
 * The Critics screens in Chromium: saved critic evaluations listed and plotted (accuracy before/after per task,
 * fixed vs broken, discriminability, accuracy per round); the numbers under each plot agree with the API's; no
 * serious or critical axe-core violations; screenshots kept in test/artifacts/screens.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SeededCritics, seedCriticResults } from "../support/critics.js";
import { POLL, type TestServer, axe, browserTestsEnabled, launchChromium, newPage, screenshot, serious, startServer } from "./browser.js";

const enabled = browserTestsEnabled("web critics");

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

describe.skipIf(!enabled)("web app: critic evaluations", () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let seeded: SeededCritics;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    seeded = await seedCriticResults(server.store, "demo");
    ({ page } = await newPage(browser));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("lists saved evaluations", async () => {
    await page.goto(`${server.url}/?key=${server.adminKey}`);
    await page.getByRole("link", { name: "Critics", exact: true }).click();
    await page.getByRole("heading", { name: "Critic evaluations" }).waitFor();
    const table = page.getByRole("table", { name: "Saved critic evaluations" });
    // The heading is drawn before the list arrives: wait for its rows.
    await expect.poll(() => table.locator("tbody th a").allInnerTexts(), POLL).toEqual(["oracle-cross", "iterative"]);
    const first = await table.locator("tbody tr").first().innerText();
    expect(first).toContain("cross-critique");
    expect(first).toContain("46.7% → 100.0%");
    expect(first).toContain("8 / 0");
    await check(page, "critics");
  });

  it("plots one: accuracy before and after per task, fixed and broken, discriminability, with the numbers", async () => {
    await page.getByRole("link", { name: "oracle-cross" }).click();
    await page.getByRole("heading", { name: "oracle-cross" }).waitFor();
    const { overall, tasks } = seeded.cross;
    const rows = [...tasks, { ...overall, task: "all" }];
    const acc = await plotData(page, "Accuracy before and after revision (%)");
    expect(acc).toEqual(rows.map((r) => [r.task, (100 * r.accuracyBefore).toFixed(1), (100 * r.accuracyAfter).toFixed(1)]));
    expect(acc.map((r) => r[0])).toEqual(["arc-challenge", "gsm8k", "math", "all"]);
    expect(acc.at(-1)).toEqual(["all", "46.7", "100.0"]);
    const fixed = await plotData(page, "Solutions fixed and broken");
    expect(fixed).toEqual([
      ["arc-challenge", "3", "0"],
      ["gsm8k", "2", "0"],
      ["math", "3", "0"],
      ["all", "8", "0"],
    ]);
    const dis = await plotData(page, "Discriminability (%)");
    expect(dis.every((r) => r.slice(1).every((c) => c === "100.0"))).toBe(true);
    // Bars drawn: two series of four bars, three of four.
    const bars = (title: string) => page.locator("figure.plot", { has: page.getByRole("img", { name: title }) }).locator("rect[data-series]").count();
    expect(await bars("Accuracy before and after revision (%)")).toBe(8);
    expect(await bars("Discriminability (%)")).toBe(12);
    const metrics = await page.getByRole("table", { name: "Metrics per task" }).locator("tbody tr").allInnerTexts();
    expect(metrics.map((m) => m.split("\t")[0])).toEqual(["arc-challenge", "gsm8k", "math", "all"]);
    expect(metrics.at(-1)!.split("\t").slice(0, 7)).toEqual(["all", "15", "46.7%", "100.0%", "53.3%", "8", "0"]);
    expect(await page.getByRole("list", { name: "Evaluation summary" }).innerText()).toContain("critic critic-7b (solution-critique), actor critic-7b");
    expect(await page.getByRole("img", { name: "Accuracy per round (%)" }).count()).toBe(0);
    await check(page, "critic-result");
  });

  it("plots iterative critique round by round", async () => {
    await page.getByRole("link", { name: "← Critic evaluations" }).click();
    await page.getByRole("link", { name: "iterative" }).click();
    await page.getByRole("heading", { name: "iterative" }).waitFor();
    const rounds = await plotData(page, "Accuracy per round (%)");
    const { overall, tasks } = seeded.iterative;
    expect(rounds.map((r) => r[0])).toEqual(["0", "1", "2", "3"]);
    expect(rounds.map((r) => r.at(-1))).toEqual(overall.accuracyPerRound.map((a) => (100 * a).toFixed(1)));
    expect(rounds.map((r) => r.at(-1))).toEqual(["46.7", "46.7", "100.0", "100.0"]);
    expect(rounds[0]!.slice(1, -1)).toEqual(tasks.map((t) => (100 * t.accuracyBefore).toFixed(1)));
    await check(page, "critic-iterative");
  });

  it("is not shown to annotators", async () => {
    const key = (await server.store.keys.create({ project: "demo", role: "annotate", name: "ann-critics" })).secret;
    const { page: p, context } = await newPage(browser);
    await p.goto(`${server.url}/critics/oracle-cross?key=${key}`);
    await p.getByRole("heading", { name: "Not found" }).waitFor();
    expect(await p.getByRole("link", { name: "Critics", exact: true }).count()).toBe(0);
    await context.close();
  });
});
