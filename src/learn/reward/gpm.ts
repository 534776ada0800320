/**
 * A general preference model (GPM; Zhang et al., "Beyond Bradley-Terry Models: A General Preference Model for
 * Language Model Alignment"): every response gets a preference embedding v ∈ R^(2k), and
 *
 *     P(a ≻ b) = σ(⟨R v_a, v_b⟩),   R = diag of k blocks [[0, 1], [−1, 0]]
 *
 * The score is skew-symmetric (s(a, b) = −s(b, a), so P(a ≻ b) + P(b ≻ a) = 1) but need not be transitive:
 * three embeddings 120° apart in one block represent rock-paper-scissors, which no scalar reward can. A
 * constant feature lets one block reproduce any Bradley-Terry model (v = [r, c] gives s = c·(r_a − r_b)).
 *
 * Here v = Wᵀ[φ(x, y); 1] is linear in the features; W is fitted by L-BFGS on the logistic loss with L2,
 * from a small seeded random start (W = 0 is a saddle point).
 */
import { ArgumentError } from "../../errors.js";
import { createRng } from "../../eval/index.js";
import { type CsrMatrix, type SparseVector } from "../features/sparse.js";
import { sigmoid, softplus } from "./logistic.js";
import { type OptimizeOptions, type SmoothObjective, lbfgs } from "./optimize.js";

/** Embedding weights: for each feature index (sorted) a row of `dims` weights. */
export interface GpmHead {
  readonly dims: number;
  readonly index: Int32Array;
  /** Row-major, index.length × dims. */
  readonly weight: Float64Array;
  /** Feature index of the constant feature. */
  readonly biasIndex: number;
}

/** The skew-symmetric score s(a, b) = ⟨R v_a, v_b⟩ = Σ_l (a_2l b_2l+1 − a_2l+1 b_2l). */
export function gpmScore(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let l = 0; l + 1 < a.length; l += 2) s += a[l]! * b[l + 1]! - a[l + 1]! * b[l]!;
  return s;
}

const embedders = new WeakMap<GpmHead, (x: SparseVector) => Float64Array>();

/** A function mapping a feature vector to its preference embedding (built once per head). */
export function gpmEmbedder(head: GpmHead): (x: SparseVector) => Float64Array {
  let fn = embedders.get(head);
  if (!fn) {
    fn = buildEmbedder(head);
    embedders.set(head, fn);
  }
  return fn;
}

function buildEmbedder(head: GpmHead): (x: SparseVector) => Float64Array {
  const rows = new Map<number, number>();
  for (let k = 0; k < head.index.length; k++) rows.set(head.index[k]!, k);
  const d = head.dims;
  const bias = rows.get(head.biasIndex);
  return (x) => {
    const v = new Float64Array(d);
    if (bias !== undefined) for (let t = 0; t < d; t++) v[t] = head.weight[bias * d + t]!;
    for (let k = 0; k < x.index.length; k++) {
      const r = rows.get(x.index[k]!);
      if (r === undefined) continue;
      const xv = x.value[k]!;
      for (let t = 0; t < d; t++) v[t]! += xv * head.weight[r * d + t]!;
    }
    return v;
  };
}

export interface GpmOptions extends OptimizeOptions {
  /** Embedding dimension 2k (even, default 4). */
  dims?: number;
  /** L2 strength (default 0.1). */
  l2?: number;
  /** Seed of the random start (default 0). */
  seed?: number;
  /** Scale of the random start (default 0.1). */
  initScale?: number;
}

export interface GpmFitInput {
  /** Features of the distinct responses (compact columns; include the constant feature). */
  responses: CsrMatrix;
  /** Row of the chosen (a) and rejected (b) response of each pair. */
  a: Int32Array;
  b: Int32Array;
  /** P(a ≻ b) per pair. */
  y: Float64Array;
  /** Pair weights (default 1). */
  w?: Float64Array;
  /** Original index of the constant feature. */
  biasIndex: number;
}

export interface GpmFit {
  head: GpmHead;
  value: number;
  iterations: number;
  converged: boolean;
}

/** The GPM's loss over W (row-major, features × dims), with its gradient. */
export function gpmObjective(input: GpmFitInput, opts: { dims: number; l2: number }): SmoothObjective {
  const d = opts.dims;
  const l2 = opts.l2;
  const { responses: F, a, b, y, w } = input;
  const nR = F.nRows;
  const p = F.nCols;
  const V = new Float64Array(nR * d);
  const G = new Float64Array(nR * d);
  const n = a.length;

  const embedAll = (W: Float64Array) => {
    V.fill(0);
    for (let r = 0; r < nR; r++) {
      for (let k = F.indptr[r]!, e = F.indptr[r + 1]!; k < e; k++) {
        const j = F.indices[k]!;
        const x = F.data[k]!;
        for (let t = 0; t < d; t++) V[r * d + t]! += x * W[j * d + t]!;
      }
    }
  };

  return {
    size: p * d,
    valueGrad(W: Float64Array, grad: Float64Array): number {
      embedAll(W);
      G.fill(0);
      let f = 0;
      for (let i = 0; i < n; i++) {
        const wi = w ? w[i]! : 1;
        if (wi === 0) continue;
        const ra = a[i]! * d;
        const rb = b[i]! * d;
        let s = 0;
        for (let l = 0; l < d; l += 2) s += V[ra + l]! * V[rb + l + 1]! - V[ra + l + 1]! * V[rb + l]!;
        f += wi * (softplus(s) - y[i]! * s);
        const c = wi * (sigmoid(s) - y[i]!);
        for (let l = 0; l < d; l += 2) {
          // ∂s/∂v_a = R v_b = (b1, −b0); ∂s/∂v_b = −R v_a = (−a1, a0)
          G[ra + l]! += c * V[rb + l + 1]!;
          G[ra + l + 1]! -= c * V[rb + l]!;
          G[rb + l]! -= c * V[ra + l + 1]!;
          G[rb + l + 1]! += c * V[ra + l]!;
        }
      }
      let ww = 0;
      for (let q = 0; q < W.length; q++) {
        ww += W[q]! * W[q]!;
        grad[q] = l2 * W[q]!;
      }
      for (let r = 0; r < nR; r++) {
        for (let k = F.indptr[r]!, e = F.indptr[r + 1]!; k < e; k++) {
          const j = F.indices[k]!;
          const x = F.data[k]!;
          for (let t = 0; t < d; t++) grad[j * d + t]! += x * G[r * d + t]!;
        }
      }
      return f + 0.5 * l2 * ww;
    },
  };
}

/** Fit a GPM head. */
export function fitGpm(input: GpmFitInput, opts: GpmOptions = {}): GpmFit {
  const d = opts.dims ?? 4;
  if (!Number.isInteger(d) || d < 2 || d % 2 !== 0) throw new ArgumentError("dims", `dims must be an even integer >= 2, got ${d}`);
  const F = input.responses;
  const p = F.nCols;
  const objective = gpmObjective(input, { dims: d, l2: opts.l2 ?? 0.1 });
  const rng = createRng(opts.seed ?? 0);
  const scale = opts.initScale ?? 0.1;
  const W0 = new Float64Array(p * d);
  for (let q = 0; q < W0.length; q++) W0[q] = scale * rng.normal();
  const res = lbfgs(objective, W0, { maxIter: 1000, tol: 1e-6, ...opts });

  // Keep rows with any non-zero weight, in original feature indices.
  const idx: number[] = [];
  const rowsKept: number[] = [];
  for (let j = 0; j < p; j++) {
    let nz = false;
    for (let t = 0; t < d; t++) if (res.x[j * d + t] !== 0) nz = true;
    if (nz) {
      idx.push(F.columns[j]!);
      rowsKept.push(j);
    }
  }
  const weight = new Float64Array(rowsKept.length * d);
  rowsKept.forEach((j, k) => weight.set(res.x.subarray(j * d, j * d + d), k * d));
  return {
    head: { dims: d, index: Int32Array.from(idx), weight, biasIndex: input.biasIndex },
    value: res.value,
    iterations: res.iterations,
    converged: res.converged,
  };
}
