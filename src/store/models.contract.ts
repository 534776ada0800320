/**
 * Contract of the store's model artifacts and vector cache, registered once per engine beside the store contract.
 */
import { describe, expect, it } from "vitest";
import { freshStores } from "./support.contract.js";
import { ValidationError } from "../errors.js";
import type { Store } from "./types.js";

export function modelsContract(name: string, factory: () => Promise<Store>, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`models contract: ${name}`, () => {
    const fresh = freshStores(factory);

    it("saves versions 1, 2, ... per name and project, and reads the latest or a given one", async () => {
      const s = await fresh();
      const body = { weights: [1.5, -2], nested: { text: "é ☃ \u{1F600}" } };
      const v1 = await s.models.save({ name: "rm", kind: "reward-model", body, summary: { accuracy: 0.7 } });
      expect(v1).toMatchObject({ project: "default", name: "rm", version: 1, kind: "reward-model", summary: { accuracy: 0.7 } });
      const v2 = await s.models.save({ name: "rm", kind: "reward-model", body: { weights: [3] } });
      expect(v2.version).toBe(2);
      const other = await s.models.save({ project: "p2", name: "rm", kind: "reward-model", body: 1 });
      expect(other.version).toBe(1);

      expect((await s.models.get("default", "rm"))?.body).toEqual({ weights: [3] });
      expect(await s.models.get("default", "rm", 1)).toEqual({ ...v1, body });
      expect(await s.models.get("default", "rm", 3)).toBeUndefined();
      expect(await s.models.get("default", "nope")).toBeUndefined();

      await s.models.save({ name: "a-first", kind: "other", body: null });
      const all = await s.models.list();
      expect(all.map((m) => `${m.name}@${m.version}`)).toEqual(["a-first@1", "rm@2", "rm@1"]);
      expect((await s.models.list({ kind: "reward-model" })).map((m) => m.version)).toEqual([2, 1]);
      expect((await s.models.list({ project: "p2" })).map((m) => m.name)).toEqual(["rm"]);
      expect(all.every((m) => !("body" in m))).toBe(true);

      expect(await s.models.remove("default", "rm", 1)).toBe(1);
      expect((await s.models.get("default", "rm"))?.version).toBe(2);
      // A new save continues after the highest remaining version.
      expect((await s.models.save({ name: "rm", kind: "reward-model", body: 0 })).version).toBe(3);
      expect(await s.models.remove("default", "rm")).toBe(2);
      expect(await s.models.list({ name: "rm" })).toEqual([]);
    });

    it("gives concurrent saves distinct versions", async () => {
      const s = await fresh();
      const saved = await Promise.all(Array.from({ length: 5 }, (_, i) => s.models.save({ name: "m", kind: "k", body: i })));
      expect(saved.map((m) => m.version).sort()).toEqual([1, 2, 3, 4, 5]);
    });

    it("rejects bad names and bodies that are not JSON", async () => {
      const s = await fresh();
      await expect(s.models.save({ name: "", kind: "k", body: 1 })).rejects.toBeInstanceOf(ValidationError);
      await expect(s.models.save({ name: "a\u0000b", kind: "k", body: 1 })).rejects.toBeInstanceOf(ValidationError);
      await expect(s.models.save({ name: "x", kind: "k", body: undefined })).rejects.toBeInstanceOf(ValidationError);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(s.models.save({ name: "x", kind: "k", body: cyclic })).rejects.toBeInstanceOf(ValidationError);
    });

    it("caches vectors by namespace and key; the first vector of a key stays", async () => {
      const s = await fresh();
      await s.vectors.put("emb:a", [
        { key: "k1", vector: [0.5, -1.25, 3] },
        { key: "k2", vector: new Float32Array([1, 2]) },
      ]);
      await s.vectors.put("emb:a", [{ key: "k1", vector: [9, 9, 9] }]);
      await s.vectors.put("emb:b", [{ key: "k1", vector: [7] }]);
      const got = await s.vectors.get("emb:a", ["k1", "k2", "k3", "k1"]);
      expect([...got.keys()].sort()).toEqual(["k1", "k2"]);
      expect(Array.from(got.get("k1")!)).toEqual([0.5, -1.25, 3]);
      expect(Array.from(got.get("k2")!)).toEqual([1, 2]);
      expect(Array.from((await s.vectors.get("emb:b", ["k1"])).get("k1")!)).toEqual([7]);
      await expect(s.vectors.put("emb:a", [{ key: "bad", vector: [NaN] }])).rejects.toBeInstanceOf(ValidationError);
      expect((await s.vectors.get("emb:a", [])).size).toBe(0);
    });
  });
}
