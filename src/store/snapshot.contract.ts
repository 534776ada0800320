/**
 * Snapshot reads, registered once per engine (store.sqlite.test.ts with a file, store.postgres.test.ts):
 * an export streamed while writers keep adding items, generations and feedback is one consistent
 * moment of the store, and imports back into a fresh store.
 */
import { describe, expect, it } from "vitest";
import { exportToString, importRawRecords, type ExportSource } from "../io/index.js";
import { freshStores } from "./support.contract.js";
import { readSnapshot } from "./snapshot.js";
import { syntheticBatch } from "./store.contract.js";
import type { Store } from "./types.js";

export function snapshotContract(engine: string, factory: () => Promise<Store>, opts: { skip?: boolean; maxSnapshots: number }): void {
  describe.skipIf(opts.skip)(`snapshot reads (${engine})`, () => {
    const fresh = freshStores(factory);

    /** One complete round: an item, its two generations, and a pairwise feedback on them. */
    const writer = (store: Store) => {
      let n = 0;
      return { rounds: () => n, write: () => store.write(syntheticBatch(1, `w${String(n++).padStart(4, "0")}-`)) };
    };

    it("an export streamed while items, generations and feedback are written imports back whole", async () => {
      const store = await fresh();
      await store.write(syntheticBatch(40, "seed-"));
      const w = writer(store);
      // A writer running freely beside the export...
      let stop = false;
      const free = (async () => {
        for (let i = 0; i < 400 && !stop; i++) {
          await w.write();
          await new Promise((r) => setImmediate(r));
        }
      })();
      // ...and one the export itself drives, so writes land between its pages whatever the timing.
      async function* interleaved<T>(it: AsyncIterable<T>): AsyncGenerator<T> {
        let k = 0;
        for await (const x of it) {
          yield x;
          if (++k % 5 === 0) await w.write();
        }
      }
      const src: ExportSource = {
        items: () => interleaved(store.iterateItems({ pageSize: 7 })),
        generations: () => interleaved(store.iterateGenerations({ pageSize: 7 })),
        resolvedFeedback: () => interleaved(store.iterateResolvedFeedback({ pageSize: 7 })),
      };
      const text = await exportToString("rlxf", src);
      stop = true;
      await free;
      const lines = text.trimEnd().split("\n").map((l, i) => ({ value: JSON.parse(l) as Record<string, unknown>, label: `line ${i + 1}` }));

      // Internally consistent: every generation's item and every feedback's targets are in the file.
      const items = new Set(lines.filter((l) => "prompt" in l.value).map((l) => l.value.id));
      const gens = lines.filter((l) => "output" in l.value);
      const feedback = lines.filter((l) => "targets" in l.value);
      for (const g of gens) expect(items.has(g.value.itemId), `generation ${String(g.value.id)}`).toBe(true);
      const genIds = new Set(gens.map((g) => g.value.id));
      for (const f of feedback) for (const t of f.value.targets as string[]) expect(genIds.has(t), `feedback ${String(f.value.id)} names ${t}`).toBe(true);
      // One moment: every round is in the file whole or not at all, the seed entirely.
      expect(gens.length).toBe(2 * items.size);
      expect(feedback.length).toBe(items.size);
      expect(items.size).toBeGreaterThanOrEqual(40);
      // The writers did write during the export, and those rounds are not in it.
      expect(w.rounds()).toBeGreaterThan(20);
      expect((await store.counts()).items).toBeGreaterThan(items.size);

      // It imports back into a fresh store without error.
      const batch = await importRawRecords(lines, "export.jsonl", { format: "rlxf" });
      const dest = await fresh();
      const report = await dest.write(batch);
      expect(report.items.inserted).toBe(items.size);
      expect(report.feedback.inserted).toBe(feedback.length);
    });

    it(`holds at most ${opts.maxSnapshots} snapshots at once (each keeps a connection); the next waits for one to end`, async () => {
      const store = await fresh();
      await store.write(syntheticBatch(3, "c-"));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let reading = 0;
      let most = 0;
      const readers = Array.from({ length: opts.maxSnapshots + 3 }, () =>
        readSnapshot(async () => {
          const c = await store.counts();
          most = Math.max(most, ++reading);
          await gate;
          reading--;
          return c.items;
        }),
      );
      // Let every reader that can get a snapshot get one (a generous bound for a busy machine), then a
      // little longer for any that should not, and count.
      for (let i = 0; i < 1500 && most < opts.maxSnapshots; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      expect(most).toBe(opts.maxSnapshots);
      // Other reads and writes go on meanwhile.
      await store.write(syntheticBatch(1, "d-"));
      expect((await store.counts()).items).toBe(4);
      release();
      expect(await Promise.all(readers)).toEqual(expect.arrayContaining([3]));
      expect(most).toBe(opts.maxSnapshots);
    });

    it("readSnapshot: counts and pages inside it do not move while writers go on; outside they do", async () => {
      const store = await fresh();
      await store.write(syntheticBatch(5, "a-"));
      const w = writer(store);
      const inside = await readSnapshot(async () => {
        const first = await store.counts();
        await w.write();
        await w.write();
        const page = await store.listItems({ limit: 100 });
        const again = await store.counts();
        return { first, again, page: page.records.length };
      });
      expect(inside.again).toEqual(inside.first);
      expect(inside.page).toBe(5);
      expect((await store.counts()).items).toBe(7);
      // A snapshot that ended leaves nothing open: the store closes cleanly (see freshStores).
    });
  });
}
