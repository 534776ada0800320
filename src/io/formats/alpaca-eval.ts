/**
 * AlpacaEval `annotations.json`: a JSON array of
 * `{instruction, output_1, generator_1, output_2, generator_2, annotator, preference, dataset?}`
 * where preference p in [1, 2] (1: output_1 better, 2: output_2 better, 1.5 or the legacy 0: draw, null: missing).
 * In rlxf terms p = 1 + pSecond with targets [output_1, output_2].
 */
import type { ResolvedFeedback } from "../../feedback/schema.js";
import { addPair } from "../batch.js";
import { asRow, describe, extraColumns, fail, optionalString, requireString } from "../fields.js";
import type { ImportContext, RecordImporter } from "../import-context.js";
import { metadataColumns, promptText, type Exporter } from "../export-helpers.js";

const WHAT = "alpaca-eval record";
export const ALPACA_EVAL_COLUMNS = [
  "dataset",
  "instruction",
  "output_1",
  "generator_1",
  "output_2",
  "generator_2",
  "annotator",
  "preference",
] as const;
const KNOWN = new Set<string>(ALPACA_EVAL_COLUMNS);

export const NULL_PREFERENCE = "null preference (missing annotation)";

const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** The preference as a number in [1, 2] or 0, null when missing; throws on anything else. */
export function readPreference(raw: unknown, label: string): number | null {
  if (raw === null) return null;
  let p: number;
  if (typeof raw === "number") p = raw;
  else if (typeof raw === "string") {
    if (/^\s*(nan|none|null)?\s*$/i.test(raw)) return null;
    if (!NUMERIC.test(raw)) fail("preference", `must be a number, got the string ${JSON.stringify(raw)}`, label, WHAT);
    p = Number(raw);
  } else if (raw === undefined) {
    fail("preference", "required (a number in [1, 2], or null when missing)", label, WHAT);
  } else {
    fail("preference", `must be a number in [1, 2] or null, got ${describe(raw)}`, label, WHAT);
  }
  if (Number.isNaN(p)) return null;
  if (p !== 0 && !(p >= 1 && p <= 2)) {
    fail("preference", `must lie in [1, 2] (1: output_1 better, 2: output_2 better, 1.5 or 0: draw), got ${p}`, label, WHAT);
  }
  return p;
}

export function alpacaEvalImporter(ctx: ImportContext): RecordImporter {
  return (raw, label) => {
    const row = asRow(raw, label, WHAT);
    const instruction = requireString(row, "instruction", label, WHAT);
    const output1 = requireString(row, "output_1", label, WHAT);
    const generator1 = requireString(row, "generator_1", label, WHAT, { nonEmpty: true });
    const output2 = requireString(row, "output_2", label, WHAT);
    const generator2 = requireString(row, "generator_2", label, WHAT, { nonEmpty: true });
    const dataset = optionalString(row, "dataset", label, WHAT);
    const annotator = optionalString(row, "annotator", label, WHAT) || ctx.source?.id;
    if (!annotator) fail("annotator", "required (a non-empty string naming the judge), or pass a source", label, WHAT);
    const p = readPreference(row.preference, label);
    // p - 1 is exact for p in [1, 2], so exporting 1 + pSecond gives p back bit for bit.
    const pSecond = p === null || p === 0 ? 0.5 : p - 1;
    const choice = pSecond < 0.5 ? "first" : pSecond > 0.5 ? "second" : "tie";
    addPair(
      ctx.builder,
      {
        project: ctx.project,
        prompt: instruction,
        ...(dataset !== undefined ? { dataset } : {}),
        first: { policy: generator1, output: output1 },
        second: { policy: generator2, output: output2 },
        source: { type: ctx.source?.type ?? "judge", id: annotator },
        value: { choice, pSecond },
        metadata: extraColumns(row, KNOWN),
        withFeedback: p !== null,
      },
      label,
    );
    if (p === null) ctx.builder.skip(NULL_PREFERENCE);
  };
}

/** One row of AlpacaEval's annotations, as exported (metadata columns after the known ones). */
export interface AlpacaEvalRow {
  dataset?: string;
  instruction: string;
  output_1: string;
  generator_1: string;
  output_2: string;
  generator_2: string;
  annotator: string;
  preference: number;
  [column: string]: unknown;
}

/** An AlpacaEval row from pairwise feedback, or a skip reason. */
export function alpacaEvalRow(rf: ResolvedFeedback, withMetadata: boolean): AlpacaEvalRow | string {
  const f = rf.feedback;
  if (f.kind !== "pairwise") return `kind ${f.kind} not carried by alpaca-eval`;
  const [g1, g2] = rf.targets;
  if (!g1 || !g2) return "missing target generation";
  const v = f.value;
  const preference = v.pSecond !== undefined ? 1 + v.pSecond : v.choice === "first" ? 1 : v.choice === "second" ? 2 : 1.5;
  const row: AlpacaEvalRow = {
    ...(rf.item.dataset !== undefined ? { dataset: rf.item.dataset } : {}),
    instruction: promptText(rf.item.prompt),
    output_1: g1.output,
    generator_1: g1.policy,
    output_2: g2.output,
    generator_2: g2.policy,
    annotator: f.source.id,
    preference,
  };
  if (withMetadata) Object.assign(row, metadataColumns(f.metadata, KNOWN));
  return row;
}

/** Pieces of a JSON array: "[\n", then one row per piece ("{...},\n", the last "{...}\n"), then "]\n". */
export const exportAlpacaEval: Exporter = async function* (src, ctx) {
  yield "[\n";
  let held: string | undefined;
  for await (const rf of src.resolvedFeedback()) {
    const row = alpacaEvalRow(rf, ctx.metadataColumns);
    if (typeof row === "string") {
      ctx.skip(row, rf.feedback);
      continue;
    }
    if (held !== undefined) yield `${held},\n`;
    held = JSON.stringify(row);
    ctx.count();
  }
  if (held !== undefined) yield `${held}\n`;
  yield "]\n";
};
