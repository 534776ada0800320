/**
 * Judges compared with each other and with humans: votes over several judges,
 * agreement (accuracy against the human majority with AlpacaEval's
 * leave-one-out human baseline, Cohen's kappa, Krippendorff's alpha between
 * judges), bias rates (how often a judge prefers the output shown first, the
 * longer one, the one with a list) and a router that sends to humans the
 * pairs where judges disagree most (Hybrid Preferences). All pure.
 *
 * Preferences use AlpacaEval's encoding: p in [1, 2], 1 = the first output
 * is better, 2 = the second, 1.5 = a tie; a soft p (from logprobs) is the
 * expected label, p − 1 the probability that the second is better.
 */
import { ArgumentError } from "../errors.js";
import { cohenKappa, krippendorffAlpha } from "./agreement.js";
import { codePointLength } from "./alpaca-eval.js";

export type Label = 1 | 1.5 | 2;

/** The hard label of a preference: below 1.5 → 1, above → 2, exactly 1.5 → tie. */
export function discretize(p: number): Label {
  return p < 1.5 ? 1 : p > 1.5 ? 2 : 1.5;
}

// ----------------------------------------------------------------- votes ---

export interface Vote {
  /** The winning label; 1.5 when the top labels tie (or ties win). */
  label: Label;
  /** Weighted mean of the voters' (soft) preferences. */
  mean: number;
  /** Weight per label. */
  counts: { 1: number; 1.5: number; 2: number };
  /** Share of the weight on the winning label (0 when nothing voted). */
  agreement: number;
  n: number;
}

/**
 * A (weighted) majority vote over preferences: each voter's hard label counts
 * with its weight (default 1); when labels 1 and 2 draw, the vote is a tie.
 */
export function majorityVote(prefs: readonly number[], weights?: readonly number[]): Vote {
  if (weights && weights.length !== prefs.length) throw new ArgumentError("weights", "majorityVote: one weight per preference");
  const counts = { 1: 0, 1.5: 0, 2: 0 };
  let sumW = 0;
  let sumP = 0;
  prefs.forEach((p, i) => {
    if (!Number.isFinite(p)) return;
    const w = weights ? weights[i]! : 1;
    if (!(w >= 0)) throw new ArgumentError("weights", "majorityVote: weights must be >= 0");
    counts[discretize(p)] += w;
    sumW += w;
    sumP += w * p;
  });
  let label: Label;
  if (sumW === 0) label = 1.5;
  else if (counts[1.5] >= counts[1] && counts[1.5] >= counts[2]) label = 1.5;
  else if (counts[1] > counts[2]) label = 1;
  else if (counts[2] > counts[1]) label = 2;
  else label = 1.5;
  return { label, mean: sumW > 0 ? sumP / sumW : 1.5, counts, agreement: sumW > 0 ? counts[label] / sumW : 0, n: prefs.length };
}

/** One preference of one annotator (a judge or a human) on one pair. */
export interface PairLabel {
  /** Identifies the pair (the same two outputs, in the same order, for every annotator). */
  pair: string;
  annotator: string;
  preference: number;
  human?: boolean;
}

/**
 * Votes per pair over the judges (humans left out): `majority` (one vote each),
 * `weighted` (weights per judge, e.g. their human agreement) or `mean`
 * (the weighted mean preference, a soft vote, becomes the label).
 */
export function aggregateJudges(
  labels: readonly PairLabel[],
  opts: { method?: "majority" | "weighted" | "mean"; weights?: Record<string, number> } = {},
): Map<string, Vote> {
  const byPair = new Map<string, { prefs: number[]; weights: number[] }>();
  for (const l of labels) {
    if (l.human) continue;
    const e = byPair.get(l.pair) ?? { prefs: [], weights: [] };
    e.prefs.push(l.preference);
    e.weights.push(opts.method === "majority" || !opts.weights ? 1 : (opts.weights[l.annotator] ?? 1));
    byPair.set(l.pair, e);
  }
  const out = new Map<string, Vote>();
  for (const [pair, e] of byPair) {
    const v = majorityVote(e.prefs, e.weights);
    out.set(pair, opts.method === "mean" ? { ...v, label: discretize(v.mean) } : v);
  }
  return out;
}

// ------------------------------------------------------------- agreement ---

/** The most frequent labels (several when they tie). */
function modes(labels: readonly Label[]): Label[] {
  const c = new Map<Label, number>();
  for (const l of labels) c.set(l, (c.get(l) ?? 0) + 1);
  const top = Math.max(...c.values());
  return [...c].filter(([, n]) => n === top).map(([l]) => l);
}

/** Credit for matching a majority that may be split: 1/k when the label is one of k tied modes. */
function credit(label: Label, target: readonly Label[]): number {
  return target.includes(label) ? 1 / target.length : 0;
}

export interface JudgeAgreement {
  judge: string;
  /** Pairs this judge labelled. */
  n: number;
  /** Of those, pairs with at least one human label. */
  nWithHumans: number;
  /** Agreement with the majority of all humans on the pair (split majorities give partial credit). */
  accuracy: number;
  /**
   * AlpacaEval's human agreement: for each pair with ≥ 2 humans and each held-out
   * human, agreement with the majority of the other humans; averaged.
   */
  humanAgreement: number;
  /** The same leave-one-out agreement of the held-out humans themselves, on the same pairs: the bar to compare with. */
  humanBaseline: number;
  /** Pairs behind humanAgreement / humanBaseline (those with ≥ 2 humans). */
  nLeaveOneOut: number;
  /** Cohen's kappa against the human majority (pairs whose human majority is one label). */
  kappa: number;
}

export interface JudgePairAgreement {
  a: string;
  b: string;
  n: number;
  /** Share of common pairs with the same hard label. */
  agreement: number;
  kappa: number;
}

export interface AgreementReport {
  judges: JudgeAgreement[];
  /** Leave-one-out human agreement over every pair with ≥ 2 humans. */
  humans: { annotators: number; pairs: number; pairsLeaveOneOut: number; agreement: number };
  /** Every two judges, on the pairs both labelled. */
  between: JudgePairAgreement[];
  /** Krippendorff's alpha (nominal) over all judges and pairs. */
  alpha: number;
}

/**
 * Agreement of every judge with the humans and with each other. An annotator
 * labelling a pair twice counts once (its last label).
 */
export function judgeAgreement(labels: readonly PairLabel[]): AgreementReport {
  const humansOf = new Map<string, Map<string, Label>>();
  const judgesOf = new Map<string, Map<string, Label>>();
  const humanNames = new Set<string>();
  for (const l of labels) {
    if (!Number.isFinite(l.preference)) continue;
    const into = l.human ? humansOf : judgesOf;
    if (l.human) humanNames.add(l.annotator);
    const key = l.human ? l.pair : l.annotator;
    const inner = l.human ? l.annotator : l.pair;
    const m = into.get(key) ?? new Map<string, Label>();
    m.set(inner, discretize(l.preference));
    into.set(key, m);
  }
  const humanLabels = (pair: string) => [...(humansOf.get(pair)?.values() ?? [])];

  // Humans among themselves, leave-one-out.
  let hSum = 0;
  let hN = 0;
  let hPairs = 0;
  for (const pair of humansOf.keys()) {
    const hs = humanLabels(pair);
    if (hs.length < 2) continue;
    hPairs++;
    hs.forEach((h, i) => {
      hSum += credit(h, modes(hs.filter((_, j) => j !== i)));
      hN++;
    });
  }

  const judges: JudgeAgreement[] = [];
  for (const [judge, pairs] of judgesOf) {
    let acc = 0;
    let nH = 0;
    let loo = 0;
    let base = 0;
    let nLoo = 0;
    let looPairs = 0;
    const jl: Label[] = [];
    const hl: Label[] = [];
    for (const [pair, label] of pairs) {
      const hs = humanLabels(pair);
      if (hs.length === 0) continue;
      nH++;
      const all = modes(hs);
      acc += credit(label, all);
      if (all.length === 1) {
        jl.push(label);
        hl.push(all[0]!);
      }
      if (hs.length >= 2) {
        looPairs++;
        hs.forEach((h, i) => {
          const target = modes(hs.filter((_, j) => j !== i));
          loo += credit(label, target);
          base += credit(h, target);
          nLoo++;
        });
      }
    }
    judges.push({
      judge,
      n: pairs.size,
      nWithHumans: nH,
      accuracy: nH ? acc / nH : NaN,
      humanAgreement: nLoo ? loo / nLoo : NaN,
      humanBaseline: nLoo ? base / nLoo : NaN,
      nLeaveOneOut: looPairs,
      kappa: jl.length ? cohenKappa(jl, hl) : NaN,
    });
  }
  judges.sort((a, b) => a.judge.localeCompare(b.judge));

  const names = judges.map((j) => j.judge);
  const between: JudgePairAgreement[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let k = i + 1; k < names.length; k++) {
      const A = judgesOf.get(names[i]!)!;
      const B = judgesOf.get(names[k]!)!;
      const a: Label[] = [];
      const b: Label[] = [];
      for (const [pair, l] of A) {
        const m = B.get(pair);
        if (m !== undefined) {
          a.push(l);
          b.push(m);
        }
      }
      between.push({
        a: names[i]!,
        b: names[k]!,
        n: a.length,
        agreement: a.length ? a.filter((x, j) => x === b[j]).length / a.length : NaN,
        kappa: a.length ? cohenKappa(a, b) : NaN,
      });
    }
  }
  const allPairs = [...new Set([...judgesOf.values()].flatMap((m) => [...m.keys()]))];
  const alpha = names.length >= 2 ? krippendorffAlpha(names.map((n) => allPairs.map((p) => judgesOf.get(n)!.get(p) ?? null))) : NaN;

  return {
    judges,
    humans: { annotators: humanNames.size, pairs: humansOf.size, pairsLeaveOneOut: hPairs, agreement: hN ? hSum / hN : NaN },
    between,
    alpha,
  };
}

// ------------------------------------------------------------------ bias ---

export interface Rate {
  /** Mean probability of the favoured side (a tie counts 1/2); NaN when n = 0. */
  rate: number;
  /** Verdicts or pairs it is computed over. */
  n: number;
}

/**
 * Position bias: the mean probability that the output *shown first* wins,
 * over verdicts given as the judge saw them (1 = first shown wins). 0.5 is
 * unbiased; a judge that always answers "first" scores 1.
 */
export function positionBiasRate(presented: readonly number[]): Rate {
  const xs = presented.filter(Number.isFinite);
  return { rate: xs.length ? xs.reduce((s, p) => s + (2 - p), 0) / xs.length : NaN, n: xs.length };
}

export interface JudgedPair {
  /** Preference in the pair's order (1 = output_1 better). */
  preference: number;
  output_1: string;
  output_2: string;
}

/**
 * Length bias: over pairs whose outputs differ by more than `minDifference`
 * characters (AlpacaEval uses 30), the mean probability that the longer wins.
 */
export function lengthBiasRate(pairs: readonly JudgedPair[], minDifference = 30): Rate {
  let s = 0;
  let n = 0;
  for (const p of pairs) {
    if (!Number.isFinite(p.preference)) continue;
    const d = codePointLength(p.output_2) - codePointLength(p.output_1);
    if (Math.abs(d) <= minDifference) continue;
    s += d > 0 ? p.preference - 1 : 2 - p.preference;
    n++;
  }
  return { rate: n ? s / n : NaN, n };
}

const LIST_LINE = /^[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+\S/gm;

/** Whether a text contains a list: at least two lines starting with a bullet or a number. */
export function hasList(text: string): boolean {
  return (text.match(LIST_LINE)?.length ?? 0) >= 2;
}

/** List bias: over pairs where exactly one output has a list, the mean probability that it wins. */
export function listBiasRate(pairs: readonly JudgedPair[]): Rate {
  let s = 0;
  let n = 0;
  for (const p of pairs) {
    if (!Number.isFinite(p.preference)) continue;
    const a = hasList(p.output_1);
    const b = hasList(p.output_2);
    if (a === b) continue;
    s += b ? p.preference - 1 : 2 - p.preference;
    n++;
  }
  return { rate: n ? s / n : NaN, n };
}

// --------------------------------------------------------------- routing ---

export interface RouteScore {
  pair: string;
  /** Judges that labelled the pair. */
  n: number;
  /** 4 × the variance of the judges' P(second better), in [0, 1]: 0 when all agree, 1 when split evenly between certain opposites. */
  disagreement: number;
  /** 1 − |2·mean P(second better) − 1|, in [0, 1]: 1 when the judges' average is a coin flip. */
  uncertainty: number;
  meanPreference: number;
}

export function disagreementOf(pair: string, prefs: readonly number[]): RouteScore {
  const qs = prefs.filter(Number.isFinite).map((p) => p - 1);
  const n = qs.length;
  const mean = n ? qs.reduce((s, q) => s + q, 0) / n : 0.5;
  const variance = n ? qs.reduce((s, q) => s + (q - mean) ** 2, 0) / n : 0;
  return { pair, n, disagreement: Math.min(1, 4 * variance), uncertainty: 1 - Math.abs(2 * mean - 1), meanPreference: 1 + mean };
}

/**
 * The pairs to send to humans, most contested first: judges' disagreement,
 * then the uncertainty of their average. Keep `budget` pairs (or a `fraction`
 * of them); pairs with fewer than `minJudges` judges are left out.
 */
export function routeToHumans(
  labels: readonly PairLabel[],
  opts: { budget?: number; fraction?: number; minJudges?: number } = {},
): RouteScore[] {
  const by = new Map<string, number[]>();
  for (const l of labels) {
    if (l.human) continue;
    by.set(l.pair, [...(by.get(l.pair) ?? []), l.preference]);
  }
  const scored = [...by]
    .map(([pair, prefs]) => disagreementOf(pair, prefs))
    .filter((s) => s.n >= (opts.minJudges ?? 1))
    .sort((a, b) => b.disagreement - a.disagreement || b.uncertainty - a.uncertainty || a.pair.localeCompare(b.pair));
  let k = scored.length;
  if (opts.fraction !== undefined) k = Math.min(k, Math.ceil(opts.fraction * scored.length));
  if (opts.budget !== undefined) k = Math.min(k, opts.budget);
  return scored.slice(0, k);
}
