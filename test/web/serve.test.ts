/** `rlxf serve` serves the built web app at / next to the API (no browser needed). */
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, startServer } from "../server/process.js";
import { WEB_ROOT } from "./browser.js";

/** GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("rlxf serve with the web app", () => {
  let dir: string;
  let server: ServerProcess;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rlxf-serve-web-"));
    server = await startServer(["--db", join(dir, "rlxf.db")]);
  });
  afterAll(async () => {
    server?.proc.kill("SIGTERM");
    await server?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it("says where the web app is and how to log in", () => {
    expect(server.stderr()).toContain(`web app: ${server.url}/`);
    expect(server.stderr()).toContain(`${server.url}/?key=<key>`);
  });

  it("serves the page, its assets and client routes; the API stays JSON", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    const script = /<script type="module" crossorigin src="([^"]+)"/.exec(html)?.[1];
    expect(script, html).toMatch(/^\/assets\/.+\.js$/);
    const js = await fetch(`${server.url}${script}`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await js.text()).length).toBeGreaterThan(1000);
    expect(await (await fetch(`${server.url}/queues/demo-q/annotate`)).text()).toBe(html);
    const api = await fetch(`${server.url}/v1/items`);
    expect(api.status).toBe(401);
    expect(api.headers.get("content-type")).toContain("application/json");
  });

  it("never serves a file outside the web app's directory", async () => {
    const html = await (await fetch(`${server.url}/`)).text();
    // Plain `..` segments are resolved by URL parsing before routing (`/etc/passwd` is then a page of
    // the app, `/package.json` a missing file); encoded ones are refused.
    const paths = ["/../../../../etc/passwd", "/assets/../../package.json", "/..%2f..%2fpackage.json", "/%2e%2e/%2e%2e/package.json", "/assets/..%2f..%2f..%2fpackage.json"];
    const got = await Promise.all(paths.map((p) => rawGet(server.url, p)));
    expect(got.map((r) => (r.status === 200 && r.body === html ? "app" : r.status))).toEqual(["app", 404, 404, 404, 404]);
    for (const r of got) expect(r.body).not.toMatch(/root:|"name": "rlxf"/);
  });

  it("is built where serve looks for it", async () => {
    const { webAppRoot } = await import("../../src/cli/serve.js");
    // From the sources, dist/web is not next to src/cli; the built CLI finds it (above).
    expect(webAppRoot() === undefined || webAppRoot() === WEB_ROOT).toBe(true);
  });
});
