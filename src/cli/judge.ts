/**
 * `rlxf judge ...` (LLM judges and critics over JSONL files), `rlxf judge-report`
 * (agreement and bias of judges over stored feedback).
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { type Command, Option } from "commander";
import { RlxfError } from "../errors.js";
import {
  DEFAULT_JUDGE_FOR,
  type JudgeConfig,
  type JudgeKind,
  PAIRWISE_ORDERS,
  type PairwiseOrder,
  type RunReport,
  defaultJudges,
  defaultPools,
  judgeReport,
  readOutputs,
  readPairs,
  resolveJudge,
  routePairs,
  runOutputs,
  runPairwise,
} from "../sources/index.js";
import { FAILURE_REASONS } from "../store/index.js";
import { type ModelCliOptions, addModelOptions, modelSummary, withJudgeResources } from "./model-options.js";
import { submitJudge } from "./jobs.js";
import { progress } from "./progress.js";
import { type DbOptions, dbOption, info, int, out, table, withStore } from "./shared.js";

export interface JudgeCliOptions extends ModelCliOptions {
  input: string;
  judge?: string;
  project: string;
  sourceId?: string;
  json?: boolean;
  out?: string;
  store: boolean;
  swap?: boolean;
  order?: PairwiseOrder;
  seed: number;
}

type CliKind = "pairwise" | "rubric" | "checklist" | "critique" | "steps" | "reference";

const EXPECTED: Record<CliKind, JudgeKind> = {
  pairwise: "pairwise",
  rubric: "rubric",
  checklist: "rubric",
  critique: "critique",
  steps: "steps",
  reference: "reference",
};

/** Result lines: JSON to stdout (and `--out`), or a short text line per example. */
export class ResultPrinter {
  readonly #json: boolean;
  readonly #file: WriteStream | undefined;
  constructor(opts: { json?: boolean; out?: string }) {
    this.#json = !!opts.json;
    this.#file = opts.out ? createWriteStream(opts.out) : undefined;
  }
  row(r: Record<string, unknown>, index: number, label?: string): void {
    const line = JSON.stringify(r) + "\n";
    this.#file?.write(line);
    if (this.#json) {
      out(line);
      return;
    }
    const where = label ?? `#${index + 1}`;
    if (r.error !== undefined) {
      out(`${where}  FAILED (${String(r.failure_reason)}): ${String(r.error).slice(0, 160)}\n`);
    } else if (r.preference !== undefined) {
      const p = r.preference as number;
      const extra = r.noisy ? " (noisy label)" : r.identical ? " (identical outputs)" : "";
      out(`${where}  preference ${p.toFixed(2)}  ${String(r.choice)}${r.simulated_annotator ? `  [${String(r.simulated_annotator)}]` : ""}${extra}\n`);
    } else {
      const v = r.result as Record<string, unknown>;
      let s: string;
      if (r.kind === "rubric") s = `total ${(v.total as number).toFixed(3)}  ${(v.criteria as { name: string; passed?: boolean; score?: number }[]).map((c) => `${c.name}: ${c.passed !== undefined ? (c.passed ? "pass" : "fail") : c.score}`).join("; ")}`;
      else if (r.kind === "critique") s = `${String(v.verdict).toUpperCase()}  ${String(v.text).slice(0, 140)}`;
      else if (r.kind === "spans") s = r.first_error_step === null ? "no wrong step" : `first wrong step: ${String(r.first_error_step)}`;
      else if (r.kind === "rating") s = `score ${String(v.score)} on ${(v.scale as { min: number }).min}-${(v.scale as { max: number }).max}`;
      else s = v.ok ? "correct" : "incorrect";
      out(`${where}  ${s}\n`);
    }
  }
  async close(): Promise<void> {
    const f = this.#file;
    if (f) await new Promise<void>((resolve, reject) => f.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
}

export function summaryText(what: string, r: RunReport): string {
  const failures = Object.entries(r.failures)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const outcomes = Object.entries(r.outcomes)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const lines = [
    `judged ${r.total} ${what} with ${r.source.id} in ${r.seconds.toFixed(2)} s: ${r.parsed} parsed, ${r.failed} failed${failures ? ` (${failures})` : ""}`,
  ];
  if (outcomes) lines.push(`  outcomes: ${outcomes}`);
  if (r.stored) {
    lines.push(
      `  stored: ${r.stored.feedback.inserted} new feedback (${r.stored.feedback.existing} already stored), ` +
        `${r.stored.failures.inserted} new failures (${r.stored.failures.existing} already stored) as source ${r.source.type}:${r.source.id}`,
    );
  }
  if (r.model) lines.push(`  ${modelSummary(r.model)}`);
  return lines.join("\n") + "\n";
}

function checkKind(cli: CliKind, judge: JudgeConfig): void {
  if (judge.kind !== EXPECTED[cli]) {
    throw new RlxfError("invalid_config", `judge "${judge.name}" is a ${judge.kind} judge; \`rlxf judge ${cli}\` needs a ${EXPECTED[cli]} judge`);
  }
}

export async function runJudgeCommand(cli: CliKind, opts: JudgeCliOptions): Promise<RunReport> {
  const judge = resolveJudge(opts.judge ?? DEFAULT_JUDGE_FOR[cli]!);
  checkKind(cli, judge);
  const pairs = cli === "pairwise" ? await readPairs(opts.input) : undefined;
  const outputs = cli === "pairwise" ? undefined : await readOutputs(opts.input, { needsReference: cli === "reference" });
  const labels = (pairs ?? outputs!).map((r) => r.label);
  const total = labels.length;
  const order: PairwiseOrder | undefined = opts.swap ? "both" : opts.order;
  return withJudgeResources(opts, async ({ model, store, sink }) => {
    const printer = new ResultPrinter(opts);
    const bar = progress(`judging (${judge.name})`, total);
    let report: RunReport;
    try {
      const ctx = {
        model,
        ...(store ? { store } : {}),
        ...(sink ? { sink } : {}),
        project: opts.project,
        ...(opts.sourceId ? { sourceId: opts.sourceId } : {}),
        concurrency: Math.max(64, 2 * model.concurrency),
        onResult: (row: Record<string, unknown>, i: number) => printer.row(row, i, labels[i]),
        onProgress: () => bar.tick(1),
      };
      report = pairs
        ? await runPairwise(pairs, judge, ctx, { ...(order ? { order } : {}), seed: opts.seed })
        : await runOutputs(outputs!, judge, ctx);
    } finally {
      bar.done();
      await printer.close();
    }
    const text = summaryText(cli === "pairwise" ? "pair(s)" : "output(s)", report);
    if (opts.json) info(text);
    else out(text);
    return report;
  });
}

function addJudgeOptions(cmd: Command, cli: CliKind): Command {
  cmd
    .requiredOption("--input <file>", cli === "pairwise" ? "JSONL of {instruction, output_1, output_2} (.gz fine)" : "JSONL of {instruction, output, ...} (.gz fine)")
    .option("--judge <name-or-file>", `a shipped judge (rlxf judge list) or a JSON config file (default: ${DEFAULT_JUDGE_FOR[cli]})`)
    .option("--project <name>", "project the feedback goes to", "default")
    .option("--source-id <id>", "the feedback's source id (default: <judge>/<model>)")
    .option("--json", "one JSON result per line on stdout (the summary goes to stderr)")
    .option("--out <file>", "also write the JSON results to this file")
    .option("--no-store", "do not store feedback and failures")
    .option("--submit", "enqueue it as a background job instead of running it here (prints the job id; follow it with rlxf jobs wait ID)");
  if (cli === "pairwise") {
    cmd
      .option("--swap", "judge both orders and combine the verdicts (a judge that always picks one position gives ties)")
      .addOption(new Option("--order <order>", "random: seeded random order per instruction; both: same as --swap; fixed: as given").choices([...PAIRWISE_ORDERS]))
      .option("--seed <n>", "seed of the position randomization", int("--seed"), 0);
  }
  cmd.addOption(dbOption());
  return addModelOptions(cmd);
}

const DESCRIPTIONS: Record<CliKind, string> = {
  pairwise: "pairwise preference of each pair (AlpacaEval style): adds preference in [1, 2] and the raw verdicts",
  rubric: "grade outputs against criteria (the input's, or the judge's), with a rationale per criterion and a weighted total",
  checklist: "grade outputs with instruction-specific yes/no checklists a model writes first",
  critique: "critique outputs: strengths, weaknesses, suggestions and a pass/fail verdict",
  steps: "find the first wrong step of each reasoning chain (input: steps as a list, or an output split into lines)",
  reference: "grade outputs against a gold answer (input needs reference)",
};

export function register(program: Command): void {
  const judge = program.command("judge").description("LLM judges and critics: judge files of examples with a model; store the feedback");
  for (const cli of Object.keys(DESCRIPTIONS) as CliKind[]) {
    addJudgeOptions(judge.command(cli).description(DESCRIPTIONS[cli]), cli).action(async (opts: JudgeCliOptions & { submit?: boolean }) => {
      if (opts.submit) await submitJudge(cli, opts, DEFAULT_JUDGE_FOR[cli]!);
      else await runJudgeCommand(cli, opts);
    });
  }

  judge
    .command("list")
    .description("list the shipped judges, critics and simulated-annotator pools")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) => {
      const judges = defaultJudges().map((j) => ({ name: j.name, kind: j.kind, parser: j.parser.type, order: j.kind === "pairwise" ? (j.order ?? "random") : "", description: j.description ?? "" }));
      const pools = defaultPools().map((p) => ({ name: p.name, kind: "pool", parser: "", order: "", description: `${p.description ?? ""} Members: ${p.members.join(", ")}.` }));
      if (opts.json) {
        out(JSON.stringify([...judges, ...pools]) + "\n");
        return;
      }
      const cut = (s: string) => (s.length > 100 ? `${s.slice(0, 99)}…` : s);
      out(table([...judges, ...pools].map((r) => ({ ...r, description: cut(r.description) })), [{ key: "name" }, { key: "kind" }, { key: "parser" }, { key: "order" }, { key: "description" }]));
      out("rlxf judge show NAME prints a config as JSON; pass your own JSON file with --judge FILE (or --pool FILE).\n");
    });

  judge
    .command("show")
    .description("print a shipped judge or pool config as JSON (a starting point for your own)")
    .argument("<name>", "judge or pool name")
    .action((name: string) => {
      const pool = defaultPools().find((p) => p.name === name);
      out(JSON.stringify(pool ?? resolveJudge(name), null, 2) + "\n");
    });

  judge
    .command("failures")
    .description("judgements that failed (unparseable answers, failed model calls), with their raw answers")
    .option("--judge <source-id>", "only this judge")
    .addOption(new Option("--reason <reason>", "only this reason").choices([...FAILURE_REASONS]))
    .option("--project <name>", "project", "default")
    .option("--limit <n>", "at most this many", int("--limit"), 50)
    .option("--json", "one JSON record per line")
    .addOption(dbOption())
    .action(async (opts: DbOptions & { judge?: string; reason?: (typeof FAILURE_REASONS)[number]; project: string; limit: number; json?: boolean }) => {
      await withStore(opts, async (store) => {
        let n = 0;
        for await (const f of store.judgementFailures.iterate({ project: opts.project, ...(opts.judge ? { judge: opts.judge } : {}), ...(opts.reason ? { reason: opts.reason } : {}) })) {
          if (n++ >= opts.limit) break;
          if (opts.json) out(JSON.stringify(f) + "\n");
          else out(`${f.createdAt}  ${f.judge}  ${f.reason}  item ${f.itemId ?? "-"}: ${f.error}\n${f.raw.map((r, i) => `    raw ${i + 1}: ${JSON.stringify(r.slice(0, 200))}`).join("\n")}\n`);
        }
        if (!opts.json) {
          const counts = await store.judgementFailures.countByJudge(opts.project);
          out(`failures by judge: ${[...counts].map(([j, c]) => `${j} ${c}`).join(", ") || "none"}\n`);
        }
      });
    });

  judge
    .command("route")
    .description("the stored pairs where judges disagree most, to send to human annotators (Hybrid Preferences)")
    .option("--budget <n>", "how many pairs", int("--budget"), 50)
    .option("--min-judges <n>", "pairs labelled by at least this many judges", int("--min-judges"), 2)
    .option("--include-labelled", "also pairs that already have a human label")
    .option("--project <name>", "project", "default")
    .option("--out <file>", "write the pairs as JSONL (instruction, output_1, output_2...) for annotation")
    .option("--json", "print JSON lines")
    .addOption(dbOption())
    .action(async (opts: DbOptions & { budget: number; minJudges: number; includeLabelled?: boolean; project: string; out?: string; json?: boolean }) => {
      const routed = await withStore(opts, (store) =>
        routePairs(store, { project: opts.project, budget: opts.budget, minJudges: opts.minJudges, ...(opts.includeLabelled ? { includeLabelled: true } : {}) }),
      );
      if (opts.out) {
        const w = createWriteStream(opts.out);
        for (const r of routed) w.write(JSON.stringify({ instruction: r.instruction, output_1: r.output_1, output_2: r.output_2, generator_1: r.generator_1, generator_2: r.generator_2, disagreement: r.disagreement, judges: r.judges }) + "\n");
        await new Promise<void>((res) => w.end(() => res()));
        info(`wrote ${routed.length} pair(s) to ${opts.out}\n`);
      }
      if (opts.json) for (const r of routed) out(JSON.stringify(r) + "\n");
      else if (!opts.out) {
        out(
          table(
            routed.map((r) => ({ item: r.item_id, disagreement: r.disagreement, uncertainty: r.uncertainty, judges: r.n, mean: r.meanPreference, instruction: r.instruction.replace(/\s+/g, " ").slice(0, 60) })),
            [{ key: "item" }, { key: "disagreement", digits: 3 }, { key: "uncertainty", digits: 3 }, { key: "judges" }, { key: "mean", title: "mean pref", digits: 2 }, { key: "instruction" }],
          ),
        );
      }
    });

  program
    .command("judge-report")
    .description("agreement (with humans and between judges) and position / length / list bias of every judge over stored pairwise feedback")
    .option("--project <name>", "project", "default")
    .option("--source <id...>", "only these sources (judges and humans)")
    .option("--no-majority", "leave out the judges' majority vote")
    .option("--json", "print the report as JSON")
    .addOption(dbOption())
    .action(async (opts: DbOptions & { project: string; source?: string[]; majority: boolean; json?: boolean }) => {
      const report = await withStore(opts, (store) => judgeReport(store, { project: opts.project, ...(opts.source ? { sources: opts.source } : {}), majority: opts.majority }));
      if (opts.json) {
        out(JSON.stringify(report, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v)) + "\n");
        return;
      }
      if (report.judges.length === 0) throw new RlxfError("no_data", `no pairwise feedback (and no judgement failures) in project "${opts.project}"`);
      const nan = (x: number) => (Number.isFinite(x) ? x : undefined);
      out(
        table(
          report.judges.map((j) => ({
            judge: j.judge,
            type: j.type,
            n: j.n,
            failures: j.failures,
            ties: nan(j.ties),
            first: nan(j.position.rate),
            longer: nan(j.length.rate),
            lists: nan(j.list.rate),
            agree: nan(j.humanAgreement),
            humans: nan(j.humanBaseline),
            accuracy: nan(j.accuracy),
            kappa: nan(j.kappa),
          })),
          [
            { key: "judge" },
            { key: "type" },
            { key: "n" },
            { key: "failures" },
            { key: "ties", digits: 3 },
            { key: "first", title: "P(first)", digits: 3 },
            { key: "longer", title: "P(longer)", digits: 3 },
            { key: "lists", title: "P(list)", digits: 3 },
            { key: "agree", title: "human agr", digits: 3 },
            { key: "humans", title: "human-human", digits: 3 },
            { key: "accuracy", title: "vs majority", digits: 3 },
            { key: "kappa", digits: 3 },
          ],
        ),
      );
      const h = report.humans;
      out(
        `humans: ${h.annotators} annotator(s) on ${h.pairs} pair(s); leave-one-out agreement ${Number.isFinite(h.agreement) ? h.agreement.toFixed(3) : "n/a"} over ${h.pairsLeaveOneOut} pair(s) with 2+ humans\n`,
      );
      if (report.between.length) {
        out("between judges (pairs in common, agreement, kappa):\n");
        for (const b of report.between) out(`  ${b.a} vs ${b.b}: n ${b.n}, agreement ${Number.isFinite(b.agreement) ? b.agreement.toFixed(3) : "n/a"}, kappa ${Number.isFinite(b.kappa) ? b.kappa.toFixed(3) : "n/a"}\n`);
        if (Number.isFinite(report.alpha)) out(`  Krippendorff's alpha over all judges: ${report.alpha.toFixed(3)}\n`);
      }
      out("P(first): how often the output shown first wins (0.5 = no position bias); P(longer): the longer (>30 chars longer) wins; P(list): the one with a list wins.\n");
    });
}
