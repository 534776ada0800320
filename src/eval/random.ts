/**
 * Small deterministic pseudo-random number generators.
 *
 * Everything in `src/eval` that needs randomness (bootstrap resampling, synthetic test data) takes a seed and
 * uses these generators, so results are reproducible bit-for-bit across runs and platforms.
 */
import { ArgumentError } from "../errors.js";

/** A seeded source of uniform numbers in [0, 1) with a few convenience draws. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal draw (Box-Muller). */
  normal(): number;
  /** Bernoulli draw with success probability `p`. */
  bernoulli(p: number): boolean;
}

/**
 * Mulberry32 (Tommy Ettinger, public-domain 32-bit generator): returns a function producing uniform floats in
 * [0, 1) with 2^32 period. Good enough for bootstrap resampling; not cryptographic.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * FNV-1a over the UTF-16 code units of `s`, its offset basis mixed with `seed`: a fast deterministic 32-bit
 * hash (feature hashing, per-name seeds). Not cryptographic.
 */
export function fnv1a(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Hash an arbitrary (possibly non-integer or huge) seed into 32 bits, so `createRng(1.5)` and
 * `createRng(2 ** 40)` behave sensibly and nearby seeds give unrelated streams.
 */
function mixSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new ArgumentError("seed", `seed must be finite, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Create a seeded {@link Rng} backed by {@link mulberry32}. */
export function createRng(seed: number): Rng {
  const u = mulberry32(mixSeed(seed));
  let spare: number | null = null;
  return {
    next: u,
    int(n: number): number {
      if (!(n > 0) || !Number.isInteger(n)) throw new ArgumentError("n", `int(n) needs a positive integer, got ${n}`);
      return Math.floor(u() * n);
    },
    normal(): number {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let a = u();
      while (a <= Number.MIN_VALUE) a = u();
      const b = u();
      const r = Math.sqrt(-2 * Math.log(a));
      spare = r * Math.sin(2 * Math.PI * b);
      return r * Math.cos(2 * Math.PI * b);
    },
    bernoulli(p: number): boolean {
      return u() < p;
    },
  };
}
