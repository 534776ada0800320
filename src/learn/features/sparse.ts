/**
 * Sparse vectors and row-compressed sparse matrices, the currency between featurizers and learners.
 */

/** A sparse vector: strictly increasing indices with their (non-zero) values. */
export interface SparseVector {
  readonly index: Int32Array;
  readonly value: Float64Array;
}

export const EMPTY_VECTOR: SparseVector = { index: new Int32Array(0), value: new Float64Array(0) };

/**
 * A sparse vector from unsorted (index, value) entries: duplicates are summed, zeros dropped, indices sorted.
 */
export function sparseFrom(indices: ArrayLike<number>, values: ArrayLike<number>): SparseVector {
  const n = indices.length;
  if (n === 0) return EMPTY_VECTOR;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => indices[a]! - indices[b]!);
  const idx: number[] = [];
  const val: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const j = indices[i]!;
    const v = values[i]!;
    if (idx.length > 0 && idx[idx.length - 1] === j) val[val.length - 1]! += v;
    else {
      idx.push(j);
      val.push(v);
    }
  }
  let m = 0;
  for (let k = 0; k < idx.length; k++) {
    if (val[k] !== 0) {
      idx[m] = idx[k]!;
      val[m] = val[k]!;
      m++;
    }
  }
  return { index: Int32Array.from(idx.slice(0, m)), value: Float64Array.from(val.slice(0, m)) };
}

/** A dense array as a sparse vector (zeros dropped), optionally shifted by `offset` indices. */
export function sparseFromDense(dense: ArrayLike<number>, offset = 0): SparseVector {
  const idx: number[] = [];
  const val: number[] = [];
  for (let j = 0; j < dense.length; j++) {
    const v = dense[j]!;
    if (v !== 0) {
      idx.push(j + offset);
      val.push(v);
    }
  }
  return { index: Int32Array.from(idx), value: Float64Array.from(val) };
}

/** a·x + b·y for two sparse vectors (merge of sorted indices). */
export function sparseAxpby(a: number, x: SparseVector, b: number, y: SparseVector): SparseVector {
  const idx = new Int32Array(x.index.length + y.index.length);
  const val = new Float64Array(idx.length);
  let i = 0;
  let j = 0;
  let m = 0;
  while (i < x.index.length || j < y.index.length) {
    const xi = i < x.index.length ? x.index[i]! : Infinity;
    const yj = j < y.index.length ? y.index[j]! : Infinity;
    let k: number;
    let v: number;
    if (xi === yj) {
      k = xi;
      v = a * x.value[i++]! + b * y.value[j++]!;
    } else if (xi < yj) {
      k = xi;
      v = a * x.value[i++]!;
    } else {
      k = yj;
      v = b * y.value[j++]!;
    }
    if (v !== 0) {
      idx[m] = k;
      val[m] = v;
      m++;
    }
  }
  return { index: idx.slice(0, m), value: val.slice(0, m) };
}

/** x − y. */
export function sparseSub(x: SparseVector, y: SparseVector): SparseVector {
  return sparseAxpby(1, x, -1, y);
}

/** Dot product of a sparse vector with a dense weight lookup. */
export function sparseDot(x: SparseVector, w: (j: number) => number): number {
  let s = 0;
  for (let k = 0; k < x.index.length; k++) s += x.value[k]! * w(x.index[k]!);
  return s;
}

/** Euclidean norm. */
export function sparseNorm(x: SparseVector): number {
  let s = 0;
  for (let k = 0; k < x.value.length; k++) s += x.value[k]! * x.value[k]!;
  return Math.sqrt(s);
}

/** x scaled by `a`. */
export function sparseScale(x: SparseVector, a: number): SparseVector {
  return { index: x.index, value: x.value.map((v) => v * a) };
}

/** Concatenate vectors whose index ranges do not overlap, shifting `b` by `offset`. */
export function sparseConcat(a: SparseVector, b: SparseVector, offset: number): SparseVector {
  const idx = new Int32Array(a.index.length + b.index.length);
  const val = new Float64Array(idx.length);
  idx.set(a.index, 0);
  val.set(a.value, 0);
  for (let k = 0; k < b.index.length; k++) {
    idx[a.index.length + k] = b.index[k]! + offset;
    val[a.index.length + k] = b.value[k]!;
  }
  return { index: idx, value: val };
}

/**
 * Row-compressed sparse matrix over *compact* columns: the rows' original feature indices are remapped to
 * 0..nCols-1 in ascending order, and `columns[c]` gives the original index.
 * Learners work in the compact space (only features that occur), so their vectors are as long as the data
 * needs rather than the hash space.
 */
export interface CsrMatrix {
  readonly nRows: number;
  readonly nCols: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly data: Float64Array;
  /** Original feature index of each compact column (sorted ascending). */
  readonly columns: Int32Array;
}

/** Stack sparse rows into a {@link CsrMatrix} over the compact set of columns they use. */
export function csrFromRows(rows: readonly SparseVector[]): CsrMatrix {
  let nnz = 0;
  let maxIndex = -1;
  for (const r of rows) {
    nnz += r.index.length;
    if (r.index.length) maxIndex = Math.max(maxIndex, r.index[r.index.length - 1]!);
  }
  let columns: Int32Array;
  if (maxIndex < 1 << 24) {
    // Mark the used columns, then read them off in order: O(nnz + range), no sort.
    const used = new Uint8Array(maxIndex + 1);
    let u = 0;
    for (const r of rows) {
      for (let k = 0; k < r.index.length; k++) {
        const j = r.index[k]!;
        if (!used[j]) {
          used[j] = 1;
          u++;
        }
      }
    }
    columns = new Int32Array(u);
    let c = 0;
    for (let j = 0; j <= maxIndex; j++) if (used[j]) columns[c++] = j;
  } else {
    const all = new Int32Array(nnz);
    let m = 0;
    for (const r of rows) {
      all.set(r.index, m);
      m += r.index.length;
    }
    const sorted = all.sort();
    let u = 0;
    for (let k = 0; k < sorted.length; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) sorted[u++] = sorted[k]!;
    columns = sorted.slice(0, u);
  }
  const u = columns.length;
  // Original index -> compact column: a dense table when the index range is moderate, else a map.
  let colOf: (j: number) => number;
  if (maxIndex < 1 << 24) {
    const table = new Int32Array(maxIndex + 1);
    for (let c = 0; c < u; c++) table[columns[c]!] = c;
    colOf = (j) => table[j]!;
  } else {
    const pos = new Map<number, number>();
    for (let c = 0; c < u; c++) pos.set(columns[c]!, c);
    colOf = (j) => pos.get(j)!;
  }
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  let m = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    for (let k = 0; k < r.index.length; k++) {
      indices[m] = colOf(r.index[k]!);
      data[m] = r.value[k]!;
      m++;
    }
    indptr[i + 1] = m;
  }
  return { nRows: rows.length, nCols: columns.length, indptr, indices, data, columns };
}

/** z = X·b (compact columns). */
export function csrMatVec(X: CsrMatrix, b: Float64Array, out: Float64Array = new Float64Array(X.nRows)): Float64Array {
  const { indptr, indices, data } = X;
  for (let i = 0; i < X.nRows; i++) {
    let s = 0;
    for (let k = indptr[i]!, e = indptr[i + 1]!; k < e; k++) s += data[k]! * b[indices[k]!]!;
    out[i] = s;
  }
  return out;
}

/** out = Xᵀ·r (compact columns); `out` is overwritten. */
export function csrTMatVec(X: CsrMatrix, r: Float64Array, out: Float64Array = new Float64Array(X.nCols)): Float64Array {
  out.fill(0);
  const { indptr, indices, data } = X;
  for (let i = 0; i < X.nRows; i++) {
    const ri = r[i]!;
    if (ri === 0) continue;
    for (let k = indptr[i]!, e = indptr[i + 1]!; k < e; k++) out[indices[k]!]! += data[k]! * ri;
  }
  return out;
}

/** The rows of X selected by `rows`, same compact columns. */
export function csrSelectRows(X: CsrMatrix, rows: ArrayLike<number>): CsrMatrix {
  let nnz = 0;
  for (let t = 0; t < rows.length; t++) nnz += X.indptr[rows[t]! + 1]! - X.indptr[rows[t]!]!;
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  let m = 0;
  for (let t = 0; t < rows.length; t++) {
    const s = X.indptr[rows[t]!]!;
    const e = X.indptr[rows[t]! + 1]!;
    indices.set(X.indices.subarray(s, e), m);
    data.set(X.data.subarray(s, e), m);
    m += e - s;
    indptr[t + 1] = m;
  }
  return { nRows: rows.length, nCols: X.nCols, indptr, indices, data, columns: X.columns };
}

/** Row i of X as a sparse vector in the original feature indices. */
export function csrRow(X: CsrMatrix, i: number): SparseVector {
  const s = X.indptr[i]!;
  const e = X.indptr[i + 1]!;
  const index = new Int32Array(e - s);
  for (let k = s; k < e; k++) index[k - s] = X.columns[X.indices[k]!]!;
  return { index, value: X.data.slice(s, e) };
}
