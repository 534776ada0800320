/**
 * `rlxf memory distill|list|show|retire|search`: principles and corrections distilled from stored feedback.
 */
import { type Command, Option } from "commander";
import { NotFoundError } from "../errors.js";
import { MemoryRetriever, distillMemory, measureOvergeneralization, readTasks } from "../loops/index.js";
import { MEMORY_KINDS, MEMORY_STATUSES, type MemoryKind, type MemoryStatus } from "../store/index.js";
import { type ModelCliOptions, addModelOptions, modelFrom } from "./model-options.js";
import { progress } from "./progress.js";
import { type DbOptions, dbOption, int, out, table, withStore, projectOption } from "./shared.js";

interface DistillCli extends ModelCliOptions {
  project: string;
  sourceType?: string[];
  since?: string;
  limit?: number;
  json?: boolean;
}

const cut = (s: string, n: number) => {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
};

export function register(program: Command): void {
  const memory = program.command("memory").description("memory of feedback: principles (with scopes) and past corrections distilled from stored critiques and corrections");

  addModelOptions(
    memory
      .command("distill")
      .description("turn every stored critique and correction into a principle (corrections are also kept as past corrections); with --model, the model writes each principle and its scope")
      .addOption(projectOption("project"))
      .option("--source-type <type...>", "only feedback from these source types (human, judge, critic, verifier, simulated, user)")
      .option("--since <time>", "only feedback created since (ISO-8601)")
      .option("--limit <n>", "distil at most this many feedback records", int("--limit"))
      .option("--json", "print the new entries as JSON lines")
      .addOption(dbOption()),
  ).action(async (opts: DistillCli) => {
    await withStore(opts, async (store) => {
      // A model writes the principles only when one is named on the command line.
      const model = opts.model ? modelFrom(opts, undefined) : undefined;
      const bar = progress("distilling feedback");
      try {
        const r = await distillMemory(store, {
          project: opts.project,
          ...(model ? { model } : {}),
          ...(opts.sourceType ? { sourceTypes: opts.sourceType } : {}),
          ...(opts.since ? { since: opts.since } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          onProgress: () => bar.tick(),
        }).finally(() => bar.done());
        if (opts.json) for (const e of r.entries) out(JSON.stringify(e) + "\n");
        else {
          for (const e of r.entries) out(`${e.id}  ${e.kind}  ${cut(e.text, 100)}\n`);
          const why = Object.entries(r.skippedBy).map(([reason, n]) => `${n} ${reason}`).join(", ");
          out(`distilled ${r.seen} feedback record(s): ${r.inserted} new entr${r.inserted === 1 ? "y" : "ies"}, ${r.skipped} skipped${why ? ` (${why})` : ""}\n`);
        }
      } finally {
        await model?.close();
      }
    });
  });

  memory
    .command("list")
    .description("memory entries")
    .addOption(projectOption("project"))
    .addOption(new Option("--kind <kind>", "only this kind").choices([...MEMORY_KINDS]))
    .addOption(new Option("--status <status>", "only this status").choices([...MEMORY_STATUSES]))
    .option("--json", "one JSON entry per line")
    .addOption(dbOption())
    .action(async (opts: DbOptions & { project: string; kind?: MemoryKind; status?: MemoryStatus; json?: boolean }) => {
      const entries = await withStore(opts, (s) => s.memory.list({ project: opts.project, ...(opts.kind ? { kind: opts.kind } : {}), ...(opts.status ? { status: opts.status } : {}) }));
      if (opts.json) {
        for (const e of entries) out(JSON.stringify(e) + "\n");
        return;
      }
      out(
        table(
          entries.map((e) => ({ id: e.id, kind: e.kind, status: e.status, text: cut(e.text, 60), when: cut(e.scope.when, 40), from: e.provenance.feedbackIds.join(",") })),
          [{ key: "id" }, { key: "kind" }, { key: "status" }, { key: "text" }, { key: "when", title: "applies when" }, { key: "from", title: "feedback" }],
        ),
      );
    });

  memory
    .command("show")
    .description("one memory entry with its scope and provenance")
    .argument("<id>", "entry id")
    .addOption(projectOption("project"))
    .option("--json", "print JSON")
    .addOption(dbOption())
    .action(async (id: string, opts: DbOptions & { project: string; json?: boolean }) => {
      const e = await withStore(opts, (s) => s.memory.get(opts.project, id));
      if (!e) throw new NotFoundError(`no memory entry "${id}" in project "${opts.project}" (rlxf memory list shows them)`);
      if (opts.json) {
        out(JSON.stringify(e) + "\n");
        return;
      }
      out(`${e.id} (${e.kind}, ${e.status}${e.retiredAt ? ` since ${e.retiredAt}` : ""}), created ${e.createdAt}\n\n${e.text}\n\n`);
      out(`applies when: ${e.scope.when}\n`);
      if (e.scope.whenNot) out(`does not apply when: ${e.scope.whenNot}\n`);
      for (const x of e.scope.examples) out(`  example: ${cut(x, 120)}\n`);
      for (const x of e.scope.counterExamples ?? []) out(`  counter-example: ${cut(x, 120)}\n`);
      out(`from feedback ${e.provenance.feedbackIds.join(", ")} on generation(s) ${e.provenance.generationIds.join(", ") || "-"} of item(s) ${e.provenance.itemIds.join(", ")}\n`);
    });

  memory
    .command("retire")
    .description("retire an entry: it is kept, but no longer retrieved")
    .argument("<id>", "entry id")
    .addOption(projectOption("project"))
    .addOption(dbOption())
    .action(async (id: string, opts: DbOptions & { project: string }) => {
      const changed = await withStore(opts, (s) => s.memory.retire(opts.project, id));
      out(changed ? `retired ${id}\n` : `${id} was already retired\n`);
    });

  addModelOptions(
    memory
      .command("overgeneralization")
      .description("C3PO's over-generalisation of an entry: how often it changes the policy's outputs on inputs outside its scope (forced into every prompt, and as retrieved)")
      .argument("<id>", "entry id")
      .requiredOption("--in-scope <file>", "JSONL of inputs the entry should change ({prompt})")
      .requiredOption("--out-of-scope <file>", "JSONL of inputs it must leave alone ({prompt})")
      .addOption(projectOption("project"))
      .option("--min-similarity <x>", "least similarity to an entry's scope, for retrieval", Number, 0.3)
      .option("--json", "print JSON")
      .addOption(dbOption()),
  ).action(async (id: string, opts: ModelCliOptions & { inScope: string; outOfScope: string; project: string; minSimilarity: number; json?: boolean }) => {
    const inScope = (await readTasks(opts.inScope)).map((t) => t.prompt);
    const outOfScope = (await readTasks(opts.outOfScope)).map((t) => t.prompt);
    await withStore(opts, async (store) => {
      const entry = await store.memory.get(opts.project, id);
      if (!entry) throw new NotFoundError(`no memory entry "${id}" in project "${opts.project}" (rlxf memory list shows them)`);
      const model = modelFrom(opts, undefined);
      const bar = progress("measuring", inScope.length + outOfScope.length);
      try {
        const r = await measureOvergeneralization({
          policy: { model },
          entry,
          inScope,
          outOfScope,
          retriever: new MemoryRetriever(store, { project: opts.project, minSimilarity: opts.minSimilarity }),
          onProgress: () => bar.tick(),
        }).finally(() => bar.done());
        if (opts.json) {
          out(JSON.stringify(r) + "\n");
          return;
        }
        const p = (x: number | null) => (x === null ? "n/a" : `${(100 * x).toFixed(1)}%`);
        out(`${id}: over-generalisation ${p(r.overgeneralization)} (out-of-scope outputs changed with the memory as retrieved)\n`);
        out(`  forced into every prompt: changes ${p(r.forced.inScope.rate)} of in-scope and ${p(r.forced.outOfScope.rate)} of out-of-scope outputs\n`);
        if (r.retrieved) {
          out(`  as retrieved: injected into ${r.retrieved.inScope.injected}/${r.retrieved.inScope.n} in-scope and ${r.retrieved.outOfScope.injected}/${r.retrieved.outOfScope.n} out-of-scope inputs; changes ${p(r.retrieved.inScope.rate)} and ${p(r.retrieved.outOfScope.rate)}\n`);
        }
      } finally {
        await model.close();
      }
    });
  });

  memory
    .command("search")
    .description("the active entries a loop would put in the prompt for this input")
    .argument("<text>", "an input")
    .addOption(projectOption("project"))
    .option("--k <n>", "at most this many", int("--k"), 3)
    .option("--min-similarity <x>", "least similarity to an entry's scope", Number, 0.3)
    .option("--json", "print JSON")
    .addOption(dbOption())
    .action(async (text: string, opts: DbOptions & { project: string; k: number; minSimilarity: number; json?: boolean }) => {
      const found = await withStore(opts, (s) => new MemoryRetriever(s, { project: opts.project, k: opts.k, minSimilarity: opts.minSimilarity }).retrieve(text));
      if (opts.json) out(JSON.stringify(found) + "\n");
      else out(table(found.map((f) => ({ id: f.id, kind: f.kind, similarity: f.similarity, text: cut(f.text, 80) })), [{ key: "id" }, { key: "kind" }, { key: "similarity", digits: 3 }, { key: "text" }]));
    });
}
