/**
 * Numerically stable scalar helpers shared by the objectives. All of them stay finite for arguments of any
 * finite size (|z| up to 1e308), which the log-sigmoid losses rely on at extreme margins.
 */

import { sigmoid, softplus } from "../../eval/index.js";

export { sigmoid, softplus };

/** log(1 - e^a) for a < 0 (Maechler 2012: expm1 near 0, log1p further out). */
export function log1mexp(a: number): number {
  return a > -Math.LN2 ? Math.log(-Math.expm1(a)) : Math.log1p(-Math.exp(a));
}
