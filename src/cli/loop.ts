/**
 * `rlxf loop refine|retry|reflexion|best-of-n|multi-turn` (test-time loops over a tasks file), `rlxf loop report RUN`
 * and `rlxf loop list`.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { RlxfError } from "../errors.js";
import { cachedEmbedder, openAiEmbedder } from "../learn/index.js";
import {
  type FeedbackSource,
  type LoopContext,
  type LoopReport,
  type LoopRunReport,
  type LoopSummary,
  MemoryRetriever,
  bestOfNLoop,
  embeddingSimilarity,
  feedbackFromSpec,
  loopRunReport,
  multiTurnLoop,
  readTasks,
  refineLoop,
  reflexionLoop,
  retryLoop,
  verifierFromSpec,
} from "../loops/index.js";
import { type Model, StoreResponseCache } from "../providers/index.js";
import type { Store } from "../store/index.js";
import { type ModelCliOptions, addModelOptions, modelFrom, modelSummary } from "./model-options.js";
import { submitLoop } from "./jobs.js";
import { progress } from "./progress.js";
import { type DbOptions, dbOption, info, int, out, storeFrom, table, withStore } from "./shared.js";

type LoopCli = "refine" | "retry" | "reflexion" | "best-of-n" | "multi-turn";

export interface LoopCliOptions extends ModelCliOptions {
  tasks: string;
  policy?: string;
  feedback: string;
  feedbackModel?: string;
  feedbackBaseUrl?: string;
  feedbackApiKey?: string;
  check?: string;
  rounds: number;
  taskTokens?: number;
  taskCost?: number;
  totalTokens?: number;
  totalCost?: number;
  temperature?: number;
  system?: string;
  parallel: number;
  memory?: boolean;
  memoryK: number;
  memoryMinSimilarity: number;
  embedUrl?: string;
  embedModel?: string;
  project: string;
  runId?: string;
  json?: boolean;
  // retry
  temperatureStep?: number;
  rejectPrevious?: boolean;
  maxResamples: number;
  // reflexion
  memorySize: number;
  // best-of-n
  aggregate: "mean" | "penalized";
  penalty: number;
  untilPass?: boolean;
  // refine
  lastOnly?: boolean;
}

const positiveNumber = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};
const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};
const nonNegative = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number`);
  return n;
};

const pct = (x: number | null | undefined) => (x === null || x === undefined ? "n/a" : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? "n/a" : x.toFixed(d));

/** The metrics of a run as text. */
export function summaryLines(s: LoopSummary): string {
  const lines = [
    `${s.loop}: ${s.solved}/${s.tasks} tasks solved (${pct(s.accuracy)}), ${num(s.meanAttempts, 2)} attempts per task`,
    `  accuracy per turn: ${s.accuracyPerTurn.map((a, i) => `${i + 1}: ${pct(a)}`).join(", ")}${s.loop === "best-of-n" ? " (some candidate correct by then)" : ""}`,
  ];
  if (s.friction) lines.push(`  feedback friction: ${num(s.friction.friction, 3)} (${s.friction.fixed} of ${s.friction.pointedAt} errors the feedback pointed at were fixed by the next attempt)`);
  if (s.selfCorrection) {
    const c = s.selfCorrection;
    lines.push(`  confidence P(correct stays correct): ${num(c.confidence, 3)} (${c.stayedCorrect}/${c.correctBefore}); critique P(wrong becomes correct): ${num(c.critique, 3)} (${c.becameCorrect}/${c.wrongBefore})`);
  }
  if (s.selection) lines.push(`  picked candidate correct: ${s.selection.selectedCorrect}, first candidate correct: ${s.selection.firstCorrect}, some candidate correct: ${s.selection.anyCorrect}`);
  lines.push(`  tokens: ${s.tokens} (${num(s.tokensPerSolved, 0)} per solved task); cost: $${s.costUsd.toFixed(4)} (${s.costPerSolvedUsd === null ? "n/a" : `$${s.costPerSolvedUsd.toFixed(4)}`} per solved task)`);
  lines.push(`  stops: ${Object.entries(s.stops).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  if (s.rejectedRepeats || s.resubmitted) lines.push(`  repeated answers: ${s.rejectedRepeats} rejected before submission, ${s.resubmitted} resubmitted`);
  if (s.reflections) lines.push(`  reflections: ${s.reflections}`);
  return lines.join("\n") + "\n";
}

async function embedderFor(opts: { embedUrl?: string; embedModel?: string }, store: Store) {
  const baseUrl = opts.embedUrl ?? process.env.RLXF_EMBED_URL;
  if (!baseUrl) return undefined;
  const model = opts.embedModel ?? process.env.RLXF_EMBED_MODEL;
  if (!model) throw new RlxfError("missing_option", "--embed-url needs --embed-model (or RLXF_EMBED_MODEL)");
  const apiKey = process.env.RLXF_EMBED_API_KEY;
  return cachedEmbedder(openAiEmbedder({ baseUrl, model, ...(apiKey ? { apiKey } : {}) }), store.vectors, `embedding:${model}`);
}

export async function runLoopCommand(cli: LoopCli, opts: LoopCliOptions): Promise<LoopReport> {
  const tasks = await readTasks(opts.tasks);
  const check = opts.check ? verifierFromSpec(opts.check) : undefined;
  if (opts.check && !check) throw new RlxfError("unknown_name", `--check ${opts.check}: not a verifier name or spec (e.g. math, exact, normalized)`);
  const store = await storeFrom(opts);
  const models: Model[] = [];
  try {
    const cache = opts.cache ? new StoreResponseCache(store.responseCache) : undefined;
    const pricing =
      opts.priceInput !== undefined || opts.priceOutput !== undefined ? { inputPerMillion: opts.priceInput ?? 0, outputPerMillion: opts.priceOutput ?? 0 } : undefined;
    const policyModel = modelFrom({ ...opts, ...(opts.policy ? { model: opts.policy } : {}) }, cache);
    models.push(policyModel);
    let feedbackModel: Model | undefined;
    const embedder = await embedderFor(opts, store);
    const feedback: FeedbackSource = await feedbackFromSpec(opts.feedback, {
      store,
      project: opts.project,
      model: () => {
        feedbackModel ??= modelFrom(
          {
            ...opts,
            model: opts.feedbackModel ?? policyModel.model,
            ...(opts.feedbackBaseUrl ? { baseUrl: opts.feedbackBaseUrl } : {}),
            ...(opts.feedbackApiKey ? { apiKey: opts.feedbackApiKey } : {}),
          },
          cache,
        );
        models.push(feedbackModel);
        return feedbackModel;
      },
      ...(pricing ? { pricing } : {}),
      ...(check ? { check } : {}),
      ...(embedder ? { embedder } : {}),
    });
    const ctx: LoopContext = {
      store,
      project: opts.project,
      ...(opts.runId ? { runId: opts.runId } : {}),
      policy: {
        model: policyModel,
        ...(opts.policy ? { name: opts.policy } : {}),
        ...(pricing ? { pricing } : {}),
        ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
        ...(opts.system ? { system: opts.system } : {}),
      },
      feedback,
      ...(check ? { check } : {}),
      budget: {
        rounds: opts.rounds,
        ...(opts.taskTokens !== undefined ? { tokensPerTask: opts.taskTokens } : {}),
        ...(opts.taskCost !== undefined ? { costPerTaskUsd: opts.taskCost } : {}),
        ...(opts.totalTokens !== undefined ? { totalTokens: opts.totalTokens } : {}),
        ...(opts.totalCost !== undefined ? { totalCostUsd: opts.totalCost } : {}),
      },
      ...(opts.memory
        ? { memory: new MemoryRetriever(store, { project: opts.project, k: opts.memoryK, minSimilarity: opts.memoryMinSimilarity, ...(embedder ? { similarity: embeddingSimilarity(embedder) } : {}) }) }
        : {}),
      concurrency: opts.parallel,
      config: { tasksFile: opts.tasks, ...(opts.feedbackModel ? { feedbackModel: opts.feedbackModel } : {}) },
    };
    const bar = progress(`loop ${cli}`, tasks.length);
    ctx.onTaskDone = () => bar.tick(1);
    let report: LoopReport;
    try {
      switch (cli) {
        case "refine":
          report = await refineLoop(tasks, ctx, { keepHistory: !opts.lastOnly });
          break;
        case "retry":
          report = await retryLoop(tasks, ctx, {
            ...(opts.temperatureStep !== undefined ? { temperatureStep: opts.temperatureStep } : {}),
            rejectPrevious: !!opts.rejectPrevious,
            maxResamples: opts.maxResamples,
          });
          break;
        case "reflexion":
          report = await reflexionLoop(tasks, ctx, { memorySize: opts.memorySize });
          break;
        case "best-of-n":
          report = await bestOfNLoop(tasks, ctx, { aggregate: opts.aggregate, penalty: opts.penalty, untilPass: !!opts.untilPass, ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}) });
          break;
        case "multi-turn":
          report = await multiTurnLoop(tasks, ctx);
          break;
      }
    } finally {
      bar.done();
    }
    if (opts.json) {
      out(JSON.stringify(report) + "\n");
    } else {
      out(table(report.tasks.map((t) => ({ task: t.taskId, solved: t.solved ? "yes" : "no", stop: t.stop, attempts: t.attempts, tokens: t.tokens, error: t.error ?? "" })), [{ key: "task" }, { key: "solved" }, { key: "stop" }, { key: "attempts" }, { key: "tokens" }, { key: "error" }]));
      out(summaryLines(report.summary));
    }
    const say = opts.json ? info : out;
    say(`run ${report.runId} stored in project "${report.project}": rlxf loop report ${report.runId}\n`);
    for (const m of models) say(`  ${m === policyModel ? "policy" : "feedback"} ${modelSummary(m.stats())}\n`);
    return report;
  } finally {
    for (const m of models) await m.close();
    await store.close();
  }
}

function addLoopOptions(cmd: Command, cli: LoopCli): Command {
  cmd
    .requiredOption("--tasks <file>", "JSONL of tasks: {prompt, reference?, id?} (also question/problem, answer/gold/solution; .gz fine)")
    .option("--policy <model>", "the policy's model name at --base-url (default: --model, else $RLXF_MODEL)")
    .requiredOption(
      "--feedback <spec>",
      "a verifier (math, exact, normalized, json, python, javascript, humaneval, or a JSON spec), a judge (critique, reference, rubric, or a config file), rm:NAME[@V], spec:NAME[@V] (a saved reward spec), human[:SECONDS] or user (a simulated user)",
    )
    .option("--feedback-model <name>", "model of LLM judges and simulated users (default: the policy's)")
    .option("--feedback-base-url <url>", "their endpoint (default: --base-url)")
    .option("--feedback-api-key <key>", "their API key (default: --api-key)")
    .option("--check <verifier>", "ground truth for the metrics, e.g. math (default: the feedback's own verdict)")
    .option("--rounds <n>", cli === "best-of-n" ? "candidates per task (n)" : "attempts per task", positiveInt("--rounds"), cli === "best-of-n" ? 4 : 3)
    .option("--task-tokens <n>", "token budget per task (policy and feedback models together)", positiveInt("--task-tokens"))
    .option("--task-cost <usd>", "cost budget per task in USD (needs --price-input/--price-output)", positiveNumber("--task-cost"))
    .option("--total-tokens <n>", "token budget of the whole run", positiveInt("--total-tokens"))
    .option("--total-cost <usd>", "cost budget of the whole run in USD", positiveNumber("--total-cost"))
    .option("--temperature <t>", "sampling temperature of the policy", nonNegative("--temperature"))
    .option("--system <text>", "a system prompt for the policy")
    .option("--parallel <n>", "tasks worked on at once", positiveInt("--parallel"), 4)
    .option("--memory", "put principles and past corrections from `rlxf memory` that fit each task into the policy's prompt")
    .option("--memory-k <n>", "at most this many memory entries per task", positiveInt("--memory-k"), 3)
    .option("--memory-min-similarity <x>", "least similarity of a task to an entry's scope", nonNegative("--memory-min-similarity"), 0.3)
    .option("--embed-url <url>", "retrieve memory by embeddings from this OpenAI-compatible API (env RLXF_EMBED_URL); default: hashed n-grams")
    .option("--embed-model <name>", "embedding model (env RLXF_EMBED_MODEL)")
    .option("--project <name>", "project the trace goes to", "default")
    .option("--run-id <id>", "id of the run (default: generated)")
    .option("--json", "print the run's report as one JSON object (the rest goes to stderr)")
    .option("--submit", "enqueue it as a background job (the tasks go with it; prints the job id)");
  if (cli === "refine") cmd.option("--last-only", "show only the last answer and its feedback when refining (default: the whole history, as Self-Refine)");
  if (cli === "retry") {
    cmd
      .option("--temperature-step <t>", "raise the temperature by this after each failure (progressive temperature)", nonNegative("--temperature-step"))
      .option("--reject-previous", "tell the policy its earlier answers, and resample instead of resubmitting one")
      .option("--max-resamples <n>", "with --reject-previous: resamples of a repeated answer before giving up", int("--max-resamples"), 3);
  }
  if (cli === "reflexion") cmd.option("--memory-size <n>", "reflections kept in the episodic memory", positiveInt("--memory-size"), 3);
  if (cli === "best-of-n") {
    cmd
      .addOption(new Option("--aggregate <how>", "rank by the score (mean) or, for reward-model ensembles, mean - penalty x std").choices(["mean", "penalized"]).default("mean"))
      .option("--penalty <k>", "uncertainty penalty k", nonNegative("--penalty"), 1)
      .option("--until-pass", "rejection sampling: stop at the first candidate that passes");
  }
  cmd.addOption(dbOption());
  return addModelOptions(cmd);
}

const DESCRIPTIONS: Record<LoopCli, string> = {
  refine: "critique -> refine (Self-Refine): rewrite with the feedback's weaknesses and suggestions until it is satisfied, the output stops changing, or the budget is spent",
  retry: 'a plain "that is not right, try again" (unary feedback), optionally with progressive temperature and rejection of earlier answers',
  reflexion: "Reflexion: after a failure the policy writes a reflection into an episodic memory that later attempts see",
  "best-of-n": "sample n answers and keep the one the verifier, judge or reward model scores best (--until-pass: rejection sampling)",
  "multi-turn": "a conversation in which the feedback (e.g. --feedback user, a simulated user) is the next turn",
};

function printReport(r: LoopRunReport): void {
  out(`run ${r.run.id} (${r.run.loop}, ${r.run.status}) started ${r.run.createdAt}${r.run.finishedAt ? `, finished ${r.run.finishedAt}` : ""}\n`);
  const c = r.run.config as Record<string, unknown>;
  const fb = c.feedback as { type?: string; id?: string } | undefined;
  out(`  policy ${String(c.policy)}, feedback ${fb ? `${fb.type}:${fb.id}` : "?"}${c.check ? `, check ${String(c.check)}` : ""}, budget ${JSON.stringify(c.budget)}\n`);
  out(summaryLines(r.summary));
  out(
    table(
      r.tasks.map((t) => ({
        task: t.taskId,
        solved: t.solved ? "yes" : "no",
        stop: t.stop,
        attempts: t.attempts,
        turns: t.steps.filter((s) => s.role === "attempt" || s.role === "candidate").map((s) => (s.correct ? "+" : "-") + (s.selected ? "*" : "")).join(""),
        tokens: t.tokens,
        last: (t.steps.filter((s) => s.feedback).at(-1)?.feedback ?? "").replace(/\s+/g, " ").slice(0, 60),
      })),
      [{ key: "task" }, { key: "solved" }, { key: "stop" }, { key: "attempts" }, { key: "turns" }, { key: "tokens" }, { key: "last", title: "last feedback" }],
    ),
  );
  out("turns: + correct, - wrong, * picked (best-of-n); --json prints every step with its output and feedback.\n");
}

export function register(program: Command): void {
  const loop = program.command("loop").description("test-time loops that put feedback back into the policy's prompt; runs and traces are stored");
  for (const cli of Object.keys(DESCRIPTIONS) as LoopCli[]) {
    addLoopOptions(loop.command(cli).description(DESCRIPTIONS[cli]), cli).action(async (opts: LoopCliOptions & { submit?: boolean }) => {
      if (opts.submit) await submitLoop(cli, opts as never);
      else await runLoopCommand(cli, opts);
    });
  }
  loop
    .command("report")
    .description("a stored run: its metrics, and per task the attempts with their outputs and feedback")
    .argument("<run>", "run id")
    .option("--project <name>", "project", "default")
    .option("--json", "print the report as JSON")
    .addOption(dbOption())
    .action(async (run: string, opts: DbOptions & { project: string; json?: boolean }) => {
      const r = await withStore(opts, (store) => loopRunReport(store, run, { project: opts.project, outputs: !!opts.json }));
      if (opts.json) out(JSON.stringify(r) + "\n");
      else printReport(r);
    });
  loop
    .command("list")
    .description("stored loop runs, newest first")
    .option("--project <name>", "project", "default")
    .option("--limit <n>", "at most this many", int("--limit"), 20)
    .option("--json", "print JSON")
    .addOption(dbOption())
    .action(async (opts: DbOptions & { project: string; limit: number; json?: boolean }) => {
      const runs = await withStore(opts, (store) => store.loops.list({ project: opts.project, limit: opts.limit }));
      if (opts.json) {
        out(JSON.stringify(runs) + "\n");
        return;
      }
      out(
        table(
          runs.map((r) => {
            const s = r.summary as Partial<LoopSummary> | undefined;
            return { run: r.id, loop: r.loop, status: r.status, tasks: s?.tasks, solved: s?.solved, accuracy: s?.accuracy, started: r.createdAt };
          }),
          [{ key: "run" }, { key: "loop" }, { key: "status" }, { key: "tasks" }, { key: "solved" }, { key: "accuracy", digits: 3 }, { key: "started" }],
        ),
      );
    });
}
