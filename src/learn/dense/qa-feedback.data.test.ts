/**
 * Dense rewards on the real Fine-Grained RLHF QA-feedback file (../shared/data, or RLXF_DATA): segment detectors
 * trained on half the questions beat flagging every segment on the other half, the dense reward predicts the
 * held-out human preferences better than chance, and critiques made of the annotators' explanations align with
 * their spans. Conservative thresholds; `npm run bench:dense` has the full measurements.
 */
import { describe, expect, it } from "vitest";
import { sharedData } from "../../../test/support/data.js";
import type { FeedbackOf } from "../../feedback/schema.js";
import { explanationPhrase, memorySource, readImportFile } from "../../io/index.js";
import { alignCritique, labelCues, spanScores } from "./align.js";
import { collectSegmentData } from "./data.js";
import { trainSegmentModel } from "./train.js";

const file = sharedData("dense rewards on qa-feedback", "fine-grained-rlhf", "qa-feedback-dev.json.gz");
const LABELS = ["Irrelevant", "Redundant", "Incoherent", "Unverifiable", "Wrong-Grounding"];

describe.skipIf(!file)("dense rewards on Fine-Grained RLHF QA feedback", () => {
  /** The file, read once for both tests. */
  let read: ReturnType<typeof readImportFile> | undefined;
  const qaFeedback = () => (read ??= readImportFile(file!));

  it("trains per-type segment detectors on half the questions that beat always-flag on the other half", async () => {
    const batch = await qaFeedback();
    const source = memorySource(batch);
    const { examples, pairs } = await collectSegmentData({ spans: source, pairs: source });
    expect(examples).toHaveLength(500);
    expect(pairs).toHaveLength(3000);
    const r = await trainSegmentModel(examples, { pairs, testFraction: 0.5, seed: 1, l2: [1, 3], folds: 3 });
    // Held-out questions are never seen in training.
    const testItems = new Set(r.test.map((e) => e.itemId));
    expect(r.train.some((e) => testItems.has(e.itemId))).toBe(false);
    expect(r.test.length).toBeGreaterThan(150);
    // Incoherent has too few spans (16 in the file) to learn from.
    expect(r.dropped.map((d) => d.name)).toEqual(["Incoherent"]);
    for (const t of ["Irrelevant", "Redundant", "Unverifiable", "Wrong-Grounding"]) {
      const d = r.detection[t]!.test!;
      expect(d.positives, t).toBeGreaterThan(30);
      expect(d.f1, t).toBeGreaterThan(d.alwaysFlagF1);
    }
    // Dense rewards (trained on answer 1's spans, scoring all four answers) predict the held-out preferences.
    expect(r.pairs!.test!.accuracy).toBeGreaterThan(0.52);
  });

  it("aligns critiques made of the annotators' explanations with their spans", async () => {
    const batch = await qaFeedback();
    const gens = new Map(batch.generations.map((g) => [g.id, g]));
    const items = new Map(batch.items.map((i) => [i.id, i]));
    const critiques = new Map(batch.feedback.filter((f) => f.kind === "critique").map((f) => [f.targets[0]!, f as FeedbackOf<"critique">]));
    const labels = labelCues(LABELS, { repetition: ["Redundant"], contradiction: ["Wrong-Grounding"] });
    const outputs = [];
    let missingPhrases = 0;
    let missingSkipped = 0;
    for (const f of batch.feedback) {
      if (f.kind !== "spans") continue;
      const g = gens.get(f.targets[0]!)!;
      const passages = items.get(g.itemId)!.metadata!.passages as string[][];
      const explained = (f as FeedbackOf<"spans">).value.spans.filter((s) => explanationPhrase(s.label, s.comment, passages));
      const missing = critiques.get(g.id)?.value.weaknesses ?? [];
      const weaknesses = [...explained.map((s) => explanationPhrase(s.label, s.comment, passages)!), ...missing];
      if (!weaknesses.length) continue;
      const { spans, phrases } = await alignCritique(g.output, { text: "", weaknesses }, { labels });
      missingPhrases += missing.length;
      missingSkipped += phrases.filter((p) => p.skipped === "missing content").length;
      outputs.push({ predicted: spans, reference: explained });
    }
    const s = spanScores(outputs);
    expect(s.reference).toBeGreaterThan(250);
    expect(missingPhrases).toBeGreaterThan(500);
    expect(missingSkipped).toBe(missingPhrases);
    expect(s.precision).toBeGreaterThan(0.35);
    expect(s.f1).toBeGreaterThan(0.3);
  });
});
