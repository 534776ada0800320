/**
 * Reading what judges judge: JSON Lines (or a JSON array; .gz fine), one
 * example per line.
 *
 * - pairs: `{"instruction", "output_1", "output_2"}` plus optional
 *   `generator_1`, `generator_2`, `dataset`, `reference`, `input` (AlpacaFarm's
 *   extra input, appended to the instruction);
 * - single outputs: `{"instruction", "output"}` plus optional `reference`,
 *   `criteria` (strings or `{name, description?, weight?, maxScore?}`; also
 *   read from `rubric` or `checklist`), `steps` (a list of strings),
 *   `generator`, `dataset`.
 */
import { ValidationError } from "../errors.js";
import { readRawRecords } from "../io/index.js";
import { CriterionSpec } from "./config.js";
import type { OutputInput, PairInput } from "./judge.js";

export interface PairRow extends PairInput {
  generator_1?: string;
  generator_2?: string;
  dataset?: string;
  /** The input record as read, echoed in results. */
  source: Record<string, unknown>;
  label: string;
}

export interface OutputRow extends OutputInput {
  generator?: string;
  dataset?: string;
  source: Record<string, unknown>;
  label: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function str(o: Record<string, unknown>, key: string, label: string, what: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new ValidationError([{ path: key, message: "required (a string)" }], label, what);
    return undefined;
  }
  if (typeof v !== "string") throw new ValidationError([{ path: key, message: `must be a string, got ${Array.isArray(v) ? "an array" : typeof v}` }], label, what);
  return v;
}

function instructionOf(o: Record<string, unknown>, label: string, what: string): string {
  const instruction = str(o, "instruction", label, what, o.prompt === undefined) ?? str(o, "prompt", label, what, true)!;
  const input = str(o, "input", label, what, false);
  return input && input.trim() ? `${instruction}\n\n${input}` : instruction;
}

export function pairRow(value: unknown, label: string): PairRow {
  const what = "pair";
  if (!isObj(value)) throw new ValidationError([{ path: "", message: "must be a JSON object with instruction, output_1 and output_2" }], label, what);
  const row: PairRow = {
    instruction: instructionOf(value, label, what),
    output_1: str(value, "output_1", label, what, true)!,
    output_2: str(value, "output_2", label, what, true)!,
    source: value,
    label,
  };
  for (const k of ["generator_1", "generator_2", "dataset", "reference"] as const) {
    const v = str(value, k, label, what, false);
    if (v !== undefined && v !== "") row[k] = v;
  }
  return row;
}

export function outputRow(value: unknown, label: string, opts: { needsReference?: boolean } = {}): OutputRow {
  const what = "example";
  if (!isObj(value)) throw new ValidationError([{ path: "", message: "must be a JSON object with instruction and output" }], label, what);
  let steps: string[] | undefined;
  if (value.steps !== undefined) {
    if (!Array.isArray(value.steps) || !value.steps.every((s) => typeof s === "string") || value.steps.length === 0) {
      throw new ValidationError([{ path: "steps", message: "must be a non-empty list of strings" }], label, what);
    }
    steps = value.steps as string[];
  }
  // A reasoning chain given as steps is also the output when there is no output.
  const output = str(value, "output", label, what, !steps);
  const row: OutputRow = { instruction: instructionOf(value, label, what), output: output ?? steps!.join("\n"), source: value, label };
  if (steps) row.steps = steps;
  const reference = str(value, "reference", label, what, !!opts.needsReference);
  if (reference !== undefined) row.reference = reference;
  for (const k of ["generator", "dataset"] as const) {
    const v = str(value, k, label, what, false);
    if (v !== undefined && v !== "") row[k] = v;
  }
  const critKey = (["criteria", "rubric", "checklist"] as const).find((k) => value[k] !== undefined);
  if (critKey) {
    const r = CriterionSpec.array().min(1).safeParse(value[critKey]);
    if (!r.success) throw new ValidationError([{ path: critKey, message: "must be a non-empty list of criteria (strings or {name, description?, weight?, maxScore?})" }], label, what);
    row.criteria = r.data;
  }
  return row;
}

/** Every pair in a file, validated (errors name the line). */
export async function readPairs(path: string): Promise<PairRow[]> {
  const out: PairRow[] = [];
  for await (const r of readRawRecords(path)) out.push(pairRow(r.value, r.label));
  return out;
}

export async function readOutputs(path: string, opts: { needsReference?: boolean } = {}): Promise<OutputRow[]> {
  const out: OutputRow[] = [];
  for await (const r of readRawRecords(path)) out.push(outputRow(r.value, r.label, opts));
  return out;
}
