/**
 * Memoised featurization: learners featurize each distinct (prompt, response) once per featurizer, however
 * many pairs, folds or ensemble members use it.
 */
import type { Prompt } from "../../feedback/schema.js";
import type { FeatureInput, Featurizer } from "./featurizer.js";
import type { SparseVector } from "./sparse.js";

const promptKeys = new WeakMap<object, string>();

/** A string key for a prompt; conversation keys are memoised per prompt object (items share theirs). */
function promptKey(p: Prompt): string {
  if (typeof p === "string") return `s${p}`;
  let k = promptKeys.get(p);
  if (k === undefined) {
    k = `m${JSON.stringify(p)}`;
    promptKeys.set(p, k);
  }
  return k;
}

/** Vectors by featurizer (object identity) and input; share one between training and evaluation. */
export class FeatureCache {
  // featurizer -> prompt key -> response -> vector (two levels, so long response strings are hashed once)
  readonly #maps = new Map<Featurizer, Map<string, Map<string, SparseVector>>>();

  /** Feature vectors of `inputs` under `featurizer`, computing only the missing ones (in one batch). */
  async vectors(featurizer: Featurizer, inputs: readonly FeatureInput[]): Promise<SparseVector[]> {
    let map = this.#maps.get(featurizer);
    if (!map) {
      map = new Map();
      this.#maps.set(featurizer, map);
    }
    const slots = inputs.map((x) => {
      const pk = promptKey(x.prompt);
      let inner = map!.get(pk);
      if (!inner) {
        inner = new Map();
        map!.set(pk, inner);
      }
      return inner;
    });
    const missing: FeatureInput[] = [];
    const missingSlots: Array<Map<string, SparseVector>> = [];
    const pending = new Set<string>();
    inputs.forEach((x, i) => {
      const slot = slots[i]!;
      if (slot.has(x.response)) return;
      const k = `${promptKey(x.prompt)}\u0000${x.response}`;
      if (pending.has(k)) return;
      pending.add(k);
      missing.push(x);
      missingSlots.push(slot);
    });
    if (missing.length) {
      const vs = await featurizer.featurize(missing);
      vs.forEach((v, i) => missingSlots[i]!.set(missing[i]!.response, v));
    }
    return inputs.map((x, i) => slots[i]!.get(x.response)!);
  }

  /** Number of cached vectors (all featurizers). */
  get size(): number {
    let n = 0;
    for (const m of this.#maps.values()) for (const inner of m.values()) n += inner.size;
    return n;
  }
}
