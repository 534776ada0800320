/**
 * An ExportSource over records held in memory (an ImportBatch, or any arrays).
 */
import { NotFoundError } from "../errors.js";
import type { Feedback, Generation, Item, ResolvedFeedback } from "../feedback/schema.js";
import type { ExportSource } from "./types.js";

export interface MemoryRecords {
  items: Item[];
  generations: Generation[];
  feedback: Feedback[];
}

/**
 * Serve `records` as an ExportSource. Feedback is resolved to its item (`itemId`, else its first target's item)
 * and its target generations, in target order; a missing reference throws NotFoundError when reached.
 * Records are looked up by project and id.
 */
export function memorySource(records: MemoryRecords): ExportSource {
  const key = (project: string, id: string) => `${project}\u0000${id}`;
  const items = new Map(records.items.map((i) => [key(i.project, i.id), i]));
  const gens = new Map(records.generations.map((g) => [key(g.project, g.id), g]));
  return {
    async *items() {
      yield* records.items;
    },
    async *generations() {
      yield* records.generations;
    },
    async *resolvedFeedback(): AsyncGenerator<ResolvedFeedback> {
      for (const f of records.feedback) {
        const targets = f.targets.map((id) => {
          const g = gens.get(key(f.project, id));
          if (!g) throw new NotFoundError(`feedback "${f.id}" targets generation "${id}", which is not among the generations`);
          return g;
        });
        const itemId = f.itemId ?? targets[0]!.itemId;
        const item = items.get(key(f.project, itemId));
        if (!item) throw new NotFoundError(`feedback "${f.id}" refers to item "${itemId}", which is not among the items`);
        yield { feedback: f, item, targets };
      }
    },
  };
}
