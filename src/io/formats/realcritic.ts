/**
 * RealCritic (closed-loop critique evaluation): JSON Lines of model solutions, one per line, with
 * `{question, gt, reasoning, pred, model, previous_score}` and task-specific fields (`gt_cot`, `choices`,
 * `level`, `type`, `subfield`, `answer_type`, `unit`, `solution`, `answer`, `idx`).
 *
 * Each line becomes an item (the question, with the gold answer `gt` as reference and the task as dataset),
 * a generation (the solution `reasoning`, by the policy `model`) and a `verification` feedback record saying
 * whether the solution is correct by RealCritic's own grader (`previous_score`: `[true]`, `true` or the
 * string `"[True]"`). The task is the line's `task` (or `dataset`, `data_name`) when it has one, else the
 * file's name (`math.jsonl.gz` → `math`; `data/math/test.jsonl` → `math`).
 */
import { basename, dirname } from "node:path";
import { asRow, describe, extraColumns, fail, optionalString, requireString } from "../fields.js";
import { generationIdFor, itemIdFor } from "../ids.js";
import type { ImportContext, RecordImporter } from "../import-context.js";

const WHAT = "realcritic record";
export const REALCRITIC_SOURCE = { type: "verifier", id: "realcritic" } as const;

/** Fields about the question, kept on the item; the rest of a line's extra fields stay on its generation. */
export const REALCRITIC_ITEM_FIELDS = ["gt_cot", "choices", "level", "type", "subfield", "answer_type", "unit", "solution", "answer"] as const;
const ITEM_FIELDS = new Set<string>(REALCRITIC_ITEM_FIELDS);
const TASK_FIELDS = ["task", "dataset", "data_name"] as const;
const KNOWN = new Set<string>(["question", "gt", "reasoning", "pred", "model", "previous_score", "idx", ...TASK_FIELDS, ...REALCRITIC_ITEM_FIELDS]);
const GENERIC_NAMES = new Set(["", "test", "train", "dev", "valid", "validation", "data", "eval"]);

/** Whether a record looks like a RealCritic solution. */
export function isRealCriticRow(r: Record<string, unknown>): boolean {
  return "question" in r && "gt" in r && "reasoning" in r && "previous_score" in r;
}

/** The task a file holds, from its name: `math.jsonl.gz` → `math`, `.../gsm8k/test.jsonl` → `gsm8k`. */
export function taskFromFileName(name: string): string {
  const base = basename(name).replace(/\.gz$/i, "").replace(/\.(jsonl|json|ndjson)$/i, "");
  if (!GENERIC_NAMES.has(base.toLowerCase())) return base;
  const parent = basename(dirname(name));
  return parent && parent !== "." && !GENERIC_NAMES.has(parent.toLowerCase()) ? parent : "realcritic";
}

const BOOL_WORDS: Record<string, boolean> = { true: true, false: false, "1": true, "0": false };

function scoreOf(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === "string") return BOOL_WORDS[v.trim().toLowerCase()];
  return undefined;
}

/**
 * Whether the solution is correct, from `previous_score`: a boolean, 0/1, a list of them (every entry must
 * agree), or the list's Python string form `"[True]"`.
 */
export function readPreviousScore(raw: unknown, label: string): boolean {
  const expected = "a boolean, a list of booleans that agree ([true]), or its string form \"[True]\"";
  let list: unknown[];
  if (Array.isArray(raw)) list = raw;
  else if (typeof raw === "string" && /^\s*\[.*\]\s*$/s.test(raw)) {
    const inner = raw.trim().slice(1, -1).trim();
    list = inner === "" ? [] : inner.split(",").map((s) => s.trim().replace(/^['"]|['"]$/g, ""));
  } else list = [raw];
  if (list.length === 0) fail("previous_score", `is an empty list; expected ${expected}`, label, WHAT);
  const scores = list.map(scoreOf);
  const bad = scores.findIndex((s) => s === undefined);
  if (bad >= 0) fail("previous_score", `must be ${expected}, got ${typeof raw === "string" ? JSON.stringify(raw) : describe(list[bad])}`, label, WHAT);
  if (scores.some((s) => s !== scores[0])) fail("previous_score", `holds ${scores.length} scores that disagree (${JSON.stringify(raw)}); one solution has one correctness`, label, WHAT);
  return scores[0]!;
}

/** A text field that may come as a list of one entry (as RealCritic's evaluation code writes some), `numbers`: or a number. */
function textOf(row: Record<string, unknown>, key: string, label: string, opts: { required: boolean; nonEmpty?: boolean; numbers?: boolean }): string | undefined {
  let v = row[key];
  if (Array.isArray(v)) {
    if (v.length !== 1) fail(key, `must be a string (or a list of one), got a list of ${v.length}`, label, WHAT);
    v = v[0];
  }
  if (v === undefined || v === null) {
    if (opts.required) fail(key, "required (a string)", label, WHAT);
    return undefined;
  }
  if (opts.numbers && typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v !== "string") fail(key, `must be a string, got ${describe(v)}`, label, WHAT);
  if (opts.nonEmpty && v.length === 0) fail(key, "must be a non-empty string", label, WHAT);
  return v;
}

export function realCriticImporter(ctx: ImportContext): RecordImporter {
  const source = ctx.source ?? REALCRITIC_SOURCE;
  const fileTask = taskFromFileName(ctx.name);
  return (raw, label) => {
    const row = asRow(raw, label, WHAT);
    const question = requireString(row, "question", label, WHAT, { nonEmpty: true });
    const gold = textOf(row, "gt", label, { required: true, nonEmpty: true, numbers: true })!;
    const reasoning = textOf(row, "reasoning", label, { required: true })!;
    const model = optionalString(row, "model", label, WHAT) || ctx.policy;
    const pred = textOf(row, "pred", label, { required: false, numbers: true });
    const correct = readPreviousScore(row.previous_score, label);
    let task = fileTask;
    for (const k of TASK_FIELDS) {
      const t = optionalString(row, k, label, WHAT);
      if (t) {
        task = t;
        break;
      }
    }

    const itemMeta: Record<string, unknown> = { task };
    for (const k of REALCRITIC_ITEM_FIELDS) if (row[k] !== undefined && row[k] !== null) itemMeta[k] = row[k];
    const item = ctx.builder.addItem(
      { id: itemIdFor(ctx.project, question), project: ctx.project, prompt: question, reference: gold, dataset: task, metadata: itemMeta },
      label,
      true,
    );

    const genMeta: Record<string, unknown> = { task };
    if (row.idx !== undefined && row.idx !== null) genMeta.idx = row.idx;
    if (pred !== undefined) genMeta.pred = pred;
    const extra = extraColumns(row, new Set([...KNOWN, ...ITEM_FIELDS]));
    if (extra) Object.assign(genMeta, extra);
    const genBody = { project: ctx.project, itemId: item.id, policy: model, output: reasoning, metadata: genMeta };
    const gen = ctx.builder.addGeneration({ id: generationIdFor(genBody), ...genBody }, label);

    const body: Record<string, unknown> = {
      project: ctx.project,
      itemId: item.id,
      kind: "verification",
      targets: [gen.id],
      source,
      value: { passed: correct, score: correct ? 1 : 0, details: pred !== undefined ? { pred } : {} },
    };
    ctx.builder.addFeedback({ id: ctx.builder.feedbackId(body), ...body }, label);
  };
}
