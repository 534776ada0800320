/**
 * Anthropic HH-RLHF: `{chosen, rejected}`, each a whole dialogue
 * "\n\nHuman: ...\n\nAssistant: ..." that is identical to the other up to the last assistant turn.
 * The shared dialogue up to and including the last shared "\n\nAssistant:" is the prompt (as chat messages);
 * what follows it in each dialogue is the reply (one leading space removed).
 */
import type { ChatMessage } from "../../feedback/schema.js";
import { addPair } from "../batch.js";
import { asRow, extraColumns, fail, requireString } from "../fields.js";
import type { ImportContext, RecordImporter } from "../import-context.js";

const WHAT = "anthropic-hh record";
const KNOWN = new Set(["chosen", "rejected"]);
export const HUMAN = "\n\nHuman:";
export const ASSISTANT = "\n\nAssistant:";
export const DEFAULT_HH_SOURCE = { type: "human", id: "hh-rlhf" } as const;

const TURN = /\n\n(Human|Assistant):/g;

const dropSpace = (s: string) => (s.startsWith(" ") ? s.slice(1) : s);

/** "\n\nHuman: a\n\nAssistant: b..." as chat messages (Human → user, Assistant → assistant). */
export function hhTurns(dialogue: string): ChatMessage[] {
  const out: ChatMessage[] = [];
  const marks = [...dialogue.matchAll(TURN)];
  const lead = marks.length > 0 ? dialogue.slice(0, marks[0]!.index) : dialogue;
  if (lead.trim() !== "") out.push({ role: "system", content: lead });
  marks.forEach((m, i) => {
    const start = m.index! + m[0].length;
    const end = i + 1 < marks.length ? marks[i + 1]!.index! : dialogue.length;
    out.push({ role: m[1] === "Human" ? "user" : "assistant", content: dropSpace(dialogue.slice(start, end)) });
  });
  return out;
}

/** The shared prompt (ending with "\n\nAssistant:") and the two replies of an HH pair. */
export function splitHhPair(chosen: string, rejected: string): { prompt: string; chosen: string; rejected: string } | undefined {
  const n = Math.min(chosen.length, rejected.length);
  let i = 0;
  while (i < n && chosen.charCodeAt(i) === rejected.charCodeAt(i)) i++;
  const k = chosen.lastIndexOf(ASSISTANT, i - ASSISTANT.length);
  if (k < 0 || i < ASSISTANT.length) return undefined;
  const cut = k + ASSISTANT.length;
  return { prompt: chosen.slice(0, cut), chosen: dropSpace(chosen.slice(cut)), rejected: dropSpace(rejected.slice(cut)) };
}

export function anthropicHhImporter(ctx: ImportContext): RecordImporter {
  const source = ctx.source ?? DEFAULT_HH_SOURCE;
  return (raw, label) => {
    const row = asRow(raw, label, WHAT);
    const chosen = requireString(row, "chosen", label, WHAT);
    const rejected = requireString(row, "rejected", label, WHAT);
    const split = splitHhPair(chosen, rejected);
    if (!split) {
      fail("chosen", `chosen and rejected share no "\\n\\nAssistant:" turn; each must be one dialogue that differs only after its last assistant turn`, label, WHAT);
    }
    const promptText = split.prompt.slice(0, split.prompt.length - ASSISTANT.length);
    const prompt = hhTurns(promptText);
    if (prompt.length === 0) fail("chosen", `the dialogue has no turn before its last "\\n\\nAssistant:"`, label, WHAT);
    addPair(
      ctx.builder,
      {
        project: ctx.project,
        prompt,
        first: { policy: ctx.policy, output: split.chosen },
        second: { policy: ctx.policy, output: split.rejected },
        source,
        value: { choice: "first" },
        metadata: extraColumns(row, KNOWN),
      },
      label,
    );
  };
}
