/**
 * The annotation workflow in Chromium: a judge's verdict shown as a suggestion and kept or changed; an annotator
 * revising a submitted task and an admin adjudicating between annotators; searching items in Browse; and a
 * queue made from the pairs where judges disagree. What each flow stored is read back through the API.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLL, type TestServer, browserTestsEnabled, launchChromium, lowContrast, newPage, screenshot, startServer } from "./browser.js";

const enabled = browserTestsEnabled("web workflow");

async function loginWithLink(page: Page, server: TestServer, key: string): Promise<void> {
  await page.goto(`${server.url}/?key=${encodeURIComponent(key)}`);
  await page.getByRole("heading", { name: "Annotation queues" }).waitFor();
}

const annotateKey = async (server: TestServer, name: string) => (await server.store.keys.create({ project: "demo", role: "annotate", name })).secret;

describe.skipIf(!enabled)("web app: annotation workflow in Chromium", () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("suggestions: the judge's verdict is filled in; one annotator keeps it, another changes it; the queue page reports how often it was kept", async () => {
    const admin = await newPage(browser);
    await loginWithLink(admin.page, server, server.adminKey);
    await admin.page.getByRole("link", { name: "New queue" }).first().click();
    await admin.page.getByLabel("Name", { exact: true }).fill("Judged pairs");
    await admin.page.getByLabel("Only these items (ids, optional)").fill("capital");
    await admin.page.getByLabel("reference-gpt").check();
    await admin.page.getByLabel("helpful-7b").check();
    await admin.page.getByLabel("Suggested answer from").selectOption({ label: "judge demo-judge" });
    await admin.page.getByLabel("Annotators per task").fill("2");
    await admin.page.getByRole("button", { name: "Create queue" }).click();
    await admin.page.getByRole("heading", { name: "Judged pairs" }).waitFor();
    const queueId = decodeURIComponent(new URL(admin.page.url()).pathname.split("/")[2]!);
    const { body: q } = await server.api(`/v1/queues/${encodeURIComponent(queueId)}`);
    expect(q.queue.suggestions).toEqual([{ question: "pairwise-1", source: { type: "judge", id: "demo-judge" } }]);

    // The judge preferred helpful-7b (the longer answer that names Canberra and more).
    const answers: Record<string, string> = {};
    for (const [who, keep] of [
      ["una", true],
      ["vic", false],
    ] as const) {
      const { page, context } = await newPage(browser);
      await loginWithLink(page, server, await annotateKey(server, who));
      await page.goto(`${server.url}/queues/${encodeURIComponent(queueId)}/annotate`);
      await page.getByRole("heading", { name: "Prompt" }).waitFor();
      const outputs = await page.locator("[data-testid=outputs] article.output").allInnerTexts();
      const judged = outputs.findIndex((t) => t.length === Math.max(...outputs.map((o) => o.length)));
      const suggestion = page.locator("#q-0 [data-testid=suggestion]");
      await expect.poll(() => suggestion.innerText(), POLL).toContain(`Suggested by judge demo-judge: Response ${judged + 1} is better`);
      expect(await suggestion.innerText()).toContain("(kept)");
      // Filled in: the radio of the judged response is already checked.
      expect(await page.locator("#q-0 input[type=radio]:checked").getAttribute("value")).toBe(judged === 0 ? "first" : "second");
      if (!keep) {
        await page.keyboard.press(String(2 - judged));
        await expect.poll(() => suggestion.innerText(), POLL).toContain("(changed)");
        await suggestion.getByRole("button", { name: /Accept the suggestion/ }).waitFor();
        await screenshot(page, "suggestion-changed");
        expect(await lowContrast(page), "text under 4.5:1 on the annotation screen").toEqual([]);
      }
      answers[who] = (await page.locator("#q-0 input[type=radio]:checked").getAttribute("value"))!;
      await page.keyboard.press("Enter");
      await page.getByText("There are no more tasks for you in this queue.").waitFor();
      await context.close();
    }
    for (const [who, kept] of [
      ["una", true],
      ["vic", false],
    ] as const) {
      const { body } = await server.api(`/v1/feedback?sourceId=${who}&kind=pairwise`);
      expect(body.records).toHaveLength(1);
      expect(body.records[0].metadata.suggestion).toMatchObject({ source: { type: "judge", id: "demo-judge" }, accepted: kept });
      const preferred = body.records[0].targets[body.records[0].value.choice === "first" ? 0 : 1];
      expect(preferred).toBe(kept ? "capital/helpful-7b" : "capital/reference-gpt");
    }
    await admin.page.reload();
    await expect.poll(() => admin.page.getByTestId("suggestion-acceptance").innerText(), POLL).toContain("1 of 2 (50%)");
    await admin.context.close();
  });

  it("review and adjudication: an annotator revises a submitted task; an admin compares both annotators and records the label", async () => {
    const made = await server.api("/v1/queues", {
      body: { id: "adj", name: "To adjudicate", selection: { mode: "pairs", itemIds: ["boil"], policies: ["reference-gpt", "tiny-chat"] }, annotatorsPerItem: 2, questions: [{ id: "pref", kind: "pairwise", prompt: "Which is better?", allowTie: true }] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    // Rita picks the tiny-chat answer, Sam the reference one.
    const pages: Record<string, Page> = {};
    for (const [who, pick] of [
      ["rita", "tiny-chat"],
      ["sam", "reference-gpt"],
    ] as const) {
      const { page } = await newPage(browser);
      pages[who] = page;
      await loginWithLink(page, server, await annotateKey(server, who));
      await page.goto(`${server.url}/queues/adj/annotate`);
      await page.getByRole("heading", { name: "Prompt" }).waitFor();
      const outs = await page.locator("[data-testid=outputs] article.output").allInnerTexts();
      const gens = (await server.api("/v1/generations?itemId=boil")).body.records as { policy: string; output: string }[];
      const slot = outs.findIndex((t) => t.includes(gens.find((g) => g.policy === pick)!.output.slice(0, 10)));
      await page.keyboard.press(String(slot + 1));
      await page.keyboard.press("Enter");
      await page.getByText("There are no more tasks for you in this queue.").waitFor();
    }

    // Rita revisits her task from the link on the done screen and changes her mind to a tie.
    const rita = pages.rita!;
    await rita.getByRole("link", { name: "Review and revise the tasks you submitted" }).click();
    await rita.getByRole("heading", { name: "Your submitted tasks" }).waitFor();
    await rita.getByRole("link", { name: /Revise/ }).click();
    await rita.getByRole("heading", { name: /Revise your answers/ }).waitFor();
    const before = await rita.locator("#q-0 input[type=radio]:checked").getAttribute("value");
    expect(["first", "second"]).toContain(before);
    await rita.getByLabel("About the same").check();
    await rita.getByRole("button", { name: /Save revision/ }).click();
    await rita.getByRole("status").filter({ hasText: "saved" }).waitFor();
    expect(await rita.getByRole("table", { name: "Your submitted tasks" }).locator("tbody tr td").nth(1).innerText()).toBe("1");
    const { body: latest } = await server.api("/v1/feedback?sourceId=rita&latest=true");
    expect(latest.records.map((f: any) => [f.value.choice, f.metadata.revision])).toEqual([["tie", 1]]);

    // The admin compares both annotators on the task and settles on the reference answer.
    const admin = await newPage(browser);
    await loginWithLink(admin.page, server, server.adminKey);
    await admin.page.goto(`${server.url}/queues/adj`);
    await admin.page.getByRole("link", { name: /Compare and adjudicate/ }).first().click();
    const table = admin.page.getByTestId("annotator-answers");
    await table.waitFor();
    const rows = await table.locator("tbody tr").allInnerTexts();
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.startsWith("rita"))).toMatch(/revised 1×[\s\S]*tie/);
    expect(rows.find((r) => r.startsWith("sam"))).toMatch(/\(reference-gpt\) better/);
    await screenshot(admin.page, "adjudicate");
    expect(await lowContrast(admin.page), "text under 4.5:1 on the adjudication screen").toEqual([]);
    // The responses are in the task's order, named by policy.
    const headings = await admin.page.locator("article.output h2").allInnerTexts();
    const ref = headings.findIndex((h) => h.includes("reference-gpt"));
    await admin.page.getByLabel(`Response ${ref + 1} is better`).check();
    await admin.page.getByRole("button", { name: "Save the adjudicated label" }).click();
    await expect.poll(() => admin.page.getByTestId("adjudication").innerText(), POLL).toContain("(reference-gpt) better");
    const { body: human } = await server.api("/v1/feedback?latest=true&kind=pairwise&sourceType=human&itemId=boil");
    expect(human.records).toHaveLength(1);
    const adj = human.records[0];
    expect(adj.source.id).toBe("admin");
    expect(adj.metadata.adjudication).toBe(1);
    expect(adj.targets[adj.value.choice === "first" ? 0 : 1]).toBe("boil/reference-gpt");
    await admin.context.close();
    await rita.context().close();
    await pages.sam!.context().close();
  });

  it("search in Browse: text, feedback kind and value, metadata, disagreement", async () => {
    // A human disagreeing with the judge on one pair.
    const r = await server.api("/v1/feedback", { body: { batch: [{ kind: "pairwise", itemId: "prime", targets: ["prime/reference-gpt", "prime/tiny-chat"], source: { type: "human", id: "hugo" }, value: { choice: "second" }, metadata: { batch: "spot-check" } }] } });
    expect(r.status).toBeLessThan(300);
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, server.adminKey);
    await page.getByRole("link", { name: "Browse" }).click();
    const items = () => page.getByRole("navigation", { name: "Items" }).locator("li strong").allInnerTexts();
    await expect.poll(items, POLL).toHaveLength(6);
    const search = async (fill: Record<string, string>, select: Record<string, string> = {}) => {
      await page.getByRole("button", { name: "Clear" }).click();
      for (const [label, v] of Object.entries(fill)) await page.getByLabel(label, { exact: true }).fill(v);
      for (const [label, v] of Object.entries(select)) await page.getByLabel(label, { exact: true }).selectOption({ label: v });
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await page.getByTestId("search-status").waitFor();
    };
    await search({ Text: "canberra" });
    await expect.poll(items, POLL).toEqual(["capital"]);
    await search({ "Feedback value": "score<=2" }, { "Feedback kind": "rating" });
    await expect.poll(items, POLL).toEqual(["sort"]);
    await search({ Metadata: "batch=spot-check" });
    await expect.poll(items, POLL).toEqual(["prime"]);
    // The search is in the address: opening an item keeps it, and a reload (or a shared link) shows the same list.
    expect(new URL(page.url()).searchParams.get("metadata")).toBe("batch=spot-check");
    await page.getByRole("navigation", { name: "Items" }).getByRole("link").first().click();
    await expect.poll(() => new URL(page.url()).searchParams.get("item"), POLL).toBe("prime");
    expect(new URL(page.url()).searchParams.get("metadata")).toBe("batch=spot-check");
    await page.reload();
    await expect.poll(items, POLL).toEqual(["prime"]);
    expect(await page.getByLabel("Metadata", { exact: true }).inputValue()).toBe("batch=spot-check");
    await page.getByTestId("search-status").waitFor();
    await search({}, { Disagreement: "a human against a judge" });
    await expect.poll(items, POLL).toContain("prime");
    expect(await items()).not.toContain("haiku");
    await screenshot(page, "browse-search");
    // A bad value is named.
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("Feedback value", { exact: true }).fill("score~4");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").innerText(), POLL).toContain("value");
    await page.getByRole("button", { name: "Clear" }).click();
    await expect.poll(items, POLL).toHaveLength(6);
    await context.close();
  });

  it("a queue from the judges' router: the most contested pair comes first", async () => {
    // A second judge: against demo-judge on prime, with it on sort.
    const r = await server.api("/v1/feedback", {
      body: {
        batch: [
          { kind: "pairwise", itemId: "prime", targets: ["prime/reference-gpt", "prime/helpful-7b"], source: { type: "judge", id: "judge-two" }, value: { choice: "first" } },
          { kind: "pairwise", itemId: "sort", targets: ["sort/reference-gpt", "sort/tiny-chat"], source: { type: "judge", id: "judge-two" }, value: { choice: "first" } },
        ],
      },
    });
    expect(r.status).toBeLessThan(300);
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, server.adminKey);
    await page.getByRole("link", { name: "New queue" }).first().click();
    await page.getByLabel("At least this many judges per pair").fill("50");
    await page.getByRole("button", { name: "Create the queue from judge disagreements" }).click();
    await expect.poll(() => page.getByRole("alert").innerText(), POLL).toMatch(/minJudges/);
    await page.getByLabel("Queue name").fill("Contested");
    await page.getByLabel("At least this many judges per pair").fill("2");
    await page.getByLabel("How many pairs").fill("5");
    await page.getByLabel("Show a judge's verdict as a suggestion").check();
    await page.getByRole("button", { name: "Create the queue from judge disagreements" }).click();
    await page.getByRole("heading", { name: "Contested" }).waitFor();
    const queueId = decodeURIComponent(new URL(page.url()).pathname.split("/")[2]!);
    const { body } = await server.api(`/v1/queues/${encodeURIComponent(queueId)}/tasks`);
    expect(body.tasks.length).toBeGreaterThanOrEqual(1);
    expect(body.tasks[0].itemId).toBe("prime");
    const { body: q } = await server.api(`/v1/queues/${encodeURIComponent(queueId)}`);
    expect(q.queue.questions.map((x: { kind: string }) => x.kind)).toEqual(["pairwise"]);
    expect(q.queue.suggestions).toEqual([{ question: "preference", source: { type: "judge" } }]);
    await context.close();
  });
});
