/**
 * Contract of the store's loop runs, loop steps and memory entries, registered once per engine beside the store contract.
 */
import { describe, expect, it } from "vitest";
import { freshStores } from "./support.contract.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { MemoryEntryInput } from "./loops.js";
import type { Store } from "./types.js";

const principle = (id: string, text = "Show the units of every quantity.", extra: Partial<MemoryEntryInput> = {}): MemoryEntryInput => ({
  id,
  kind: "principle",
  text,
  scope: { when: "physics word problems", whenNot: "pure arithmetic", examples: ["A car drives 3 km in 2 h: speed?"], counterExamples: ["2+2?"] },
  provenance: { feedbackIds: ["f1"], generationIds: ["g1"], itemIds: ["i1"] },
  ...extra,
});

export function loopsContract(name: string, factory: () => Promise<Store>, opts: { skip?: boolean } = {}): void {
  describe.skipIf(!!opts.skip)(`loops contract: ${name}`, () => {
    const fresh = freshStores(factory);

    it("records a run, appends its steps in order and finishes it with a summary", async () => {
      const s = await fresh();
      const run = await s.loops.create({ id: "run-1", loop: "refine", config: { policy: "m", rounds: 3 } });
      expect(run).toMatchObject({ project: "default", id: "run-1", loop: "refine", status: "running", config: { policy: "m", rounds: 3 } });
      await expect(s.loops.create({ id: "run-1", loop: "retry", config: {} })).rejects.toBeInstanceOf(ConflictError);
      // Another project may reuse the id.
      await s.loops.create({ project: "p2", id: "run-1", loop: "retry", config: {} });

      await s.loops.addSteps("default", "run-1", [
        { seq: 1, taskId: "t1", turn: 1, generationId: "g2", data: { correct: true } },
        { seq: 0, taskId: "t1", turn: 0, generationId: "g1", data: { correct: false, feedbackIds: ["f1"] } },
      ]);
      await s.loops.addSteps("default", "run-1", [{ seq: 2, taskId: "t2", turn: 0, data: { role: "reflection", text: "é ☃" } }]);
      await expect(s.loops.addSteps("default", "run-1", [{ seq: 2, taskId: "t2", turn: 1, data: {} }])).rejects.toBeInstanceOf(ConflictError);
      await expect(s.loops.addSteps("default", "nope", [{ seq: 0, taskId: "t", turn: 0, data: {} }])).rejects.toBeInstanceOf(NotFoundError);
      await expect(s.loops.addSteps("default", "run-1", [{ seq: -1, taskId: "t", turn: 0, data: {} }])).rejects.toBeInstanceOf(ValidationError);

      const steps = await s.loops.steps("default", "run-1");
      expect(steps.map((x) => [x.seq, x.taskId, x.turn, x.generationId ?? null])).toEqual([
        [0, "t1", 0, "g1"],
        [1, "t1", 1, "g2"],
        [2, "t2", 0, null],
      ]);
      expect(steps[0]!.data).toEqual({ correct: false, feedbackIds: ["f1"] });
      expect(steps[2]!.data).toEqual({ role: "reflection", text: "é ☃" });
      expect(await s.loops.steps("p2", "run-1")).toEqual([]);

      await s.loops.finish("default", "run-1", "done", { solved: 1, accuracy: [0, 1] });
      const done = await s.loops.get("default", "run-1");
      expect(done).toMatchObject({ status: "done", summary: { solved: 1, accuracy: [0, 1] }, config: { policy: "m", rounds: 3 } });
      expect(typeof done!.finishedAt).toBe("string");
      await expect(s.loops.finish("default", "nope", "done", {})).rejects.toBeInstanceOf(NotFoundError);
      expect(await s.loops.get("default", "nope")).toBeUndefined();

      await s.loops.create({ id: "run-2", loop: "retry", config: {} });
      expect((await s.loops.list()).map((r) => r.id).sort()).toEqual(["run-1", "run-2"]);
      expect((await s.loops.list({ loop: "retry" })).map((r) => r.id)).toEqual(["run-2"]);
      expect((await s.loops.list({ project: "p2" })).map((r) => r.loop)).toEqual(["retry"]);
    });

    it("rejects bad run ids and configs that are not JSON, writing nothing", async () => {
      const s = await fresh();
      await expect(s.loops.create({ id: "", loop: "refine", config: {} })).rejects.toBeInstanceOf(ValidationError);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(s.loops.create({ id: "r", loop: "refine", config: cyclic })).rejects.toBeInstanceOf(ValidationError);
      expect(await s.loops.list()).toEqual([]);
    });

    it("stores memory entries idempotently, lists them by kind and status, and retires them", async () => {
      const s = await fresh();
      const a = principle("p-a");
      const c: MemoryEntryInput = { ...principle("c-1", "The speed is 1.5 km/h."), kind: "correction", metadata: { prompt: "A car..." } };
      expect(await s.memory.put([a, c])).toEqual({ inserted: 2, existing: 0 });
      expect(await s.memory.put([a])).toEqual({ inserted: 0, existing: 1 });
      await expect(s.memory.put([principle("p-a", "Something else.")])).rejects.toBeInstanceOf(ConflictError);
      // All or nothing: a bad entry after a good one stores neither.
      await expect(s.memory.put([principle("p-b"), { ...principle("p-c"), text: " " }])).rejects.toBeInstanceOf(ValidationError);
      await expect(s.memory.put([principle("p-b"), principle("p-a", "clash")])).rejects.toBeInstanceOf(ConflictError);
      expect(await s.memory.get("default", "p-b")).toBeUndefined();

      const got = await s.memory.get("default", "p-a");
      expect(got).toMatchObject({ id: "p-a", kind: "principle", status: "active", text: a.text, scope: a.scope, provenance: a.provenance });
      expect((await s.memory.get("default", "c-1"))?.metadata).toEqual({ prompt: "A car..." });
      expect((await s.memory.list({ kind: "principle" })).map((e) => e.id)).toEqual(["p-a"]);
      expect((await s.memory.list()).map((e) => e.id)).toEqual(["c-1", "p-a"]);

      expect(await s.memory.retire("default", "p-a")).toBe(true);
      expect(await s.memory.retire("default", "p-a")).toBe(false);
      await expect(s.memory.retire("default", "nope")).rejects.toBeInstanceOf(NotFoundError);
      expect((await s.memory.list({ status: "active" })).map((e) => e.id)).toEqual(["c-1"]);
      const retired = await s.memory.get("default", "p-a");
      expect(retired?.status).toBe("retired");
      expect(typeof retired?.retiredAt).toBe("string");
      expect(await s.memory.list({ project: "other" })).toEqual([]);
    });
  });
}
