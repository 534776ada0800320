/**
 * Shared by the server tests: engines (a throwaway PostgreSQL database per
 * test file, a fresh schema per store), request helpers, test records.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { Hono } from "hono";
import { openStore, type Role, type Store } from "../../src/store/index.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = join(ROOT, "dist", "cli", "main.js");

/** The built CLI (npm test builds first); its absence is a failure, not a skip. */
export function requireBuiltCli(): string {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  return CLI;
}

// ------------------------------------------------------------- engines ---

export { adminUrl } from "../support/postgres.js";

export { postgresForFile } from "../support/postgres.js";

export type StoreFactory = () => Promise<Store>;
export const sqliteMemory: StoreFactory = () => openStore({ path: ":memory:" });

// ------------------------------------------------------------- requests ---

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export type Caller = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Reply>;

/** Requests through `app.request()` with a key (or none). Bodies that are not strings are sent as JSON. */
export function caller(app: Hono<any>, key?: string): Caller {
  return async (method, path, body, headers = {}) => {
    const h: Record<string, string> = { ...(key ? { Authorization: `Bearer ${key}` } : {}) };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      h["Content-Type"] = "application/json";
    }
    const res = await app.request(path, { method, headers: { ...h, ...headers }, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (an export stream): keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers, text };
  };
}

export async function keyOf(store: Store, project: string, role: Role, name?: string): Promise<string> {
  return (await store.keys.create({ project, role, ...(name ? { name } : {}) })).secret;
}

/** Every error answer has exactly this shape. */
export function expectErrorShape(r: Reply, status: number, code?: string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.body).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) });
  expect(Object.keys(r.body.error).every((k) => ["code", "message", "issues", "record", "index"].includes(k))).toBe(true);
  if (r.body.error.issues) {
    for (const i of r.body.error.issues) expect(i).toEqual({ path: expect.any(String), message: expect.any(String) });
  }
  if (code) expect(r.body.error.code).toBe(code);
}

// ---------------------------------------------------------------- data ---

export const item = (id: string, extra: Record<string, unknown> = {}) => ({ id, prompt: `prompt of ${id}`, ...extra });
export const gen = (id: string, itemId: string, policy = "p1", extra: Record<string, unknown> = {}) => ({
  id,
  itemId,
  policy,
  output: `output ${id}`,
  ...extra,
});
export const pairwise = (id: string | undefined, targets: [string, string], choice = "first", extra: Record<string, unknown> = {}) => ({
  ...(id !== undefined ? { id } : {}),
  kind: "pairwise",
  targets,
  source: { type: "human", id: "ann1" },
  value: { choice },
  ...extra,
});
export const rating = (id: string, target: string, score: number, extra: Record<string, unknown> = {}) => ({
  id,
  kind: "rating",
  targets: [target],
  source: { type: "judge", id: "j1" },
  value: { score, scale: { min: 1, max: 5 } },
  ...extra,
});

/** Items i0..i(n-1), each with generations <i>-a (policy a) and <i>-b (policy b). */
export function itemsAndGenerations(n: number, prefix = "") {
  const items = [];
  const generations = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}i${i}`;
    items.push(item(id));
    generations.push(gen(`${id}-a`, id, "a"), gen(`${id}-b`, id, "b"));
  }
  return { items, generations };
}
