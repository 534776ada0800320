/**
 * Language-feedback datasets:
 *
 * - **Chain of Hindsight** (Liu et al.): outputs paired with feedback of either polarity written as text, e.g.
 *   "A good answer: {chosen}\n\nA bad answer: {rejected}", in both orders, so a model learns to produce what
 *   the feedback phrase asks for (and at inference is prompted with the positive phrase);
 * - **C3PO** (Stephan et al., "RLVF: Learning from Verbal Feedback without Overgeneralization"): from one piece
 *   of verbal feedback, preference pairs on in-scope prompts (a response revised to follow the feedback over
 *   the original) and supervised targets on out-of-scope prompts (the original responses, so that behaviour
 *   there does not move).
 */
import { createHash } from "node:crypto";
import { RlxfError } from "../../errors.js";
import { createRng } from "../../eval/index.js";
import type { Prompt } from "../../feedback/schema.js";
import { promptText } from "../../io/index.js";
import type { Completion, LabelledOutput, PreferencePair } from "./examples.js";

/** A prompt with one target output (supervised fine-tuning). */
export interface Demonstration {
  id: string;
  project: string;
  itemId: string;
  prompt: Prompt;
  dataset?: string;
  completion: Completion;
  /** Where the target comes from, e.g. "best-of-pairs", "c3po:out-of-scope". */
  origin: string;
}

export interface HindsightTemplates {
  /** Precedes an output the feedback approves (default "A good answer:"). */
  good: string;
  /** Precedes an output the feedback disapproves (default "A bad answer:"). */
  bad: string;
  /** Precedes the feedback text of a single output (default "Feedback:"). */
  feedback: string;
}

export const DEFAULT_HINDSIGHT_TEMPLATES: HindsightTemplates = { good: "A good answer:", bad: "A bad answer:", feedback: "Feedback:" };

/** One Chain-of-Hindsight row in TRL's prompt-completion form (standard text). */
export interface HindsightRow {
  prompt: string;
  completion: string;
}

/**
 * Chain-of-Hindsight rows: each pair once, its order (good first or bad first) drawn with `seed` so both orders
 * occur; each labelled output once, with its polarity phrase and, when there is one, its feedback text after it.
 */
export function chainOfHindsight(
  pairs: readonly PreferencePair[],
  labelled: readonly LabelledOutput[] = [],
  opts: { templates?: Partial<HindsightTemplates>; seed?: number } = {},
): HindsightRow[] {
  const t = { ...DEFAULT_HINDSIGHT_TEMPLATES, ...opts.templates };
  const rng = createRng(opts.seed ?? 0);
  const rows: HindsightRow[] = [];
  for (const p of pairs) {
    if (p.pChosen === 0.5) continue;
    const head = promptText(p.prompt);
    if (rng.next() < 0.5) {
      rows.push({ prompt: `${head}\n\n${t.good}`, completion: ` ${p.chosen.text}\n\n${t.bad} ${p.rejected.text}` });
    } else {
      rows.push({ prompt: `${head}\n\n${t.bad}`, completion: ` ${p.rejected.text}\n\n${t.good} ${p.chosen.text}` });
    }
  }
  for (const l of labelled) {
    const tail = l.feedbackText ? `\n\n${t.feedback} ${l.feedbackText}` : "";
    rows.push({ prompt: `${promptText(l.prompt)}\n\n${l.label ? t.good : t.bad}`, completion: ` ${l.completion.text}${tail}` });
  }
  return rows;
}

/**
 * Supervised targets from feedback: per item, the output with the best net record (wins − losses over pairs,
 * +1 for a good label, −1 for a bad one), when that record is positive.
 */
export function bestResponses(pairs: readonly PreferencePair[], labelled: readonly LabelledOutput[] = []): Demonstration[] {
  type Cand = { completion: Completion; score: number; order: number; project: string; itemId: string; prompt: Prompt; dataset?: string };
  const byItem = new Map<string, Map<string, Cand>>();
  let order = 0;
  const touch = (x: { project: string; itemId: string; prompt: Prompt; dataset?: string }, c: Completion, delta: number) => {
    const ik = `${x.project}\u0000${x.itemId}`;
    let m = byItem.get(ik);
    if (!m) {
      m = new Map();
      byItem.set(ik, m);
    }
    const key = c.generationId ?? `text:${c.text}`;
    let cand = m.get(key);
    if (!cand) {
      cand = { completion: c, score: 0, order: order++, project: x.project, itemId: x.itemId, prompt: x.prompt };
      if (x.dataset !== undefined) cand.dataset = x.dataset;
      m.set(key, cand);
    }
    cand.score += delta;
  };
  for (const p of pairs) {
    if (p.pChosen === 0.5) continue;
    touch(p, p.chosen, 1);
    touch(p, p.rejected, -1);
  }
  for (const l of labelled) touch(l, l.completion, l.label ? 1 : -1);
  const out: Demonstration[] = [];
  for (const m of byItem.values()) {
    let best: Cand | undefined;
    for (const c of m.values()) if (!best || c.score > best.score || (c.score === best.score && c.order < best.order)) best = c;
    if (!best || best.score <= 0) continue;
    const d: Demonstration = {
      id: `${best.itemId}:best`,
      project: best.project,
      itemId: best.itemId,
      prompt: best.prompt,
      completion: best.completion,
      origin: "best-of-feedback",
    };
    if (best.dataset !== undefined) d.dataset = best.dataset;
    out.push(d);
  }
  return out;
}

// ------------------------------------------------------------------ C3PO ---

export interface C3poSpec {
  /** The verbal feedback, e.g. "Do not use emojis in emails to my boss." */
  feedback: string;
  /** Prompts the feedback applies to, each with the original response and one revised to follow the feedback. */
  inScope: Array<{ prompt: Prompt; baseline: string; revised: string }>;
  /** Prompts it does not apply to, with the original response (kept as the target). */
  outOfScope: Array<{ prompt: Prompt; baseline: string }>;
  /** Prompts close to the scope where the feedback still does not apply (treated as out of scope). */
  nearScope?: Array<{ prompt: Prompt; baseline: string }>;
  /** Project and dataset name of the records made (default "default", "c3po"). */
  project?: string;
  dataset?: string;
}

export interface C3poSet {
  /** In-scope: revised ≻ baseline. */
  pairs: PreferencePair[];
  /** Out-of-scope and near-scope: the baseline as the target (C3PO's constraint on out-of-scope behaviour). */
  sft: Demonstration[];
}

const shortHash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

/** Assemble a C3PO set from prompts and responses (see {@link generateC3po} to produce them with a model). */
export function buildC3po(spec: C3poSpec): C3poSet {
  if (!spec.feedback.trim()) throw new RlxfError("invalid_input", "C3PO needs the verbal feedback text");
  const project = spec.project ?? "default";
  const dataset = spec.dataset ?? "c3po";
  const fb = shortHash(spec.feedback);
  const itemId = (scope: string, p: Prompt) => `c3po:${fb}:${scope}:${shortHash(JSON.stringify(p))}`;
  const pairs: PreferencePair[] = spec.inScope
    .filter((x) => x.revised !== x.baseline)
    .map((x) => {
      const id = itemId("in", x.prompt);
      return {
        id: `${id}:pair`,
        project,
        itemId: id,
        prompt: x.prompt,
        dataset,
        chosen: { text: x.revised, policy: "c3po:revised" },
        rejected: { text: x.baseline, policy: "c3po:baseline" },
        pChosen: 1,
        derivation: "c3po" as const,
        sources: ["c3po:verbal-feedback"],
        feedbackIds: [],
        feedbackText: spec.feedback,
      };
    });
  const sft: Demonstration[] = [
    ...spec.outOfScope.map((x) => ({ ...x, scope: "out" })),
    ...(spec.nearScope ?? []).map((x) => ({ ...x, scope: "near" })),
  ].map((x) => {
    const id = itemId(x.scope, x.prompt);
    return {
      id: `${id}:sft`,
      project,
      itemId: id,
      prompt: x.prompt,
      dataset,
      completion: { text: x.baseline, policy: "c3po:baseline" },
      origin: x.scope === "out" ? "c3po:out-of-scope" : "c3po:near-scope",
    };
  });
  return { pairs, sft };
}

/** A text-in, text-out language model call (any provider). */
export type Complete = (prompt: string) => Promise<string>;

/** Items of a numbered or bulleted list in a model's answer. */
export function parseList(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(?:\d+[.)]|[-*•])\s+(.*\S)\s*$/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

export interface GenerateC3poOptions {
  /** In-scope prompts to ask for (default 10). */
  inScope?: number;
  /** Out-of-scope prompts to ask for (default 10). */
  outOfScope?: number;
  /** Near-scope prompts to ask for (default 0). */
  nearScope?: number;
  project?: string;
  dataset?: string;
}

/**
 * Produce a C3PO set with a model: ask for prompts in, near and out of the feedback's scope, answer each,
 * and revise the in-scope answers to follow the feedback; then {@link buildC3po}.
 */
export async function generateC3po(feedback: string, complete: Complete, opts: GenerateC3poOptions = {}): Promise<C3poSet> {
  const ask = async (n: number, where: string): Promise<string[]> => {
    if (n <= 0) return [];
    const text = await complete(
      `Here is a piece of feedback a user gave to an AI assistant:\n"${feedback}"\n\n` +
        `Write ${n} diverse user requests ${where}. Answer with a numbered list, one request per line, nothing else.`,
    );
    const xs = parseList(text).slice(0, n);
    if (xs.length === 0) throw new RlxfError("model_failed", `the model's answer has no numbered list of prompts: ${text.slice(0, 200)}`);
    return xs;
  };
  const inScope = await ask(opts.inScope ?? 10, "to which this feedback applies");
  const near = await ask(opts.nearScope ?? 0, "that look related to this feedback but to which it does not apply");
  const out = await ask(opts.outOfScope ?? 10, "on unrelated topics, to which this feedback does not apply");
  const answer = (p: string) => complete(p);
  const spec: C3poSpec = {
    feedback,
    inScope: [],
    outOfScope: [],
    nearScope: [],
    ...(opts.project !== undefined ? { project: opts.project } : {}),
    ...(opts.dataset !== undefined ? { dataset: opts.dataset } : {}),
  };
  for (const p of inScope) {
    const baseline = await answer(p);
    const revised = await complete(
      `Request:\n${p}\n\nResponse:\n${baseline}\n\nRewrite the response so that it follows this feedback: "${feedback}". ` +
        `Change nothing else. Answer with the rewritten response only.`,
    );
    spec.inScope.push({ prompt: p, baseline, revised });
  }
  for (const p of near) spec.nearScope!.push({ prompt: p, baseline: await answer(p) });
  for (const p of out) spec.outOfScope.push({ prompt: p, baseline: await answer(p) });
  return buildC3po(spec);
}
