// `npm run bench:dense`: dense, fine-grained rewards on the Fine-Grained RLHF QA-feedback file
// (../shared/data/fine-grained-rlhf, or $RLXF_DATA/fine-grained-rlhf): 500 questions, 4 answers each, spans on answer 1,
// 6 human preferences per question.
//
// For each seed the questions are split in two (by item, seeded; held-out questions are never seen in training):
// 1. segment detection on the held-out answers 1, per error type (one model per span label, sentences), and with
//    Fine-Grained RLHF's grouping (relevance = irrelevant + redundant + incoherent on sub-sentences; factuality =
//    wrong-grounding + unverifiable on sentences, leaving out sentences with a relevance error), beside the
//    always-flag baseline and the paper's reward models;
// 2. accuracy on the held-out human preferences (ties left out) of the dense reward (its combination chosen on the
//    training questions' preferences), of the paper's rule (±1 per type, equal weights, summed), of a holistic
//    Bradley-Terry model on hashed n-grams trained on the same training preferences, and of always-longer; with
//    95% bootstrap intervals resampling questions, and the paired difference dense − holistic;
// then, once: critiques made of the annotators' explanations (and the missing-information critiques) aligned with
// the answers, against the annotators' spans (span precision, recall, F1); and the time to score all 2,000 answers
// with the dense model against the holistic one, measured in the same run.
// Knobs: BENCH_SEEDS (default 1,2,3,4,5), BENCH_RESAMPLES (default 2000).
import { needData } from "./data.mjs";

const SEEDS = (process.env.BENCH_SEEDS ?? "1,2,3,4,5").split(",").map(Number);
const RESAMPLES = Number(process.env.BENCH_RESAMPLES ?? 2000);
const file = needData("fine-grained-rlhf", "qa-feedback-dev.json.gz");
// rlxf loads after the data check: without the data, the run stops at once, naming what is missing.
const { bootstrapMean } = await import("../dist/eval/index.js");
const { explanationPhrase, memorySource, readImportFile } = await import("../dist/io/index.js");
const { RewardModel, alignCritique, collectExamples, itemPassages, labelCues, segmentRewardModel, spanScores, trainRewardModel, trainSegmentModel } = await import("../dist/learn/index.js");
const { pairMargins } = await import("../dist/learn/reward/train.js");
const LABELS = ["Irrelevant", "Redundant", "Incoherent", "Unverifiable", "Wrong-Grounding"];
const RELEVANCE = ["Irrelevant", "Redundant", "Incoherent"];
const FACTUALITY = ["Wrong-Grounding", "Unverifiable"];
// Wu et al. 2023 (Fine-Grained RLHF), their reward models on the qa-feedback dev set: Longformer fine-tuned on the
// 2,853 training questions; relevance at sub-sentences, factuality at sentences (F1 of the error class, ~68 and ~67).
const PAPER = { relevance: 0.68, factuality: 0.67 };

const f3 = (x) => (x === undefined || Number.isNaN(x) ? "  -  " : x.toFixed(3));
const ci = (b) => `${(100 * b.mean).toFixed(1)} [${(100 * b.lo).toFixed(1)}, ${(100 * b.hi).toFixed(1)}]`;
const pad = (s, n) => String(s).padEnd(n);

const batch = await readImportFile(file);
const source = memorySource(batch);
const items = new Map(batch.items.map((i) => [i.id, i]));
// Passages read once per question (scoring indexes them once per passages object).
const passagesOf = new Map(batch.items.map((i) => [i.id, itemPassages(i.metadata)]));
const gens = new Map(batch.generations.map((g) => [g.id, g]));

// Answers 1 with spans, and every preference (ties kept, as soft labels) as both learners see them.
const examples = [];
for await (const r of source.resolvedFeedback()) {
  if (r.feedback.kind !== "spans") continue;
  const g = r.targets[0];
  const passages = passagesOf.get(r.item.id);
  examples.push({ id: r.feedback.id, project: r.item.project, itemId: r.item.id, generationId: g.id, prompt: r.item.prompt, response: g.output, ...(passages ? { passages } : {}), spans: r.feedback.value.spans, source: "human:qa-feedback" });
}
const prefs = (await collectExamples(source, { pairsFrom: ["pairwise"], includeTies: true })).pairs;
const segPair = (p) => {
  const passages = passagesOf.get(p.itemId);
  return { itemId: p.itemId, prompt: p.prompt, ...(passages ? { passages } : {}), chosen: p.chosen.text, rejected: p.rejected.text, pChosen: p.pChosen };
};
console.log(`qa-feedback: ${batch.items.length} questions, ${batch.generations.length} answers, ${examples.length} answers with spans, ${prefs.length} preferences (${prefs.filter((p) => p.pChosen === 0.5).length} ties)`);
console.log(`seeds ${SEEDS.join(", ")}; each splits the questions in two (test share 0.5, by item)\n`);

const hit = (z) => (z > 0 ? 1 : z < 0 ? 0 : 0.5);
const perSeed = [];
for (const seed of SEEDS) {
  const t0 = performance.now();
  // 1. One detector per span label (sentences), combination chosen on the training preferences.
  const r = await trainSegmentModel(examples, { pairs: prefs.map(segPair), testFraction: 0.5, seed });
  const testItems = new Set(r.test.map((e) => e.itemId));
  // Fine-Grained RLHF's grouping, each at its own level (detection only).
  const rel = await trainSegmentModel(examples, { testFraction: 0.5, seed, level: "subsentence", groups: { relevance: RELEVANCE } });
  const fact = await trainSegmentModel(examples, { testFraction: 0.5, seed, groups: { factuality: FACTUALITY }, ignore: { factuality: RELEVANCE } });
  // 2. Preferences on held-out questions: dense (chosen), the paper's rule, holistic Bradley-Terry, always-longer.
  const trainPrefs = prefs.filter((p) => !testItems.has(p.itemId));
  const testPrefs = prefs.filter((p) => testItems.has(p.itemId) && p.pChosen !== 0.5);
  const bt = await trainRewardModel(trainPrefs, { testFraction: 0, seed });
  const btMargins = await pairMargins(bt.model, testPrefs);
  const m = r.model;
  const ones = m.types.map(() => 1);
  const cache = new Map();
  const scoreOf = (p, text) => {
    const k = `${p.itemId}\u0000${text}`;
    let v = cache.get(k);
    if (!v) {
      const sp = segPair(p);
      const { segments, probs } = m.probabilities({ prompt: sp.prompt, response: text, ...(sp.passages ? { passages: sp.passages } : {}) });
      v = { dense: m.aggregateOf(m.rewardsFrom(segments, probs)), paper: m.aggregateOf(m.rewardsFrom(segments, probs, { combine: "sign", weights: ones }), "sum") };
      cache.set(k, v);
    }
    return v;
  };
  const rows = testPrefs.map((p, i) => {
    const a = scoreOf(p, p.chosen.text);
    const b = scoreOf(p, p.rejected.text);
    return { item: p.itemId, dense: hit(a.dense - b.dense), paper: hit(a.paper - b.paper), holistic: hit(btMargins[i]), longer: hit(p.chosen.text.length - p.rejected.text.length) };
  });
  const boot = (f) => bootstrapMean(rows.map(f), { clusters: rows.map((x) => x.item), resamples: RESAMPLES, seed });
  const res = {
    seed,
    trainQuestions: r.train.length,
    testQuestions: r.test.length,
    testPairs: rows.length,
    detection: r.detection,
    dropped: r.dropped,
    grouped: { relevance: rel.detection.relevance?.test, factuality: fact.detection.factuality?.test },
    combination: { combine: m.combine, aggregate: m.aggregate, weights: Object.fromEntries(m.types.map((t) => [t.name, Number(t.weight.toFixed(3))])), bias: m.bias, trainAccuracy: r.pairs?.train?.accuracy },
    dense: boot((x) => x.dense),
    paper: boot((x) => x.paper),
    holistic: boot((x) => x.holistic),
    longer: boot((x) => x.longer),
    diff: boot((x) => x.dense - x.holistic),
    seconds: (performance.now() - t0) / 1000,
  };
  perSeed.push(res);

  console.log(`== seed ${seed}: ${res.trainQuestions} training questions, ${res.testQuestions} held out, ${res.testPairs} held-out preferences without ties (${res.seconds.toFixed(1)} s)`);
  console.log(`  ${pad("error type", 22)}${pad("test +/segments", 17)}${pad("P", 7)}${pad("R", 7)}${pad("F1", 7)}${pad("acc", 7)}${pad("macro-F1", 10)}always-flag F1`);
  const line = (name, d, extra = "") => console.log(`  ${pad(name, 22)}${pad(`${d.positives}/${d.segments}`, 17)}${pad(f3(d.precision), 7)}${pad(f3(d.recall), 7)}${pad(f3(d.f1), 7)}${pad(f3(d.accuracy), 7)}${pad(f3(d.macroF1), 10)}${f3(d.alwaysFlagF1)}${extra}`);
  for (const [name, d] of Object.entries(res.detection)) line(name, d.test);
  for (const d of res.dropped) console.log(`  ${pad(d.name, 22)}left out: ${d.positives} positive training segments`);
  for (const [name, d] of Object.entries(res.grouped)) line(`${name} (paper's)`, d, `   paper F1 ~${PAPER[name].toFixed(2)}`);
  console.log(`  combination chosen on the training preferences: ${m.combine}, ${m.aggregate}, weights ${JSON.stringify(res.combination.weights)}${m.bias ? `, ${m.bias.toFixed(3)} per segment` : ""} (cross-fitted training accuracy ${f3(res.combination.trainAccuracy)})`);
  console.log(`  held-out preference accuracy, % [95% bootstrap over questions]:`);
  console.log(`    dense reward          ${ci(res.dense)}`);
  console.log(`    paper's rule (±1, Σ)  ${ci(res.paper)}`);
  console.log(`    holistic BT           ${ci(res.holistic)}`);
  console.log(`    always longer         ${ci(res.longer)}`);
  console.log(`    dense − holistic      ${ci(res.diff)} points\n`);
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => (xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)) : 0);
const ms = (xs) => `${(100 * mean(xs)).toFixed(1)} ± ${(100 * sd(xs)).toFixed(1)}`;
console.log(`== over ${SEEDS.length} seed(s) (mean ± sd of the held-out figures)`);
for (const name of Object.keys(perSeed[0].detection)) {
  const f = perSeed.map((s) => s.detection[name]?.test?.f1).filter((x) => x !== undefined);
  const b = perSeed.map((s) => s.detection[name]?.test?.alwaysFlagF1).filter((x) => x !== undefined);
  console.log(`  ${pad(`${name} F1`, 26)}${ms(f)}   always-flag ${ms(b)}`);
}
for (const name of ["relevance", "factuality"]) {
  console.log(`  ${pad(`${name} (paper's grouping)`, 31)}F1 ${ms(perSeed.map((s) => s.grouped[name].f1))}   macro-F1 ${ms(perSeed.map((s) => s.grouped[name].macroF1))}   accuracy ${ms(perSeed.map((s) => s.grouped[name].accuracy))}   always-flag F1 ${ms(perSeed.map((s) => s.grouped[name].alwaysFlagF1))}   paper F1 ~${(100 * PAPER[name]).toFixed(0)}`);
}
for (const k of ["dense", "paper", "holistic", "longer", "diff"]) console.log(`  ${pad(k === "diff" ? "dense − holistic (points)" : `${k} accuracy`, 26)}${ms(perSeed.map((s) => s[k].mean))}`);
const above = perSeed.filter((s) => s.diff.lo > 0).length;
console.log(`  seeds whose interval of dense − holistic lies above 0: ${above} of ${perSeed.length}\n`);

// Critiques → spans, measured against the annotators' spans.
const labels = labelCues(LABELS, { repetition: ["Redundant"], contradiction: ["Wrong-Grounding"] });
const critiques = new Map(batch.feedback.filter((f) => f.kind === "critique").map((f) => [f.targets[0], f]));
const outs = [];
const outsAll = [];
const onlyMissing = [];
const skipped = {};
let explainedTotal = 0;
let spansTotal = 0;
const tAlign = performance.now();
for (const f of batch.feedback) {
  if (f.kind !== "spans") continue;
  const g = gens.get(f.targets[0]);
  const passages = items.get(g.itemId).metadata.passages;
  spansTotal += f.value.spans.length;
  const explained = f.value.spans.filter((s) => explanationPhrase(s.label, s.comment, passages));
  explainedTotal += explained.length;
  const missing = critiques.get(g.id)?.value.weaknesses ?? [];
  const weaknesses = [...explained.map((s) => explanationPhrase(s.label, s.comment, passages)), ...missing];
  if (!weaknesses.length) {
    outsAll.push({ predicted: [], reference: f.value.spans });
    continue;
  }
  const { spans, phrases } = await alignCritique(g.output, { text: "", weaknesses }, { labels });
  for (const p of phrases) if (p.skipped) skipped[p.skipped] = (skipped[p.skipped] ?? 0) + 1;
  outs.push({ predicted: spans, reference: explained });
  outsAll.push({ predicted: spans, reference: f.value.spans });
  if (missing.length) onlyMissing.push((await alignCritique(g.output, { text: "", weaknesses: missing }, { labels })).spans.length);
}
const alignSeconds = (performance.now() - tAlign) / 1000;
const show = (name, s) => console.log(`  ${pad(name, 30)}P ${f3(s.precision)}  R ${f3(s.recall)}  F1 ${f3(s.f1)}  (${s.matched} matched of ${s.predicted} predicted, ${s.reference} reference)`);
console.log(`== critiques → spans: the annotators' explanations (${explainedTotal} of ${spansTotal} spans have one) and missing-information critiques, aligned in ${alignSeconds.toFixed(1)} s`);
show("all explained spans", spanScores(outs));
for (const l of LABELS) {
  const s = spanScores(outs.map((o) => ({ predicted: o.predicted.filter((x) => x.label === l), reference: o.reference.filter((x) => x.label === l) })));
  if (s.reference || s.predicted) show(l, s);
}
show("against every annotated span", spanScores(outsAll));
console.log(`  phrases without a span: ${Object.entries(skipped).map(([k, v]) => `${k} ${v}`).join(", ")}`);
console.log(`  missing-information critiques alone: ${onlyMissing.length} critiques gave ${onlyMissing.reduce((a, b) => a + b, 0)} span(s) (they name what the answer leaves out, which has no span in it)\n`);

// Time: scoring every answer with the dense model against the holistic model, same run.
const last = await trainSegmentModel(examples, { testFraction: 0.5, seed: SEEDS[0] });
const btLast = await trainRewardModel(prefs, { testFraction: 0.5, seed: SEEDS[0] });
const answers = batch.generations.map((g) => {
  const passages = passagesOf.get(g.itemId);
  return { prompt: items.get(g.itemId).prompt, response: g.output, ...(passages ? { passages } : {}) };
});
// Both models fresh from their artifacts, so that neither scores from features cached in training.
const btFresh = RewardModel.fromArtifact(btLast.model.toArtifact());
const denseFresh = RewardModel.fromArtifact(segmentRewardModel(last).toArtifact());
let t = performance.now();
await btFresh.score(answers);
const btSeconds = (performance.now() - t) / 1000;
t = performance.now();
let segments = 0;
for (const x of await denseFresh.score(answers)) segments += x.segments.length;
const denseSeconds = (performance.now() - t) / 1000;
console.log(`== time: scoring ${answers.length} answers (${segments} segments): dense ${denseSeconds.toFixed(2)} s, holistic Bradley-Terry ${btSeconds.toFixed(2)} s (ratio ${(denseSeconds / btSeconds).toFixed(2)}×)`);
