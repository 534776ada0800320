/**
 * From text feedback to spans (Text2Grad's first stage: align "each feedback phrase with the relevant token
 * spans"). A critique is cut into phrases (its weaknesses and strengths, else its lines and sentences); each
 * phrase gets a label and a polarity from its wording, and is aligned with the part of the output it talks about:
 *
 * 1. quoted text (`"..."`, `“...”`, `` `...` ``) found in the output gives the span exactly;
 * 2. otherwise lexical alignment: the sentence or sub-sentence of the output whose content words and bigrams the
 *    phrase (or its quote) covers best, by an F-measure of word overlap;
 * 3. with an embedder, the cosine of phrase and candidate embeddings joins the lexical score, and aligns phrases
 *    that share no words with the output.
 *
 * A phrase about repetition flags the later copies, not the first mention; a phrase about something the output
 * leaves out has no span in it and is skipped. A phrase that aligns with nothing above `minScore` is skipped too:
 * precision matters more than recall for a training signal.
 */
import { type LabelledSpan, matchSpans } from "../../eval/index.js";
import type { Embedder } from "../features/embedding.js";
import { containment, tokenView, type TokenView } from "./grounding.js";
import { splitSentences, splitSubsentences, type TextSegment } from "./segment.js";

/** A label and the cues (regular expressions, case-insensitive) that give a phrase that label. */
export interface LabelCue {
  label: string;
  cues: RegExp[];
  /** The label means repeated content: flag the later copies. */
  repetition?: boolean;
  /**
   * The label means the output contradicts a source the phrase cites: a candidate that restates the cited text
   * word for word is the source's content, not the error, and is passed over.
   */
  contradiction?: boolean;
}

/** Generic error labels (the first whose cue matches wins). */
export const DEFAULT_LABEL_CUES: LabelCue[] = [
  { label: "redundant", cues: [/redundan/i, /\brepeat/i, /repetit/i, /duplicat/i, /already (?:said|stated|mentioned|given)/i], repetition: true },
  { label: "irrelevant", cues: [/irrelevan/i, /off[- ]topic/i, /not relevant/i, /unrelated/i, /(?:does not|doesn't|fails to) (?:address|answer)/i, /not (?:what|asked)/i] },
  { label: "incoherent", cues: [/incoheren/i, /ungrammatical/i, /garbled/i, /truncated/i, /nonsens/i, /(?:does not|doesn't) make sense/i] },
  { label: "unsupported", cues: [/unverifiable/i, /not supported/i, /unsupported/i, /not (?:in|found in|mentioned in|stated in) the (?:passage|source|context|document)/i, /hallucinat/i, /fabricat/i, /no evidence/i] },
  { label: "incorrect", cues: [/incorrect/i, /\bwrong/i, /inaccura/i, /\bfalse\b/i, /contradict/i, /inconsistent/i, /mistake/i, /\berror/i, /\bnot true\b/i], contradiction: true },
];

/** Cues of a phrase about missing content: it has no span in the output. */
const MISSING = [/\bmissing\b/i, /leaves? out/i, /\bomit/i, /\black(?:s|ing)?\b/i, /(?:does not|doesn't|fails to) (?:mention|include|cover|state)/i, /\bincomplete\b/i, /should (?:also )?(?:mention|include|add)/i];
const POSITIVE = [/\bcorrect(?:ly)?\b/i, /\baccurate(?:ly)?\b/i, /\bgood\b/i, /\bwell\b/i, /\bclear(?:ly)?\b/i, /\brelevant\b/i, /\bhelpful\b/i, /\bconcise\b/i];

/** One phrase of a critique. */
export interface CritiquePhrase {
  text: string;
  /** Where it came from: a weakness, a strength, or the critique's text. */
  from: "weakness" | "strength" | "text";
  /** −1 for an error, +1 for praise, 0 for neither (not aligned). */
  polarity: -1 | 0 | 1;
  /** The label: an explicit "Label:" prefix that names a known label, else the first matching cue's label. */
  label?: string;
  /** The phrase is about content the output leaves out. */
  missing: boolean;
  /** Quoted text in the phrase. */
  quotes: string[];
}

export interface AlignedSpan {
  start: number;
  end: number;
  label: string;
  /** −1 for an error, +1 for praise. */
  score: number;
  /** The critique phrase the span comes from. */
  comment: string;
  method: "quote" | "lexical" | "embedding";
  /** Alignment score in [0, 1]. */
  confidence: number;
}

export interface AlignOptions {
  /** Labels and their cues (default: generic labels). Names given here are also matched by a "Label:" prefix. */
  labels?: LabelCue[];
  /** Label of an error phrase no cue matches (default "error"). */
  defaultLabel?: string;
  /** Label of a praise phrase (default "good"). */
  positiveLabel?: string;
  /** Align praise too, as spans with score +1 (default false: errors only). */
  includePositive?: boolean;
  /** Smallest alignment score kept (default 0.3). */
  minScore?: number;
  /** Fewest content words a lexical alignment shares with the phrase (default 2; 1 when the phrase has one). */
  minShared?: number;
  /** Embeddings of phrases and candidates (optional). */
  embedder?: Embedder;
  /** Weight of the embedding cosine in the score when an embedder is given (default 0.5). */
  embeddingWeight?: number;
  /** Sub-sentences: fewest words on each side of a cut (default 4). */
  minWords?: number;
}

export interface CritiqueLike {
  text: string;
  strengths?: readonly string[];
  weaknesses?: readonly string[];
}

/** Words of critique language that say nothing about which part of the output is meant. */
const META = new Set(
  (
    "answer response output text sentence sentences part claim claims statement statements says said states stated mentions mentioned " +
    "mention information info passage passages source context question model assistant about regarding should would could also however " +
    "irrelevant redundant repeated repeats repetition incoherent unverifiable unsupported incorrect wrong inaccurate false error errors " +
    "missing issue problem note correct accurate good well clear relevant"
  ).split(/\s+/),
);

const QUOTE_PATTERNS = [/"([^"\n]{3,}?)"/g, /“([^”\n]{3,}?)”/g, /`([^`\n]{3,}?)`/g, /(?:^|[\s([:])'([^'\n]{3,}?)'(?=$|[\s).,;:!?\]])/g, /(?:^|[\s([:])‘([^’\n]{3,}?)’(?=$|[\s).,;:!?\]])/g];

function quotesOf(text: string): string[] {
  const out: string[] = [];
  for (const re of QUOTE_PATTERNS) for (const m of text.matchAll(re)) if (m[1]!.trim().length >= 3) out.push(m[1]!.trim());
  // A quote that itself contains quotes ("... the "hard decisions", ..."): the outermost pair too.
  const outer = /"(.{3,})"/s.exec(text);
  if (outer && !out.includes(outer[1]!.trim())) out.push(outer[1]!.trim());
  return out;
}

/** "Label: rest" where Label names a known label (case-insensitive). */
function prefixLabel(text: string, labels: readonly LabelCue[]): { label: string; rest: string } | undefined {
  const m = /^\s*([\p{L}][\p{L}\p{N} _-]{0,40}?)\s*:\s*(.*)$/su.exec(text);
  if (!m) return undefined;
  const name = m[1]!.trim().toLowerCase();
  const hit = labels.find((l) => l.label.toLowerCase() === name);
  return hit ? { label: hit.label, rest: m[2]! } : undefined;
}

/** The phrases of a critique, with polarity, label and quotes (see {@link CritiquePhrase}). */
export function critiquePhrases(c: CritiqueLike, opts: Pick<AlignOptions, "labels" | "defaultLabel" | "positiveLabel"> = {}): CritiquePhrase[] {
  const labels = opts.labels ?? DEFAULT_LABEL_CUES;
  const raw: Array<{ text: string; from: CritiquePhrase["from"] }> = [];
  if (c.weaknesses?.length || c.strengths?.length) {
    for (const w of c.weaknesses ?? []) raw.push({ text: w, from: "weakness" });
    for (const s of c.strengths ?? []) raw.push({ text: s, from: "strength" });
  } else {
    for (const line of c.text.split(/\n+/)) {
      const t = line.replace(/^\s*(?:[-*•]|\d+[.)])\s*/, "").trim();
      if (!t) continue;
      // A "Label: ..." line stays whole; other lines are cut into sentences.
      if (prefixLabel(t, labels)) raw.push({ text: t, from: "text" });
      else for (const s of splitSentences(t)) raw.push({ text: s.text, from: "text" });
    }
  }
  return raw.map(({ text, from }) => {
    const prefixed = prefixLabel(text, labels);
    const body = prefixed?.rest ?? text;
    const cueText = body.replace(/"[^"]*"|“[^”]*”|`[^`]*`/g, " ");
    const cue = prefixed ? labels.find((l) => l.label === prefixed.label) : labels.find((l) => l.cues.some((re) => re.test(cueText)));
    // About content the output leaves out (unless the phrase also names an error in what it says).
    const missing = !cue && MISSING.some((re) => re.test(cueText));
    const positive = !cue && POSITIVE.some((re) => re.test(cueText)) && !/\bnot\b|n't\b/i.test(cueText);
    let polarity: CritiquePhrase["polarity"];
    if (from === "weakness") polarity = -1;
    else if (from === "strength") polarity = 1;
    else polarity = cue || missing ? -1 : positive ? 1 : 0;
    const label = polarity < 0 ? (cue?.label ?? opts.defaultLabel ?? "error") : polarity > 0 ? (opts.positiveLabel ?? "good") : undefined;
    const p: CritiquePhrase = { text, from, polarity, missing, quotes: quotesOf(body) };
    if (label !== undefined) p.label = label;
    return p;
  });
}

/** Case- and space-insensitive occurrences of `needle` in `hay`, as [start, end) offsets in `hay`. */
export function findAll(hay: string, needle: string): Array<[number, number]> {
  const words = needle.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (words.length === 0 || words[0] === "") return [];
  const re = new RegExp(words.join("\\s+"), "giu");
  return [...hay.matchAll(re)].map((m) => [m.index!, m.index! + m[0].length]);
}

interface Candidate extends TextSegment {
  view: TokenView;
}

function candidatesOf(output: string, minWords: number): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  for (const s of splitSentences(output)) {
    for (const c of [s, ...splitSubsentences(s, minWords)]) {
      const k = `${c.start}:${c.end}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ ...c, view: tokenView(c.text) });
    }
  }
  return out;
}

/** Content words of a phrase without critique vocabulary. */
function phraseView(text: string): TokenView {
  const v = tokenView(text);
  const words = new Set([...v.words].filter((w) => !META.has(w)));
  return { ...v, words, count: words.size };
}

/** Lexical alignment score: F-measure of shared content words, averaged with bigram containment of the candidate. */
function lexicalScore(phrase: TokenView, cand: TokenView): { score: number; shared: number } {
  let shared = 0;
  for (const w of phrase.words) if (cand.words.has(w)) shared++;
  if (shared === 0) return { score: 0, shared };
  const p = shared / Math.max(1, cand.words.size);
  const r = shared / Math.max(1, phrase.words.size);
  const f = (2 * p * r) / (p + r);
  const b = cand.bigrams.size ? containment(cand.bigrams, phrase.bigrams) : 0;
  return { score: 0.75 * f + 0.25 * b, shared };
}

const cosine = (a: readonly number[], b: readonly number[]) => {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? d / Math.sqrt(na * nb) : 0;
};

/** What became of each phrase. */
export interface PhraseAlignment {
  phrase: CritiquePhrase;
  spans: AlignedSpan[];
  /** Why it has no span: "missing content", "neutral", "praise", "no match". */
  skipped?: string;
}

/**
 * Align a critique with the output it criticises: spans with labels, polarity (score −1/+1), the phrase as
 * comment, the method and a confidence. Overlapping spans of one label merge.
 */
export async function alignCritique(output: string, critique: CritiqueLike, opts: AlignOptions = {}): Promise<{ spans: AlignedSpan[]; phrases: PhraseAlignment[] }> {
  const labels = opts.labels ?? DEFAULT_LABEL_CUES;
  const minScore = opts.minScore ?? 0.3;
  const phrases = critiquePhrases(critique, opts);
  const candidates = candidatesOf(output, opts.minWords ?? 4);
  const wanted = phrases.filter((p) => !p.missing && (p.polarity < 0 || (p.polarity > 0 && opts.includePositive)));
  // Embeddings of the candidates and of the phrases to align, in one call.
  let cand: number[][] = [];
  const phraseVec = new Map<CritiquePhrase, number[]>();
  if (opts.embedder && wanted.length && candidates.length) {
    const texts = [...candidates.map((c) => c.text), ...wanted.map((p) => p.quotes.join(" ") || p.text)];
    const vecs = await opts.embedder.embed(texts);
    cand = vecs.slice(0, candidates.length);
    wanted.forEach((p, i) => phraseVec.set(p, vecs[candidates.length + i]!));
  }
  const ew = opts.embedder ? (opts.embeddingWeight ?? 0.5) : 0;
  const results: PhraseAlignment[] = phrases.map((phrase) => {
    if (phrase.missing) return { phrase, spans: [], skipped: "missing content" };
    if (phrase.polarity === 0) return { phrase, spans: [], skipped: "neutral" };
    if (phrase.polarity > 0 && !opts.includePositive) return { phrase, spans: [], skipped: "praise" };
    const label = phrase.label!;
    const cue = labels.find((l) => l.label === label);
    const repetition = cue?.repetition ?? false;
    const contradiction = cue?.contradiction ?? false;
    const score = phrase.polarity;
    const make = (start: number, end: number, method: AlignedSpan["method"], confidence: number): AlignedSpan => ({ start, end, label, score, comment: phrase.text, method, confidence });
    // 1. Quotes found in the output.
    const found: Array<[number, number]> = phrase.quotes.flatMap((q) => findAll(output, q));
    if (found.length && !repetition) return { phrase, spans: found.map(([a, b]) => make(a, b, "quote", 1)) };
    // 2 and 3. Lexical (and embedding) scores of every candidate.
    const targets = phrase.quotes.length ? phrase.quotes.map(phraseView) : [phraseView(phrase.text)];
    const pv = phraseVec.get(phrase);
    const scored = candidates.map((c, i) => {
      let lex = 0;
      let shared = 0;
      for (const t of targets) {
        const s = lexicalScore(t, c.view);
        if (s.score > lex) [lex, shared] = [s.score, s.shared];
      }
      const need = opts.minShared ?? Math.min(2, Math.max(1, ...targets.map((t) => t.words.size)));
      const restates = contradiction && targets.some((t) => c.view.words.size > 0 && containment(c.view.words, t.words) >= 0.95 && containment(t.words, c.view.words) >= 0.95);
      const lexOk = shared >= need && !restates ? lex : 0;
      const cos = pv ? Math.max(0, cosine(pv, cand[i]!)) : 0;
      return { c, lex: lexOk, cos, score: ew ? (1 - ew) * lexOk + ew * cos : lexOk };
    });
    if (repetition) return { phrase, spans: repeatedCopies(output, phrase, candidates, scored, found, targets, minScore).map((c) => make(c.start, c.end, c.method, c.conf)) };
    let best = scored[0];
    for (const s of scored) if (best === undefined || s.score > best.score || (s.score === best.score && s.c.end - s.c.start < best.c.end - best.c.start)) best = s;
    if (!best || best.score < minScore) return { phrase, spans: [], skipped: "no match" };
    return { phrase, spans: [make(best.c.start, best.c.end, best.lex >= best.cos || !pv ? "lexical" : "embedding", Math.min(1, best.score))] };
  });
  return { spans: mergeSpans(results.flatMap((r) => r.spans)), phrases: results };
}

type Copy = { start: number; end: number; conf: number; method: AlignedSpan["method"] };

/**
 * The later copies of repeated content. When the quoted content is found in the output, its occurrences are the
 * original, and the copies are the other candidates (and the rest of an occurrence's sentence) whose words the
 * quote mostly contains; otherwise every close candidate but the first.
 */
function repeatedCopies(
  output: string,
  phrase: CritiquePhrase,
  candidates: readonly Candidate[],
  scored: ReadonlyArray<{ c: Candidate; lex: number; cos: number; score: number }>,
  found: ReadonlyArray<[number, number]>,
  targets: readonly TokenView[],
  minScore: number,
): Copy[] {
  const covered = (c: TokenView) => Math.max(0, ...targets.map((t) => (c.words.size >= 2 ? containment(c.words, t.words) : 0)));
  const threshold = Math.max(minScore, 0.5);
  const copies: Copy[] = [];
  // The first occurrence of the quoted content is the original; any later verbatim one is a copy.
  const sorted = [...found].sort((a, b) => a[0] - b[0]);
  const first = sorted[0];
  const overlapsOriginal = (a: number, b: number) => first !== undefined && a < first[1] && b > first[0];
  if (found.length) {
    for (const [s, e] of sorted.slice(1)) if (!overlapsOriginal(s, e)) copies.push({ start: s, end: e, conf: 1, method: "quote" });
    for (const [s, e] of found) {
      // The rest of the sentence the occurrence ends in ("... in New York City in 1868." after "... in New York City").
      const sentence = candidates.find((c) => c.start <= s && c.end >= e && c.end > e);
      if (sentence) {
        const start = e + (output.slice(e, sentence.end).length - output.slice(e, sentence.end).trimStart().length);
        const rest = tokenView(output.slice(start, sentence.end));
        if (start < sentence.end && covered(rest) >= threshold) copies.push({ start, end: sentence.end, conf: covered(rest), method: "quote" });
      }
    }
    for (const s of scored) {
      if (overlapsOriginal(s.c.start, s.c.end)) continue;
      const conf = Math.max(covered(s.c.view), s.cos);
      if (conf >= threshold) copies.push({ start: s.c.start, end: s.c.end, conf, method: covered(s.c.view) >= s.cos ? "lexical" : "embedding" });
    }
  } else {
    for (const s of scored) {
      const conf = Math.max(covered(s.c.view), s.cos);
      if (conf >= threshold) copies.push({ start: s.c.start, end: s.c.end, conf, method: covered(s.c.view) >= s.cos ? "lexical" : "embedding" });
    }
  }
  // Of candidates that overlap (a sentence and its sub-sentences), keep the most confident, then the shortest.
  copies.sort((a, b) => b.conf - a.conf || a.end - a.start - (b.end - b.start));
  const kept: Copy[] = [];
  for (const c of copies) if (!kept.some((k) => c.start < k.end && c.end > k.start)) kept.push(c);
  kept.sort((a, b) => a.start - b.start);
  void phrase;
  return found.length ? kept : kept.slice(1);
}

/** Spans of one label and polarity that overlap merge (keeping the first phrase and the higher confidence). */
export function mergeSpans(spans: readonly AlignedSpan[]): AlignedSpan[] {
  const sorted = [...spans].sort((a, b) => a.label.localeCompare(b.label) || a.score - b.score || a.start - b.start || a.end - b.end);
  const out: AlignedSpan[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && last.label === s.label && last.score === s.score && s.start < last.end) {
      last.end = Math.max(last.end, s.end);
      last.confidence = Math.max(last.confidence, s.confidence);
      continue;
    }
    out.push({ ...s });
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Labels of a span taxonomy as cues: each name is also its own cue (e.g. qa-feedback's "Wrong-Grounding" matches "wrong grounding"). */
export function labelCues(
  names: readonly string[],
  opts: { cues?: Record<string, RegExp[]>; repetition?: readonly string[]; contradiction?: readonly string[] } = {},
): LabelCue[] {
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return names.map((label) => ({
    label,
    cues: [new RegExp(label.split(/[-_ ]+/).map(esc).join("[-_ ]?"), "i"), ...(opts.cues?.[label] ?? [])],
    ...(opts.repetition?.includes(label) ? { repetition: true } : {}),
    ...(opts.contradiction?.includes(label) ? { contradiction: true } : {}),
  }));
}

/** Precision, recall and F1 of predicted spans against reference spans, over many outputs. */
export interface SpanScores {
  predicted: number;
  reference: number;
  matched: number;
  precision: number;
  recall: number;
  f1: number;
}

/**
 * Span-level scores of predictions against references, one pair of span lists per output: spans match one to one
 * when they share the label and overlap (`matchSpans`, the pairwise span F1 of annotator agreement), so
 * precision = matched / predicted, recall = matched / reference, F1 = 2·matched / (predicted + reference).
 */
export function spanScores(outputs: ReadonlyArray<{ predicted: readonly LabelledSpan[]; reference: readonly LabelledSpan[] }>): SpanScores {
  let predicted = 0;
  let reference = 0;
  let matched = 0;
  for (const o of outputs) {
    predicted += o.predicted.length;
    reference += o.reference.length;
    matched += matchSpans(o.predicted, o.reference).matched;
  }
  return {
    predicted,
    reference,
    matched,
    precision: predicted ? matched / predicted : 0,
    recall: reference ? matched / reference : 0,
    f1: predicted + reference ? (2 * matched) / (predicted + reference) : 0,
  };
}
