/**
 * Shapes of what a loop run reports: its metrics (accuracy per turn, friction, self-correction, cost) and its
 * tasks with their attempts. The only declaration of these shapes: the loops room computes them, the API
 * document and the web app take them from here (this file imports nothing that needs Node).
 */
import { z } from "zod";

const rate = z.number().nullable();

export const LoopSummary = z.object({
  loop: z.string(),
  tasks: z.number().int(),
  solved: z.number().int(),
  accuracy: z.number().describe("solved / tasks"),
  meanAttempts: z.number().describe("mean attempts (best-of-n: candidates) per task"),
  accuracyPerTurn: z.array(z.number()),
  friction: z
    .object({ pointedAt: z.number().int(), fixed: z.number().int(), fixRate: rate, friction: rate })
    .nullable()
    .describe("of the errors the feedback pointed at, the share the next attempt did not fix"),
  selfCorrection: z
    .object({
      correctBefore: z.number().int(),
      stayedCorrect: z.number().int(),
      confidence: rate.describe("P(correct at t+1 | correct at t)"),
      wrongBefore: z.number().int(),
      becameCorrect: z.number().int(),
      critique: rate.describe("P(correct at t+1 | wrong at t)"),
    })
    .nullable(),
  tokens: z.number(),
  costUsd: z.number(),
  tokensPerSolved: rate,
  costPerSolvedUsd: rate,
  stops: z.record(z.string(), z.number()),
  rejectedRepeats: z.number().int().describe("answers the retry loop turned back because the policy had given them before (never shown to the feedback)"),
  resubmitted: z.number().int().describe("judged attempts whose answer equals an earlier judged answer of the same task"),
  reflections: z.number().int(),
  selection: z
    .object({ selectedCorrect: z.number().int(), firstCorrect: z.number().int(), anyCorrect: z.number().int() })
    .optional()
    .describe("best-of-n: how often the picked candidate is correct, against the first candidate alone"),
});
export type LoopSummary = z.infer<typeof LoopSummary>;

export const ReportedAttempt = z.object({
  turn: z.number().int(),
  role: z.string(),
  generationId: z.string().optional(),
  output: z.string().optional(),
  correct: z.boolean().optional(),
  passed: z.boolean().optional(),
  score: z.number().optional(),
  feedback: z.string().optional(),
  selected: z.boolean().optional(),
});
export type ReportedAttempt = z.infer<typeof ReportedAttempt>;

export const ReportedTask = z.object({
  taskId: z.string(),
  solved: z.boolean(),
  stop: z.string(),
  attempts: z.number().int(),
  tokens: z.number(),
  costUsd: z.number(),
  error: z.string().optional(),
  steps: z.array(ReportedAttempt),
});
export type ReportedTask = z.infer<typeof ReportedTask>;
