/**
 * Writing dataset rows: JSON Lines (gzip for ".gz"), and verl's parquet.
 *
 * verl reads its parquet files with pandas / Hugging Face `datasets` (pyarrow), so `prompt` must be a real
 * parquet LIST of STRUCT<role, content> and `reward_model` / `extra_info` real STRUCTs, not JSON strings.
 * hyparquet-writer writes nested types when given an explicit schema; the schema below is the standard
 * three-level LIST layout (`prompt.list.element.{role, content}`) that pyarrow itself writes, so the columns
 * come back as a list of dicts and dicts.
 */
import { rename, rm, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { type SchemaElement, parquetWriteBuffer } from "hyparquet-writer";
import { RlxfError } from "../../errors.js";
import type { Row, VerlRow } from "./formats.js";

async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Rows as JSON Lines text. */
export function toJsonl(rows: readonly Row[]): string {
  let s = "";
  for (const r of rows) s += `${JSON.stringify(r)}\n`;
  return s;
}

/** Write rows as JSON Lines (gzip-compressed when the path ends in ".gz"), atomically. */
export async function writeJsonl(path: string, rows: readonly Row[]): Promise<void> {
  const text = toJsonl(rows);
  await atomicWrite(path, path.endsWith(".gz") ? gzipSync(text) : text);
}

const str = (name: string, repetition: "REQUIRED" | "OPTIONAL" = "OPTIONAL"): SchemaElement => ({
  name,
  type: "BYTE_ARRAY",
  converted_type: "UTF8",
  logical_type: { type: "STRING" },
  repetition_type: repetition,
});

/** The parquet schema of verl rows. */
export const VERL_SCHEMA: SchemaElement[] = [
  { name: "schema", num_children: 5 },
  str("data_source"),
  { name: "prompt", repetition_type: "OPTIONAL", converted_type: "LIST", logical_type: { type: "LIST" }, num_children: 1 },
  { name: "list", repetition_type: "REPEATED", num_children: 1 },
  { name: "element", repetition_type: "OPTIONAL", num_children: 2 },
  str("role"),
  str("content"),
  str("ability"),
  { name: "reward_model", repetition_type: "OPTIONAL", num_children: 2 },
  str("style"),
  str("ground_truth"),
  { name: "extra_info", repetition_type: "OPTIONAL", num_children: 3 },
  str("split"),
  { name: "index", type: "INT64", repetition_type: "OPTIONAL" },
  str("item_id"),
];

/** verl rows as a parquet file's bytes. */
export function verlParquetBuffer(rows: readonly VerlRow[]): ArrayBuffer {
  if (rows.length === 0) throw new RlxfError("no_data", "no rows to write: a parquet file needs at least one row here");
  return parquetWriteBuffer({
    columnData: [
      { name: "data_source", data: rows.map((r) => r.data_source) },
      { name: "prompt", data: rows.map((r) => r.prompt.map((m) => ({ role: m.role, content: m.content }))) },
      { name: "ability", data: rows.map((r) => r.ability) },
      { name: "reward_model", data: rows.map((r) => ({ style: r.reward_model.style, ground_truth: r.reward_model.ground_truth })) },
      {
        name: "extra_info",
        data: rows.map((r) => ({ split: r.extra_info.split, index: BigInt(r.extra_info.index), item_id: r.extra_info.item_id })),
      },
    ],
    schema: VERL_SCHEMA,
    kvMetadata: [{ key: "created_by", value: "rlxf" }],
  });
}

/** Write verl rows as parquet, atomically. */
export async function writeVerlParquet(path: string, rows: readonly VerlRow[]): Promise<void> {
  await atomicWrite(path, new Uint8Array(verlParquetBuffer(rows)));
}
