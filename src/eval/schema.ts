/**
 * Shapes of what the eval room reports from stored feedback (agreement of annotations, distributions), as zod
 * schemas: the only declaration of these shapes; the API document and the web app take them from here (this
 * file imports nothing that needs Node).
 */
import { z } from "zod";

export const AlphaLevelSchema = z.enum(["nominal", "interval", "ratio"]);

export const PairAgreement = z.object({
  annotators: z.tuple([z.string(), z.string()]),
  n: z.number().int().describe("units both annotated"),
  agreement: z.number().nullable().describe("share of those with the same answer (spans: F1 of labelled spans; corrections: word similarity)"),
  kappa: z.number().nullable(),
});
export type PairAgreement = z.infer<typeof PairAgreement>;

export const JudgeAgreementWithHumans = z.object({
  source: z.object({ type: z.string(), id: z.string() }),
  n: z.number().int().describe("units judged by both"),
  agreement: z.number().nullable(),
  kappa: z.number().nullable(),
  alpha: z.number().nullable(),
});
export type JudgeAgreementWithHumans = z.infer<typeof JudgeAgreementWithHumans>;

export const AnnotationAgreement = z.object({
  level: AlphaLevelSchema.nullable(),
  units: z.number().int().describe("units (a task, or a task's generation) with at least one answer"),
  alpha: z.number().nullable().describe("Krippendorff's alpha over every annotator"),
  pairs: z.array(PairAgreement).describe("each pair of annotators with overlap: share agreeing and Cohen's kappa; span questions: F1 of labelled spans; corrections: word similarity of the edits"),
  judges: z.array(JudgeAgreementWithHumans).describe("AI judgements on the same targets against the human consensus"),
  measure: z.string().describe("what agreement means for this kind of answer"),
});
export type AnnotationAgreement = z.infer<typeof AnnotationAgreement>;

const Summary = z.object({ n: z.number().int(), mean: z.number().nullable(), median: z.number().nullable() });

export const Distributions = z.object({
  ratings: z.array(
    z.object({
      name: z.string(),
      scale: z.object({ min: z.number(), max: z.number() }),
      n: z.number().int(),
      mean: z.number(),
      histogram: z.array(z.object({ value: z.number(), count: z.number().int() })),
    }),
  ),
  lengths: z.object({
    unit: z.string(),
    pairs: z.number().int(),
    ties: z.number().int(),
    preferred: Summary,
    rejected: Summary,
    longerPreferred: z.number().nullable().describe("among pairs of different lengths, how often the longer output was preferred"),
    bins: z.array(z.object({ from: z.number(), to: z.number(), preferred: z.number().int(), rejected: z.number().int() })),
  }),
});
export type Distributions = z.infer<typeof Distributions>;

/** A row of a Bradley-Terry leaderboard, with percentile bootstrap intervals. */
export const BradleyTerryRowSchema = z.object({
  model: z.string(),
  rating: z.number().describe("Elo-like: 1000 + 400/ln(10) times the centred log-strength"),
  lower: z.number(),
  upper: z.number(),
  n_comparisons: z.number().int(),
  win_share: z.number().describe("mean share of its comparisons won (ties count one half)"),
});
/** A row of an AlpacaEval leaderboard (AlpacaEval's column names). */
export const AlpacaEvalRowSchema = z.object({
  model: z.string(),
  win_rate: z.number(),
  standard_error: z.number(),
  n_wins: z.number(),
  n_wins_base: z.number(),
  n_draws: z.number(),
  n_total: z.number(),
  discrete_win_rate: z.number(),
  avg_length: z.number(),
  length_controlled_winrate: z.number().nullable(),
  lc_standard_error: z.number().nullable(),
});
export type BradleyTerryRow = z.infer<typeof BradleyTerryRowSchema>;
export type AlpacaEvalLeaderboardRow = z.infer<typeof AlpacaEvalRowSchema>;
