/**
 * Linear scoring heads over sparse features, and the pair design a pairwise learner fits.
 */
import { type CsrMatrix, type SparseVector, csrFromRows, sparseSub } from "../features/sparse.js";

/** Weights of the features that have one: sorted original feature indices and their weights. */
export interface LinearHead {
  readonly index: Int32Array;
  readonly weight: Float64Array;
}

/** A head from a fit over compact columns (zero weights dropped). */
export function headFromCompact(columns: Int32Array, coef: ArrayLike<number>): LinearHead {
  let n = 0;
  for (let c = 0; c < columns.length; c++) if (coef[c] !== 0) n++;
  const index = new Int32Array(n);
  const weight = new Float64Array(n);
  let k = 0;
  for (let c = 0; c < columns.length; c++) {
    if (coef[c] !== 0) {
      index[k] = columns[c]!;
      weight[k++] = coef[c]!;
    }
  }
  return { index, weight };
}

const scorers = new WeakMap<LinearHead, { dim: number; fn: (x: SparseVector) => number }>();

/** A fast scorer for a head (built once per head): a dense table when the feature space is small enough, else a map. */
export function headScorer(head: LinearHead, dim: number): (x: SparseVector) => number {
  const known = scorers.get(head);
  if (known && known.dim === dim) return known.fn;
  const fn = buildScorer(head, dim);
  scorers.set(head, { dim, fn });
  return fn;
}

function buildScorer(head: LinearHead, dim: number): (x: SparseVector) => number {
  if (dim <= 1 << 22) {
    const dense = new Float64Array(dim);
    for (let k = 0; k < head.index.length; k++) dense[head.index[k]!] = head.weight[k]!;
    return (x) => {
      let s = 0;
      for (let k = 0; k < x.index.length; k++) {
        const j = x.index[k]!;
        if (j < dim) s += x.value[k]! * dense[j]!;
      }
      return s;
    };
  }
  const map = new Map<number, number>();
  for (let k = 0; k < head.index.length; k++) map.set(head.index[k]!, head.weight[k]!);
  return (x) => {
    let s = 0;
    for (let k = 0; k < x.index.length; k++) s += x.value[k]! * (map.get(x.index[k]!) ?? 0);
    return s;
  };
}

/** The rows a pairwise learner fits: x_i = φ(chosen_i) − φ(rejected_i), with label, weight and offset. */
export interface PairDesign {
  X: CsrMatrix;
  /** P(chosen ≻ rejected) per row. */
  y: Float64Array;
  /** Required margin per row (0 when none). */
  offset: Float64Array;
}

/** A {@link PairDesign} from feature vectors of the chosen and rejected outputs. */
export function pairDesign(
  chosen: readonly SparseVector[],
  rejected: readonly SparseVector[],
  y: ArrayLike<number>,
  offset?: ArrayLike<number>,
): PairDesign {
  const rows = chosen.map((c, i) => sparseSub(c, rejected[i]!));
  return {
    X: csrFromRows(rows),
    y: Float64Array.from(y),
    offset: offset ? Float64Array.from(offset) : new Float64Array(rows.length),
  };
}
