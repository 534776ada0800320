import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NotFoundError, RlxfError } from "../../errors.js";
import { openStore } from "../../store/index.js";
import { linearSynthetic, rockPaperScissors } from "../synthetic.js";
import {
  getRewardModelArtifact,
  loadRewardModel,
  parseModelRef,
  readRewardModelFile,
  saveRewardModel,
  saveRewardModelArtifact,
  writeRewardModelFile,
} from "./artifacts.js";
import { RewardModel } from "./model.js";
import { trainRewardModel } from "./train.js";

const dir = mkdtempSync(join(tmpdir(), "rlxf-rm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const probes = [
  { prompt: "question 3", response: "good0 good2 the of" },
  { prompt: [{ role: "user", content: "question 3" }], response: "bad1 bad3 a" },
  { prompt: "question 9", response: "entirely unseen" },
];

describe("reward model artifacts", () => {
  it("round-trip through the store (versioned) and files (.json, .json.gz) with identical scores", async () => {
    const syn = linearSynthetic({ n: 200, seed: 1 });
    const { model } = await trainRewardModel(syn.pairs, { name: "demo-rm", seed: 4, query: { project: "default", kinds: ["pairwise"] } });
    const before = await model.score(probes);
    const store = await openStore({ path: ":memory:" });
    try {
      const v1 = await saveRewardModel(store, model);
      expect(v1).toMatchObject({ name: "demo-rm", version: 1, kind: "reward-model" });
      expect(v1.summary).toMatchObject({ type: "bradley-terry", featurizer: "hashed-ngrams", seed: 4, query: { kinds: ["pairwise"] } });
      expect(typeof v1.summary.testAccuracy).toBe("number");
      expect(model.meta.version).toBe(1);
      const v2 = await saveRewardModel(store, model);
      expect(v2.version).toBe(2);

      const loaded = await loadRewardModel(store, "demo-rm");
      expect(loaded.meta.version).toBe(2);
      expect(await loaded.score(probes)).toEqual(before);
      expect((await loadRewardModel(store, "demo-rm@1")).meta.version).toBe(1);
      expect(loaded.temperature).toBe(model.temperature);
      expect(loaded.meta.training?.query).toEqual({ project: "default", kinds: ["pairwise"] });
      expect(loaded.meta.metrics?.test?.accuracy).toBe(model.meta.metrics?.test?.accuracy);
      expect(loaded.meta.seed).toBe(4);

      await expect(loadRewardModel(store, "nope")).rejects.toBeInstanceOf(NotFoundError);
      await expect(loadRewardModel(store, "nope")).rejects.toThrow(/stored: demo-rm@2, demo-rm@1/);
      await store.models.save({ name: "other", kind: "policy", body: {} });
      await expect(loadRewardModel(store, "other")).rejects.toThrow(/not a reward model/);

      for (const name of ["m.json", "m.json.gz"]) {
        const path = join(dir, name);
        await writeRewardModelFile(path, loaded);
        const back = await readRewardModelFile(path);
        expect(await back.score(probes)).toEqual(before);
        expect(back.meta.version).toBe(2);
      }
      // A file imported into another project/name becomes version 1 there.
      const a = await getRewardModelArtifact(store, "demo-rm@1");
      const imported = await saveRewardModelArtifact(store, a, { name: "copy", project: "p2" });
      expect(imported).toMatchObject({ name: "copy", project: "p2", version: 1 });
      expect(await (await loadRewardModel(store, "copy", { project: "p2" })).score(probes)).toEqual(before);
    } finally {
      await store.close();
    }
  });

  it("ensembles and general preference models round-trip too", async () => {
    const syn = linearSynthetic({ n: 150, seed: 2 });
    const ens = (await trainRewardModel(syn.pairs, { type: "ensemble", members: 3, seed: 1 })).model;
    const back = RewardModel.fromArtifact(JSON.parse(JSON.stringify(ens.toArtifact())));
    expect(await back.score(probes)).toEqual(await ens.score(probes));

    const rps = rockPaperScissors({ n: 60, seed: 1 }).pairs;
    const gpm = (await trainRewardModel(rps, { type: "gpm", dims: 2, testFraction: 0 })).model;
    const g2 = RewardModel.fromArtifact(JSON.parse(JSON.stringify(gpm.toArtifact())));
    const pairs = [{ prompt: "Pick a move.", first: "I play rock", second: "I play paper" }];
    expect(await g2.compare(pairs)).toEqual(await gpm.compare(pairs));
  });

  it("rejects what is not an artifact, with the reason", async () => {
    expect(() => RewardModel.fromArtifact({ format: "x" })).toThrow(RlxfError);
    expect(() => RewardModel.fromArtifact({ format: "x" })).toThrow(/format/);
    const path = join(dir, "bad.json");
    writeFileSync(path, "{not json");
    await expect(readRewardModelFile(path)).rejects.toThrow(/not JSON/);
    await expect(readRewardModelFile(join(dir, "missing.json"))).rejects.toBeInstanceOf(NotFoundError);
    const syn = linearSynthetic({ n: 60, seed: 3 });
    const a = (await trainRewardModel(syn.pairs, { testFraction: 0 })).model.toArtifact();
    expect(() => RewardModel.fromArtifact({ ...a, head: { index: "AAAAAA==", weight: "" } })).toThrow(/lengths differ/);
    const emb = { ...a, featurizer: { type: "embedding", model: "m", dim: 4, combine: "pair" } };
    expect(() => RewardModel.fromArtifact(emb)).toThrow(/pass an embedder/);
    expect(JSON.parse(readFileSync(join(dir, "m.json"), "utf8")).format).toBe("rlxf.reward-model");
  });

  it("parses model references", () => {
    expect(parseModelRef("rm")).toEqual({ name: "rm" });
    expect(parseModelRef("rm@12")).toEqual({ name: "rm", version: 12 });
    expect(parseModelRef("a@b@3")).toEqual({ name: "a@b", version: 3 });
  });
});
