/**
 * The web app's traps, in Chromium: the new-queue form's question follows the task shape, every button and label
 * is readable (WCAG contrast, computed here: axe does not see a link-styled button drawn on a fill of its own
 * colour), a submission is not followed by a spurious draft error, the dashboard's two leaderboards read the same
 * comparisons, rubric and correction keys do what they say, pair tasks ask a per-response question once with the
 * responses in view, and no screen is wider than a 390 px phone.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLL, type TestServer, browserTestsEnabled, horizontalOverflow, launchChromium, lowContrast, newPage, requestsSettled, screenshot, startServer } from "./browser.js";

const enabled = browserTestsEnabled("web traps");

async function loginWithLink(page: Page, server: TestServer, key: string): Promise<void> {
  await page.goto(`${server.url}/?key=${encodeURIComponent(key)}`);
  await page.getByRole("heading", { name: "Annotation queues" }).waitFor();
}

const annotateKey = async (server: TestServer, name: string, project = "demo") => (await server.store.keys.create({ project, role: "annotate", name })).secret;

async function expectReadable(page: Page, where: string): Promise<void> {
  const low = await lowContrast(page);
  expect(low, `${where}: text under 4.5:1 against its background`).toEqual([]);
}

describe.skipIf(!enabled)("web app traps in Chromium", () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("New queue: choosing single outputs switches the default question, so Create works; an edited pairwise question is caught before sending", async () => {
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, server.adminKey);
    await page.getByRole("link", { name: "New queue" }).first().click();
    await page.getByLabel("Name", { exact: true }).fill("Single ratings");
    await expect.poll(() => page.locator("fieldset.question-editor legend").allInnerTexts(), POLL).toEqual(["Question 1: Pairwise preference"]);
    await page.getByLabel("Single outputs").check();
    await expect.poll(() => page.locator("fieldset.question-editor legend").allInnerTexts(), POLL).toEqual(["Question 1: Rating on a scale"]);
    await page.getByLabel("All outputs of an item (to rank)").check();
    await expect.poll(() => page.locator("fieldset.question-editor legend").allInnerTexts(), POLL).toEqual(["Question 1: Ranking"]);
    await page.getByLabel("Single outputs").check();
    await page.getByLabel("Only these items (ids, optional)").fill("boil");
    await page.getByRole("button", { name: "Create queue" }).click();
    await page.getByRole("heading", { name: "Single ratings" }).waitFor();
    const id = decodeURIComponent(new URL(page.url()).pathname.split("/")[2]!);
    const { body } = await server.api(`/v1/queues/${encodeURIComponent(id)}`);
    expect(body.queue.selection.mode).toBe("generations");
    expect(body.queue.questions.map((q: { kind: string }) => q.kind)).toEqual(["rating"]);

    // Once the questions are the admin's own, the shape no longer replaces them; a misfit is named before sending.
    await page.getByRole("link", { name: "New queue" }).first().click();
    await page.getByLabel("Name", { exact: true }).fill("Misfit");
    await page.getByLabel("Question", { exact: true }).fill("Which one reads better?");
    await page.getByLabel("Single outputs").check();
    await expect.poll(() => page.locator("fieldset.question-editor legend").allInnerTexts(), POLL).toEqual(["Question 1: Pairwise preference"]);
    let posted = 0;
    page.on("request", (r) => r.method() === "POST" && new URL(r.url()).pathname === "/v1/queues" && posted++);
    await page.getByRole("button", { name: "Create queue" }).click();
    await expect.poll(() => page.getByRole("alert").innerText(), POLL).toContain("Question 1 (Pairwise preference) compares outputs");
    expect(posted).toBe(0);
    await context.close();
  });

  it("every visible button and label has 4.5:1 contrast, the Remove buttons included", async () => {
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, server.adminKey);
    await expectReadable(page, "queues");
    await page.getByRole("link", { name: "New queue" }).first().click();
    await page.getByLabel("Add a question").selectOption({ label: "Rubric / checklist" });
    await page.getByRole("button", { name: "Add", exact: true }).click();
    const remove = page.getByRole("button", { name: "Remove question 1" });
    await remove.waitFor();
    await screenshot(page, "new-queue-remove-buttons");
    await expectReadable(page, "new queue");
    for (const path of ["/dashboard", "/browse?item=capital", "/lab", "/loops", "/critics"]) {
      await page.goto(server.url + path);
      await page.locator("main h1").first().waitFor();
      await expectReadable(page, path);
    }
    await context.close();
  });

  it("a submit cancels the pending draft save, and a save refused after it (409) says nothing", async () => {
    const made = await server.api("/v1/queues", {
      body: { id: "late-draft", name: "Late draft", selection: { mode: "generations", itemIds: ["prime"], policies: ["tiny-chat", "helpful-7b"] }, questions: [{ id: "ok", kind: "binary", prompt: "Is it right?" }] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, await annotateKey(server, "lena"));
    // Once a submission is answered, the next task is held back 1.5 s: longer than the 0.6 s draft delay, so a
    // draft save left pending by the submission goes out, for a task already submitted.
    let submitted = false;
    const draftStatuses: number[] = [];
    page.on("response", (r) => {
      if (r.request().method() === "POST" && r.url().endsWith("/submit")) submitted = true;
      if (r.request().method() === "PUT" && r.url().endsWith("/draft")) draftStatuses.push(r.status());
    });
    await page.route("**/v1/queues/late-draft/next", async (route) => {
      if (submitted) await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.goto(`${server.url}/queues/late-draft/annotate`);
    await page.getByRole("heading", { name: "Prompt" }).waitFor();
    const firstTask = await page.locator("h1 + p code").innerText();
    // Answer and submit at once: the draft save is still pending.
    await page.keyboard.press("y");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("h1 + p code").innerText(), POLL).not.toBe(firstTask);
    const status = await page.getByTestId("annotate-status").innerText();
    expect(status).toContain("Submitted");
    expect(status).not.toContain("could not be reached");
    expect(draftStatuses.filter((s) => s === 409)).toEqual([]);

    // A save the server refuses all the same (the task submitted from another tab) stays quiet too.
    await page.route("**/v1/queues/late-draft/tasks/*/draft", (route) => route.fulfill({ status: 409, contentType: "application/json", body: JSON.stringify({ error: { code: "conflict", message: "task already submitted" } }) }));
    const refused = page.waitForResponse((r) => r.url().endsWith("/draft") && r.status() === 409);
    await page.keyboard.press("n");
    await refused;
    await page.waitForTimeout(300);
    expect(await page.getByTestId("annotate-status").innerText()).not.toMatch(/could not be reached|Draft kept/);
    await context.close();
  });

  it("the dashboard's win rates and Bradley-Terry plot read the same comparisons, against the baseline the menu shows", async () => {
    // A project with rankings and ratings only (no pairwise verdicts): both panels have data.
    const { secret: admin } = await server.store.keys.create({ project: "ranked", role: "admin", name: "root" });
    const items = ["a", "b", "c"].map((id) => ({ id, prompt: `prompt ${id}` }));
    const generations = items.flatMap((it) => ["m1", "m2", "m3"].map((p) => ({ id: `${it.id}/${p}`, itemId: it.id, policy: p, output: `${p} says ${it.id}` })));
    const feedback = items.map((it) => ({ kind: "ranking", targets: ["m1", "m2", "m3"].map((p) => `${it.id}/${p}`), source: { type: "human", id: "ann" }, value: { ranks: [1, 2, 3] } }));
    for (const [path, batch] of [
      ["/v1/items", items],
      ["/v1/generations", generations],
      ["/v1/feedback", feedback],
    ] as const)
      expect((await server.api(path, { key: admin, body: { batch } })).status).toBeLessThan(300);
    const { page, context } = await newPage(browser);
    await page.goto(`${server.url}/dashboard?key=${admin}`);
    await page.getByRole("img", { name: /Bradley-Terry/ }).waitFor();
    await page.getByRole("img", { name: /^Win rate against/ }).waitFor();
    const baseline = await page.getByLabel("Baseline").inputValue();
    expect(baseline).not.toBe("");
    await page.getByRole("img", { name: new RegExp(`^Win rate against ${baseline} `) }).waitFor();
    expect(await page.locator("main").innerText()).not.toMatch(/No (pairwise feedback|comparisons) against/);
    // Another baseline: the plot follows it.
    const other = (await page.getByLabel("Baseline").locator("option").allInnerTexts()).find((m) => m !== baseline)!;
    await page.getByLabel("Baseline").selectOption(other);
    await page.getByRole("img", { name: new RegExp(`^Win rate against ${other} `) }).waitFor();
    await context.close();
  });

  it("rubric keys do what the label says; correction has a key for 'no change needed'", async () => {
    const made = await server.api("/v1/queues", {
      body: {
        id: "keys-q",
        name: "Keys",
        selection: { mode: "generations", itemIds: ["capital"], policies: ["tiny-chat"] },
        questions: [
          { id: "rub", kind: "rubric", prompt: "Check", criteria: [{ id: "correct", description: "Correct" }, { id: "short", description: "Short" }] },
          { id: "fix", kind: "correction", prompt: "Fix it" },
        ],
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, await annotateKey(server, "kim"));
    await page.goto(`${server.url}/queues/keys-q/annotate`);
    await page.getByRole("heading", { name: "Prompt" }).waitFor();
    const label = await page.locator("#q-0 .keys").innerText();
    // The label tells what a number key does, and it does it: 1 marks criterion 1 met, 1 again not met; 2 is criterion 2.
    expect(label).toMatch(/number marks it met; the same number again marks it not met/);
    expect(label).not.toMatch(/met \/ not met/);
    await page.keyboard.press("1");
    await expect.poll(() => page.getByLabel("Correct: met").isChecked(), POLL).toBe(true);
    await page.keyboard.press("1");
    await expect.poll(() => page.getByLabel("Correct: not met").isChecked(), POLL).toBe(true);
    await page.keyboard.press("2");
    await expect.poll(() => page.getByLabel("Short: met").isChecked(), POLL).toBe(true);
    expect(await page.getByLabel("Correct: not met").isChecked()).toBe(true);
    // Correction: `u` keeps the response as it is.
    await page.keyboard.press("ArrowDown");
    expect(await page.locator("#q-1 .keys").innerText()).toContain("no change needed");
    await page.keyboard.press("u");
    await page.getByText("Marked as needing no change.").waitFor();
    await page.keyboard.press("Enter");
    await page.getByText("There are no more tasks for you in this queue.").waitFor();
    const { body } = await server.api("/v1/feedback?sourceId=kim&limit=10");
    const byKind = Object.fromEntries(body.records.map((f: { kind: string }) => [f.kind, f]));
    expect(byKind.correction.value.output).toBe("Sydney.");
    expect(byKind.rubric.value.criteria).toEqual([
      { name: "correct", passed: false },
      { name: "short", passed: true },
    ]);
    await context.close();
  });

  it("a pair task asks each per-response question once, a column per response, with the responses in view", async () => {
    const made = await server.api("/v1/queues", {
      body: {
        id: "pair-q",
        name: "Pairs",
        selection: { mode: "pairs", itemIds: ["email"], policies: ["reference-gpt", "helpful-7b"] },
        questions: [
          { id: "pref", kind: "pairwise", prompt: "Which is better?" },
          { id: "stars", kind: "rating", prompt: "How good is this response?", min: 1, max: 5 },
          { id: "ok", kind: "binary", prompt: "Is it polite?" },
          { id: "why", kind: "critique", prompt: "What is wrong with it?", required: false },
        ],
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, await annotateKey(server, "pia"));
    await page.goto(`${server.url}/queues/pair-q/annotate`);
    await page.getByRole("heading", { name: "Prompt" }).waitFor();
    for (const prompt of ["How good is this response?", "Is it polite?", "What is wrong with it?"]) {
      expect(await page.getByText(prompt, { exact: true }).count(), prompt).toBe(1);
      const group = page.getByTestId("question-group").filter({ hasText: prompt });
      expect(await group.locator("fieldset.question legend").allInnerTexts()).toEqual([expect.stringContaining("Response 1"), expect.stringContaining("Response 2")]);
    }
    // The columns sit under the responses they are about.
    const outs = await page.locator("[data-testid=outputs] article.output").evaluateAll((els) => els.map((e: any) => e.getBoundingClientRect().left));
    const cols = await page.getByTestId("question-group").first().locator("fieldset.question").evaluateAll((els) => els.map((e: any) => e.getBoundingClientRect().left));
    expect(cols[0]).toBeLessThan(cols[1]!);
    expect(outs[0]).toBeLessThan(outs[1]!);
    // At the last question, both responses are still on screen.
    await page.getByTestId("question-group").last().locator("textarea").first().scrollIntoViewIfNeeded();
    await page.evaluate(() => (globalThis as any).window.scrollTo(0, (globalThis as any).document.documentElement.scrollHeight));
    const visible = await page.locator("[data-testid=outputs] article.output").evaluateAll((els) => {
      const h = (globalThis as any).window.innerHeight;
      return els.map((e: any) => {
        const r = e.getBoundingClientRect();
        return r.top >= 0 && r.top < h && r.bottom > 0;
      });
    });
    expect(await page.evaluate(() => (globalThis as any).window.scrollY)).toBeGreaterThan(0);
    expect(visible).toEqual([true, true]);
    await screenshot(page, "pair-task-pinned");
    await expectReadable(page, "annotate a pair");
    // Keyboard: 1 for the preference, then the two ratings, one per column.
    await page.keyboard.press("1");
    await page.keyboard.press("4");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("2");
    await expect.poll(() => page.locator("#q-1-0 input:checked").count(), POLL).toBe(1);
    expect(await page.locator("#q-1-1 input:checked").count()).toBe(1);
    await context.close();
  });

  it("no screen is wider than a 390 px phone", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, reducedMotion: "reduce" });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const settled = requestsSettled(page);
    await loginWithLink(page, server, server.adminKey);
    for (const path of ["/", "/queues/new", "/dashboard", "/browse?item=email", "/queues/pair-q", "/queues/pair-q/annotate", "/lab", "/loops", "/critics"]) {
      await page.goto(server.url + path);
      await page.locator("main h1").first().waitFor();
      // Late content (plots, tables) first.
      await settled();
      const { overflow, culprits } = await horizontalOverflow(page);
      expect(overflow, `${path} overflows by ${overflow}px: ${culprits.join(", ")}`).toBe(0);
      expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth <= (globalThis as any).document.documentElement.clientWidth)).toBe(true);
    }
    await screenshot(page, "phone-390");
    await context.close();
  });
});
