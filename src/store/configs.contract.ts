/**
 * Contract of the store's named, versioned configs, registered once per engine beside the store contract.
 */
import { describe, expect, it } from "vitest";
import { freshStores } from "./support.contract.js";
import { ValidationError } from "../errors.js";
import type { Store } from "./types.js";

export function configsContract(name: string, factory: () => Promise<Store>, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`configs contract: ${name}`, () => {
    const fresh = freshStores(factory);

    it("versions each (kind, name) per project and reads the latest or a pinned version", async () => {
      const s = await fresh();
      const v1 = await s.configs.save({ kind: "reward-spec", name: "strict", body: { type: "math" }, description: "gold answers" });
      expect(v1).toMatchObject({ project: "default", kind: "reward-spec", name: "strict", version: 1, description: "gold answers", body: { type: "math" } });
      const v2 = await s.configs.save({ kind: "reward-spec", name: "strict", body: { type: "exact" } });
      expect(v2.version).toBe(2);
      expect(v2.description).toBeUndefined();
      // Kinds and projects are separate namespaces.
      expect((await s.configs.save({ kind: "judge", name: "strict", body: 1 })).version).toBe(1);
      expect((await s.configs.save({ project: "p2", kind: "reward-spec", name: "strict", body: 2 })).version).toBe(1);

      expect((await s.configs.get("default", "reward-spec", "strict"))?.body).toEqual({ type: "exact" });
      expect((await s.configs.get("default", "reward-spec", "strict", 1))?.body).toEqual({ type: "math" });
      expect(await s.configs.get("default", "reward-spec", "strict", 3)).toBeUndefined();
      expect(await s.configs.get("default", "reward-spec", "none")).toBeUndefined();
      expect((await s.configs.get("p2", "reward-spec", "strict"))?.body).toBe(2);
    });

    it("lists the latest version of each name, sorted, or every version of one name", async () => {
      const s = await fresh();
      for (const [n, b] of [["b", 1], ["a", 1], ["b", 2], ["B", 1]] as const) await s.configs.save({ kind: "reward-spec", name: n, body: b });
      await s.configs.save({ kind: "other", name: "a", body: 0 });
      const latest = await s.configs.list({ kind: "reward-spec" });
      expect(latest.map((c) => `${c.name}@${c.version}:${String(c.body)}`)).toEqual(["B@1:1", "a@1:1", "b@2:2"]);
      expect((await s.configs.list({ kind: "reward-spec", name: "b" })).map((c) => c.version)).toEqual([2, 1]);
      expect(await s.configs.list({ kind: "reward-spec", project: "elsewhere" })).toEqual([]);
    });

    it("removes one version or all of them", async () => {
      const s = await fresh();
      for (let i = 0; i < 3; i++) await s.configs.save({ kind: "k", name: "n", body: i });
      expect(await s.configs.remove("default", "k", "n", 3)).toBe(1);
      expect((await s.configs.get("default", "k", "n"))?.version).toBe(2);
      expect(await s.configs.remove("default", "k", "n")).toBe(2);
      expect(await s.configs.get("default", "k", "n")).toBeUndefined();
      expect(await s.configs.remove("default", "k", "n")).toBe(0);
    });

    it("rejects bad names and bodies, naming the field, and writes nothing", async () => {
      const s = await fresh();
      const bad = async (input: Parameters<Store["configs"]["save"]>[0], path: string) => {
        const e = await s.configs.save(input).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).issues[0]?.path).toBe(path);
      };
      await bad({ kind: "k", name: "", body: 1 }, "name");
      await bad({ kind: "k", name: "n", body: undefined }, "body");
      await bad({ kind: "k", name: "n", body: { x: 1n } }, "body");
      await bad({ kind: "", name: "n", body: 1 }, "kind");
      expect(await s.configs.list({ kind: "k" })).toEqual([]);
    });

    it("gives distinct versions to concurrent saves", async () => {
      const s = await fresh();
      const saved = await Promise.all(Array.from({ length: 8 }, (_, i) => s.configs.save({ kind: "k", name: "race", body: i })));
      expect(saved.map((c) => c.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });
  });
}
