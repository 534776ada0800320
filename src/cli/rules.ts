/**
 * `rlxf rules`: judges on live traffic. `add` makes a rule (a judge or a reward spec on every new generation that
 * matches a filter, on a deterministic sample, at most so many an hour), `list` and `show` give each with its
 * counts, `disable`/`enable` pause and resume it, `rm` deletes it. The evaluations run in `rlxf serve` or
 * `rlxf worker` on the same database.
 */
import { existsSync, readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { RlxfError, ValidationError } from "../errors.js";
import { modelInputOf } from "./jobs.js";
import { type DbOptions, dbOption, info, int, out, projectOption, table, withStore } from "./shared.js";

/** Loaded when a command runs (it brings the judges and reward specs). */
const rulesRoom = () => import("../rules/index.js");

interface AddOptions extends DbOptions {
  project: string;
  id?: string;
  name: string;
  description?: string;
  judge?: string;
  verifier?: string;
  baseUrl?: string;
  model?: string;
  dataset?: string;
  policy?: string;
  meta: Record<string, string>;
  sampleRate?: number;
  maxPerHour?: number;
  disabled?: boolean;
  json?: boolean;
}

const rate = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1) || v.trim() === "") throw new InvalidArgumentError("must be a number from 0 to 1");
  return n;
};

const metaPair = (v: string, prev: Record<string, string>): Record<string, string> => {
  const i = v.indexOf("=");
  if (i <= 0) throw new InvalidArgumentError("must be key=value");
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
};

/** A judge name, or the path of a judge config (JSON). */
function judgeRef(v: string): string | Record<string, unknown> {
  if (!/\.json$/i.test(v) || !existsSync(v)) return v;
  try {
    return JSON.parse(readFileSync(v, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new RlxfError("invalid_file", `--judge: cannot read "${v}" as a JSON judge config: ${(e as Error).message}`, { field: "judge" });
  }
}

async function runAdd(opts: AddOptions): Promise<void> {
  const { createRule, CreateRuleBody, ruleView } = await rulesRoom();
  const model = opts.judge !== undefined || opts.baseUrl !== undefined || opts.model !== undefined ? modelInputOf({ ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) }, opts.model) : undefined;
  const filter = {
    ...(opts.dataset !== undefined ? { dataset: opts.dataset } : {}),
    ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
    ...(Object.keys(opts.meta).length ? { metadata: opts.meta } : {}),
  };
  const parsed = CreateRuleBody.safeParse({
    ...(opts.id !== undefined ? { id: opts.id } : {}),
    name: opts.name,
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...(opts.judge !== undefined ? { judge: judgeRef(opts.judge) } : {}),
    ...(opts.verifier !== undefined ? { verifier: opts.verifier } : {}),
    ...(model && Object.keys(model).length ? { model } : {}),
    ...(Object.keys(filter).length ? { filter } : {}),
    ...(opts.sampleRate !== undefined ? { sampleRate: opts.sampleRate } : {}),
    ...(opts.maxPerHour !== undefined ? { maxPerHour: opts.maxPerHour } : {}),
    ...(opts.disabled ? { enabled: false } : {}),
  });
  if (!parsed.success) {
    throw new ValidationError(parsed.error.issues.map((i) => ({ path: i.path.join(".") === "judge" ? "--judge or --verifier" : i.path.join("."), message: i.message })), undefined, "rule");
  }
  // A rule may come before any data: it judges the generations written after it.
  const rule = await withStore(opts, (store) => createRule(store, opts.project, parsed.data), { create: true });
  if (opts.json) {
    out(`${JSON.stringify(ruleView(rule, undefined))}\n`);
    return;
  }
  out(`${rule.id}\n`);
  if (!rule.created) info(`rule "${rule.id}" was already there with this definition: nothing changed\n`);
  else info(`rule "${rule.name}" (${rule.pairwise ? "pairs of new generations" : "new generations"}) in project "${rule.project}"; it runs in \`rlxf serve\` or \`rlxf worker\` on this database\n`);
}

async function runList(opts: DbOptions & { project: string; json?: boolean }): Promise<void> {
  const { ruleView } = await rulesRoom();
  const views = await withStore(opts, async (store) => {
    const [rules, counts] = await Promise.all([store.rules.list(opts.project), store.rules.counts(opts.project)]);
    return rules.map((r) => ruleView(r, counts.get(r.id)));
  });
  if (opts.json) {
    out(`${JSON.stringify(views)}\n`);
    return;
  }
  if (views.length === 0) {
    out(`no rules in project "${opts.project}"\n`);
    return;
  }
  const rows = views.map((v) => ({
    id: v.id,
    name: v.name,
    state: v.enabled ? "enabled" : "disabled",
    runs: v.judge !== undefined ? `judge ${typeof v.judge === "string" ? v.judge : String((v.judge as { name?: unknown }).name ?? "config")}` : `verifier ${v.verifier}`,
    filter: Object.entries({ ...v.filter, ...(v.filter.metadata ? { metadata: Object.entries(v.filter.metadata).map(([k, x]) => `${k}=${x}`).join(" ") } : {}) }).map(([k, x]) => `${k}=${x}`).join(", ") || "all",
    sample: v.sampleRate,
    perHour: v.maxPerHour,
    ...v.counts,
  }));
  out(
    table(rows, [
      { key: "id" },
      { key: "name" },
      { key: "state" },
      { key: "runs" },
      { key: "filter" },
      { key: "sample" },
      { key: "perHour", title: "max/h" },
      { key: "matched" },
      { key: "evaluated" },
      { key: "failed" },
      { key: "pending" },
    ]),
  );
}

async function runShow(id: string, opts: DbOptions & { project: string }): Promise<void> {
  const { ruleView } = await rulesRoom();
  const view = await withStore(opts, async (store) => {
    const r = await store.rules.get(opts.project, id);
    return r && ruleView(r, (await store.rules.counts(opts.project)).get(id));
  });
  if (!view) throw new RlxfError("not_found", `no rule "${id}" in project "${opts.project}" (see rlxf rules list)`);
  out(`${JSON.stringify(view, null, 2)}\n`);
}

async function setEnabled(id: string, opts: DbOptions & { project: string }, enabled: boolean): Promise<void> {
  const r = await withStore(opts, (store) => store.rules.update(opts.project, id, { enabled }));
  if (!r) throw new RlxfError("not_found", `no rule "${id}" in project "${opts.project}" (see rlxf rules list)`);
  out(`${enabled ? "enabled" : "disabled"} rule ${r.id} ("${r.name}")\n`);
}

async function runRemove(id: string, opts: DbOptions & { project: string }): Promise<void> {
  const gone = await withStore(opts, (store) => store.rules.remove(opts.project, id));
  if (!gone) throw new RlxfError("not_found", `no rule "${id}" in project "${opts.project}" (see rlxf rules list)`);
  out(`deleted rule ${id}\n`);
}

export function register(program: Command): void {
  const rules = program.command("rules").description("judges on live traffic: a judge or verifier on every new generation that matches a filter");
  const project = (c: Command) => c.addOption(projectOption("the project")).addOption(dbOption());

  project(
    rules
      .command("add")
      .description("add a rule: new generations (or new pairs, for a pairwise judge) matching the filter get evaluated, once each")
      .requiredOption("--name <name>", "a name people read")
      .option("--id <id>", "the rule's id (default: a new random one); adding it again with the same definition changes nothing")
      .option("--description <text>", "what the rule is for")
      .option("--judge <name-or-file>", "a shipped judge (critique, rubric, reference, pairwise...) or a judge config file (.json)")
      .option("--verifier <spec>", "a reward spec by name: a saved spec (name or name@N) or a verifier (math, code...)")
      .option("--base-url <url>", "the judge's OpenAI-compatible endpoint (default: $RLXF_BASE_URL); workers bring the key")
      .option("--model <name>", "the judge's model (default: $RLXF_MODEL)")
      .option("--dataset <name>", "only generations of items in this dataset")
      .option("--policy <name>", "only generations of this policy")
      .option("--meta <key=value>", "only generations whose metadata has key=value (repeat for more)", metaPair, {})
      .option("--sample-rate <r>", "share of matching generations evaluated, 0..1, decided from each id (default 1)", rate)
      .option("--max-per-hour <n>", "evaluations per hour at most (default 1000); the rest wait as backlog", int("--max-per-hour"))
      .option("--disabled", "add it disabled")
      .option("--json", "print the rule as JSON"),
  ).action(runAdd);

  project(rules.command("list").description("the project's rules with their counts: matched, evaluated, failed, pending (the backlog)").option("--json", "print JSON")).action(runList);
  project(rules.command("show").description("one rule with its counts, as JSON").argument("<id>", "the rule id")).action(runShow);
  project(rules.command("disable").description("stop a rule: it marks no new generations and runs none of its backlog").argument("<id>", "the rule id")).action((id: string, o: DbOptions & { project: string }) => setEnabled(id, o, false));
  project(rules.command("enable").description("resume a rule (its backlog runs again)").argument("<id>", "the rule id")).action((id: string, o: DbOptions & { project: string }) => setEnabled(id, o, true));
  project(rules.command("rm").description("delete a rule and its pending evaluations (its verdicts stay)").argument("<id>", "the rule id")).action(runRemove);
}
