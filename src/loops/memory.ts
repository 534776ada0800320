/**
 * Memory of feedback:
 *
 * - `distillMemory` (ConstitutionMaker): every stored critique and correction becomes a principle (a correction also
 *   stays as a past correction), each with a scope saying when it applies and when not (C3PO) and provenance to the
 *   feedback, generation and item it came from. With a model, the model writes the principle and its scope; without
 *   one, the critique's suggestions (or weaknesses) are the principle and the prompt it was about is its scope;
 * - `MemoryRetriever` (DROC): the active principles and corrections whose scope is similar to a new input (hashed
 *   n-grams by default, embeddings when given), never those whose counter-scope is closer. Together with distilling,
 *   this is an experience pool of lessons across tasks (LANPO's "relevant abstraction"), where Reflexion's memory
 *   stays within one task;
 * - `measureOvergeneralization` (C3PO): how often a principle changes the policy's outputs on inputs outside its
 *   scope, forced into every prompt and as retrieved.
 */
import { RlxfError } from "../errors.js";
import type { Prompt, ResolvedFeedback } from "../feedback/schema.js";
import type { ChatMessage, ChatModel } from "../providers/index.js";
import { extractJson } from "../sources/index.js";
import type { Embedder } from "../learn/index.js";
import { hashedNgramFeaturizer } from "../learn/index.js";
import type { MemoryEntry, MemoryEntryInput, MemoryKind } from "../store/index.js";
import type { Store } from "../store/index.js";
import { memoryPrompt } from "./run.js";
import type { MemorySource, Policy } from "./types.js";

function promptText(p: Prompt): string {
  if (typeof p === "string") return p;
  for (let i = p.length - 1; i >= 0; i--) if (p[i]!.role === "user") return p[i]!.content;
  return p[p.length - 1]!.content;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// --------------------------------------------------------------- distill ---

export interface DistillOptions {
  project?: string;
  /** Writes each principle and its scope; without it the feedback's own words are used. */
  model?: ChatModel;
  /** Only feedback from these source types (default: every type). */
  sourceTypes?: string[];
  /** Only feedback created at or after this time. */
  since?: string;
  /** Distil at most this many feedback records. */
  limit?: number;
  /** Called after each feedback record looked at, with how many so far. */
  onProgress?: (seen: number) => void;
}

export interface DistillReport {
  /** Feedback records looked at. */
  seen: number;
  /** Records skipped: already distilled, or nothing to learn (a passing critique without weaknesses, a correction that changes nothing). */
  skipped: number;
  /** The skipped records by reason. */
  skippedBy: Record<string, number>;
  inserted: number;
  entries: MemoryEntryInput[];
}

interface Drafted {
  principle: string;
  when: string;
  whenNot?: string;
}

export const DISTILL_PROMPT =
  "Turn one piece of feedback on an AI assistant's answer into a principle for future answers (as ConstitutionMaker does), " +
  "scoped so that it is applied only where it belongs and not over-generalised.\n\n" +
  "## Request\n\n{{prompt}}\n\n## Answer\n\n{{output}}\n\n## Feedback\n\n{{feedback}}\n\n" +
  'Answer only with JSON: {"principle": "one imperative sentence", "applies_when": "the kind of request it applies to", "does_not_apply_when": "related requests it must not be applied to"}';

async function draft(model: ChatModel, prompt: string, output: string, feedback: string): Promise<Drafted | undefined> {
  const content = DISTILL_PROMPT.replace("{{prompt}}", prompt).replace("{{output}}", output).replace("{{feedback}}", feedback);
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = await model.chat({ messages: [{ role: "user", content }], temperature: 0, sample: attempt });
    const v = extractJson(r.text) as Record<string, unknown> | undefined;
    if (v && typeof v === "object" && typeof v.principle === "string" && v.principle.trim() && typeof v.applies_when === "string") {
      return {
        principle: v.principle.trim(),
        when: v.applies_when.trim(),
        ...(typeof v.does_not_apply_when === "string" && v.does_not_apply_when.trim() ? { whenNot: v.does_not_apply_when.trim() } : {}),
      };
    }
  }
  return undefined;
}

const squash = (s: string) => s.replace(/\s+/g, " ").trim();
/** A comment that says the output needed no edit ("no change needed", "nothing to fix", "LGTM"...). */
const NO_CHANGE = /^\W*(no\s+(changes?|edits?|corrections?|fix(es)?)(\s+(is\s+|are\s+)?(needed|required|necessary|made))?|nothing\s+to\s+(change|correct|fix|edit)|(it\s+is\s+|already\s+)?(fine|correct|good)(\s+as\s+(it\s+)?is)?|unchanged|looks\s+good(\s+to\s+me)?|lgtm)\W*$/i;

/**
 * A correction that changes nothing: its output equals the corrected one after whitespace is normalised, or its
 * comment says no change was needed. Such a correction teaches nothing and must not become a memory entry.
 */
export function isNoChangeCorrection(value: { output: string; comment?: string }, original: string | undefined): boolean {
  if (value.comment !== undefined && NO_CHANGE.test(value.comment.trim())) return true;
  return original !== undefined && squash(value.output) === squash(original);
}

function feedbackWords(r: ResolvedFeedback): { text: string; fallback?: string } | undefined {
  const f = r.feedback;
  if (f.kind === "critique") {
    const v = f.value;
    const weak = v.weaknesses ?? [];
    if (v.verdict === "pass" && weak.length === 0) return undefined;
    const sug = v.suggestions ?? [];
    const text = [v.text, ...weak.map((w) => `Weakness: ${w}`), ...sug.map((s) => `Suggestion: ${s}`)].join("\n");
    const fallback = sug.length ? sug.join(" ") : weak.length ? weak.map((w) => `Avoid this: ${w}`).join(" ") : v.text.trim() || undefined;
    return { text, ...(fallback ? { fallback } : {}) };
  }
  if (f.kind === "correction") {
    const text = `The answer was corrected to:\n${f.value.output}${f.value.comment ? `\nComment: ${f.value.comment}` : ""}`;
    return { text, ...(f.value.comment ? { fallback: f.value.comment } : {}) };
  }
  return undefined;
}

/** Distil stored critiques and corrections into memory entries (idempotent: feedback already distilled is skipped). */
export async function distillMemory(store: Store, opts: DistillOptions = {}): Promise<DistillReport> {
  const project = opts.project ?? "default";
  const have = new Set((await store.memory.list({ project })).map((e) => e.id));
  const entries: MemoryEntryInput[] = [];
  let seen = 0;
  let skipped = 0;
  const skippedBy: Record<string, number> = {};
  const skip = (reason: string) => {
    skipped++;
    skippedBy[reason] = (skippedBy[reason] ?? 0) + 1;
  };
  const types = opts.sourceTypes ? new Set(opts.sourceTypes) : undefined;
  for await (const r of store.iterateResolvedFeedback({ project, kind: ["critique", "correction"], latest: true, ...(opts.since ? { since: opts.since } : {}) })) {
    const f = r.feedback;
    if (types && !types.has(f.source.type)) continue;
    if (opts.limit !== undefined && seen >= opts.limit) break;
    seen++;
    opts.onProgress?.(seen);
    if (f.kind === "correction" && (f.metadata?.noChange === true || isNoChangeCorrection(f.value, r.targets[0]?.output))) {
      skip("correction that changes nothing");
      continue;
    }
    const words = feedbackWords(r);
    const principleId = `principle:${f.id}`;
    const correctionId = `correction:${f.id}`;
    const gen = r.targets[0];
    const prompt = promptText(r.item.prompt);
    const provenance = { feedbackIds: [f.id], generationIds: gen ? [gen.id] : [], itemIds: [r.item.id] };
    let added = false;
    if (f.kind === "correction" && !have.has(correctionId)) {
      entries.push({
        project,
        id: correctionId,
        kind: "correction",
        text: f.value.output,
        scope: { when: `requests like: ${clip(prompt, 300)}`, examples: [prompt] },
        provenance,
        metadata: { source: f.source, ...(gen ? { original: clip(gen.output, 2000) } : {}), ...(f.value.comment ? { comment: f.value.comment } : {}) },
      });
      added = true;
    }
    if (words && !have.has(principleId)) {
      const d = opts.model ? await draft(opts.model, prompt, gen?.output ?? "", words.text) : undefined;
      const text = d?.principle ?? words.fallback;
      if (text) {
        entries.push({
          project,
          id: principleId,
          kind: "principle",
          text,
          scope: {
            when: d?.when ?? `requests like: ${clip(prompt, 300)}`,
            ...(d?.whenNot ? { whenNot: d.whenNot } : {}),
            examples: [prompt],
          },
          provenance,
          metadata: { source: f.source, feedbackKind: f.kind, distilledBy: d ? (opts.model?.model ?? "model") : "feedback-text" },
        });
        added = true;
      }
    }
    if (!added) skip(words ? "already distilled" : "nothing to learn (a passing critique without weaknesses)");
  }
  const stored = entries.length ? await store.memory.put(entries) : { inserted: 0, existing: 0 };
  return { seen, skipped, skippedBy, inserted: stored.inserted, entries };
}

// -------------------------------------------------------------- retrieve ---

/** Cosine similarity of texts: hashed word n-grams (default) or embeddings. */
export interface Similarity {
  vectors(texts: string[]): Promise<Array<Map<number, number>>>;
}

export function hashedSimilarity(): Similarity {
  const f = hashedNgramFeaturizer({ ngrams: [1, 2], promptFeatures: false, lengthFeatures: false, bits: 18 });
  return {
    async vectors(texts) {
      return texts.map((t) => {
        const v = f.featurizeOne({ prompt: "", response: t });
        const m = new Map<number, number>();
        for (let i = 0; i < v.index.length; i++) m.set(v.index[i]!, v.value[i]!);
        return m;
      });
    },
  };
}

export function embeddingSimilarity(embedder: Embedder): Similarity {
  return {
    async vectors(texts) {
      const e = await embedder.embed(texts);
      return e.map((v) => {
        const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
        return new Map(v.map((x, i) => [i, x / norm] as [number, number]));
      });
    },
  };
}

export function cosine(a: Map<number, number>, b: Map<number, number>): number {
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [k, v] of small) {
    const w = big.get(k);
    if (w !== undefined) dot += v * w;
  }
  let na = 0;
  let nb = 0;
  for (const v of a.values()) na += v * v;
  for (const v of b.values()) nb += v * v;
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

export interface RetrieverOptions {
  project?: string;
  similarity?: Similarity;
  /** At most this many entries per input (default 3). */
  k?: number;
  /** Least similarity to the scope (default 0.3). */
  minSimilarity?: number;
  kinds?: MemoryKind[];
  /** Ignore scopes: retrieve by similarity to the entry's text alone (to measure what scoping prevents). */
  unscoped?: boolean;
}

export interface Retrieved {
  id: string;
  kind: MemoryKind;
  text: string;
  similarity: number;
  /** Corrections: the request that was corrected. */
  example?: string;
}

interface Indexed {
  entry: MemoryEntry;
  pos: Array<Map<number, number>>;
  neg: Array<Map<number, number>>;
}

/** Retrieves the active memory relevant to an input. Entries are loaded once (call `refresh` after changes). */
export class MemoryRetriever implements MemorySource {
  readonly #store: Store;
  readonly #opts: Required<Omit<RetrieverOptions, "kinds" | "unscoped">> & Pick<RetrieverOptions, "kinds" | "unscoped">;
  #index: Promise<Indexed[]> | undefined;

  constructor(store: Store, opts: RetrieverOptions = {}) {
    this.#store = store;
    this.#opts = { project: opts.project ?? "default", similarity: opts.similarity ?? hashedSimilarity(), k: opts.k ?? 3, minSimilarity: opts.minSimilarity ?? 0.3, ...(opts.kinds ? { kinds: opts.kinds } : {}), ...(opts.unscoped ? { unscoped: true } : {}) };
  }

  refresh(): void {
    this.#index = undefined;
  }

  async #load(): Promise<Indexed[]> {
    const entries = (await this.#store.memory.list({ project: this.#opts.project, status: "active" })).filter((e) => !this.#opts.kinds || this.#opts.kinds.includes(e.kind));
    const sim = this.#opts.similarity;
    return Promise.all(
      entries.map(async (entry) => {
        const posTexts = this.#opts.unscoped ? [entry.text] : [...entry.scope.examples, entry.scope.when].filter((s) => s.trim());
        const negTexts = this.#opts.unscoped ? [] : [...(entry.scope.counterExamples ?? []), ...(entry.scope.whenNot ? [entry.scope.whenNot] : [])].filter((s) => s.trim());
        const [pos, neg] = await Promise.all([sim.vectors(posTexts), negTexts.length ? sim.vectors(negTexts) : Promise.resolve([])]);
        return { entry, pos, neg };
      }),
    );
  }

  /** Entries whose scope is at least `minSimilarity` similar to the input and closer than their counter-scope, best first. */
  async retrieve(input: string): Promise<Retrieved[]> {
    this.#index ??= this.#load();
    const index = await this.#index;
    if (index.length === 0) return [];
    const [q] = await this.#opts.similarity.vectors([input]);
    const hits: Retrieved[] = [];
    for (const x of index) {
      const s = Math.max(0, ...x.pos.map((v) => cosine(q!, v)));
      const not = Math.max(0, ...x.neg.map((v) => cosine(q!, v)));
      if (s < this.#opts.minSimilarity || not >= s) continue;
      hits.push({ id: x.entry.id, kind: x.entry.kind, text: x.entry.text, similarity: s, ...(x.entry.kind === "correction" && x.entry.scope.examples[0] ? { example: x.entry.scope.examples[0] } : {}) });
    }
    hits.sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1));
    return hits.slice(0, this.#opts.k);
  }
}

// ------------------------------------------------------ over-generalising ---

export interface OvergeneralizationInput {
  policy: Policy;
  /** The principle (or correction) being measured. */
  entry: Pick<MemoryEntry, "id" | "kind" | "text" | "scope">;
  /** Inputs the entry should change (its scope). */
  inScope: string[];
  /** Inputs it must leave alone. */
  outOfScope: string[];
  /** Measure also what this retriever injects (scoped retrieval). */
  retriever?: MemorySource;
  /** Called after each input measured (in scope, then out of scope). */
  onProgress?: (done: number, total: number) => void;
}

export interface ChangeRate {
  n: number;
  changed: number;
  rate: number | null;
}

export interface OvergeneralizationReport {
  entryId: string;
  /** The entry put into every prompt: adherence (in scope) and over-generalisation (out of scope). */
  forced: { inScope: ChangeRate; outOfScope: ChangeRate };
  /** The memory the retriever picks for each input: how often the entry was injected, and outputs changed. */
  retrieved?: { inScope: ChangeRate & { injected: number }; outOfScope: ChangeRate & { injected: number } };
  /** Over-generalisation: the share of out-of-scope outputs the entry changes (as retrieved when a retriever is given, else forced). */
  overgeneralization: number | null;
}

const rateOf = (n: number, changed: number): ChangeRate => ({ n, changed, rate: n ? changed / n : null });

/**
 * C3PO's over-generalisation, measured at test time: run the policy on each input without memory and with the
 * entry in its prompt, and count outputs that changed. Out-of-scope changes are over-generalisation.
 */
export async function measureOvergeneralization(x: OvergeneralizationInput): Promise<OvergeneralizationReport> {
  const ask = async (input: string, system?: string) => {
    const messages: ChatMessage[] = [];
    const sys = [x.policy.system, system].filter((s): s is string => !!s);
    if (sys.length) messages.push({ role: "system", content: sys.join("\n\n") });
    messages.push({ role: "user", content: input });
    const r = await x.policy.model.chat({ messages, ...(x.policy.temperature !== undefined ? { temperature: x.policy.temperature } : {}), ...(x.policy.maxTokens !== undefined ? { maxTokens: x.policy.maxTokens } : {}) });
    return r.text.replace(/\s+/g, " ").trim();
  };
  const forcedSystem = memoryPrompt([{ kind: x.entry.kind, text: x.entry.text, ...(x.entry.kind === "correction" && x.entry.scope.examples[0] ? { example: x.entry.scope.examples[0] } : {}) }]);
  let measured = 0;
  const measure = async (inputs: string[]) => {
    let forced = 0;
    let changed = 0;
    let injected = 0;
    for (const input of inputs) {
      measured++;
      const base = await ask(input);
      if ((await ask(input, forcedSystem)) !== base) forced++;
      if (x.retriever) {
        const found = await x.retriever.retrieve(input);
        if (found.some((f) => f.id === x.entry.id)) injected++;
        const out = found.length ? await ask(input, memoryPrompt(found)) : base;
        if (out !== base) changed++;
      }
      x.onProgress?.(measured, x.inScope.length + x.outOfScope.length);
    }
    return { forced: rateOf(inputs.length, forced), retrieved: { ...rateOf(inputs.length, changed), injected } };
  };
  if (x.outOfScope.length === 0) throw new RlxfError("no_data", "over-generalisation needs out-of-scope inputs");
  const inn = await measure(x.inScope);
  const outt = await measure(x.outOfScope);
  return {
    entryId: x.entry.id,
    forced: { inScope: inn.forced, outOfScope: outt.forced },
    ...(x.retriever ? { retrieved: { inScope: inn.retrieved, outOfScope: outt.retrieved } } : {}),
    overgeneralization: x.retriever ? outt.retrieved.rate : outt.forced.rate,
  };
}
