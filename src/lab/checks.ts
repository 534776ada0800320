/**
 * Reading a run's curves: does optimising the proxy reward over-optimise it (Gao, Schulman & Hilton 2023,
 * "Scaling Laws for Reward Model Overoptimization"): the gold win rate peaks and falls while the proxy reward the
 * policy is trained on keeps rising?
 */
import { ArgumentError } from "../errors.js";
import type { CurvePoint } from "./run.js";

export interface Overoptimisation {
  /** Step and gold win rate at the gold peak. */
  peakStep: number;
  peakWinRate: number;
  finalWinRate: number;
  /** Peak minus final gold win rate (points). */
  drop: number;
  /** Proxy reward at the peak and at the end. */
  peakProxy: number;
  finalProxy: number;
  /** The gold win rate fell by at least `minDrop` after its peak while the proxy reward ended higher than there. */
  overoptimised: boolean;
}

/** Summarise a curve with proxy rewards (a method trained against a proxy reward). */
export function overoptimisation(curve: readonly CurvePoint[], minDrop = 2): Overoptimisation {
  if (curve.length < 2 || curve.some((c) => c.proxyReward === undefined)) {
    throw new ArgumentError("curve", "overoptimisation needs a curve of two or more points with proxy rewards");
  }
  let peak = 0;
  for (let k = 1; k < curve.length; k++) if (curve[k]!.winRate > curve[peak]!.winRate) peak = k;
  const last = curve[curve.length - 1]!;
  const p = curve[peak]!;
  const drop = p.winRate - last.winRate;
  return {
    peakStep: p.step,
    peakWinRate: p.winRate,
    finalWinRate: last.winRate,
    drop,
    peakProxy: p.proxyReward!,
    finalProxy: last.proxyReward!,
    overoptimised: drop >= minDrop && last.proxyReward! > p.proxyReward!,
  };
}
