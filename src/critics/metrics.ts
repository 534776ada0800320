/**
 * Metrics of a closed-loop critic evaluation (RealCritic's protocol), per task and overall, from each solution's
 * outcome:
 *
 * - discriminability: the first verdict against the correctness labels. Error detection treats a wrong solution
 *   as the positive class and a "fail" verdict as a detection: verdict accuracy = (TP + TN) / n; balanced accuracy
 *   = mean of the recall on wrong solutions (flagged) and on correct ones (passed); precision, recall and F1 of
 *   error detection. A critique without a verdict is neither a detection nor a pass: it counts against accuracy.
 * - closed loop: accuracy before (the labels) and after revision (each round's, carried forward for solutions
 *   that stopped), the solutions fixed (wrong → right) and broken (right → wrong), as shares of the wrong and of
 *   the right ones ("Confidence v.s. Critique": critique = P(wrong → right), confidence = 1 − P(right → wrong)).
 * - cost: tokens (and USD when priced) of critic and actor, per fixed solution.
 */

export interface RoundOutcome {
  /** The critic's verdict on the solution shown this round; null when it gave none (an unparseable critique). */
  verdict: "pass" | "fail" | null;
  /** The actor wrote a revision this round. */
  revised: boolean;
  /** Whether the solution is correct after this round. */
  correct: boolean;
  error?: string;
}

export interface Spent {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  calls: number;
}

export interface SolutionOutcome {
  id: string;
  task: string;
  model: string;
  /** Correct before any critique (the label). */
  correct: boolean;
  rounds: RoundOutcome[];
  critic: Spent;
  actor: Spent;
}

export interface CriticMetrics {
  solutions: number;
  correctBefore: number;
  wrongBefore: number;
  accuracyBefore: number;
  /** Verdict counts on the original solutions. */
  verdicts: { passCorrect: number; failWrong: number; failCorrect: number; passWrong: number; noneCorrect: number; noneWrong: number };
  verdictAccuracy: number;
  balancedAccuracy: number;
  errorDetection: { precision: number | null; recall: number | null; f1: number | null };
  correctAfter: number;
  accuracyAfter: number;
  /** Accuracy before (index 0) and after each round. */
  accuracyPerRound: number[];
  /** accuracyAfter − accuracyBefore. */
  delta: number;
  fixed: number;
  broken: number;
  /** fixed / wrongBefore. */
  fixRate: number | null;
  /** broken / correctBefore. */
  breakRate: number | null;
  revised: number;
  errors: number;
  tokens: { critic: number; actor: number; total: number };
  calls: { critic: number; actor: number };
  /** USD, when the critic or actor had prices; else null. */
  costUsd: number | null;
  tokensPerFixed: number | null;
  costPerFixedUsd: number | null;
}

export interface TaskMetrics extends CriticMetrics {
  task: string;
}

const rate = (num: number, den: number): number | null => (den > 0 ? num / den : null);

/** Correctness after round r (1-based), carrying the last round forward; round 0 is the label. */
export function correctAt(o: SolutionOutcome, r: number): boolean {
  if (r <= 0 || o.rounds.length === 0) return o.correct;
  return o.rounds[Math.min(r, o.rounds.length) - 1]!.correct;
}

/** The metrics of a group of outcomes; `rounds` is the number of rounds the run allowed. */
export function criticMetrics(outcomes: readonly SolutionOutcome[], rounds: number, priced: boolean): CriticMetrics {
  const n = outcomes.length;
  const v = { passCorrect: 0, failWrong: 0, failCorrect: 0, passWrong: 0, noneCorrect: 0, noneWrong: 0 };
  let correctBefore = 0;
  let correctAfter = 0;
  let fixed = 0;
  let broken = 0;
  let revised = 0;
  let errors = 0;
  const spent = { critic: 0, actor: 0, criticCalls: 0, actorCalls: 0, cost: 0 };
  const perRound = new Array<number>(rounds + 1).fill(0);
  for (const o of outcomes) {
    const first = o.rounds[0]?.verdict ?? null;
    if (o.correct) {
      correctBefore++;
      if (first === "pass") v.passCorrect++;
      else if (first === "fail") v.failCorrect++;
      else v.noneCorrect++;
    } else if (first === "fail") v.failWrong++;
    else if (first === "pass") v.passWrong++;
    else v.noneWrong++;
    const after = correctAt(o, rounds);
    if (after) correctAfter++;
    if (!o.correct && after) fixed++;
    if (o.correct && !after) broken++;
    for (let r = 0; r <= rounds; r++) if (correctAt(o, r)) perRound[r]!++;
    if (o.rounds.some((x) => x.revised)) revised++;
    if (o.rounds.some((x) => x.error !== undefined)) errors++;
    spent.critic += o.critic.inputTokens + o.critic.outputTokens;
    spent.actor += o.actor.inputTokens + o.actor.outputTokens;
    spent.criticCalls += o.critic.calls;
    spent.actorCalls += o.actor.calls;
    spent.cost += o.critic.costUsd + o.actor.costUsd;
  }
  const wrongBefore = n - correctBefore;
  const tp = v.failWrong;
  const tn = v.passCorrect;
  const recallWrong = rate(tp, wrongBefore);
  const recallCorrect = rate(tn, correctBefore);
  const recalls = [recallWrong, recallCorrect].filter((x): x is number => x !== null);
  const precision = rate(tp, tp + v.failCorrect);
  const f1 = recallWrong === null ? null : tp === 0 ? 0 : (2 * precision! * recallWrong) / (precision! + recallWrong);
  const total = spent.critic + spent.actor;
  return {
    solutions: n,
    correctBefore,
    wrongBefore,
    accuracyBefore: n ? correctBefore / n : 0,
    verdicts: v,
    verdictAccuracy: n ? (tp + tn) / n : 0,
    balancedAccuracy: recalls.length ? recalls.reduce((s, x) => s + x, 0) / recalls.length : 0,
    errorDetection: { precision, recall: recallWrong, f1 },
    correctAfter,
    accuracyAfter: n ? correctAfter / n : 0,
    accuracyPerRound: perRound.map((c) => (n ? c / n : 0)),
    delta: n ? (correctAfter - correctBefore) / n : 0,
    fixed,
    broken,
    fixRate: rate(fixed, wrongBefore),
    breakRate: rate(broken, correctBefore),
    revised,
    errors,
    tokens: { critic: spent.critic, actor: spent.actor, total },
    calls: { critic: spent.criticCalls, actor: spent.actorCalls },
    costUsd: priced ? spent.cost : null,
    tokensPerFixed: rate(total, fixed),
    costPerFixedUsd: priced ? rate(spent.cost, fixed) : null,
  };
}

/** Metrics per task (sorted by task name) and over everything. */
export function criticReport(outcomes: readonly SolutionOutcome[], rounds: number, priced: boolean): { overall: CriticMetrics; tasks: TaskMetrics[] } {
  const byTask = new Map<string, SolutionOutcome[]>();
  for (const o of outcomes) {
    const l = byTask.get(o.task);
    if (l) l.push(o);
    else byTask.set(o.task, [o]);
  }
  const tasks = [...byTask.keys()].sort().map((task) => ({ task, ...criticMetrics(byTask.get(task)!, rounds, priced) }));
  return { overall: criticMetrics(outcomes, rounds, priced), tasks };
}
