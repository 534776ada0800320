/**
 * Which import format a record looks like, from its fields.
 */
import { RlxfError } from "../errors.js";
import { ASSISTANT, HUMAN } from "./formats/anthropic-hh.js";
import { isQaFeedbackRow } from "./formats/qa-feedback.js";
import { isRealCriticRow } from "./formats/realcritic.js";
import { rlxfKind } from "./formats/rlxf.js";
import type { ImportFormat } from "./types.js";

/** One line per format: what its records hold. */
export const FORMAT_SIGNATURES: Record<ImportFormat, string> = {
  "alpaca-eval": "JSON array of {instruction, output_1, generator_1, output_2, generator_2, annotator, preference, dataset?}",
  "trl-preference": "{prompt, chosen, rejected} (strings or chat messages), or {chosen, rejected} with the prompt as shared prefix",
  "anthropic-hh": 'JSON Lines of {chosen, rejected}, whole dialogues "\\n\\nHuman: ...\\n\\nAssistant: ..."',
  rlxf: "JSON Lines of rlxf records: items {id, prompt}, generations {id, itemId, policy, output}, feedback {id, kind, targets, source, value}",
  realcritic: "JSON Lines of RealCritic solutions {question, gt, reasoning, pred?, model?, previous_score}",
  "qa-feedback": 'Fine-Grained RLHF QA feedback: JSON array of {question, passages, gold, "prediction 1".."prediction N", feedback, preference}',
};

const isDialogue = (v: unknown) => typeof v === "string" && v.includes(HUMAN) && v.includes(ASSISTANT);

/** The format a record (the first of a file) belongs to, or undefined. */
export function detectFormat(record: unknown): ImportFormat | undefined {
  if (record === null || typeof record !== "object" || Array.isArray(record)) return undefined;
  const r = record as Record<string, unknown>;
  if ("instruction" in r && "output_1" in r && "output_2" in r) return "alpaca-eval";
  if ("chosen" in r && "rejected" in r) {
    if (!("prompt" in r) && isDialogue(r.chosen) && isDialogue(r.rejected)) return "anthropic-hh";
    return "trl-preference";
  }
  if (isRealCriticRow(r)) return "realcritic";
  if (isQaFeedbackRow(r)) return "qa-feedback";
  if (rlxfKind(r)) return "rlxf";
  return undefined;
}

export function unknownFormatError(name: string, record: unknown, label?: string): RlxfError {
  const fields =
    record !== null && typeof record === "object" && !Array.isArray(record)
      ? `fields ${Object.keys(record).map((k) => JSON.stringify(k)).join(", ") || "(none)"}`
      : `a JSON ${Array.isArray(record) ? "array" : record === null ? "null" : typeof record}`;
  const list = Object.entries(FORMAT_SIGNATURES)
    .map(([f, s]) => `  ${f}: ${s}`)
    .join("\n");
  return new RlxfError(
    "unknown_format",
    `cannot tell the format of ${name}: its first record (${label ?? "?"}) has ${fields}. Supported formats:\n${list}\nPass the format explicitly if the file is one of them.`,
  );
}
