/**
 * rlxf JSON Lines: one record per line in its own schema. A line with `kind` and `targets` is feedback, one with
 * `itemId` and `output` a generation, one with `prompt` an item. Records without an `id` get a deterministic one.
 */
import { ValidationError } from "../../errors.js";
import { generationIdFor, itemIdFor } from "../ids.js";
import { asRow } from "../fields.js";
import type { ImportContext, RecordImporter } from "../import-context.js";
import type { Exporter } from "../export-helpers.js";

export type RlxfRecordKind = "item" | "generation" | "feedback";

/** Which record a raw rlxf line is, or undefined. */
export function rlxfKind(row: Record<string, unknown>): RlxfRecordKind | undefined {
  if ("kind" in row && "targets" in row) return "feedback";
  if ("itemId" in row && "output" in row) return "generation";
  if ("prompt" in row) return "item";
  return undefined;
}

export function rlxfImporter(ctx: ImportContext): RecordImporter {
  return (raw, label) => {
    const row = { ...asRow(raw, label, "rlxf record") };
    const kind = rlxfKind(row);
    if (!kind) {
      throw new ValidationError(
        [
          {
            path: "",
            message: "not an rlxf record: an item has `prompt`, a generation `itemId` and `output`, a feedback `kind` and `targets`",
          },
        ],
        label,
        "rlxf record",
      );
    }
    if (row.project === undefined && ctx.projectGiven) row.project = ctx.project;
    const project = typeof row.project === "string" ? row.project : ctx.project;
    if (kind === "item") {
      if (row.id === undefined) row.id = itemIdFor(project, row.prompt);
      ctx.builder.addItem(row, label);
    } else if (kind === "generation") {
      if (row.id === undefined) row.id = generationIdFor({ ...row, project });
      ctx.builder.addGeneration(row, label);
    } else {
      if (row.source === undefined && ctx.source) row.source = ctx.source;
      if (row.id === undefined) row.id = ctx.builder.feedbackId({ ...row, project });
      ctx.builder.addFeedback(row, label);
    }
  };
}

/** Items, then generations, then feedback, one JSON record per line. */
export const exportRlxf: Exporter = async function* (src, ctx) {
  for await (const item of src.items()) {
    ctx.count();
    yield `${JSON.stringify(item)}\n`;
  }
  for await (const gen of src.generations()) {
    ctx.count();
    yield `${JSON.stringify(gen)}\n`;
  }
  for await (const rf of src.resolvedFeedback()) {
    ctx.count();
    yield `${JSON.stringify(rf.feedback)}\n`;
  }
};
