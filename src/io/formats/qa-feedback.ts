/**
 * Fine-Grained RLHF's long-form QA feedback (`qa-feedback`, ASQA questions): a JSON array, one object per
 * question with `question`, `passages` (grounding passages, each a list whose first entry is the title and the
 * rest its sentences), `gold`, `prediction 1` .. `prediction N` (N = 4 in the released data), `feedback` on
 * prediction 1 and `preference` among the predictions.
 *
 * Per question: an item (the question; `gold` as reference; the passages kept as `metadata.passages`, exactly
 * as given, so features can read them), one generation per prediction (`metadata.prediction` = its number),
 * and on prediction 1:
 * - `spans`: `feedback.errors` as labelled spans (label = the error type, comment = the explanation). The file's
 *   offsets count Unicode code points (Python string indices); they are converted to the UTF-16 offsets rlxf
 *   records use, so `output.slice(start, end)` is the annotated text;
 * - `correction`: `feedback.corrected-prediction` (when not empty);
 * - `critique`: `feedback.missing-info` (one weakness per entry: its type and the passage sentences the answer
 *   leaves out; `passage_id` counts from 1, `sentence_id` indexes the passage's list, 0 being its title), with
 *   the entries themselves in `metadata.missing`;
 * and `pairwise` records for `preference`: one per pair in the order 1vs2, 1vs3, ..., (N-1)vsN, where 1 means
 * the first is preferred, 2 the second, 0 neither (a tie).
 */
import { fail, asRow, describe, extraColumns, requireString } from "../fields.js";
import { generationIdFor, itemIdFor } from "../ids.js";
import type { ImportContext, RecordImporter } from "../import-context.js";

const WHAT = "qa-feedback record";
export const QA_FEEDBACK_SOURCE = { type: "human", id: "qa-feedback" } as const;
export const QA_FEEDBACK_DATASET = "qa-feedback";
const PREDICTION = /^prediction (\d+)$/;
const KNOWN = new Set(["question", "passages", "gold", "feedback", "preference"]);
export const EMPTY_SPAN = "error span of zero length";
export const EMPTY_CORRECTION = "empty corrected prediction";

/** Whether a record looks like a qa-feedback question. */
export function isQaFeedbackRow(r: Record<string, unknown>): boolean {
  return "question" in r && "passages" in r && "prediction 1" in r && "feedback" in r;
}

/**
 * A function from code-point offsets of `text` (Python string indices) to UTF-16 offsets (JavaScript string
 * indices); offsets past the end give undefined. The identity when the text has no characters outside the BMP.
 */
export function codePointToUtf16(text: string): (codePoint: number) => number | undefined {
  let astral = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      astral = true;
      break;
    }
  }
  if (!astral) return (cp) => (Number.isInteger(cp) && cp >= 0 && cp <= text.length ? cp : undefined);
  const at: number[] = [];
  let u = 0;
  for (const ch of text) {
    at.push(u);
    u += ch.length;
  }
  at.push(u);
  return (cp) => (Number.isInteger(cp) && cp >= 0 && cp < at.length ? at[cp] : undefined);
}

/** The pairs a preference list of N predictions covers, in order: [1,2], [1,3], ..., [N-1,N]. */
export function preferencePairs(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let a = 1; a <= n; a++) for (let b = a + 1; b <= n; b++) out.push([a, b]);
  return out;
}

const CHOICES: Record<number, "first" | "second" | "tie"> = { 0: "tie", 1: "first", 2: "second" };

function asInt(v: unknown, path: string, label: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) fail(path, `must be an integer, got ${describe(v)}`, label, WHAT);
  return v;
}

export function qaFeedbackImporter(ctx: ImportContext): RecordImporter {
  const source = ctx.source ?? QA_FEEDBACK_SOURCE;
  return (raw, label) => {
    const row = asRow(raw, label, WHAT);
    const question = requireString(row, "question", label, WHAT, { nonEmpty: true });
    const gold = row.gold === undefined || row.gold === null ? undefined : requireString(row, "gold", label, WHAT);

    const passages = row.passages;
    if (!Array.isArray(passages)) fail("passages", `must be a list of passages (each a list of strings: title, then sentences), got ${describe(passages)}`, label, WHAT);
    passages.forEach((p, i) => {
      if (!Array.isArray(p) || p.some((s) => typeof s !== "string")) fail(`passages.${i}`, "must be a list of strings (the title, then the sentences)", label, WHAT);
    });
    const psg = passages as string[][];

    const numbers = Object.keys(row)
      .map((k) => PREDICTION.exec(k))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    numbers.forEach((n, i) => {
      if (n !== i + 1) fail(`prediction ${i + 1}`, `required: predictions are numbered 1, 2, ... without gaps (found ${numbers.join(", ")})`, label, WHAT);
    });
    const outputs = numbers.map((n) => requireString(row, `prediction ${n}`, label, WHAT));

    const extra = extraColumns(row, new Set([...KNOWN, ...numbers.map((n) => `prediction ${n}`)]));
    const item = ctx.builder.addItem(
      {
        id: itemIdFor(ctx.project, question),
        project: ctx.project,
        prompt: question,
        ...(gold !== undefined ? { reference: gold } : {}),
        dataset: QA_FEEDBACK_DATASET,
        metadata: { ...(extra ?? {}), passages: psg },
      },
      label,
      true,
    );
    const gens = outputs.map((output, i) => {
      const body = { project: ctx.project, itemId: item.id, policy: ctx.policy, output, metadata: { prediction: i + 1 } };
      return ctx.builder.addGeneration({ id: generationIdFor(body), ...body }, label);
    });
    const addFeedback = (kind: string, targets: string[], value: unknown, metadata?: Record<string, unknown>) => {
      const body: Record<string, unknown> = { project: ctx.project, itemId: item.id, kind, targets, source, value };
      if (metadata) body.metadata = metadata;
      ctx.builder.addFeedback({ id: ctx.builder.feedbackId(body), ...body }, label);
    };

    const fb = row.feedback;
    if (fb !== undefined && fb !== null) {
      const f = asRow(fb, label, WHAT) as Record<string, unknown>;
      const first = gens[0]!;
      const toUtf16 = codePointToUtf16(first.output);

      const errors = f.errors ?? [];
      if (!Array.isArray(errors)) fail("feedback.errors", `must be a list of {start, end, "error type"}, got ${describe(errors)}`, label, WHAT);
      const spans: Array<Record<string, unknown>> = [];
      errors.forEach((e, i) => {
        const path = `feedback.errors.${i}`;
        const er = asRow(e, `${label} (${path})`, WHAT) as Record<string, unknown>;
        const type = er["error type"];
        if (typeof type !== "string" || type.trim() === "") fail(`${path}.error type`, "required (a non-empty string)", label, WHAT);
        const start = asInt(er.start, `${path}.start`, label);
        const end = asInt(er.end, `${path}.end`, label);
        const s = toUtf16(start);
        const t = toUtf16(end);
        const chars = [...first.output].length;
        if (s === undefined || t === undefined || end < start) {
          fail(`${path}.${s === undefined ? "start" : "end"}`, `span [${start}, ${end}) does not lie within prediction 1 (${chars} characters)`, label, WHAT);
        }
        if (t === s) {
          ctx.builder.skip(EMPTY_SPAN);
          return;
        }
        const explanation = er.explanation;
        spans.push({ start: s, end: t, label: type, ...(typeof explanation === "string" && explanation.trim() ? { comment: explanation } : {}) });
      });
      addFeedback("spans", [first.id], { spans });

      const corrected = f["corrected-prediction"];
      if (corrected !== undefined && corrected !== null) {
        if (typeof corrected !== "string") fail("feedback.corrected-prediction", `must be a string, got ${describe(corrected)}`, label, WHAT);
        if (corrected.trim() === "") ctx.builder.skip(EMPTY_CORRECTION);
        else addFeedback("correction", [first.id], { output: corrected });
      }

      const missing = f["missing-info"] ?? [];
      if (!Array.isArray(missing)) fail("feedback.missing-info", `must be a list, got ${describe(missing)}`, label, WHAT);
      if (missing.length > 0) {
        const entries = missing.map((m, i) => {
          const path = `feedback.missing-info.${i}`;
          const mr = asRow(m, `${label} (${path})`, WHAT) as Record<string, unknown>;
          const type = mr["error type"];
          if (typeof type !== "string" || type.trim() === "") fail(`${path}.error type`, "required (a non-empty string)", label, WHAT);
          const passage = asInt(mr.passage_id, `${path}.passage_id`, label);
          if (passage < 1 || passage > psg.length) fail(`${path}.passage_id`, `must name one of the ${psg.length} passages (counting from 1), got ${passage}`, label, WHAT);
          const ids = mr.sentence_id === undefined ? [] : Array.isArray(mr.sentence_id) ? mr.sentence_id : [mr.sentence_id];
          const list = psg[passage - 1]!;
          const sentences = ids.map((s, j) => {
            const k = asInt(s, `${path}.sentence_id.${j}`, label);
            if (k < 0 || k >= list.length) fail(`${path}.sentence_id.${j}`, `passage ${passage} has entries 0 (its title) to ${list.length - 1}, got ${k}`, label, WHAT);
            return k;
          });
          const text = sentences.map((k) => list[k]!.trim()).join(" ");
          return { type, passage, sentences, text };
        });
        const weaknesses = entries.map((e) => `${e.type}: ${e.text || `passage ${e.passage}`}`);
        addFeedback(
          "critique",
          [first.id],
          { text: `The answer leaves out information from the passages:\n${weaknesses.map((w) => `- ${w}`).join("\n")}`, weaknesses },
          { missing: entries.map(({ type, passage, sentences }) => ({ type, passage, sentences })) },
        );
      }
    }

    const pref = row.preference;
    if (pref !== undefined && pref !== null) {
      const pairs = preferencePairs(gens.length);
      if (!Array.isArray(pref) || pref.length !== pairs.length) {
        fail("preference", `must be a list of ${pairs.length} judgements (${pairs.map(([a, b]) => `${a}vs${b}`).join(", ")}), got ${Array.isArray(pref) ? `${pref.length}` : describe(pref)}`, label, WHAT);
      }
      pairs.forEach(([a, b], i) => {
        const v = pref[i];
        const choice = typeof v === "number" ? CHOICES[v] : undefined;
        if (!choice) fail(`preference.${i}`, `must be 1 (prediction ${a} preferred), 2 (prediction ${b} preferred) or 0 (neither), got ${JSON.stringify(v)}`, label, WHAT);
        addFeedback("pairwise", [gens[a - 1]!.id, gens[b - 1]!.id], { choice }, { comparison: `${a}vs${b}` });
      });
    }
  };
}

/**
 * A critique phrase made from a qa-feedback error's explanation, worded so that it does not give the span away:
 * a repetition ("Redundant") is explained by the earlier text it repeats, an inconsistent fact ("Wrong-Grounding")
 * by the passage and sentence ids (`{"passage_id": 2, "sentence_id": [4]}`, counted as in `missing-info`) of the
 * passage sentence it contradicts, which is quoted. Undefined when there is no usable explanation.
 */
export function explanationPhrase(label: string, explanation: string | undefined, passages: readonly (readonly string[])[]): string | undefined {
  const x = explanation?.trim();
  if (!x) return undefined;
  if (x.startsWith("{")) {
    let ptr: { passage_id?: unknown; sentence_id?: unknown };
    try {
      ptr = JSON.parse(x) as typeof ptr;
    } catch {
      return undefined;
    }
    const p = typeof ptr.passage_id === "number" ? passages[ptr.passage_id - 1] : undefined;
    const ids = Array.isArray(ptr.sentence_id) ? ptr.sentence_id : [ptr.sentence_id];
    const text = p ? ids.map((i) => (typeof i === "number" ? p[i] : undefined)).filter((s): s is string => typeof s === "string").map((s) => s.replace(/^[^\n]*\n\s*\n/, "").trim()).join(" ") : "";
    return text ? `${label}: this contradicts the passage, which says "${text}"` : undefined;
  }
  return /redundan|repeat|repetit/i.test(label) ? `${label}: repeats "${x}"` : `${label}: ${x}`;
}
