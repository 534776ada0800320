/**
 * Dataset rows for trainers, from preference pairs, labelled outputs, step examples, demonstrations and prompts:
 *
 * | format | row | trainers |
 * |---|---|---|
 * | `trl-preference` | `{prompt, chosen, rejected}` (+ `margin`) | TRL DPO/CPO/ORPO, RewardTrainer |
 * | `trl-unpaired` | `{prompt, completion, label}` | TRL KTO, BCO |
 * | `trl-prompt` | `{prompt}` (+ `ground_truth`) | TRL GRPO, RLOO (extra columns reach reward functions) |
 * | `trl-stepwise` | `{prompt, completions, labels}` | TRL PRMTrainer |
 * | `trl-sft` | `{prompt, completion}` | TRL SFT (best outputs, or Chain of Hindsight rows) |
 * | `openrlhf-preference` | `{prompt, chosen, rejected}` as chat messages | OpenRLHF RM/DPO with `--apply_chat_template` |
 * | `openrlhf-prompt` | `{input, label}` (input as chat messages) | OpenRLHF PPO/REINFORCE (`--input_key input --label_key label`) |
 * | `verl` | `{data_source, prompt, ability, reward_model: {style, ground_truth}, extra_info}` (parquet) | verl |
 * | `openai-sft` | `{messages}` | OpenAI supervised fine-tuning |
 * | `openai-dpo` | `{input: {messages}, preferred_output, non_preferred_output}` | OpenAI preference fine-tuning |
 *
 * TRL rows are conversational (lists of `{role, content}`) when the prompt is a conversation and standard
 * (strings) when it is text.
 */
import type { ChatMessage, Prompt } from "../../feedback/schema.js";
import { promptMessages } from "../../io/index.js";
import type { Completion, LabelledOutput, PreferencePair, StepExample } from "./examples.js";
import { pairMargin } from "./filters.js";
import type { Demonstration, HindsightRow } from "./hindsight.js";

export const DATASET_FORMATS = [
  "trl-preference",
  "trl-unpaired",
  "trl-prompt",
  "trl-stepwise",
  "trl-sft",
  "chain-of-hindsight",
  "openrlhf-preference",
  "openrlhf-prompt",
  "verl",
  "openai-sft",
  "openai-dpo",
] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export type Row = Record<string, unknown>;

/** A prompt with what RL trainers need beside it. */
export interface PromptExample {
  project: string;
  itemId: string;
  prompt: Prompt;
  /** A reference answer for rule-based rewards. */
  reference?: string;
  dataset?: string;
}

function completionMessages(c: Completion): ChatMessage[] {
  return c.messages ?? [{ role: "assistant", content: c.text }];
}

/** A completion in the prompt's style: messages for a conversation, text for a text prompt. */
function completionFor(prompt: Prompt, c: Completion): string | ChatMessage[] {
  return typeof prompt === "string" ? c.text : completionMessages(c);
}

export function trlPreferenceRow(p: PreferencePair, opts: { marginColumn?: boolean } = {}): Row {
  const row: Row = { prompt: p.prompt, chosen: completionFor(p.prompt, p.chosen), rejected: completionFor(p.prompt, p.rejected) };
  if (opts.marginColumn) row.margin = pairMargin(p);
  return row;
}

export function trlUnpairedRows(pairs: readonly PreferencePair[], labelled: readonly LabelledOutput[]): Row[] {
  const out: Row[] = [];
  const seen = new Set<string>();
  const add = (prompt: Prompt, c: Completion, label: boolean) => {
    const key = JSON.stringify([prompt, c.generationId ?? c.text, label]);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ prompt, completion: completionFor(prompt, c), label });
  };
  for (const l of labelled) add(l.prompt, l.completion, l.label);
  // Pairs whose outputs were not labelled one by one already.
  for (const p of pairs) {
    if (p.pChosen === 0.5 || p.derivation === "binary" || p.derivation === "verification" || p.derivation === "critique") continue;
    add(p.prompt, p.chosen, true);
    add(p.prompt, p.rejected, false);
  }
  return out;
}

export function trlPromptRow(x: PromptExample): Row {
  const row: Row = { prompt: x.prompt };
  if (x.reference !== undefined) row.ground_truth = x.reference;
  return row;
}

export function trlStepwiseRow(s: StepExample): Row {
  return { prompt: s.prompt, completions: s.steps, labels: s.labels };
}

export function trlSftRow(d: Demonstration): Row {
  return { prompt: d.prompt, completion: completionFor(d.prompt, d.completion) };
}

export function hindsightRow(h: HindsightRow): Row {
  return { prompt: h.prompt, completion: h.completion };
}

export function openRlhfPreferenceRow(p: PreferencePair): Row {
  return { prompt: promptMessages(p.prompt), chosen: completionMessages(p.chosen), rejected: completionMessages(p.rejected) };
}

export function openRlhfPromptRow(x: PromptExample): Row {
  const row: Row = { input: promptMessages(x.prompt) };
  if (x.reference !== undefined) row.label = x.reference;
  return row;
}

/** A verl row (see `writeVerlParquet` for how it is written). */
export type VerlRow = {
  data_source: string;
  prompt: ChatMessage[];
  ability: string;
  reward_model: { style: "rule" | "model"; ground_truth: string | null };
  extra_info: { split: string; index: number; item_id: string };
};

export function verlRow(x: PromptExample, index: number, opts: { ability?: string; split?: string; dataSource?: string } = {}): VerlRow {
  return {
    data_source: opts.dataSource ?? x.dataset ?? x.project,
    prompt: promptMessages(x.prompt),
    ability: opts.ability ?? "general",
    reward_model: { style: x.reference !== undefined ? "rule" : "model", ground_truth: x.reference ?? null },
    extra_info: { split: opts.split ?? "train", index, item_id: x.itemId },
  };
}

export function openAiSftRow(d: Demonstration): Row {
  return { messages: [...promptMessages(d.prompt), ...completionMessages(d.completion)] };
}

export function openAiDpoRow(p: PreferencePair): Row {
  return {
    input: { messages: promptMessages(p.prompt), tools: [], parallel_tool_calls: true },
    preferred_output: completionMessages(p.chosen),
    non_preferred_output: completionMessages(p.rejected),
  };
}
