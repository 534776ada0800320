/**
 * What the dashboards show: a queue's progress and agreement per question (Krippendorff's alpha over every
 * annotator, Cohen's kappa for each pair of annotators with overlap, and agreement of AI judgements with the
 * human consensus on the same targets), and distributions of ratings and of the lengths of preferred vs
 * rejected outputs. The metrics are the eval room's (src/eval/agreement.ts, stats.ts).
 */
import type { Hono } from "hono";
import { z } from "zod";
import { type AlphaLevel, type RaterValue, cohenKappa, krippendorffAlpha, matchSpans, wordSimilarity } from "../eval/agreement.js";
import { mean, median } from "../eval/stats.js";
import { rubricToScalar } from "../feedback/convert.js";
import { type Feedback, Id } from "../feedback/schema.js";
import type { QueueRecord, Store } from "../store/index.js";
import { type Env, type Settings, parseQuery, requireRole } from "./context.js";
import { notFound } from "./errors.js";
import type { Question } from "./queue-spec.js";
import { definitionOf } from "./queues.js";

/** NaN (undefined statistic) as null in JSON. */
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The level a question's answers are measured at, or undefined when they have none to agree on. */
export function levelOf(kind: Question["kind"]): AlphaLevel | undefined {
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
      let v: number | null = null;
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

interface PairAgreement {
  annotators: [string, string];
  /** Units both annotated. */
  n: number;
  /** Share of those with the same answer. */
  agreement: number | null;
  kappa: number | null;
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
export function textAgreement(kind: "span" | "correction", records: readonly Feedback[]): PairAgreement[] {
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
      const agreement = kind === "span" ? (total > 0 ? (2 * matched) / total : null) : similarity / n;
      pairs.push({ annotators: [raters[i]!, raters[j]!], n, agreement, kappa: null });
    }
  }
  return pairs;
}

/** How a question's agreement is measured, for readers of the statistics. */
export function agreementMeasure(kind: Question["kind"]): string {
  if (kind === "span") return "pairwise F1 of labelled spans (same label, overlapping)";
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

export interface QuestionStats {
  id: string;
  kind: Question["kind"];
  /** Feedback records submitted for this question. */
  records: number;
  level: AlphaLevel | null;
  /** Units (a task, or a task's generation) with at least one answer. */
  units: number;
  alpha: number | null;
  pairs: PairAgreement[];
  judges: { source: { type: string; id: string }; n: number; agreement: number | null; kappa: number | null; alpha: number | null }[];
  /** What `pairs[].agreement` (and alpha) measure for this kind of question. */
  measure: string;
}

export async function queueStats(store: Store, project: string, q: QueueRecord, now: number): Promise<Record<string, unknown>> {
  const progress = await store.queues.progress(project, q.id, now);
  const claims = await store.queues.claims(project, q.id);
  const submitted = claims.filter((c) => c.status === "submitted");
  const feedback = await store.queues.feedbackByIds(project, submitted.flatMap((c) => c.feedbackIds ?? []));
  const annotators = new Map<string, { submitted: number; skipped: number }>();
  for (const c of claims) {
    const a = annotators.get(c.annotator) ?? { submitted: 0, skipped: 0 };
    if (c.status === "submitted") a.submitted++;
    if (c.status === "skipped") a.skipped++;
    annotators.set(c.annotator, a);
  }
  const judgeTypes = ["judge", "simulated", "critic"];

  const questions: QuestionStats[] = [];
  for (const question of definitionOf(q).questions) {
    const mine = feedback.filter((f) => f.metadata?.questionId === question.id);
    const level = levelOf(question.kind);
    const st: QuestionStats = { id: question.id, kind: question.kind, records: mine.length, level: level ?? null, units: 0, alpha: null, pairs: [], judges: [], measure: agreementMeasure(question.kind) };
    if (level) {
      const byUnit = new Map<string, Map<string, RaterValue>>();
      for (const f of mine) {
        for (const { unit, value } of unitValues(f, String(f.metadata?.taskId))) {
          let m = byUnit.get(unit);
          if (!m) byUnit.set(unit, (m = new Map()));
          m.set(f.source.id, value);
        }
      }
      const ag = agreementOf(byUnit, level);
      st.units = ag.units;
      st.alpha = ag.alpha;
      st.pairs = ag.pairs;

      // AI judgements on the same targets against the human consensus.
      if (question.kind !== "ranking" && question.kind !== "rubric") {
        const genIds = [...new Set(mine.flatMap((f) => f.targets))];
        const ai = await store.queues.feedbackOnGenerations(project, genIds, judgeTypes);
        const humanByUnit = new Map<string, Feedback[]>();
        for (const f of mine) {
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
          for (const j of ai) {
            const v = judgeValue(j, h0);
            if (v === undefined || v === null) continue;
            const k = `${j.source.type}:${j.source.id}`;
            const e = perJudge.get(k) ?? { type: j.source.type, id: j.source.id, human: [], judge: [] };
            e.human.push(human);
            e.judge.push(v);
            perJudge.set(k, e);
          }
        }
        st.judges = [...perJudge.values()]
          .sort((a, b) => (a.type + a.id < b.type + b.id ? -1 : 1))
          .map((e) => ({
            source: { type: e.type, id: e.id },
            n: e.human.length,
            agreement: level === "nominal" ? e.human.filter((h, i) => String(h) === String(e.judge[i])).length / e.human.length : null,
            kappa: level === "nominal" ? finiteOrNull(cohenKappa(e.human, e.judge)) : null,
            alpha: finiteOrNull(krippendorffAlpha([e.human, e.judge], level)),
          }));
      }
    } else {
      st.units = new Set(mine.map((f) => `${String(f.metadata?.taskId)}|${f.targets.join(",")}`)).size;
      if (question.kind === "span" || question.kind === "correction") st.pairs = textAgreement(question.kind, mine);
    }
    questions.push(st);
  }
  return {
    queueId: q.id,
    progress,
    tasks: progress.tasks,
    annotators: [...annotators].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([id, v]) => ({ id, ...v })),
    questions,
  };
}

// --------------------------------------------------------- distributions ---

export const DistributionsQuery = z.strictObject({
  dataset: Id.describe("only feedback on items of this dataset").optional(),
  queueId: Id.describe("only feedback submitted through this queue").optional(),
  sourceType: z.enum(["human", "judge", "critic", "verifier", "simulated", "user"]).describe("only feedback from this kind of source").optional(),
  bins: z.string().regex(/^[0-9]{1,3}$/, "must be an integer").transform(Number).pipe(z.number().int().min(1).max(100)).describe("length histogram bins (default 10)").optional(),
});

function summary(xs: number[]): { n: number; mean: number | null; median: number | null } {
  return { n: xs.length, mean: xs.length ? mean(xs) : null, median: xs.length ? median(xs) : null };
}

export async function distributions(store: Store, project: string, q: z.output<typeof DistributionsQuery>): Promise<Record<string, unknown>> {
  const ratings = new Map<string, { name: string; scale: { min: number; max: number }; scores: Map<number, number>; all: number[] }>();
  const preferred: number[] = [];
  const rejected: number[] = [];
  let ties = 0;
  let longerPreferred = 0;
  let comparable = 0;
  for await (const rf of store.iterateResolvedFeedback({ project, kind: ["rating", "pairwise"], ...(q.sourceType ? { sourceType: q.sourceType } : {}) })) {
    if (q.dataset !== undefined && rf.item.dataset !== q.dataset) continue;
    if (q.queueId !== undefined && rf.feedback.metadata?.queueId !== q.queueId) continue;
    const f = rf.feedback;
    if (f.kind === "rating") {
      const name = f.value.dimension ?? "rating";
      const key = `${name}\u0000${f.value.scale.min}\u0000${f.value.scale.max}`;
      let e = ratings.get(key);
      if (!e) ratings.set(key, (e = { name, scale: { min: f.value.scale.min, max: f.value.scale.max }, scores: new Map(), all: [] }));
      e.scores.set(f.value.score, (e.scores.get(f.value.score) ?? 0) + 1);
      e.all.push(f.value.score);
    } else if (f.kind === "pairwise") {
      if (f.value.choice === "tie") {
        ties++;
        continue;
      }
      const [a, b] = rf.targets;
      const win = f.value.choice === "first" ? a! : b!;
      const lose = f.value.choice === "first" ? b! : a!;
      preferred.push(win.output.length);
      rejected.push(lose.output.length);
      if (win.output.length !== lose.output.length) {
        comparable++;
        if (win.output.length > lose.output.length) longerPreferred++;
      }
    }
  }
  const nBins = q.bins ?? 10;
  const top = Math.max(1, ...preferred, ...rejected);
  const width = Math.ceil(top / nBins);
  const bins = Array.from({ length: nBins }, (_, i) => ({ from: i * width, to: (i + 1) * width, preferred: 0, rejected: 0 }));
  const binOf = (x: number) => Math.min(nBins - 1, Math.floor(x / width));
  for (const x of preferred) bins[binOf(x)]!.preferred++;
  for (const x of rejected) bins[binOf(x)]!.rejected++;
  return {
    ratings: [...ratings.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.scale.min - b.scale.min))
      .map((e) => ({
        name: e.name,
        scale: e.scale,
        n: e.all.length,
        mean: mean(e.all),
        histogram: [...e.scores].sort((a, b) => a[0] - b[0]).map(([value, count]) => ({ value, count })),
      })),
    lengths: {
      unit: "characters (UTF-16 code units)",
      pairs: preferred.length,
      ties,
      preferred: summary(preferred),
      rejected: summary(rejected),
      /** Among pairs of different lengths, how often the longer output was preferred. */
      longerPreferred: comparable ? longerPreferred / comparable : null,
      bins,
    },
  };
}

// ---------------------------------------------------------------- routes ---

export function dashboardRoutes(app: Hono<Env>, s: Settings): void {
  const { store } = s;

  app.get("/v1/queues/:id/stats", async (c) => {
    const key = requireRole(c, ["admin", "read"], "read queue statistics");
    const id = c.req.param("id");
    const q = await store.queues.get(key.project, id);
    if (!q) throw notFound(`queue "${id}" not found`);
    return c.json(await queueStats(store, key.project, q, Date.now()));
  });

  app.get("/v1/analysis/distributions", async (c) => {
    const key = requireRole(c, ["admin", "read"], "read distributions");
    const q = parseQuery(c, DistributionsQuery);
    return c.json(await distributions(store, key.project, q));
  });
}
