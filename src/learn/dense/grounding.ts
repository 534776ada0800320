/**
 * Grounding passages and the lexical overlaps a segment reward reads: how much of a segment a passage sentence
 * supports (token precision, ROUGE-1 F), whether its numbers and names appear in the passages, and how much it
 * repeats the question or earlier segments.
 */
import { RlxfError } from "../../errors.js";
import { tokenize } from "../features/tokenize.js";
import { splitSentences } from "./segment.js";

/** A grounding passage: an optional title and its sentences. */
export interface Passage {
  title?: string;
  sentences: readonly string[];
}

/** What callers may pass as passages: texts, lists whose first entry is the title (Fine-Grained RLHF's), or {title, text|sentences}. */
export type PassageInput = ReadonlyArray<string | readonly string[] | { title?: string; text?: string; sentences?: readonly string[] }>;

/** Ceilings on what one scoring reads, so that a hostile request cannot make it quadratic in a huge input. */
export const MAX_PASSAGE_CHARS = 400_000;
export const MAX_PASSAGE_SENTENCES = 4_000;

/**
 * Passages from any of the accepted shapes (see {@link PassageInput}). A list of strings of which the first
 * looks like a title (no sentence-ending punctuation, followed by more entries) is read as title + sentences;
 * a plain string is split into sentences. Throws RlxfError "invalid_input" naming the bad entry.
 */
export function readPassages(raw: unknown, where = "passages"): Passage[] {
  if (!Array.isArray(raw)) throw new RlxfError("invalid_input", `${where} must be a list of passages (texts, lists of sentences, or {title, text}), got ${typeof raw}`);
  const out: Passage[] = [];
  let chars = 0;
  let sentences = 0;
  raw.forEach((p, i) => {
    let passage: { title?: string; sentences: string[] };
    if (typeof p === "string") passage = { sentences: splitSentences(p).map((s) => s.text) };
    else if (Array.isArray(p)) {
      if (!p.every((s) => typeof s === "string")) throw new RlxfError("invalid_input", `${where}.${i} must be a list of strings (a title, then sentences)`);
      const list = p as string[];
      const titled = list.length > 1 && !/[.!?]["')\]]?\s*$/.test(list[0]!.trim());
      passage = titled ? { title: list[0]!, sentences: list.slice(1) } : { sentences: [...list] };
    } else if (p && typeof p === "object") {
      const o = p as { title?: unknown; text?: unknown; sentences?: unknown };
      if (o.title !== undefined && typeof o.title !== "string") throw new RlxfError("invalid_input", `${where}.${i}.title must be a string`);
      if (o.sentences !== undefined) {
        if (!Array.isArray(o.sentences) || !o.sentences.every((s) => typeof s === "string")) throw new RlxfError("invalid_input", `${where}.${i}.sentences must be a list of strings`);
        passage = { sentences: [...(o.sentences as string[])] };
      } else if (typeof o.text === "string") passage = { sentences: splitSentences(o.text).map((s) => s.text) };
      else throw new RlxfError("invalid_input", `${where}.${i} needs "text" or "sentences"`);
      if (typeof o.title === "string") passage.title = o.title;
    } else throw new RlxfError("invalid_input", `${where}.${i} must be a text, a list of sentences or {title, text}`);
    // A sentence may start with the title and a blank line (as Fine-Grained RLHF's first sentences do): keep the text.
    passage.sentences = passage.sentences.map((s) => s.replace(/^[^\n]*\n\s*\n/, "").trim()).filter((s) => s !== "");
    const keep: string[] = [];
    for (const s of passage.sentences) {
      if (chars + s.length > MAX_PASSAGE_CHARS || sentences >= MAX_PASSAGE_SENTENCES) break;
      chars += s.length;
      sentences++;
      keep.push(s);
    }
    passage.sentences = keep;
    out.push(passage);
  });
  return out;
}

/**
 * Passages carried by a reward request's reference or a scoring row: a list of passages, an object with
 * `passages`, or the JSON text of either. Undefined when there are none (a plain-text reference is a gold
 * answer, not passages).
 */
export function passagesOf(reference: unknown): Passage[] | undefined {
  let v = reference;
  if (typeof v === "string") {
    const t = v.trim();
    if (!(t.startsWith("[") || t.startsWith("{"))) return undefined;
    try {
      v = JSON.parse(t);
    } catch {
      return undefined;
    }
  }
  if (Array.isArray(v)) return v.length ? readPassages(v, "reference") : undefined;
  if (v && typeof v === "object" && "passages" in v) {
    const p = (v as { passages: unknown }).passages;
    return p === undefined || p === null ? undefined : readPassages(p, "reference.passages");
  }
  return undefined;
}

// ---------------------------------------------------------------- tokens ---

const STOP = new Set(
  (
    "a an the and or but if of in on at to for from by with as is are was were be been being it its this that these those " +
    "he she they them his her their him we our you your i me my not no so than then there here which who whom whose what " +
    "when where why how also has have had do does did can could will would shall should may might must into onto over " +
    "under about after before during since until while all any both each few more most other some such only own same too " +
    "very s t just one"
  ).split(/\s+/),
);

/** Lower-cased content words (letters or digits, stop words dropped) of a text. */
export function contentTokens(text: string): string[] {
  return tokenize(text).filter((t) => /[\p{L}\p{N}]/u.test(t) && !STOP.has(t));
}

const NUMBER = /^\p{N}/u;
const WORDISH = /[\p{L}\p{N}]/u;
const UPPER_START = /^\p{Lu}/u;

/** Tokens of a text as the overlaps use them: content words, their bigrams, numbers, and capitalised words. */
export interface TokenView {
  words: Set<string>;
  bigrams: Set<string>;
  numbers: Set<string>;
  names: Set<string>;
  /** Number of content words with repeats (for length). */
  count: number;
}

export function tokenView(text: string): TokenView {
  const raw = tokenize(text, false).filter((t) => WORDISH.test(t));
  const all = raw.map((t) => t.toLowerCase());
  const words = new Set<string>();
  const numbers = new Set<string>();
  const names = new Set<string>();
  const bigrams = new Set<string>();
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const t = all[i]!;
    if (i + 1 < all.length) bigrams.add(`${t} ${all[i + 1]}`);
    // Capitalised words not at the start of the text (a rough named-entity view).
    if (i > 0 && UPPER_START.test(raw[i]!)) names.add(t);
    if (STOP.has(t)) continue;
    words.add(t);
    count++;
    if (NUMBER.test(t)) numbers.add(t);
  }
  return { words, bigrams, numbers, names, count };
}

/** |a ∩ b|. */
export function intersection(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let n = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) n++;
  return n;
}

/** Share of `a` found in `b` (1 when `a` is empty: nothing unsupported). */
export function containment(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  return a.size === 0 ? 1 : intersection(a, b) / a.size;
}

/** ROUGE-1-style F over distinct content words. */
export function overlapF(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  const n = intersection(a, b);
  return n === 0 ? 0 : (2 * n) / (a.size + b.size);
}

/** Passages indexed for overlap queries: every sentence's token view, the union of all, and a word → sentences index. */
export interface PassageIndex {
  sentences: Array<{ passage: number; sentence: number; text: string; view: TokenView }>;
  titles: TokenView[];
  all: TokenView;
  postings: Map<string, number[]>;
}

export function indexPassages(passages: readonly Passage[]): PassageIndex {
  const sentences: PassageIndex["sentences"] = [];
  const titles: TokenView[] = [];
  const all: TokenView = { words: new Set(), bigrams: new Set(), numbers: new Set(), names: new Set(), count: 0 };
  const postings = new Map<string, number[]>();
  passages.forEach((p, pi) => {
    titles.push(tokenView(p.title ?? ""));
    p.sentences.forEach((text, si) => {
      const view = tokenView(text);
      const k = sentences.length;
      sentences.push({ passage: pi, sentence: si, text, view });
      for (const w of view.words) {
        all.words.add(w);
        let list = postings.get(w);
        if (!list) postings.set(w, (list = []));
        list.push(k);
      }
      for (const b of view.bigrams) all.bigrams.add(b);
      for (const n of view.numbers) all.numbers.add(n);
      for (const n of view.names) all.names.add(n);
      all.count += view.count;
    });
    for (const w of titles[pi]!.words) all.words.add(w);
    for (const n of tokenView(p.title ?? "").names) all.names.add(n);
  });
  return { sentences, titles, all, postings };
}

/** The passage sentence that best supports `view` (highest token precision, ties by ROUGE-1 F), with both scores. */
export function bestSupport(view: TokenView, index: PassageIndex): { at: number; precision: number; f: number } {
  const hits = new Map<number, number>();
  for (const w of view.words) for (const k of index.postings.get(w) ?? []) hits.set(k, (hits.get(k) ?? 0) + 1);
  let at = -1;
  let precision = 0;
  let f = 0;
  for (const [k, n] of hits) {
    const s = index.sentences[k]!.view;
    const p = n / Math.max(1, view.words.size);
    const ff = (2 * n) / (view.words.size + s.words.size);
    if (p > precision || (p === precision && ff > f)) [at, precision, f] = [k, p, ff];
  }
  return { at, precision, f };
}
