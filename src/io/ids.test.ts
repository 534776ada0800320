import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { contentHash } from "./ids.js";

/** The original piece-by-piece feed, kept here to pin the ids: they must never change. */
function feedHash(value: unknown): string {
  const h = createHash("sha256");
  const feed = (v: unknown): void => {
    if (typeof v === "string") {
      h.update(`s${v.length}:`);
      h.update(v);
    } else if (v === null || v === undefined || typeof v !== "object") {
      h.update(`v${JSON.stringify(v) ?? "null"};`);
    } else if (Array.isArray(v)) {
      h.update(`a${v.length}[`);
      for (const x of v) feed(x);
      h.update("]");
    } else {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined && typeof o[k] !== "function")
        .sort();
      h.update(`o${keys.length}{`);
      for (const k of keys) {
        feed(k);
        feed(o[k]);
      }
      h.update("}");
    }
  };
  feed(value);
  return h.digest("hex").slice(0, 24);
}

describe("contentHash", () => {
  it("gives the same ids as feeding the hash piece by piece, surrogates and all", () => {
    const values: unknown[] = [
      "plain",
      "",
      { project: "p", prompt: "hi", extra: undefined },
      { b: [1, "x", null, { c: true }], a: "é漢字🙂" },
      ["\uD800", "\uDC00", "x\uD83D", "\uDE00y", "\uD83D\uDE00"],
      { output: "ends with a high surrogate \uD83D", next: "\uDE00 starts with a low one" },
      { n: 1.5, big: 2 ** 60, neg: -0, s: "a".repeat(10_000) },
    ];
    for (const v of values) expect(contentHash(v)).toBe(feedHash(v));
    expect(contentHash({ a: 1, b: 2 })).toBe(contentHash({ b: 2, a: 1 }));
  });
});
