/**
 * Judges on live traffic over HTTP (the rules room does the work): admins create, change, disable and delete
 * rules; admin and read keys list them and read one, each with its counts (matched, evaluated, failed, pending:
 * the backlog). A rule's evaluations per hour stay under the server's ceiling `ruleMaxPerHour`, and a project
 * holds at most `rulesPerProject` rules.
 */
import type { Hono } from "hono";
import { CreateRuleBody, PatchRuleBody, createRule, ruleView, updateRule } from "../rules/index.js";
import { RuleCeilingError } from "../store/index.js";
import { jsonBody } from "./body.js";
import { type Ctx, type Env, type Settings, idParam, requireRole } from "./context.js";
import { notFound } from "./errors.js";
import { overCeiling } from "./limits.js";

export function ruleRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;
  const ceilings = () => ({ maxPerHour: s.limits.ruleMaxPerHour });

  const view = async (c: Ctx, project: string, id: string, status = 200) => {
    const r = await store.rules.get(project, id);
    if (!r) throw notFound(`rule "${id}" not found`);
    return c.json({ rule: ruleView(r, (await store.rules.counts(project)).get(id)) }, status as 200);
  };

  app.post("/v1/rules", async (c) => {
    const key = requireRole(c, "rules.create");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, CreateRuleBody);
    const r = await createRule(store, key.project, b, { ...ceilings(), perProject: s.limits.rulesPerProject }).catch((e: unknown) => {
      if (!(e instanceof RuleCeilingError)) throw e;
      throw overCeiling("rulesPerProject", e.max, `project "${e.project}" holds ${e.held} rules`, "delete or change one (DELETE/PATCH /v1/rules/{id}), or ask the operator to raise it");
    });
    // A retried create (the same id and definition) answers the rule it made, with its counts by now.
    if (!r.created) return view(c, key.project, r.id);
    return c.json({ rule: ruleView(r, undefined) }, 201, { Location: `/v1/rules/${r.id}` });
  });

  app.get("/v1/rules", async (c) => {
    const key = requireRole(c, "rules.read");
    const [rules, counts] = await Promise.all([store.rules.list(key.project), store.rules.counts(key.project)]);
    return c.json({ rules: rules.map((r) => ruleView(r, counts.get(r.id))) });
  });

  app.get("/v1/rules/:id", async (c) => {
    const key = requireRole(c, "rules.read");
    return view(c, key.project, idParam(c));
  });

  app.patch("/v1/rules/:id", async (c) => {
    const key = requireRole(c, "rules.update");
    const id = idParam(c);
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, PatchRuleBody);
    const r = await updateRule(store, key.project, id, b, ceilings());
    if (!r) throw notFound(`rule "${id}" not found`);
    // Enabled again with a backlog: run it now rather than at the next sweep.
    if (r.enabled) void s.jobs.kickRules(key.project);
    return view(c, key.project, id);
  });

  app.delete("/v1/rules/:id", async (c) => {
    const key = requireRole(c, "rules.delete");
    const id = idParam(c);
    if (!(await store.rules.remove(key.project, id))) throw notFound(`rule "${id}" not found`);
    return c.json({ deleted: id });
  });
}
