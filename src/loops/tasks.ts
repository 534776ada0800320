/**
 * Tasks for loops: JSON Lines (or a JSON array; .gz fine), one task per line with a prompt and an optional ground
 * truth. Accepted names: `prompt` (or `instruction`, `question`, `problem`), `reference` (or `answer`, `gold`,
 * `ground_truth`, `solution`), `id` (default: the line number).
 */
import { ValidationError } from "../errors.js";
import { readRawRecords } from "../io/index.js";
import type { LoopTask } from "./types.js";

const PROMPT_KEYS = ["prompt", "instruction", "question", "problem"];
const REFERENCE_KEYS = ["reference", "answer", "gold", "ground_truth", "solution"];

function pick(o: Record<string, unknown>, keys: string[]): [string, unknown] | undefined {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return [k, o[k]];
  return undefined;
}

/** One task from a parsed line; `index` (0-based) names tasks without an id. */
export function taskFrom(value: unknown, label: string, index: number): LoopTask {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new ValidationError([{ path: "", message: "must be a JSON object" }], label, "task");
  const o = value as Record<string, unknown>;
  const p = pick(o, PROMPT_KEYS);
  if (!p) throw new ValidationError([{ path: "prompt", message: `required (a string; also read from ${PROMPT_KEYS.slice(1).join(", ")})` }], label, "task");
  if (typeof p[1] !== "string" || !p[1].trim()) throw new ValidationError([{ path: p[0], message: "must be a non-empty string" }], label, "task");
  const r = pick(o, REFERENCE_KEYS);
  if (r && typeof r[1] !== "string" && typeof r[1] !== "number") throw new ValidationError([{ path: r[0], message: "must be a string or a number" }], label, "task");
  const id = o.id ?? String(index + 1);
  if ((typeof id !== "string" && typeof id !== "number") || String(id).length === 0 || String(id).includes("/")) {
    throw new ValidationError([{ path: "id", message: "must be a non-empty string or number without '/'" }], label, "task");
  }
  const metadata = o.metadata !== undefined && typeof o.metadata === "object" && o.metadata !== null ? (o.metadata as Record<string, unknown>) : undefined;
  return { id: String(id), prompt: p[1], ...(r ? { reference: String(r[1]) } : {}), ...(metadata ? { metadata } : {}) };
}

/** Every task of a file, validated (errors name the line); nothing is returned when one line is bad. */
export async function readTasks(path: string): Promise<LoopTask[]> {
  const out: LoopTask[] = [];
  const ids = new Set<string>();
  for await (const r of readRawRecords(path)) {
    const t = taskFrom(r.value, r.label, out.length);
    if (ids.has(t.id)) throw new ValidationError([{ path: "id", message: `"${t.id}" is used by an earlier task` }], r.label, "task");
    ids.add(t.id);
    out.push(t);
  }
  return out;
}
