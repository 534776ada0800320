/**
 * TRL datasets (https://huggingface.co/docs/trl/dataset_formats).
 *
 * Preference: `{prompt, chosen, rejected}`, standard (strings) or conversational (lists of {role, content}), or
 * with an implicit prompt: `{chosen, rejected}` holding whole texts/conversations that share the prompt as a prefix.
 * Unpaired preference (KTO/BCO): `{prompt, completion, label}`.
 */
import { isDeepStrictEqual } from "node:util";
import type { ChatMessage, Feedback, Generation, Prompt, ResolvedFeedback } from "../../feedback/schema.js";
import { addPair, type PairSide } from "../batch.js";
import { asMessages, asRow, describe, extraColumns, fail, has, type Row } from "../fields.js";
import type { ImportContext, RecordImporter } from "../import-context.js";
import { completionMessages, metadataColumns, preferredPair, type Exporter } from "../export-helpers.js";

const WHAT = "trl-preference record";
const PREFERENCE_COLUMNS = new Set(["prompt", "chosen", "rejected"]);
const UNPAIRED_COLUMNS = new Set(["prompt", "completion", "label"]);

export const DEFAULT_TRL_SOURCE = { type: "human", id: "import" } as const;

type Text = string | ChatMessage[];

function readText(row: Row, key: string, label: string): Text {
  const v = row[key];
  if (v === undefined || v === null) fail(key, "required (a string or a list of chat messages)", label, WHAT);
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return asMessages(v, key, label, WHAT);
  fail(key, `must be a string or a list of chat messages, got ${describe(v)}`, label, WHAT);
}

/** A completion as a generation side: one plain assistant message is its content; anything else is kept whole. */
function side(text: Text, raw: unknown, key: string, policy: string, label: string): PairSide {
  if (typeof text === "string") return { policy, output: text };
  if (text.length === 0) fail(key, "needs at least one message", label, WHAT);
  const only = text.length === 1 ? (raw as Row[])[0]! : undefined;
  const plain = only !== undefined && text[0]!.role === "assistant" && Object.keys(only).every((k) => k === "role" || k === "content");
  if (plain) return { policy, output: text[0]!.content };
  // Several messages (or another role, or extra message fields): keep them in metadata, the last text as output.
  return { policy, output: text[text.length - 1]!.content, metadata: { messages: raw } };
}

/** Index where two strings first differ (the shorter length when one is a prefix of the other). */
function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Split the shared prefix of `chosen` and `rejected` off as the prompt (TRL's implicit-prompt form). */
function splitImplicit(chosen: Text, rejected: Text, rawChosen: unknown[] | string, rawRejected: unknown[] | string, label: string) {
  if (typeof chosen === "string" && typeof rejected === "string") {
    let i = commonPrefixLength(chosen, rejected);
    // Keep the space before the first differing word with the completions, as TRL does.
    if (i > 0 && i < Math.max(chosen.length, rejected.length) && chosen[i - 1] === " ") i--;
    if (i === 0) fail("chosen", "chosen and rejected share no prefix to use as the prompt; add a `prompt` column", label, WHAT);
    return { prompt: chosen.slice(0, i) as Prompt, chosen: chosen.slice(i), rejected: rejected.slice(i), rawChosen, rawRejected };
  }
  if (Array.isArray(chosen) && Array.isArray(rejected)) {
    const n = Math.min(chosen.length, rejected.length);
    let i = 0;
    while (i < n && isDeepStrictEqual(chosen[i], rejected[i])) i++;
    if (i === n) i = n - 1; // identical (or one a prefix of the other): the last message is the completion
    if (i <= 0) fail("chosen", "chosen and rejected share no leading messages to use as the prompt; add a `prompt` column", label, WHAT);
    return {
      prompt: chosen.slice(0, i) as Prompt,
      chosen: chosen.slice(i),
      rejected: rejected.slice(i),
      rawChosen: (rawChosen as unknown[]).slice(i),
      rawRejected: (rawRejected as unknown[]).slice(i),
    };
  }
  fail("rejected", "chosen and rejected must both be strings or both be lists of chat messages", label, WHAT);
}

export function trlPreferenceImporter(ctx: ImportContext): RecordImporter {
  const source = ctx.source ?? DEFAULT_TRL_SOURCE;
  return (raw, label) => {
    const row = asRow(raw, label, WHAT);
    let chosen = readText(row, "chosen", label);
    let rejected = readText(row, "rejected", label);
    let rawChosen = row.chosen as unknown[] | string;
    let rawRejected = row.rejected as unknown[] | string;
    let prompt: Prompt;
    if (has(row, "prompt")) {
      const p = row.prompt;
      if (typeof p === "string") prompt = p;
      else if (Array.isArray(p)) prompt = asMessages(p, "prompt", label, WHAT);
      else fail("prompt", `must be a string or a list of chat messages, got ${describe(p)}`, label, WHAT);
      if (Array.isArray(prompt) && prompt.length === 0) fail("prompt", "a conversation needs at least one message", label, WHAT);
    } else {
      const s = splitImplicit(chosen, rejected, rawChosen, rawRejected, label);
      prompt = s.prompt;
      chosen = s.chosen;
      rejected = s.rejected;
      rawChosen = s.rawChosen;
      rawRejected = s.rawRejected;
    }
    addPair(
      ctx.builder,
      {
        project: ctx.project,
        prompt,
        first: side(chosen, rawChosen, "chosen", ctx.policy, label),
        second: side(rejected, rawRejected, "rejected", ctx.policy, label),
        source,
        value: { choice: "first" },
        metadata: extraColumns(row, PREFERENCE_COLUMNS),
      },
      label,
    );
  };
}

/** A completion in the prompt's style: messages for a conversational prompt, the output text otherwise. */
function completion(prompt: Prompt, g: Generation): Text {
  return typeof prompt === "string" ? g.output : completionMessages(g);
}

export function trlPreferenceRow(rf: ResolvedFeedback, withMetadata: boolean): Row | string {
  const pair = preferredPair(rf.feedback, rf.targets, "trl-preference");
  if ("skip" in pair) return pair.skip;
  const { prompt } = rf.item;
  const row: Row = { prompt, chosen: completion(prompt, pair.chosen), rejected: completion(prompt, pair.rejected) };
  if (withMetadata) Object.assign(row, metadataColumns(rf.feedback.metadata, PREFERENCE_COLUMNS));
  return row;
}

export const exportTrlPreference: Exporter = async function* (src, ctx) {
  for await (const rf of src.resolvedFeedback()) {
    const row = trlPreferenceRow(rf, ctx.metadataColumns);
    if (typeof row === "string") {
      ctx.skip(row, rf.feedback);
      continue;
    }
    ctx.count();
    yield `${JSON.stringify(row)}\n`;
  }
};

/** Labelled generations of one feedback for the unpaired format, or a skip reason. */
export function unpairedLabels(f: Feedback, targets: Generation[]): Array<{ generation: Generation; label: boolean }> | string {
  const g = targets[0];
  switch (f.kind) {
    case "pairwise": {
      const pair = preferredPair(f, targets, "trl-unpaired");
      if ("skip" in pair) return pair.skip;
      return [
        { generation: pair.chosen, label: true },
        { generation: pair.rejected, label: false },
      ];
    }
    case "binary":
      return g ? [{ generation: g, label: f.value.ok }] : "missing target generation";
    case "verification":
      return g ? [{ generation: g, label: f.value.passed }] : "missing target generation";
    case "critique":
      if (f.value.verdict === undefined) return "critique without verdict";
      return g ? [{ generation: g, label: f.value.verdict === "pass" }] : "missing target generation";
    default:
      return `kind ${f.kind} not carried by trl-unpaired`;
  }
}

export const exportTrlUnpaired: Exporter = async function* (src, ctx) {
  for await (const rf of src.resolvedFeedback()) {
    const labels = unpairedLabels(rf.feedback, rf.targets);
    if (typeof labels === "string") {
      ctx.skip(labels, rf.feedback);
      continue;
    }
    const extra = ctx.metadataColumns ? metadataColumns(rf.feedback.metadata, UNPAIRED_COLUMNS) : {};
    const { prompt } = rf.item;
    for (const { generation, label } of labels) {
      ctx.count();
      yield `${JSON.stringify({ prompt, completion: completion(prompt, generation), label, ...extra })}\n`;
    }
  }
};
