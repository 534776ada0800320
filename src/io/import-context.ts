/**
 * What a format's importer gets: the batch being built and the read options.
 */
import type { Source } from "../feedback/schema.js";
import type { BatchBuilder } from "./batch.js";

export interface ImportContext {
  builder: BatchBuilder;
  /** The file (or stream) being read, as given: formats whose records do not name their dataset read it from the name. */
  name: string;
  project: string;
  /** Project given by the caller, if any (rlxf records keep their own otherwise). */
  projectGiven: boolean;
  source?: Source;
  policy: string;
}

/** Turns one raw record (with its label, e.g. "data.jsonl line 3") into records in the batch; throws ValidationError. */
export type RecordImporter = (raw: unknown, label: string) => void;
