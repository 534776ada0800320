/**
 * The store room: typed records (items, generations, feedback) kept in SQLite
 * (embedded, the default) or PostgreSQL, behind one Kysely query layer.
 *
 *     const store = await openStore();            // ./.rlxf/rlxf.db, or RLXF_DATABASE_URL / RLXF_DB
 *     await store.write({ items, generations, feedback });
 *     for await (const r of store.iterateResolvedFeedback({ kind: "pairwise" })) ...
 *     await store.close();
 */
export { openStore, resolveTarget, redact, DEFAULT_DB_PATH } from "./store.js";
export { MissingReferenceError, RecordConflictError } from "./write.js";
export { canonicalJson } from "./codec.js";
export type {
  Counts,
  Engine,
  FeedbackFilter,
  GenerationFilter,
  ItemFilter,
  IterateOptions,
  KindReport,
  OpenStoreOptions,
  Page,
  PageOptions,
  RecordKind,
  RecordTimes,
  Store,
  TimeInput,
  WriteBatch,
  WriteOptions,
  WriteOutcome,
  WriteReport,
} from "./types.js";
