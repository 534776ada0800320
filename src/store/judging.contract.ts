/**
 * Contract of the records kept for AI feedback (provider response cache,
 * judgement failures), registered once per engine beside the store contract.
 */
import { describe, expect, it } from "vitest";
import { freshStores } from "./support.contract.js";
import { ValidationError } from "../errors.js";
import type { Store } from "./types.js";

const failure = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  judge: "pairwise/gpt",
  sourceType: "judge",
  kind: "pairwise",
  itemId: "i1",
  targets: ["g1", "g2"],
  reason: "unparseable",
  error: "no verdict in the answer",
  raw: ["I like both", "¯\\_(ツ)_/¯"],
  attempts: 2,
  ...extra,
});

export function judgingContract(name: string, factory: () => Promise<Store>, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`judging records contract: ${name}`, () => {
    const fresh = freshStores(factory);

    it("caches responses by key; the first response of a key stays", async () => {
      const s = await fresh();
      expect(await s.responseCache.put([{ key: "k1", model: "m1", body: '{"a":1}' }, { key: "k2", model: "m2", body: "ünïcode ✓" }])).toBe(2);
      expect(await s.responseCache.put([{ key: "k1", model: "m1", body: "other" }, { key: "k3", model: "m1", body: "x" }])).toBe(1);
      const got = await s.responseCache.get(["k1", "k2", "missing"]);
      expect([...got.keys()].sort()).toEqual(["k1", "k2"]);
      expect(got.get("k1")).toMatchObject({ key: "k1", model: "m1", body: '{"a":1}' });
      expect(got.get("k2")!.body).toBe("ünïcode ✓");
      expect(await s.responseCache.count()).toBe(3);
      expect(await s.responseCache.count({ model: "m1" })).toBe(2);
      expect(await s.responseCache.clear({ model: "m1" })).toBe(2);
      expect(await s.responseCache.count()).toBe(1);
      await expect(s.responseCache.put([{ key: "k9", model: "m", body: "nul \u0000" }])).rejects.toThrow(ValidationError);
      const many = Array.from({ length: 1200 }, (_, i) => ({ key: `bulk${i}`, model: "m", body: String(i) }));
      expect(await s.responseCache.put(many)).toBe(1200);
      expect((await s.responseCache.get(many.map((e) => e.key))).size).toBe(1200);
    });

    it("stores judgement failures with their raw answers, idempotently, and pages through them", async () => {
      const s = await fresh();
      expect(await s.judgementFailures.write([failure("f1"), failure("f2", { judge: "critique/gpt", sourceType: "critic", kind: "critique", reason: "provider_error", raw: [] })])).toEqual({
        inserted: 2,
        existing: 0,
      });
      expect(await s.judgementFailures.write([failure("f1"), failure("f3", { project: "other" })])).toEqual({ inserted: 1, existing: 1 });
      const all = (await s.judgementFailures.list()).records;
      expect(all.map((f) => f.id).sort()).toEqual(["f1", "f2"]);
      expect(all.find((f) => f.id === "f1")).toMatchObject({ project: "default", judge: "pairwise/gpt", raw: ["I like both", "¯\\_(ツ)_/¯"], attempts: 2, targets: ["g1", "g2"] });
      expect(typeof all[0]!.createdAt).toBe("string");
      expect((await s.judgementFailures.list({ judge: "critique/gpt" })).records.map((f) => f.id)).toEqual(["f2"]);
      expect((await s.judgementFailures.list({ reason: "unparseable" })).records.map((f) => f.id)).toEqual(["f1"]);
      expect((await s.judgementFailures.list({ project: "other" })).records.map((f) => f.id)).toEqual(["f3"]);
      expect(await s.judgementFailures.countByJudge()).toEqual(new Map([["pairwise/gpt", 1], ["critique/gpt", 1]]));

      await s.judgementFailures.write(Array.from({ length: 7 }, (_, i) => failure(`p${i}`, { judge: "paged" })));
      const page1 = await s.judgementFailures.list({ judge: "paged", limit: 4 });
      expect(page1.records).toHaveLength(4);
      const page2 = await s.judgementFailures.list({ judge: "paged", limit: 4, cursor: page1.nextCursor! });
      expect(page2.records).toHaveLength(3);
      expect(page2.nextCursor).toBeUndefined();
      const iterated: string[] = [];
      for await (const f of s.judgementFailures.iterate({ judge: "paged", pageSize: 2 })) iterated.push(f.id);
      expect(iterated.sort()).toEqual(["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
    });

    it("rejects malformed failures, naming the field", async () => {
      const s = await fresh();
      await expect(s.judgementFailures.write([failure("bad", { reason: "tired" })])).rejects.toThrow(/reason/);
      await expect(s.judgementFailures.write([failure("bad", { raw: "not a list" })])).rejects.toThrow(/raw/);
      expect((await s.judgementFailures.list()).records).toEqual([]);
    });
  });
}
