/** `rlxf critic eval|list|show`: closed-loop critic evaluation (RealCritic's protocol) and its saved results. */
import { type Command, InvalidArgumentError } from "commander";
import {
  type CriticEvalResult,
  type CriticMetrics,
  type CriticRole,
  type SolutionSet,
  MAX_ROUNDS,
  evaluateCritic,
  getCriticEval,
  listCriticEvals,
  readSolutions,
  resolveCriticJudge,
  saveCriticEval,
  solutionsFromStore,
} from "../critics/index.js";
import { ValidationError } from "../errors.js";
import { Id } from "../feedback/schema.js";
import { type Model, StoreResponseCache } from "../providers/index.js";
import { badKeyString } from "../store/index.js";
import type { Store } from "../store/index.js";
import { type ModelCliOptions, addModelOptions, modelFrom, modelSummary } from "./model-options.js";
import { progress } from "./progress.js";
import { type DbOptions, dbOption, info, out, storeFrom, table, withStore, projectOption, webAppHint } from "./shared.js";

interface CriticEvalCliOptions extends ModelCliOptions {
  criticModel?: string;
  criticBaseUrl?: string;
  criticApiKey?: string;
  actorModel?: string;
  actorBaseUrl?: string;
  actorApiKey?: string;
  critic?: string;
  rounds: number;
  reviseOnPass?: boolean;
  tasks?: string[];
  limit?: number;
  parallel: number;
  actorMaxTokens?: number;
  actorTemperature?: number;
  fromStore?: boolean;
  save?: string;
  description?: string;
  project: string;
  json?: boolean;
}

const positiveInt = (name: string, max = Number.MAX_SAFE_INTEGER) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}`);
  return n;
};
const nonNegative = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative number`);
  return n;
};
const list = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);

const pct = (x: number | null | undefined) => (x === null || x === undefined ? null : 100 * x);

/** One table row of metrics. */
export function metricsRow(name: string, m: CriticMetrics): Record<string, unknown> {
  return {
    task: name,
    n: m.solutions,
    before: pct(m.accuracyBefore),
    after: pct(m.accuracyAfter),
    delta: pct(m.delta),
    fixed: m.fixed,
    broken: m.broken,
    verdictAcc: pct(m.verdictAccuracy),
    balancedAcc: pct(m.balancedAccuracy),
    f1: m.errorDetection.f1,
    tokensPerFixed: m.tokensPerFixed === null ? null : Math.round(m.tokensPerFixed),
    costPerFixed: m.costPerFixedUsd,
    errors: m.errors,
  };
}

export const METRIC_COLUMNS = [
  { key: "task" },
  { key: "n" },
  { key: "before", title: "acc before %", digits: 1 },
  { key: "after", title: "acc after %", digits: 1 },
  { key: "delta", title: "Δ %", digits: 1 },
  { key: "fixed" },
  { key: "broken" },
  { key: "verdictAcc", title: "verdict acc %", digits: 1 },
  { key: "balancedAcc", title: "balanced acc %", digits: 1 },
  { key: "f1", title: "error F1", digits: 3 },
  { key: "tokensPerFixed", title: "tokens/fixed" },
  { key: "costPerFixed", title: "$/fixed", digits: 4 },
  { key: "errors" },
];

export function printCriticEval(r: CriticEvalResult): void {
  const s = r.setting;
  out(`${s.label}: critic ${s.critic} (${s.judge}), actor ${s.actor}${s.reviseOnPass ? ", revising passed solutions too" : ""}; ${r.overall.solutions} solutions in ${r.seconds.toFixed(1)} s\n`);
  out(table([...r.tasks.map((t) => metricsRow(t.task, t)), metricsRow("all", r.overall)], METRIC_COLUMNS));
  if (s.rounds > 1) out(`accuracy per round: ${r.overall.accuracyPerRound.map((a, i) => `${i === 0 ? "before" : `round ${i}`} ${(100 * a).toFixed(1)}%`).join(", ")}\n`);
  const o = r.overall;
  out(
    `tokens: ${o.tokens.total} (critic ${o.tokens.critic}, actor ${o.tokens.actor}) in ${o.calls.critic} critic and ${o.calls.actor} actor calls` +
      `${o.costUsd !== null ? `; cost $${o.costUsd.toFixed(4)}` : ""}\n`,
  );
}

function checkName(flag: string, v: string | undefined): void {
  if (v === undefined) return;
  const r = Id.safeParse(v);
  const bad = r.success ? badKeyString(v) : r.error.issues[0]?.message;
  if (bad) throw new ValidationError([{ path: flag, message: `${JSON.stringify(v)} is not a valid name: ${bad}` }], undefined, "option");
}

/** Only some tasks, and at most `limit` solutions of each. */
function narrow(set: SolutionSet, tasks?: string[], limit?: number): SolutionSet {
  let solutions = set.solutions;
  if (tasks) {
    const known = new Set(solutions.map((s) => s.task));
    const missing = tasks.filter((t) => !known.has(t));
    if (missing.length) throw new ValidationError([{ path: "--tasks", message: `no solutions of ${missing.join(", ")}; the input has ${[...known].sort().join(", ")}` }], undefined, "option");
    solutions = solutions.filter((s) => tasks.includes(s.task));
  }
  if (limit !== undefined) {
    const seen = new Map<string, number>();
    solutions = solutions.filter((s) => {
      const n = seen.get(s.task) ?? 0;
      seen.set(s.task, n + 1);
      return n < limit;
    });
  }
  return { ...set, solutions };
}

export async function runCriticEval(files: string[], o: CriticEvalCliOptions): Promise<CriticEvalResult> {
  checkName("--save", o.save);
  checkName("--project", o.project);
  const judge = resolveCriticJudge(o.critic);
  const criticSelf = o.criticModel === "self";
  const actorRef = o.actorModel ?? (criticSelf ? "self" : "critic");
  const needStore = o.cache || o.fromStore || o.save !== undefined;
  const store: Store | undefined = needStore ? await storeFrom(o, { create: !o.fromStore }) : undefined;
  const models: Model[] = [];
  try {
    const set = o.fromStore ? await solutionsFromStore(store!, o.project) : await readSolutions(files, { project: o.project });
    for (const sk of set.skipped) info(`  skipped ${sk.count} generation(s): ${sk.reason}\n`);
    const { solutions } = narrow(set, o.tasks, o.limit);
    const cache = o.cache && store ? new StoreResponseCache(store.responseCache, { project: o.project }) : undefined;
    const pricing = o.priceInput !== undefined || o.priceOutput !== undefined ? { inputPerMillion: o.priceInput ?? 0, outputPerMillion: o.priceOutput ?? 0 } : undefined;
    const criticModel = modelFrom(
      {
        ...o,
        model: (criticSelf ? undefined : o.criticModel) ?? o.model ?? (criticSelf ? "self" : undefined),
        ...(o.criticBaseUrl ? { baseUrl: o.criticBaseUrl } : {}),
        ...(o.criticApiKey ? { apiKey: o.criticApiKey } : {}),
      },
      cache,
    );
    models.push(criticModel);
    let actorModel = criticModel;
    if (actorRef !== "critic" && (actorRef !== "self" || o.actorBaseUrl || o.actorApiKey)) {
      actorModel = modelFrom(
        {
          ...o,
          model: actorRef === "self" ? (o.model ?? "self") : actorRef,
          ...(o.actorBaseUrl ?? o.criticBaseUrl ? { baseUrl: o.actorBaseUrl ?? o.criticBaseUrl } : {}),
          ...(o.actorApiKey ?? o.criticApiKey ? { apiKey: o.actorApiKey ?? o.criticApiKey } : {}),
        },
        cache,
      );
      models.push(actorModel);
    }
    const critic: CriticRole & { judge: typeof judge } = { model: criticModel, self: criticSelf, judge, ...(pricing ? { pricing } : {}) };
    const actor = {
      model: actorModel,
      self: actorRef === "self" || (actorRef === "critic" && criticSelf),
      ...(pricing ? { pricing } : {}),
      ...(o.actorMaxTokens !== undefined ? { maxTokens: o.actorMaxTokens } : {}),
      ...(o.actorTemperature !== undefined ? { temperature: o.actorTemperature } : {}),
    };
    const bar = progress("critic eval", solutions.length);
    let result: CriticEvalResult;
    try {
      result = await evaluateCritic(solutions, { critic, actor, rounds: o.rounds, reviseOnPass: !!o.reviseOnPass, concurrency: o.parallel, onProgress: () => bar.tick(1) });
    } finally {
      bar.done();
    }
    if (o.save) {
      const saved = await saveCriticEval(store!, { project: o.project, name: o.save, ...(o.description !== undefined ? { description: o.description } : {}), result });
      info(`saved as ${saved.name}@${saved.version} in project "${saved.project}"; ${webAppHint(`/critics/${encodeURIComponent(saved.name)}`, o)}\n`);
    }
    if (o.json) out(`${JSON.stringify({ ...result, outcomes: undefined })}\n`);
    else printCriticEval(result);
    const say = o.json ? info : out;
    for (const m of models) say(`  ${m === criticModel ? (m === actorModel ? "critic and actor" : "critic") : "actor"} ${modelSummary(m.stats())}\n`);
    return result;
  } finally {
    for (const m of models) await m.close();
    await store?.close();
  }
}

export function register(program: Command): void {
  const critic = program.command("critic").description("closed-loop critic evaluation: does a critic's critique help an actor fix its solutions? (RealCritic)");
  addModelOptions(
    critic
      .command("eval")
      .description("critique every solution, let an actor revise from the critique, check the revision; discriminability, accuracy before/after, fixed/broken, cost per fix")
      .argument("[files...]", "solutions with correctness labels: RealCritic JSONL (e.g. ../shared/data/realcritic/*.jsonl.gz) or rlxf records")
      .option("--critic-model <name>", 'the critic\'s model, or "self" (each solution\'s own model: self-critique) (default: --model)')
      .option("--critic-base-url <url>", "the critic's endpoint (default: --base-url)")
      .option("--critic-api-key <key>", "the critic's API key (default: --api-key)")
      .option("--actor-model <name>", 'the actor\'s model, "self" (each solution\'s own model) or "critic" (default: "self" with a self critic, else "critic")')
      .option("--actor-base-url <url>", "the actor's endpoint (default: the critic's)")
      .option("--actor-api-key <key>", "the actor's API key (default: the critic's)")
      .option("--critic <judge>", "critic config: solution-critique (default), critique, or a JSON file of kind critique")
      .option("--rounds <k>", `critique → revision rounds (iterative critique when > 1; at most ${MAX_ROUNDS})`, positiveInt("--rounds", MAX_ROUNDS), 1)
      .option("--revise-on-pass", "let the actor revise solutions the critic passes too")
      .option("--tasks <list>", "only these tasks (comma-separated, e.g. math,gsm8k)", list)
      .option("--limit <n>", "at most n solutions per task", positiveInt("--limit"))
      .option("--parallel <n>", "solutions worked on at once", positiveInt("--parallel", 1024), 16)
      .option("--actor-max-tokens <n>", "longest revision (tokens; default 4096)", positiveInt("--actor-max-tokens", 1_000_000))
      .option("--actor-temperature <t>", "the actor's sampling temperature (default 0)", nonNegative("--actor-temperature"))
      .option("--from-store", "critique the solutions stored in --project (items with a reference, generations with verification labels) instead of files")
      .option("--save <name>", "keep the result in the store under this name (a new version each time); the web app plots it")
      .option("--description <text>", "a note saved with the result")
      .addOption(projectOption("project of the records read and of the saved result"))
      .option("--json", "print the result as one JSON object (the rest goes to stderr)")
      .addOption(dbOption()),
  ).action(async (files: string[], o: CriticEvalCliOptions) => {
    if (!o.fromStore && files.length === 0) throw new ValidationError([{ path: "files", message: "give solution files (e.g. ../shared/data/realcritic/*.jsonl.gz), or --from-store" }], undefined, "arguments");
    await runCriticEval(files, o);
  });

  critic
    .command("list")
    .description("saved critic evaluations, newest first")
    .addOption(projectOption("project"))
    .option("--json", "print JSON")
    .addOption(dbOption())
    .action(async (o: DbOptions & { project: string; json?: boolean }) => {
      const rows = await withStore(o, (store) => listCriticEvals(store, o.project));
      if (o.json) {
        out(`${JSON.stringify(rows)}\n`);
        return;
      }
      out(
        table(
          rows.map((r) => ({ name: r.name, version: r.version, setting: r.setting.label, n: r.solutions, before: pct(r.accuracyBefore), after: pct(r.accuracyAfter), fixed: r.fixed, broken: r.broken, saved: r.createdAt })),
          [{ key: "name" }, { key: "version" }, { key: "setting" }, { key: "n" }, { key: "before", title: "acc before %", digits: 1 }, { key: "after", title: "acc after %", digits: 1 }, { key: "fixed" }, { key: "broken" }, { key: "saved" }],
        ),
      );
    });

  critic
    .command("show")
    .description("a saved critic evaluation: metrics per task and overall")
    .argument("<name>", "its name")
    .option("--at-version <n>", "a saved version (default: the latest)", positiveInt("--at-version"))
    .addOption(projectOption("project"))
    .option("--json", "print the saved result as JSON")
    .addOption(dbOption())
    .action(async (name: string, o: DbOptions & { project: string; atVersion?: number; json?: boolean }) => {
      const saved = await withStore(o, (store) => getCriticEval(store, o.project, name, o.atVersion));
      if (o.json) out(`${JSON.stringify(saved)}\n`);
      else {
        out(`${saved.name}@${saved.version}, saved ${saved.createdAt}${saved.description ? ` · ${saved.description}` : ""}\n`);
        printCriticEval(saved.result);
      }
    });
}
