/**
 * End to end in a real browser: an admin creates a queue in the web app, an annotator works it
 * from the keyboard (pairwise choice, a highlighted span, a correction), drafts survive a reload,
 * a submission whose answer is lost is retried without a duplicate, and an annotator sees no
 * other project's or other queue's items. The stored feedback is read back through the API.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLL, type TestServer, browserTestsEnabled, launchChromium, newPage, screenshot, seed, startServer } from "./browser.js";

const enabled = browserTestsEnabled("web annotate");

async function loginWithLink(page: Page, server: TestServer, key: string): Promise<void> {
  await page.goto(`${server.url}/?key=${encodeURIComponent(key)}`);
  await page.getByRole("heading", { name: "Annotation queues" }).waitFor();
  // The key leaves the address bar at once.
  expect(new URL(page.url()).searchParams.has("key")).toBe(false);
}

async function annotateKey(server: TestServer, name: string, project = "demo"): Promise<string> {
  return (await server.store.keys.create({ project, role: "annotate", name })).secret;
}

/** Selects `text` inside the element `selector`, as a mouse drag would. */
async function selectText(page: Page, selector: string, text: string): Promise<void> {
  await page.evaluate(
    async ([sel, t]) => {
      const g = globalThis as any; // the page's window (this file is type-checked without the DOM library)
      const root = g.document.querySelector(sel!);
      const walker = g.document.createTreeWalker(root, g.NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const at = n.textContent!.indexOf(t!);
        if (at < 0) continue;
        const range = g.document.createRange();
        range.setStart(n, at);
        range.setEnd(n, at + t!.length);
        const s = g.getSelection();
        s.removeAllRanges();
        // Resolved by selectionchange, after the app's own listener (registered earlier) has seen it.
        await new Promise((r) => {
          g.document.addEventListener("selectionchange", r, { once: true });
          s.addRange(range);
        });
        return;
      }
      throw new Error(`"${t}" not found in ${sel}`);
    },
    [selector, text],
  );
}

describe.skipIf(!enabled)("web app: queues and annotation in Chromium", () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("an admin creates a queue; an annotator picks by keyboard, highlights a span, corrects; drafts survive a reload; the API returns the feedback", async () => {
    // --- the admin builds the queue in the form ---
    const admin = await newPage(browser);
    await admin.page.goto(server.url);
    await admin.page.getByLabel("API key").fill(server.adminKey);
    await admin.page.getByRole("button", { name: "Log in" }).click();
    await admin.page.getByRole("link", { name: "New queue" }).first().click();
    await admin.page.getByLabel("Name", { exact: true }).fill("Capital check");
    await admin.page.getByLabel("Only these items (ids, optional)").fill("capital");
    await admin.page.getByLabel("reference-gpt").check();
    await admin.page.getByLabel("tiny-chat").check();
    await expect.poll(() => admin.page.getByTestId("match-count").innerText(), POLL).toContain("About 1 pairs");
    for (const kind of ["Highlight spans", "Correction"]) {
      await admin.page.getByLabel("Add a question").selectOption({ label: kind });
      await admin.page.getByRole("button", { name: "Add", exact: true }).click();
    }
    // Span and correction are asked of each shown response; make them optional.
    for (const n of [2, 3]) await admin.page.locator("fieldset.question-editor", { hasText: `Question ${n}:` }).getByLabel("Required").uncheck();
    await admin.page.getByRole("button", { name: "Create queue" }).click();
    await admin.page.getByRole("heading", { name: "Capital check" }).waitFor();
    const queueId = decodeURIComponent(new URL(admin.page.url()).pathname.split("/")[2]!);

    const { body: created } = await server.api(`/v1/queues/${queueId}`);
    expect(created.queue.questions.map((q: { kind: string }) => q.kind)).toEqual(["pairwise", "span", "correction"]);
    expect(created.queue.questions[1].required).toBe(false);
    expect(created.queue.progress.tasks).toBe(1);

    // --- the annotator, logged in by link ---
    const key = await annotateKey(server, "wendy");
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, key);
    await page.getByRole("link", { name: "Start annotating" }).click();
    await page.getByRole("heading", { name: "Prompt" }).waitFor();
    const outputs = await page.locator("article.output").allInnerTexts();
    expect(outputs).toHaveLength(2);
    const good = outputs.findIndex((t) => t.includes("Canberra"));
    const bad = 1 - good;
    expect(outputs[bad]).toContain("Sydney.");

    // Pairwise by keyboard: the number of the response shown with Canberra.
    await page.keyboard.press(String(good + 1));
    await expect.poll(() => page.locator("#q-0 input[type=radio]:checked").getAttribute("value"), POLL).toBe(good === 0 ? "first" : "second");
    // The choice moved the focus to the span question of response 1; go to the Sydney one.
    if (bad === 1) await page.keyboard.press("ArrowDown");
    await expect.poll(() => page.locator("fieldset.question.active").getAttribute("id"), POLL).toBe(`q-1-${bad}`);
    await selectText(page, `#q-1-${bad}-text`, "Sydney");
    await page.keyboard.press("1"); // the first label, "error"
    await expect.poll(() => page.locator(`#q-1-${bad}-text mark`).allInnerTexts(), POLL).toEqual(["Sydney"]);

    // Correction: down to the correction of the same response, `e` to edit.
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    await expect.poll(() => page.locator("fieldset.question.active").getAttribute("id"), POLL).toBe(`q-2-${bad}`);
    await page.keyboard.press("e");
    const editor = page.locator(`#q-2-${bad}-output`);
    await expect.poll(() => editor.evaluate((el) => el === (globalThis as any).document.activeElement), POLL).toBe(true);
    await page.keyboard.press("Control+A");
    await page.keyboard.type("Canberra.");
    await page.keyboard.press("Escape");
    const diff = page.locator(`#q-2-${bad} [data-testid=correction-diff]`);
    expect(await diff.locator("ins").allTextContents()).toEqual(["[added: Canberra]"]);
    expect(await diff.locator("del").allTextContents()).toEqual(["[removed: Sydney]"]);
    await screenshot(page, "annotate-pairwise");

    // Drafts survive a reload, from the server alone (this browser's copy is cleared first).
    await expect.poll(() => page.getByTestId("annotate-status").innerText(), POLL).toBe("Draft saved");
    await page.evaluate(() => {
      const storage = (globalThis as any).localStorage;
      for (const k of Object.keys(storage)) if (k.startsWith("rlxf.draft.")) storage.removeItem(k);
    });
    await page.reload();
    await page.getByRole("heading", { name: "Prompt" }).waitFor();
    expect(await page.locator("#q-0 input[type=radio]:checked").getAttribute("value")).toBe(good === 0 ? "first" : "second");
    expect(await page.locator(`#q-1-${bad}-text mark`).allInnerTexts()).toEqual(["Sydney"]);
    expect(await page.locator(`#q-2-${bad}-output`).inputValue()).toBe("Canberra.");

    await page.keyboard.press("Enter");
    await page.getByText("There are no more tasks for you in this queue.").waitFor();

    // --- what was stored ---
    const { body: fb } = await server.api(`/v1/feedback?sourceId=wendy&limit=100`);
    const byKind = Object.fromEntries(fb.records.map((f: { kind: string }) => [f.kind, f]));
    expect(Object.keys(byKind).sort()).toEqual(["correction", "pairwise", "spans"]);
    const pw = byKind.pairwise;
    expect(pw.source).toEqual({ type: "human", id: "wendy" });
    expect([...pw.targets].sort()).toEqual(["capital/reference-gpt", "capital/tiny-chat"]);
    expect(pw.value.choice).toBe(pw.targets[0] === "capital/reference-gpt" ? "first" : "second");
    // The order shown to this annotator is recorded with the record.
    expect(pw.metadata.shownOrder[good]).toBe("capital/reference-gpt");
    expect(pw.metadata.shownOrder[bad]).toBe("capital/tiny-chat");
    expect(byKind.spans.targets).toEqual(["capital/tiny-chat"]);
    expect(byKind.spans.value.spans).toEqual([{ start: 0, end: 6, label: "error" }]);
    expect(byKind.correction.targets).toEqual(["capital/tiny-chat"]);
    expect(byKind.correction.value.output).toBe("Canberra.");

    // The queue's page now shows the work done.
    await admin.page.getByRole("button", { name: "Refresh" }).click();
    await admin.page.getByText("1/1 tasks done").waitFor();
    await context.close();
    await admin.context.close();
  });

  it("a submission whose answer is lost is sent again with the same id and stored once", async () => {
    const { status, body } = await server.api("/v1/queues", {
      body: {
        id: "retry-q",
        name: "Boiling point",
        selection: { mode: "generations", itemIds: ["boil"], policies: ["tiny-chat"] },
        questions: [{ id: "quality", kind: "rating", prompt: "How good is it?", min: 1, max: 5 }],
      },
    });
    expect(status, JSON.stringify(body)).toBe(201);
    const key = await annotateKey(server, "xavi");
    const { page, context } = await newPage(browser);
    const submits: { submissionId: string }[] = [];
    let lost = 0;
    await page.route("**/v1/queues/retry-q/tasks/*/submit", async (route) => {
      submits.push(JSON.parse(route.request().postData() ?? "{}"));
      if (lost === 0) {
        lost++;
        await route.fetch(); // the server gets it and stores the feedback...
        await route.abort("connectionreset"); // ...but the answer never arrives
        return;
      }
      await route.continue();
    });
    await loginWithLink(page, server, key);
    await page.goto(`${server.url}/queues/retry-q/annotate`);
    await page.getByRole("heading", { name: "Prompt" }).waitFor();
    await page.keyboard.press("4");
    await page.keyboard.press("Enter");
    await page.getByText("There are no more tasks for you in this queue.").waitFor();

    expect(submits.length).toBe(2);
    expect(submits[1]!.submissionId).toBe(submits[0]!.submissionId);
    const { body: fb } = await server.api("/v1/feedback?sourceId=xavi&limit=100");
    expect(fb.records).toHaveLength(1);
    expect(fb.records[0].kind).toBe("rating");
    expect(fb.records[0].value.score).toBe(4);
    expect(fb.records[0].targets).toEqual(["boil/tiny-chat"]);
    await context.close();
  });

  it("Shift+S skips a task: the next one comes, the skip is counted, and a draft save still in flight says nothing", async () => {
    const { status } = await server.api("/v1/queues", {
      body: {
        id: "skip-q",
        name: "Skippable",
        selection: { mode: "generations", itemIds: ["email"], policies: ["tiny-chat", "helpful-7b"] },
        questions: [{ id: "ok", kind: "binary", prompt: "Polite enough?" }],
      },
    });
    expect(status).toBe(201);
    const key = await annotateKey(server, "zoe");
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, key);
    await page.goto(`${server.url}/queues/skip-q/annotate`);
    // The first task's draft save is held on its way until the task has been skipped.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let sent!: () => void;
    const draftSent = new Promise<void>((r) => (sent = r));
    await page.route("**/v1/queues/skip-q/tasks/*/draft", async (route) => {
      sent();
      await held;
      await route.continue();
    });
    const output = page.locator("article.output");
    await output.waitFor();
    const first = await output.innerText();
    await page.keyboard.press("n");
    await draftSent;
    const line = page.getByTestId("annotate-status");
    expect(await line.innerText()).toBe("Saving draft…");
    await page.keyboard.press("Shift+S");
    await expect.poll(() => output.innerText(), POLL).not.toBe(first);
    await expect.poll(() => line.innerText(), POLL).toBe("Skipped.");
    const answered = page.waitForResponse("**/v1/queues/skip-q/tasks/*/draft");
    release();
    await answered;
    await page.evaluate(() => new Promise((r) => (globalThis as any).requestAnimationFrame(() => (globalThis as any).requestAnimationFrame(r))));
    expect(await line.innerText()).toBe("Skipped.");
    await page.unroute("**/v1/queues/skip-q/tasks/*/draft");
    await page.keyboard.press("y");
    await page.keyboard.press("Enter");
    await page.getByText("There are no more tasks for you in this queue.").waitFor();
    const { body } = await server.api("/v1/queues/skip-q/stats");
    expect(body.annotators).toEqual([{ id: "zoe", submitted: 1, skipped: 1 }]);
    const { body: fb } = await server.api("/v1/feedback?sourceId=zoe&limit=10");
    expect(fb.records).toHaveLength(1);
    expect(fb.records[0].value).toEqual({ ok: true });
    await context.close();
  });

  it("an annotator sees neither another project's queues and items nor another queue's tasks", async () => {
    // Another project with its own data and queue.
    const other = (await server.store.keys.create({ project: "other", role: "admin", name: "other-admin" })).secret;
    await server.api("/v1/items", { key: other, body: { id: "secret-item", prompt: "Only for project other" } });
    await server.api("/v1/generations", {
      key: other,
      body: {
        batch: [
          { id: "secret-item/a", itemId: "secret-item", policy: "a", output: "CONFIDENTIAL A" },
          { id: "secret-item/b", itemId: "secret-item", policy: "b", output: "CONFIDENTIAL B" },
        ],
      },
    });
    expect((await server.api("/v1/queues", { key: other, body: { id: "other-q", name: "Other project queue", selection: { mode: "pairs" }, questions: [{ id: "p", kind: "pairwise", prompt: "Which?" }] } })).status).toBe(201);
    // In this project, a queue only for ben, whose task ben holds.
    expect(
      (await server.api("/v1/queues", { body: { id: "ben-q", name: "Ben only", annotators: ["ben"], selection: { mode: "generations", itemIds: ["prime"] }, questions: [{ id: "ok", kind: "binary", prompt: "Correct?" }] } })).status,
    ).toBe(201);
    const ben = await annotateKey(server, "ben");
    const { body: benTask } = await server.api("/v1/queues/ben-q/next", { key: ben, body: {} });
    expect(benTask.task.item.id).toBe("prime");

    const key = await annotateKey(server, "yara");
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, key);
    await page.getByRole("link", { name: "Capital check" }).waitFor();
    const names = await page.locator("ul.cards h2").allInnerTexts();
    expect(names).toContain("Capital check");
    expect(names).not.toContain("Other project queue");
    expect(names).not.toContain("Ben only");

    // Straight to the other project's queue, and to ben's: nothing to see.
    for (const q of ["other-q", "ben-q"]) {
      await page.goto(`${server.url}/queues/${q}/annotate`);
      await page.getByRole("alert").waitFor();
      expect(await page.getByRole("alert").innerText()).toContain("not found");
      expect(await page.locator("body").innerText()).not.toContain("CONFIDENTIAL");
    }
    // The same through the API with the annotator's key, from the page.
    const statuses = await page.evaluate(
      async ([k, taskId]) => {
        const get = (path: string, method = "GET") =>
          fetch(path, { method, headers: { Authorization: `Bearer ${k}`, "Content-Type": "application/json" }, ...(method === "POST" ? { body: "{}" } : {}) }).then((r) => r.status);
        return {
          otherQueue: await get("/v1/queues/other-q"),
          otherNext: await get("/v1/queues/other-q/next", "POST"),
          otherItem: await get("/v1/items/secret-item"),
          benQueue: await get("/v1/queues/ben-q"),
          benTask: await get(`/v1/queues/ben-q/tasks/${taskId}`),
          benTaskViaOwnQueue: await get(`/v1/queues/retry-q/tasks/${taskId}`),
          benDraft: await fetch(`/v1/queues/ben-q/tasks/${taskId}/draft`, { method: "PUT", headers: { Authorization: `Bearer ${k}`, "Content-Type": "application/json" }, body: '{"answers":{}}' }).then((r) => r.status),
        };
      },
      [key, benTask.task.id as string],
    );
    expect(statuses).toEqual({ otherQueue: 404, otherNext: 404, otherItem: 404, benQueue: 404, benTask: 404, benTaskViaOwnQueue: 404, benDraft: 404 });
    await context.close();
  });

  it("outputs render as Markdown with code blocks, and nothing in them runs", async () => {
    const output = [
      "## Steps",
      "",
      "1. Sort **in place**:",
      "",
      "```python",
      "people.sort(key=lambda p: p['age'])",
      "```",
      "",
      '<img src="x" onerror="window.__xss = 1">',
      "<script>window.__xss = 2</script>",
      "[click](javascript:window.__xss=3) <a href=\"https://example.org\" onclick=\"window.__xss=4\">site</a>",
    ].join("\n");
    await server.api("/v1/items", { body: { id: "md", prompt: "Show **markdown**" } });
    await server.api("/v1/generations", { body: { id: "md/x", itemId: "md", policy: "x", output } });
    expect((await server.api("/v1/queues", { body: { id: "md-q", name: "Markdown", selection: { mode: "generations", itemIds: ["md"] }, questions: [{ id: "ok", kind: "binary", prompt: "Fine?" }] } })).status).toBe(201);
    const { page, context } = await newPage(browser);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await loginWithLink(page, server, await annotateKey(server, "mia"));
    await page.goto(`${server.url}/queues/md-q/annotate`);
    const md = page.locator("article.output .markdown");
    await md.waitFor();
    expect(await md.locator("h2").innerText()).toBe("Steps");
    expect(await md.locator("strong").innerText()).toBe("in place");
    expect((await md.locator("pre code").innerText()).trimEnd()).toBe("people.sort(key=lambda p: p['age'])");
    expect(await page.locator(".prompt-box strong").innerText()).toBe("markdown");
    expect(await md.locator("script, [onerror], [onclick]").count()).toBe(0);
    const hrefs = await md.locator("a").evaluateAll((as) => as.map((a) => [a.getAttribute("href"), a.getAttribute("rel")]));
    expect(hrefs.every(([h]) => !h || !h.startsWith("javascript:"))).toBe(true);
    expect(hrefs).toContainEqual(["https://example.org", "noopener noreferrer"]);
    await md.locator("img").evaluateAll(() => new Promise((r) => setTimeout(r, 100)));
    expect(await page.evaluate(() => (globalThis as any).__xss)).toBeUndefined();
    // `m` shows the exact text instead.
    await page.keyboard.press("m");
    expect(await page.locator("article.output .plain").innerText()).toContain("<script>");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("a fresh project's data seeded through the API shows in the browse screen", async () => {
    const key = (await server.store.keys.create({ project: "fresh", role: "admin", name: "fresh" })).secret;
    await seed(server.api, new URL("../../examples/demo.jsonl", import.meta.url).pathname, key);
    const { page, context } = await newPage(browser);
    await loginWithLink(page, server, key);
    await page.getByRole("link", { name: "Browse" }).click();
    await page.getByRole("link", { name: /^sort/ }).click();
    await page.getByRole("heading", { name: /Item sort/ }).waitFor();
    // Markdown: inline code in an output is rendered as code.
    expect(await page.locator("section.output code").first().innerText()).toContain("sort");
    expect(await page.locator(".feedback-list li").count()).toBeGreaterThan(0);
    await context.close();
  });
});
