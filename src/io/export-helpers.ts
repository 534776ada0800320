/**
 * Shared pieces of the exporters.
 */
import type { ChatMessage, Feedback, Generation, Prompt } from "../feedback/schema.js";
import type { ExportSource } from "./types.js";

export interface ExportContext {
  metadataColumns: boolean;
  skip(reason: string, feedback: Feedback): void;
  /** Count one written record. */
  count(n?: number): void;
}

/** Yields the pieces of the file; every piece ends with "\n". */
export type Exporter = (src: ExportSource, ctx: ExportContext) => AsyncGenerator<string>;

/** A prompt as plain text: a string as is, one user message as its content, else "role: content" turns. */
export function promptText(prompt: Prompt): string {
  if (typeof prompt === "string") return prompt;
  if (prompt.length === 1 && prompt[0]!.role === "user") return prompt[0]!.content;
  return prompt.map((m) => `${m.role}: ${m.content}`).join("\n\n");
}

/** A prompt as chat messages: a string becomes one user message. */
export function promptMessages(prompt: Prompt): ChatMessage[] {
  return typeof prompt === "string" ? [{ role: "user", content: prompt }] : prompt.map((m) => ({ role: m.role, content: m.content }));
}

function isMessageList(v: unknown): v is ChatMessage[] {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((m) => m !== null && typeof m === "object" && typeof (m as ChatMessage).role === "string" && typeof (m as ChatMessage).content === "string")
  );
}

/**
 * A generation as completion messages: the messages kept on import (`metadata.messages`) when there are any,
 * else one assistant message with the output.
 */
export function completionMessages(g: Generation): ChatMessage[] {
  const kept = g.metadata?.messages;
  if (isMessageList(kept)) return kept;
  return [{ role: "assistant", content: g.output }];
}

/** Feedback metadata entries whose keys are not columns of the format. */
export function metadataColumns(metadata: Record<string, unknown> | undefined, reserved: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  if (!metadata) return out;
  for (const [k, v] of Object.entries(metadata)) if (!reserved.has(k) && v !== undefined) out[k] = v;
  return out;
}

export type PreferredPair = { chosen: Generation; rejected: Generation } | { skip: string };

/** Chosen and rejected generations of a pairwise feedback (ties and other kinds are skips). */
export function preferredPair(f: Feedback, targets: Generation[], format: string): PreferredPair {
  if (f.kind !== "pairwise") return { skip: `kind ${f.kind} not carried by ${format}` };
  const [a, b] = targets;
  if (!a || !b) return { skip: "missing target generation" };
  if (f.value.choice === "tie") return { skip: "tie (no preferred output)" };
  return f.value.choice === "first" ? { chosen: a, rejected: b } : { chosen: b, rejected: a };
}
