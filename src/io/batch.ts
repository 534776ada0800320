/**
 * Collects validated records while a file is read: validates each with the
 * feedback room's parsers, keeps one copy per id (with the label of its first
 * occurrence), and counts skipped rows.
 */
import { isDeepStrictEqual } from "node:util";
import { ValidationError } from "../errors.js";
import type { Feedback, Generation, Item, PairwiseValue, Prompt, Source } from "../feedback/schema.js";
import { checkAgainstOutputs, parseFeedback, parseGeneration, parseItem } from "../feedback/index.js";
import type { z } from "zod";
import { OccurrenceCounter, contentHash, feedbackIdFromHash, generationIdFor, itemIdFor } from "./ids.js";
import type { ImportBatch, ImportFormat, SkipCount } from "./types.js";

interface Entry<T> {
  record: T;
  label: string;
}

function conflict(what: string, id: string, firstLabel: string, label: string, path = "id"): ValidationError {
  return new ValidationError(
    [{ path, message: `id "${id}" was already read from ${firstLabel} with a different body` }],
    label,
    what,
  );
}

export class BatchBuilder {
  private readonly items = new Map<string, Entry<Item>>();
  private readonly generations = new Map<string, Entry<Generation>>();
  private readonly feedback = new Map<string, Entry<Feedback>>();
  private readonly skips = new Map<string, number>();
  private readonly occurrences = new OccurrenceCounter();

  /**
   * Validate and keep an item. `merge`: an item read again under the same id (same prompt) may add a
   * `dataset`/`reference`/`metadata` the first copy lacked; differing values are an error. Without `merge`,
   * a repeated id must repeat the same body.
   */
  addItem(input: unknown, label: string, merge = false): Item {
    const item = parseItem(input, label);
    const prev = this.items.get(item.id);
    if (!prev) {
      this.items.set(item.id, { record: item, label });
      return item;
    }
    if (isDeepStrictEqual(prev.record, item)) return prev.record;
    if (!merge) throw conflict("item", item.id, prev.label, label);
    for (const key of ["dataset", "reference", "metadata", "createdAt"] as const) {
      const a = prev.record[key];
      const b = item[key];
      if (b === undefined || isDeepStrictEqual(a, b)) continue;
      if (a === undefined) {
        (prev.record as Record<string, unknown>)[key] = b;
        continue;
      }
      throw new ValidationError(
        [
          {
            path: key,
            message: `the same prompt was read from ${prev.label} with ${key} ${JSON.stringify(a)}, here ${JSON.stringify(b)}`,
          },
        ],
        label,
        "item",
      );
    }
    return prev.record;
  }

  addGeneration(input: unknown, label: string): Generation {
    const gen = parseGeneration(input, label);
    const prev = this.generations.get(gen.id);
    if (!prev) {
      this.generations.set(gen.id, { record: gen, label });
      return gen;
    }
    if (!isDeepStrictEqual(prev.record, gen)) throw conflict("generation", gen.id, prev.label, label);
    return prev.record;
  }

  addFeedback(input: unknown, label: string): Feedback {
    const fb = parseFeedback(input, label);
    checkAgainstOutputs(fb, (id) => this.generations.get(id)?.record.output, label);
    const prev = this.feedback.get(fb.id);
    if (!prev) {
      this.feedback.set(fb.id, { record: fb, label });
      return fb;
    }
    if (!isDeepStrictEqual(prev.record, fb)) throw conflict("feedback", fb.id, prev.label, label);
    return prev.record;
  }

  /**
   * Deterministic id of a feedback body (without `id`): its content hash and its occurrence index among the
   * identical bodies seen so far in this file, so identical rows become distinct records with stable ids.
   */
  feedbackId(body: Record<string, unknown>): string {
    const hash = contentHash({ ...body, id: undefined });
    return feedbackIdFromHash(hash, this.occurrences.next(hash));
  }

  skip(reason: string, n = 1): void {
    this.skips.set(reason, (this.skips.get(reason) ?? 0) + n);
  }

  build(format: ImportFormat): ImportBatch {
    const split = <T>(m: Map<string, Entry<T>>) => ({
      records: [...m.values()].map((e) => e.record),
      labels: [...m.values()].map((e) => e.label),
    });
    const items = split(this.items);
    const generations = split(this.generations);
    const feedback = split(this.feedback);
    const skipped: SkipCount[] = [...this.skips].map(([reason, count]) => ({ reason, count }));
    return {
      format,
      items: items.records,
      generations: generations.records,
      feedback: feedback.records,
      labels: { items: items.labels, generations: generations.labels, feedback: feedback.labels },
      skipped,
    };
  }
}

/** One side of a compared pair. */
export interface PairSide {
  policy: string;
  output: string;
  metadata?: Record<string, unknown>;
}

export interface PairInput {
  project: string;
  prompt: Prompt;
  dataset?: string;
  first: PairSide;
  second: PairSide;
  source: Source;
  value: z.input<typeof PairwiseValue>;
  metadata?: Record<string, unknown>;
  /** false: make the item and generations only (e.g. a missing preference). Default true. */
  withFeedback?: boolean;
}

/**
 * The records of one compared pair: the item (id from the prompt), two generations (content-hash ids, made
 * distinct when both sides are identical) and a pairwise feedback (id from its body and its occurrence index
 * in the file, so identical rows stay distinct records).
 */
export function addPair(b: BatchBuilder, p: PairInput, label: string): Feedback | undefined {
  const itemInput: Record<string, unknown> = { id: itemIdFor(p.project, p.prompt), project: p.project, prompt: p.prompt };
  if (p.dataset !== undefined) itemInput.dataset = p.dataset;
  const item = b.addItem(itemInput, label, true);

  const genBody = (s: PairSide) => {
    const body: Record<string, unknown> = { project: p.project, itemId: item.id, policy: s.policy, output: s.output };
    if (s.metadata !== undefined) body.metadata = s.metadata;
    return body;
  };
  const b1 = genBody(p.first);
  const b2 = genBody(p.second);
  const id1 = generationIdFor(b1);
  let id2 = generationIdFor(b2);
  if (id2 === id1) id2 = generationIdFor(b2, 1);
  const g1 = b.addGeneration({ id: id1, ...b1 }, label);
  const g2 = b.addGeneration({ id: id2, ...b2 }, label);
  if (p.withFeedback === false) return undefined;

  const body: Record<string, unknown> = {
    project: p.project,
    itemId: item.id,
    kind: "pairwise",
    targets: [g1.id, g2.id],
    source: p.source,
    value: p.value,
  };
  if (p.metadata !== undefined) body.metadata = p.metadata;
  return b.addFeedback({ id: b.feedbackId(body), ...body }, label);
}
