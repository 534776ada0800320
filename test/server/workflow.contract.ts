/**
 * The annotation workflow over a real listening server, registered once per engine (workflow.sqlite.test.ts,
 * workflow.postgres.test.ts): suggestions from stored feedback and their acceptance, an annotator's revisions,
 * adjudication, queues from the judges' router, item search, and win rates over every comparison.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createApp, listen, type RunningServer } from "../../src/server/index.js";
import type { Store } from "../../src/store/index.js";
import type { StoreFactory } from "./helpers.js";
import { keyOf } from "./helpers.js";

interface Reply {
  status: number;
  body: any;
  text: string;
}
type Http = (method: string, path: string, body?: unknown) => Promise<Reply>;

export function workflowContract(name: string, factory: StoreFactory, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`annotation workflow api: ${name}`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f();
    });

    /** Project "p": items i0..i(n-1) with generations <i>-a and <i>-b ("alpha <i>", "bravo <i>"). */
    const setup = async (n = 3) => {
      const store: Store = await factory();
      const running: RunningServer = await listen(createApp({ store, log: () => {} }), { port: 0 });
      cleanup.push(async () => {
        await running.close();
        await store.close();
      });
      const http = (key: string): Http => async (method, path, body) => {
        const res = await fetch(`${running.url}${path}`, {
          method,
          headers: { Authorization: `Bearer ${key}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        return { status: res.status, body: parsed, text };
      };
      const items = Array.from({ length: n }, (_, i) => ({ id: `i${i}`, project: "p", prompt: `question ${i}` }));
      const generations = items.flatMap((it) => [
        { id: `${it.id}-a`, project: "p", itemId: it.id, policy: "a", output: `alpha ${it.id}` },
        { id: `${it.id}-b`, project: "p", itemId: it.id, policy: "b", output: `bravo ${it.id}` },
      ]);
      await store.write({ items, generations });
      const admin = http(await keyOf(store, "p", "admin", "root"));
      const annotator = async (who: string) => http(await keyOf(store, "p", "annotate", who));
      return { store, admin, annotator, http };
    };
    const ok = (r: Reply, status = 200) => {
      expect(r.status, r.text).toBe(status);
      return r.body;
    };
    const judge = (id: string, itemId: string, targets: string[], value: Record<string, unknown>, kind = "pairwise", src = "gpt") => ({
      id,
      project: "p",
      kind,
      itemId,
      targets,
      source: { type: "judge", id: src },
      value,
    });
    /** The shown slot of a generation (by its output). */
    const slotOf = (task: any, gen: string) => task.generations.findIndex((g: any) => g.output === `${gen.endsWith("-a") ? "alpha" : "bravo"} ${gen.split("-")[0]}`);

    it("shows judges' feedback as suggestions in the annotator's terms, records whether each was kept, and reports acceptance per source", async () => {
      const { store, admin, annotator } = await setup(2);
      await store.write({
        feedback: [
          // Stored in the other order: "first" is i0-b.
          judge("j-pref", "i0", ["i0-b", "i0-a"], { choice: "first" }),
          judge("j-old", "i0", ["i0-a"], { score: 2, scale: { min: 1, max: 10 } }, "rating"),
          { ...judge("j-rate", "i0", ["i0-a"], { score: 8, scale: { min: 1, max: 10 } }, "rating"), createdAt: "2030-01-01T00:00:00Z" },
          judge("other", "i0", ["i0-a", "i0-b"], { choice: "second" }, "pairwise", "llama"),
        ],
      });
      const made = ok(
        await admin("POST", "/v1/queues", {
          id: "s",
          name: "With suggestions",
          selection: { mode: "pairs", itemIds: ["i0", "i1"] },
          annotatorsPerItem: 2,
          questions: [
            { id: "pref", kind: "pairwise", prompt: "Which?" },
            { id: "stars", kind: "rating", prompt: "Stars", min: 1, max: 5 },
          ],
          suggestions: [
            { question: "pref", source: { type: "judge", id: "gpt" } },
            { question: "stars", source: { type: "judge" } },
          ],
        }),
        201,
      );
      expect(made.queue.suggestions).toHaveLength(2);
      // A suggestion for a question the queue does not ask is refused, naming the field.
      const bad = await admin("POST", "/v1/queues", { name: "x", selection: { mode: "pairs" }, questions: [{ id: "pref", kind: "pairwise", prompt: "?" }], suggestions: [{ question: "nope", source: { type: "judge" } }] });
      expect(bad.status).toBe(400);
      expect(bad.body.error.issues).toContainEqual({ path: "suggestions.0.question", message: 'no question "nope" in this queue' });

      const ann = await annotator("ann");
      const task = ok(await ann("POST", "/v1/queues/s/next")).task;
      expect(task.item.id).toBe("i0");
      const sug = (q: string) => task.suggestions.filter((s: any) => s.question === q);
      // The judge preferred i0-b: "first" or "second" as this annotator sees the pair.
      expect(sug("pref")).toEqual([{ question: "pref", source: { type: "judge", id: "gpt" }, feedbackId: "j-pref", answer: { choice: slotOf(task, "i0-b") === 0 ? "first" : "second" } }]);
      // The latest rating, rescaled from 1-10 to 1-5 (8 → 4.1 → 4), on the slot showing i0-a.
      expect(sug("stars")).toEqual([{ question: "stars", slot: slotOf(task, "i0-a"), source: { type: "judge", id: "gpt" }, feedbackId: "j-rate", answer: { score: 4 } }]);

      // Keep the pairwise suggestion, change the rating.
      const stars: unknown[] = [null, null];
      stars[slotOf(task, "i0-a")] = { score: 2 };
      stars[slotOf(task, "i0-b")] = { score: 5 };
      const sent = ok(await ann("POST", `/v1/queues/s/tasks/${task.id}/submit`, { submissionId: "x1", answers: { pref: sug("pref")[0].answer, stars } }));
      const records = (await Promise.all(sent.feedback.map((id: string) => admin("GET", `/v1/feedback/${encodeURIComponent(id)}`)))).map((r) => r.body);
      const byQ = (q: string, gen?: string) => records.find((f: any) => f.metadata.questionId === q && (gen === undefined || f.targets[0] === gen));
      expect(byQ("pref").metadata.suggestion).toEqual({ source: { type: "judge", id: "gpt" }, feedbackId: "j-pref", accepted: true });
      expect(byQ("pref").value.choice).toBe("second"); // i0-b, in the record's order [i0-a, i0-b]
      expect(byQ("stars", "i0-a").metadata.suggestion).toEqual({ source: { type: "judge", id: "gpt" }, feedbackId: "j-rate", accepted: false });
      // No suggestion was shown for i0-b's rating.
      expect(byQ("stars", "i0-b").metadata.suggestion).toBeUndefined();

      const stats = ok(await admin("GET", "/v1/queues/s/stats"));
      const q = (id: string) => stats.questions.find((x: any) => x.id === id);
      expect(q("pref").suggestions).toEqual([{ source: { type: "judge", id: "gpt" }, shown: 1, accepted: 1, rate: 1 }]);
      expect(q("stars").suggestions).toEqual([{ source: { type: "judge", id: "gpt" }, shown: 1, accepted: 0, rate: 0 }]);

      // Later: another source for the pairwise question; the annotate key may not change it.
      expect((await ann("PUT", "/v1/queues/s/suggestions", { suggestions: [] })).status).toBe(403);
      const changed = ok(await admin("PUT", "/v1/queues/s/suggestions", { suggestions: [{ question: "pref", source: { type: "judge", id: "llama" } }] }));
      expect(changed.queue.suggestions).toEqual([{ question: "pref", source: { type: "judge", id: "llama" } }]);
      const badPut = await admin("PUT", "/v1/queues/s/suggestions", { suggestions: [{ question: "zzz", source: { type: "judge" } }] });
      expect(badPut.status).toBe(400);
      expect(badPut.body.error.issues[0].path).toBe("suggestions.0.question");
      const bob = await annotator("bob");
      const t2 = ok(await bob("POST", "/v1/queues/s/next")).task;
      expect(t2.item.id).toBe("i0");
      expect(t2.suggestions).toEqual([{ question: "pref", source: { type: "judge", id: "llama" }, feedbackId: "other", answer: { choice: slotOf(t2, "i0-b") === 0 ? "first" : "second" } }]);
      // A task without any matching feedback has no suggestions.
      ok(await bob("POST", `/v1/queues/s/tasks/${t2.id}/skip`), 204);
      expect(ok(await bob("POST", "/v1/queues/s/next")).task.suggestions).toBeUndefined();
    });

    it("lets an annotator revise a submitted task: new records supersede the old, and stats, feedback lists and exports read the latest", async () => {
      const { admin, annotator } = await setup(2);
      ok(await admin("POST", "/v1/queues", { id: "r", name: "Revisable", selection: { mode: "generations", itemIds: ["i0", "i1"], policies: ["a"] }, questions: [{ id: "ok", kind: "binary", prompt: "OK?" }, { id: "note", kind: "critique", prompt: "Why?", required: false }] }), 201);
      const ann = await annotator("ann");
      const t = ok(await ann("POST", "/v1/queues/r/next")).task;
      expect(ok(await ann("POST", `/v1/queues/r/tasks/${t.id}/revise`, { submissionId: "early", answers: { ok: true } }), 409)).toBeTruthy();
      const first = ok(await ann("POST", `/v1/queues/r/tasks/${t.id}/submit`, { submissionId: "s1", answers: { ok: true, note: { text: "fine" } } }));
      expect(first.feedback).toHaveLength(2);

      const mine = ok(await ann("GET", "/v1/queues/r/mine"));
      expect(mine).toMatchObject({ total: 1, offset: 0, tasks: [{ id: t.id, itemId: t.item.id, prompt: t.item.prompt, revision: 0 }] });
      const again = ok(await ann("GET", `/v1/queues/r/tasks/${t.id}`)).task;
      expect(again).toMatchObject({ status: "submitted", revision: 0, answers: { ok: true, note: { text: "fine" } } });

      // Revise: the yes becomes a no, the optional critique is withdrawn.
      const rev = ok(await ann("POST", `/v1/queues/r/tasks/${t.id}/revise`, { submissionId: "s2", answers: { ok: false }, revision: 0 }));
      expect(rev.replayed).toBe(false);
      expect(rev.feedback).toEqual([`${first.feedback[0]}:r1`]);
      const newRecord = ok(await admin("GET", `/v1/feedback/${encodeURIComponent(rev.feedback[0])}`));
      expect(newRecord).toMatchObject({ value: { ok: false }, metadata: { supersedes: first.feedback[0], revision: 1 } });
      // A retry is the same revision; a stale one is a conflict.
      expect(ok(await ann("POST", `/v1/queues/r/tasks/${t.id}/revise`, { submissionId: "s2", answers: { ok: false }, revision: 0 }))).toEqual({ ...rev, generations: [], replayed: true });
      expect((await ann("POST", `/v1/queues/r/tasks/${t.id}/revise`, { submissionId: "s3", answers: { ok: true }, revision: 0 })).status).toBe(409);
      // Invalid answers name the field and store nothing.
      const invalid = await ann("POST", `/v1/queues/r/tasks/${t.id}/revise`, { submissionId: "s4", answers: { ok: "maybe" } });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.issues[0].path).toMatch(/^answers\.ok/);
      expect(ok(await ann("GET", `/v1/queues/r/tasks/${t.id}`)).task).toMatchObject({ revision: 1, answers: { ok: false } });

      // Every record is kept; the latest view and the stats read the revision only.
      const all = ok(await admin("GET", "/v1/feedback?sourceId=ann")).records.map((f: any) => f.id).sort();
      expect(all).toHaveLength(3);
      const latest = ok(await admin("GET", "/v1/feedback?sourceId=ann&latest=true")).records.map((f: any) => f.id);
      expect(latest).toEqual(rev.feedback);
      const stats = ok(await admin("GET", "/v1/queues/r/stats"));
      expect(stats.questions.map((q: any) => [q.id, q.records])).toEqual([
        ["ok", 1],
        ["note", 0],
      ]);
      const exp = ok(await admin("POST", "/v1/exports", { format: "rlxf", filters: { queueId: "r" } }), 202);
      let job = exp;
      for (let i = 0; i < 200 && job.status === "running"; i++) {
        await new Promise((r) => setTimeout(r, 25));
        job = ok(await admin("GET", `/v1/exports/${exp.id}`));
      }
      expect(job.status).toBe("done");
      const lines = (await admin("GET", `/v1/exports/${exp.id}/file`)).text.trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.filter((l: any) => l.kind).map((l: any) => l.id)).toEqual(rev.feedback);

      // Others' tasks stay invisible.
      const zed = await annotator("zed");
      expect((await zed("POST", `/v1/queues/r/tasks/${t.id}/revise`, { submissionId: "z", answers: { ok: true } })).status).toBe(404);
      expect(ok(await zed("GET", "/v1/queues/r/mine"))).toEqual({ total: 0, offset: 0, tasks: [] });
    });

    it("shows an admin every answer to a task and stores the adjudicated label, which exports and judge agreement prefer", async () => {
      const { store, admin, annotator } = await setup(1);
      await store.write({ feedback: [judge("jp", "i0", ["i0-a", "i0-b"], { choice: "second" })] });
      ok(await admin("POST", "/v1/queues", { id: "a", name: "Adjudicate", selection: { mode: "pairs" }, questions: [{ id: "pref", kind: "pairwise", prompt: "Which?" }], annotatorsPerItem: 2 }), 201);
      const ids: string[] = [];
      for (const [who, gen] of [
        ["ann", "i0-a"],
        ["bob", "i0-b"],
      ] as const) {
        const k = await annotator(who);
        const t = ok(await k("POST", "/v1/queues/a/next")).task;
        const choice = slotOf(t, gen) === 0 ? "first" : "second";
        ids.push(...ok(await k("POST", `/v1/queues/a/tasks/${t.id}/submit`, { submissionId: `${who}-1`, answers: { pref: { choice } } })).feedback);
      }
      const ann = await annotator("ann");
      expect((await ann("GET", "/v1/queues/a/tasks/t1/answers")).status).toBe(403);
      expect((await ann("POST", "/v1/queues/a/tasks/t1/adjudicate", { submissionId: "x", answers: {} })).status).toBe(403);

      const view = ok(await admin("GET", "/v1/queues/a/tasks/t1/answers"));
      expect(view.task.generations.map((g: any) => [g.id, g.policy])).toEqual([
        ["i0-a", "a"],
        ["i0-b", "b"],
      ]);
      expect(view.annotators.map((a: any) => [a.annotator, a.status, a.feedback.map((f: any) => f.value.choice)])).toEqual([
        ["ann", "submitted", ["first"]],
        ["bob", "submitted", ["second"]],
      ]);
      expect(view.adjudication).toBeUndefined();

      // The admin settles on i0-b: "second" in the task's order.
      const adj = ok(await admin("POST", "/v1/queues/a/tasks/t1/adjudicate", { submissionId: "adj-1", answers: { pref: { choice: "second" } }, revision: 0 }));
      const rec = ok(await admin("GET", `/v1/feedback/${encodeURIComponent(adj.feedback[0])}`));
      expect(rec).toMatchObject({ kind: "pairwise", source: { type: "human", id: "root" }, targets: ["i0-a", "i0-b"], value: { choice: "second" }, metadata: { queueId: "a", taskId: "t1", questionId: "pref", adjudication: 1 } });
      expect([...rec.metadata.adjudicates].sort()).toEqual([...ids].sort());
      expect(ok(await admin("POST", "/v1/queues/a/tasks/t1/adjudicate", { submissionId: "adj-1", answers: { pref: { choice: "second" } } })).replayed).toBe(true);
      expect((await admin("POST", "/v1/queues/a/tasks/t1/adjudicate", { submissionId: "adj-2", answers: { pref: { choice: "first" } }, revision: 0 })).status).toBe(409);
      expect(ok(await admin("GET", "/v1/queues/a/tasks/t1/answers")).adjudication).toMatchObject({ adjudicator: "root", revision: 1, answers: { pref: { choice: "second" } } });

      // Exports hold the adjudicated label only; the annotators' records are kept in the store.
      expect(ok(await admin("GET", "/v1/feedback?latest=true&kind=pairwise&sourceType=human")).records.map((f: any) => f.id)).toEqual(adj.feedback);
      expect(ok(await admin("GET", "/v1/feedback?kind=pairwise&sourceType=human")).records).toHaveLength(3);
      const trl = (await admin("GET", "/v1/export?format=trl-preference")).text.trim().split("\n").map((l) => JSON.parse(l));
      // The judge's pair and the adjudicated pair: both prefer bravo.
      expect(trl).toHaveLength(2);
      expect(trl.every((r: any) => JSON.stringify(r.chosen).includes("bravo"))).toBe(true);

      // Stats: agreement between annotators reads their own answers; the judge is compared with the adjudication.
      const stats = ok(await admin("GET", "/v1/queues/a/stats"));
      const pref = stats.questions[0];
      expect(pref.records).toBe(2);
      expect(pref.pairs[0].agreement).toBe(0);
      expect(pref.adjudicated).toBe(1);
      expect(pref.judges).toEqual([expect.objectContaining({ source: { type: "judge", id: "gpt" }, n: 1, agreement: 1 })]);

      // A second adjudication replaces the first.
      const adj2 = ok(await admin("POST", "/v1/queues/a/tasks/t1/adjudicate", { submissionId: "adj-2", answers: { pref: { choice: "tie" } }, revision: 1 }));
      expect(ok(await admin("GET", "/v1/feedback?latest=true&kind=pairwise&sourceType=human")).records.map((f: any) => f.id)).toEqual(adj2.feedback);
      expect((await admin("POST", "/v1/queues/a/tasks/t9/adjudicate", { submissionId: "x", answers: { pref: { choice: "tie" } } })).status).toBe(404);
      const badAnswer = await admin("POST", "/v1/queues/a/tasks/t1/adjudicate", { submissionId: "adj-3", answers: { pref: { choice: "both" } } });
      expect(badAnswer.status).toBe(400);
      expect(badAnswer.body.error.issues[0].path).toBe("answers.pref.choice");
    });

    it("makes a queue of the pairs where judges disagree most", async () => {
      const { store, admin } = await setup(3);
      await store.write({
        feedback: [
          // i0: the judges split; i1: they agree; i2: one judge only.
          judge("x0", "i0", ["i0-a", "i0-b"], { choice: "first" }, "pairwise", "j1"),
          judge("y0", "i0", ["i0-a", "i0-b"], { choice: "second" }, "pairwise", "j2"),
          judge("x1", "i1", ["i1-a", "i1-b"], { choice: "first" }, "pairwise", "j1"),
          judge("y1", "i1", ["i1-a", "i1-b"], { choice: "first" }, "pairwise", "j2"),
          judge("x2", "i2", ["i2-a", "i2-b"], { choice: "first" }, "pairwise", "j1"),
        ],
      });
      const r = ok(await admin("POST", "/v1/queues/from-route", { id: "routed", name: "Contested", budget: 5 }), 201);
      expect(r.pairs.map((p: any) => p.generations)).toEqual([
        ["i0-a", "i0-b"],
        ["i1-a", "i1-b"],
      ]);
      expect(r.pairs[0].disagreement).toBeGreaterThan(r.pairs[1].disagreement);
      expect(r.queue).toMatchObject({ id: "routed", name: "Contested", progress: { tasks: 2 }, questions: [{ id: "preference", kind: "pairwise" }] });
      const top = ok(await admin("POST", "/v1/queues/from-route", { name: "Top one", budget: 1, questions: [{ id: "p", kind: "pairwise", prompt: "Better?" }], suggestions: [{ question: "p", source: { type: "judge", id: "j1" } }] }), 201);
      expect(top.pairs).toHaveLength(1);
      const none = await admin("POST", "/v1/queues/from-route", { name: "None", minJudges: 3 });
      expect(none.status).toBe(400);
      expect(none.body.error.issues[0].path).toBe("minJudges");
      const badQ = await admin("POST", "/v1/queues/from-route", { name: "x", budget: 0 });
      expect(badQ.status).toBe(400);
      expect(badQ.body.error.issues[0].path).toBe("budget");
    });

    it("searches items by text, feedback value and disagreement, a bounded window per call", async () => {
      const { store, admin, annotator } = await setup(6);
      await store.write({
        feedback: [
          judge("p1", "i1", ["i1-a", "i1-b"], { choice: "first" }),
          { ...judge("h1", "i1", ["i1-a", "i1-b"], { choice: "second" }), source: { type: "human", id: "ann" } },
          judge("r4", "i4", ["i4-b"], { score: 1, scale: { min: 1, max: 5 } }, "rating"),
        ],
      });
      const find = async (query: string) => ok(await admin("GET", `/v1/search/items?${query}`));
      expect((await find("q=BRAVO%20i3")).records.map((i: any) => i.id)).toEqual(["i3"]);
      expect((await find("kind=rating&value=score%3C%3D2")).records.map((i: any) => i.id)).toEqual(["i4"]);
      expect((await find("disagreement=human-judge")).records.map((i: any) => i.id)).toEqual(["i1"]);
      expect((await find("sourceType=judge&value=choice%3Dfirst")).records.map((i: any) => i.id)).toEqual(["i1"]);
      // Two items examined per call: the cursor goes on where the window ended.
      const first = await find("q=alpha&limit=10&scan=2");
      expect(first.scanned).toBe(2);
      expect(first.records).toHaveLength(2);
      const second = await find(`q=alpha&limit=10&scan=2&cursor=${encodeURIComponent(first.nextCursor)}`);
      expect(second.records.map((i: any) => i.id)).toEqual(["i2", "i3"]);
      const bad = await admin("GET", "/v1/search/items?value=score~4");
      expect(bad.status).toBe(400);
      expect(bad.body.error.issues[0].path).toBe("value");
      expect((await admin("GET", "/v1/search/items?scan=99999")).status).toBe(400);
      expect((await (await annotator("ann"))("GET", "/v1/search/items?q=alpha")).status).toBe(403);
    });

    it("gives win rates over rankings and ratings too when asked for every comparison", async () => {
      const { store, admin } = await setup(3);
      await store.write({
        feedback: [0, 1, 2].map((i) => ({ id: `rk${i}`, project: "p", kind: "ranking", itemId: `i${i}`, targets: [`i${i}-a`, `i${i}-b`], source: { type: "human", id: "ann" }, value: { ranks: [2, 1] } })),
      });
      const pairwise = ok(await admin("GET", "/v1/leaderboard?method=alpaca-eval&lc=false"));
      expect(pairwise.rows).toEqual([]);
      const all = ok(await admin("GET", "/v1/leaderboard?method=alpaca-eval&lc=false&comparisons=all"));
      expect(all.rows.map((r: any) => [r.model, r.n_total, r.win_rate])).toEqual([[all.baseline === "a" ? "b" : "a", 3, all.baseline === "a" ? 100 : 0]]);
    });
  });
}
