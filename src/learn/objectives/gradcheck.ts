/**
 * Central finite differences, for checking the analytic gradients of the objectives (and of a trainer built on
 * them) against the loss they differentiate.
 */

export interface GradientCheck {
  /** The finite-difference gradient. */
  numeric: number[];
  /** max_i |analytic_i - numeric_i|. */
  maxAbsError: number;
  /** max_i |analytic_i - numeric_i| / max(|numeric_i|, floor). */
  maxRelError: number;
}

/**
 * (f(x + h e_i) - f(x - h e_i)) / 2h for each coordinate, with h = step * max(1, |x_i|) so large coordinates
 * get a step that still changes them in floating point.
 */
export function numericGradient(f: (x: number[]) => number, x: ArrayLike<number>, o?: { step?: number }): number[] {
  const step = o?.step ?? 1e-5;
  const p = Array.from(x);
  const out = new Array<number>(p.length);
  for (let i = 0; i < p.length; i++) {
    const xi = p[i]!;
    const h = step * Math.max(1, Math.abs(xi));
    p[i] = xi + h;
    const up = f(p);
    p[i] = xi - h;
    const down = f(p);
    p[i] = xi;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

/** Compares an analytic gradient with {@link numericGradient} of `f` at `x`. */
export function checkGradient(
  f: (x: number[]) => number,
  analytic: ArrayLike<number>,
  x: ArrayLike<number>,
  o?: { step?: number; floor?: number },
): GradientCheck {
  const numeric = numericGradient(f, x, o);
  const floor = o?.floor ?? 1e-3;
  let maxAbsError = 0;
  let maxRelError = 0;
  for (let i = 0; i < numeric.length; i++) {
    const e = Math.abs(analytic[i]! - numeric[i]!);
    maxAbsError = Math.max(maxAbsError, e);
    maxRelError = Math.max(maxRelError, e / Math.max(Math.abs(numeric[i]!), floor));
  }
  return { numeric, maxAbsError, maxRelError };
}
