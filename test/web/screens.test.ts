/**
 * Every main screen of the web app, in Chromium: no serious or critical axe-core (WCAG 2.1 A/AA)
 * violations, a screenshot kept in test/artifacts/screens, and the numbers on the dashboards
 * agreeing with the API's.
 */
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLL, type TestServer, axe, browserTestsEnabled, launchChromium, newPage, screenshot, serious, startServer } from "./browser.js";

const enabled = browserTestsEnabled("web screens");

async function check(page: Page, name: string): Promise<void> {
  const violations = serious(await axe(page));
  expect(violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), `axe on ${name}`).toEqual([]);
  await screenshot(page, name);
}

describe.skipIf(!enabled)("web app screens: accessibility and screenshots", () => {
  let server: TestServer;
  let browser: Browser;
  let adminPage: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    // A queue two annotators have worked, so that agreement, judge agreement and distributions have data.
    const r = await server.api("/v1/queues", {
      body: {
        id: "agreement",
        name: "Reference vs tiny",
        instructions: "Prefer the **correct** answer; then rate the *first* response shown.",
        selection: { mode: "pairs", itemIds: ["capital", "haiku", "sort", "boil"], policies: ["reference-gpt", "tiny-chat"] },
        questions: [
          { id: "better", kind: "pairwise", prompt: "Which response is better?" },
          { id: "quality", kind: "rating", prompt: "Quality", min: 1, max: 5, required: false },
        ],
        annotatorsPerItem: 2,
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    for (const [name, flip] of [
      ["ann", false],
      ["bo", true],
    ] as const) {
      const key = (await server.store.keys.create({ project: "demo", role: "annotate", name })).secret;
      for (let i = 0; ; i++) {
        const { body } = await server.api("/v1/queues/agreement/next", { key, body: {} });
        if (!body.task) break;
        const outs: string[] = body.task.generations.map((g: { output: string }) => g.output);
        // The reference answer is the longer one here; "bo" disagrees on the last task.
        const longer = outs[0]!.length >= outs[1]!.length ? "first" : "second";
        const choice = flip && i === 3 ? (longer === "first" ? "second" : "first") : longer;
        const s = await server.api(`/v1/queues/agreement/tasks/${body.task.id}/submit`, {
          key,
          body: { submissionId: `${name}-${i}`, answers: { better: { choice }, quality: [{ score: 3 + (i % 3) }, null] } },
        });
        expect(s.status, JSON.stringify(s.body)).toBe(200);
      }
    }
    ({ page: adminPage } = await newPage(browser));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("login", async () => {
    await adminPage.goto(server.url);
    await adminPage.getByLabel("API key").waitFor();
    await check(adminPage, "login");
    // A wrong key is refused with a message, and nothing is kept.
    await adminPage.getByLabel("API key").fill("rlxf_nope_nope");
    await adminPage.getByRole("button", { name: "Log in" }).click();
    expect(await adminPage.getByRole("alert").innerText()).toContain("not valid");
  });

  it("queue list with progress", async () => {
    await adminPage.getByLabel("API key").fill(server.adminKey);
    await adminPage.getByRole("button", { name: "Log in" }).click();
    await adminPage.getByRole("heading", { name: "Annotation queues" }).waitFor();
    const bar = adminPage.getByRole("progressbar", { name: "Progress of Reference vs tiny" });
    expect(await bar.getAttribute("aria-valuenow")).toBe("8");
    expect(await bar.getAttribute("aria-valuemax")).toBe("8");
    await check(adminPage, "queues");
  });

  it("create queue, with a question of every kind", async () => {
    await adminPage.getByRole("link", { name: "New queue" }).first().click();
    await adminPage.getByLabel("Name", { exact: true }).fill("Everything");
    for (const kind of ["Ranking", "Rating on a scale", "Yes / no", "Critique", "Highlight spans", "Rubric / checklist", "Correction"]) {
      await adminPage.getByLabel("Add a question").selectOption({ label: kind });
      await adminPage.getByRole("button", { name: "Add", exact: true }).click();
    }
    await adminPage.getByLabel("Ask how much better").check();
    await adminPage.getByLabel("Random sample").check();
    await adminPage.getByLabel("Tasks to sample").fill("3");
    await adminPage.getByLabel("Annotators per task").fill("2");
    await check(adminPage, "create-queue");
    await adminPage.getByRole("button", { name: "Create queue" }).click();
    await adminPage.getByRole("heading", { name: "Everything" }).or(adminPage.getByRole("alert")).first().waitFor();
    expect(await adminPage.getByRole("alert").allInnerTexts()).toEqual([]);
    const id = decodeURIComponent(new URL(adminPage.url()).pathname.split("/")[2]!);
    const { body } = await server.api(`/v1/queues/${id}`);
    expect(body.queue.questions.map((q: { kind: string }) => q.kind)).toEqual(["pairwise", "ranking", "rating", "binary", "critique", "span", "rubric", "correction"]);
    expect(body.queue.selection.sample).toEqual({ n: 3, seed: 1 });
    expect(body.queue.annotatorsPerItem).toBe(2);
    expect(body.queue.progress.tasks).toBe(3);
  });

  it("annotate, with every kind of question, all answered from the keyboard", async () => {
    const key = (await server.store.keys.create({ project: "demo", role: "annotate", name: "cat" })).secret;
    const { page, context } = await newPage(browser);
    await page.goto(`${server.url}/?key=${key}`);
    await page.getByRole("link", { name: "Everything" }).click();
    await page.getByRole("heading", { name: "Prompt" }).waitFor();
    await page.keyboard.press("2");
    await page.keyboard.press("Shift+Digit3"); // much better
    await expect.poll(() => page.locator("#q-0 input[name='q-0-strength']:checked").count(), POLL).toBe(1);
    expect(await page.locator("#q-0 label.choice.selected").allInnerTexts()).toEqual([expect.stringContaining("Response 2 is better"), expect.stringContaining("much better")]);
    await check(page, "annotate-all-kinds");

    // Every other question from the keyboard, then submit; the records come back through the API.
    // The exact outputs, as the span boxes show them.
    const outputs = [(await page.locator("#q-5-0-text").textContent())!, (await page.locator("#q-5-1-text").textContent())!];
    const key1 = async (...keys: string[]) => {
      for (const k of keys) await page.keyboard.press(k);
    };
    await key1("ArrowDown", "2"); // ranking: response 2 first (the rest follows)
    await key1("ArrowDown", "4", "ArrowDown", "5"); // ratings of responses 1 and 2
    await key1("ArrowDown", "y", "ArrowDown", "n"); // binary
    await key1("ArrowDown", "e");
    await page.keyboard.type("Clear and short.");
    await key1("Escape", "p", "ArrowDown", "f"); // critiques: text + pass; fail only
    await key1("ArrowDown", "e");
    const word = outputs[0]!.split(/\s+/).find((w) => w.length > 2)!;
    await page.keyboard.type(word);
    await key1("Enter", "Escape"); // a span found by its text, labelled "error"
    await key1("ArrowDown");
    await page.locator("#q-5-1").getByLabel("Nothing to highlight").check();
    await key1("ArrowDown", "1", "2"); // rubric of response 1: both met
    await key1("ArrowDown", "1", "1", "2"); // response 2: first not met, second met
    await page.locator("#q-7-0").getByRole("button", { name: "No change needed" }).click();
    await key1("ArrowDown", "e", "Control+End");
    await page.keyboard.type(" (edited)");
    await key1("Escape", "Enter");
    await page.getByText("Submitted: 14 feedback records stored.").or(page.locator(".questions [role=alert]")).first().waitFor();
    expect(await page.locator(".questions [role=alert]").allInnerTexts()).toEqual([]);

    const { body: fb } = await server.api("/v1/feedback?sourceId=cat&limit=100");
    const rec = (q: string, slot?: number) => fb.records.find((f: any) => f.metadata.questionId === q && (slot === undefined || f.metadata.slot === slot));
    expect(fb.records).toHaveLength(14);
    const shown: string[] = rec("pairwise-1").metadata.shownOrder;
    const pw = rec("pairwise-1");
    expect(pw.value).toEqual({ choice: pw.targets[0] === shown[1] ? "first" : "second", strength: 1 });
    const rk = rec("ranking-1");
    expect(rk.value.ranks[rk.targets.indexOf(shown[1])]).toBe(1);
    expect(rk.value.ranks[rk.targets.indexOf(shown[0])]).toBe(2);
    expect([rec("rating-1", 0).value.score, rec("rating-1", 1).value.score]).toEqual([4, 5]);
    expect(rec("rating-1", 0).targets).toEqual([shown[0]]);
    expect(rec("rating-1", 0).value.dimension).toBe("rating-1");
    expect([rec("binary-1", 0).value.ok, rec("binary-1", 1).value.ok]).toEqual([true, false]);
    expect(rec("critique-1", 0).value).toEqual({ text: "Clear and short.", verdict: "pass" });
    expect(rec("critique-1", 1).value).toEqual({ text: "", verdict: "fail" });
    const at = outputs[0]!.indexOf(word);
    expect(rec("span-1", 0).value.spans).toEqual([{ start: at, end: at + word.length, label: "error" }]);
    expect(rec("span-1", 1).value.spans).toEqual([]);
    expect(rec("rubric-1", 0).value.criteria.map((c: any) => [c.name, c.passed])).toEqual([["correct", true], ["complete", true]]);
    expect(rec("rubric-1", 1).value.criteria.map((c: any) => [c.name, c.passed])).toEqual([["correct", false], ["complete", true]]);
    expect(rec("correction-1", 0).value.output).toBe(outputs[0]);
    expect(rec("correction-1", 1).value.output).toBe(`${outputs[1]} (edited)`);
    await context.close();
  });

  it("queue dashboard: progress, agreement per question, judge against humans", async () => {
    await adminPage.goto(`${server.url}/queues/agreement`);
    await adminPage.getByRole("heading", { name: "Reference vs tiny" }).waitFor();
    const { body: stats } = await server.api("/v1/queues/agreement/stats");
    const better = stats.questions.find((q: { id: string }) => q.id === "better");
    expect(better.pairs).toHaveLength(1);
    const row = adminPage.getByTestId("agreement").getByRole("row", { name: /better/ });
    expect(await row.innerText()).toContain(better.alpha.toFixed(2));
    expect(await row.innerText()).toContain(`κ=${better.pairs[0].kappa.toFixed(2)}`);
    expect(better.judges.length).toBeGreaterThan(0);
    expect(await adminPage.getByTestId("judge-agreement").innerText()).toContain("demo-judge");
    await check(adminPage, "queue-dashboard");

    // An invitation link logs a new annotator straight in.
    await adminPage.getByLabel("Annotator name").fill("dee");
    await adminPage.getByRole("button", { name: "Create link" }).click();
    const link = await adminPage.getByLabel("Annotator link").inputValue();
    expect(link).toMatch(new RegExp(`^${server.url}/\\?key=rlxf_`));
    const { page, context } = await newPage(browser);
    await page.goto(link);
    await page.getByRole("heading", { name: "Annotation queues" }).waitFor();
    expect(await page.locator(".who").innerText()).toContain("dee · annotate · project demo");
    await context.close();
  });

  it("dashboard: leaderboard plots, distributions, background export offering the file", async () => {
    await adminPage.getByRole("link", { name: "Dashboard" }).click();
    const bt = adminPage.getByRole("img", { name: /Bradley-Terry rating/ });
    await bt.waitFor();
    const { body: board } = await server.api("/v1/leaderboard?method=bt&bootstrap=200&seed=0");
    // One point with an interval per model, named in the plot's text alternative.
    expect(await bt.locator("circle").count()).toBe(board.rows.length);
    for (const r of board.rows) expect(await bt.getAttribute("aria-label") ?? (await bt.locator("desc").textContent())).toContain(r.model);
    await adminPage.getByRole("img", { name: /Win rate against/ }).waitFor();
    await adminPage.getByRole("img", { name: /Output length, preferred vs rejected/ }).waitFor();
    await adminPage.getByRole("img", { name: /quality \(1–5\)/ }).waitFor();

    await adminPage.getByLabel("Format").selectOption("trl-preference");
    await adminPage.getByRole("button", { name: "Start export" }).click();
    const link = adminPage.getByTestId("export-download");
    await link.waitFor();
    expect(await link.getAttribute("download")).toMatch(/\.jsonl$/);
    const [download] = await Promise.all([adminPage.waitForEvent("download"), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^demo-trl-preference.*\.jsonl$/);
    const text = readFileSync((await download.path())!, "utf8");
    const lines = text.trim().split("\n");
    expect(await link.innerText()).toContain(`(${lines.length} rows)`);
    expect(Object.keys(JSON.parse(lines[0]!))).toEqual(expect.arrayContaining(["prompt", "chosen", "rejected"]));
    await check(adminPage, "dashboard");
  });

  it("queue tasks: an admin frees a held task for others, then deletes the queue", async () => {
    const made = await server.api("/v1/queues", {
      body: { id: "held", name: "Held", selection: { mode: "generations", itemIds: ["capital", "haiku"], policies: ["tiny-chat"] }, questions: [{ id: "ok", kind: "binary", prompt: "OK?" }] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const eve = (await server.store.keys.create({ project: "demo", role: "annotate", name: "eve" })).secret;
    const fay = (await server.store.keys.create({ project: "demo", role: "annotate", name: "fay" })).secret;
    const taken = (await server.api("/v1/queues/held/next", { key: eve, body: {} })).body.task;
    await server.api(`/v1/queues/held/tasks/${taken.id}/draft`, { key: eve, method: "PUT", body: { answers: { ok: true } } });

    await adminPage.goto(`${server.url}/queues/held`);
    const table = adminPage.getByRole("table", { name: "Tasks of this queue" });
    await table.waitFor();
    expect(await table.locator("tbody tr").count()).toBe(2);
    expect(await table.locator("tbody tr").first().innerText()).toMatch(/eve: locked until .* \(draft\)/);
    await adminPage.getByRole("button", { name: "Release task 1 (held by eve)" }).click();
    await adminPage.getByText("Task 1: freed; its holder keeps their draft.").waitFor();
    await expect.poll(() => table.locator("tbody tr").first().innerText(), POLL).toContain("eve: expired (draft)");
    expect((await server.api("/v1/queues/held/next", { key: fay, body: {} })).body.task.id).toBe(taken.id);

    await adminPage.getByRole("button", { name: "Delete queue…" }).click();
    await check(adminPage, "queue-tasks");
    await adminPage.getByRole("button", { name: "Delete “Held”" }).click();
    await adminPage.getByRole("heading", { name: "Annotation queues" }).waitFor();
    expect((await server.api("/v1/queues/held")).status).toBe(404);
    expect(await adminPage.getByRole("link", { name: "Held" }).count()).toBe(0);
  });

  it("browse items and their feedback", async () => {
    await adminPage.getByRole("link", { name: "Browse" }).click();
    await adminPage.getByRole("link", { name: /^prime/ }).click();
    await adminPage.getByRole("heading", { name: /Item prime/ }).waitFor();
    expect(await adminPage.locator(".feedback-list").first().innerText()).not.toBe("");
    await check(adminPage, "browse");
  });
});
