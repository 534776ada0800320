/**
 * A small, dependency-free tokenizer for hashed features: runs of letters/digits (with inner apostrophes) are
 * words, every other non-space character is a token of its own.
 */

const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}]+)*|[^\s\p{L}\p{N}]/gu;

/** Tokens of `text`, lowercased unless `lowercase` is false. */
export function tokenize(text: string, lowercase = true): string[] {
  const t = lowercase ? text.toLowerCase() : text;
  return t.match(TOKEN) ?? [];
}

/** Number of whitespace-separated words (a length measure independent of the tokenizer). */
export function wordCount(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 9 || c === 10 || c === 13;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}
