/**
 * Prompt templates: `{{name}}` placeholders, replaced in one pass (text put in
 * is never scanned again, so an output containing `{{output_2}}` stays as it is).
 * Single braces are left alone, so prompts may show JSON examples.
 */
import type { ChatMessage } from "../providers/index.js";

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

export function render(template: string, vars: Record<string, string | undefined>): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const v = vars[name];
    return v === undefined ? "" : v;
  });
}

export function renderMessages(messages: readonly ChatMessage[], vars: Record<string, string | undefined>): ChatMessage[] {
  return messages.map((m) => ({ role: m.role, content: render(m.content, vars) }));
}
