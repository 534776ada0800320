/**
 * The reward service over HTTP (the rewards room does the work): `POST /v1/reward` scores a batch of
 * samples, `POST /v1/reward/openrlhf` speaks OpenRLHF's remote reward-model protocol (so that
 * `--remote_rm_url` can point here), and `/v1/reward/specs` keeps a project's named specs.
 */
import type { Hono } from "hono";
import {
  OpenRlhfBody,
  OpenRlhfQuery,
  RewardBody,
  type RewardScorer,
  RewardService,
  RewardSpecQuery,
  SaveRewardSpecBody,
  deleteRewardSpec,
  getRewardSpec,
  listRewardSpecs,
  saveRewardSpec,
  scoreBatch,
  scoreOpenRlhf,
} from "../rewards/index.js";
import { jsonBody } from "./body.js";
import { type Env, type Settings, charge, parseQuery, requireRole } from "./context.js";

export function rewardRoutes(app: Hono<Env>, s: Settings): void {
  // Saved specs are checked and kept here; batches are scored in the compute pool's threads, off the event loop.
  const service = new RewardService(s.store, s.judgeModel ? { judgeModel: s.judgeModel } : {});
  const pooled: RewardScorer = { score: (project, samples) => s.compute.call("reward", { project, samples: [...samples] }) };
  // Samples per request: the server's ceiling rewardSamples (a 400 naming `samples` beyond it).
  const rewardBody = RewardBody(s.limits.rewardSamples);
  const openRlhfBody = OpenRlhfBody(s.limits.rewardSamples);

  app.post("/v1/reward", async (c) => {
    const key = requireRole(c, "reward.compute");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, rewardBody);
    if (b.store) requireRole(c, "reward.store");
    await charge(c, s, b.samples.length * s.limits.costSample, `scoring ${b.samples.length} sample(s)`);
    return c.json(await scoreBatch(pooled, s.store, key.project, b));
  });

  app.post("/v1/reward/specs", async (c) => {
    const key = requireRole(c, "rewardSpecs.save");
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, SaveRewardSpecBody);
    return c.json(await saveRewardSpec(s.store, service.specs, key.project, b), 201);
  });

  app.get("/v1/reward/specs", async (c) => {
    const key = requireRole(c, "rewardSpecs.read");
    return c.json({ specs: await listRewardSpecs(s.store, key.project) });
  });

  app.get("/v1/reward/specs/:name", async (c) => {
    const key = requireRole(c, "rewardSpecs.read");
    const q = parseQuery(c, RewardSpecQuery);
    return c.json(await getRewardSpec(s.store, key.project, c.req.param("name"), q.version));
  });

  app.delete("/v1/reward/specs/:name", async (c) => {
    const key = requireRole(c, "rewardSpecs.delete");
    const q = parseQuery(c, RewardSpecQuery);
    return c.json({ deleted: await deleteRewardSpec(s.store, service.specs, key.project, c.req.param("name"), q.version) });
  });

  app.post("/v1/reward/openrlhf", async (c) => {
    const key = requireRole(c, "reward.compute");
    const q = parseQuery(c, OpenRlhfQuery);
    const b = await jsonBody(c.req.raw, s.maxBodyBytes, openRlhfBody);
    await charge(c, s, b.query.length * s.limits.costSample, `scoring ${b.query.length} sample(s)`);
    return c.json(await scoreOpenRlhf(pooled, key.project, b, q.spec));
  });
}
