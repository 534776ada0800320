/**
 * A log-linear policy over an instruction's candidates, pi(y|x) ∝ exp(θ·φ(x, y)): sampling, log-probabilities and
 * their gradients are exact. For any loss L(log pi(y_1|x), ...), dL/dθ = Σ_y c_y (φ(x, y) − E_pi[φ(x, ·)]) with
 * c_y = dL/d log pi(y|x), i.e. Σ_y (c_y − pi(y|x) Σ_z c_z) φ(x, y): the objectives' gradients chain into θ through
 * {@link LogLinearPolicy.addGradient}.
 */
import type { Rng } from "../eval/index.js";
import type { CandidateFeatures, LabEnvironment } from "./environment.js";

export class LogLinearPolicy {
  readonly theta: Float64Array;
  readonly features: CandidateFeatures;
  #grad: Float64Array | undefined;

  constructor(features: CandidateFeatures, theta?: Float64Array) {
    this.features = features;
    this.theta = theta ? Float64Array.from(theta) : new Float64Array(features.dim);
  }

  /** A zeroed gradient buffer the size of θ (the same buffer on every call: use it before asking again). */
  zeroGrad(): Float64Array {
    if (!this.#grad) this.#grad = new Float64Array(this.theta.length);
    else this.#grad.fill(0);
    return this.#grad;
  }

  static uniform(env: LabEnvironment): LogLinearPolicy {
    return new LogLinearPolicy(env.features);
  }

  /** Number of candidates of instruction i. */
  size(i: number): number {
    return this.features.start[i + 1]! - this.features.start[i]!;
  }

  /** θ·φ(x_i, y) for every candidate y of instruction i. */
  logits(i: number): Float64Array {
    const f = this.features;
    const r0 = f.start[i]!;
    const k = f.start[i + 1]! - r0;
    const out = new Float64Array(k);
    const th = this.theta;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let t = f.rowPtr[r0 + c]!; t < f.rowPtr[r0 + c + 1]!; t++) s += th[f.index[t]!]! * f.value[t]!;
      out[c] = s;
    }
    return out;
  }

  /** log pi(y|x_i) for every candidate y. */
  logProbs(i: number): Float64Array {
    return logSoftmax(this.logits(i));
  }

  /** pi(y|x_i) for every candidate y. */
  probs(i: number): Float64Array {
    return Float64Array.from(this.logProbs(i), Math.exp);
  }

  /**
   * Add dL/dθ to `grad` given c = dL/d log pi(·|x_i) (one entry per candidate of instruction i) and the
   * instruction's current probabilities.
   */
  addGradient(i: number, c: ArrayLike<number>, probs: ArrayLike<number>, grad: Float64Array): void {
    const f = this.features;
    const r0 = f.start[i]!;
    const k = f.start[i + 1]! - r0;
    let total = 0;
    for (let y = 0; y < k; y++) total += c[y]!;
    for (let y = 0; y < k; y++) {
      const w = c[y]! - probs[y]! * total;
      if (w === 0) continue;
      for (let t = f.rowPtr[r0 + y]!; t < f.rowPtr[r0 + y + 1]!; t++) grad[f.index[t]!]! += w * f.value[t]!;
    }
  }

  clone(): LogLinearPolicy {
    return new LogLinearPolicy(this.features, this.theta);
  }
}

export function logSoftmax(z: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let k = 0; k < z.length; k++) if (z[k]! > m) m = z[k]!;
  let s = 0;
  for (let k = 0; k < z.length; k++) s += Math.exp(z[k]! - m);
  const lse = m + Math.log(s);
  return Float64Array.from(z as ArrayLike<number>, (v) => v - lse);
}

/** Draw an index from probabilities (exact inverse-CDF sampling). */
export function sampleIndex(probs: ArrayLike<number>, rng: Rng, exclude = -1): number {
  let total = 0;
  for (let k = 0; k < probs.length; k++) if (k !== exclude) total += probs[k]!;
  let u = rng.next() * total;
  let last = -1;
  for (let k = 0; k < probs.length; k++) {
    if (k === exclude) continue;
    last = k;
    u -= probs[k]!;
    if (u < 0) return k;
  }
  return last;
}

/** Index of the largest value (first on ties). */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < v.length; k++) if (v[k]! > v[best]!) best = k;
  return best;
}

/** Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization") on a dense parameter vector. */
export class Adam {
  readonly #m: Float64Array;
  readonly #v: Float64Array;
  #t = 0;
  constructor(
    dim: number,
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.#m = new Float64Array(dim);
    this.#v = new Float64Array(dim);
  }

  /** θ ← θ − lr · m̂ / (√v̂ + ε); only coordinates with a non-zero moment move. */
  step(theta: Float64Array, grad: Float64Array): void {
    this.#t++;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 / (1 - b1 ** this.#t);
    const c2 = 1 / (1 - b2 ** this.#t);
    const m = this.#m;
    const v = this.#v;
    for (let j = 0; j < theta.length; j++) {
      const g = grad[j]!;
      if (g === 0 && m[j] === 0) continue;
      m[j] = b1 * m[j]! + (1 - b1) * g;
      v[j] = b2 * v[j]! + (1 - b2) * g * g;
      theta[j]! -= (this.lr * m[j]! * c1) / (Math.sqrt(v[j]! * c2) + this.eps);
    }
  }
}
