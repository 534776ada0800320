/**
 * Metrics of a loop run, computed from its stored steps:
 *
 * - accuracy per turn: the share of tasks whose latest attempt by turn t is correct (best-of-n: some candidate
 *   among the first t + 1 is correct, i.e. pass@(t+1));
 * - feedback friction (Feedback Friction): of the attempts the feedback said were wrong, how many the next attempt
 *   fixed; friction = 1 - that share (1: the feedback changed nothing);
 * - the confidence / critique decomposition ("Confidence v.s. Critique"): P(correct stays correct) and
 *   P(wrong becomes correct) over consecutive attempts;
 * - tokens and cost per solved task, stop reasons, repeated answers (rejected before submission, or resubmitted).
 */
import type { LoopStep } from "../store/index.js";
import type { LoopSummary } from "./schema.js";

export type { LoopSummary };

const rate = (num: number, den: number): number | null => (den > 0 ? num / den : null);

interface Attempt {
  turn: number;
  correct: boolean;
  passed: boolean;
  judged: boolean;
  answer: string;
  selected: boolean;
}

export function loopMetrics(loop: string, steps: readonly LoopStep[]): LoopSummary {
  const byTask = new Map<string, LoopStep[]>();
  for (const s of steps) {
    let l = byTask.get(s.taskId);
    if (!l) byTask.set(s.taskId, (l = []));
    l.push(s);
  }
  const sequential = loop !== "best-of-n";
  let solved = 0;
  let tokens = 0;
  let costUsd = 0;
  let rejectedRepeats = 0;
  let resubmitted = 0;
  let reflections = 0;
  let pointedAt = 0;
  let fixed = 0;
  let correctBefore = 0;
  let stayedCorrect = 0;
  let wrongBefore = 0;
  let becameCorrect = 0;
  let totalAttempts = 0;
  const stops: Record<string, number> = {};
  const perTask: Attempt[][] = [];
  const selection = { selectedCorrect: 0, firstCorrect: 0, anyCorrect: 0 };

  for (const list of byTask.values()) {
    list.sort((a, b) => a.seq - b.seq);
    const attempts: Attempt[] = [];
    for (const s of list) {
      const d = s.data;
      if (d.role === "attempt" || d.role === "candidate") {
        attempts.push({
          turn: s.turn,
          correct: d.correct === true,
          passed: d.passed === true,
          judged: typeof d.feedbackId === "string",
          answer: String(d.answer ?? ""),
          selected: d.selected === true,
        });
      } else if (d.role === "selected") {
        for (const a of attempts) if (a.turn === s.turn) a.selected = true;
      } else if (d.role === "rejected") rejectedRepeats++;
      else if (d.role === "reflection") reflections++;
      else if (d.role === "end") {
        if (d.solved === true) solved++;
        tokens += Number(d.tokens ?? 0);
        costUsd += Number(d.costUsd ?? 0);
        const stop = String(d.stop ?? "unknown");
        stops[stop] = (stops[stop] ?? 0) + 1;
      }
    }
    perTask.push(attempts);
    totalAttempts += attempts.length;
    const seen = new Set<string>();
    for (const a of attempts) {
      if (!a.judged) continue;
      if (seen.has(a.answer)) resubmitted++;
      seen.add(a.answer);
    }
    if (sequential) {
      for (let t = 0; t + 1 < attempts.length; t++) {
        const a = attempts[t]!;
        const b = attempts[t + 1]!;
        if (!a.correct && !a.passed) {
          pointedAt++;
          if (b.correct) fixed++;
        }
        if (a.correct) {
          correctBefore++;
          if (b.correct) stayedCorrect++;
        } else {
          wrongBefore++;
          if (b.correct) becameCorrect++;
        }
      }
    } else if (attempts.length) {
      if (attempts.some((a) => a.selected && a.correct)) selection.selectedCorrect++;
      if (attempts[0]!.correct) selection.firstCorrect++;
      if (attempts.some((a) => a.correct)) selection.anyCorrect++;
    }
  }

  const tasks = byTask.size;
  const maxTurns = Math.max(0, ...perTask.map((a) => a.length));
  const accuracyPerTurn: number[] = [];
  for (let t = 0; t < maxTurns; t++) {
    let ok = 0;
    for (const a of perTask) {
      if (a.length === 0) continue;
      if (sequential) ok += a[Math.min(t, a.length - 1)]!.correct ? 1 : 0;
      else ok += a.slice(0, t + 1).some((x) => x.correct) ? 1 : 0;
    }
    accuracyPerTurn.push(tasks ? ok / tasks : 0);
  }
  const fixRate = rate(fixed, pointedAt);
  return {
    loop,
    tasks,
    solved,
    accuracy: tasks ? solved / tasks : 0,
    meanAttempts: tasks ? totalAttempts / tasks : 0,
    accuracyPerTurn,
    friction: sequential ? { pointedAt, fixed, fixRate, friction: fixRate === null ? null : 1 - fixRate } : null,
    selfCorrection: sequential
      ? { correctBefore, stayedCorrect, confidence: rate(stayedCorrect, correctBefore), wrongBefore, becameCorrect, critique: rate(becameCorrect, wrongBefore) }
      : null,
    tokens,
    costUsd,
    tokensPerSolved: rate(tokens, solved),
    costPerSolvedUsd: rate(costUsd, solved),
    stops,
    rejectedRepeats,
    resubmitted,
    reflections,
    ...(sequential ? {} : { selection }),
  };
}
