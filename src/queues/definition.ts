import { RlxfError } from "../errors.js";
import type { QueueRecord } from "../store/index.js";
import { QueueDefinition } from "./schema.js";

/** What a stored queue asks and of whom (the store keeps it as JSON; it was validated when the queue was made). */
export function definitionOf(q: QueueRecord): QueueDefinition {
  const r = QueueDefinition.safeParse(q.definition);
  if (!r.success) throw new RlxfError("store_inconsistent", `queue "${q.id}" holds a definition that is not a queue's: ${r.error.message}`);
  return r.data;
}
