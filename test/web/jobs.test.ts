/**
 * The Jobs page in Chromium: a running job's progress bar, cancel and retry from the page, failed units with
 * their errors retried from the page, and the lab run form starting a job; no serious or critical axe-core
 * violations; screenshots kept in test/artifacts/screens.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { POLL, type TestServer, axe, browserTestsEnabled, launchChromium, newPage, screenshot, serious, startServer } from "./browser.js";

const enabled = browserTestsEnabled("web jobs");

async function check(page: Page, name: string): Promise<void> {
  const violations = serious(await axe(page));
  expect(violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), `axe on ${name}`).toEqual([]);
  await screenshot(page, name);
}

const rows = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ instruction: `${tag} question ${i}`, output_1: `one ${i}`, output_2: `two ${i}` }));

describe.skipIf(!enabled)("web app: jobs", () => {
  let server: TestServer;
  let model: FakeServer;
  let browser: Browser;
  let page: Page;
  let slow = true;
  let broken = true;

  beforeAll(async () => {
    [server, browser, model] = await Promise.all([startServer(), launchChromium(), startFakeModelServer()]);
    model.respond = (r) => (broken && r.prompt.includes("bad question") ? "I would rather not say." : "m");
    model.latencyMs = (r) => (slow && r.prompt.includes("slow question") && r.index > 2 ? 1500 : 0);
    ({ page } = await newPage(browser));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await model?.close();
  });

  const badge = () => page.locator("h1 .badge");

  it("shows a running job's progress, cancels it and retries it from the page", async () => {
    const submitted = await server.api("/v1/jobs", {
      body: { kind: "judge", input: { judge: "pairwise", rows: rows(24, "slow"), order: "fixed", chunkSize: 8, concurrency: 1, model: { baseUrl: model.baseUrl, model: "fake", concurrency: 1, cache: false } } },
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    const id = submitted.body.job.id as string;

    await page.goto(`${server.url}/?key=${server.adminKey}`);
    await page.getByRole("link", { name: "Jobs", exact: true }).click();
    await page.getByRole("heading", { name: "Jobs" }).waitFor();
    const row = page.getByTestId(`job-${id}`);
    await row.waitFor();
    expect(await row.innerText()).toContain("judge");
    await expect.poll(async () => Number(await row.getByRole("progressbar").getAttribute("aria-valuenow")), POLL).toBeGreaterThan(0);
    await check(page, "jobs");

    await row.getByRole("link", { name: id.slice(0, 8) }).click();
    await page.getByRole("heading", { name: new RegExp(`judge job ${id.slice(0, 8)}`) }).waitFor();
    const bar = page.getByRole("progressbar");
    expect(await bar.getAttribute("aria-valuemax")).toBe("24");
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(async () => badge().innerText(), POLL).toBe("cancelled");
    const kept = Number(await bar.getAttribute("aria-valuenow"));
    expect(kept).toBeLessThan(24);

    slow = false;
    await page.getByRole("button", { name: "Retry" }).click();
    await expect.poll(async () => badge().innerText(), POLL).toBe("succeeded");
    expect(await bar.getAttribute("aria-valuenow")).toBe("24");
    expect(await page.getByTestId("job-summary").innerText()).toContain("3/3 tasks done");
    const job = (await server.api(`/v1/jobs/${id}`)).body.job;
    expect(job).toMatchObject({ state: "succeeded", retries: 1, progress: { done: 24, failed: 0 } });
    // The units' outcomes as a plot (every pair went to the first answer).
    const plot = page.getByRole("img", { name: "Units by outcome" });
    await plot.waitFor();
    expect(await plot.locator("desc").textContent()).toBe("first: 24");
    await check(page, "job");
  });

  it("lists failed units with their errors and retries only those", async () => {
    const submitted = await server.api("/v1/jobs", {
      body: { kind: "judge", input: { judge: "pairwise", rows: [...rows(3, "good"), ...rows(2, "bad")], order: "fixed", model: { baseUrl: model.baseUrl, model: "fake" } } },
    });
    const id = submitted.body.job.id as string;
    await page.goto(`${server.url}/jobs/${id}`);
    await expect.poll(async () => badge().innerText(), POLL).toBe("succeeded");
    const failed = page.getByRole("table", { name: "Failed units" });
    await failed.waitFor();
    const cells = await failed.locator("tbody tr").allInnerTexts();
    expect(cells).toHaveLength(2);
    for (const c of cells) expect(c).toMatch(/could not be parsed/);
    expect(await page.getByRole("heading", { name: "Failed units (2)" }).count()).toBe(1);
    await check(page, "job-failures");

    broken = false;
    await page.getByRole("button", { name: "Retry the 2 failed" }).click();
    await expect.poll(async () => page.getByRole("table", { name: "Failed units" }).count(), POLL).toBe(0);
    await expect.poll(async () => badge().innerText(), POLL).toBe("succeeded");
    expect((await server.api(`/v1/jobs/${id}`)).body.job.progress).toEqual({ done: 5, total: 5, failed: 0 });
  });

  it("starts a lab run from the Lab page as a job", async () => {
    await page.goto(`${server.url}/lab`);
    await page.getByRole("heading", { name: "Start a lab run" }).waitFor();
    await page.getByLabel("Annotations").fill("../outside");
    await page.getByRole("button", { name: "Start the run" }).click();
    // Names outside the workers' lab data directory are refused, naming the field.
    expect(await page.getByRole("alert").innerText()).toContain("input.paths.0");
    await page.getByLabel("Annotations").fill("annotations");
    await page.getByLabel("Save as").fill("from-the-web");
    await page.getByRole("button", { name: "Start the run" }).click();
    const link = page.getByRole("status").getByRole("link");
    await link.waitFor();
    const jobs = (await server.api("/v1/jobs?kind=lab-run")).body.jobs;
    expect(jobs).toHaveLength(1);
    expect(await link.getAttribute("href")).toBe(`/jobs/${jobs[0].id}`);
    expect((await server.api(`/v1/jobs/${jobs[0].id}`)).body.job.input).toMatchObject({ paths: ["annotations"], save: "from-the-web", methods: "best-of-n,dpo,ppo" });
    await server.api(`/v1/jobs/${jobs[0].id}/cancel`, { body: {} });
  });
});

