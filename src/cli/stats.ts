import { type DbOptions, out, withStore } from "./shared.js";

export async function runStats(opts: DbOptions & { project: string; json?: boolean }): Promise<void> {
  await withStore(opts, async (store) => {
    const c = await store.counts(opts.project);
    if (opts.json) {
      out(JSON.stringify({ project: opts.project, ...c }) + "\n");
      return;
    }
    const kinds = Object.entries(c.byKind)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
    out(`project ${opts.project}: ${c.items} items, ${c.generations} generations, ${c.feedback} feedback${kinds ? ` (${kinds})` : ""}\n`);
  });
}
