/**
 * Annotation queue benchmark (`npm run bench:queues`): time to take the next task and submit it
 * (`store.queues.next` + `submit`, SQLite file) at the start of a big queue and again when most of it is
 * done, in the same run; the ratio shows whether taking a task slows down as the queue fills.
 *
 * Knobs (env): BENCH_TASKS (tasks in the queue, default 20000), BENCH_SAMPLE (tasks timed at each end,
 * default 300), BENCH_PER (annotators per task, default 1).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../src/store/index.js";

const TASKS = Number(process.env.BENCH_TASKS ?? 20_000);
const SAMPLE = Number(process.env.BENCH_SAMPLE ?? 300);
const PER = Number(process.env.BENCH_PER ?? 1);
const P = "bench";

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "rlxf-bench-queues-"));
  const store = await openStore({ path: join(dir, "bench.db") });
  try {
    const items = Array.from({ length: TASKS }, (_, i) => ({ id: `i${i}`, project: P, prompt: `prompt ${i}` }));
    const generations = items.map((it) => ({ id: `${it.id}-g`, project: P, itemId: it.id, policy: "p", output: `output of ${it.id}` }));
    for (let i = 0; i < TASKS; i += 5000) await store.write({ items: items.slice(i, i + 5000), generations: generations.slice(i, i + 5000) });
    await store.queues.create(
      { project: P, id: "q", name: "bench", annotatorsPerItem: PER, lockSeconds: 600, definition: {} },
      generations.map((g) => ({ itemId: g.itemId, generationIds: [g.id] })),
    );
    let now = Date.now();
    let seq = 0;
    /** Take and submit `n` tasks as annotator `who`; ms per task. */
    const work = async (n: number, who: string, timed: boolean): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const got = await store.queues.next(P, "q", who, { now: ++now, shuffle: (k) => [...Array(k).keys()] });
        if (!got) throw new Error("queue ran out");
        const id = `f${++seq}`;
        await store.queues.submit(P, "q", got.task.id, who, {
          submissionId: id,
          records: { feedback: [{ id, project: P, kind: "binary", targets: got.task.generationIds, source: { type: "human", id: who }, value: { ok: true } }] },
          feedbackIds: [id],
          now,
        });
      }
      return timed ? (performance.now() - t0) / n : 0;
    };
    const start = await work(SAMPLE, "a0", true);
    // Most of the queue done by other annotators (untimed), leaving tasks open at the end.
    for (let a = 1; a <= PER; a++) await work(TASKS - 2 * SAMPLE, `a${a}`, false);
    const progress = await store.queues.progress(P, "q", now);
    const end = await work(SAMPLE, "z", true);
    console.log(`queue of ${TASKS} tasks (annotatorsPerItem ${PER}), SQLite file`);
    console.log(`next + submit at the start: ${start.toFixed(2)} ms/task`);
    console.log(`next + submit with ${progress.done} tasks done: ${end.toFixed(2)} ms/task`);
    console.log(`ratio end/start: ${(end / start).toFixed(2)}`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
