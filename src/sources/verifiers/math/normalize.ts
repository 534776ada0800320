/**
 * The clean form of an extracted answer: LaTeX spacing and sizing commands, `\dfrac`/`\tfrac`,
 * `\left( \right)`, units, degrees, percent, dollars, thousands separators and decimal commas,
 * numbers in a base (`204_5`), and the damage that JSON escaping does to LaTeX (`"\frac"` written
 * in JSON becomes a form feed and `rac`). The work is done by the tokenizer (lexer.ts); this is
 * its text form, for display and explanations.
 */
import type { AnswerFlags } from "./ast.js";
import { cleanTokens } from "./parse.js";

export type { AnswerFlags } from "./ast.js";
export { repairEscapes } from "./text.js";

export interface CleanAnswer {
  /** The cleaned answer. */
  text: string;
  flags: AnswerFlags;
}

/** Cleans an extracted answer (what the parser reads, as text) and says what the clean-up learnt. */
export function cleanAnswer(raw: string): CleanAnswer {
  return cleanTokens(raw);
}
