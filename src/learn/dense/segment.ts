/**
 * Segmenting an output into sentences (or sub-sentences) that keep their UTF-16 offsets, so a reward per segment
 * can be placed back on the text.
 *
 * The sentence splitter is rule-based: a sentence ends at `.`, `!`, `?` or `…` (with any closing quotes and
 * brackets after it) before whitespace and a plausible sentence start, or at a line break. A period does not end
 * a sentence after a title (`Dr.`, `Mrs.`), an initial (`J. R. R. Tolkien`), `e.g.`/`i.e.`, an abbreviation
 * that precedes a number (`No. 5`, `Jan. 2020`), or inside a number (`3.50`, `1.2.3`); after an abbreviation
 * that may also end a sentence (`U.S.`, `Inc.`, `p.m.`, `Jr.`) it ends one only when a common sentence opener
 * follows (`The`, `It`, `In`...). A period between two words with no space (`award.The`) ends a sentence.
 *
 * Sub-sentences follow Fine-Grained RLHF (Wu et al. 2023): a sentence is cut after a word ending in `,` `;` `:`
 * `!` or `?` when both sides keep at least `minWords` words.
 */

/** A piece of a text: `text === source.slice(start, end)` (UTF-16 offsets, end exclusive). */
export interface TextSegment {
  start: number;
  end: number;
  text: string;
}

export const SEGMENT_LEVELS = ["sentence", "subsentence"] as const;
export type SegmentLevel = (typeof SEGMENT_LEVELS)[number];

/** Titles and other abbreviations that precede a name: a period after them never ends a sentence. */
const NEVER_BREAK = new Set(
  "mr mrs ms mx dr prof st mt ft gen col lt sgt capt cpt cmdr adm maj rev fr gov sen rep pres hon messrs mme mlle e.g eg i.e ie cf vs viz approx ca".split(" "),
);
/** Abbreviations that precede a number (`No. 5`, `Vol. 2`, `Jan. 2020`): no break when a digit follows. */
const BEFORE_NUMBER = new Set("no nos vol vols p pp fig figs ch chap art sec op ed jan feb mar apr jun jul aug sep sept oct nov dec".split(" "));
/** Abbreviations that can also end a sentence: a break only before a common sentence opener. */
const MAYBE_END = new Set("inc ltd co corp bros etc al jr sr esq ph.d phd u.s u.k u.n a.m p.m d.c l.a n.y".split(" "));
/** Words that commonly open a sentence (lower-cased). */
const OPENERS = new Set(
  (
    "the a an it its he she they we i you his her their our this that these those there here in on at as by for from " +
    "after before during since when while if although though however but and so then also today later yet still thus meanwhile " +
    "one two three many most some several both each all no not what who which where why how"
  ).split(/\s+/),
);
const ROMAN = new Set(["I", "V", "X"]);

const CLOSERS = "\"'”’»)]}";
const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\u00a0" || c === "\r" || c === "\n" || c === "\u2028" || c === "\u2029";
const isUpper = (c: string | undefined) => c !== undefined && /\p{Lu}/u.test(c);
const isLower = (c: string | undefined) => c !== undefined && /\p{Ll}/u.test(c);
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/** The word ending right before `end` (letters, digits and inner periods), e.g. "U.S" before the final period. */
function wordBefore(text: string, end: number): string {
  let i = end;
  while (i > 0 && /[\p{L}\p{N}.]/u.test(text[i - 1]!)) i--;
  // A leading period belongs to the previous sentence ("...end..Next" is rare); drop it.
  return text.slice(i, end).replace(/^\.+/, "");
}

/** The next word after `from` (skipping spaces and opening quotes/brackets), and its first character. */
function wordAfter(text: string, from: number): { word: string; first: string | undefined } {
  let i = from;
  while (i < text.length && isSpace(text[i])) i++;
  while (i < text.length && /["'“‘«([{]/.test(text[i]!)) i++;
  let j = i;
  while (j < text.length && /[\p{L}\p{N}'’-]/u.test(text[j]!)) j++;
  return { word: text.slice(i, j), first: text[i] };
}

/** Whether the period at `dot` (followed by whitespace, then `next`) ends a sentence. */
function periodEnds(text: string, dot: number, next: { word: string; first: string | undefined }): boolean {
  const before = wordBefore(text, dot);
  const lower = before.toLowerCase();
  if (next.first === undefined) return true;
  // Lower-case continuation: not a sentence start ("e.g. the", "approx. ten").
  if (isLower(next.first)) return false;
  if (before === "") return true;
  if (NEVER_BREAK.has(lower)) return false;
  if (BEFORE_NUMBER.has(lower) && isDigit(next.first)) return false;
  const opener = OPENERS.has(next.word.toLowerCase());
  if (MAYBE_END.has(lower)) return opener;
  // Acronyms with inner periods: U.S., D.C., a.m.
  if (/^(?:\p{L}\.)+\p{L}$/u.test(before)) return opener;
  // A single capital is an initial (George W. Bush), unless a Roman numeral after a name (World War I. The).
  if (/^\p{Lu}$/u.test(before)) {
    if (!ROMAN.has(before)) return false;
    const prev = wordBefore(text, Math.max(0, dot - before.length - 1));
    return isUpper(prev[0]) && prev.length > 1 && opener;
  }
  return true;
}

/** Trimmed [start, end) of text.slice(start, end); null when only whitespace. */
function trimmed(text: string, start: number, end: number): TextSegment | null {
  while (start < end && isSpace(text[start])) start++;
  while (end > start && isSpace(text[end - 1])) end--;
  return end > start ? { start, end, text: text.slice(start, end) } : null;
}

/** Sentences of `text` with their offsets (see the module comment for the rules). Whitespace between them is left out. */
export function splitSentences(text: string): TextSegment[] {
  const out: TextSegment[] = [];
  let from = 0;
  const cut = (end: number, next: number) => {
    const s = trimmed(text, from, end);
    if (s) out.push(s);
    from = next;
  };
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i]!;
    if (c === "\n" || c === "\u2028" || c === "\u2029") {
      cut(i, i + 1);
      continue;
    }
    if (c !== "." && c !== "!" && c !== "?" && c !== "…") continue;
    // The run of terminal punctuation and closers: "?!", '."', ".)".
    let j = i + 1;
    while (j < n && (text[j] === "." || text[j] === "!" || text[j] === "?" || text[j] === "…")) j++;
    while (j < n && CLOSERS.includes(text[j]!)) j++;
    const single = j === i + 1 && c === ".";
    if (j < n && !isSpace(text[j])) {
      // No space after: a decimal (3.50), a URL or version (1.2.3), or a missing space between two sentences
      // ("award.The"): only the last ends one, when a lower-case word of two or more letters precedes.
      if (single && isUpper(text[j]) && isLower(text[j + 1]) && /\p{Ll}{2,}$/u.test(wordBefore(text, i)) && !NEVER_BREAK.has(wordBefore(text, i).toLowerCase())) {
        cut(j, j);
      }
      i = j - 1;
      continue;
    }
    const next = wordAfter(text, j);
    const ends = c === "." && j - i === 1 ? periodEnds(text, i, next) : next.first === undefined || !isLower(next.first);
    if (ends) cut(j, j);
    i = j - 1;
  }
  cut(n, n);
  return out;
}

const SUB_END = /[,;:!?]["'”’)\]]*$/;

/** Sub-sentences of one sentence: cut after a word ending in , ; : ! ? when both sides keep `minWords` words. */
export function splitSubsentences(sentence: TextSegment, minWords = 5): TextSegment[] {
  const words = [...sentence.text.matchAll(/\S+/g)].map((m) => ({ start: sentence.start + m.index!, end: sentence.start + m.index! + m[0].length, text: m[0] }));
  const out: TextSegment[] = [];
  let first = 0;
  for (let k = 0; k < words.length; k++) {
    const inPiece = k - first + 1;
    const left = words.length - k - 1;
    if (SUB_END.test(words[k]!.text) && inPiece >= minWords && left >= minWords) {
      const start = words[first]!.start;
      const end = words[k]!.end;
      out.push({ start, end, text: sentence.text.slice(start - sentence.start, end - sentence.start) });
      first = k + 1;
    }
  }
  if (first < words.length) {
    const start = words[first]!.start;
    out.push({ start, end: sentence.end, text: sentence.text.slice(start - sentence.start) });
  }
  return out;
}

/** Segments of `text` at `level` (default sentences). */
export function segmentText(text: string, level: SegmentLevel = "sentence", opts: { minWords?: number } = {}): TextSegment[] {
  const sentences = splitSentences(text);
  if (level === "sentence") return sentences;
  return sentences.flatMap((s) => splitSubsentences(s, opts.minWords ?? 5));
}
