/**
 * Training segment reward models from span feedback (Fine-Grained RLHF, Wu et al. 2023):
 *
 * 1. outputs with `spans` feedback are split by item (held-out items are never seen in training) and cut into
 *    segments; a segment is an error of a type when a span of one of the type's labels overlaps it;
 * 2. per type, an L2 logistic regression on the segment features (`SegmentFeaturizer`); its L2 strength is chosen
 *    by cross-validated log-loss over folds by item, and its flagging threshold maximises the F1 of the
 *    cross-fitted predictions;
 * 3. given preference pairs, the combination is chosen on the training items' pairs, scored by models that did not
 *    see their item (cross-fitted): sign or prob rewards, sum or mean over segments, equal weights or weights
 *    fitted by a Bradley-Terry regression on the per-type totals. A temperature calibrates the margins.
 *
 *     const { examples } = await collectSpanExamples(source);
 *     const { model, metrics } = await trainSegmentModel(examples, { pairs, testFraction: 0.5, seed: 1 });
 */
import { RlxfError } from "../../errors.js";
import type { Feedback, Prompt, ResolvedFeedback } from "../../feedback/schema.js";
import { foldsByItem, splitByItem } from "../datasets/filters.js";
import { type CsrMatrix, type SparseVector, csrFromRows, csrSelectRows } from "../features/sparse.js";
import { headFromCompact, type LinearHead } from "../reward/linear.js";
import { fitLogistic, sigmoid, softplus } from "../reward/logistic.js";
import { fitTemperature, pairMetrics, type PairMetrics } from "../reward/metrics.js";
import { type SegmentFeatureSpec, segmentFeatureSpec, SegmentFeaturizer } from "./features.js";
import { type Passage, readPassages } from "./grounding.js";
import { type Aggregate, AGGREGATES, type CombineMode, COMBINE_MODES, type DetectionMetrics, SegmentRewardModel, type SegmentTypeHead } from "./model.js";
import type { SegmentLevel, TextSegment } from "./segment.js";

/** One output with its labelled spans: what segment models learn from. */
export interface SpanExample {
  /** The feedback record's id. */
  id: string;
  project: string;
  itemId: string;
  generationId: string;
  prompt: Prompt;
  response: string;
  passages?: Passage[];
  spans: Array<{ start: number; end: number; label: string; comment?: string }>;
  /** "type:id" of who gave the spans. */
  source: string;
}

/** Passages an item carries in `metadata.passages` (as the qa-feedback importer keeps them); undefined when none or malformed. */
export function itemPassages(metadata: Record<string, unknown> | undefined): Passage[] | undefined {
  const raw = metadata?.passages;
  if (raw === undefined || raw === null) return undefined;
  try {
    const p = readPassages(raw, "metadata.passages");
    return p.length ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Span examples from resolved feedback (`spans` records on one output each). */
export async function collectSpanExamples(
  source: { resolvedFeedback(): AsyncIterable<ResolvedFeedback> },
  opts: { onRecord?: () => void; onSkip?: (reason: string, f: Feedback) => void } = {},
): Promise<{ examples: SpanExample[]; skipped: Array<{ reason: string; count: number }> }> {
  const examples: SpanExample[] = [];
  const skips = new Map<string, number>();
  const skip = (reason: string, f: Feedback) => {
    skips.set(reason, (skips.get(reason) ?? 0) + 1);
    opts.onSkip?.(reason, f);
  };
  for await (const r of source.resolvedFeedback()) {
    opts.onRecord?.();
    const f = r.feedback;
    if (f.kind !== "spans") continue;
    const g = r.targets[0];
    if (!g || r.targets.length !== 1) {
      skip("spans on other than one output", f);
      continue;
    }
    const passages = itemPassages(r.item.metadata);
    examples.push({
      id: f.id,
      project: r.item.project,
      itemId: r.item.id,
      generationId: g.id,
      prompt: r.item.prompt,
      response: g.output,
      ...(passages ? { passages } : {}),
      spans: f.value.spans.map((s) => ({ start: s.start, end: s.end, label: s.label, ...(s.comment !== undefined ? { comment: s.comment } : {}) })),
      source: `${f.source.type}:${f.source.id}`,
    });
  }
  return { examples, skipped: [...skips].map(([reason, count]) => ({ reason, count })) };
}

/** Whether a span of one of `labels` overlaps each segment (by at least one non-space character). */
export function segmentLabels(response: string, segments: readonly TextSegment[], spans: SpanExample["spans"], labels: ReadonlySet<string>): boolean[] {
  const relevant = spans.filter((s) => labels.has(s.label));
  return segments.map((seg) =>
    relevant.some((s) => {
      const a = Math.max(seg.start, s.start);
      const b = Math.min(seg.end, s.end);
      return b > a && /\S/.test(response.slice(a, b));
    }),
  );
}

/** Detection metrics of flags against labels. */
export function detectionMetrics(labels: ArrayLike<boolean>, flags: ArrayLike<boolean>): DetectionMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (flags[i] && labels[i]) tp++;
    else if (flags[i]) fp++;
    else if (labels[i]) fn++;
    else tn++;
  }
  const n = labels.length;
  const positives = tp + fn;
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = positives ? tp / positives : 0;
  return {
    segments: n,
    positives,
    flagged: tp + fp,
    precision,
    recall,
    f1: tp ? (2 * tp) / (2 * tp + fp + fn) : 0,
    macroF1: ((tp ? (2 * tp) / (2 * tp + fp + fn) : 0) + (tn ? (2 * tn) / (2 * tn + fp + fn) : 0)) / 2,
    accuracy: n ? (tp + tn) / n : NaN,
    alwaysFlagF1: positives ? (2 * positives) / (positives + n) : 0,
  };
}

/** A preference between two outputs of one item, with what scoring them needs. */
export interface SegmentPair {
  itemId: string;
  prompt: Prompt;
  passages?: readonly Passage[];
  chosen: string;
  rejected: string;
  /** P(chosen ≻ rejected); 0.5 is a tie (left out of accuracy). */
  pChosen: number;
}

export interface SegmentTrainProgress {
  stage: "featurize" | "fit" | "combine" | "evaluate";
  step?: number;
  total?: number;
  note?: string;
}

export interface SegmentTrainOptions {
  name?: string;
  project?: string;
  /** Seed of the split and the folds (default 0). */
  seed?: number;
  /** Share of items held out (default 0.2; 0 trains on all). */
  testFraction?: number;
  /** Segments: sentences (default) or sub-sentences. */
  level?: SegmentLevel;
  /** Hashed n-gram settings (default 2^16 buckets, unigrams and bigrams). */
  bits?: number;
  ngrams?: number[];
  /**
   * Error types: a name → the span labels it detects (e.g. Fine-Grained RLHF's `{relevance: ["Irrelevant",
   * "Redundant", "Incoherent"], factuality: ["Wrong-Grounding", "Unverifiable"]}`). Default: every label of the
   * training spans is a type of its own.
   */
  groups?: Record<string, string[]>;
  /**
   * Segments marked with these labels are left out of a type's training and evaluation (Fine-Grained RLHF's
   * annotators marked factual errors only where no relevance error was, so such a sentence says nothing about
   * factuality): type name → labels.
   */
  ignore?: Record<string, string[]>;
  /** Types with fewer positive training segments are left out (default 10). */
  minPositives?: number;
  /** L2 strengths to choose from by cross-validation (default [0.3, 1, 3, 10]). */
  l2?: number[];
  /** Folds by item for the choices (default 3). */
  folds?: number;
  /** Preference pairs among outputs of the same items: the combination is chosen on the training items' pairs, and reported on the held-out ones. */
  pairs?: readonly SegmentPair[];
  /** Force the combination mode, aggregate or weights (default: chosen on the pairs; sign, sum and equal weights without pairs). */
  combine?: CombineMode;
  aggregate?: Aggregate;
  /** "equal", "fit" (Bradley-Terry on the per-type totals), or a weight per type name. */
  weights?: "equal" | "fit" | Record<string, number>;
  onProgress?: (p: SegmentTrainProgress) => void;
}

export interface CombinationChoice {
  combine: CombineMode;
  aggregate: Aggregate;
  weights: "equal" | "fit" | "given";
  /** Cross-fitted accuracy on the training items' pairs. */
  accuracy: number;
  logLoss: number;
}

export interface SegmentTrainResult {
  model: SegmentRewardModel;
  train: SpanExample[];
  test: SpanExample[];
  /** Per type: detection on the held-out outputs (and cross-fitted on the training ones). */
  detection: Record<string, { train: DetectionMetrics; test?: DetectionMetrics }>;
  /** Labels left out for too few positives. */
  dropped: Array<{ name: string; positives: number }>;
  /** Every combination tried on the training pairs, best first (empty without pairs). */
  combinations: CombinationChoice[];
  /** Pair metrics of the final model on the training (cross-fitted) and held-out items' pairs. */
  pairs?: { train?: PairMetrics; test?: PairMetrics };
  durationMs: number;
}

interface Featurized {
  ex: SpanExample;
  segments: TextSegment[];
  vectors: SparseVector[];
}

/** Fit one logistic head on rows of X (compact columns) with binary labels. */
function fitHead(X: CsrMatrix, y: Float64Array, l2: number): { coef: Float64Array } {
  const fit = fitLogistic({ X, y, l2 }, { tol: 1e-6 });
  return { coef: fit.coef };
}

function compactScore(X: CsrMatrix, coef: Float64Array, rows: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows.length);
  for (let t = 0; t < rows.length; t++) {
    const i = rows[t]!;
    let s = 0;
    for (let k = X.indptr[i]!, e = X.indptr[i + 1]!; k < e; k++) s += X.data[k]! * coef[X.indices[k]!]!;
    out[t] = sigmoid(s);
  }
  return out;
}

/** The threshold maximising F1 of p ≥ threshold against labels (0.5 when there are no positives). */
export function bestThreshold(p: ArrayLike<number>, y: ArrayLike<boolean>): number {
  const order = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]!);
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i]) positives++;
  if (positives === 0) return 0.5;
  let tp = 0;
  let best = 0;
  let at = 0.5;
  for (let k = 0; k < order.length; k++) {
    if (y[order[k]!]) tp++;
    // Cut between distinct scores only.
    if (k + 1 < order.length && p[order[k + 1]!] === p[order[k]!]) continue;
    const f1 = (2 * tp) / (k + 1 + positives);
    if (f1 > best) {
      best = f1;
      const next = k + 1 < order.length ? p[order[k + 1]!]! : 0;
      at = (p[order[k]!]! + next) / 2;
    }
  }
  return Math.min(Math.max(at, 1e-6), 1 - 1e-6);
}

/** Train a segment reward model (see the module comment). */
export async function trainSegmentModel(examples: readonly SpanExample[], opts: SegmentTrainOptions = {}): Promise<SegmentTrainResult> {
  const t0 = performance.now();
  const progress = opts.onProgress ?? (() => {});
  const seed = opts.seed ?? 0;
  const testFraction = opts.testFraction ?? 0.2;
  const k = opts.folds ?? 3;
  const grid = opts.l2 ?? [0.3, 1, 3, 10];
  if (grid.length === 0 || grid.some((l) => !(l > 0))) throw new RlxfError("invalid_input", "l2: give one or more positive strengths");
  if (examples.length === 0) throw new RlxfError("no_data", "no span feedback to train on (import or collect `spans` feedback first)");
  const { train, test } = testFraction > 0 ? splitByItem(examples, testFraction, seed) : { train: [...examples], test: [] as SpanExample[] };
  if (train.length === 0) throw new RlxfError("no_data", `no training outputs (of ${examples.length}; test share ${testFraction})`);

  const spec: SegmentFeatureSpec = segmentFeatureSpec({
    level: opts.level ?? "sentence",
    hashed: { ...(opts.bits !== undefined ? { bits: opts.bits } : {}), ...(opts.ngrams ? { ngrams: opts.ngrams } : {}), seed },
  });
  const featurizer = new SegmentFeaturizer(spec);
  progress({ stage: "featurize", note: `${train.length + test.length} outputs` });
  const featurize = (ex: SpanExample): Featurized => ({ ex, ...featurizer.featurize({ prompt: ex.prompt, response: ex.response, ...(ex.passages ? { passages: ex.passages } : {}) }) });
  const trainF = train.map(featurize);
  const testF = test.map(featurize);

  // Types: the groups given, else one per label seen in training.
  const groups: Record<string, string[]> = opts.groups ?? Object.fromEntries([...new Set(train.flatMap((e) => e.spans.map((s) => s.label)))].sort().map((l) => [l, [l]]));
  if (Object.keys(groups).length === 0) throw new RlxfError("no_data", "the training outputs have no spans: nothing to detect");
  const ignore = opts.ignore ?? {};

  // Rows: every training segment, with its item's fold.
  const rows: SparseVector[] = [];
  const rowOf: Array<{ f: number; s: number }> = [];
  trainF.forEach((t, f) => t.vectors.forEach((v, s) => (rows.push(v), rowOf.push({ f, s }))));
  if (rows.length === 0) throw new RlxfError("no_data", "the training outputs have no segments");
  const X = csrFromRows(rows);
  const exFold = foldsByItem(train, k, seed + 1);
  const rowFold = Int32Array.from(rowOf, (r) => exFold[r.f]!);
  const itemFold = new Map(train.map((e, i) => [`${e.project}\u0000${e.itemId}`, exFold[i]!]));

  const labelsFor = (t: Featurized, labels: ReadonlySet<string>) => segmentLabels(t.ex.response, t.segments, t.ex.spans, labels);
  const heads: SegmentTypeHead[] = [];
  const foldCoefs: Float64Array[][] = [];
  const detection: SegmentTrainResult["detection"] = {};
  const dropped: SegmentTrainResult["dropped"] = [];
  const names = Object.keys(groups);
  for (let ti = 0; ti < names.length; ti++) {
    const name = names[ti]!;
    const labels = new Set(groups[name]!);
    const skipLabels = new Set(ignore[name] ?? []);
    const yAll: boolean[] = [];
    const use: number[] = [];
    trainF.forEach((t) => {
      const y = labelsFor(t, labels);
      const skipped = skipLabels.size ? labelsFor(t, skipLabels) : undefined;
      y.forEach((v, s) => {
        const r = yAll.length;
        yAll.push(v);
        if (!(skipped?.[s] && !v)) use.push(r);
      });
    });
    const positives = use.filter((r) => yAll[r]).length;
    if (positives < (opts.minPositives ?? 10)) {
      dropped.push({ name, positives });
      continue;
    }
    progress({ stage: "fit", step: ti + 1, total: names.length, note: name });
    // Cross-validated choice of λ, then the threshold on the chosen λ's cross-fitted probabilities.
    let best = { l2: grid[0]!, loss: Infinity, oof: new Float64Array(0), coefs: [] as Float64Array[] };
    for (const l2 of grid) {
      const oof = new Float64Array(use.length);
      const coefs: Float64Array[] = [];
      for (let f = 0; f < k; f++) {
        const inIdx = use.filter((r) => rowFold[r] !== f);
        const outPos: number[] = [];
        use.forEach((r, u) => rowFold[r] === f && outPos.push(u));
        if (inIdx.length === 0 || outPos.length === 0) {
          coefs.push(new Float64Array(X.nCols));
          continue;
        }
        const { coef } = fitHead(csrSelectRows(X, inIdx), Float64Array.from(inIdx, (r) => (yAll[r] ? 1 : 0)), l2);
        coefs.push(coef);
        const p = compactScore(X, coef, outPos.map((u) => use[u]!));
        outPos.forEach((u, t) => (oof[u] = p[t]!));
      }
      let loss = 0;
      use.forEach((r, u) => {
        const z = Math.log(Math.max(oof[u]!, 1e-12) / Math.max(1 - oof[u]!, 1e-12));
        loss += softplus(z) - (yAll[r] ? z : 0);
      });
      if (loss < best.loss) best = { l2, loss, oof, coefs };
    }
    const yUse = use.map((r) => yAll[r]!);
    const threshold = bestThreshold(best.oof, yUse);
    const { coef } = fitHead(csrSelectRows(X, use), Float64Array.from(yUse, (v) => (v ? 1 : 0)), best.l2);
    const head: LinearHead = headFromCompact(X.columns, coef);
    const trainMetrics = detectionMetrics(yUse, Array.from(best.oof, (p) => p >= threshold));
    const h: SegmentTypeHead = { name, labels: [...labels], head, threshold, weight: 1, l2: best.l2, metrics: { train: trainMetrics } };
    heads.push(h);
    foldCoefs.push(best.coefs);
    detection[name] = { train: trainMetrics };
  }
  if (heads.length === 0) {
    throw new RlxfError("no_data", `no error type has ${opts.minPositives ?? 10} positive training segments (${dropped.map((d) => `${d.name}: ${d.positives}`).join(", ")})`);
  }
  const model = new SegmentRewardModel(spec, heads, { combine: opts.combine ?? "sign", aggregate: opts.aggregate ?? "sum" });

  // Held-out detection.
  progress({ stage: "evaluate" });
  if (testF.length) {
    heads.forEach((h) => {
      const labels = new Set(h.labels);
      const skipLabels = new Set(ignore[h.name] ?? []);
      const ys: boolean[] = [];
      const flags: boolean[] = [];
      for (const t of testF) {
        const y = labelsFor(t, labels);
        const skipped = skipLabels.size ? labelsFor(t, skipLabels) : undefined;
        const { probs } = model.probabilities({ prompt: t.ex.prompt, response: t.ex.response, ...(t.ex.passages ? { passages: t.ex.passages } : {}) }, t.segments);
        const pk = probs[heads.indexOf(h)]!;
        y.forEach((v, s) => {
          if (skipped?.[s] && !v) return;
          ys.push(v);
          flags.push(pk[s]! >= h.threshold);
        });
      }
      const m = detectionMetrics(ys, flags);
      h.metrics = { ...h.metrics, test: m };
      detection[h.name]!.test = m;
    });
  }

  // The combination, chosen on cross-fitted scores of the training items' pairs.
  const given = opts.weights && typeof opts.weights === "object" ? opts.weights : undefined;
  if (given) {
    for (const h of heads) {
      const w = given[h.name];
      if (w !== undefined) {
        if (!(w >= 0) || !Number.isFinite(w)) throw new RlxfError("invalid_input", `weight of "${h.name}" must be a non-negative number, got ${w}`);
        h.weight = w;
      }
    }
  }
  const testItems = new Set(test.map((e) => `${e.project}\u0000${e.itemId}`));
  const project = opts.project ?? train[0]!.project;
  const key = (itemId: string) => `${project}\u0000${itemId}`;
  const allPairs = opts.pairs ?? [];
  const trainPairs = allPairs.filter((p) => !testItems.has(key(p.itemId)));
  const testPairs = allPairs.filter((p) => testItems.has(key(p.itemId)));
  let combinations: CombinationChoice[] = [];
  const result: SegmentTrainResult = { model, train, test, detection, dropped, combinations, durationMs: 0 };
  if (trainPairs.length > 0) {
    progress({ stage: "combine", note: `${trainPairs.length} training pairs` });
    // Cross-fitted probabilities of every segment of every output in the training pairs.
    const foldModels = Array.from({ length: k }, (_, f) =>
      new SegmentRewardModel(
        spec,
        heads.map((h, ti) => ({ ...h, head: headFromCompact(X.columns, foldCoefs[ti]![f]!) })),
      ),
    );
    const cache = new Map<string, { segments: TextSegment[]; probs: Float64Array[] }>();
    const probsOf = (p: SegmentPair, text: string) => {
      const ck = `${p.itemId}\u0000${text}`;
      let hit = cache.get(ck);
      if (!hit) {
        const f = itemFold.get(key(p.itemId));
        const m = f === undefined ? model : foldModels[f]!;
        hit = m.probabilities({ prompt: p.prompt, response: text, ...(p.passages ? { passages: p.passages } : {}) });
        cache.set(ck, hit);
      }
      return hit;
    };
    const y = Float64Array.from(trainPairs, (p) => p.pChosen);
    // Per-type totals of unit rewards, per pair side, for each mode and aggregate.
    const totals = (combine: CombineMode, aggregate: Aggregate, text: (p: SegmentPair) => string) =>
      trainPairs.map((p) => {
        const { segments, probs } = probsOf(p, text(p));
        return heads.map((_, ti) => {
          const unit = heads.map((__, tj) => (tj === ti ? 1 : 0));
          const rs = model.rewardsFrom(segments, probs, { combine, weights: unit });
          return model.aggregateOf(rs, aggregate);
        });
      });
    const tried: Array<CombinationChoice & { w: number[]; bias: number; temperature: number }> = [];
    for (const combine of opts.combine ? [opts.combine] : COMBINE_MODES) {
      for (const aggregate of opts.aggregate ? [opts.aggregate] : AGGREGATES) {
        const a = totals(combine, aggregate, (p) => p.chosen);
        const b = totals(combine, aggregate, (p) => p.rejected);
        const d = a.map((row, i) => row.map((x, t) => x - b[i]![t]!));
        // With sums, a constant reward per segment (positive: more clean content is better; negative: a length penalty).
        const nd = trainPairs.map((p) => probsOf(p, p.chosen).segments.length - probsOf(p, p.rejected).segments.length);
        const options: Array<"equal" | "fit" | "given"> = given ? ["given"] : opts.weights === "equal" ? ["equal"] : opts.weights === "fit" ? ["fit"] : ["equal", "fit"];
        for (const wmode of options) {
          let w = heads.map((h) => (wmode === "given" ? h.weight : 1));
          let temperature = 1;
          let bias = 0;
          if (wmode === "fit") {
            const fitted = fitTypeWeights(d, y, aggregate === "sum" ? nd : undefined);
            if (!fitted) continue;
            w = fitted.weights;
            bias = fitted.bias;
          }
          let z = d.map((row, i) => row.reduce((s, x, t) => s + w[t]! * x, bias * nd[i]!));
          if (wmode !== "fit") {
            temperature = fitTemperature(z, y);
            z = z.map((x) => x / temperature);
          }
          const m = pairMetrics(z, y);
          tried.push({ combine, aggregate, weights: wmode, accuracy: m.accuracy, logLoss: m.logLoss, w, bias, temperature });
        }
      }
    }
    tried.sort((x, z) => z.accuracy - x.accuracy || x.logLoss - z.logLoss);
    combinations = tried.map(({ w: _w, bias: _b, temperature: _t, ...c }) => c);
    result.combinations = combinations;
    const best = tried[0];
    if (best) {
      model.combine = best.combine;
      model.aggregate = best.aggregate;
      model.temperature = best.temperature;
      model.bias = best.bias;
      heads.forEach((h, t) => (h.weight = best.w[t]!));
      const z = trainPairs.map((p) => (model.aggregateOf(model.rewardsFrom(probsOf(p, p.chosen).segments, probsOf(p, p.chosen).probs)) - model.aggregateOf(model.rewardsFrom(probsOf(p, p.rejected).segments, probsOf(p, p.rejected).probs))) / model.temperature);
      result.pairs = { train: pairMetrics(z, y) };
    }
  } else if (opts.combine === undefined && opts.aggregate === undefined) {
    model.combine = "sign";
    model.aggregate = "sum";
  }
  if (testPairs.length > 0) {
    const z = testPairs.map((p) => {
      const base = { prompt: p.prompt, ...(p.passages ? { passages: p.passages } : {}) };
      return model.score({ ...base, response: p.chosen }).reward - model.score({ ...base, response: p.rejected }).reward;
    });
    result.pairs = { ...result.pairs, test: pairMetrics(z, Float64Array.from(testPairs, (p) => p.pChosen)) };
  }
  result.durationMs = Math.round(performance.now() - t0);
  return result;
}

/**
 * Non-negative type weights from a Bradley-Terry regression of the labels on per-type reward differences
 * (negative weights are set to 0 and the rest refitted); undefined when no weight stays positive.
 */
export function fitTypeWeights(d: readonly number[][], y: Float64Array, counts?: readonly number[], l2 = 0.1): { weights: number[]; bias: number } | undefined {
  const T = d[0]?.length ?? 0;
  let active = Array.from({ length: T }, (_, t) => t);
  for (let round = 0; round <= T && active.length > 0; round++) {
    // Column j < active.length: type active[j]; the last column (with counts): the per-segment constant, of either sign.
    const rows = d.map((row, i) => sparseRow([...active.map((t) => row[t]!), ...(counts ? [counts[i]!] : [])]));
    const X = csrFromRows(rows);
    const coef = fitLogistic({ X, y, l2 }, { tol: 1e-8 }).coef;
    const w = new Float64Array(active.length + (counts ? 1 : 0));
    for (let c = 0; c < X.nCols; c++) w[X.columns[c]!] = coef[c]!;
    const neg = active.filter((_, j) => w[j]! <= 0);
    if (neg.length === 0) {
      const out = new Array<number>(T).fill(0);
      active.forEach((t, j) => (out[t] = w[j]!));
      return { weights: out, bias: counts ? w[active.length]! : 0 };
    }
    active = active.filter((_, j) => w[j]! > 0);
  }
  return undefined;
}

function sparseRow(xs: number[]): SparseVector {
  const idx: number[] = [];
  const val: number[] = [];
  xs.forEach((x, j) => {
    if (x !== 0) {
      idx.push(j);
      val.push(x);
    }
  });
  return { index: Int32Array.from(idx), value: Float64Array.from(val) };
}
