/**
 * Filters over preference pairs and splits by item: merge repeated judgements (and measure agreement), drop
 * close calls, duplicates and identical outputs, balance length so that "longer wins" is not learnable, and
 * split train/test by item so no prompt is on both sides.
 */
import { ArgumentError } from "../../errors.js";
import { createHash } from "node:crypto";
import { createRng } from "../../eval/index.js";
import { promptText } from "../../io/index.js";
import type { PreferencePair } from "./examples.js";

/** The margin of a pair in [0, 1]: its strength when stated, else 2·pChosen − 1. */
export function pairMargin(p: PreferencePair): number {
  return p.strength ?? 2 * p.pChosen - 1;
}

const outputKey = (c: { generationId?: string; text: string }) => c.generationId ?? `text:${c.text}`;

/**
 * Merge judgements of the same two outputs of one item (from several annotators or judges) into one pair:
 * pChosen is the mean probability over the votes, oriented to the majority; `votes` counts them and
 * `agreement` is the share of votes on the majority side (ties count half).
 */
export function aggregateVotes(pairs: readonly PreferencePair[]): PreferencePair[] {
  const groups = new Map<string, PreferencePair[]>();
  for (const p of pairs) {
    const a = outputKey(p.chosen);
    const b = outputKey(p.rejected);
    const key = JSON.stringify([p.project, p.itemId, a < b ? a : b, a < b ? b : a]);
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  const out: PreferencePair[] = [];
  for (const g of groups.values()) {
    const first = g[0]!;
    if (g.length === 1) {
      out.push({ ...first, votes: 1, agreement: 1 });
      continue;
    }
    const ref = outputKey(first.chosen);
    // Probability that `first.chosen` is better, per vote.
    const ps = g.map((p) => (outputKey(p.chosen) === ref ? p.pChosen : 1 - p.pChosen));
    const mean = ps.reduce((s, x) => s + x, 0) / ps.length;
    let forFirst = 0;
    for (const x of ps) forFirst += x > 0.5 ? 1 : x === 0.5 ? 0.5 : 0;
    const flip = mean < 0.5;
    const strengths = g.map((p) => p.strength).filter((s): s is number => s !== undefined);
    const merged: PreferencePair = {
      ...first,
      id: `${first.id}+${g.length - 1}`,
      chosen: flip ? first.rejected : first.chosen,
      rejected: flip ? first.chosen : first.rejected,
      pChosen: flip ? 1 - mean : mean,
      sources: [...new Set(g.flatMap((p) => p.sources))],
      feedbackIds: g.flatMap((p) => p.feedbackIds),
      votes: g.length,
      agreement: Math.max(forFirst, g.length - forFirst) / g.length,
    };
    if (strengths.length) merged.strength = strengths.reduce((s, x) => s + x, 0) / strengths.length;
    else delete merged.strength;
    out.push(merged);
  }
  return out;
}

export interface PairFilterOptions {
  /** Drop pairs whose margin (see `pairMargin`) is below this (default 0). */
  minMargin?: number;
  /** Merge repeated judgements and drop pairs whose agreement is below this (e.g. 0.75). */
  minAgreement?: number;
  /** With `minAgreement`: drop pairs with fewer votes (default 1). */
  minVotes?: number;
  /** Drop ties (pChosen 0.5) (default true). */
  dropTies?: boolean;
  /** Drop repeated (prompt, chosen, rejected) texts and pairs whose two outputs are identical (default true). */
  dedupe?: boolean;
  /** Subsample so that the chosen output is the longer one in half of the pairs (default false). */
  lengthBalance?: boolean;
  /** Seed of the length-balancing subsample (default 0). */
  seed?: number;
}

export interface FilterReport {
  kept: number;
  dropped: Array<{ reason: string; count: number }>;
}

const hashText = (...parts: string[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(`${p.length}:`).update(p);
  return h.digest("hex");
};

/** Apply `opts` to `pairs` (in this order: votes, ties, margin, dedupe, length balance). */
export function filterPairs(pairs: readonly PreferencePair[], opts: PairFilterOptions = {}): { pairs: PreferencePair[]; report: FilterReport } {
  const dropped = new Map<string, number>();
  const drop = (reason: string, n = 1) => dropped.set(reason, (dropped.get(reason) ?? 0) + n);
  let xs = [...pairs];
  if (opts.minAgreement !== undefined) {
    const before = xs.length;
    xs = aggregateVotes(xs);
    if (before > xs.length) drop("merged repeated judgements", before - xs.length);
    const minVotes = opts.minVotes ?? 1;
    xs = xs.filter((p) => {
      if ((p.votes ?? 1) < minVotes) return drop(`fewer than ${minVotes} votes`), false;
      if ((p.agreement ?? 1) < opts.minAgreement!) return drop(`agreement below ${opts.minAgreement}`), false;
      return true;
    });
  }
  if (opts.dropTies ?? true) xs = xs.filter((p) => (p.pChosen === 0.5 ? (drop("tie"), false) : true));
  if (opts.minMargin !== undefined && opts.minMargin > 0) {
    xs = xs.filter((p) => (pairMargin(p) < opts.minMargin! ? (drop(`margin below ${opts.minMargin}`), false) : true));
  }
  if (opts.dedupe ?? true) {
    const seen = new Set<string>();
    xs = xs.filter((p) => {
      if (p.chosen.text === p.rejected.text) return drop("identical outputs"), false;
      const key = hashText(promptText(p.prompt), p.chosen.text, p.rejected.text);
      if (seen.has(key)) return drop("duplicate"), false;
      seen.add(key);
      return true;
    });
  }
  if (opts.lengthBalance) {
    const longer: number[] = [];
    const shorter: number[] = [];
    xs.forEach((p, i) => {
      if (p.chosen.text.length > p.rejected.text.length) longer.push(i);
      else if (p.chosen.text.length < p.rejected.text.length) shorter.push(i);
    });
    const [big, small] = longer.length > shorter.length ? [longer, shorter] : [shorter, longer];
    const excess = big.length - small.length;
    if (excess > 0) {
      // Seeded partial Fisher-Yates: drop `excess` random members of the larger group.
      const rng = createRng(opts.seed ?? 0);
      const pool = [...big];
      const gone = new Set<number>();
      for (let k = 0; k < excess; k++) {
        const j = k + rng.int(pool.length - k);
        [pool[k], pool[j]] = [pool[j]!, pool[k]!];
        gone.add(pool[k]!);
      }
      xs = xs.filter((_, i) => !gone.has(i));
      drop("length balance", excess);
    }
  }
  return { pairs: xs, report: { kept: xs.length, dropped: [...dropped].map(([reason, count]) => ({ reason, count })) } };
}

/** Share of non-tie pairs (by characters) whose chosen output is the longer one. */
export function longerChosenShare(pairs: readonly PreferencePair[]): number {
  let longer = 0;
  let n = 0;
  for (const p of pairs) {
    if (p.chosen.text.length === p.rejected.text.length) continue;
    n++;
    if (p.chosen.text.length > p.rejected.text.length) longer++;
  }
  return n ? longer / n : NaN;
}

/** A number in [0, 1) fixed by the item and the seed: the same item falls on the same side for a given seed. */
export function itemUnit(project: string, itemId: string, seed = 0): number {
  const h = createHash("sha256").update(`${seed}\u0000${project}\u0000${itemId}`).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}

/** Split records by item: an item's records all land in test (with probability `testFraction`) or all in train. */
export function splitByItem<T extends { project: string; itemId: string }>(
  records: readonly T[],
  testFraction: number,
  seed = 0,
): { train: T[]; test: T[] } {
  if (!(testFraction >= 0 && testFraction < 1)) throw new ArgumentError("testFraction", `testFraction must be in [0, 1), got ${testFraction}`);
  const train: T[] = [];
  const test: T[] = [];
  for (const r of records) (itemUnit(r.project, r.itemId, seed) < testFraction ? test : train).push(r);
  return { train, test };
}

/** Fold (0..k-1) of every record, by item: folds of roughly equal numbers of items, fixed by the seed. */
export function foldsByItem<T extends { project: string; itemId: string }>(records: readonly T[], k: number, seed = 0): Int32Array {
  if (!Number.isInteger(k) || k < 2) throw new ArgumentError("k", `k must be an integer >= 2, got ${k}`);
  const keys = [...new Set(records.map((r) => `${r.project}\u0000${r.itemId}`))];
  const order = keys.map((key) => ({ key, u: itemUnit("", key, seed) })).sort((a, b) => a.u - b.u || (a.key < b.key ? -1 : 1));
  const fold = new Map<string, number>();
  order.forEach((o, i) => fold.set(o.key, i % k));
  return Int32Array.from(records, (r) => fold.get(`${r.project}\u0000${r.itemId}`)!);
}
