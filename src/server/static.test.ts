import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Store, openStore } from "../store/index.js";
import { createApp } from "./app.js";
import { contentType, resolveUnder } from "./static.js";

describe("resolveUnder", () => {
  const root = "/srv/web";
  it("maps URL paths to files under the root", () => {
    expect(resolveUnder(root, "/")).toBe("/srv/web");
    expect(resolveUnder(root, "/assets/app.js")).toBe("/srv/web/assets/app.js");
    expect(resolveUnder(root, "/a%20b.txt")).toBe("/srv/web/a b.txt");
    expect(resolveUnder(root, "/./assets//x.css")).toBe("/srv/web/assets/x.css");
  });
  it("refuses anything that could leave the root", () => {
    for (const p of ["/../etc/passwd", "/assets/../../etc/passwd", "/..%2f..%2fetc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a%00.js", "/..%5c..%5cwin.ini", "/%E0%A4%A"]) {
      expect(resolveUnder(root, p), p).toBeUndefined();
    }
  });
});

describe("serving a web app at /", () => {
  let dir: string;
  let store: Store;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rlxf-static-"));
    const web = join(dir, "web");
    mkdirSync(join(web, "assets"), { recursive: true });
    writeFileSync(join(web, "index.html"), "<!doctype html><title>app</title>");
    writeFileSync(join(web, "assets", "index-abc.js"), "console.log(1)");
    writeFileSync(join(web, "assets", "index-abc.css"), "body{}");
    writeFileSync(join(web, "logo.svg"), "<svg/>");
    writeFileSync(join(dir, "secret.txt"), "SECRET");
    store = await openStore({ path: ":memory:" });
    app = createApp({ store, webRoot: web, log: () => {} });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves files with their content types and cache policies", async () => {
    const index = await app.request("/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await index.text()).toBe("<!doctype html><title>app</title>");
    const js = await app.request("/assets/index-abc.js");
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect(await js.text()).toBe("console.log(1)");
    expect((await app.request("/assets/index-abc.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect((await app.request("/logo.svg")).headers.get("content-type")).toBe("image/svg+xml");
    expect(contentType("x.unknown")).toBe("application/octet-stream");
  });

  it("answers client-side routes with index.html, and missing assets with 404", async () => {
    for (const p of ["/queues/q1/annotate", "/dashboard?queueId=x", "/browse"]) {
      const r = await app.request(p);
      expect(r.status, p).toBe(200);
      expect(await r.text()).toContain("<title>app</title>");
    }
    const missing = await app.request("/assets/gone-123.js");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe("not_found");
  });

  it("HEAD has the headers and no body; other methods are not served", async () => {
    const head = await app.request("/assets/index-abc.js", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await head.text()).toBe("");
    const post = await app.request("/", { method: "POST", body: "x" });
    expect(post.status).toBe(404);
    expect(((await post.json()) as any).error.code).toBe("not_found");
  });

  it("leaves the API alone", async () => {
    expect(await (await app.request("/v1/health")).json()).toMatchObject({ status: "ok" });
    const unauth = await app.request("/v1/items");
    expect(unauth.status).toBe(401);
    const { secret } = await store.keys.create({ project: "p", role: "admin" });
    const unknown = await app.request("/v1/no-such-thing", { headers: { Authorization: `Bearer ${secret}` } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toContain("application/json");
    expect(((await unknown.json()) as any).error.message).toContain("no such endpoint");
  });

  it("never serves a file outside its directory", async () => {
    for (const p of ["/..%2fsecret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt", "/..%5csecret.txt"]) {
      const r = await app.request(p);
      expect(r.status, p).toBe(404);
      expect(await r.text(), p).not.toContain("SECRET");
    }
  });

  it("without a web root, / is not found", async () => {
    const bare = createApp({ store, log: () => {} });
    expect((await bare.request("/")).status).toBe(404);
  });
});
