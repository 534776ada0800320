/**
 * Browser tests' shared parts: rlxf's real server (the Hono app with the built web app) on a
 * fresh SQLite file, data seeded through the API, and Debian's Chromium driven by playwright-core.
 * Without a Chromium the browser tests are skipped, or fail when RLXF_REQUIRE_BROWSER=1.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { expect } from "vitest";
import { createApp, listen } from "../../src/server/index.js";
import { type Store, openStore } from "../../src/store/index.js";

/**
 * The browser: RLXF_CHROMIUM, else Debian's headless shell (package chromium-headless-shell: the same Blink
 * and V8 without the desktop browser around them, so about half the CPU per test of the full browser in
 * headless mode), else Debian's full Chromium.
 */
export const CHROMIUM = process.env.RLXF_CHROMIUM || ["/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium"].find((p) => existsSync(p)) || "/usr/bin/chromium";
export const browserRequired = process.env.RLXF_REQUIRE_BROWSER === "1";
export const hasBrowser = existsSync(CHROMIUM);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const WEB_ROOT = join(ROOT, "dist", "web");
export const SCREENS = join(ROOT, "test", "artifacts", "screens");

/** Whether this file's browser tests run; throws when they must run and cannot. */
export function browserTestsEnabled(suite: string): boolean {
  if (!hasBrowser) {
    if (browserRequired) throw new Error(`[${suite}] RLXF_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing (apt-get install -y chromium-headless-shell)`);
    console.warn(`[${suite}] ${CHROMIUM} is missing: SKIPPING the browser tests (apt-get install -y chromium-headless-shell)`);
    return false;
  }
  if (!existsSync(join(WEB_ROOT, "index.html"))) throw new Error(`[${suite}] ${WEB_ROOT}/index.html is missing: run \`npm run build\` first`);
  return true;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright-core gives every launch a fresh, temporary --user-data-dir of its own.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

export interface TestServer {
  url: string;
  store: Store;
  adminKey: string;
  dir: string;
  api: <T = any>(path: string, opts?: { key?: string; method?: string; body?: unknown }) => Promise<{ status: number; body: T }>;
  close: () => Promise<void>;
}

/** The server on a fresh SQLite database, with the demo dataset sent through the API. */
export async function startServer(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "rlxf-web-"));
  const store = await openStore({ path: join(dir, "rlxf.db") });
  const app = createApp({ store, webRoot: WEB_ROOT, log: () => {} });
  const running = await listen(app, { port: 0, host: "127.0.0.1" });
  const { secret: adminKey } = await store.keys.create({ project: "demo", role: "admin", name: "admin" });
  const api: TestServer["api"] = async (path, opts = {}) => {
    const res = await fetch(running.url + path, {
      method: opts.method ?? (opts.body !== undefined ? "POST" : "GET"),
      headers: { Authorization: `Bearer ${opts.key ?? adminKey}`, ...(opts.body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  await seed(api, join(ROOT, "examples", "demo.jsonl"));
  return {
    url: running.url,
    store,
    adminKey,
    dir,
    api,
    close: async () => {
      await running.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Items, generations and feedback of an rlxf JSONL file, posted as three batches. */
export async function seed(api: TestServer["api"], file: string, key?: string): Promise<void> {
  const records = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const items = records.filter((r) => "prompt" in r);
  const generations = records.filter((r) => "output" in r && "itemId" in r && !("kind" in r));
  const feedback = records.filter((r) => "kind" in r);
  for (const [path, batch] of [
    ["/v1/items", items],
    ["/v1/generations", generations],
    ["/v1/feedback", feedback],
  ] as const) {
    if (!batch.length) continue;
    const r = await api(path, { body: { batch }, ...(key ? { key } : {}) });
    if (r.status >= 300) throw new Error(`seeding ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENS, { recursive: true });
  const path = join(SCREENS, `${name}.png`);
  // The whole page, by growing the viewport to it: Chromium's hit testing can go stale after a
  // `fullPage` screenshot, so later clicks would land on the wrong element.
  const size = page.viewportSize() ?? { width: 1280, height: 900 };
  const height = await page.evaluate(() => Math.min((globalThis as any).document.documentElement.scrollHeight as number, 12_000));
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
  try {
    await page.screenshot({ path, animations: "disabled" });
  } finally {
    await page.setViewportSize(size);
  }
  return path;
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's WCAG 2.x A/AA checks on the page as it is now. */
export async function axe(page: Page): Promise<AxeViolation[]> {
  // Evaluated over the DevTools protocol, so the page's Content-Security-Policy does not block it.
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const g = globalThis as any; // the page's window (this file is type-checked without the DOM library)
    const r = await g.axe.run(g.document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }, resultTypes: ["violations"] });
    return r.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
}

/**
 * Waits until `page` has no request in flight and starts none over two animation frames after the last one
 * ended (a response's handler may fetch what depends on it): the late content (plots, tables) is in. Counts
 * requests rather than waiting out a quiet period as `networkidle` does (half a second per page).
 */
export function requestsSettled(page: Page): () => Promise<void> {
  let pending = 0;
  let started = 0;
  page.on("request", () => {
    pending++;
    started++;
  });
  const done = () => {
    pending = Math.max(0, pending - 1);
  };
  page.on("requestfinished", done);
  page.on("requestfailed", done);
  return async () => {
    for (;;) {
      await expect.poll(() => pending, { ...POLL, message: "requests of the page still in flight" }).toBe(0);
      const before = started;
      await page.evaluate(() => new Promise((r) => (globalThis as any).requestAnimationFrame(() => (globalThis as any).requestAnimationFrame(r))));
      if (pending === 0 && started === before) return;
    }
  };
}

/** For expect.poll: the page may need a moment on a busy machine (vitest's default is 1 s). */
export const POLL = { timeout: 15_000, interval: 50 };

export const serious = (vs: AxeViolation[]) => vs.filter((v) => v.impact === "serious" || v.impact === "critical");

export interface LowContrast {
  element: string;
  text: string;
  ratio: number;
  color: string;
  background: string;
}

/**
 * WCAG 2.x contrast of every visible button, label, link-styled button and key cap on the page: its text colour
 * against the background it is drawn on (its own, else the nearest ancestor's that is not transparent, blended
 * over what is below). Those under `min` (4.5:1 for normal text) are returned; disabled controls are exempt.
 */
export async function lowContrast(page: Page, min = 4.5): Promise<LowContrast[]> {
  return page.evaluate((threshold) => {
    const g = globalThis as any; // the page's window (this file is type-checked without the DOM library)
    const parse = (c: string): [number, number, number, number] | undefined => {
      const m = /^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/.exec(c.trim());
      return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : undefined;
    };
    const over = (top: number[], below: number[]) => [0, 1, 2].map((i) => top[i]! * top[3]! + below[i]! * (1 - top[3]!));
    const luminance = (rgb: number[]) => {
      const [r, gg, b] = rgb.map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * gg! + 0.0722 * b!;
    };
    /** The opaque colour behind `el`: backgrounds from the root down to it, each blended over the one below. */
    const backdrop = (el: any): number[] => {
      const chain: any[] = [];
      for (let e = el; e; e = e.parentElement) chain.unshift(e);
      let base = [255, 255, 255];
      for (const e of chain) {
        const c = parse(g.getComputedStyle(e).backgroundColor);
        if (c && c[3] > 0) base = over(c, base);
      }
      return base;
    };
    const out: any[] = [];
    for (const el of g.document.querySelectorAll("button, label, .button, [role=button], kbd, legend, th")) {
      const r = el.getBoundingClientRect();
      const style = g.getComputedStyle(el);
      if (r.width <= 1 || r.height <= 1 || style.visibility === "hidden" || style.display === "none" || el.disabled) continue;
      if (el.closest(".sr-only") || el.closest("[aria-hidden=true]")) continue;
      // The element's own text (not only its children's, which are checked on their own).
      const own = [...el.childNodes].filter((n: any) => n.nodeType === 3).map((n: any) => n.textContent).join("").trim();
      if (!own) continue;
      const fg = parse(style.color);
      if (!fg) continue;
      const bg = backdrop(el);
      const text = over(fg, bg);
      const [l1, l2] = [luminance(text), luminance(bg)].sort((a, b) => b - a);
      const ratio = (l1! + 0.05) / (l2! + 0.05);
      if (ratio < threshold)
        out.push({ element: `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(/\s+/).join(".")}` : ""}`, text: own.slice(0, 60), ratio: Math.round(ratio * 100) / 100, color: style.color, background: `rgb(${bg.map(Math.round).join(", ")})` });
    }
    return out;
  }, min);
}

/** How far the page is wider than its viewport (0 when nothing overflows sideways), and the widest elements. */
export async function horizontalOverflow(page: Page): Promise<{ overflow: number; culprits: string[] }> {
  return page.evaluate(() => {
    const g = globalThis as any;
    const root = g.document.documentElement;
    const width = root.clientWidth;
    const culprits: string[] = [];
    for (const el of g.document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && r.width > 0 && culprits.length < 8) culprits.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.split(/\s+/).join(".")}` : ""} (right ${Math.round(r.right)})`);
    }
    return { overflow: Math.max(0, root.scrollWidth - root.clientWidth), culprits };
  });
}
