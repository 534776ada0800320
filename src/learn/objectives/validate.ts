/**
 * Input checks for the objectives: every problem is collected with the name of its field, then thrown at once
 * as a ValidationError, so a caller learns everything that is wrong in one go.
 */
import { ValidationError, type FieldIssue } from "../../errors.js";

export class Checks {
  readonly issues: FieldIssue[] = [];
  constructor(private readonly what: string) {}

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /**
   * Reads a vector of finite numbers into a Float64Array. `length`, when given, is the length it must have
   * (named after the field it must match). Returns an empty array when the field is unusable.
   */
  vector(
    path: string,
    value: ArrayLike<number> | undefined,
    opts: { required?: boolean; length?: number; lengthOf?: string; nonEmpty?: boolean } = {},
  ): Float64Array {
    if (value === undefined || value === null) {
      if (opts.required !== false) this.add(path, "is required");
      return new Float64Array(0);
    }
    if (typeof value !== "object" || typeof (value as ArrayLike<number>).length !== "number") {
      this.add(path, "must be an array of numbers");
      return new Float64Array(0);
    }
    const n = value.length;
    if (opts.nonEmpty && n === 0) this.add(path, "must not be empty");
    if (opts.length !== undefined && n !== opts.length) {
      this.add(path, `has ${n} entries but ${opts.lengthOf ?? "the batch"} has ${opts.length}`);
      return new Float64Array(0);
    }
    const out = new Float64Array(n);
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const v = value[i];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        if (bad < 3) this.add(`${path}.${i}`, `must be a finite number, got ${String(v)}`);
        bad++;
      } else out[i] = v;
    }
    if (bad > 3) this.add(path, `${bad} entries are not finite numbers`);
    return out;
  }

  /** A finite number, optionally within bounds; returns `fallback` when absent and not required. */
  scalar(
    path: string,
    value: unknown,
    opts: { required?: boolean; fallback?: number; min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; integer?: boolean } = {},
  ): number {
    if (value === undefined) {
      if (opts.fallback === undefined || opts.required) {
        this.add(path, "is required");
        return Number.NaN;
      }
      return opts.fallback;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.add(path, `must be a finite number, got ${String(value)}`);
      return Number.NaN;
    }
    if (opts.integer && !Number.isInteger(value)) this.add(path, `must be an integer, got ${value}`);
    if (opts.min !== undefined && (opts.minExclusive ? value <= opts.min : value < opts.min)) {
      this.add(path, `must be ${opts.minExclusive ? ">" : ">="} ${opts.min}, got ${value}`);
    }
    if (opts.max !== undefined && (opts.maxExclusive ? value >= opts.max : value > opts.max)) {
      this.add(path, `must be ${opts.maxExclusive ? "<" : "<="} ${opts.max}, got ${value}`);
    }
    return value;
  }

  /** A group size: a positive integer (at least `min`) that divides the batch size `n`. */
  groupSize(path: string, value: unknown, n: number, min = 1): number {
    const g = this.scalar(path, value, { required: true, min, integer: true });
    if (Number.isInteger(g) && g >= min && n % g !== 0) {
      this.add(path, `${g} does not divide the batch size ${n}`);
    }
    return g;
  }

  done(): void {
    if (this.issues.length > 0) throw new ValidationError(this.issues, undefined, this.what);
  }
}
