import { describe, expect, it } from "vitest";
import { createRng } from "../../eval/index.js";
import { csrFromRows, sparseFrom } from "../features/sparse.js";
import { fitGpm, gpmObjective } from "./gpm.js";
import { fitLogistic, logisticObjective } from "./logistic.js";
import { lbfgs, newtonCg } from "./optimize.js";

function randomProblem(seed: number, n = 200, p = 40) {
  const rng = createRng(seed);
  const truth = Array.from({ length: p }, () => rng.normal());
  const rows = Array.from({ length: n }, () => {
    const idx: number[] = [];
    const val: number[] = [];
    for (let j = 0; j < p; j++) {
      if (rng.next() < 0.2) {
        idx.push(j * 3 + 7); // sparse, non-contiguous original indices
        val.push(rng.normal());
      }
    }
    return sparseFrom(idx, val);
  });
  const X = csrFromRows(rows);
  const y = Float64Array.from(rows, (r) => {
    let z = 0;
    for (let k = 0; k < r.index.length; k++) z += r.value[k]! * truth[(r.index[k]! - 7) / 3]!;
    return rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : rng.next() < 0.1 ? 0.5 : 0;
  });
  return { X, y };
}

describe("optimisers", () => {
  it("the logistic gradient and Hessian-vector product match finite differences", () => {
    const { X, y } = randomProblem(1, 60, 10);
    const w = Float64Array.from({ length: 60 }, (_, i) => (i % 3) + 0.5);
    const offset = Float64Array.from({ length: 60 }, (_, i) => (i % 2) * 0.3);
    const obj = logisticObjective({ X, y, w, offset, l2: 0.7 });
    const rng = createRng(2);
    const x = Float64Array.from({ length: X.nCols }, () => rng.normal() * 0.3);
    const g = new Float64Array(X.nCols);
    obj.valueGrad(x, g);
    const v = Float64Array.from({ length: X.nCols }, () => rng.normal());
    const Hv = new Float64Array(X.nCols);
    obj.hessVec!(v, Hv);
    const h = 1e-6;
    for (let j = 0; j < X.nCols; j++) {
      const xp = Float64Array.from(x);
      const xm = Float64Array.from(x);
      xp[j]! += h;
      xm[j]! -= h;
      const tmp = new Float64Array(X.nCols);
      const fd = (obj.valueGrad(xp, tmp) - obj.valueGrad(xm, tmp)) / (2 * h);
      expect(g[j]!).toBeCloseTo(fd, 5);
    }
    // H v ≈ (∇f(x + h v) − ∇f(x − h v)) / 2h
    const gp = new Float64Array(X.nCols);
    const gm = new Float64Array(X.nCols);
    obj.valueGrad(Float64Array.from(x, (xi, j) => xi + h * v[j]!), gp);
    obj.valueGrad(Float64Array.from(x, (xi, j) => xi - h * v[j]!), gm);
    for (let j = 0; j < X.nCols; j++) expect(Hv[j]!).toBeCloseTo((gp[j]! - gm[j]!) / (2 * h), 4);
  });

  it("Newton-CG and L-BFGS reach the same optimum", () => {
    const { X, y } = randomProblem(3);
    const a = fitLogistic({ X, y, l2: 0.5 }, { solver: "newton-cg", tol: 1e-9 });
    const b = fitLogistic({ X, y, l2: 0.5 }, { solver: "lbfgs", tol: 1e-9 });
    expect(a.converged).toBe(true);
    expect(b.converged).toBe(true);
    expect(a.value).toBeCloseTo(b.value, 8);
    for (let j = 0; j < X.nCols; j++) expect(a.coef[j]!).toBeCloseTo(b.coef[j]!, 4);
    // Newton needs far fewer outer iterations.
    expect(a.iterations).toBeLessThan(b.iterations);
  });

  it("minimise a badly scaled quadratic", () => {
    const scales = [1, 10, 100, 1000];
    const obj = {
      size: 4,
      valueGrad(x: Float64Array, g: Float64Array) {
        let f = 0;
        for (let i = 0; i < 4; i++) {
          f += 0.5 * scales[i]! * (x[i]! - i) ** 2;
          g[i] = scales[i]! * (x[i]! - i);
        }
        return f;
      },
      hessVec(v: Float64Array, out: Float64Array) {
        for (let i = 0; i < 4; i++) out[i] = scales[i]! * v[i]!;
      },
    };
    for (const solve of [lbfgs, newtonCg]) {
      const r = solve(obj, new Float64Array(4), { tol: 1e-10 });
      expect(Array.from(r.x).map((v) => Number(v.toFixed(6)))).toEqual([0, 1, 2, 3]);
    }
  });

  it("the GPM gradient matches finite differences", () => {
    const rng = createRng(5);
    const rows = Array.from({ length: 8 }, () => {
      const idx = [0, 1, 2, 3].filter(() => rng.next() < 0.7);
      return sparseFrom([...idx, 9], [...idx.map(() => rng.normal()), 1]);
    });
    const input = {
      responses: csrFromRows(rows),
      a: Int32Array.from([0, 1, 2, 3, 4, 5]),
      b: Int32Array.from([1, 2, 3, 4, 5, 6]),
      y: Float64Array.from([1, 0, 1, 0.5, 1, 0]),
      w: Float64Array.from([1, 2, 1, 1, 0.5, 1]),
      biasIndex: 9,
    };
    const obj = gpmObjective(input, { dims: 4, l2: 0.3 });
    const x = Float64Array.from({ length: obj.size }, () => rng.normal() * 0.5);
    const g = new Float64Array(obj.size);
    obj.valueGrad(x, g);
    const h = 1e-6;
    const tmp = new Float64Array(obj.size);
    for (let j = 0; j < obj.size; j++) {
      const xp = Float64Array.from(x);
      const xm = Float64Array.from(x);
      xp[j]! += h;
      xm[j]! -= h;
      expect(g[j]!).toBeCloseTo((obj.valueGrad(xp, tmp) - obj.valueGrad(xm, tmp)) / (2 * h), 5);
    }
    const fit = fitGpm(input, { dims: 4, l2: 0.3, seed: 1 });
    expect(fit.converged).toBe(true);
    expect(fit.head.weight.length).toBe(fit.head.index.length * 4);
  });
});
