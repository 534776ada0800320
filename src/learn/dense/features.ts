/**
 * Features of each segment of an output: the segment's hashed word n-grams (with the n-grams it shares with the
 * question in a namespace of their own, see `hashedNgramFeaturizer`), and dense features of where it sits and
 * what supports it:
 *
 * - position: relative place, first, last, the number of segments, whether it ends a sentence properly;
 * - grounding (Fine-Grained RLHF's factuality and relevance are both judged against the passages): the token
 *   precision and ROUGE-1 F of the segment against its best-supporting passage sentence, the share of its words,
 *   bigrams, numbers and capitalised names found anywhere in the passages, and how much the supporting sentence
 *   and its passage's title share with the question (support from an off-topic passage suggests irrelevance);
 * - novelty: the share of the segment's words in the question, and of the question's it covers;
 * - repetition: the largest word and bigram containment of the segment in an earlier segment (and in a later
 *   one), which is what a redundant segment shows.
 *
 * Key overlaps also get one-hot bins so that a linear model can bend on them.
 */
import type { Prompt } from "../../feedback/schema.js";
import type { HashedNgramSpec } from "../features/featurizer.js";
import { hashedNgramFeaturizer, hashedSpec } from "../features/hashed.js";
import { type SparseVector, sparseFrom } from "../features/sparse.js";
import { type Passage, type PassageIndex, bestSupport, containment, indexPassages, overlapF, tokenView, type TokenView } from "./grounding.js";

/** Token precision of `view` against its best-supporting sentence together with the next best one. */
function secondSupport(view: TokenView, index: PassageIndex, best: number): number {
  if (best < 0 || view.words.size === 0) return 0;
  const first = index.sentences[best]!.view.words;
  let top = 0;
  const seen = new Set<number>();
  for (const w of view.words) {
    if (first.has(w)) continue;
    for (const k of index.postings.get(w) ?? []) {
      if (k === best || seen.has(k)) continue;
      seen.add(k);
      const other = index.sentences[k]!.view.words;
      let n = 0;
      for (const x of view.words) if (first.has(x) || other.has(x)) n++;
      top = Math.max(top, n / view.words.size);
    }
  }
  let base = 0;
  for (const x of view.words) if (first.has(x)) base++;
  return Math.max(top, base / view.words.size);
}
import { type SegmentLevel, type TextSegment, segmentText } from "./segment.js";

/** Everything needed to rebuild a segment featurizer: kept in the model. */
export interface SegmentFeatureSpec {
  type: "segment-features";
  /** Hashed n-grams of each segment (prompt features compare it with the question). */
  hashed: HashedNgramSpec;
  /** Segments: sentences (default) or sub-sentences. */
  level: SegmentLevel;
  /** Sub-sentences: fewest words on each side of a cut (default 5). */
  minWords: number;
}

export function segmentFeatureSpec(partial: Partial<Omit<SegmentFeatureSpec, "type" | "hashed">> & { hashed?: Partial<Omit<HashedNgramSpec, "type">> } = {}): SegmentFeatureSpec {
  return {
    type: "segment-features",
    hashed: hashedSpec({ bits: 16, ngrams: [1, 2], lengthFeatures: false, promptFeatures: true, ...partial.hashed }),
    level: partial.level ?? "sentence",
    minWords: partial.minWords ?? 5,
  };
}

/** One output to featurize: the prompt it answers, the output, and the passages it should be grounded in. */
export interface SegmentInput {
  prompt: Prompt;
  response: string;
  passages?: readonly Passage[];
}

/** How many segments before and after a segment its repetition features look at. */
export const REPEAT_WINDOW = 100;

const BINNED = ["support_precision", "passage_words", "repeat_before", "question_share"] as const;
const BIN_EDGES = [0.2, 0.4, 0.6, 0.8];

/** Names of the dense features, in index order after the hash buckets. */
export const SEGMENT_FEATURES = [
  "bias",
  "log_words",
  "position",
  "first",
  "last",
  "log_segments",
  "ends_sentence",
  "question_share",
  "question_cover",
  "has_passages",
  "support_precision",
  "support_f",
  "passage_words",
  "passage_bigrams",
  "has_numbers",
  "passage_numbers",
  "has_names",
  "passage_names",
  "support_on_question",
  "title_on_question",
  "support_bigrams",
  "support_top2_precision",
  "number_conflict",
  "log_unsupported_words",
  "log_unsupported_names",
  "answer_support",
  "first_overlap",
  "repeat_before",
  "repeat_bigrams_before",
  "repeat_after",
  "answer_log_words",
  ...BINNED.flatMap((f) => [0, 1, 2, 3, 4].map((b) => `${f}#${b}`)),
] as const;

const FEATURE_AT = new Map<string, number>(SEGMENT_FEATURES.map((f, i) => [f, i]));

const lastUserTurn = (p: Prompt): string => {
  if (typeof p === "string") return p;
  for (let i = p.length - 1; i >= 0; i--) if (p[i]!.role === "user") return p[i]!.content;
  return p[p.length - 1]?.content ?? "";
};

const bin = (x: number) => BIN_EDGES.filter((e) => x >= e).length;

/** The featurizer of a spec: segments an output and gives one sparse vector per segment. */
export class SegmentFeaturizer {
  readonly spec: SegmentFeatureSpec;
  readonly #hashed: ReturnType<typeof hashedNgramFeaturizer>;
  readonly #offset: number;
  readonly #index = new WeakMap<readonly Passage[], PassageIndex>();

  constructor(spec: SegmentFeatureSpec) {
    this.spec = spec;
    const { type: _t, ...rest } = spec.hashed;
    this.#hashed = hashedNgramFeaturizer(rest);
    this.#offset = this.#hashed.dim;
  }

  /** Feature indices are in [0, dim). */
  get dim(): number {
    return this.#offset + SEGMENT_FEATURES.length;
  }

  describe(index: number): string {
    return index >= this.#offset ? (SEGMENT_FEATURES[index - this.#offset] ?? `dense:${index - this.#offset}`) : `bucket:${index}`;
  }

  segments(response: string): TextSegment[] {
    return segmentText(response, this.spec.level, { minWords: this.spec.minWords });
  }

  #passageIndex(passages: readonly Passage[]): PassageIndex {
    let ix = this.#index.get(passages);
    if (!ix) {
      ix = indexPassages(passages);
      this.#index.set(passages, ix);
    }
    return ix;
  }

  /** Segments of the output and a feature vector per segment (given segments are used as they are). */
  featurize(input: SegmentInput, given?: readonly TextSegment[]): { segments: TextSegment[]; vectors: SparseVector[] } {
    const segments = given ? [...given] : this.segments(input.response);
    const n = segments.length;
    const question = tokenView(lastUserTurn(input.prompt));
    const index = input.passages && input.passages.length ? this.#passageIndex(input.passages) : undefined;
    const views: TokenView[] = segments.map((s) => tokenView(s.text));
    const answerWords = views.reduce((s, v) => s + v.count, 0);
    const supports = index ? views.map((v) => bestSupport(v, index)) : [];
    const answerSupport = supports.length ? supports.reduce((s, b, i) => s + b.precision * views[i]!.words.size, 0) / Math.max(1, views.reduce((s, v) => s + v.words.size, 0)) : 0;
    const vectors = segments.map((seg, i) => {
      const v = views[i]!;
      const dense: number[] = new Array(SEGMENT_FEATURES.length).fill(0);
      const set = (name: (typeof SEGMENT_FEATURES)[number], x: number) => {
        dense[FEATURE_AT.get(name)!] = x;
      };
      set("bias", 1);
      set("log_words", Math.log1p(v.count) / 4);
      set("position", n > 1 ? i / (n - 1) : 0);
      set("first", i === 0 ? 1 : 0);
      set("last", i === n - 1 ? 1 : 0);
      set("log_segments", Math.log1p(n) / 3);
      set("ends_sentence", /[.!?…]["'”’)\]]*$/.test(seg.text) ? 1 : 0);
      const qShare = containment(v.words, question.words);
      set("question_share", v.words.size ? qShare : 0);
      set("question_cover", question.words.size ? containment(question.words, v.words) : 0);
      if (index) {
        set("has_passages", 1);
        const best = supports[i]!;
        set("support_precision", best.precision);
        set("support_f", best.f);
        set("passage_words", v.words.size ? containment(v.words, index.all.words) : 0);
        set("passage_bigrams", v.bigrams.size ? containment(v.bigrams, index.all.bigrams) : 0);
        set("has_numbers", v.numbers.size ? 1 : 0);
        set("passage_numbers", v.numbers.size ? containment(v.numbers, index.all.numbers) : 0);
        set("has_names", v.names.size ? 1 : 0);
        set("passage_names", v.names.size ? containment(v.names, index.all.names) : 0);
        if (best.at >= 0) {
          const s = index.sentences[best.at]!;
          set("support_on_question", overlapF(s.view.words, question.words));
          set("title_on_question", question.words.size ? containment(index.titles[s.passage]!.words, question.words) : 0);
          set("support_bigrams", v.bigrams.size ? containment(v.bigrams, s.view.bigrams) : 0);
          // Numbers the best-supporting sentence states differently: the mark of a wrongly grounded fact.
          if (v.numbers.size && s.view.numbers.size) set("number_conflict", 1 - containment(v.numbers, s.view.numbers));
          const second = secondSupport(v, index, best.at);
          set("support_top2_precision", second);
        }
        let unsupported = 0;
        for (const w of v.words) if (!index.all.words.has(w)) unsupported++;
        set("log_unsupported_words", Math.log1p(unsupported) / 3);
        let missingNames = 0;
        for (const w of v.names) if (!index.all.names.has(w) && !index.all.words.has(w)) missingNames++;
        set("log_unsupported_names", Math.log1p(missingNames) / 2);
        set("answer_support", answerSupport);
      }
      let before = 0;
      let beforeBigrams = 0;
      let after = 0;
      // Repetition is looked for within REPEAT_WINDOW segments on each side, so that a very long output costs linear time.
      for (let j = Math.max(0, i - REPEAT_WINDOW); j < Math.min(n, i + REPEAT_WINDOW + 1); j++) {
        if (j === i || v.words.size === 0) continue;
        const c = containment(v.words, views[j]!.words);
        if (j < i) {
          before = Math.max(before, c);
          if (v.bigrams.size) beforeBigrams = Math.max(beforeBigrams, containment(v.bigrams, views[j]!.bigrams));
        } else after = Math.max(after, c);
      }
      set("repeat_before", before);
      set("repeat_bigrams_before", beforeBigrams);
      set("repeat_after", after);
      set("answer_log_words", Math.log1p(answerWords) / 6);
      if (i > 0 && v.words.size) set("first_overlap", containment(v.words, views[0]!.words));
      const raw: Record<string, number> = {
        support_precision: dense[FEATURE_AT.get("support_precision")!]!,
        passage_words: dense[FEATURE_AT.get("passage_words")!]!,
        repeat_before: before,
        question_share: v.words.size ? qShare : 0,
      };
      for (const f of BINNED) {
        if (f.startsWith("support") || f.startsWith("passage")) if (!index) continue;
        dense[FEATURE_AT.get(`${f}#${bin(raw[f]!)}`)!] = 1;
      }
      const h = this.#hashed.featurizeOne({ prompt: input.prompt, response: seg.text });
      const idx: number[] = Array.from(h.index);
      const val: number[] = Array.from(h.value);
      dense.forEach((x, k) => {
        if (x !== 0) {
          idx.push(this.#offset + k);
          val.push(x);
        }
      });
      return sparseFrom(idx, val);
    });
    return { segments, vectors };
  }
}
