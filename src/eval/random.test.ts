import { describe, expect, it } from "vitest";
import { createRng, mulberry32 } from "./random.js";

describe("PRNG", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xa = Array.from({ length: 5 }, () => a.next());
    const xb = Array.from({ length: 5 }, () => b.next());
    const xc = Array.from({ length: 5 }, () => c.next());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
    const m = mulberry32(1);
    const m2 = mulberry32(1);
    expect(m()).toBe(m2());
  });

  it("draws look uniform / normal", () => {
    const r = createRng(7);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    const buckets = new Array<number>(10).fill(0);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      buckets[Math.floor(u * 10)]! += 1;
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    for (const b of buckets) expect(Math.abs(b - n / 10)).toBeLessThan(200);
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
    const ints = new Set(Array.from({ length: 1000 }, () => r.int(6)));
    expect([...ints].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(() => r.int(0)).toThrow();
  });
});
