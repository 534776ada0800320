/**
 * Logging in from a link (`/?key=K`) in Chromium: with nobody logged in it logs in at once; with a
 * session under another key it asks first, showing both keys' project and role, and changes nothing
 * until the person chooses (a link alone must not swap an admin's session: login CSRF).
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, axe, browserTestsEnabled, launchChromium, newPage, screenshot, serious, startServer } from "./browser.js";

const enabled = browserTestsEnabled("web login");

describe.skipIf(!enabled)("web app: keys from links", () => {
  let server: TestServer;
  let browser: Browser;
  let otherKey: string;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    otherKey = (await server.store.keys.create({ project: "elsewhere", role: "annotate", name: "mallory" })).secret;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const storedKey = (page: Page) => page.evaluate(() => (globalThis as any).localStorage.getItem("rlxf.key") as string | null);
  const who = (page: Page) => page.locator(".topbar .who").innerText();

  /** A page logged in as the demo admin through the login form. */
  const loggedInAdmin = async () => {
    const { context, page } = await newPage(browser);
    await page.goto(server.url);
    await page.getByLabel("API key").fill(server.adminKey);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Annotation queues" }).waitFor();
    return { context, page };
  };

  it("logs in from a link when nobody is logged in, and takes the key out of the address bar", async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${server.url}/?key=${otherKey}`);
    await page.locator(".topbar .who").waitFor();
    expect(await who(page)).toContain("project elsewhere");
    expect(await storedKey(page)).toBe(otherKey);
    expect(page.url()).not.toContain("key=");
    await context.close();
  });

  it("never replaces an active session from a link without asking; staying keeps the session", async () => {
    const { context, page } = await loggedInAdmin();
    await page.goto(`${server.url}/?key=${otherKey}`);
    await page.getByRole("heading", { name: "Switch to another key?" }).waitFor();
    // Nothing changed yet: the stored key is still the admin's, and the key left the address bar.
    expect(await storedKey(page)).toBe(server.adminKey);
    expect(page.url()).not.toContain("key=");
    const now = page.getByRole("region", { name: "Logged in now" });
    const link = page.getByRole("region", { name: "Key in the link" });
    expect(await now.innerText()).toMatch(/Project\s+demo[\s\S]*Role\s+admin/);
    expect(await link.innerText()).toMatch(/Project\s+elsewhere[\s\S]*Role\s+annotate[\s\S]*Name\s+mallory/);
    expect(serious(await axe(page))).toEqual([]);
    await screenshot(page, "switch-key");

    await page.getByRole("button", { name: "Stay logged in to demo as admin" }).click();
    await page.getByRole("heading", { name: "Annotation queues" }).waitFor();
    expect(await who(page)).toContain("project demo");
    expect(await storedKey(page)).toBe(server.adminKey);
    // A reload does not bring the question back: the link's key is gone.
    await page.reload();
    await page.getByRole("heading", { name: "Annotation queues" }).waitFor();
    expect(await who(page)).toContain("project demo");
    await context.close();
  });

  it("switches only when the person chooses to", async () => {
    const { context, page } = await loggedInAdmin();
    await page.goto(`${server.url}/?key=${otherKey}`);
    await page.getByRole("button", { name: "Switch to elsewhere as annotate" }).click();
    await page.locator(".topbar .who").filter({ hasText: "elsewhere" }).waitFor();
    expect(await storedKey(page)).toBe(otherKey);
    await context.close();
  });

  it("keeps the session when the link's key is not valid, saying so; the same key as now changes nothing", async () => {
    const { context, page } = await loggedInAdmin();
    await page.goto(`${server.url}/?key=rlxf_0000000000000000_${"x".repeat(43)}`);
    await page.getByRole("alert").filter({ hasText: "not used" }).waitFor();
    expect(await who(page)).toContain("project demo");
    expect(await storedKey(page)).toBe(server.adminKey);
    await page.goto(`${server.url}/?key=${server.adminKey}`);
    await page.getByRole("heading", { name: "Annotation queues" }).waitFor();
    expect(await page.getByRole("heading", { name: "Switch to another key?" }).count()).toBe(0);
    await context.close();
  });
});
