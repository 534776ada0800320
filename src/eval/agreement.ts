/**
 * Inter-rater agreement statistics: Cohen's kappa (Cohen 1960), Fleiss' kappa (Fleiss 1971) and Krippendorff's
 * alpha (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability").
 */
import { ArgumentError } from "../errors.js";

/** A rating: any nominal label or a number; `null`/`undefined` means missing. */
export type RaterValue = string | number | boolean | null | undefined;

const isMissing = (v: RaterValue): v is null | undefined =>
  v === null || v === undefined || (typeof v === "number" && Number.isNaN(v));

/** Key used to compare nominal labels (so 1 and "1" stay distinct). */
const labelKey = (v: Exclude<RaterValue, null | undefined>): string => `${typeof v}:${String(v)}`;

/**
 * Cohen's kappa for two raters on nominal categories: κ = (p_o − p_e) / (1 − p_e), with p_o the observed agreement
 * and p_e the agreement expected from each rater's own marginal distribution. Items where either rating is missing
 * are skipped. Returns NaN when p_e = 1 (both raters constant on the same label) or nothing is left.
 */
export function cohenKappa(rater1: readonly RaterValue[], rater2: readonly RaterValue[]): number {
  if (rater1.length !== rater2.length) throw new ArgumentError("rater2", "cohenKappa: raters must rate the same items");
  const m1 = new Map<string, number>();
  const m2 = new Map<string, number>();
  let n = 0;
  let agree = 0;
  for (let i = 0; i < rater1.length; i++) {
    const a = rater1[i];
    const b = rater2[i];
    if (isMissing(a) || isMissing(b)) continue;
    const ka = labelKey(a);
    const kb = labelKey(b);
    n++;
    if (ka === kb) agree++;
    m1.set(ka, (m1.get(ka) ?? 0) + 1);
    m2.set(kb, (m2.get(kb) ?? 0) + 1);
  }
  if (n === 0) return NaN;
  const po = agree / n;
  let pe = 0;
  for (const [k, c] of m1) pe += (c / n) * ((m2.get(k) ?? 0) / n);
  if (pe === 1) return NaN;
  return (po - pe) / (1 - pe);
}

/**
 * Fleiss' kappa from an items × categories count matrix: `counts[i][j]` is how many raters put item i in category
 * j; every item must have the same number of ratings n ≥ 2.
 * κ = (P̄ − P̄_e) / (1 − P̄_e), with P̄ the mean per-item agreement Σ_j n_ij(n_ij − 1) / (n(n − 1)) and
 * P̄_e = Σ_j p_j² from the pooled category proportions.
 */
export function fleissKappa(counts: readonly (readonly number[])[]): number {
  const N = counts.length;
  if (N === 0) return NaN;
  const k = counts[0]!.length;
  const n = counts[0]!.reduce((s, x) => s + x, 0);
  if (n < 2) throw new ArgumentError("counts", "fleissKappa: need at least 2 ratings per item");
  const colTotals = new Float64Array(k);
  let pBar = 0;
  for (const row of counts) {
    if (row.length !== k) throw new ArgumentError("counts", "fleissKappa: ragged count matrix");
    let sum = 0;
    let agree = 0;
    for (let j = 0; j < k; j++) {
      const c = row[j]!;
      if (!(c >= 0)) throw new ArgumentError("counts", "fleissKappa: counts must be >= 0");
      sum += c;
      agree += c * (c - 1);
      colTotals[j]! += c;
    }
    if (sum !== n) throw new ArgumentError("counts", "fleissKappa: every item needs the same number of ratings");
    pBar += agree / (n * (n - 1));
  }
  pBar /= N;
  let pe = 0;
  for (let j = 0; j < k; j++) {
    const p = colTotals[j]! / (N * n);
    pe += p * p;
  }
  if (pe === 1) return NaN;
  return (pBar - pe) / (1 - pe);
}

/**
 * Convert per-item rating lists (each item rated by the same number of raters) into the count matrix of
 * {@link fleissKappa}. Returns the matrix and the category order used.
 */
export function ratingsToCounts(items: readonly (readonly RaterValue[])[]): { counts: number[][]; categories: RaterValue[] } {
  const categories: RaterValue[] = [];
  const index = new Map<string, number>();
  for (const item of items) {
    for (const r of item) {
      if (isMissing(r)) continue;
      const key = labelKey(r);
      if (!index.has(key)) {
        index.set(key, categories.length);
        categories.push(r);
      }
    }
  }
  const counts = items.map((item) => {
    const row = new Array<number>(categories.length).fill(0);
    for (const r of item) if (!isMissing(r)) row[index.get(labelKey(r))!]! += 1;
    return row;
  });
  return { counts, categories };
}

/** Measurement level for Krippendorff's alpha. */
export type AlphaLevel = "nominal" | "interval" | "ratio";

/**
 * Krippendorff's alpha for a reliability-data matrix `data[rater][unit]` (null/undefined/NaN = missing), any number
 * of raters, missing data allowed. Built on the coincidence matrix: every unit with m_u ≥ 2 values contributes each
 * ordered pair of its values from different raters with weight 1/(m_u − 1); then
 *
 *     α = 1 − D_o / D_e = 1 − (n − 1) · Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck
 *
 * with δ²_ck = [c ≠ k] (nominal), (c − k)² (interval) or ((c − k)/(c + k))² (ratio). Interval/ratio levels need
 * numeric values. Returns NaN when there is no variation (D_e = 0) or fewer than two pairable values.
 */
export function krippendorffAlpha(data: readonly (readonly RaterValue[])[], level: AlphaLevel = "nominal"): number {
  if (data.length === 0) return NaN;
  const nUnits = data[0]!.length;
  for (const r of data) if (r.length !== nUnits) throw new ArgumentError("data", "krippendorffAlpha: ragged data matrix");

  const values: Exclude<RaterValue, null | undefined>[] = [];
  const index = new Map<string, number>();
  const valueId = (v: Exclude<RaterValue, null | undefined>): number => {
    const key = level === "nominal" ? labelKey(v) : String(Number(v));
    let i = index.get(key);
    if (i === undefined) {
      i = values.length;
      index.set(key, i);
      values.push(level === "nominal" ? v : Number(v));
    }
    return i;
  };
  const pairs: number[][] = [];
  for (let u = 0; u < nUnits; u++) {
    const ids: number[] = [];
    for (const rater of data) {
      const v = rater[u];
      if (isMissing(v)) continue;
      if (level !== "nominal" && (typeof v !== "number" || !Number.isFinite(v)))
        throw new ArgumentError("data", `krippendorffAlpha: ${level} level needs finite numbers, got ${String(v)}`);
      ids.push(valueId(v));
    }
    if (ids.length >= 2) pairs.push(ids);
  }
  const V = values.length;
  const o = new Float64Array(V * V);
  for (const ids of pairs) {
    const w = 1 / (ids.length - 1);
    for (let i = 0; i < ids.length; i++)
      for (let j = 0; j < ids.length; j++) if (i !== j) o[ids[i]! * V + ids[j]!]! += w;
  }
  const nc = new Float64Array(V);
  let n = 0;
  for (let c = 0; c < V; c++) {
    for (let k = 0; k < V; k++) nc[c]! += o[c * V + k]!;
    n += nc[c]!;
  }
  if (n < 2) return NaN;
  const delta2 = (c: number, k: number): number => {
    if (level === "nominal") return c === k ? 0 : 1;
    const a = values[c] as number;
    const b = values[k] as number;
    if (level === "interval") return (a - b) ** 2;
    return a + b === 0 ? 0 : ((a - b) / (a + b)) ** 2;
  };
  let dObs = 0;
  let dExp = 0;
  for (let c = 0; c < V; c++) {
    for (let k = 0; k < V; k++) {
      const d = delta2(c, k);
      if (d === 0) continue;
      dObs += o[c * V + k]! * d;
      dExp += nc[c]! * nc[k]! * d;
    }
  }
  if (dExp === 0) return NaN;
  return 1 - ((n - 1) * dObs) / dExp;
}

/** A labelled character range, as in span feedback (end exclusive). */
export interface LabelledSpan {
  start: number;
  end: number;
  label: string;
}

/**
 * Agreement of two annotators' labelled spans on one text: spans match one to one when they share the label and
 * overlap (each takes the unmatched partner it overlaps most, in order of start). Summed over texts,
 * 2 * matched / (spans of a + spans of b) is the pairwise F1 of span annotation, equal to positive specific
 * agreement (Hripcsak and Rothschild 2005), which suits spans better than kappa: the "not a span" class has no
 * countable units.
 */
export function matchSpans(a: readonly LabelledSpan[], b: readonly LabelledSpan[]): { matched: number; total: number } {
  const used = new Set<number>();
  let matched = 0;
  for (const s of [...a].sort((x, y) => x.start - y.start || x.end - y.end)) {
    let best = -1;
    let bestOverlap = 0;
    b.forEach((t, j) => {
      if (used.has(j) || t.label !== s.label) return;
      const overlap = Math.min(s.end, t.end) - Math.max(s.start, t.start);
      if (overlap > bestOverlap) [best, bestOverlap] = [j, overlap];
    });
    if (best >= 0) {
      used.add(best);
      matched++;
    }
  }
  return { matched, total: a.length + b.length };
}

/**
 * Similarity of two edited texts, by word: 2 * LCS / (words of a + words of b) (Dice over the longest common
 * subsequence of whitespace-separated words); 1 when both are empty. Two annotators' corrections of the same
 * output agree as much as they keep and change the same words.
 */
export function wordSimilarity(a: string, b: string): number {
  const x = a.split(/\s+/).filter(Boolean);
  const y = b.split(/\s+/).filter(Boolean);
  if (x.length + y.length === 0) return 1;
  // LCS by dynamic programming over one row.
  const row = new Int32Array(y.length + 1);
  for (let i = 1; i <= x.length; i++) {
    let diag = 0;
    for (let j = 1; j <= y.length; j++) {
      const up = row[j]!;
      row[j] = x[i - 1] === y[j - 1] ? diag + 1 : Math.max(up, row[j - 1]!);
      diag = up;
    }
  }
  return (2 * row[y.length]!) / (x.length + y.length);
}
