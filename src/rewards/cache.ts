import type { VerificationResult } from "../sources/verifiers/index.js";

/** A small LRU of results (a Map keeps insertion order: a hit moves to the end). */
export class ResultCache {
  readonly #max: number;
  readonly #map = new Map<string, VerificationResult>();
  constructor(max = 10_000) {
    this.#max = max;
  }
  get(k: string): VerificationResult | undefined {
    const v = this.#map.get(k);
    if (v !== undefined) {
      this.#map.delete(k);
      this.#map.set(k, v);
    }
    return v;
  }
  set(k: string, v: VerificationResult): void {
    this.#map.delete(k);
    this.#map.set(k, v);
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
  get size(): number {
    return this.#map.size;
  }
}
