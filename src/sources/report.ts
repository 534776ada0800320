/**
 * Judges over stored feedback: every pairwise label in a project, grouped by
 * pair (the same item and the same two outputs, whoever produced them and in
 * whichever order they were stored; labels are oriented as the pair was first
 * stored), then agreement with humans and between
 * judges, bias rates, failure counts, and the pairs to route to humans.
 */
import { createHash } from "node:crypto";
import type { Feedback, ResolvedFeedback, SourceType } from "../feedback/schema.js";
import { orderVerdictKey, withOrderVerdictsMerged } from "../feedback/index.js";
import {
  type AgreementReport,
  type JudgedPair,
  type PairLabel,
  type Rate,
  type RouteScore,
  aggregateJudges,
  judgeAgreement,
  lengthBiasRate,
  listBiasRate,
  positionBiasRate,
  routeToHumans,
} from "../eval/index.js";
import type { Store } from "../store/index.js";

export interface CollectedPairwise {
  labels: PairLabel[];
  /** Per annotator: verdicts as the judge saw them (1 = the output shown first won), from rlxf's verdict metadata. */
  presented: Map<string, number[]>;
  /** Per annotator: its preferences with both outputs, for length and list bias. */
  judged: Map<string, JudgedPair[]>;
  types: Map<string, SourceType>;
  /** Per pair key: the item, its two outputs and generations in the pair's order (the first stored record's). */
  pairs: Map<string, { itemId: string; instruction: string; outputs: [string, string]; generations: [string, string]; policies: [string, string] }>;
}

function preferenceOf(f: Feedback): number | undefined {
  if (f.kind !== "pairwise") return undefined;
  if (f.value.pSecond !== undefined) return 1 + f.value.pSecond;
  return f.value.choice === "first" ? 1 : f.value.choice === "second" ? 2 : 1.5;
}

const promptText = (p: unknown): string =>
  typeof p === "string" ? p : Array.isArray(p) ? p.map((m) => `${(m as { role: string }).role}: ${(m as { content: string }).content}`).join("\n") : String(p);

/** Every pairwise label in the project (optionally only from some sources). */
export async function collectPairwise(store: Store, opts: { project?: string; sources?: readonly string[] } = {}): Promise<CollectedPairwise> {
  const out: CollectedPairwise = { labels: [], presented: new Map(), judged: new Map(), types: new Map(), pairs: new Map() };
  const only = opts.sources && opts.sources.length ? new Set(opts.sources) : undefined;
  // The latest answers (a revised or adjudicated human label counts once); a judge's verdicts on both orders of a
  // pair are one label: those wait to be merged.
  const perOrder: ResolvedFeedback[] = [];
  for await (const rf of store.iterateResolvedFeedback({ project: opts.project ?? "default", kind: "pairwise", latest: true })) {
    if (only && !only.has(rf.feedback.source.id)) continue;
    if (orderVerdictKey(rf.feedback) !== undefined) perOrder.push(rf);
    else take(rf);
  }
  for (const rf of withOrderVerdictsMerged(perOrder, (x) => x.feedback, (x, feedback) => ({ ...x, feedback }))) take(rf);
  return out;

  function take(rf: ResolvedFeedback): void {
    const f = rf.feedback;
    const p = preferenceOf(f);
    if (p === undefined || rf.targets.length !== 2) return;
    const [g1, g2] = rf.targets as [typeof rf.targets[0], typeof rf.targets[0]];
    // The pair is the item and the two outputs, in either order; its orientation is the one first seen.
    const sorted = g1.output <= g2.output ? [g1.output, g2.output] : [g2.output, g1.output];
    const key = createHash("sha256").update(JSON.stringify([rf.item.id, ...sorted])).digest("hex").slice(0, 24);
    let known = out.pairs.get(key);
    if (!known) {
      known = { itemId: rf.item.id, instruction: promptText(rf.item.prompt), outputs: [g1.output, g2.output], generations: [g1.id, g2.id], policies: [g1.policy, g2.policy] };
      out.pairs.set(key, known);
    }
    const flip = g1.output !== g2.output ? g1.output !== known.outputs[0] : g1.id !== known.generations[0];
    const annotator = f.source.id;
    out.types.set(annotator, f.source.type);
    const pref = flip ? 3 - p : p;
    out.labels.push({ pair: key, annotator, preference: pref, ...(f.source.type === "human" ? { human: true } : {}) });
    const judged = out.judged.get(annotator) ?? [];
    judged.push({ preference: p, output_1: g1.output, output_2: g2.output });
    out.judged.set(annotator, judged);
    const verdicts = (f.metadata?.judge as { verdicts?: { swapped?: boolean; preference?: number }[] } | undefined)?.verdicts;
    if (Array.isArray(verdicts) && verdicts.length) {
      const shown = out.presented.get(annotator) ?? [];
      for (const v of verdicts) if (typeof v.preference === "number") shown.push(v.swapped ? 3 - v.preference : v.preference);
      out.presented.set(annotator, shown);
    }
  }
}

export interface JudgeReportRow {
  judge: string;
  type: SourceType | "ensemble";
  /** Pairs labelled. */
  n: number;
  /** Judgements recorded as failures. */
  failures: number;
  /** Share of labels that are ties. */
  ties: number;
  position: Rate;
  length: Rate;
  list: Rate;
  accuracy: number;
  humanAgreement: number;
  humanBaseline: number;
  kappa: number;
  nWithHumans: number;
}

export interface JudgeReport {
  project: string;
  judges: JudgeReportRow[];
  humans: AgreementReport["humans"];
  between: AgreementReport["between"];
  alpha: number;
}

export const MAJORITY = "majority-vote";
/** The judges' vote weighted by their accuracy against the human majority. */
export const WEIGHTED = "weighted-vote";

/**
 * Agreement and bias of every annotator that left pairwise feedback. With two
 * or more judges, a majority vote of the judges is added as one more row.
 */
export async function judgeReport(store: Store, opts: { project?: string; sources?: readonly string[]; majority?: boolean } = {}): Promise<JudgeReport> {
  const project = opts.project ?? "default";
  const c = await collectPairwise(store, opts);
  const judgeNames = [...c.types].filter(([, t]) => t !== "human").map(([n]) => n);
  const labels = [...c.labels];
  if ((opts.majority ?? true) && judgeNames.length >= 2) {
    for (const [pair, v] of aggregateJudges(c.labels, { method: "majority" })) {
      if (v.n >= 2) labels.push({ pair, annotator: MAJORITY, preference: v.label });
    }
    // Weighted by each judge's agreement with the human majority, where there are humans to weigh against.
    const alone = judgeAgreement(c.labels).judges.filter((j) => Number.isFinite(j.accuracy));
    if (alone.length >= 2) {
      const weights = Object.fromEntries(alone.map((j) => [j.judge, Math.max(0, j.accuracy)]));
      for (const [pair, v] of aggregateJudges(c.labels, { method: "weighted", weights })) {
        if (v.n >= 2) labels.push({ pair, annotator: WEIGHTED, preference: v.label });
      }
    }
  }
  const agreement = judgeAgreement(labels);
  const failures = await store.judgementFailures.countByJudge(project);
  const rows: JudgeReportRow[] = agreement.judges.map((a) => {
    const mine = labels.filter((l) => l.annotator === a.judge);
    const judged = c.judged.get(a.judge) ?? [];
    return {
      judge: a.judge,
      type: (a.judge === MAJORITY || a.judge === WEIGHTED) && !c.types.has(a.judge) ? "ensemble" : c.types.get(a.judge)!,
      n: a.n,
      failures: failures.get(a.judge) ?? 0,
      ties: mine.length ? mine.filter((l) => l.preference === 1.5).length / mine.length : NaN,
      position: positionBiasRate(c.presented.get(a.judge) ?? []),
      length: lengthBiasRate(judged),
      list: listBiasRate(judged),
      accuracy: a.accuracy,
      humanAgreement: a.humanAgreement,
      humanBaseline: a.humanBaseline,
      kappa: a.kappa,
      nWithHumans: a.nWithHumans,
    };
  });
  // Humans get a row too (bias rates of people are worth seeing), without agreement with themselves.
  const humanNames = [...c.types].filter(([, t]) => t === "human").map(([n]) => n);
  for (const h of humanNames) {
    const judged = c.judged.get(h) ?? [];
    const mine = labels.filter((l) => l.annotator === h);
    rows.push({
      judge: h,
      type: "human",
      n: new Set(mine.map((l) => l.pair)).size,
      failures: failures.get(h) ?? 0,
      ties: mine.length ? mine.filter((l) => l.preference === 1.5).length / mine.length : NaN,
      position: positionBiasRate(c.presented.get(h) ?? []),
      length: lengthBiasRate(judged),
      list: listBiasRate(judged),
      accuracy: NaN,
      humanAgreement: NaN,
      humanBaseline: NaN,
      kappa: NaN,
      nWithHumans: 0,
    });
  }
  // Judges that only ever failed have no labels; list them so their failures show.
  for (const [judge, n] of failures) {
    if (!rows.some((r) => r.judge === judge)) {
      rows.push({ judge, type: "judge", n: 0, failures: n, ties: NaN, position: { rate: NaN, n: 0 }, length: { rate: NaN, n: 0 }, list: { rate: NaN, n: 0 }, accuracy: NaN, humanAgreement: NaN, humanBaseline: NaN, kappa: NaN, nWithHumans: 0 });
    }
  }
  return { project, judges: rows, humans: agreement.humans, between: agreement.between, alpha: agreement.alpha };
}

export interface RoutedPair extends RouteScore {
  item_id: string;
  instruction: string;
  output_1: string;
  output_2: string;
  generator_1: string;
  generator_2: string;
  /** The stored generations of output_1 and output_2. */
  generation_1: string;
  generation_2: string;
  /** Each judge's preference, in this row's order. */
  judges: Record<string, number>;
}

/** The stored pairs where the judges disagree most (no human label yet, unless `includeLabelled`), most contested first. */
export async function routePairs(
  store: Store,
  opts: { project?: string; budget?: number; fraction?: number; minJudges?: number; includeLabelled?: boolean; sources?: readonly string[] } = {},
): Promise<RoutedPair[]> {
  const c = await collectPairwise(store, opts);
  const labelled = new Set(c.labels.filter((l) => l.human).map((l) => l.pair));
  const candidates = c.labels.filter((l) => !l.human && (opts.includeLabelled || !labelled.has(l.pair)));
  const routed = routeToHumans(candidates, { ...(opts.budget !== undefined ? { budget: opts.budget } : {}), ...(opts.fraction !== undefined ? { fraction: opts.fraction } : {}), minJudges: opts.minJudges ?? 2 });
  const byPair = new Map<string, Record<string, number>>();
  for (const l of candidates) byPair.set(l.pair, { ...(byPair.get(l.pair) ?? {}), [l.annotator]: l.preference });
  return routed.map((r) => {
    const p = c.pairs.get(r.pair)!;
    const judges = byPair.get(r.pair) ?? {};
    return {
      ...r,
      item_id: p.itemId,
      instruction: p.instruction,
      output_1: p.outputs[0],
      output_2: p.outputs[1],
      generator_1: p.policies[0],
      generator_2: p.policies[1],
      generation_1: p.generations[0],
      generation_2: p.generations[1],
      judges,
    };
  });
}
