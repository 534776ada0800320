/**
 * Agreement of annotations: Krippendorff's alpha over every annotator, Cohen's kappa for each pair of
 * annotators with overlap (the F1 of labelled spans, the word similarity of corrections), and agreement of
 * AI judgements with the human consensus on the same targets. What a queue's dashboard shows per question.
 */
import { type Feedback, type FeedbackKind, rubricToScalar } from "../feedback/index.js";
import { type AlphaLevel, type RaterValue, cohenKappa, krippendorffAlpha, matchSpans, wordSimilarity } from "./agreement.js";
import type { AnnotationAgreement, PairAgreement } from "./schema.js";
import { mean } from "./stats.js";

/** NaN (undefined statistic) as null in JSON. */
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The level answers of a feedback kind are measured at, or undefined when they have none to agree on. */
export function levelOf(kind: FeedbackKind): AlphaLevel | undefined {
  if (kind === "pairwise" || kind === "binary" || kind === "critique") return "nominal";
  if (kind === "rating" || kind === "rubric" || kind === "ranking") return "interval";
  return undefined;
}

/** (unit, value) pairs of one feedback record for agreement: pairs/lists per task, the rest per target. */
export function unitValues(f: Feedback, taskId: string): { unit: string; value: RaterValue }[] {
  switch (f.kind) {
    case "pairwise":
      return [{ unit: taskId, value: f.value.choice }];
    case "ranking":
      return f.targets.map((t, i) => ({ unit: `${taskId}|${t}`, value: f.value.ranks[i] }));
    case "binary":
      return [{ unit: `${taskId}|${f.targets[0]}`, value: f.value.ok }];
    case "rating":
      return [{ unit: `${taskId}|${f.targets[0]}`, value: f.value.score }];
    case "critique":
      return f.value.verdict === undefined ? [] : [{ unit: `${taskId}|${f.targets[0]}`, value: f.value.verdict }];
    case "rubric": {
      // A rubric whose weights are all 0 has no total: no value.
      let v: number | null;
      try {
        v = rubricToScalar(f);
      } catch {
        v = null;
      }
      return [{ unit: `${taskId}|${f.targets[0]}`, value: v }];
    }
    default:
      return [];
  }
}

/** Alpha over every rater and kappa for each pair, from unit → rater → value. */
export function agreementOf(byUnit: Map<string, Map<string, RaterValue>>, level: AlphaLevel): { alpha: number | null; pairs: PairAgreement[]; units: number; raters: string[] } {
  const raters = [...new Set([...byUnit.values()].flatMap((m) => [...m.keys()]))].sort();
  const units = [...byUnit.keys()].sort();
  const data = raters.map((r) => units.map((u) => byUnit.get(u)!.get(r) ?? null));
  const alpha = raters.length >= 2 ? finiteOrNull(krippendorffAlpha(data, level)) : null;
  const pairs: PairAgreement[] = [];
  for (let i = 0; i < raters.length; i++) {
    for (let j = i + 1; j < raters.length; j++) {
      const a: RaterValue[] = [];
      const b: RaterValue[] = [];
      for (const u of units) {
        const m = byUnit.get(u)!;
        if (m.has(raters[i]!) && m.has(raters[j]!)) {
          a.push(m.get(raters[i]!));
          b.push(m.get(raters[j]!));
        }
      }
      if (a.length === 0) continue;
      const same = a.filter((x, k) => String(x) === String(b[k])).length;
      pairs.push({ annotators: [raters[i]!, raters[j]!], n: a.length, agreement: same / a.length, kappa: finiteOrNull(cohenKappa(a, b)) });
    }
  }
  return { alpha, pairs, units: units.filter((u) => byUnit.get(u)!.size >= 1).length, raters };
}

/**
 * Span and correction questions, pair by pair over the outputs both annotators answered: spans by the pairwise
 * F1 of labelled spans (null when neither marked any), corrections by the mean word similarity of the edits.
 */
export function textAgreement(kind: "spans" | "correction", records: readonly Feedback[]): PairAgreement[] {
  const byRater = new Map<string, Map<string, Feedback>>();
  for (const f of records) {
    let m = byRater.get(f.source.id);
    if (!m) byRater.set(f.source.id, (m = new Map()));
    m.set(`${String(f.metadata?.taskId)}|${f.targets.join(",")}`, f);
  }
  const raters = [...byRater.keys()].sort();
  const pairs: PairAgreement[] = [];
  for (let i = 0; i < raters.length; i++) {
    for (let j = i + 1; j < raters.length; j++) {
      const a = byRater.get(raters[i]!)!;
      const b = byRater.get(raters[j]!)!;
      let n = 0;
      let matched = 0;
      let total = 0;
      let similarity = 0;
      for (const [unit, fa] of a) {
        const fb = b.get(unit);
        if (!fb) continue;
        n++;
        if (fa.kind === "spans" && fb.kind === "spans") {
          const m = matchSpans(fa.value.spans, fb.value.spans);
          matched += m.matched;
          total += m.total;
        } else if (fa.kind === "correction" && fb.kind === "correction") {
          similarity += wordSimilarity(fa.value.output, fb.value.output);
        }
      }
      if (n === 0) continue;
      const agreement = kind === "spans" ? (total > 0 ? (2 * matched) / total : null) : similarity / n;
      pairs.push({ annotators: [raters[i]!, raters[j]!], n, agreement, kappa: null });
    }
  }
  return pairs;
}

/** How agreement on feedback of a kind is measured, for readers of the statistics. */
export function agreementMeasure(kind: FeedbackKind): string {
  if (kind === "spans") return "pairwise F1 of labelled spans (same label, overlapping)";
  if (kind === "correction") return "mean word similarity of the corrected texts (2·LCS / words)";
  return `Krippendorff's alpha (${levelOf(kind)}) and Cohen's kappa per pair`;
}

/** The human consensus of one unit: the majority label (none on a tie of the top labels) or the mean. */
function consensus(values: RaterValue[], level: AlphaLevel): RaterValue {
  if (level !== "nominal") return mean(values.map(Number));
  const counts = new Map<string, { v: RaterValue; n: number }>();
  for (const v of values) {
    const k = `${typeof v}:${String(v)}`;
    const e = counts.get(k);
    if (e) e.n++;
    else counts.set(k, { v, n: 1 });
  }
  const sorted = [...counts.values()].sort((x, y) => y.n - x.n);
  if (sorted.length > 1 && sorted[0]!.n === sorted[1]!.n) return null;
  return sorted[0]!.v;
}

/** A judge's record in the human records' terms: same kind, same targets (a reversed pair is flipped). */
function judgeValue(f: Feedback, human: Feedback): RaterValue {
  if (f.kind !== human.kind) return undefined;
  if (f.kind === "pairwise" && human.kind === "pairwise") {
    const [a, b] = human.targets;
    if (f.targets[0] === a && f.targets[1] === b) return f.value.choice;
    if (f.targets[0] === b && f.targets[1] === a) return f.value.choice === "tie" ? "tie" : f.value.choice === "first" ? "second" : "first";
    return undefined;
  }
  if (f.targets.length !== 1 || f.targets[0] !== human.targets[0]) return undefined;
  switch (f.kind) {
    case "binary":
      return f.value.ok;
    case "rating": {
      if (human.kind !== "rating") return undefined;
      // On the human question's scale.
      const s = human.value.scale;
      const t = (f.value.score - f.value.scale.min) / (f.value.scale.max - f.value.scale.min);
      return s.min + t * (s.max - s.min);
    }
    case "critique":
      return f.value.verdict;
    default:
      return undefined;
  }
}

/** Whether judgements of other sources on the same targets can be compared with the humans' for a kind. */
export function comparableWithJudges(kind: FeedbackKind): boolean {
  return levelOf(kind) !== undefined && kind !== "ranking" && kind !== "rubric";
}

/**
 * Agreement of the human records of one question (all of `kind`, each with its task id in
 * `metadata.taskId`), and of `judgements` (AI feedback on the same targets) with their consensus.
 */
export function annotationAgreement(kind: FeedbackKind, records: readonly Feedback[], judgements: readonly Feedback[] = []): AnnotationAgreement {
  const level = levelOf(kind);
  const out: AnnotationAgreement = { level: level ?? null, units: 0, alpha: null, pairs: [], judges: [], measure: agreementMeasure(kind) };
  if (!level) {
    out.units = new Set(records.map((f) => `${String(f.metadata?.taskId)}|${f.targets.join(",")}`)).size;
    if (kind === "spans" || kind === "correction") out.pairs = textAgreement(kind, records);
    return out;
  }
  const byUnit = new Map<string, Map<string, RaterValue>>();
  for (const f of records) {
    for (const { unit, value } of unitValues(f, String(f.metadata?.taskId))) {
      let m = byUnit.get(unit);
      if (!m) byUnit.set(unit, (m = new Map()));
      m.set(f.source.id, value);
    }
  }
  const ag = agreementOf(byUnit, level);
  out.units = ag.units;
  out.alpha = ag.alpha;
  out.pairs = ag.pairs;
  if (!comparableWithJudges(kind)) return out;

  // AI judgements on the same targets against the human consensus.
  const humanByUnit = new Map<string, Feedback[]>();
  for (const f of records) {
    const key = f.targets.join("\u0000");
    const list = humanByUnit.get(key) ?? [];
    list.push(f);
    humanByUnit.set(key, list);
  }
  const perJudge = new Map<string, { type: string; id: string; human: RaterValue[]; judge: RaterValue[] }>();
  for (const [, hs] of humanByUnit) {
    const h0 = hs[0]!;
    const values = hs.flatMap((h) => unitValues(h, "").map((u) => u.value)).filter((v) => v !== null && v !== undefined);
    if (!values.length) continue;
    const human = consensus(values, level);
    if (human === null || human === undefined) continue;
    for (const j of judgements) {
      const v = judgeValue(j, h0);
      if (v === undefined || v === null) continue;
      const k = `${j.source.type}:${j.source.id}`;
      const e = perJudge.get(k) ?? { type: j.source.type, id: j.source.id, human: [], judge: [] };
      e.human.push(human);
      e.judge.push(v);
      perJudge.set(k, e);
    }
  }
  out.judges = [...perJudge.values()]
    .sort((a, b) => (a.type + a.id < b.type + b.id ? -1 : 1))
    .map((e) => ({
      source: { type: e.type, id: e.id },
      n: e.human.length,
      agreement: level === "nominal" ? e.human.filter((h, i) => String(h) === String(e.judge[i])).length / e.human.length : null,
      kappa: level === "nominal" ? finiteOrNull(cohenKappa(e.human, e.judge)) : null,
      alpha: finiteOrNull(krippendorffAlpha([e.human, e.judge], level)),
    }));
  return out;
}
