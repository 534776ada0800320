/**
 * Contract of the store's access records (API keys, assignments), registered
 * once per engine beside the store contract.
 */
import { describe, expect, it } from "vitest";
import { freshStores } from "./support.contract.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { hashKey, keyIdOf } from "./access.js";
import { gen, item } from "./store.contract.js";
import type { Store } from "./types.js";

export function accessContract(name: string, factory: () => Promise<Store>, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`access contract: ${name}`, () => {
    const fresh = freshStores(factory);

    it("creates keys shown once, authenticates them, and revokes them", async () => {
      const s = await fresh();
      const { key, secret } = await s.keys.create({ project: "p1", role: "ingest", name: "pipeline" });
      expect(secret).toMatch(/^rlxf_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(keyIdOf(secret)).toBe(key.id);
      expect(key).toMatchObject({ project: "p1", role: "ingest", name: "pipeline" });
      expect(key.revokedAt).toBeUndefined();
      expect(await s.keys.authenticate(secret)).toEqual(key);

      // Only the hash is kept: nothing returned carries the secret.
      expect(JSON.stringify(await s.keys.list({ includeRevoked: true }))).not.toContain(secret.slice(22));
      expect(hashKey(secret)).toHaveLength(64);

      // Wrong secret with a real id, malformed keys, unknown ids.
      const forged = secret.slice(0, -4) + (secret.endsWith("AAAA") ? "BBBB" : "AAAA");
      expect(await s.keys.authenticate(forged)).toBeUndefined();
      expect(await s.keys.authenticate("")).toBeUndefined();
      expect(await s.keys.authenticate("rlxf_nothex_x")).toBeUndefined();
      expect(await s.keys.authenticate(`rlxf_0000000000000000_${"A".repeat(43)}`)).toBeUndefined();

      const other = await s.keys.create({ project: "p2", role: "admin" });
      expect(other.key.name).toBe(other.key.id);
      expect((await s.keys.list()).map((k) => k.id)).toEqual([key.id, other.key.id]);
      expect((await s.keys.list({ project: "p2" })).map((k) => k.id)).toEqual([other.key.id]);

      // Revoking within another project finds nothing; within its own it works, once.
      expect(await s.keys.revoke(key.id, "p2")).toBeUndefined();
      expect(await s.keys.authenticate(secret)).toBeDefined();
      const revoked = await s.keys.revoke(key.id, "p1");
      expect(revoked?.revokedAt).toBeDefined();
      expect(await s.keys.authenticate(secret)).toBeUndefined();
      const again = await s.keys.revoke(key.id);
      expect(again?.revokedAt).toBe(revoked?.revokedAt);
      expect((await s.keys.list()).map((k) => k.id)).toEqual([other.key.id]);
      expect((await s.keys.list({ includeRevoked: true })).length).toBe(2);
      expect(await s.keys.get(key.id, "p1")).toMatchObject({ id: key.id, revokedAt: revoked?.revokedAt });
      expect(await s.keys.get(key.id, "p2")).toBeUndefined();
    });

    it("refuses bad roles and names", async () => {
      const s = await fresh();
      await expect(s.keys.create({ project: "p", role: "root" as never })).rejects.toBeInstanceOf(ValidationError);
      await expect(s.keys.create({ project: "", role: "read" })).rejects.toBeInstanceOf(ValidationError);
      await expect(s.keys.create({ project: "p", role: "read", name: "a\u0000b" })).rejects.toBeInstanceOf(ValidationError);
    });

    it("assigns stored items to annotators, per project, with pagination", async () => {
      const s = await fresh();
      await s.write({ items: [item("i1"), item("i2"), item("i3")], generations: [gen("g1", "i1")] });
      await s.write({ items: [item("i1", { project: "other" })] });
      expect(await s.assignments.add("default", "alice", ["i1", "i2", "i1"])).toEqual({ inserted: 2, existing: 1 });
      expect(await s.assignments.add("default", "alice", ["i2", "i3"])).toEqual({ inserted: 1, existing: 1 });
      await s.assignments.add("default", "bob", ["i1"]);
      await s.assignments.add("other", "alice", ["i1"]);

      const e = await s.assignments.add("default", "alice", ["i1", "nope"]).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(NotFoundError);
      expect((e as Error).message).toContain("nope");

      expect([...(await s.assignments.assigned("default", "alice", ["i1", "i3", "x"]))].sort()).toEqual(["i1", "i3"]);
      expect([...(await s.assignments.assigned("default", "bob", ["i2"]))]).toEqual([]);

      const p1 = await s.assignments.list({ project: "default", annotator: "alice", limit: 2 });
      expect(p1.records.map((a) => a.itemId)).toEqual(["i1", "i2"]);
      expect(p1.nextCursor).toBeDefined();
      const p2 = await s.assignments.list({ project: "default", annotator: "alice", limit: 2, cursor: p1.nextCursor as string });
      expect(p2.records.map((a) => a.itemId)).toEqual(["i3"]);
      expect(p2.nextCursor).toBeUndefined();
      expect((await s.assignments.list({ project: "default" })).records).toHaveLength(4);
      expect((await s.assignments.list({ project: "other" })).records).toEqual([
        { project: "other", annotator: "alice", itemId: "i1", createdAt: expect.any(String) },
      ]);
      await expect(s.assignments.list({ project: "default", cursor: "garbage" })).rejects.toBeInstanceOf(ValidationError);

      expect(await s.assignments.remove("default", "alice", ["i1", "i9"])).toBe(1);
      expect([...(await s.assignments.assigned("default", "alice", ["i1", "i2"]))]).toEqual(["i2"]);
    });
  });
}
