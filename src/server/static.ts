/**
 * Serves a built single-page web app from a directory at `/`: files by path with their
 * content types, and `index.html` for any other path that looks like a page (client-side
 * routes). API paths (`/v1/...`) are never served from here, and no path leaves the directory.
 */
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import type { MiddlewareHandler } from "hono";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

/** The page's policy: scripts, styles and requests only from this origin; never framed. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

export function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/**
 * The file under `root` that a URL path names, or undefined when the path is malformed or
 * would escape `root` (`..`, encoded separators, NUL bytes).
 */
export function resolveUnder(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const parts = decoded.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) return undefined;
  const base = resolve(root);
  const file = resolve(join(base, ...parts));
  return file === base || file.startsWith(base + sep) ? file : undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export interface StaticOptions {
  /** Path prefixes left to the routes after this one (default `/v1`). */
  skip?: readonly string[];
}

/** A Hono middleware serving `root` for GET and HEAD requests; everything else passes through. */
export function serveStatic(root: string, opts: StaticOptions = {}): MiddlewareHandler {
  const skip = opts.skip ?? ["/v1"];
  const index = join(resolve(root), "index.html");
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    if ((method !== "GET" && method !== "HEAD") || skip.some((p) => path === p || path.startsWith(`${p}/`))) return next();
    const file = resolveUnder(root, path);
    if (file === undefined) return c.json({ error: { code: "not_found", message: `no such file: ${path}` } }, 404);
    let target: string | undefined = (await isFile(file)) ? file : undefined;
    if (!target) {
      // A missing asset (has an extension) is a 404; anything else is a client-side route.
      const last = path.split("/").pop() ?? "";
      if (last.includes(".") && !last.endsWith(".html")) {
        return c.json({ error: { code: "not_found", message: `no such file: ${path}` } }, 404);
      }
      if (!(await isFile(index))) return next();
      target = index;
    }
    const body = await readFile(target);
    const headers: Record<string, string> = { "Content-Type": contentType(target), "X-Content-Type-Options": "nosniff" };
    if (target.endsWith(".html")) {
      headers["Cache-Control"] = "no-cache";
      headers["Content-Security-Policy"] = CSP;
      headers["Referrer-Policy"] = "no-referrer";
    } else if (target.includes(`${sep}assets${sep}`)) {
      headers["Cache-Control"] = "public, max-age=31536000, immutable"; // content-hashed names
    } else {
      headers["Cache-Control"] = "public, max-age=300";
    }
    if (method === "HEAD") return c.body(null, 200, headers);
    return c.body(new Uint8Array(body), 200, headers);
  };
}
