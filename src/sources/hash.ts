/**
 * Seeded, order-free randomness for per-example decisions (which annotator,
 * which order, whether to flip a label): a uniform number from the sha256 of
 * the parts, so the decision for an example depends only on it and the seed,
 * never on how many examples came before or which ran first.
 */
import { ArgumentError } from "../errors.js";
import { createHash } from "node:crypto";

/** A uniform number in [0, 1) from the hash of `parts` (48 bits of sha256). */
export function seededUnit(...parts: (string | number)[]): number {
  // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
  let s = "";
  for (const p of parts) {
    const t = String(p);
    s += `${t.length}:${t}`;
  }
  return createHash("sha256").update(s).digest().readUIntBE(0, 6) / 2 ** 48;
}

/** An index in [0, n) chosen by the hash of `parts`. */
export function seededIndex(n: number, ...parts: (string | number)[]): number {
  if (!(n >= 1) || !Number.isInteger(n)) throw new ArgumentError("n", `seededIndex needs a positive integer, got ${n}`);
  return Math.min(n - 1, Math.floor(seededUnit(...parts) * n));
}
