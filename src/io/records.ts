/**
 * Raw records from a file: gzip detected by its magic bytes, then either a JSON
 * array (parsed whole) or JSON Lines (streamed line by line). Each record comes
 * with a label naming the file and the line (or array index) for error messages.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { NotFoundError, RlxfError, ValidationError } from "../errors.js";

export interface RawRecord {
  value: unknown;
  /** e.g. "data.jsonl line 17" or "annotations.json index 3". */
  label: string;
}

/** Whether the file starts with the gzip magic bytes 1f 8b. */
export async function isGzipFile(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new NotFoundError(`cannot read ${path}: no such file`);
    if (code === "EISDIR") throw new RlxfError("invalid_file", `cannot read ${path}: it is a directory`);
    throw e;
  }
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** The file's bytes, decompressed when it is gzip (whatever its name). */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const gz = await isGzipFile(path);
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!gz) {
    yield* raw as AsyncIterable<Buffer>;
    return;
  }
  // Large output chunks: the default 16 KiB makes decompression cost a third more in stream bookkeeping.
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  pipeline(raw, gunzip, () => {
    /* errors reach the consumer through the gunzip stream */
  });
  try {
    yield* gunzip as AsyncIterable<Buffer>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code.startsWith("Z_")) {
      throw new RlxfError("invalid_file", `cannot read ${path}: not a valid gzip stream (${(e as Error).message})`, { cause: e });
    }
    throw e;
  } finally {
    raw.destroy();
    gunzip.destroy();
  }
}

const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/**
 * Offset of the first JSON syntax error in `text` (only called after JSON.parse failed, whose message does
 * not always say where), or -1 when the scanner finds none.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const lit = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const str = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail();
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail();
      } else i++;
    }
  };
  const num = () => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ":") fail();
        i++;
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return;
        } else fail();
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return;
        } else fail();
      }
    } else if (c === '"') str();
    else if (c === "t") lit("true");
    else if (c === "f") lit("false");
    else if (c === "n") lit("null");
    else num();
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (pos) {
    if (typeof pos === "number") return pos;
    return -1; // e.g. nesting too deep for this scanner
  }
}

function badJson(e: unknown, label: string, text?: string): ValidationError {
  let msg = e instanceof Error ? e.message : String(e);
  if (text !== undefined) {
    // Say where, for whole-file JSON: the engine's message does not always.
    const pos = jsonErrorOffset(text);
    if (pos >= 0) {
      let line = 1;
      let lineStart = 0;
      for (let i = 0; i < pos; i++) {
        if (text.charCodeAt(i) === 10) {
          line++;
          lineStart = i + 1;
        }
      }
      msg += ` (at line ${line}, column ${pos - lineStart + 1})`;
    }
  }
  return new ValidationError([{ path: "", message: `not valid JSON: ${msg}` }], label, "record");
}

/**
 * The records of a file. A file whose first non-blank character is `[` is one JSON array; anything else is
 * JSON Lines (blank lines ignored). `name` is used in labels (default: the path as given).
 */
export async function* readRawRecords(path: string, name = path): AsyncGenerator<RawRecord> {
  yield* rawRecordsFromChunks(fileChunks(path), name);
}

export async function* rawRecordsFromChunks(chunks: AsyncIterable<Buffer>, name: string): AsyncGenerator<RawRecord> {
  const it = chunks[Symbol.asyncIterator]();
  try {
    yield* recordsFrom(it, name);
  } finally {
    await it.return?.();
  }
}

async function* recordsFrom(it: AsyncIterator<Buffer>, name: string): AsyncGenerator<RawRecord> {
  const head: Buffer[] = [];
  let first = -1; // first non-blank byte
  let skipBom = false;
  while (first < 0) {
    const r = await it.next();
    if (r.done) break;
    const buf = r.value;
    head.push(buf);
    let start = 0;
    if (head.length === 1 && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
      start = 3;
      skipBom = true;
    }
    for (let i = start; i < buf.length; i++) {
      if (!isSpace(buf[i]!)) {
        first = buf[i]!;
        break;
      }
    }
  }
  if (first < 0) return; // empty file

  if (first === 0x5b /* [ */) {
    const parts = head;
    for (let r = await it.next(); !r.done; r = await it.next()) parts.push(r.value);
    let text = Buffer.concat(parts).toString("utf8");
    if (skipBom) text = text.slice(1);
    let arr: unknown;
    try {
      arr = JSON.parse(text);
    } catch (e) {
      throw badJson(e, name, text);
    }
    if (!Array.isArray(arr)) throw new ValidationError([{ path: "", message: "expected a JSON array" }], name, "file");
    for (let i = 0; i < arr.length; i++) yield { value: arr[i], label: `${name} index ${i}` };
    return;
  }

  // JSON Lines.
  const decoder = new StringDecoder("utf8");
  let pending = "";
  let lineNo = 0;
  let bomChecked = false;
  function* drain(text: string, final: boolean): Generator<RawRecord> {
    pending += text;
    if (!bomChecked && pending.length > 0) {
      if (pending.charCodeAt(0) === 0xfeff) pending = pending.slice(1);
      bomChecked = true;
    }
    let start = 0;
    for (;;) {
      const nl = pending.indexOf("\n", start);
      if (nl < 0) break;
      lineNo++;
      const rec = parseLine(pending.slice(start, nl), lineNo);
      if (rec) yield rec;
      start = nl + 1;
    }
    pending = pending.slice(start);
    if (final && pending.length > 0) {
      lineNo++;
      const rec = parseLine(pending, lineNo);
      pending = "";
      if (rec) yield rec;
    }
  }
  function parseLine(line: string, n: number): RawRecord | undefined {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "") return undefined;
    const label = `${name} line ${n}`;
    try {
      return { value: JSON.parse(line), label };
    } catch (e) {
      throw badJson(e, label);
    }
  }
  for (const buf of head) yield* drain(decoder.write(buf), false);
  for (let r = await it.next(); !r.done; r = await it.next()) yield* drain(decoder.write(r.value), false);
  yield* drain(decoder.end(), true);
}
