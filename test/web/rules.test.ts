/**
 * The Rules page in Chromium: rules with their counts filling in as the server's workers judge new traffic, the
 * counts as bars, disabling a rule from the page, adding one with the form (and a refusal naming the field);
 * no serious or critical axe-core violations; screenshots kept in test/artifacts/screens.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeServer, startFakeModelServer } from "../../src/providers/testing/index.js";
import { POLL, type TestServer, axe, browserTestsEnabled, launchChromium, newPage, screenshot, serious, startServer } from "./browser.js";

const enabled = browserTestsEnabled("web rules");

async function check(page: Page, name: string): Promise<void> {
  const violations = serious(await axe(page));
  expect(violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), `axe on ${name}`).toEqual([]);
  await screenshot(page, name);
}

describe.skipIf(!enabled)("web app: rules", () => {
  let server: TestServer;
  let model: FakeServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [server, browser, model] = await Promise.all([startServer(), launchChromium(), startFakeModelServer()]);
    model.respond = () => JSON.stringify({ summary: "fine", strengths: ["clear"], weaknesses: [], suggestions: [], verdict: "pass" });
    ({ page } = await newPage(browser));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await model?.close();
  });

  it("lists rules with counts that fill in as new traffic is judged, disables one, and adds one", async () => {
    const made = await server.api("/v1/rules", { body: { name: "critique live", judge: "critique", model: { baseUrl: model.baseUrl, model: "judge" }, filter: { metadata: { env: "live" } } } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const id = made.body.rule.id as string;
    const item = (await server.api("/v1/items", { body: { prompt: "How are rules shown?" } })).body.results[0].id as string;
    const gens = Array.from({ length: 3 }, (_, i) => ({ itemId: item, policy: "live-bot", output: `answer ${i}`, metadata: { env: i < 2 ? "live" : "test" } }));
    expect((await server.api("/v1/generations", { body: { batch: gens } })).status).toBe(201);

    await page.goto(`${server.url}/?key=${server.adminKey}`);
    await page.getByRole("link", { name: "Rules", exact: true }).click();
    await page.getByRole("heading", { name: "Rules" }).waitFor();
    const row = page.getByTestId(`rule-${id}`);
    await row.waitFor();
    expect(await row.innerText()).toContain("judge critique");
    expect(await row.innerText()).toContain("env=live");
    // The page refreshes while a backlog remains: the two matching outputs end up evaluated.
    const cells = () => row.locator("td");
    await expect.poll(async () => [await cells().nth(5).innerText(), await cells().nth(6).innerText(), await cells().nth(8).innerText()], POLL).toEqual(["2", "2", "0"]);
    const plot = page.getByRole("img", { name: "Evaluations by rule" });
    await plot.waitFor();
    expect(await plot.locator("desc").textContent()).toBe("critique live: 2 evaluated, 0 failed, 0 pending");
    await check(page, "rules");

    await row.getByRole("button", { name: "Disable critique live" }).click();
    await expect.poll(async () => (await server.api(`/v1/rules/${id}`)).body.rule.enabled, POLL).toBe(false);
    await row.getByRole("button", { name: "Enable critique live" }).waitFor();

    // A refusal names the field; a good rule appears in the list.
    await page.getByLabel("Name").fill("math answers");
    await page.getByLabel("Runs").selectOption("verifier");
    await page.getByLabel("Reward spec").fill("no-such-spec");
    await page.getByRole("button", { name: "Add rule" }).click();
    await expect.poll(async () => page.getByRole("alert").innerText(), POLL).toContain("no-such-spec");
    await page.getByLabel("Reward spec").fill("math");
    await page.getByLabel("Sample rate").fill("0.5");
    await page.getByRole("button", { name: "Add rule" }).click();
    await page.getByRole("cell", { name: "verifier math" }).waitFor();
    const rules = (await server.api("/v1/rules")).body.rules as { name: string; verifier?: string; sampleRate: number }[];
    expect(rules.map((r) => [r.name, r.verifier, r.sampleRate])).toEqual([
      ["critique live", undefined, 1],
      ["math answers", "math", 0.5],
    ]);
    await check(page, "rules-added");
  });
});
