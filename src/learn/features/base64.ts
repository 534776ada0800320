/** Typed arrays in model artifacts (JSON): their bytes as base64, little-endian, and back with the length checked. */
import { RlxfError } from "../../errors.js";

export const base64Of = (a: Int32Array | Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

export function int32FromBase64(s: string): Int32Array {
  const buf = Buffer.from(s, "base64");
  if (buf.length % 4) throw new RlxfError("invalid_artifact", "an int32 array's base64 has a length not divisible by 4");
  const out = new Int32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt32LE(i * 4);
  return out;
}

export function float64FromBase64(s: string): Float64Array {
  const buf = Buffer.from(s, "base64");
  if (buf.length % 8) throw new RlxfError("invalid_artifact", "a float64 array's base64 has a length not divisible by 8");
  const out = new Float64Array(buf.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = buf.readDoubleLE(i * 8);
  return out;
}
