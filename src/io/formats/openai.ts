/**
 * OpenAI preference fine-tuning (DPO) JSONL, as documented at
 * https://developers.openai.com/api/docs/guides/direct-preference-optimization :
 * `{"input": {"messages": [...], "tools": [], "parallel_tool_calls": true},
 *   "preferred_output": [{"role": "assistant", "content": ...}],
 *   "non_preferred_output": [{"role": "assistant", "content": ...}]}`.
 * A string prompt becomes one user message. No extra columns are written.
 */
import type { ResolvedFeedback } from "../../feedback/schema.js";
import { completionMessages, preferredPair, promptMessages, type Exporter } from "../export-helpers.js";

export function openAiDpoRow(rf: ResolvedFeedback): Record<string, unknown> | string {
  const pair = preferredPair(rf.feedback, rf.targets, "openai-dpo");
  if ("skip" in pair) return pair.skip;
  return {
    input: { messages: promptMessages(rf.item.prompt), tools: [], parallel_tool_calls: true },
    preferred_output: completionMessages(pair.chosen),
    non_preferred_output: completionMessages(pair.rejected),
  };
}

export const exportOpenAiDpo: Exporter = async function* (src, ctx) {
  for await (const rf of src.resolvedFeedback()) {
    const row = openAiDpoRow(rf);
    if (typeof row === "string") {
      ctx.skip(row, rf.feedback);
      continue;
    }
    ctx.count();
    yield `${JSON.stringify(row)}\n`;
  }
};
