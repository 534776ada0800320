/** Shared by the store's contract suites: stores opened by a test are closed after it. */
import { afterEach } from "vitest";
import type { Store } from "./types.js";

/** A `fresh()` that opens a store with `factory`; every store it opened is closed after each test. */
export function freshStores(factory: () => Promise<Store>): () => Promise<Store> {
  const open: Store[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async () => {
    const s = await factory();
    open.push(s);
    return s;
  };
}
