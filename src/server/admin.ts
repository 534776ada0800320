/**
 * Keys and assignments, within the key's project: admin keys manage keys and
 * assign items to annotators; annotate keys list their own assignments.
 */
import type { Hono } from "hono";
import type { Item } from "../feedback/schema.js";
import { jsonBody } from "./body.js";
import { type Env, type Settings, charge, idParam, parseQuery, requireRole } from "./context.js";
import { chargePage } from "./records.js";
import { forbidden, notFound } from "./errors.js";
import { AssignBody, CreateKeyBody, ListAssignmentsQuery, ListKeysQuery } from "../api/index.js";

export function adminRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;

  app.get("/v1/me", (c) => c.json(c.get("key")));

  app.post("/v1/keys", async (c) => {
    const key = requireRole(c, "keys.create");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, CreateKeyBody);
    const created = await store.keys.create({ project: key.project, role: b.role, ...(b.name !== undefined ? { name: b.name } : {}) });
    return c.json(created, 201);
  });

  app.get("/v1/keys", async (c) => {
    const key = requireRole(c, "keys.list");
    const q = parseQuery(c, ListKeysQuery);
    return c.json({ records: await store.keys.list({ project: key.project, includeRevoked: q.includeRevoked ?? false }) });
  });

  app.delete("/v1/keys/:id", async (c) => {
    const key = requireRole(c, "keys.revoke");
    const id = idParam(c);
    const revoked = await store.keys.revoke(id, key.project);
    if (!revoked) throw notFound(`key "${id}" not found`);
    return c.json(revoked);
  });

  app.post("/v1/assignments", async (c) => {
    const key = requireRole(c, "assignments.create");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, AssignBody);
    await charge(c, s, b.itemIds.length * s.limits.costRecord, `assigning ${b.itemIds.length} item(s)`);
    return c.json(await store.assignments.add(key.project, b.annotator, b.itemIds));
  });

  app.delete("/v1/assignments", async (c) => {
    const key = requireRole(c, "assignments.delete");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, AssignBody);
    return c.json({ removed: await store.assignments.remove(key.project, b.annotator, b.itemIds) });
  });

  app.get("/v1/assignments", async (c) => {
    const key = requireRole(c, "assignments.read");
    const q = parseQuery(c, ListAssignmentsQuery);
    await chargePage(c, s, q.limit);
    if (key.role === "annotate") {
      if (q.annotator !== undefined && q.annotator !== key.name) throw forbidden(`an annotate key reads only its own assignments ("${key.name}")`);
      q.annotator = key.name;
    }
    const page = await store.assignments.list({ ...q, project: key.project });
    const items = new Map<string, Item | undefined>();
    for (const a of page.records) if (!items.has(a.itemId)) items.set(a.itemId, await store.getItem(key.project, a.itemId));
    return c.json({
      records: page.records.map((a) => {
        const item = items.get(a.itemId);
        return { annotator: a.annotator, itemId: a.itemId, createdAt: a.createdAt, ...(item ? { item } : {}) };
      }),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    });
  });
}
