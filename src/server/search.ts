/**
 * `GET /v1/search/items`: the Browse screen's search (text, dataset, policy, metadata, feedback kind, source and
 * value, disagreement), done by the store a bounded window at a time (see `store.search`).
 */
import type { Hono } from "hono";
import type { ItemSearch, ValueOp } from "../store/index.js";
import { SearchItemsQuery } from "../api/index.js";
import { type Env, type Settings, parseQuery, requireRole } from "./context.js";

/** `score>=4` → field, comparison, value (the query's schema has checked the shape). */
function valueOf(s: string): { field: string; op: ValueOp; value: string } {
  const m = /^([A-Za-z0-9_-]{1,64})(!=|<=|>=|=|<|>)(.*)$/s.exec(s)!;
  return { field: m[1]!, op: m[2] as ValueOp, value: m[3]! };
}

export function searchRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;
  app.get("/v1/search/items", async (c) => {
    const key = requireRole(c, "items.search");
    const q = parseQuery(c, SearchItemsQuery);
    const at = q.metadata?.indexOf("=") ?? -1;
    const feedback = q.kind !== undefined || q.sourceType !== undefined || q.sourceId !== undefined || q.value !== undefined;
    const search: ItemSearch = {
      project: key.project,
      ...(q.q !== undefined ? { text: q.q } : {}),
      ...(q.dataset !== undefined ? { dataset: q.dataset } : {}),
      ...(q.policy !== undefined ? { policy: q.policy } : {}),
      ...(q.metadata !== undefined ? { metadata: { key: q.metadata.slice(0, at), value: q.metadata.slice(at + 1) } } : {}),
      ...(feedback
        ? {
            feedback: {
              ...(q.kind !== undefined ? { kind: q.kind } : {}),
              ...(q.sourceType !== undefined ? { sourceType: q.sourceType } : {}),
              ...(q.sourceId !== undefined ? { sourceId: q.sourceId } : {}),
              ...(q.value !== undefined ? { value: valueOf(q.value) } : {}),
            },
          }
        : {}),
      ...(q.disagreement !== undefined ? { disagreement: q.disagreement } : {}),
    };
    return c.json(await store.search.items(search, { ...(q.limit !== undefined ? { limit: q.limit } : {}), ...(q.scan !== undefined ? { scan: q.scan } : {}), ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) }));
  });
}
