/** The io room's formats and export requests, for code that must not load the io room (the API's shapes, the web app). */
import { z } from "zod";
import { FEEDBACK_KINDS, Id, Name, SOURCE_TYPES, TIME_FORMAT_MESSAGE, isoTimeMs } from "../feedback/schema.js";
import { EXPORT_FORMATS } from "./types.js";

export { EXPORT_FORMATS, IMPORT_FORMATS, type ExportFormat, type ImportFormat } from "./types.js";

/** A point in time in a JSON body: an ISO 8601 date or date-time with an offset, or epoch milliseconds (a number). */
const TimeFilter = z.union([
  z.string().refine((s) => isoTimeMs(s) !== undefined, TIME_FORMAT_MESSAGE),
  z.number().int().min(-8.64e15).max(8.64e15),
]);

/** What narrows an export of stored feedback (an rlxf export then holds only the records that feedback refers to). */
export const ExportFilters = z.strictObject({
  kind: z.array(z.enum(FEEDBACK_KINDS, { message: `each kind must be one of ${FEEDBACK_KINDS.join(", ")}` })).min(1).optional(),
  sourceType: z.enum(SOURCE_TYPES).optional(),
  sourceId: Name.optional(),
  policy: Name.optional(),
  itemId: Id.optional(),
  dataset: Name.optional(),
  queueId: Id.optional(),
  since: TimeFilter.describe("createdAt >= since (inclusive)").optional(),
  until: TimeFilter.describe("createdAt < until (exclusive)").optional(),
});
export type ExportFilters = z.infer<typeof ExportFilters>;

/** An export of stored feedback: a format and, optionally, filters. */
export const ExportRequest = z.strictObject({
  format: z.enum(EXPORT_FORMATS),
  filters: ExportFilters.optional(),
});
export type ExportRequest = z.infer<typeof ExportRequest>;
