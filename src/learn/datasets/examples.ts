/**
 * Training examples drawn from stored feedback of any kind, through the foundation's conversions:
 *
 * - **preference pairs** (chosen ≻ rejected, with a soft label and a margin) from pairwise judgements, rankings
 *   (`rankingToPairwise`), ratings of one item (`ratingsToPairwise`), rubrics (`rubricToRating`), corrections
 *   (`correctionToPairwise`: the edit is preferred), critiques with their refinements (a generation whose
 *   `metadata.refinedFrom` names a criticised generation is preferred to it, as ILF does), and binary labels,
 *   verifier results and critique verdicts (every passing output of an item is preferred to every failing one);
 * - **labelled outputs** (one output, good or bad, with the feedback as text when there is some) from binary
 *   feedback, verifier results, critiques, ratings and rubrics;
 * - **step examples** (an output cut into steps with a label per step) from span feedback.
 */
import { RlxfError } from "../../errors.js";
import {
  type ChatMessage,
  type Feedback,
  type FeedbackOf,
  type Generation,
  type Item,
  type Prompt,
  type ResolvedFeedback,
  correctionToPairwise,
  critiqueToBinary,
  mergeOrderVerdicts,
  orderVerdictKey,
  pSecondOf,
  rankingToPairwise,
  ratingsToPairwise,
  rubricToRating,
  rubricToScalar,
  verificationToScalar,
} from "../../feedback/index.js";

/** One output as a training example sees it. */
export interface Completion {
  /** The stored generation, when the output is one (a correction's edit is not stored). */
  generationId?: string;
  policy?: string;
  text: string;
  /** Completion messages kept on import (e.g. tool calls), when there are any. */
  messages?: ChatMessage[];
}

export const PAIR_DERIVATIONS = [
  "pairwise",
  "ranking",
  "rating",
  "rubric",
  "correction",
  "refinement",
  "binary",
  "verification",
  "critique",
  /** C3PO: a response revised to follow verbal feedback over the original (see `buildC3po`). */
  "c3po",
] as const;
export type PairDerivation = (typeof PAIR_DERIVATIONS)[number];

/** A preference between two outputs for one prompt. */
export interface PreferencePair {
  /** Deterministic: built from the feedback it came from. */
  id: string;
  project: string;
  itemId: string;
  prompt: Prompt;
  /** The item's reference output, when it has one. */
  reference?: string;
  dataset?: string;
  chosen: Completion;
  rejected: Completion;
  /** Probability that `chosen` is the better one, in [0.5, 1]; 0.5 is a tie (then the order means nothing). */
  pChosen: number;
  /** A stated or derived margin in [0, 1] (ranking distance, rating difference, judge strength). */
  strength?: number;
  derivation: PairDerivation;
  /** Who gave the feedback, as "type:id". */
  sources: string[];
  feedbackIds: string[];
  /** Number of judgements merged into this pair (see `aggregateVotes`). */
  votes?: number;
  /** Share of the merged judgements that agree with the majority (see `aggregateVotes`). */
  agreement?: number;
  /** The critique of the rejected output (refinement pairs), as text. */
  feedbackText?: string;
}

export const LABEL_DERIVATIONS = ["binary", "verification", "critique", "rating", "rubric"] as const;
export type LabelDerivation = (typeof LABEL_DERIVATIONS)[number];

/** One output judged good or bad. */
export interface LabelledOutput {
  id: string;
  project: string;
  itemId: string;
  prompt: Prompt;
  reference?: string;
  dataset?: string;
  completion: Completion;
  label: boolean;
  /** A score in [0, 1] when the feedback gives one. */
  score?: number;
  derivation: LabelDerivation;
  /** The feedback as text (a critique, a verifier's error, a comment), when there is some. */
  feedbackText?: string;
  source: string;
  feedbackId: string;
}

/** One output cut into steps, each labelled correct or not (process supervision). */
export interface StepExample {
  id: string;
  project: string;
  itemId: string;
  prompt: Prompt;
  dataset?: string;
  steps: string[];
  labels: boolean[];
  /** Who gave the feedback, as "type:id". */
  source?: string;
  feedbackId: string;
}

/** What the examples are drawn from: feedback with its item and targets, and (for refinements) all generations. */
export interface ExampleSource {
  resolvedFeedback(): AsyncIterable<ResolvedFeedback>;
  generations?(): AsyncIterable<Generation>;
}

export interface ExampleOptions {
  /** Derivations of pairs to make (default all). */
  pairsFrom?: readonly PairDerivation[];
  /** Keep ties (pChosen 0.5) (default false: most trainers cannot use them). */
  includeTies?: boolean;
  /** Ratings of one item by different sources are compared too (default false). */
  ratingsAcrossSources?: boolean;
  /** Rating/rubric scores at or above this share of the scale count as good labels (default 0.5; below is bad). */
  goodScore?: number;
  /** Only feedback from these source types (default all). */
  sourceTypes?: readonly string[];
  /** Called for each record that yields nothing, with the reason. */
  onSkip?: (reason: string, feedback: Feedback) => void;
  /** Called once per feedback record read (progress). */
  onRecord?: () => void;
}

export interface Examples {
  pairs: PreferencePair[];
  labelled: LabelledOutput[];
  steps: StepExample[];
  /** Every item seen. */
  items: Map<string, Item>;
  /** Records that yielded no example, by reason. */
  skipped: Array<{ reason: string; count: number }>;
}

const sourceOf = (f: Feedback) => `${f.source.type}:${f.source.id}`;

function completionOf(g: Generation): Completion {
  const c: Completion = { generationId: g.id, policy: g.policy, text: g.output };
  const kept = g.metadata?.messages;
  if (Array.isArray(kept) && kept.length > 0 && kept.every((m) => m && typeof m === "object" && typeof (m as ChatMessage).content === "string")) {
    c.messages = kept as ChatMessage[];
  }
  return c;
}

/** Text of a critique: its text, then strengths, weaknesses and suggestions as lists. */
export function critiqueText(v: FeedbackOf<"critique">["value"]): string {
  const parts = [v.text.trim()];
  const list = (title: string, xs?: string[]) => {
    if (xs && xs.length) parts.push(`${title}:\n${xs.map((x) => `- ${x}`).join("\n")}`);
  };
  list("Strengths", v.strengths);
  list("Weaknesses", v.weaknesses);
  list("Suggestions", v.suggestions);
  return parts.filter((p) => p !== "").join("\n\n");
}

/**
 * Split an output into steps: `metadata.steps` (an array of strings) when the generation has it, else
 * paragraphs (blank-line separated), else lines. Returns the steps with their [start, end) offsets.
 */
export function splitSteps(g: Generation): Array<{ text: string; start: number; end: number }> {
  const kept = g.metadata?.steps;
  if (Array.isArray(kept) && kept.length > 0 && kept.every((s) => typeof s === "string")) {
    const out: Array<{ text: string; start: number; end: number }> = [];
    let from = 0;
    for (const s of kept as string[]) {
      const at = g.output.indexOf(s, from);
      const start = at >= 0 ? at : from;
      out.push({ text: s, start, end: start + s.length });
      from = start + s.length;
    }
    return out;
  }
  const sep = /\n\s*\n/.test(g.output) ? /\n\s*\n/g : /\n/g;
  const out: Array<{ text: string; start: number; end: number }> = [];
  let last = 0;
  const push = (start: number, end: number) => {
    const raw = g.output.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text !== "") out.push({ text, start: start + lead, end: start + lead + text.length });
  };
  for (const m of g.output.matchAll(sep)) {
    push(last, m.index!);
    last = m.index! + m[0].length;
  }
  push(last, g.output.length);
  return out;
}

const ERROR_LABELS = /^(error|incorrect|wrong|bad|mistake|false|hallucination|unsupported|fail(ed|ure)?)$/i;

/** A span marks an error when its score is negative or its label names one (error, incorrect, wrong, ...). */
export function isErrorSpan(s: { label: string; score?: number }): boolean {
  if (s.score !== undefined) return s.score < 0;
  return ERROR_LABELS.test(s.label.trim());
}

type ExampleBase = { prompt: Prompt; reference?: string; dataset?: string };

const baseOf = (item: Item): ExampleBase => {
  const b: ExampleBase = { prompt: item.prompt };
  if (item.reference !== undefined) b.reference = item.reference;
  if (item.dataset !== undefined) b.dataset = item.dataset;
  return b;
};

/**
 * What `collectExamples` gathers: each feedback record read in turn gives pairs, labels or step examples at
 * once; ratings, pass/fail labels and critiques then give the pairs that need several records of one item.
 */
class ExampleCollector {
  readonly #want: Set<PairDerivation>;
  readonly #includeTies: boolean;
  readonly #goodScore: number;
  readonly #opts: ExampleOptions;
  readonly items = new Map<string, Item>();
  readonly #gens = new Map<string, Generation>();
  readonly pairs: PreferencePair[] = [];
  readonly labelled: LabelledOutput[] = [];
  readonly steps: StepExample[] = [];
  readonly #ratings: Array<{ f: FeedbackOf<"rating">; derivation: "rating" | "rubric" }> = [];
  /** Critiques by the generation they criticise (their refinements are paired later). */
  readonly #critiqued = new Map<string, { text: string; feedback: Feedback }[]>();
  readonly #skips = new Map<string, number>();
  /** A judge's single-order verdicts, merged into one judgement per pair once all are read. */
  readonly #perOrder: ResolvedFeedback[] = [];

  constructor(opts: ExampleOptions) {
    this.#opts = opts;
    this.#want = new Set<PairDerivation>(opts.pairsFrom ?? PAIR_DERIVATIONS);
    this.#includeTies = opts.includeTies ?? false;
    this.#goodScore = opts.goodScore ?? 0.5;
  }

  #skip(reason: string, f: Feedback): void {
    this.#skips.set(reason, (this.#skips.get(reason) ?? 0) + 1);
    this.#opts.onSkip?.(reason, f);
  }

  #addPair(
    item: Item,
    id: string,
    first: Completion,
    second: Completion,
    pSecond: number,
    derivation: PairDerivation,
    f: Feedback | Feedback[],
    extra: { strength?: number; feedbackText?: string } = {},
  ): void {
    const fs = Array.isArray(f) ? f : [f];
    if (!this.#want.has(derivation)) return;
    if (pSecond === 0.5 && !this.#includeTies) {
      this.#skip("tie", fs[0]!);
      return;
    }
    const secondWins = pSecond > 0.5;
    const p: PreferencePair = {
      id,
      project: item.project,
      itemId: item.id,
      ...baseOf(item),
      chosen: secondWins ? second : first,
      rejected: secondWins ? first : second,
      pChosen: secondWins ? pSecond : 1 - pSecond,
      derivation,
      sources: [...new Set(fs.map(sourceOf))],
      feedbackIds: fs.map((x) => x.id),
    };
    if (extra.strength !== undefined) p.strength = extra.strength;
    if (extra.feedbackText !== undefined) p.feedbackText = extra.feedbackText;
    this.pairs.push(p);
  }

  #addLabel(item: Item, g: Generation, f: Feedback, label: boolean, derivation: LabelDerivation, extra: { score?: number; feedbackText?: string } = {}): void {
    const l: LabelledOutput = {
      id: `${f.id}:label`,
      project: item.project,
      itemId: item.id,
      ...baseOf(item),
      completion: completionOf(g),
      label,
      derivation,
      source: sourceOf(f),
      feedbackId: f.id,
    };
    if (extra.score !== undefined) l.score = extra.score;
    if (extra.feedbackText !== undefined && extra.feedbackText !== "") l.feedbackText = extra.feedbackText;
    this.labelled.push(l);
  }

  /** One feedback record: the examples it gives by itself, and what it leaves for the later passes. */
  read(rf: ResolvedFeedback): void {
    this.#opts.onRecord?.();
    const { feedback: f, item, targets } = rf;
    if (this.#opts.sourceTypes && !this.#opts.sourceTypes.includes(f.source.type)) return;
    this.items.set(item.id, item);
    for (const g of targets) this.#gens.set(g.id, g);
    const g = targets[0]!;
    switch (f.kind) {
      case "pairwise": {
        if (orderVerdictKey(f) !== undefined) {
          this.#perOrder.push(rf);
          return;
        }
        const p: { strength?: number } = {};
        if (f.value.strength !== undefined) p.strength = f.value.strength;
        this.#addPair(item, f.id, completionOf(targets[0]!), completionOf(targets[1]!), pSecondOf(f.value), "pairwise", f, p);
        return;
      }
      case "ranking":
        return this.#ranking(item, f, targets);
      case "rating": {
        this.#ratings.push({ f, derivation: "rating" });
        const share = (f.value.score - f.value.scale.min) / (f.value.scale.max - f.value.scale.min);
        const text = f.value.comment;
        this.#addLabel(item, g, f, share >= this.#goodScore, "rating", text !== undefined ? { score: share, feedbackText: text } : { score: share });
        return;
      }
      case "rubric":
        return this.#rubric(item, f, g);
      case "correction":
        return this.#correction(item, f, g);
      case "binary":
        this.#addLabel(item, g, f, f.value.ok, "binary", f.value.comment ? { feedbackText: f.value.comment } : {});
        return;
      case "verification":
        return this.#verification(item, f, g);
      case "critique":
        return this.#critique(item, f, g);
      case "spans":
        return this.#spans(item, f, g);
      case "signal":
        this.#skip("signal feedback has no conversion to a preference or label", f);
        return;
    }
  }

  #ranking(item: Item, f: FeedbackOf<"ranking">, targets: Generation[]): void {
    const byId = new Map(targets.map((t) => [t.id, t]));
    for (const pw of rankingToPairwise(f, { includeTies: this.#includeTies })) {
      const a = byId.get(pw.targets[0]!)!;
      const b = byId.get(pw.targets[1]!)!;
      const extra: { strength?: number } = {};
      if (pw.value.strength !== undefined) extra.strength = pw.value.strength;
      this.#addPair(item, pw.id, completionOf(a), completionOf(b), pSecondOf(pw.value), "ranking", f, extra);
    }
  }

  #rubric(item: Item, f: FeedbackOf<"rubric">, g: Generation): void {
    const r = rubricToRating(f);
    r.value = { ...r.value, dimension: "rubric" };
    this.#ratings.push({ f: r, derivation: "rubric" });
    const score = rubricToScalar(f);
    const notes = f.value.criteria
      .filter((c) => c.rationale)
      .map((c) => `${c.name}: ${c.rationale}`)
      .join("\n");
    this.#addLabel(item, g, f, score >= this.#goodScore, "rubric", notes ? { score, feedbackText: notes } : { score });
  }

  #correction(item: Item, f: FeedbackOf<"correction">, g: Generation): void {
    const { generation, feedback } = correctionToPairwise(f, g);
    if (generation.output === g.output) {
      this.#skip("correction identical to the original", f);
      return;
    }
    const extra: { feedbackText?: string } = {};
    if (f.value.comment) extra.feedbackText = f.value.comment;
    this.#addPair(item, feedback.id, completionOf(g), { text: generation.output, policy: generation.policy }, 1, "correction", f, extra);
  }

  #verification(item: Item, f: FeedbackOf<"verification">, g: Generation): void {
    const score = verificationToScalar(f);
    const text = f.value.details?.error;
    const extra: { score?: number; feedbackText?: string } = {};
    if (score >= 0 && score <= 1) extra.score = score;
    if (typeof text === "string") extra.feedbackText = text;
    this.#addLabel(item, g, f, f.value.passed, "verification", extra);
  }

  #critique(item: Item, f: FeedbackOf<"critique">, g: Generation): void {
    const text = critiqueText(f.value);
    const list = this.#critiqued.get(g.id) ?? [];
    list.push({ text, feedback: f });
    this.#critiqued.set(g.id, list);
    const b = critiqueToBinary(f);
    if (b) this.#addLabel(item, g, f, b.value.ok, "critique", { feedbackText: text });
    else if (!this.#want.has("refinement")) this.#skip("critique without verdict", f);
  }

  #spans(item: Item, f: FeedbackOf<"spans">, g: Generation): void {
    const parts = splitSteps(g);
    if (parts.length === 0) {
      this.#skip("spans on an empty output", f);
      return;
    }
    const errors = f.value.spans.filter(isErrorSpan);
    const labels = parts.map((p) => !errors.some((s) => s.start < p.end && s.end > p.start));
    this.steps.push({
      id: `${f.id}:steps`,
      project: item.project,
      itemId: item.id,
      prompt: item.prompt,
      ...(item.dataset !== undefined ? { dataset: item.dataset } : {}),
      steps: parts.map((p) => p.text),
      labels,
      source: sourceOf(f),
      feedbackId: f.id,
    });
  }

  /** A judge's verdicts on both orders of a pair: one pair, of their mean preference, from all of them. */
  pairOrders(): void {
    const groups = new Map<string, ResolvedFeedback[]>();
    for (const rf of this.#perOrder) {
      const k = orderVerdictKey(rf.feedback)!;
      const g = groups.get(k);
      if (g) g.push(rf);
      else groups.set(k, [rf]);
    }
    for (const g of groups.values()) {
      const merged = mergeOrderVerdicts(g.map((rf) => rf.feedback as FeedbackOf<"pairwise">));
      const { item, targets } = g[0]!;
      const fs = g.map((rf) => rf.feedback);
      this.#addPair(item, merged.id, completionOf(targets[0]!), completionOf(targets[1]!), pSecondOf(merged.value), "pairwise", fs);
    }
  }

  /** Ratings (and rubric scores) of one item become pairs. */
  pairRatings(): void {
    for (const derivation of ["rating", "rubric"] as const) {
      if (!this.#want.has(derivation)) continue;
      const rs = this.#ratings.filter((r) => r.derivation === derivation).map((r) => r.f);
      if (rs.length < 2) continue;
      const byId = new Map(rs.map((r) => [r.id, r]));
      const pw = ratingsToPairwise(rs, {
        itemOf: (gid) => this.#gens.get(gid)?.itemId,
        acrossSources: this.#opts.ratingsAcrossSources ?? false,
        includeTies: this.#includeTies,
      });
      for (const p of pw) {
        const a = this.#gens.get(p.targets[0]!)!;
        const b = this.#gens.get(p.targets[1]!)!;
        const item = this.items.get(a.itemId)!;
        const from = (p.metadata?.derivedFrom as string[]).map((id) => byId.get(id)!);
        const extra: { strength?: number } = {};
        if (p.value.strength !== undefined) extra.strength = p.value.strength;
        this.#addPair(item, p.id, completionOf(a), completionOf(b), pSecondOf(p.value), derivation, from, extra);
      }
    }
  }

  /** Pass/fail labels of one item (per derivation and source) become pairs: every pass over every fail. */
  pairLabels(): void {
    for (const derivation of ["binary", "verification", "critique"] as const) {
      if (!this.#want.has(derivation)) continue;
      const groups = new Map<string, LabelledOutput[]>();
      for (const l of this.labelled) {
        if (l.derivation !== derivation) continue;
        const key = JSON.stringify([l.project, l.itemId, l.source]);
        const list = groups.get(key) ?? [];
        list.push(l);
        groups.set(key, list);
      }
      for (const group of groups.values()) {
        const good = group.filter((l) => l.label);
        const bad = group.filter((l) => !l.label);
        for (const a of good) for (const b of bad) this.#passOverFail(derivation, a, b);
      }
    }
  }

  #passOverFail(derivation: "binary" | "verification" | "critique", a: LabelledOutput, b: LabelledOutput): void {
    if (a.completion.generationId === b.completion.generationId) return;
    const item = this.items.get(a.itemId)!;
    const fa = { id: a.feedbackId, source: a.source };
    const fb = { id: b.feedbackId, source: b.source };
    const strength = a.score !== undefined && b.score !== undefined ? Math.min(1, Math.max(0, a.score - b.score)) : 1;
    const p: PreferencePair = {
      id: `${a.feedbackId}~${b.feedbackId}:pair`,
      project: item.project,
      itemId: item.id,
      ...baseOf(item),
      chosen: a.completion,
      rejected: b.completion,
      pChosen: 1,
      strength,
      derivation,
      sources: [...new Set([fa.source, fb.source])],
      feedbackIds: [fa.id, fb.id],
    };
    if (b.feedbackText !== undefined) p.feedbackText = b.feedbackText;
    this.pairs.push(p);
  }

  /** Critiques with their refinements: the refinement is preferred to the criticised output (ILF). */
  async pairRefinements(source: ExampleSource): Promise<void> {
    if (!this.#want.has("refinement") || this.#critiqued.size === 0) return;
    if (!source.generations) {
      throw new RlxfError("no_data", "refinement pairs need the source's generations (pass an ExampleSource with generations())");
    }
    for await (const r of source.generations()) {
      const from = r.metadata?.refinedFrom;
      if (typeof from !== "string") continue;
      const crits = this.#critiqued.get(from);
      const original = this.#gens.get(from);
      if (!crits || !original || r.output === original.output) continue;
      const item = this.items.get(original.itemId);
      if (!item) continue;
      this.#addPair(
        item,
        `${r.id}:refines:${from}`,
        completionOf(original),
        completionOf(r),
        1,
        "refinement",
        crits.map((c) => c.feedback),
        { feedbackText: crits.map((c) => c.text).join("\n\n") },
      );
    }
  }

  result(): Examples {
    return {
      pairs: this.pairs,
      labelled: this.labelled,
      steps: this.steps,
      items: this.items,
      skipped: [...this.#skips].map(([reason, count]) => ({ reason, count })),
    };
  }
}

/**
 * Draw preference pairs, labelled outputs and step examples from `source`. Deterministic for a given
 * order of records.
 */
export async function collectExamples(source: ExampleSource, opts: ExampleOptions = {}): Promise<Examples> {
  const c = new ExampleCollector(opts);
  for await (const rf of source.resolvedFeedback()) c.read(rf);
  c.pairOrders();
  c.pairRatings();
  c.pairLabels();
  await c.pairRefinements(source);
  return c.result();
}

/**
 * How many examples came from each type of source (`human`, `judge`, `simulated`...), so that a summary can say
 * what a model or dataset learned from. An example merged from several types counts once, under their names
 * joined by "+" (`human+judge`).
 */
export function countSourceTypes(examples: Iterable<{ sources?: readonly string[]; source?: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const x of examples) {
    const all = x.sources ?? (x.source !== undefined ? [x.source] : []);
    const key = [...new Set(all.map((s) => s.slice(0, s.indexOf(":") < 0 ? s.length : s.indexOf(":"))))].sort().join("+") || "unknown";
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Only the preference pairs of {@link collectExamples} (`memorySource` from rlxf/io serves records held in memory). */
export async function collectPairs(source: ExampleSource, opts: ExampleOptions = {}): Promise<PreferencePair[]> {
  return (await collectExamples(source, opts)).pairs;
}
