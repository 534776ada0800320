/**
 * A queue on the bundled demo project, as a newcomer makes it: pairs of two policies of the demo dataset,
 * annotated to the end; the statistics then compare the human answers with the demo's judge.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { demoDatasetPath } from "../../src/cli/demo.js";
import { Rlxf } from "../../src/client/index.js";
import { readImportFile } from "../../src/io/index.js";
import { createApp, listen, type RunningServer } from "../../src/server/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { keyOf } from "./helpers.js";

let store: Store;
let running: RunningServer;

beforeAll(async () => {
  store = await openStore({ path: ":memory:" });
  const batch = await readImportFile(demoDatasetPath(), { project: "demo" });
  await store.write({ items: batch.items, generations: batch.generations, feedback: batch.feedback });
  running = await listen(createApp({ store, log: () => {} }), { port: 0 });
});
afterAll(async () => {
  await running.close();
  await store.close();
});

it("annotates the demo's reference-gpt vs tiny-chat pairs and compares them with the demo judge", async () => {
  const admin = new Rlxf({ url: running.url, key: await keyOf(store, "demo", "admin"), flushOnExit: false });
  const q = await admin.createQueue({
    id: "demo-pairs",
    name: "reference-gpt vs tiny-chat",
    selection: { mode: "pairs", dataset: "rlxf-demo", policies: ["reference-gpt", "tiny-chat"] },
    questions: [
      { id: "pref", kind: "pairwise", prompt: "Which answer is better?", strength: true },
      { id: "quality", kind: "rating", prompt: "How good is it?", min: 1, max: 5, required: false },
    ],
  });
  expect(q.progress.tasks).toBe(6);

  const alice = new Rlxf({ url: running.url, key: await keyOf(store, "demo", "annotate", "alice"), flushOnExit: false });
  let n = 0;
  for (let task = await alice.nextTask("demo-pairs"); task; task = await alice.nextTask("demo-pairs")) {
    // Alice always prefers reference-gpt, whichever side it is shown on.
    const refOutput = (await store.getGeneration("demo", `${task.item.id}/reference-gpt`))!.output;
    const refSlot = task.generations.findIndex((g) => g.output === refOutput);
    expect(refSlot).toBeGreaterThanOrEqual(0);
    await alice.submitTask("demo-pairs", task.id, { pref: { choice: refSlot === 0 ? "first" : "second", strength: 1 }, quality: [4, 2] });
    n++;
  }
  expect(n).toBe(6);

  const human = (await store.listFeedback({ project: "demo", sourceId: "alice", kind: "pairwise", limit: 100 })).records.filter((f) => f.metadata?.queueId === "demo-pairs");
  expect(human).toHaveLength(6);
  for (const f of human) {
    expect(f.targets[0]).toMatch(/\/reference-gpt$/);
    expect(f.kind === "pairwise" && f.value.choice).toBe("first");
  }

  // The demo judge's verdicts on the same pairs, from the file itself.
  const judged = readFileSync(demoDatasetPath(), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { kind?: string; targets?: string[]; source?: { type: string }; value?: { choice: string } })
    .filter((r) => r.kind === "pairwise" && r.source?.type === "judge" && /\/reference-gpt$/.test(r.targets![0]!) && /\/tiny-chat$/.test(r.targets![1]!));
  expect(judged.length).toBeGreaterThan(0);
  const stats = (await admin.queueStats("demo-pairs")) as { questions: { id: string; judges: { source: { id: string }; n: number; agreement: number }[] }[] };
  const pref = stats.questions.find((x) => x.id === "pref")!;
  expect(pref.judges).toHaveLength(1);
  expect(pref.judges[0]).toMatchObject({ source: { id: "demo-judge" }, n: judged.length });
  expect(pref.judges[0]!.agreement).toBeCloseTo(judged.filter((r) => r.value!.choice === "first").length / judged.length, 12);
});
