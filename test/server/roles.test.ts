/**
 * One table of roles: what each role may do is src/roles.ts (PERMISSIONS); the OpenAPI document's x-roles,
 * README's roles table and the server's answers must all say the same.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PERMISSIONS, ROLES, type Action, type Role } from "../../src/roles.js";
import { createApp } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { ROOT, caller, keyOf } from "./helpers.js";

type Doc = { paths: Record<string, Record<string, { "x-roles"?: Role[]; "x-action"?: Action; security?: unknown[] }>> };

/** README's table of actions: action → routes named in it and roles ticked. */
function readmeTable(): Map<string, { routes: string[]; roles: Role[] }> {
  const lines = readFileSync(join(ROOT, "README.md"), "utf8").split("\n");
  const start = lines.findIndex((l) => /^\| action \| routes \|/.test(l));
  expect(start, "README has a table headed | action | routes | admin | ...").toBeGreaterThan(0);
  const header = lines[start]!.split("|").slice(1, -1).map((c) => c.trim().replace(/`/g, ""));
  const out = new Map<string, { routes: string[]; roles: Role[] }>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    const action = cells[0]!.replace(/`/g, "");
    const routes = [...cells[1]!.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/v1\/[^`]*)`/g)].map((m) => `${m[1]} ${m[2]}`);
    const roles = header.slice(2).filter((_, i) => cells[i + 2] === "✓") as Role[];
    out.set(action, { routes, roles });
  }
  return out;
}

describe("the roles table", () => {
  let store: Store;
  let doc: Doc;
  beforeAll(async () => {
    store = await openStore({ path: ":memory:" });
    doc = (await caller(createApp({ store }))("GET", "/v1/openapi.json")).body;
  });
  afterAll(async () => {
    await store.close();
  });

  /** Every operation of the document: "METHOD /path" → its action and roles. */
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => ({ op: `${m.toUpperCase()} ${path}`, path, method: m.toUpperCase(), ...op })));

  it("the OpenAPI document's x-roles are src/roles.ts's, operation by operation", () => {
    for (const o of operations()) {
      if (o.security !== undefined && o.security.length === 0) continue; // public
      expect(o["x-action"], `${o.op} names its action`).toBeDefined();
      expect(Object.hasOwn(PERMISSIONS, o["x-action"]!), `${o.op}: ${o["x-action"]}`).toBe(true);
      expect(o["x-roles"], o.op).toEqual([...PERMISSIONS[o["x-action"]!].roles]);
    }
  });

  it("README's roles table is src/roles.ts's: every action, its routes and its roles", () => {
    const table = readmeTable();
    expect([...table.keys()].sort()).toEqual(Object.keys(PERMISSIONS).sort());
    const routesOf = new Map<string, string[]>();
    for (const o of operations()) if (o["x-action"]) routesOf.set(o["x-action"], [...(routesOf.get(o["x-action"]) ?? []), o.op]);
    for (const [action, row] of table) {
      expect(row.roles, `README roles of ${action}`).toEqual([...PERMISSIONS[action as Action].roles].sort((a, b) => ROLES.indexOf(a) - ROLES.indexOf(b)));
      expect(row.routes.sort(), `README routes of ${action}`).toEqual((routesOf.get(action) ?? []).sort());
    }
  });

  it("the server answers 403 to exactly the roles the table leaves out, on every route", async () => {
    const app = createApp({ store });
    const callers = Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, caller(app, await keyOf(store, "p", r, `${r}-key`))] as const)));
    let checked = 0;
    for (const o of operations()) {
      if (!o["x-roles"]) continue;
      for (const role of ROLES) {
        let path = o.path.replace(/\{[^}]+\}/g, "x");
        // An annotate key lists generations of one item at a time (a narrowing of its own, not of the table).
        if (o.op === "GET /v1/generations" && role === "annotate") path += "?itemId=x";
        const r = await callers[role]!(o.method, path, o.method === "GET" || o.method === "DELETE" ? undefined : {});
        if (o["x-roles"].includes(role)) expect(r.status, `${role} ${o.op}: ${r.text.slice(0, 200)}`).not.toBe(403);
        else expect(r.status, `${role} ${o.op}: ${r.text.slice(0, 200)}`).toBe(403);
        expect(r.status, `${role} ${o.op}`).toBeLessThan(500);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(150);
  });
});
